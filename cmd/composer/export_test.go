package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const exportYAML = `
services:
  web:
    image: nginx
    ports: ["8080:80"]
    volumes: ["./site:/usr/share/nginx/html"]
    depends_on: [db]
  db:
    image: postgres
    volumes: [data:/var/lib/postgresql/data]
volumes:
  data: {}
`

// TestExportKubernetes: the manifests go to standard output, the warnings
// to standard error, and -o DIR/ writes one file per object.
func TestExportKubernetes(t *testing.T) {
	t.Parallel()
	c := newCLI(t, exportYAML)
	r := c.must("export", "kubernetes")
	for _, want := range []string{"kind: Deployment", "kind: Service", "kind: PersistentVolumeClaim", "name: web", "name: db"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, "warning:") || !strings.Contains(r.stderr, "web") {
		t.Errorf("no warning about web's bind mount:\n%s", r)
	}
	if len(c.eng.CallCounts()) != 0 {
		t.Errorf("export called the engine: %v", c.eng.CallCounts())
	}
	dir := filepath.Join(t.TempDir(), "out") + "/"
	c.must("export", "kubernetes", "-o", dir)
	files, err := os.ReadDir(dir)
	if err != nil || len(files) < 4 {
		t.Fatalf("-o %s wrote %d files (%v)", dir, len(files), err)
	}
	file := filepath.Join(t.TempDir(), "all.yaml")
	c.must("export", "kubernetes", "-o", file)
	if b, err := os.ReadFile(file); err != nil || string(b) != r.stdout {
		t.Errorf("-o FILE differs from standard output (%v)", err)
	}
}

func TestExportRefusesWhatItCannotDo(t *testing.T) {
	t.Parallel()
	c := newCLI(t, exportYAML)
	for _, args := range [][]string{
		{"export"},
		{"export", "helm"},
		{"export", "kubernetes", "--published-service-type", "ClusterIP"},
	} {
		if r := c.run(args...); r.code == 0 {
			t.Errorf("%v accepted:\n%s", args, r)
		}
	}
}

const exportServiceYAML = `services:
  web:
    image: img
  kubernetes:
    image: img
  job:
    image: img
    command: [exit, "0"]
`

// TestExportServiceWritesTheFilesystem: export SERVICE writes a tar of
// the container's files, to standard output or -o FILE.
func TestExportServiceWritesTheFilesystem(t *testing.T) {
	t.Parallel()
	c := newCLI(t, exportServiceYAML)
	c.must("up", "-d")
	c.eng.WriteFile("proj-web-1", "/app/data.txt", []byte("d"))
	r := c.must("export", "web")
	if names := tarNames(t, []byte(r.stdout)); !slices.Contains(names, "app/data.txt") {
		t.Errorf("the archive on standard output holds %v", names)
	}
	out := filepath.Join(t.TempDir(), "fs.tar")
	c.must("export", "-o", out, "web")
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if names := tarNames(t, b); !slices.Contains(names, "app/data.txt") {
		t.Errorf("-o wrote %v", names)
	}
	if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o600 {
		t.Errorf("-o file mode %v, want 0600 as docker compose writes it", fi.Mode().Perm())
	}
	// A service called kubernetes, after "--".
	c.eng.WriteFile("proj-kubernetes-1", "/k.txt", []byte("k"))
	r = c.must("export", "--", "kubernetes")
	if names := tarNames(t, []byte(r.stdout)); !slices.Contains(names, "k.txt") {
		t.Errorf("export -- kubernetes wrote %v", names)
	}
	if r := c.must("export", "kubernetes"); !strings.Contains(r.stdout, "kind: Deployment") {
		t.Errorf("export kubernetes no longer writes manifests:\n%s", r)
	}
}

func TestExportServiceRefusals(t *testing.T) {
	t.Parallel()
	c := newCLI(t, exportServiceYAML)
	c.must("up", "-d")
	out := filepath.Join(t.TempDir(), "fs.tar")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"export", "-o", out, "job"}, `service "job" is not running`},
		{[]string{"export", "-o", out, "--index", "2", "web"}, `service "web" is not running container #2`},
		{[]string{"export", "-o", out, "nope"}, "no such service: nope"},
		{[]string{"export", "-o", filepath.Join(out, "missing", "x.tar"), "web"}, "does not exist"},
		{[]string{"export", "web", "job"}, "requires exactly 1 argument"},
	} {
		if r := c.run(tt.args...); r.code == 0 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("want a failure saying %q:\n%s", tt.want, r)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed export left a file")
	}
	if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) != 0 {
		t.Errorf("a failed export left %v", entries)
	}
	// A dry run finds the container and writes nothing.
	r := c.must("--dry-run", "export", "-o", out, "web")
	if _, err := os.Stat(out); err == nil {
		t.Errorf("a dry run wrote the archive:\n%s", r)
	}
}
