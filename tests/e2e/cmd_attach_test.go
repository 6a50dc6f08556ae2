package e2e

import (
	"os"
	"strings"
	"testing"
	"time"
)

// attachProject's web prints a line a few seconds after it starts, after
// attach has connected, and runs until signalled (exiting 0 on SIGINT
// and SIGTERM); tty is the same with a terminal and stdin open.
const attachProject = `
services:
  web:
    image: IMAGE
    command: ["healthy-after", "3s"]
  tty:
    image: IMAGE
    command: ["healthy-after", "3s"]
    tty: true
    stdin_open: true
`

// TestAttachCmdShowsOutputAndExitCode checks that attach shows what the
// container prints from then on, and exits with its code when it stops.
func TestAttachCmdShowsOutputAndExitCode(t *testing.T) {
	t.Parallel()
	p := NewProject(t, attachProject)
	p.Up("web")
	at := p.StartCompose("attach", "web")
	at.WaitFor(30*time.Second, "healthy: created /tmp/healthy")
	Docker(t, "kill", "-s", "KILL", p.ContainerName("web", 1))
	if r := at.Wait(30 * time.Second); r.ExitCode != 137 {
		t.Errorf("exit code %d, want the container's 137:\n%s", r.ExitCode, r)
	}
}

// TestAttachCmdSigProxy checks that Ctrl-C reaches the container's
// process by default (it ends with 0, and so does attach), and that with
// --sig-proxy=false it ends attach alone (130) and the container runs on.
func TestAttachCmdSigProxy(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		args     []string
		wantCode int
		state    string
	}{
		{"proxied", []string{"attach", "web"}, 0, "exited"},
		{"not proxied", []string{"attach", "--sig-proxy=false", "web"}, 130, "running"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := NewProject(t, attachProject)
			p.Up("web")
			at := p.StartCompose(tt.args...)
			at.WaitFor(30*time.Second, "healthy: created")
			at.Signal(os.Interrupt)
			if r := at.Wait(30 * time.Second); r.ExitCode != tt.wantCode {
				t.Errorf("exit code %d, want %d:\n%s", r.ExitCode, tt.wantCode, r)
			}
			name := p.ContainerName("web", 1)
			Eventually(t, 10*time.Second, func() bool { return containerState(name) == tt.state }, name+" to be "+tt.state)
			if tt.state == "exited" {
				if code := inspectField(name, "{{.State.ExitCode}}"); code != "0" {
					t.Errorf("%s exited with %s, want 0 (its SIGINT handler)", name, code)
				}
			}
		})
	}
}

// TestAttachCmdNoStdin checks --no-stdin: a container with a TTY wants a
// terminal on our side for its input, which a pipe is not; without its
// input, attach works from anywhere.
func TestAttachCmdNoStdin(t *testing.T) {
	t.Parallel()
	p := NewProject(t, attachProject)
	p.Up("tty")
	p.Compose("attach", "tty").Failure(t, 1).Mentions(t, "not a TTY")
	at := p.StartCompose("attach", "--no-stdin", "tty")
	at.WaitFor(30*time.Second, "healthy: created")
	Docker(t, "stop", p.ContainerName("tty", 1))
	if r := at.Wait(30 * time.Second); r.ExitCode != 0 {
		t.Errorf("exit code %d, want the container's 0:\n%s", r.ExitCode, r)
	}
}

// TestAttachCmdTerminal drives attach from a terminal: the detach keys
// (the default, then --detach-keys) leave the container running with exit
// 0, and Ctrl-C goes through the container's terminal to its process.
func TestAttachCmdTerminal(t *testing.T) {
	t.Parallel()
	p := NewProject(t, attachProject)
	name := p.ContainerName("tty", 1)
	bin := shellQuote(composerBin) + " -p " + p.Name
	for i, tt := range []struct {
		args  string
		keys  []string
		state string
	}{
		{"attach tty", []string{"C-p", "C-q"}, "running"},
		{"attach --detach-keys ctrl-x,a tty", []string{"C-x", "a"}, "running"},
		{"attach tty", []string{"C-c"}, "exited"},
	} {
		// A fresh start for each, so that its line comes after attach.
		p.Compose("up", "-d", "--force-recreate", "tty").Success(t)
		mark := "EXIT" + itoa(i) + "="
		s := newTmuxSession(t, p.Dir, bin+" "+tt.args+"; echo "+mark+"$?; sleep 600")
		s.waitFor(30*time.Second, "healthy: created")
		s.sendKeys(tt.keys...)
		screen := s.waitFor(20*time.Second, mark)
		if !strings.Contains(screen, mark+"0") {
			t.Errorf("%s then %v: want exit 0:\n%s", tt.args, tt.keys, screen)
		}
		Eventually(t, 10*time.Second, func() bool { return containerState(name) == tt.state }, name+" to be "+tt.state+" after "+strings.Join(tt.keys, " "))
	}
}
