package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/engine/fake"
)

const attachYAML = `services:
  web:
    image: img
    deploy:
      replicas: 2
`

func newAttachCLI(t *testing.T, b fake.Behaviour) *cli {
	t.Helper()
	c := newCLI(t, attachYAML)
	c.eng.AddImage("img")
	c.eng.OnStart("img", b)
	c.must("up", "-d")
	return c
}

// TestAttachOutputAndExitCode checks that attach shows the container's
// output and exits with its code once it stops.
func TestAttachOutputAndExitCode(t *testing.T) {
	t.Parallel()
	c := newAttachCLI(t, fake.Behaviour{Stdout: "hello\n", Stderr: "oops\n", Exit: true, ExitCode: 7, ExitAfter: 300 * time.Millisecond})
	r := c.run("attach", "web")
	if r.code != 7 {
		t.Fatalf("exit code %d, want the container's 7:\n%s", r.code, r)
	}
	if r.stdout != "hello\n" || r.stderr != "oops\n" {
		t.Errorf("want the container's stdout and stderr on ours:\n%s", r)
	}
}

func TestAttachIndex(t *testing.T) {
	t.Parallel()
	c := newAttachCLI(t, fake.Behaviour{})
	c.eng.ResetCalls()
	done := make(chan result, 1)
	go func() { done <- c.run("attach", "--index", "2", "web") }()
	c.eventually("attach is attached", func() bool { return c.eng.Calls("Attach") > 0 })
	if err := c.eng.Exit("proj-web-2", 2); err != nil {
		t.Fatal(err)
	}
	if r := waitResult(t, done); r.code != 2 {
		t.Errorf("exit code %d, want container 2's 2:\n%s", r.code, r)
	}
	if d, _ := c.inspect("proj-web-1"); d.State != engine.StateRunning {
		t.Errorf("proj-web-1 is %q, want it untouched", d.State)
	}
}

// TestAttachSigProxy checks that Ctrl-C reaches the container's process
// with --sig-proxy (the default), and leaves it running without.
func TestAttachSigProxy(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		args      []string
		wantCode  int
		wantState engine.ContainerState
	}{
		// The process ends on SIGINT with 130, which attach passes on.
		{"proxied", []string{"attach", "web"}, 130, engine.StateExited},
		{"not proxied", []string{"attach", "--sig-proxy=false", "web"}, 130, engine.StateRunning},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newAttachCLI(t, fake.Behaviour{StopExitCode: 130})
			c.eng.ResetCalls()
			interrupts := make(chan os.Signal, 1)
			done := make(chan result, 1)
			go func() { done <- c.runWithInterrupts(interrupts, tt.args...) }()
			c.eventually("attach is attached", func() bool { return c.eng.Calls("Attach") > 0 })
			time.Sleep(50 * time.Millisecond) // for the signal handler to be in place
			interrupts <- os.Interrupt
			r := waitResult(t, done)
			if r.code != tt.wantCode {
				t.Errorf("exit code %d, want %d:\n%s", r.code, tt.wantCode, r)
			}
			if d, _ := c.inspect("proj-web-1"); d.State != tt.wantState {
				t.Errorf("proj-web-1 is %q, want %q", d.State, tt.wantState)
			}
		})
	}
}

func TestAttachErrors(t *testing.T) {
	t.Parallel()
	c := newCLI(t, attachYAML)
	c.eng.AddImage("img")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"attach"}, "accepts 1 arg"},
		{[]string{"attach", "web", "db"}, "accepts 1 arg"},
		{[]string{"attach", "nosuch"}, "no such service: nosuch"},
		{[]string{"attach", "web"}, `service "web" is not running`},
		{[]string{"attach", "--index", "3", "web"}, `service "web" is not running container #3`},
		{[]string{"attach", "--detach-keys", "ctrl-", "web"}, "invalid detach keys"},
		{[]string{"--dry-run", "attach", "web"}, "--dry-run is not supported by attach"},
	} {
		if r := c.run(tt.args...); r.code != 1 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("want exit 1 saying %q:\n%s", tt.want, r)
		}
	}
}
