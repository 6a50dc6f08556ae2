package main

import (
	"os"
	"path/filepath"
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
