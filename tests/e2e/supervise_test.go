package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// superviseProject has db, opted in to autoheal, healthy while the file
// it writes to its volume at each start is there; api restarts with it;
// other depends on it without restart.
const superviseProject = `
services:
  db:
    image: IMAGE
    command: ["stamp", "/data/ok"]
    labels: {autoheal: "true"}
    volumes: [data:/data]
    healthcheck:
      test: ["CMD", "/app", "check", "/data/ok"]
      interval: 1s
      timeout: 5s
      retries: 2
      # A slow start on a loaded engine does not count against it.
      start_period: 30s
  api:
    image: IMAGE
    depends_on:
      db: {condition: service_healthy, restart: true}
  other:
    image: IMAGE
    depends_on:
      db: {condition: service_healthy}
volumes:
  data: {}
`

// breakHealth removes, from the host, the file db's health check looks
// for: the test runs as root beside the engine, so the volume's
// directory is at hand.
func breakHealth(t *testing.T, p *Project) {
	t.Helper()
	dir := Docker(t, "volume", "inspect", "-f", "{{.Mountpoint}}", p.Name+"_data")
	if err := os.Remove(filepath.Join(dir, "ok")); err != nil {
		t.Fatalf("breaking db's health: %v", err)
	}
}

func TestSuperviseHealsAndCascades(t *testing.T) {
	t.Parallel()
	p := NewProject(t, superviseProject)
	p.Up("--wait")
	db, api, other := p.ContainerName("db", 1), p.ContainerName("api", 1), p.ContainerName("other", 1)
	sup := p.StartCompose("--progress", "plain", "supervise")
	sup.WaitFor(30*time.Second, "supervising project "+p.Name)
	time.Sleep(500 * time.Millisecond) // following the events

	// Only one supervisor acts on a project.
	p.Compose("supervise").Failure(t, 1).Mentions(t, "supervised already")

	dbBefore, apiBefore, otherBefore := startedAt(t, db), startedAt(t, api), startedAt(t, other)
	breakHealth(t, p)
	Eventually(t, 60*time.Second, func() bool {
		return startedAt(t, api).After(apiBefore) && Ready(t, db) == "healthy"
	}, "db to be restarted and healthy, and api restarted after it")
	dbAfter := startedAt(t, db)
	if !dbAfter.After(dbBefore) {
		t.Fatal("db was not restarted")
	}
	if !startedAt(t, api).After(dbAfter) {
		t.Errorf("api restarted at %s, before db at %s", startedAt(t, api), dbAfter)
	}
	sup.WaitFor(30*time.Second, "Container "+api+"  Restarted (its dependency db restarted)")
	if out := sup.Stderr(); !strings.Contains(out, "Container "+db+"  Restarted (unhealthy for 2 checks)") {
		t.Errorf("the supervisor does not say why db restarted:\n%s", out)
	}

	// A restart by someone else cascades the same way.
	apiBefore = startedAt(t, api)
	Docker(t, "restart", db)
	Eventually(t, 60*time.Second, func() bool { return startedAt(t, api).After(apiBefore) }, "api to restart after docker restart db")
	if !startedAt(t, api).After(startedAt(t, db)) {
		t.Errorf("api restarted before db was back")
	}
	if !startedAt(t, other).Equal(otherBefore) {
		t.Errorf("other, without restart: true, was restarted")
	}

	// Ctrl-C ends supervising with 130 and leaves the project running.
	sup.Signal(syscall.SIGINT)
	if r := sup.Wait(30 * time.Second); r.ExitCode != 130 {
		t.Errorf("supervise after Ctrl-C: exit %d, want 130:\n%s", r.ExitCode, r)
	}
	for _, c := range []string{db, api, other} {
		if s := containerState(c); s != "running" {
			t.Errorf("%s is %q after supervise ended, want running", c, s)
		}
	}
}

func TestSuperviseBacksOffThenGivesUp(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  flaky:
    image: IMAGE
    command: ["stamp", "/data/starts"]
    labels: {autoheal: "true"}
    volumes: [data:/data]
    healthcheck:
      test: ["CMD", "/app", "check", "/data/never"]
      interval: 500ms
      timeout: 5s
      retries: 1
volumes:
  data: {}
`)
	p.Up()
	name := p.ContainerName("flaky", 1)
	sup := p.StartCompose("--progress", "plain", "supervise", "--backoff", "1s", "--max-restarts", "2")
	sup.WaitFor(60*time.Second, "not restarted any more")
	// The first restart at once, then after 1 s, after 2 s, then no more.
	restarts := strings.Count(sup.Stderr(), "Container "+name+"  Restarted")
	if restarts != 3 {
		t.Errorf("%d restarts before giving up, want 3:\n%s", restarts, sup.Stderr())
	}
	for _, d := range []string{"restart 2 in a row, after 1s", "restart 3 in a row, after 2s"} {
		if !strings.Contains(sup.Stderr(), d) {
			t.Errorf("no back-off %q:\n%s", d, sup.Stderr())
		}
	}
	starts := startedAt(t, name)
	time.Sleep(3 * time.Second)
	if !startedAt(t, name).Equal(starts) {
		t.Error("restarted after giving up")
	}
	sup.Signal(syscall.SIGINT)
	sup.Wait(30 * time.Second)
}
