package e2e

import (
	"testing"
	"time"
)

func TestDownRemovesContainersAndNetworks(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  db:
    image: IMAGE
  web:
    image: IMAGE
    depends_on: [db]
    networks: [default, back]
networks:
  back: {}
`)
	p.Up()
	p.Compose("down").Success(t)
	if cs := ContainerNames(t, p.Name); len(cs) > 0 {
		t.Errorf("down left containers %v", cs)
	}
	if ns := ProjectNetworks(t, p.Name); len(ns) > 0 {
		t.Errorf("down left networks %v", ns)
	}
}

func TestDownStopsDependentsFirst(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  db:
    image: IMAGE
  web:
    image: IMAGE
    depends_on: [db]
`)
	p.Up()
	// Watch the engine's die events while down runs: web must die before db.
	events := startEvents(t, p.Name)
	p.Compose("down").Success(t)
	order := events.dieOrder(t, 2)
	if len(order) != 2 || order[0] != "web" || order[1] != "db" {
		t.Errorf("die order = %v, want [web db]", order)
	}
}

func TestDownTwiceIsFine(t *testing.T) {
	t.Parallel()
	p := NewProject(t, "services:\n  app:\n    image: IMAGE\n")
	p.Up()
	p.Compose("down").Success(t)
	p.Compose("down").Success(t)
	p.Compose("down", "-v", "--remove-orphans").Success(t)
}

func TestDownByProjectNameWithoutComposeFile(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  app:
    image: IMAGE
    volumes: [data:/data]
  other:
    image: IMAGE
volumes:
  data: {}
`)
	p.Up()
	empty := t.TempDir()
	RunComposer(t, Cmd{Dir: empty, Args: []string{"-p", p.Name, "down", "-v"}}).Success(t)
	AssertNothingCreated(t, p.Name)
}

func TestDownTouchesOnlyItsProject(t *testing.T) {
	t.Parallel()
	const content = "services:\n  app:\n    image: IMAGE\n"
	p := NewProject(t, content)
	q := NewProject(t, content)
	p.Up()
	q.Up()
	p.Compose("down", "-v", "--remove-orphans").Success(t)
	if !ContainerExists(q.ContainerName("app", 1)) || !NetworkExists(q.Name+"_default") {
		t.Errorf("down of %s removed resources of %s", p.Name, q.Name)
	}
}

func TestDownTimeoutFlag(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  stubborn:
    image: IMAGE
    stop_signal: SIGUSR1
`)
	p.Up()
	// The test program ignores SIGUSR1, so only the kill after -t ends it.
	start := time.Now()
	p.Compose("down", "-t", "1").Success(t)
	if d := time.Since(start); d > 8*time.Second {
		t.Errorf("down -t 1 took %s; the default 10s timeout was used", d)
	}
	if ContainerExists(p.ContainerName("stubborn", 1)) {
		t.Errorf("down -t 1 left the container")
	}
}
