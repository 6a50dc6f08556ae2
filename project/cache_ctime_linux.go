package project

import (
	"io/fs"
	"os"
	"strconv"
	"syscall"
	"time"
)

// changeTime is when path's inode last changed (its content, its name or
// its metadata): a time no one can set.
func changeTime(path string) (time.Time, bool) {
	fi, err := os.Stat(path)
	if err != nil {
		return time.Time{}, false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fi.ModTime(), true
	}
	ctime := time.Unix(st.Ctim.Sec, st.Ctim.Nsec)
	if m := fi.ModTime(); m.After(ctime) {
		return m, true
	}
	return ctime, true
}

// fileIdentity tells a file from one put in its place: its inode.
func fileIdentity(fi fs.FileInfo) string {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return strconv.FormatUint(st.Dev, 10) + ":" + strconv.FormatUint(st.Ino, 10)
	}
	return ""
}

// private reports whether fi belongs to this user and no one else may
// write it: an entry someone else could have written is not trusted.
func private(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Getuid() && fi.Mode().Perm()&0o022 == 0
}
