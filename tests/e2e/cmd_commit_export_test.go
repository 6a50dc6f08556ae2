package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const commitProject = `
services:
  web:
    image: IMAGE
  job:
    image: IMAGE
    command: [exit, "0"]
`

// TestCommitMakesAnImageOfTheServiceContainer: the image exists, carries
// the author, message and changes, and holds the container's files.
func TestCommitMakesAnImageOfTheServiceContainer(t *testing.T) {
	t.Parallel()
	p := NewProject(t, commitProject)
	p.Up()
	Docker(t, "exec", p.ContainerName("web", 1), "/app", "write", "/state.txt", "saved")
	ref := "composer-test/commit-" + randomSuffix() + ":1"
	removeImagesAtEnd(t, ref)
	r := p.Compose("commit", "-a", "Ann <ann@example.com>", "-m", "a snapshot", "-c", "ENV MODE=frozen", "-c", "LABEL stage=e2e", "web", ref).Success(t)

	var imgs []struct {
		ID      string
		Author  string
		Comment string
		Config  struct {
			Env    []string
			Labels map[string]string
		}
	}
	if err := json.Unmarshal([]byte(Docker(t, "image", "inspect", ref)), &imgs); err != nil || len(imgs) != 1 {
		t.Fatalf("docker image inspect %s: %v", ref, err)
	}
	img := imgs[0]
	if img.Author != "Ann <ann@example.com>" || img.Comment != "a snapshot" {
		t.Errorf("author %q, comment %q", img.Author, img.Comment)
	}
	if !slices.Contains(img.Config.Env, "MODE=frozen") || img.Config.Labels["stage"] != "e2e" {
		t.Errorf("--change not applied: env %v, labels %v", img.Config.Env, img.Config.Labels)
	}
	// The id shows in the progress, as docker compose shows it.
	if !strings.Contains(r.Stderr, "Committed as "+img.ID) {
		t.Errorf("the progress does not show %s:\n%s", img.ID, r)
	}
	if out := Docker(t, "run", "--rm", ref, "read", "/state.txt"); out != "saved" {
		t.Errorf("a container of the image reads %q", out)
	}
	p.Compose("commit", "job").Failure(t, 1).Mentions(t, `service "job" is not running`)
}

// TestCommitDryRunMakesNoImage: --dry-run says what it would commit and
// makes no image.
func TestCommitDryRunMakesNoImage(t *testing.T) {
	t.Parallel()
	p := NewProject(t, commitProject)
	p.Up()
	ref := "composer-test/commit-dry-" + randomSuffix() + ":1"
	removeImagesAtEnd(t, ref)
	p.Compose("--dry-run", "commit", "web", ref).Success(t).Mentions(t, "DRY-RUN")
	if _, err := docker("image", "inspect", ref); err == nil {
		t.Errorf("a dry run made %s", ref)
	}
}

// TestExportWritesTheContainersFilesystem: export SERVICE writes a tar of
// the container's files to -o FILE or standard output.
func TestExportWritesTheContainersFilesystem(t *testing.T) {
	t.Parallel()
	p := NewProject(t, commitProject)
	p.Up()
	Docker(t, "exec", p.ContainerName("web", 1), "/app", "write", "/data/state.txt", "saved")
	out := filepath.Join(t.TempDir(), "fs.tar")
	p.Compose("export", "-o", out, "web").Success(t)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	entries := tarEntries(t, b)
	for _, want := range []string{"app", "data/state.txt", "etc/hosts"} {
		if _, ok := entries[want]; !ok {
			t.Errorf("the archive lacks %s", want)
		}
	}
	r := p.Compose("export", "web").Success(t)
	if _, ok := tarEntries(t, []byte(r.Stdout))["data/state.txt"]; !ok {
		t.Error("the archive on standard output lacks data/state.txt")
	}
	missing := filepath.Join(t.TempDir(), "none.tar")
	p.Compose("export", "-o", missing, "job").Failure(t, 1).Mentions(t, `service "job" is not running`)
	if _, err := os.Stat(missing); err == nil {
		t.Error("a failed export left a file")
	}
	p.Compose("--dry-run", "export", "-o", missing, "web").Success(t)
	if _, err := os.Stat(missing); err == nil {
		t.Error("a dry run wrote the archive")
	}
}
