// Package archive makes and unpacks the tar archives that cp exchanges
// with an engine, with docker cp's rules for where a copy lands: a
// destination that is an existing directory receives the source inside
// it; one that does not exist is created with the source's content; a
// trailing "/." on a source directory copies its content rather than the
// directory itself; a trailing "/" on a destination asserts that it is a
// directory.
//
// Extraction on the host is the dangerous half: the archive comes from a
// container, which may be hostile. Extract never writes outside the
// directory it is given: names that climb out with "..", absolute names,
// links whose target leaves it, and symbolic links planted to redirect a
// later entry are all refused.
package archive

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Errors with docker cp's wording.
var (
	// ErrNotDirectory: a path asserted to be a directory is not one.
	ErrNotDirectory = errors.New("not a directory")
	// ErrDirNotExists: a destination asserted to be a directory (a
	// trailing slash) does not exist, and a file cannot create it.
	ErrDirNotExists = errors.New("no such directory")
	// ErrCannotCopyDir: a directory cannot replace an existing file.
	ErrCannotCopyDir = errors.New("cannot copy directory")
)

// Info describes one end of a copy.
type Info struct {
	// Path is the path as resolved (a source's parent symbolic links, a
	// destination's own link, followed), keeping a trailing "/" or "/.".
	Path   string
	Exists bool
	IsDir  bool
	// RebaseName, when set, is the name the source's top entry must
	// carry instead of Path's last element (a followed link keeps the
	// name the user gave).
	RebaseName string
}

// SplitPathDirEntry splits a path into its directory and its last element,
// keeping "." as the last element of a path ending in "/.".
func SplitPathDirEntry(p string) (dir, base string) {
	cleaned := filepath.Clean(p)
	if specifiesCurrentDir(p) {
		cleaned += string(filepath.Separator) + "."
	}
	return filepath.Dir(cleaned), filepath.Base(cleaned)
}

func specifiesCurrentDir(p string) bool { return filepath.Base(p) == "." }

func hasTrailingSeparator(p string) bool {
	return len(p) > 0 && p[len(p)-1] == filepath.Separator
}

// AssertsDirectory reports whether a path says it is a directory: it ends
// in "/" or "/.".
func AssertsDirectory(p string) bool {
	return hasTrailingSeparator(p) || specifiesCurrentDir(p)
}

// PreserveTrailingDotOrSeparator gives cleaned back the trailing "/." or
// "/" that original had, which filepath.Clean and Abs drop.
func PreserveTrailingDotOrSeparator(cleaned, original string) string {
	if specifiesCurrentDir(original) && !specifiesCurrentDir(cleaned) {
		if !hasTrailingSeparator(cleaned) {
			cleaned += string(filepath.Separator)
		}
		cleaned += "."
	}
	if hasTrailingSeparator(original) && !hasTrailingSeparator(cleaned) {
		cleaned += string(filepath.Separator)
	}
	return cleaned
}

// RebaseName returns resolved with path's trailing "/" or "/." and the
// name the copy must keep when resolving a link changed the last element.
func RebaseName(path, resolved string) (string, string) {
	resolved = PreserveTrailingDotOrSeparator(resolved, path)
	if filepath.Base(path) != filepath.Base(resolved) {
		return resolved, filepath.Base(path)
	}
	return resolved, ""
}

// SourceInfo describes a host path to copy from. The symbolic links of
// its parent directories are followed; the last element's only with
// followLink (cp -L), and then the copy keeps the name given.
func SourceInfo(p string, followLink bool) (Info, error) {
	var resolved, rebase string
	if followLink {
		r, err := filepath.EvalSymlinks(p)
		if err != nil {
			return Info{}, err
		}
		resolved, rebase = RebaseName(p, r)
	} else {
		dir, base := filepath.Split(p)
		if dir == "" {
			dir = "."
		}
		rdir, err := filepath.EvalSymlinks(dir)
		if err != nil {
			return Info{}, err
		}
		resolved = rdir + string(filepath.Separator) + base
		if hasTrailingSeparator(p) && filepath.Base(p) != filepath.Base(resolved) {
			rebase = filepath.Base(p)
		}
	}
	st, err := os.Lstat(resolved)
	if err != nil {
		return Info{}, err
	}
	return Info{Path: resolved, Exists: true, IsDir: st.IsDir(), RebaseName: rebase}, nil
}

