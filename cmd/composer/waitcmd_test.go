package main

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/engine/fake"
)

const waitYAML = `services:
  web:
    image: web-img
  db:
    image: db-img
  idle:
    image: idle-img
`

// newWaitCLI brings up a project where web exits with 3 after a moment,
// db with 5 a moment later, and idle runs until stopped.
func newWaitCLI(t *testing.T) *cli {
	t.Helper()
	c := newCLI(t, waitYAML)
	for _, img := range []string{"web-img", "db-img", "idle-img"} {
		c.eng.AddImage(img)
	}
	c.eng.OnStart("web-img", fake.Behaviour{Exit: true, ExitCode: 3, ExitAfter: 100 * time.Millisecond})
	c.eng.OnStart("db-img", fake.Behaviour{Exit: true, ExitCode: 5, ExitAfter: 300 * time.Millisecond})
	c.must("up", "-d")
	return c
}

var exitedLine = regexp.MustCompile(`^container "([0-9a-f]{64})" exited with status code (\d+)$`)

// TestWaitExitCodeOfTheLastToStop checks docker compose's semantics: wait
// returns once every named service's running containers have stopped,
// says so for each as it stops, and exits with the code of the last.
func TestWaitExitCodeOfTheLastToStop(t *testing.T) {
	t.Parallel()
	c := newWaitCLI(t)
	r := c.run("wait", "web", "db")
	if r.code != 5 {
		t.Fatalf("exit code %d, want db's 5 (the last to stop):\n%s", r.code, r)
	}
	web, _ := c.inspect("proj-web-1")
	db, _ := c.inspect("proj-db-1")
	lines := nonEmpty(r.stdout)
	want := []string{
		`container "` + web.ID + `" exited with status code 3`,
		`container "` + db.ID + `" exited with status code 5`,
	}
	if !slices.Equal(lines, want) {
		t.Errorf("stdout lines %q, want %q", lines, want)
	}
	for _, l := range lines {
		if !exitedLine.MatchString(l) {
			t.Errorf("line %q is not in docker compose's form", l)
		}
	}
	if d, _ := c.inspect("proj-idle-1"); d.State != engine.StateRunning {
		t.Errorf("idle is %q, want it untouched", d.State)
	}
}

func TestWaitOneService(t *testing.T) {
	t.Parallel()
	c := newWaitCLI(t)
	r := c.run("wait", "web")
	if r.code != 3 {
		t.Fatalf("exit code %d, want web's 3:\n%s", r.code, r)
	}
	if len(nonEmpty(r.stdout)) != 1 {
		t.Errorf("want one line, for web:\n%s", r)
	}
}

// TestWaitStoppedByAnother checks that wait sees a stop that happens
// while it waits, and exits 0 for a container that stopped with 0.
func TestWaitStoppedByAnother(t *testing.T) {
	t.Parallel()
	c := newWaitCLI(t)
	c.eng.ResetCalls()
	done := make(chan result, 1)
	go func() { done <- c.run("wait", "idle") }()
	c.eventually("wait watches events", func() bool { return c.eng.Calls("Events") > 0 })
	if err := c.eng.Exit("proj-idle-1", 0); err != nil {
		t.Fatal(err)
	}
	r := waitResult(t, done)
	if r.code != 0 || !strings.Contains(r.stdout, "exited with status code 0") {
		t.Errorf("want exit 0 and the container's line:\n%s", r)
	}
}

func TestWaitErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no service", []string{"wait"}, "requires at least 1 arg"},
		{"unknown service", []string{"wait", "nosuch"}, "no such service: nosuch"},
		// Compose waits for running containers only, and says so when
		// there is none.
		{"nothing running", []string{"wait", "web"}, `no containers for project "proj"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newCLI(t, waitYAML)
			r := c.run(tt.args...)
			if r.code != 1 || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("want exit 1 saying %q:\n%s", tt.want, r)
			}
		})
	}
}

// TestWaitDownProject checks that --down-project takes the whole project
// down once the containers stop, orphans included, keeping its volumes,
// and still exits with the container's code.
func TestWaitDownProject(t *testing.T) {
	t.Parallel()
	c := newWaitCLI(t)
	c.write("compose.yaml", waitYAML+"volumes:\n  data: {}\n")
	r := c.run("wait", "--down-project", "web")
	if r.code != 3 {
		t.Fatalf("exit code %d, want web's 3:\n%s", r.code, r)
	}
	if names := c.containerNames("proj"); len(names) != 0 {
		t.Errorf("containers left after --down-project: %v", names)
	}
	nets, err := c.eng.ListNetworks(t.Context(), engine.Filter{Labels: map[string]string{"com.docker.compose.project": "proj"}})
	if err != nil || len(nets) != 0 {
		t.Errorf("networks left after --down-project: %v (%v)", nets, err)
	}
	if !strings.Contains(r.stderr, "Removed") {
		t.Errorf("down's progress not shown:\n%s", r)
	}
}

// TestWaitDownProjectDryRun checks that a dry run waits for real and only
// pretends the down.
func TestWaitDownProjectDryRun(t *testing.T) {
	t.Parallel()
	c := newWaitCLI(t)
	r := c.run("--dry-run", "wait", "--down-project", "web")
	if r.code != 3 {
		t.Fatalf("exit code %d, want web's 3:\n%s", r.code, r)
	}
	if !strings.Contains(r.stderr, dryRunMark) {
		t.Errorf("the dry run's down is not marked:\n%s", r)
	}
	if names := c.containerNames("proj"); len(names) != 3 {
		t.Errorf("a dry run removed containers: left %v", names)
	}
}

// TestWaitInterrupted checks that Ctrl-C ends wait with 130, leaving the
// containers alone.
func TestWaitInterrupted(t *testing.T) {
	t.Parallel()
	c := newWaitCLI(t)
	c.eng.ResetCalls()
	interrupts := make(chan os.Signal, 1)
	done := make(chan result, 1)
	go func() { done <- c.runWithInterrupts(interrupts, "wait", "--down-project", "idle") }()
	c.eventually("wait watches events", func() bool { return c.eng.Calls("Events") > 0 })
	interrupts <- os.Interrupt
	r := waitResult(t, done)
	if r.code != 130 {
		t.Errorf("exit code %d, want 130:\n%s", r.code, r)
	}
	if d, _ := c.inspect("proj-idle-1"); d.State != engine.StateRunning {
		t.Errorf("idle is %q after an interrupted wait, want running (no down)", d.State)
	}
}

func nonEmpty(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}
