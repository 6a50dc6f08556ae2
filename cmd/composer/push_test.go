package main

import (
	"slices"
	"strings"
	"testing"
)

const pushYAML = `services:
  app:
    image: registry.local:5000/team/app:1
    build:
      context: .
      tags: [registry.local:5000/team/app:extra]
    depends_on: [base]
  base:
    image: registry.local:5000/team/base:1
    build: .
  plain:
    image: registry.local:5000/team/plain:1
  unnamed:
    build: .
  elsewhere:
    image: other.local/app:1
    build: .
`

func newPushCLI(t *testing.T) *cli {
	c := newCLI(t, pushYAML)
	for _, ref := range []string{"registry.local:5000/team/app:1", "registry.local:5000/team/app:extra", "registry.local:5000/team/base:1", "registry.local:5000/team/plain:1", "other.local/app:1"} {
		c.eng.AddImage(ref)
	}
	c.eng.AddRegistry("registry.local:5000")
	return c
}

// TestPushPushesBuiltAndNamedImages: as docker compose, push pushes the
// image and build tags of services that build and name an image.
func TestPushPushesBuiltAndNamedImages(t *testing.T) {
	t.Parallel()
	c := newPushCLI(t)
	r := c.must("push", "app", "base")
	got := c.eng.Pushed()
	slices.Sort(got)
	want := []string{"registry.local:5000/team/app:1", "registry.local:5000/team/app:extra", "registry.local:5000/team/base:1"}
	if !slices.Equal(got, want) {
		t.Errorf("pushed %v, want %v\n%s", got, want, r)
	}
	if !strings.Contains(r.stderr, "Pushed") {
		t.Errorf("no progress:\n%s", r)
	}
}

func TestPushSelection(t *testing.T) {
	t.Parallel()
	c := newPushCLI(t)
	c.must("push", "app")
	if got := c.eng.Pushed(); slices.Contains(got, "registry.local:5000/team/base:1") {
		t.Errorf("push app pushed its dependency: %v", got)
	}
	c2 := newPushCLI(t)
	c2.must("push", "--include-deps", "app")
	if got := c2.eng.Pushed(); !slices.Contains(got, "registry.local:5000/team/base:1") {
		t.Errorf("--include-deps left the dependency out: %v", got)
	}
	c3 := newPushCLI(t)
	r := c3.must("push", "-q", "plain", "unnamed")
	if len(c3.eng.Pushed()) != 0 || r.stderr != "" {
		t.Errorf("services without build or image were pushed (%v), or -q printed:\n%s", c3.eng.Pushed(), r)
	}
	if r := c3.run("push", "nope"); r.code == 0 || !strings.Contains(r.stderr, "no such service: nope") {
		t.Errorf("unknown service:\n%s", r)
	}
}

// TestPushFailures: an unreachable registry fails the push, unless
// --ignore-push-failures, which warns and exits 0.
func TestPushFailures(t *testing.T) {
	t.Parallel()
	c := newPushCLI(t)
	r := c.run("push", "elsewhere")
	if r.code != 1 || !strings.Contains(r.stderr, "other.local") || !strings.Contains(r.stderr, `pushing image "other.local/app:1"`) {
		t.Errorf("want exit 1 naming the image and registry:\n%s", r)
	}
	r = c.must("push", "--ignore-push-failures")
	if !strings.Contains(r.stderr, "warning:") || !strings.Contains(r.stderr, "other.local/app:1") {
		t.Errorf("no warning for the failed push:\n%s", r)
	}
	if got := c.eng.Pushed(); !slices.Contains(got, "registry.local:5000/team/app:1") {
		t.Errorf("--ignore-push-failures did not push the rest: %v", got)
	}
}

func TestPushDryRunPushesNothing(t *testing.T) {
	t.Parallel()
	c := newPushCLI(t)
	r := c.must("--dry-run", "push", "app")
	if len(c.eng.Pushed()) != 0 {
		t.Errorf("a dry run pushed %v:\n%s", c.eng.Pushed(), r)
	}
}