// DestinationInfo describes a host path to copy to. A symbolic link there
// is followed (the copy goes to its target); a path that does not exist
// is fine if its parent directory does.
func DestinationInfo(p string) (Info, error) {
	const maxLinks = 10
	st, err := os.Lstat(p)
	for n := 0; err == nil && st.Mode()&os.ModeSymlink != 0; n++ {
		if n >= maxLinks {
			return Info{}, fmt.Errorf("too many symlinks in %s", p)
		}
		target, rerr := os.Readlink(p)
		if rerr != nil {
			return Info{}, rerr
		}
		if !filepath.IsAbs(target) {
			parent, _ := SplitPathDirEntry(p)
			target = filepath.Join(parent, target)
		}
		p = target
		st, err = os.Lstat(p)
	}
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			return Info{}, err
		}
		parent, _ := SplitPathDirEntry(p)
		pst, err := os.Stat(parent)
		if err != nil {
			return Info{}, err
		}
		if !pst.IsDir() {
			return Info{}, ErrNotDirectory
		}
		return Info{Path: p}, nil
	}
	return Info{Path: p, Exists: true, IsDir: st.IsDir()}, nil
}

// Prepare decides where an archive of src is extracted for the copy to
// land at dst, and renames its entries when the copy takes the
// destination's name: into dst itself when it is an existing directory,
// else into dst's parent with the top entry renamed to dst's last element.
func Prepare(content io.Reader, src, dst Info) (dir string, out io.Reader, err error) {
	dstDir, dstBase := SplitPathDirEntry(dst.Path)
	_, srcBase := SplitPathDirEntry(src.Path)
	if src.RebaseName != "" {
		srcBase = src.RebaseName
	}
	switch {
	case dst.Exists && dst.IsDir:
		return dst.Path, content, nil
	case dst.Exists && src.IsDir:
		return "", nil, ErrCannotCopyDir
	case !dst.Exists && !src.IsDir && AssertsDirectory(dst.Path):
		return "", nil, ErrDirNotExists
	}
	return dstDir, Rebase(content, srcBase, dstBase), nil
}

// Rebase renames the archive's entries whose first element is oldBase to
// start with newBase instead (hard links' targets too).
func Rebase(content io.Reader, oldBase, newBase string) io.Reader {
	if oldBase == newBase {
		return content
	}
	pr, pw := io.Pipe()
	go func() {
		tr := tar.NewReader(content)
		tw := tar.NewWriter(pw)
		for {
			hdr, err := tr.Next()
			if err == io.EOF {
				pw.CloseWithError(tw.Close())
				return
			}
			if err != nil {
				pw.CloseWithError(err)
				return
			}
			hdr.Name = rebase(hdr.Name, oldBase, newBase)
			if hdr.Typeflag == tar.TypeLink {
				hdr.Linkname = rebase(hdr.Linkname, oldBase, newBase)
			}
			if err := tw.WriteHeader(hdr); err != nil {
				pw.CloseWithError(err)
				return
			}
			if _, err := io.Copy(tw, tr); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
	}()
	return pr
}

func rebase(name, oldBase, newBase string) string {
	if oldBase == "/" || oldBase == "" {
		return newBase + "/" + strings.TrimPrefix(name, "/")
	}
	trimmed := strings.TrimPrefix(name, "./")
	if oldBase != "." {
		name = trimmed
	}
	switch {
	case name == oldBase || name == oldBase+"/":
		return newBase + name[len(oldBase):]
	case strings.HasPrefix(name, oldBase+"/"):
		return newBase + name[len(oldBase):]
	case oldBase == ".":
		// Archives of "dir/." may name entries without the "./".
		return newBase + "/" + name
	}
	return name
}

// Tar returns a tar archive of the host path src, its top entry named as
// src's last element (or its RebaseName). Symbolic links inside are kept
// as links; hard links are stored as separate files.
func Tar(src Info) io.ReadCloser {
	dir, base := SplitPathDirEntry(src.Path)
	name := base
	if src.RebaseName != "" {
		name = src.RebaseName
	}
	root := filepath.Join(dir, base)
	pr, pw := io.Pipe()
	go func() {
		tw := tar.NewWriter(pw)
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			entry := name
			if rel != "." {
				entry = name + "/" + filepath.ToSlash(rel)
			}
			return addEntry(tw, p, entry)
		})
		if err == nil {
			err = tw.Close()
		}
		pw.CloseWithError(err)
	}()
	return pr
}

