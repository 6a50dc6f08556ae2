package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// privateTag tags the test image under a tag only this test uses, so it can
// be rebuilt without disturbing other scenarios.
func privateTag(t *testing.T) string {
	t.Helper()
	tag := "composer-test/private:" + randomSuffix()
	Docker(t, "tag", testImage, tag)
	t.Cleanup(func() { _, _ = docker("rmi", "-f", tag) })
	return tag
}

// rebuildWithLabel replaces tag by an image built FROM the test image with
// one more label, so the tag points at a new image ID.
func rebuildWithLabel(t *testing.T, tag, label string) {
	t.Helper()
	dir := t.TempDir()
	df := "FROM " + testImage + "\nLABEL " + label + "\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("docker", "build", "-q", "-t", tag, dir)
	cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("docker build: %v\n%s", err, out)
	}
}

func TestChangedImageRecreatesTheService(t *testing.T) {
	t.Parallel()
	tag := privateTag(t)
	p := NewProject(t, `
services:
  app:
    image: `+tag+`
  steady:
    image: IMAGE
`)
	p.Up()
	before := IDs(t, p.Name)
	rebuildWithLabel(t, tag, "e2e.rebuilt=yes")
	newID := ImageID(t, tag)
	p.Up()
	after := IDs(t, p.Name)
	app := p.ContainerName("app", 1)
	if after[app] == before[app] {
		t.Fatalf("app was not recreated after its image changed")
	}
	if steady := p.ContainerName("steady", 1); after[steady] != before[steady] {
		t.Errorf("steady was recreated though nothing about it changed")
	}
	c := InspectContainer(t, app)
	if c.Image != newID || c.Config.Labels[imageLabel] != newID {
		t.Errorf("new app runs image %s (label %s), want %s", c.Image, c.Config.Labels[imageLabel], newID)
	}
}

func TestPullPolicyNeverWithMissingImageFails(t *testing.T) {
	t.Parallel()
	image := "composer-test/never-built:" + randomSuffix()
	p := NewProject(t, `
services:
  app:
    image: `+image+`
    pull_policy: never
`)
	r := p.Compose("up", "-d")
	if r.ExitCode == 0 {
		t.Fatalf("up succeeded without the image:\n%s", r)
	}
	r.Mentions(t, image)
	if cs := ContainerNames(t, p.Name); len(cs) > 0 {
		t.Errorf("containers were created: %v", cs)
	}
}

func TestPresentImageIsUsedWithoutPulling(t *testing.T) {
	t.Parallel()
	// No registry is reachable, so a pull of this private tag would fail:
	// success shows the local image was used as it is.
	tag := privateTag(t)
	p := NewProject(t, "services:\n  app:\n    image: "+tag+"\n")
	p.Up()
	if c := InspectContainer(t, p.ContainerName("app", 1)); !strings.HasPrefix(c.Image, "sha256:") || c.Image != ImageID(t, tag) {
		t.Errorf("app image = %s", c.Image)
	}
}
