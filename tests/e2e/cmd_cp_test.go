package e2e

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

const cpProject = `
services:
  web:
    image: IMAGE
    scale: 2
`

// execRead is what /app read FILE prints in the container, and whether it
// succeeded.
func execRead(name, file string) (string, bool) {
	out, err := docker("exec", name, "/app", "read", file)
	return out, err == nil
}

// tarEntries reads a tar archive's headers by name.
func tarEntries(t *testing.T, data []byte) map[string]*tar.Header {
	t.Helper()
	out := map[string]*tar.Header{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("not a tar archive: %v", err)
		}
		out[hdr.Name] = hdr
	}
}

// dockerCpOut is docker cp NAME:PATH -: the engine's own archive of a
// path, to check what a copy left in the container.
func dockerCpOut(t *testing.T, name, path string) map[string]*tar.Header {
	t.Helper()
	out, err := exec.Command("docker", "cp", name+":"+path, "-").Output()
	if err != nil {
		t.Fatalf("docker cp %s:%s -: %v", name, path, err)
	}
	return tarEntries(t, out)
}

func writeHost(t *testing.T, p, body string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCpIntoAServiceReachesEveryReplica: a copy in lands where docker cp
// puts it, in each replica unless --index picks one.
func TestCpIntoAServiceReachesEveryReplica(t *testing.T) {
	t.Parallel()
	p := NewProject(t, cpProject)
	p.Up()
	src := t.TempDir()
	file := writeHost(t, filepath.Join(src, "conf.txt"), "hello")
	writeHost(t, filepath.Join(src, "site", "index.html"), "<html>")
	writeHost(t, filepath.Join(src, "site", "css", "a.css"), "body{}")

	p.Compose("cp", file, "web:/conf.txt").Success(t).Mentions(t, "Copied")
	p.Compose("cp", file, "web:/etc").Success(t)                            // an existing directory: inside it
	p.Compose("cp", filepath.Join(src, "site"), "web:/srv").Success(t)      // a new path: the directory renamed
	p.Compose("cp", filepath.Join(src, "site")+"/.", "web:/etc").Success(t) // the content only
	for _, n := range []string{p.ContainerName("web", 1), p.ContainerName("web", 2)} {
		for file, want := range map[string]string{
			"/conf.txt":       "hello",
			"/etc/conf.txt":   "hello",
			"/srv/index.html": "<html>",
			"/srv/css/a.css":  "body{}",
			"/etc/index.html": "<html>",
			"/etc/css/a.css":  "body{}",
		} {
			if got, ok := execRead(n, file); !ok || got != want {
				t.Errorf("%s:%s holds %q (read ok %v), want %q", n, file, got, ok, want)
			}
		}
	}

	p.Compose("cp", "--index", "2", file, "web:/only-two.txt").Success(t)
	if _, ok := execRead(p.ContainerName("web", 1), "/only-two.txt"); ok {
		t.Error("--index 2 copied into replica 1")
	}
	if got, _ := execRead(p.ContainerName("web", 2), "/only-two.txt"); got != "hello" {
		t.Errorf("--index 2: replica 2 holds %q", got)
	}
	// A file onto a missing directory is refused, as by docker cp.
	p.Compose("cp", file, "web:/no/such/dir/").Failure(t, 1).Mentions(t, "no such directory")
}

// TestCpOutOfAService copies from the first replica (or --index's) to the
// host, and to standard output as a tar archive.
func TestCpOutOfAService(t *testing.T) {
	t.Parallel()
	p := NewProject(t, cpProject)
	p.Up()
	w1, w2 := p.ContainerName("web", 1), p.ContainerName("web", 2)
	Docker(t, "exec", w1, "/app", "write", "/out/data.txt", "one")
	Docker(t, "exec", w1, "/app", "write", "/out/sub/more.txt", "more")
	Docker(t, "exec", w2, "/app", "write", "/out/data.txt", "two")
	dst := t.TempDir()

	p.Compose("cp", "web:/out/data.txt", dst).Success(t)
	if got := readFile(t, filepath.Join(dst, "data.txt")); got != "one" {
		t.Errorf("copied %q, want the first replica's file", got)
	}
	p.Compose("cp", "--index", "2", "web:/out/data.txt", filepath.Join(dst, "two.txt")).Success(t)
	if got := readFile(t, filepath.Join(dst, "two.txt")); got != "two" {
		t.Errorf("--index 2 copied %q", got)
	}
	p.Compose("cp", "web:/out", filepath.Join(dst, "tree")).Success(t)
	if got := readFile(t, filepath.Join(dst, "tree", "sub", "more.txt")); got != "more" {
		t.Errorf("a directory copy holds %q", got)
	}
	p.Compose("cp", "web:/out/.", dst).Success(t)
	if got := readFile(t, filepath.Join(dst, "sub", "more.txt")); got != "more" {
		t.Errorf("copying /out/. into a directory: sub/more.txt holds %q", got)
	}

	r := p.Compose("cp", "web:/out", "-").Success(t)
	entries := tarEntries(t, []byte(r.Stdout))
	if _, ok := entries["out/sub/more.txt"]; !ok {
		t.Errorf("cp to - wrote %v", slices.Sorted(func(yield func(string) bool) {
			for k := range entries {
				if !yield(k) {
					return
				}
			}
		}))
	}
	p.Compose("cp", "web:/missing", dst).Failure(t, 1).Mentions(t, "/missing")
	p.Compose("cp", "web:/out", "web:/x").Failure(t, 1).Mentions(t, "copying between services is not supported")
}

// TestCpKeepsOwnersAsDockerCp: as with docker cp, the archive carries the
// host file's uid and gid and the engine keeps them; -a (CopyUIDGID)
// hands the files to the container's USER instead, which for a service
// without one means the same owners.
func TestCpKeepsOwnersAsDockerCp(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Fatal("this scenario chowns a file: run it as root")
	}
	p := NewProject(t, `
services:
  web:
    image: IMAGE
`)
	p.Up()
	file := writeHost(t, filepath.Join(t.TempDir(), "owned.txt"), "mine")
	if err := os.Chown(file, 1234, 4321); err != nil {
		t.Fatal(err)
	}
	name := p.ContainerName("web", 1)
	p.Compose("cp", file, "web:/plain.txt").Success(t)
	p.Compose("cp", "-a", file, "web:/kept.txt").Success(t)
	for _, f := range []string{"plain.txt", "kept.txt"} {
		if h := dockerCpOut(t, name, "/"+f)[f]; h == nil || h.Uid != 1234 || h.Gid != 4321 {
			t.Errorf("%s is owned by %v, want 1234:4321", f, h)
		}
	}
	// Copied out, files belong to whoever runs the copy.
	dst := t.TempDir()
	p.Compose("cp", "web:/kept.txt", dst).Success(t)
	fi, err := os.Stat(filepath.Join(dst, "kept.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); !ok || st.Uid != uint32(os.Geteuid()) {
		t.Errorf("the copy on the host is owned by %v", fi.Sys())
	}
}

// TestCpFromStdinAndFollowLink: "-" reads a tar archive from standard
// input; -L copies what a host link points at, under the link's name.
func TestCpFromStdinAndFollowLink(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  web:
    image: IMAGE
`)
	p.Up()
	name := p.ContainerName("web", 1)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct{ name, body string }{{"a.txt", "A"}, {"b/c.txt", "C"}} {
		tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(f.body))
	}
	tw.Close()
	RunComposer(t, Cmd{Dir: p.Dir, Args: []string{"-p", p.Name, "cp", "-", "web:/etc"}, Stdin: buf.String()}).Success(t)
	for file, want := range map[string]string{"/etc/a.txt": "A", "/etc/b/c.txt": "C"} {
		if got, ok := execRead(name, file); !ok || got != want {
			t.Errorf("%s holds %q, want %q", file, got, want)
		}
	}
	RunComposer(t, Cmd{Dir: p.Dir, Args: []string{"-p", p.Name, "cp", "-", "web:/etc/a.txt"}, Stdin: buf.String()}).
		Failure(t, 1).Mentions(t, "must be a directory")

	dir := t.TempDir()
	writeHost(t, filepath.Join(dir, "real.txt"), "real")
	if err := os.Symlink("real.txt", filepath.Join(dir, "alias")); err != nil {
		t.Fatal(err)
	}
	p.Compose("cp", filepath.Join(dir, "alias"), "web:/link").Success(t)
	p.Compose("cp", "-L", filepath.Join(dir, "alias"), "web:/followed").Success(t)
	if h := dockerCpOut(t, name, "/link")["link"]; h == nil || h.Typeflag != tar.TypeSymlink || h.Linkname != "real.txt" {
		t.Errorf("without -L the link itself is copied, got %+v", h)
	}
	if got, _ := execRead(name, "/followed"); got != "real" {
		t.Errorf("-L copied %q, want the link's target's content", got)
	}
}

// TestCpDryRunCopiesNothing: --dry-run copies nothing either way.
func TestCpDryRunCopiesNothing(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  web:
    image: IMAGE
`)
	p.Up()
	name := p.ContainerName("web", 1)
	file := writeHost(t, filepath.Join(t.TempDir(), "f.txt"), "x")
	r := p.Compose("--dry-run", "cp", file, "web:/f.txt").Success(t)
	if !strings.Contains(r.Stderr, "DRY-RUN") {
		t.Errorf("no dry-run mark:\n%s", r)
	}
	if _, ok := execRead(name, "/f.txt"); ok {
		t.Error("a dry run copied into the container")
	}
	Docker(t, "exec", name, "/app", "write", "/out.txt", "o")
	dst := filepath.Join(t.TempDir(), "out.txt")
	p.Compose("--dry-run", "cp", "web:/out.txt", dst).Success(t)
	if _, err := os.Stat(dst); err == nil {
		t.Error("a dry run wrote on the host")
	}
}