func addEntry(tw *tar.Writer, p, name string) error {
	fi, err := os.Lstat(p)
	if err != nil {
		return err
	}
	var link string
	switch {
	case fi.Mode()&os.ModeSymlink != 0:
		if link, err = os.Readlink(p); err != nil {
			return err
		}
	case fi.Mode().IsRegular(), fi.IsDir():
	default:
		return nil // sockets, devices, pipes: not copied
	}
	hdr, err := tar.FileInfoHeader(fi, link)
	if err != nil {
		return err
	}
	hdr.Name = name
	if fi.IsDir() && !strings.HasSuffix(name, "/") {
		hdr.Name += "/"
	}
	// Names of the host's users mean nothing in the container.
	hdr.Uname, hdr.Gname = "", ""
	hdr.Format = tar.FormatPAX
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return nil
	}
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(tw, f)
	return err
}

// CopyTo extracts an archive of a container's path (described by src) to
// the host path dst with docker cp's rules.
func CopyTo(content io.Reader, src Info, dst string) error {
	dstInfo, err := DestinationInfo(dst)
	if err != nil {
		return err
	}
	dir, prepared, err := Prepare(content, src, dstInfo)
	if err != nil {
		return err
	}
	return Extract(prepared, dir)
}

// BreakoutError reports an archive entry that would land outside the
// directory it is extracted to.
type BreakoutError struct {
	Name   string
	Reason string
}

func (e *BreakoutError) Error() string {
	return fmt.Sprintf("refusing archive entry %q: %s", e.Name, e.Reason)
}

// Extract unpacks a tar archive into dir, which must exist. Nothing is
// written outside dir: an entry whose name leaves it, or that would be
// written through a symbolic link leading out of it, is refused, as is a
// link whose target leaves it. Owners are not restored (the files belong
// to whoever runs the copy); modes and times are. A directory is never
// replaced by a file, nor a file by a directory. Devices and pipes are
// skipped.
func Extract(r io.Reader, dir string) error {
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return err
	}
	root, err = filepath.Abs(root)
	if err != nil {
		return err
	}
	type dirTime struct {
		path  string
		mtime time.Time
	}
	var dirs []dirTime
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		rel, err := entryPath(hdr.Name)
		if err != nil {
			return err
		}
		if rel == "." {
			continue // the directory extracted into: leave it as it is
		}
		parent, err := secureDir(root, filepath.Dir(rel), hdr.Name)
		if err != nil {
			return err
		}
		target := filepath.Join(parent, filepath.Base(rel))
		if err := clearFor(target, hdr); err != nil {
			return err
		}
		mode := os.FileMode(hdr.Mode) & os.ModePerm
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.Mkdir(target, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
				return err
			}
			if err := os.Chmod(target, mode); err != nil {
				return err
			}
			dirs = append(dirs, dirTime{target, hdr.ModTime})
		case tar.TypeReg, tar.TypeRegA:
			f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC|syscallNoFollow, 0o600)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			if err := os.Chmod(target, mode); err != nil {
				return err
			}
			_ = os.Chtimes(target, hdr.ModTime, hdr.ModTime)
		case tar.TypeSymlink:
			// A link is data: it is made as it is, never followed. Its
			// target must not climb out of root, as docker cp refuses.
			if !filepath.IsAbs(hdr.Linkname) {
				if _, err := within(root, filepath.Join(filepath.Dir(target), hdr.Linkname)); err != nil {
					return &BreakoutError{Name: hdr.Name, Reason: "its link target " + hdr.Linkname + " is outside the destination"}
				}
			}
			if err := os.Symlink(hdr.Linkname, target); err != nil {
				return err
			}
		case tar.TypeLink:
			lrel, err := entryPath(hdr.Linkname)
			if err != nil || lrel == "." {
				return &BreakoutError{Name: hdr.Name, Reason: "its link target " + hdr.Linkname + " is outside the destination"}
			}
			lparent, err := secureDir(root, filepath.Dir(lrel), hdr.Name)
			if err != nil {
				return err
			}
			if err := os.Link(filepath.Join(lparent, filepath.Base(lrel)), target); err != nil {
				return err
			}
		default:
			// Devices, pipes and the like are not made on the host.
		}
	}
	// Directories' times last: writing into them changed them.
	for i := len(dirs) - 1; i >= 0; i-- {
		_ = os.Chtimes(dirs[i].path, dirs[i].mtime, dirs[i].mtime)
	}
	return nil
}

