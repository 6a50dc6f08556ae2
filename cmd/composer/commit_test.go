package main

import (
	"context"
	"slices"
	"strings"
	"testing"
)

const commitYAML = `services:
  web:
    image: img
    scale: 2
  job:
    image: img
    command: [exit, "0"]
`

// commits are the commit events the fake published: container name ->
// the image made.
func (c *cli) commits() map[string]string {
	out := map[string]string{}
	for _, ev := range c.eng.Published() {
		if ev.Type == "container" && ev.Action == "commit" {
			out[ev.Attributes["name"]] = ev.Attributes["imageID"]
		}
	}
	return out
}

func TestCommitMakesAnImageOfTheContainer(t *testing.T) {
	t.Parallel()
	c := newCLI(t, commitYAML)
	c.must("up", "-d")
	c.eng.WriteFile("proj-web-1", "/state.txt", []byte("saved"))
	r := c.must("commit", "-a", "Ann <ann@example.com>", "-m", "snapshot", "-c", "ENV MODE=frozen", "-c", "LABEL stage=test", "web", "snap:1")
	img, err := c.eng.InspectImage(context.Background(), "snap:1")
	if err != nil {
		t.Fatalf("no image snap:1: %v\n%s", err, r)
	}
	if !slices.Contains(img.Config.Env, "MODE=frozen") || img.Config.Labels["stage"] != "test" {
		t.Errorf("--change not applied: env %v, labels %v", img.Config.Env, img.Config.Labels)
	}
	// The id is shown as docker compose shows it, in the progress.
	if !strings.Contains(r.stderr, "Committed as "+img.ID) {
		t.Errorf("the progress does not show the image id %s:\n%s", img.ID, r)
	}
	if got := c.commits(); got["proj-web-1"] != img.ID || len(got) != 1 {
		t.Errorf("commits %v, want proj-web-1's only", got)
	}
	// The image holds the container's files.
	c.write("compose.yaml", commitYAML+`  restored:
    image: snap:1
`)
	c.must("up", "-d", "restored")
	if got, _ := c.readIn("proj-restored-1", "/state.txt"); got != "saved" {
		t.Errorf("a container of the committed image holds %q", got)
	}
}

func TestCommitPicksTheReplicaAndPauses(t *testing.T) {
	t.Parallel()
	c := newCLI(t, commitYAML)
	c.must("up", "-d")
	c.must("commit", "--index", "2", "web")
	if got := c.commits(); got["proj-web-2"] == "" || len(got) != 1 {
		t.Errorf("--index 2 committed %v", got)
	}
	pauses := func() int {
		n := 0
		for _, ev := range c.eng.Published() {
			if ev.Type == "container" && ev.Action == "pause" {
				n++
			}
		}
		return n
	}
	if pauses() != 1 {
		t.Errorf("the commit paused the container %d times, want once (--pause defaults to true)", pauses())
	}
	c.must("commit", "-p=false", "web")
	if pauses() != 1 {
		t.Errorf("-p=false paused the container")
	}
}

func TestCommitRefusals(t *testing.T) {
	t.Parallel()
	c := newCLI(t, commitYAML)
	c.must("up", "-d")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"commit", "job"}, `service "job" is not running`},
		{[]string{"commit", "--index", "5", "web"}, `service "web" is not running container #5`},
		{[]string{"commit", "nope"}, "no such service: nope"},
		{[]string{"commit"}, "accepts between 1 and 2 arg(s)"},
		{[]string{"commit", "web", "Bad:tag"}, "must be lowercase"},
	} {
		if r := c.run(tt.args...); r.code == 0 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("want a failure saying %q:\n%s", tt.want, r)
		}
	}
	if len(c.commits()) != 0 {
		t.Errorf("a refused commit made an image: %v", c.commits())
	}
}

func TestCommitDryRunMakesNoImage(t *testing.T) {
	t.Parallel()
	c := newCLI(t, commitYAML)
	c.must("up", "-d")
	r := c.must("--dry-run", "commit", "web", "snap:dry")
	if c.hasImage("snap:dry") || len(c.commits()) != 0 {
		t.Errorf("a dry run committed:\n%s", r)
	}
	if !strings.Contains(r.stderr, dryRunMark) {
		t.Errorf("no dry-run mark:\n%s", r)
	}
}
