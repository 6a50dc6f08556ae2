package e2e

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// The wait command (not up --wait, which cmd_wait_test.go covers).

// first and second run until stopped, and then exit with 3 and 5.
const waitCmdProject = `
services:
  first:
    image: IMAGE
    command: ["exit", "3", "10m"]
  second:
    image: IMAGE
    command: ["exit", "5", "10m"]
  idle:
    image: IMAGE
    volumes: [data:/data]
volumes:
  data: {}
`

// startWait starts composer wait args... in the background, and gives it
// the time to list the containers it waits for: it tells nothing until
// one stops.
func startWait(p *Project, args ...string) *bgComposer {
	w := p.StartCompose(append([]string{"wait"}, args...)...)
	time.Sleep(2 * time.Second)
	return w
}

var waitLine = regexp.MustCompile(`^container "([0-9a-f]{64})" exited with status code (\d+)$`)

// TestWaitCmdExitsWithTheLastCode checks docker compose's semantics on
// the real engine: wait returns once all the named services' containers
// have stopped, with a line for each, and the code of the last.
func TestWaitCmdExitsWithTheLastCode(t *testing.T) {
	t.Parallel()
	p := NewProject(t, waitCmdProject)
	p.Up()
	w := startWait(p, "first", "second")
	Docker(t, "stop", p.ContainerName("first", 1))
	w.WaitFor(30*time.Second, "exited with status code 3")
	if !w.Running() {
		t.Fatalf("wait ended when first stopped, before second:\n%s", w.result())
	}
	Docker(t, "stop", p.ContainerName("second", 1))
	r := w.Wait(30 * time.Second)
	if r.ExitCode != 5 {
		t.Errorf("exit code %d, want the last one's 5:\n%s", r.ExitCode, r)
	}
	lines := nonEmptyLines(r.Stdout)
	want := []string{
		inspectField(p.ContainerName("first", 1), "{{.Id}}") + " 3",
		inspectField(p.ContainerName("second", 1), "{{.Id}}") + " 5",
	}
	var got []string
	for _, l := range lines {
		m := waitLine.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("line %q is not docker compose's `container \"ID\" exited with status code N`:\n%s", l, r)
		}
		got = append(got, m[1]+" "+m[2])
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines %q, want %q (in the order they stopped)", got, want)
	}
	if st := containerState(p.ContainerName("idle", 1)); st != "running" {
		t.Errorf("idle is %q after wait, want running", st)
	}
}

// TestWaitCmdDownProject checks that --down-project takes the project
// down once the containers stop, and keeps its volumes as compose does.
func TestWaitCmdDownProject(t *testing.T) {
	t.Parallel()
	p := NewProject(t, waitCmdProject)
	p.Up()
	w := startWait(p, "--down-project", "first")
	Docker(t, "stop", p.ContainerName("first", 1))
	if r := w.Wait(60 * time.Second); r.ExitCode != 3 {
		t.Errorf("exit code %d, want first's 3:\n%s", r.ExitCode, r)
	}
	if left := Docker(t, "ps", "-aq", "--filter", "label=com.docker.compose.project="+p.Name); left != "" {
		t.Errorf("containers left after wait --down-project: %s", left)
	}
	if nets := Docker(t, "network", "ls", "-q", "--filter", "label=com.docker.compose.project="+p.Name); nets != "" {
		t.Errorf("networks left after wait --down-project: %s", nets)
	}
	if vols := Docker(t, "volume", "ls", "-q", "--filter", "label=com.docker.compose.project="+p.Name); vols == "" {
		t.Errorf("the named volume was removed: down without -v keeps it")
	}
}

// TestWaitCmdNothingRunning checks the error when no container of the
// services runs.
func TestWaitCmdNothingRunning(t *testing.T) {
	t.Parallel()
	p := NewProject(t, waitCmdProject)
	p.Up("first")
	Docker(t, "stop", p.ContainerName("first", 1))
	p.Compose("wait", "first").Failure(t, 1).Mentions(t, `no containers for project "`+p.Name+`"`)
}