// entryPath cleans an archive name into a relative path, refusing one
// that is absolute or climbs out with "..".
func entryPath(name string) (string, error) {
	clean := filepath.Clean(filepath.FromSlash(name))
	if filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		return "", &BreakoutError{Name: name, Reason: "it is outside the destination"}
	}
	return clean, nil
}

// within returns p if it lies in root (or is root), else an error.
func within(root, p string) (string, error) {
	rel, err := filepath.Rel(root, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", errors.New("outside")
	}
	return p, nil
}

// secureDir makes the directory rel under root, one element at a time,
// and returns its real path. An element that is a symbolic link is
// followed only if it stays inside root: an archive cannot plant a link
// to /etc and then write through it.
func secureDir(root, rel, name string) (string, error) {
	cur := root
	if rel == "." {
		return cur, nil
	}
	for _, elem := range strings.Split(rel, string(filepath.Separator)) {
		next := filepath.Join(cur, elem)
		st, err := os.Lstat(next)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := os.Mkdir(next, 0o755); err != nil {
				return "", err
			}
		case err != nil:
			return "", err
		case st.Mode()&os.ModeSymlink != 0:
			resolved, err := filepath.EvalSymlinks(next)
			if err != nil {
				return "", &BreakoutError{Name: name, Reason: "it goes through the link " + next + ", which leads nowhere"}
			}
			if _, err := within(root, resolved); err != nil {
				return "", &BreakoutError{Name: name, Reason: "it goes through the link " + next + ", which leads outside the destination"}
			}
			rst, err := os.Stat(resolved)
			if err != nil {
				return "", err
			}
			if !rst.IsDir() {
				return "", fmt.Errorf("%s: %w", next, ErrNotDirectory)
			}
			next = resolved
		case !st.IsDir():
			return "", fmt.Errorf("%s: %w", next, ErrNotDirectory)
		}
		cur = next
	}
	return cur, nil
}

// clearFor removes what stands at target for an entry to take its place:
// a file or link is replaced (a link is removed, never written through),
// an existing directory stays for a directory entry, and a directory is
// never replaced by a file nor a file by a directory.
func clearFor(target string, hdr *tar.Header) error {
	st, err := os.Lstat(target)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	isDir := hdr.Typeflag == tar.TypeDir
	switch {
	case st.IsDir() && isDir:
		return nil
	case st.IsDir():
		return fmt.Errorf("cannot overwrite directory %q with non-directory %q", target, hdr.Name)
	case isDir && st.Mode()&os.ModeSymlink == 0:
		return fmt.Errorf("cannot overwrite non-directory %q with directory %q", target, hdr.Name)
	}
	return os.Remove(target)
}
