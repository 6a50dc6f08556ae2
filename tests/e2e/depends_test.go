package e2e

import (
	"strings"
	"testing"
	"time"
)

// notStarted reports whether the container never started: either it does
// not exist or the engine has no start time for it.
func notStarted(t *testing.T, name string) bool {
	t.Helper()
	if !ContainerExists(name) {
		return true
	}
	return InspectContainer(t, name).State.StartedAt.Year() < 2000
}

func TestDependsOnServiceStartedStartsDependencyFirst(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  web:
    image: IMAGE
    command: ["stamp", "/stamps/order"]
    volumes: [stamps:/stamps]
    depends_on: [api]
  api:
    image: IMAGE
    command: ["stamp", "/stamps/order"]
    volumes: [stamps:/stamps]
    depends_on:
      db:
        condition: service_started
  db:
    image: IMAGE
    command: ["stamp", "/stamps/order"]
    volumes: [stamps:/stamps]
volumes:
  stamps: {}
`)
	p.Up()
	db := InspectContainer(t, p.ContainerName("db", 1))
	api := InspectContainer(t, p.ContainerName("api", 1))
	web := InspectContainer(t, p.ContainerName("web", 1))
	if api.State.StartedAt.Before(db.State.StartedAt) || web.State.StartedAt.Before(api.State.StartedAt) {
		t.Errorf("start order wrong: db %s, api %s, web %s", db.State.StartedAt, api.State.StartedAt, web.State.StartedAt)
	}
	// The engine's start time is when the process was launched; the stamps
	// in the shared volume confirm the processes themselves ran in order.
	var order string
	Eventually(t, 10*time.Second, func() bool {
		var ok bool
		order, ok = Exec(web.Name, "read", "/stamps/order")
		return ok && len(splitLines(order)) == 3
	}, "three stamps")
	want := []string{db.Config.Hostname, api.Config.Hostname, web.Config.Hostname}
	for i, line := range splitLines(order) {
		if host := lastField(line); host != want[i] {
			t.Errorf("stamp %d from %s, want %s (db, api, web):\n%s", i, host, want[i], order)
		}
	}
}

func TestDependsOnServiceHealthyWaitsForHealth(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  db:
    image: IMAGE
    command: ["healthy-after", "2s"]
    healthcheck:
      test: ["CMD", "/app", "check", "/tmp/healthy"]
      interval: 500ms
      timeout: 2s
      retries: 20
  app:
    image: IMAGE
    depends_on:
      db:
        condition: service_healthy
`)
	p.Up()
	db := InspectContainer(t, p.ContainerName("db", 1))
	app := InspectContainer(t, p.ContainerName("app", 1))
	if h := Ready(t, db.Name); h != "healthy" {
		t.Errorf("db health = %s when up returned, want healthy", h)
	}
	if gap := app.State.StartedAt.Sub(db.State.StartedAt); gap < 2*time.Second {
		t.Errorf("app started %s after db, before db could be healthy (2s)", gap)
	}
	if !app.State.Running {
		t.Errorf("app is %s", app.State.Status)
	}
}

func TestDependsOnServiceCompletedSuccessfullyWaitsForExit(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  migrate:
    image: IMAGE
    command: ["exit", "0", "1500ms"]
  app:
    image: IMAGE
    depends_on:
      migrate:
        condition: service_completed_successfully
`)
	p.Up()
	m := InspectContainer(t, p.ContainerName("migrate", 1))
	app := InspectContainer(t, p.ContainerName("app", 1))
	if m.State.Status != "exited" || m.State.ExitCode != 0 {
		t.Fatalf("migrate is %s (exit %d), want exited 0", m.State.Status, m.State.ExitCode)
	}
	if app.State.StartedAt.Before(m.State.FinishedAt) {
		t.Errorf("app started at %s, before migrate finished at %s", app.State.StartedAt, m.State.FinishedAt)
	}
}

func TestFailedCompletionStopsDependents(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  migrate:
    image: IMAGE
    command: ["exit", "3"]
  app:
    image: IMAGE
    depends_on:
      migrate:
        condition: service_completed_successfully
`)
	r := p.Compose("up", "-d")
	if r.ExitCode == 0 {
		t.Fatalf("up succeeded though migrate exited 3:\n%s", r)
	}
	r.Mentions(t, "migrate", "3")
	if !notStarted(t, p.ContainerName("app", 1)) {
		t.Errorf("app was started though its dependency failed")
	}
}

func TestUnhealthyDependencyStopsDependents(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  db:
    image: IMAGE
    healthcheck:
      test: ["CMD", "/app", "check", "/never"]
      interval: 300ms
      timeout: 1s
      retries: 2
  app:
    image: IMAGE
    depends_on:
      db:
        condition: service_healthy
`)
	r := p.Compose("up", "-d")
	if r.ExitCode == 0 {
		t.Fatalf("up succeeded though db is unhealthy:\n%s", r)
	}
	r.Mentions(t, "db")
	if !notStarted(t, p.ContainerName("app", 1)) {
		t.Errorf("app was started though db is unhealthy")
	}
}

func TestServiceHealthyWithoutHealthcheckIsAnError(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  db:
    image: IMAGE
  app:
    image: IMAGE
    depends_on:
      db:
        condition: service_healthy
`)
	r := p.Compose("up", "-d")
	if r.ExitCode == 0 {
		t.Fatalf("up succeeded though db has no healthcheck:\n%s", r)
	}
	r.Mentions(t, "db")
	if !notStarted(t, p.ContainerName("app", 1)) {
		t.Errorf("app was started though db cannot become healthy")
	}
}

func TestDependencyExitingWhileWaitingForHealthIsAnError(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  db:
    image: IMAGE
    command: ["exit", "1", "500ms"]
    healthcheck:
      test: ["CMD", "/app", "check", "/tmp/healthy"]
      interval: 5s
  app:
    image: IMAGE
    depends_on:
      db:
        condition: service_healthy
`)
	start := time.Now()
	r := p.Compose("up", "-d")
	if r.ExitCode == 0 {
		t.Fatalf("up succeeded though db exited:\n%s", r)
	}
	r.Mentions(t, "db")
	if !notStarted(t, p.ContainerName("app", 1)) {
		t.Errorf("app was started though db exited")
	}
	if d := time.Since(start); d > 60*time.Second {
		t.Errorf("up took %s to notice that db exited", d)
	}
}

func TestOptionalDependencyOutsideActiveProfilesIsSkipped(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  cache:
    image: IMAGE
    profiles: [extra]
  app:
    image: IMAGE
    depends_on:
      cache:
        condition: service_started
        required: false
`)
	p.Up()
	if !InspectContainer(t, p.ContainerName("app", 1)).State.Running {
		t.Errorf("app is not running")
	}
	if ContainerExists(p.ContainerName("cache", 1)) {
		t.Errorf("cache was created though its profile is not active")
	}
}

func TestOptionalFailingDependencyDoesNotStopDependents(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  broken:
    image: IMAGE
    command: ["exit", "2"]
  app:
    image: IMAGE
    depends_on:
      broken:
        condition: service_completed_successfully
        required: false
`)
	r := p.Compose("up", "-d")
	if !InspectContainer(t, p.ContainerName("app", 1)).State.Running {
		t.Errorf("app is not running though its failing dependency is optional:\n%s", r)
	}
}

func splitLines(s string) []string { return strings.Fields(strings.ReplaceAll(s, " ", "\x00")) }

func lastField(line string) string {
	f := strings.Split(line, "\x00")
	return f[len(f)-1]
}
