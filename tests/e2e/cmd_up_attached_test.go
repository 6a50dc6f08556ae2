package e2e

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestCmdUpAttachedStreamsLogsAndReturnsWhenOneShotsEnd(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  a:
    image: IMAGE
    command: ["log-exit", "3", "alpha"]
  b:
    image: IMAGE
    command: ["exit", "0", "1s"]
`)
	r := p.Compose("up", "--no-color").Success(t)
	a := p.ContainerName("a", 1)
	width := len(p.ContainerName("b", 1))
	for _, want := range []string{"alpha 1", "alpha 2", "alpha 3"} {
		line := a + strings.Repeat(" ", width-len(a)) + " | " + want
		if countLine(r.Stdout, line) != 1 {
			t.Errorf("attached up: want the line %q once on stdout:\n%s", line, r)
		}
	}
	r.Mentions(t, "Attaching to", a+" exited with code 0", p.ContainerName("b", 1)+" exited with code 0")
}

func TestCmdUpAbortOnContainerExitStopsTheOthers(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  server:
    image: IMAGE
  job:
    image: IMAGE
    command: ["exit", "3", "1s"]
`)
	r := p.Compose("up", "--abort-on-container-exit", "-t", "2")
	if r.ExitCode == 0 {
		t.Errorf("up --abort-on-container-exit after a job exiting 3: want a non-zero exit code:\n%s", r)
	}
	r.Mentions(t, "Aborting on container exit")
	if st := containerState(p.ContainerName("server", 1)); st != "exited" {
		t.Errorf("server is %q after the abort, want exited", st)
	}
}

func TestCmdUpExitCodeFrom(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  server:
    image: IMAGE
  job:
    image: IMAGE
    command: ["exit", "5", "1s"]
`)
	p.Compose("up", "--exit-code-from", "job", "-t", "2").Failure(t, 5)
	if st := containerState(p.ContainerName("server", 1)); st != "exited" {
		t.Errorf("server is %q after up --exit-code-from returned, want exited", st)
	}
}

func TestCmdUpExitCodeFromAServiceThatSucceeds(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  server:
    image: IMAGE
  job:
    image: IMAGE
    command: ["exit", "0", "1s"]
`)
	p.Compose("up", "--exit-code-from", "job", "-t", "2").Success(t)
	if st := containerState(p.ContainerName("server", 1)); st != "exited" {
		t.Errorf("server is %q after up --exit-code-from returned, want exited", st)
	}
}

func TestCmdUpAbortOnContainerFailure(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  server:
    image: IMAGE
  fine:
    image: IMAGE
    command: ["exit", "0"]
  failing:
    image: IMAGE
    command: ["exit", "4", "2s"]
`)
	r := p.Compose("up", "--abort-on-container-failure", "-t", "2")
	if r.ExitCode == 0 {
		t.Errorf("up --abort-on-container-failure after a failure: want a non-zero exit code:\n%s", r)
	}
	if st := containerState(p.ContainerName("server", 1)); st != "exited" {
		t.Errorf("server is %q after the abort, want exited", st)
	}
	// The service that exited 0 first did not abort: the failing one ran
	// to its end.
	if code := inspectField(p.ContainerName("failing", 1), "{{.State.ExitCode}}"); code != "4" {
		t.Errorf("failing exited with %q, want 4 (up aborted before it failed?)", code)
	}
}

func TestCmdUpAttachRestrictsLogs(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  shown:
    image: IMAGE
    command: ["log-exit", "2", "visible"]
  hidden:
    image: IMAGE
    command: ["log-exit", "2", "secret"]
`)
	r := p.Compose("up", "--attach", "shown").Success(t)
	r.Mentions(t, "visible 2")
	if strings.Contains(r.Combined(), "secret") {
		t.Errorf("up --attach shown printed the logs of hidden:\n%s", r)
	}
}

func TestCmdUpNoAttachHidesLogs(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  shown:
    image: IMAGE
    command: ["log-exit", "2", "visible"]
  hidden:
    image: IMAGE
    command: ["log-exit", "2", "secret"]
`)
	r := p.Compose("up", "--no-attach", "hidden").Success(t)
	r.Mentions(t, "visible 2")
	if strings.Contains(r.Combined(), "secret") {
		t.Errorf("up --no-attach hidden printed the logs of hidden:\n%s", r)
	}
}

func TestCmdUpAttachedInterruptStopsGracefully(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  a:
    image: IMAGE
    command: ["log", "1", "ready"]
  b:
    image: IMAGE
`)
	up := p.StartCompose("up")
	up.WaitFor(60*time.Second, "Attaching to")
	up.WaitFor(30*time.Second, "ready 1")
	up.Signal(os.Interrupt)
	r := up.Wait(60 * time.Second)
	if r.ExitCode != 130 {
		t.Errorf("attached up after Ctrl-C: exit code %d, want 130:\n%s", r.ExitCode, r)
	}
	r.Mentions(t, "Gracefully stopping")
	for _, s := range []string{"a", "b"} {
		name := p.ContainerName(s, 1)
		if st := containerState(name); st != "exited" {
			t.Errorf("%s is %q after Ctrl-C, want exited (stopped, not removed)", name, st)
		}
	}
}

func TestCmdUpAttachedSecondInterruptKills(t *testing.T) {
	t.Parallel()
	// PID 1 ignores a signal it has no handler for, so stopping with SIGUSR1
	// lasts the whole grace period: only a kill ends it early.
	p := NewProject(t, `
services:
  slow:
    image: IMAGE
    stop_signal: SIGUSR1
    stop_grace_period: 2m
`)
	up := p.StartCompose("up")
	up.WaitFor(60*time.Second, "Attaching to")
	up.Signal(os.Interrupt)
	up.WaitFor(20*time.Second, "Gracefully stopping")
	name := p.ContainerName("slow", 1)
	if st := containerState(name); st != "running" {
		t.Fatalf("%s is %q during its grace period, want running", name, st)
	}
	up.Signal(os.Interrupt)
	r := up.Wait(30 * time.Second)
	if r.ExitCode != 130 {
		t.Errorf("attached up after two Ctrl-C: exit code %d, want 130:\n%s", r.ExitCode, r)
	}
	if got := inspectField(name, "{{.State.Status}} {{.State.ExitCode}}"); got != "exited 137" {
		t.Errorf("%s after the second Ctrl-C: %q, want exited 137 (killed)", name, got)
	}
}
