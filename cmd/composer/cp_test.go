package main

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const cpYAML = `services:
  web:
    image: img
    scale: 2
  db:
    image: img
`

// runWithStdin runs a command line as cli.run does, with stdin as its
// standard input.
func (c *cli) runWithStdin(stdin io.Reader, args ...string) result {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	full := slices.Concat([]string{"-f", filepath.Join(c.dir, "compose.yaml")}, args)
	env := append([]string{"HOME=" + c.dir, "COMPOSE_PROJECT_NAME=proj"}, c.env...)
	code := runWith(ctx, full, Streams{In: stdin, Out: &out, Err: &errb, Env: env}, c.connector())
	return result{code: code, stdout: out.String(), stderr: errb.String(), args: full}
}

// readIn reads a file of a container of the fake.
func (c *cli) readIn(container, p string) (string, bool) {
	c.t.Helper()
	b, err := c.eng.ReadFile(container, p)
	if err != nil {
		return "", false
	}
	return string(b), true
}

func hostFile(t *testing.T, p, body string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func tarOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range files {
			if !yield(k) {
				return
			}
		}
	}) {
		body := files[name]
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	tw.Close()
	return buf.Bytes()
}

func tarNames(t *testing.T, data []byte) []string {
	t.Helper()
	var out []string
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("not a tar archive: %v", err)
		}
		out = append(out, hdr.Name)
	}
}

// TestCpIntoServiceFollowsDockerCpRules: a copy in lands where docker cp
// puts it, in every replica unless --index picks one.
func TestCpIntoServiceFollowsDockerCpRules(t *testing.T) {
	t.Parallel()
	c := newCLI(t, cpYAML)
	c.must("up", "-d")
	for _, n := range []string{"proj-web-1", "proj-web-2"} {
		if err := c.eng.WriteFile(n, "/data/keep", []byte("k")); err != nil {
			t.Fatal(err)
		}
	}
	src := t.TempDir()
	file := hostFile(t, filepath.Join(src, "conf.txt"), "hello")
	hostFile(t, filepath.Join(src, "site", "index.html"), "<html>")
	hostFile(t, filepath.Join(src, "site", "css", "a.css"), "body{}")

	c.must("cp", file, "web:/data")             // an existing directory: inside it
	c.must("cp", file, "web:/data/renamed.txt") // a new path: that name
	c.must("cp", filepath.Join(src, "site"), "web:/srv")
	c.must("cp", filepath.Join(src, "site"), "web:/data")      // existing dir: site inside
	c.must("cp", filepath.Join(src, "site")+"/.", "web:/data") // content only
	for _, n := range []string{"proj-web-1", "proj-web-2"} {
		for p, want := range map[string]string{
			"/data/conf.txt":        "hello",
			"/data/renamed.txt":     "hello",
			"/srv/index.html":       "<html>",
			"/srv/css/a.css":        "body{}",
			"/data/site/index.html": "<html>",
			"/data/index.html":      "<html>",
			"/data/css/a.css":       "body{}",
			"/data/keep":            "k",
		} {
			if got, ok := c.readIn(n, p); !ok || got != want {
				t.Errorf("%s:%s holds %q (exists %v), want %q", n, p, got, ok, want)
			}
		}
	}
	if _, ok := c.readIn("proj-db-1", "/data/conf.txt"); ok {
		t.Error("the copy reached another service")
	}

	c.must("cp", "--index", "2", file, "web:/only-two.txt")
	if _, ok := c.readIn("proj-web-1", "/only-two.txt"); ok {
		t.Error("--index 2 copied to replica 1")
	}
	if got, _ := c.readIn("proj-web-2", "/only-two.txt"); got != "hello" {
		t.Errorf("--index 2: replica 2 holds %q", got)
	}
}

func TestCpFromServiceToHost(t *testing.T) {
	t.Parallel()
	c := newCLI(t, cpYAML)
	c.must("up", "-d")
	c.eng.WriteFile("proj-web-1", "/etc/app/app.conf", []byte("one"))
	c.eng.WriteFile("proj-web-1", "/etc/app/sub/more.conf", []byte("more"))
	c.eng.WriteFile("proj-web-2", "/etc/app/app.conf", []byte("two"))
	dst := t.TempDir()

	c.must("cp", "web:/etc/app/app.conf", dst)
	if b, _ := os.ReadFile(filepath.Join(dst, "app.conf")); string(b) != "one" {
		t.Errorf("copied %q, want the first replica's", b)
	}
	c.must("cp", "--index", "2", "web:/etc/app/app.conf", filepath.Join(dst, "two.conf"))
	if b, _ := os.ReadFile(filepath.Join(dst, "two.conf")); string(b) != "two" {
		t.Errorf("--index 2 copied %q", b)
	}
	c.must("cp", "web:/etc/app", filepath.Join(dst, "conf"))
	if b, _ := os.ReadFile(filepath.Join(dst, "conf", "sub", "more.conf")); string(b) != "more" {
		t.Errorf("directory copy: conf/sub/more.conf holds %q", b)
	}
	c.must("cp", "web:/etc/app", dst)
	if b, _ := os.ReadFile(filepath.Join(dst, "app", "app.conf")); string(b) != "one" {
		t.Errorf("into an existing directory: app/app.conf holds %q", b)
	}

	r := c.must("cp", "web:/etc/app", "-")
	names := tarNames(t, []byte(r.stdout))
	if !slices.Contains(names, "app/app.conf") || !slices.Contains(names, "app/sub/more.conf") {
		t.Errorf("cp to - wrote entries %v", names)
	}
}

