package e2e

import (
	"strings"
	"testing"
	"time"
)

const createProject = `
services:
  db:
    image: IMAGE
  web:
    image: IMAGE
    depends_on: [db]
`

func TestCmdCreateMakesWithoutStarting(t *testing.T) {
	t.Parallel()
	p := NewProject(t, createProject)
	p.Compose("--dry-run", "create").Success(t)
	if ids := IDs(t, p.Name); len(ids) != 0 {
		t.Fatalf("a dry run of create made %v", keys(ids))
	}
	p.Compose("create").Success(t)
	for _, svc := range []string{"db", "web"} {
		if s := containerState(p.ContainerName(svc, 1)); s != "created" {
			t.Errorf("%s is %q after create, want created", svc, s)
		}
	}
	if got := Docker(t, "network", "ls", "-q", "--filter", "name="+p.Name+"_default"); got == "" {
		t.Error("create made no network")
	}
	p.Compose("start").Success(t)
	for _, svc := range []string{"db", "web"} {
		if s := containerState(p.ContainerName(svc, 1)); s != "running" {
			t.Errorf("%s is %q after start, want running", svc, s)
		}
	}
}

func TestCmdScale(t *testing.T) {
	t.Parallel()
	p := NewProject(t, createProject)
	p.Up()
	db := IDs(t, p.Name)[p.ContainerName("db", 1)]

	p.Compose("--dry-run", "--progress", "plain", "scale", "web=3").Success(t).
		Mentions(t, "DRY-RUN MODE - ", "Container "+p.ContainerName("web", 3)+"  Started")
	if n := len(IDs(t, p.Name)); n != 2 {
		t.Fatalf("a dry run of scale changed the containers: %d", n)
	}

	p.Compose("scale", "web=3").Success(t)
	ids := IDs(t, p.Name)
	for n := 1; n <= 3; n++ {
		if s := containerState(p.ContainerName("web", n)); s != "running" {
			t.Errorf("web-%d is %q after scale web=3", n, s)
		}
	}
	if ids[p.ContainerName("db", 1)] != db || len(ids) != 4 {
		t.Errorf("after scale web=3: %v (db was %s)", ids, db)
	}

	p.Compose("scale", "web=1").Success(t)
	Eventually(t, 30*time.Second, func() bool { return len(IDs(t, p.Name)) == 2 }, "web to be scaled down to 1")
	if _, ok := IDs(t, p.Name)[p.ContainerName("web", 1)]; !ok {
		t.Error("scaling down removed web-1, want the highest numbers removed")
	}

	p.Compose("scale", "nope=2").Failure(t, 1).Mentions(t, "no such service: nope")
	r := p.Compose("scale", "web=x").Failure(t, 1)
	if !strings.Contains(r.Stderr, "web=x") {
		t.Errorf("a bad scale value is not named:\n%s", r)
	}
}

// TestLoadErrorPointsAtTheLine checks a misspelt key in an override file:
// the error names the override's file:line:col and suggests the key, and
// on a terminal shows the line with a caret under it.
func TestLoadErrorPointsAtTheLine(t *testing.T) {
	t.Parallel()
	p := NewProject(t, "services:\n  web:\n    image: IMAGE\n    environment:\n      PASSWORD: hunter2\n")
	override := p.WriteFile("compose.override.yaml", "services:\n  web:\n    restrat: always\n    healthcheck:\n      timeout: 5 seconds\n")
	r := p.Compose("up", "-d").Failure(t, 1)
	r.Mentions(t, override+":3:5: services.web.restrat: unknown key; did you mean `restart`?")
	if strings.Contains(r.Combined(), "hunter2") {
		t.Errorf("the error shows a secret:\n%s", r)
	}
	s := newTmuxSession(t, p.Dir, shellQuote(composerBin)+" -p "+p.Name+" config; echo EXIT=$?; sleep 600")
	screen := s.waitFor(30*time.Second, "EXIT=")
	if !strings.Contains(screen, "    restrat: always\n    ^") || !strings.Contains(screen, "EXIT=1") {
		t.Errorf("the terminal does not show the line with a caret:\n%s", screen)
	}
}
