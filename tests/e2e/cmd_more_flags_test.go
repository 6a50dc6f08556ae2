package e2e

import (
	"strings"
	"testing"
	"time"
)

// ps --filter status=... selects the same containers as --status.
func TestCmdPsFilterStatus(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  web:
    image: IMAGE
  job:
    image: IMAGE
    command: ["exit", "0"]
`)
	p.Up()
	web, job := p.ContainerName("web", 1), p.ContainerName("job", 1)
	Eventually(t, 30*time.Second, func() bool { return containerState(job) == "exited" }, "job to exit")
	r := p.Compose("ps", "--filter", "status=exited").Success(t)
	if !strings.Contains(r.Stdout, job) || strings.Contains(r.Stdout, web) {
		t.Errorf("ps --filter status=exited: want job only:\n%s", r)
	}
	r = p.Compose("ps", "--filter", "status=running").Success(t)
	if strings.Contains(r.Stdout, job) || !strings.Contains(r.Stdout, web) {
		t.Errorf("ps --filter status=running: want web only:\n%s", r)
	}
	p.Compose("ps", "--filter", "name=web").Failure(t, 1).Mentions(t, "status")
}

// logs --since and --until cut a container's log by time: the lines of a
// run before a restart are left out with --since after it, and only they
// remain with --until before the second run.
func TestCmdLogsSinceUntil(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  svc:
    image: IMAGE
    command: ["log", "1", "run"]
`)
	upAndWaitLogs(t, p, "run 1")
	time.Sleep(1100 * time.Millisecond) // timestamps of the two runs must differ
	cut := time.Now().UTC().Format(time.RFC3339Nano)
	time.Sleep(1100 * time.Millisecond)
	p.Compose("restart", "svc").Success(t)
	Eventually(t, 30*time.Second, func() bool {
		return countLine(p.Compose("logs", "--no-color", "--no-log-prefix").Stdout, "run 1") == 2
	}, "the second run's line")
	if got := countLine(p.Compose("logs", "--no-color", "--no-log-prefix", "--since", cut).Stdout, "run 1"); got != 1 {
		t.Errorf("logs --since %s: %d lines of a run, want 1 (the second run only)", cut, got)
	}
	if got := countLine(p.Compose("logs", "--no-color", "--no-log-prefix", "--until", cut).Stdout, "run 1"); got != 1 {
		t.Errorf("logs --until %s: %d lines of a run, want 1 (the first run only)", cut, got)
	}
}

// Attached up of one service shows only its logs, unless
// --attach-dependencies adds those of what it depends on.
func TestCmdUpAttachDependencies(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  dep:
    image: IMAGE
    command: ["log-exit", "1", "from-dep"]
  app:
    image: IMAGE
    command: ["log-exit", "1", "from-app"]
    depends_on:
      dep: {condition: service_completed_successfully}
`)
	r := p.Compose("up", "--no-color", "app").Success(t)
	if !strings.Contains(r.Stdout, "from-app 1") || strings.Contains(r.Stdout, "from-dep 1") {
		t.Errorf("up app: want app's logs only:\n%s", r)
	}
	p.Compose("rm", "-f").Success(t)
	r = p.Compose("up", "--no-color", "--attach-dependencies", "app").Success(t)
	if !strings.Contains(r.Stdout, "from-app 1") || !strings.Contains(r.Stdout, "from-dep 1") {
		t.Errorf("up --attach-dependencies app: want the logs of both:\n%s", r)
	}
}
