package archive

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// entry is one member of a test archive.
type entry struct {
	name, body, link string
	typ              byte
}

func makeTar(t *testing.T, entries ...entry) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		hdr := &tar.Header{Name: e.name, Typeflag: typ, Mode: 0o644, Size: int64(len(e.body)), Linkname: e.link}
		if typ == tar.TypeDir {
			hdr.Mode, hdr.Size = 0o755, 0
		}
		if typ == tar.TypeSymlink || typ == tar.TypeLink {
			hdr.Size = 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if hdr.Size > 0 {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf
}

// names lists an archive's entry names.
func names(t *testing.T, r io.Reader) []string {
	t.Helper()
	var out []string
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, hdr.Name)
	}
}

func writeFile(t *testing.T, p, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestTarNamesEntriesAfterTheSource(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "src", "a.txt"), "a")
	writeFile(t, filepath.Join(dir, "src", "sub", "b.txt"), "b")
	if err := os.Symlink("a.txt", filepath.Join(dir, "src", "link")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		want []string
	}{
		{filepath.Join(dir, "src"), []string{"src/", "src/a.txt", "src/link", "src/sub/", "src/sub/b.txt"}},
		{filepath.Join(dir, "src") + "/.", []string{"./", "./a.txt", "./link", "./sub/", "./sub/b.txt"}},
		{filepath.Join(dir, "src", "a.txt"), []string{"a.txt"}},
	}
	for _, tt := range tests {
		info, err := SourceInfo(tt.path, false)
		if err != nil {
			t.Fatal(err)
		}
		rc := Tar(info)
		got := names(t, rc)
		rc.Close()
		if !slices.Equal(got, tt.want) {
			t.Errorf("Tar(%s) = %v, want %v", tt.path, got, tt.want)
		}
	}
}

func TestSourceInfoFollowLinkKeepsTheNameGiven(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "real.txt"), "x")
	link := filepath.Join(dir, "alias")
	if err := os.Symlink("real.txt", link); err != nil {
		t.Fatal(err)
	}
	info, err := SourceInfo(link, false)
	if err != nil || info.IsDir || info.RebaseName != "" || info.Path != link {
		t.Fatalf("without -L: %+v, %v", info, err)
	}
	rc := Tar(info)
	var hdrs []*tar.Header
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		hdrs = append(hdrs, h)
	}
	rc.Close()
	if len(hdrs) != 1 || hdrs[0].Typeflag != tar.TypeSymlink {
		t.Fatalf("without -L the link itself is copied, got %v", hdrs)
	}
	info, err = SourceInfo(link, true)
	if err != nil || info.RebaseName != "alias" {
		t.Fatalf("with -L: %+v, %v", info, err)
	}
	rc = Tar(info)
	defer rc.Close()
	if got := names(t, rc); !slices.Equal(got, []string{"alias"}) {
		t.Errorf("with -L the target is copied under the link's name, got %v", got)
	}
}

