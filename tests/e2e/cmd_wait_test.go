package e2e

import (
	"testing"
)

// waitProject has a service that turns healthy after two seconds and one without a healthcheck.
const waitProject = `
services:
  web:
    image: IMAGE
    command: ["healthy-after", "2s"]
    healthcheck:
      test: ["CMD", "/app", "check", "/tmp/healthy"]
      interval: 500ms
      timeout: 2s
      retries: 30
  plain:
    image: IMAGE
`

func TestCmdUpWaitReturnsWhenHealthy(t *testing.T) {
	t.Parallel()
	p := NewProject(t, waitProject)
	p.Compose("up", "--wait").Success(t)
	web := p.ContainerName("web", 1)
	if h := Ready(t, web); h != "healthy" {
		t.Errorf("right after up --wait, %s is %q, want healthy", web, h)
	}
	if st := containerState(p.ContainerName("plain", 1)); st != "running" {
		t.Errorf("right after up --wait, plain is %q, want running", st)
	}
}

func TestCmdUpWaitCountsOneShotExitZeroAsDone(t *testing.T) {
	t.Parallel()
	// The job has ended long before web is healthy: an exit 0 is done, not
	// a failure.
	p := NewProject(t, `
services:
  job:
    image: IMAGE
    command: ["exit", "0"]
  web:
    image: IMAGE
    command: ["healthy-after", "2s"]
    healthcheck:
      test: ["CMD", "/app", "check", "/tmp/healthy"]
      interval: 500ms
      retries: 30
`)
	p.Compose("up", "--wait").Success(t)
	if code := inspectField(p.ContainerName("job", 1), "{{.State.Status}} {{.State.ExitCode}}"); code != "exited 0" {
		t.Errorf("job is %q after up --wait, want exited 0", code)
	}
	if h := Ready(t, p.ContainerName("web", 1)); h != "healthy" {
		t.Errorf("web is %q after up --wait, want healthy", h)
	}
}

func TestCmdUpWaitFailsOnOneShotFailure(t *testing.T) {
	t.Parallel()
	// The job is still running when up has started everything, and fails
	// long before web is healthy: when up --wait returns, the project is
	// not up, so it must not report success.
	p := NewProject(t, `
services:
  job:
    image: IMAGE
    command: ["exit", "3", "500ms"]
  web:
    image: IMAGE
    command: ["healthy-after", "8s"]
    healthcheck:
      test: ["CMD", "/app", "check", "/tmp/healthy"]
      interval: 500ms
      retries: 60
`)
	r := p.Compose("up", "--wait")
	if r.ExitCode == 0 {
		t.Errorf("up --wait with a service exiting 3: want failure:\n%s", r)
	}
	r.Mentions(t, p.ContainerName("job", 1))
}

func TestCmdUpWaitTimeoutNamesTheContainer(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  never:
    image: IMAGE
    command: ["healthy-after", "1h"]
    healthcheck:
      test: ["CMD", "/app", "check", "/tmp/healthy"]
      interval: 500ms
      retries: 1000
  fine:
    image: IMAGE
`)
	r := p.Compose("up", "--wait", "--wait-timeout", "3")
	if r.ExitCode == 0 {
		t.Fatalf("up --wait --wait-timeout 3 with a never healthy service succeeded:\n%s", r)
	}
	r.Mentions(t, p.ContainerName("never", 1))
}

func TestCmdStartWait(t *testing.T) {
	t.Parallel()
	p := NewProject(t, waitProject)
	p.Up()
	p.Compose("stop", "-t", "1").Success(t)
	web := p.ContainerName("web", 1)
	if st := containerState(web); st != "exited" {
		t.Fatalf("%s is %q after stop", web, st)
	}
	p.Compose("start", "--wait").Success(t)
	if h := inspectField(web, "{{.State.Health.Status}}"); h != "healthy" {
		t.Errorf("right after start --wait, %s is %q, want healthy", web, h)
	}
}
