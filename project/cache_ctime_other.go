//go:build !linux

package project

import (
	"io/fs"
	"os"
	"time"
)

// changeTime is when path last changed; without Linux's change time, its
// modification time.
func changeTime(path string) (time.Time, bool) {
	fi, err := os.Stat(path)
	if err != nil {
		return time.Time{}, false
	}
	return fi.ModTime(), true
}

func fileIdentity(fs.FileInfo) string { return "" }

// private reports whether no one else may write fi.
func private(fi fs.FileInfo) bool { return fi.Mode().Perm()&0o022 == 0 }