// TestCopyToFollowsDockerCpRules checks where a copy lands on the host,
// for each of docker cp's cases.
func TestCopyToFollowsDockerCpRules(t *testing.T) {
	t.Parallel()
	fileArchive := func(t *testing.T) io.Reader { return makeTar(t, entry{name: "f.txt", body: "data"}) }
	dirArchive := func(t *testing.T) io.Reader {
		return makeTar(t, entry{name: "d/", typ: tar.TypeDir}, entry{name: "d/in.txt", body: "in"})
	}
	contentArchive := func(t *testing.T) io.Reader {
		return makeTar(t, entry{name: "./", typ: tar.TypeDir}, entry{name: "./in.txt", body: "in"})
	}
	tests := []struct {
		name    string
		archive func(*testing.T) io.Reader
		src     Info
		setup   func(t *testing.T, root string)
		dst     string
		want    map[string]string // path under root -> content
		wantErr error
	}{
		{name: "file to a new path", archive: fileArchive, src: Info{Path: "/c/f.txt"}, dst: "new.txt",
			want: map[string]string{"new.txt": "data"}},
		{name: "file into an existing directory", archive: fileArchive, src: Info{Path: "/c/f.txt"},
			setup: func(t *testing.T, root string) { os.Mkdir(filepath.Join(root, "dir"), 0o755) },
			dst:   "dir", want: map[string]string{"dir/f.txt": "data"}},
		{name: "file over an existing file", archive: fileArchive, src: Info{Path: "/c/f.txt"},
			setup: func(t *testing.T, root string) { writeFile(t, filepath.Join(root, "old.txt"), "old") },
			dst:   "old.txt", want: map[string]string{"old.txt": "data"}},
		{name: "file to a missing directory", archive: fileArchive, src: Info{Path: "/c/f.txt"}, dst: "missing/",
			wantErr: ErrDirNotExists},
		{name: "directory to a new path", archive: dirArchive, src: Info{Path: "/c/d", IsDir: true}, dst: "copy",
			want: map[string]string{"copy/in.txt": "in"}},
		{name: "directory into an existing directory", archive: dirArchive, src: Info{Path: "/c/d", IsDir: true},
			setup: func(t *testing.T, root string) { os.Mkdir(filepath.Join(root, "dir"), 0o755) },
			dst:   "dir", want: map[string]string{"dir/d/in.txt": "in"}},
		{name: "directory's content into an existing directory", archive: contentArchive, src: Info{Path: "/c/d/.", IsDir: true},
			setup: func(t *testing.T, root string) { os.Mkdir(filepath.Join(root, "dir"), 0o755) },
			dst:   "dir", want: map[string]string{"dir/in.txt": "in"}},
		{name: "directory over a file", archive: dirArchive, src: Info{Path: "/c/d", IsDir: true},
			setup: func(t *testing.T, root string) { writeFile(t, filepath.Join(root, "file"), "x") },
			dst:   "file", wantErr: ErrCannotCopyDir},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			if tt.setup != nil {
				tt.setup(t, root)
			}
			tt.src.Exists = true
			dst := filepath.Join(root, tt.dst)
			if strings.HasSuffix(tt.dst, "/") {
				dst += "/"
			}
			err := CopyTo(tt.archive(t), tt.src, dst)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for p, body := range tt.want {
				if got := readFile(t, filepath.Join(root, p)); got != body {
					t.Errorf("%s holds %q, want %q", p, got, body)
				}
			}
		})
	}
}

// TestExtractStaysInside: a hostile archive writes nothing outside the
// directory it is extracted to.
func TestExtractStaysInside(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		entries []entry
	}{
		{"dot-dot name", []entry{{name: "../escaped.txt", body: "x"}}},
		{"dot-dot inside a name", []entry{{name: "a/../../escaped.txt", body: "x"}}},
		{"absolute name", []entry{{name: "/escaped.txt", body: "x"}}},
		{"write through an absolute link", []entry{
			{name: "evil", typ: tar.TypeSymlink, link: "OUTSIDE"},
			{name: "evil/escaped.txt", body: "x"},
		}},
		{"write through a relative link", []entry{
			{name: "evil", typ: tar.TypeSymlink, link: "../outside"},
			{name: "evil/escaped.txt", body: "x"},
		}},
		{"relative link leaving the destination", []entry{{name: "evil", typ: tar.TypeSymlink, link: "../../etc"}}},
		{"hard link to a file outside", []entry{{name: "evil", typ: tar.TypeLink, link: "../outside/secret"}}},
		{"hard link to an absolute path", []entry{{name: "evil", typ: tar.TypeLink, link: "/etc/passwd"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			base := t.TempDir()
			outside := filepath.Join(base, "outside")
			writeFile(t, filepath.Join(outside, "secret"), "secret")
			dest := filepath.Join(base, "dest")
			if err := os.Mkdir(dest, 0o755); err != nil {
				t.Fatal(err)
			}
			for i := range tt.entries {
				tt.entries[i].link = strings.ReplaceAll(tt.entries[i].link, "OUTSIDE", outside)
			}
			err := Extract(makeTar(t, tt.entries...), dest)
			var be *BreakoutError
			if !errors.As(err, &be) {
				t.Errorf("Extract = %v, want a refusal", err)
			}
			for _, p := range []string{filepath.Join(base, "escaped.txt"), filepath.Join(outside, "escaped.txt"), "/escaped.txt"} {
				if _, err := os.Stat(p); err == nil {
					t.Errorf("%s was written", p)
				}
			}
			if got := readFile(t, filepath.Join(outside, "secret")); got != "secret" {
				t.Errorf("outside/secret now holds %q", got)
			}
		})
	}
}