func TestCpFromStdin(t *testing.T) {
	t.Parallel()
	c := newCLI(t, cpYAML)
	c.must("up", "-d")
	c.eng.WriteFile("proj-db-1", "/in/placeholder", nil)
	archive := tarOf(t, map[string]string{"a.txt": "A", "b/c.txt": "C"})
	if r := c.runWithStdin(bytes.NewReader(archive), "cp", "-", "db:/in"); r.code != 0 {
		t.Fatalf("cp - failed:\n%s", r)
	}
	for p, want := range map[string]string{"/in/a.txt": "A", "/in/b/c.txt": "C"} {
		if got, _ := c.readIn("proj-db-1", p); got != want {
			t.Errorf("%s holds %q, want %q", p, got, want)
		}
	}
	// Every replica gets the whole archive.
	if r := c.runWithStdin(bytes.NewReader(archive), "cp", "-", "web:/"); r.code != 0 {
		t.Fatalf("cp - to two replicas failed:\n%s", r)
	}
	for _, n := range []string{"proj-web-1", "proj-web-2"} {
		if got, _ := c.readIn(n, "/b/c.txt"); got != "C" {
			t.Errorf("%s:/b/c.txt holds %q", n, got)
		}
	}
	r := c.runWithStdin(bytes.NewReader(archive), "cp", "-", "db:/in/a.txt")
	if r.code == 0 || !strings.Contains(r.stderr, "must be a directory") {
		t.Errorf("cp - onto a file:\n%s", r)
	}
}

func TestCpRefusals(t *testing.T) {
	t.Parallel()
	c := newCLI(t, cpYAML+`  idle:
    image: img
    profiles: [later]
`)
	c.must("up", "-d")
	file := hostFile(t, filepath.Join(t.TempDir(), "f.txt"), "x")
	dir := t.TempDir()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"cp", "web:/a", "db:/b"}, "copying between services is not supported"},
		{[]string{"cp", file, dir}, "unknown copy direction"},
		{[]string{"cp", file, "nope:/x"}, "no such service: nope"},
		{[]string{"cp", file, "idle:/x"}, `no container found for service "idle"`},
		{[]string{"cp", "--index", "3", file, "web:/x"}, `service "web" is not running container #3`},
		{[]string{"cp", "web:/missing", dir}, "Could not find the file /missing"},
		{[]string{"cp", file, "web:/no/such/dir/"}, "no such directory"},
		{[]string{"cp", "web:/etc", filepath.Join(dir, "absent", "x")}, "does not exist"},
		{[]string{"cp", "", "web:/x"}, "source can not be empty"},
		{[]string{"cp", file}, "accepts 2 arg(s)"},
	}
	for _, tt := range tests {
		r := c.run(tt.args...)
		if r.code == 0 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("want a failure saying %q:\n%s", tt.want, r)
		}
	}
}

// TestCpAllIsDeprecated: --all is accepted, hidden and said to be
// deprecated, as in docker compose v2: copying in reaches every replica
// anyway.
func TestCpAllIsDeprecated(t *testing.T) {
	t.Parallel()
	c := newCLI(t, cpYAML)
	c.must("up", "-d")
	file := hostFile(t, filepath.Join(t.TempDir(), "f.txt"), "x")
	r := c.must("cp", "--all", file, "web:/f.txt")
	// cobra prints it on the command's output, as in docker compose.
	if !strings.Contains(r.stdout+r.stderr, "--all has been deprecated") {
		t.Errorf("no deprecation notice:\n%s", r)
	}
	for _, n := range []string{"proj-web-1", "proj-web-2"} {
		if got, _ := c.readIn(n, "/f.txt"); got != "x" {
			t.Errorf("%s:/f.txt holds %q", n, got)
		}
	}
	if h := c.must("cp", "--help"); strings.Contains(h.stdout, "--all") {
		t.Errorf("--all shows in help:\n%s", h.stdout)
	}
}

// TestCpDryRunWritesNothing: --dry-run reads what it needs and writes
// nowhere, neither in the container nor on the host.
func TestCpDryRunWritesNothing(t *testing.T) {
	t.Parallel()
	c := newCLI(t, cpYAML)
	c.must("up", "-d")
	c.eng.WriteFile("proj-web-1", "/etc/app.conf", []byte("conf"))
	file := hostFile(t, filepath.Join(t.TempDir(), "f.txt"), "x")
	r := c.must("--dry-run", "cp", file, "web:/f.txt")
	if _, ok := c.readIn("proj-web-1", "/f.txt"); ok {
		t.Errorf("a dry run copied into the container:\n%s", r)
	}
	if !strings.Contains(r.stderr, dryRunMark) {
		t.Errorf("no dry-run mark:\n%s", r)
	}
	dst := filepath.Join(t.TempDir(), "out.conf")
	c.must("--dry-run", "cp", "web:/etc/app.conf", dst)
	if _, err := os.Stat(dst); err == nil {
		t.Error("a dry run wrote on the host")
	}
	if r := c.run("--dry-run", "cp", "web:/nope", dst); r.code == 0 {
		t.Errorf("a dry run of a copy from a missing path succeeded:\n%s", r)
	}
}
