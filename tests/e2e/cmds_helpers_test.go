package e2e

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe to read while a process writes it.
type lockedBuffer struct {
	// mu keeps reads from seeing a half-done write of the process's pipe copier.
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// bgComposer is a composer process left running in the background (logs -f,
// attached up) whose output can be read while it runs.
type bgComposer struct {
	t      *testing.T
	args   []string
	cmd    *exec.Cmd
	stdout lockedBuffer
	stderr lockedBuffer
	done   chan struct{}
	code   int
}

// StartCompose starts composer -p NAME args... in the project directory
// without waiting for it. The process is killed when the test ends if it is
// still running.
func (p *Project) StartCompose(args ...string) *bgComposer {
	p.t.Helper()
	b := &bgComposer{t: p.t, args: append([]string{"-p", p.Name}, args...), done: make(chan struct{})}
	b.cmd = exec.Command(composerBin, b.args...)
	b.cmd.Dir = p.Dir
	b.cmd.Env = composerEnv(nil)
	b.cmd.Stdout, b.cmd.Stderr = &b.stdout, &b.stderr
	if err := b.cmd.Start(); err != nil {
		p.t.Fatalf("starting composer %v: %v", b.args, err)
	}
	p.t.Logf("composer %s (background, pid %d)", strings.Join(b.args, " "), b.cmd.Process.Pid)
	go func() {
		err := b.cmd.Wait()
		var exitErr *exec.ExitError
		switch {
		case err == nil:
		case errors.As(err, &exitErr):
			b.code = exitErr.ExitCode()
		default:
			b.code = -1
		}
		close(b.done)
	}()
	p.t.Cleanup(func() {
		select {
		case <-b.done:
		default:
			_ = b.cmd.Process.Kill()
			<-b.done
		}
		if p.t.Failed() {
			p.t.Logf("background %s", b.result())
		}
	})
	return b
}

func (b *bgComposer) result() *Result {
	return &Result{Args: b.args, Stdout: b.stdout.String(), Stderr: b.stderr.String(), ExitCode: b.code}
}

// Stdout is what the process printed on its standard output so far.
func (b *bgComposer) Stdout() string { return b.stdout.String() }

// Stderr is what the process printed on its standard error so far.
func (b *bgComposer) Stderr() string { return b.stderr.String() }

// WaitFor waits until the process's combined output holds want.
func (b *bgComposer) WaitFor(timeout time.Duration, want string) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	for !strings.Contains(b.stdout.String()+b.stderr.String(), want) {
		if time.Now().After(deadline) {
			b.t.Fatalf("composer %s: output does not show %q after %s:\n%s", strings.Join(b.args, " "), want, timeout, b.result())
		}
		select {
		case <-b.done:
			if !strings.Contains(b.stdout.String()+b.stderr.String(), want) {
				b.t.Fatalf("composer ended without printing %q:\n%s", want, b.result())
			}
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Signal sends sig to the process.
func (b *bgComposer) Signal(sig os.Signal) {
	b.t.Helper()
	if err := b.cmd.Process.Signal(sig); err != nil {
		b.t.Fatalf("signalling composer: %v", err)
	}
}

// Running reports whether the process has not ended yet.
func (b *bgComposer) Running() bool {
	select {
	case <-b.done:
		return false
	default:
		return true
	}
}

// Wait waits for the process to end and returns what it left behind.
func (b *bgComposer) Wait(timeout time.Duration) *Result {
	b.t.Helper()
	select {
	case <-b.done:
	case <-time.After(timeout):
		b.t.Fatalf("composer %s still running after %s:\n%s", strings.Join(b.args, " "), timeout, b.result())
	}
	r := b.result()
	b.t.Logf("composer %s -> %d", strings.Join(b.args, " "), r.ExitCode)
	return r
}

// inspectField returns docker inspect --format FORMAT NAME, trimmed, or "" if
// the object does not exist.
func inspectField(name, format string) string {
	out, err := docker("inspect", "--format", format, name)
	if err != nil {
		return ""
	}
	return out
}

// containerState is the container's State.Status ("running", "exited"...).
func containerState(name string) string { return inspectField(name, "{{.State.Status}}") }

// nonEmptyLines splits s into lines, dropping empty ones.
func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// countLine counts lines of s equal to line.
func countLine(s, line string) int {
	n := 0
	for _, l := range strings.Split(s, "\n") {
		if l == line {
			n++
		}
	}
	return n
}

// oneoffContainers lists the names of the project's one-off containers.
func oneoffContainers(t *testing.T, project string) []string {
	t.Helper()
	return strings.Fields(Docker(t, "ps", "-a", "--format", "{{.Names}}",
		"--filter", "label="+projectLabel+"="+project, "--filter", "label="+oneoffLabel+"=True"))
}

// removeImagesAtEnd removes the images when the test ends.
func removeImagesAtEnd(t *testing.T, refs ...string) {
	t.Cleanup(func() {
		for _, r := range refs {
			_, _ = docker("image", "rm", "-f", r)
		}
	})
}

// tmuxSession is a terminal session on a tmux server of its own.
type tmuxSession struct {
	t      *testing.T
	socket string
	name   string
}

// newTmuxSession starts shellCmd in a detached 200x50 tmux session in dir,
// on a private server that is killed when the test ends.
func newTmuxSession(t *testing.T, dir, shellCmd string) *tmuxSession {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatalf("tmux is needed for terminal scenarios: %v", err)
	}
	s := &tmuxSession{t: t, socket: "composer-e2e-" + randomSuffix(), name: "main"}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "tmux", "-L", s.socket, "new-session", "-d", "-s", s.name,
		"-x", "200", "-y", "50", "-c", dir, shellCmd)
	cmd.Env = append(composerEnv(nil), "TERM=xterm-256color")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("tmux pane:\n%s", s.capture())
		}
		_ = exec.Command("tmux", "-L", s.socket, "kill-server").Run()
	})
	return s
}

func (s *tmuxSession) capture() string {
	out, _ := exec.Command("tmux", "-L", s.socket, "capture-pane", "-p", "-J", "-S", "-200", "-t", s.name).Output()
	return string(out)
}

// waitFor waits until the pane shows want.
func (s *tmuxSession) waitFor(timeout time.Duration, want string) string {
	s.t.Helper()
	var screen string
	Eventually(s.t, timeout, func() bool {
		screen = s.capture()
		return strings.Contains(screen, want)
	}, "the terminal to show "+want)
	return screen
}

func (s *tmuxSession) sendKeys(keys ...string) {
	s.t.Helper()
	args := append([]string{"-L", s.socket, "send-keys", "-t", s.name}, keys...)
	if out, err := exec.Command("tmux", args...).CombinedOutput(); err != nil {
		s.t.Fatalf("tmux send-keys: %v\n%s", err, out)
	}
}

// shellQuote quotes s for sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