// TestExtractReplacesLinksRatherThanWritingThroughThem: a file entry
// whose name is an existing link replaces the link.
func TestExtractReplacesLinksRatherThanWritingThroughThem(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	target := filepath.Join(base, "target")
	writeFile(t, target, "keep")
	dest := filepath.Join(base, "dest")
	os.Mkdir(dest, 0o755)
	if err := os.Symlink(target, filepath.Join(dest, "f")); err != nil {
		t.Fatal(err)
	}
	if err := Extract(makeTar(t, entry{name: "f", body: "new"}), dest); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, target); got != "keep" {
		t.Errorf("the link's target was written: %q", got)
	}
	if got := readFile(t, filepath.Join(dest, "f")); got != "new" {
		t.Errorf("f holds %q", got)
	}
}

func TestExtractKeepsLinksAndModes(t *testing.T) {
	t.Parallel()
	dest := t.TempDir()
	err := Extract(makeTar(t,
		entry{name: "d/", typ: tar.TypeDir},
		entry{name: "d/f", body: "x"},
		entry{name: "d/rel", typ: tar.TypeSymlink, link: "f"},
		entry{name: "d/abs", typ: tar.TypeSymlink, link: "/usr/lib/whatever"},
		entry{name: "d/hard", typ: tar.TypeLink, link: "d/f"},
	), dest)
	if err != nil {
		t.Fatal(err)
	}
	if l, _ := os.Readlink(filepath.Join(dest, "d/rel")); l != "f" {
		t.Errorf("d/rel -> %q", l)
	}
	// An absolute link is data: made as it is, never followed.
	if l, _ := os.Readlink(filepath.Join(dest, "d/abs")); l != "/usr/lib/whatever" {
		t.Errorf("d/abs -> %q", l)
	}
	if got := readFile(t, filepath.Join(dest, "d/hard")); got != "x" {
		t.Errorf("d/hard holds %q", got)
	}
	if fi, _ := os.Stat(filepath.Join(dest, "d/f")); fi.Mode().Perm() != 0o644 {
		t.Errorf("d/f mode %v", fi.Mode())
	}
}

func TestRebase(t *testing.T) {
	t.Parallel()
	tests := []struct {
		old, new string
		in, want []string
	}{
		{"d", "copy", []string{"d/", "d/a", "dx"}, []string{"copy/", "copy/a", "dx"}},
		{".", "copy", []string{"./", "./a", "b"}, []string{"copy/", "copy/a", "copy/b"}},
		{"f.txt", "new.txt", []string{"f.txt"}, []string{"new.txt"}},
	}
	for _, tt := range tests {
		var es []entry
		for _, n := range tt.in {
			if strings.HasSuffix(n, "/") {
				es = append(es, entry{name: n, typ: tar.TypeDir})
			} else {
				es = append(es, entry{name: n, body: "x"})
			}
		}
		got := names(t, Rebase(makeTar(t, es...), tt.old, tt.new))
		if !slices.Equal(got, tt.want) {
			t.Errorf("Rebase(%v, %s, %s) = %v, want %v", tt.in, tt.old, tt.new, got, tt.want)
		}
	}
}
