package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// readIn reads a file in a running container through the image's own
// /app read (the image has no shell); ok is false when it is not there.
func readIn(container, file string) (string, bool) {
	out, err := docker("exec", container, "/app", "read", file)
	return out, err == nil
}

// TestWatch: composer watch brings the project up and keeps a service in
// step with its files: new and changed files arrive, a deleted one goes
// (the image has no rm: the directory is rewritten), an ignored one does
// not arrive, a change of the rebuild path recreates the container from
// a new image, a failing build is reported and watching goes on; the
// service without develop is named; Ctrl-C ends it with 130, as docker
// compose watch, leaving the project running.
func TestWatch(t *testing.T) {
	p := NewProject(t, `
services:
  web:
    build: ./web
    develop:
      watch:
        - path: ./web/static
          action: sync
          target: /srv/static
          ignore: [ignored/]
        - path: ./web/version.txt
          action: rebuild
  db:
    image: IMAGE
`)
	t.Cleanup(func() { _, _ = docker("rmi", "-f", p.Name+"-web") })
	dockerfile := "FROM IMAGE\nCOPY version.txt /version.txt\n"
	p.WriteFile("web/Dockerfile", dockerfile)
	p.WriteFile("web/version.txt", "v1")
	p.WriteFile("web/static/keep.txt", "keep")
	static := filepath.Join(p.Dir, "web", "static")

	w := startWatch(t, p)
	out := &w.out
	web := p.ContainerName("web", 1)
	if !strings.Contains(out.String(), `service "db" has no develop.watch section`) {
		t.Errorf("watch does not say that db is not watched:\n%s", out.String())
	}

	write := func(rel, content string) {
		t.Helper()
		full := filepath.Join(static, rel)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	arrives := func(file, want string) {
		t.Helper()
		Eventually(t, 10*time.Second, func() bool { got, ok := readIn(web, file); return ok && got == want }, file+" = "+want+" in the container")
	}

	// A new file, in a new directory, and a change.
	write("new.txt", "one")
	write("sub/dir/deep.txt", "deep")
	arrives("/srv/static/new.txt", "one")
	arrives("/srv/static/sub/dir/deep.txt", "deep")
	write("new.txt", "two")
	arrives("/srv/static/new.txt", "two")

	// An ignored file does not arrive; a file written after it does.
	write("ignored/secret.txt", "no")
	write("marker.txt", "m")
	arrives("/srv/static/marker.txt", "m")
	if _, ok := readIn(web, "/srv/static/ignored/secret.txt"); ok {
		t.Error("an ignored file was synced")
	}

	// A deleted file goes, and only it.
	if err := os.Remove(filepath.Join(static, "new.txt")); err != nil {
		t.Fatal(err)
	}
	Eventually(t, 10*time.Second, func() bool { _, ok := readIn(web, "/srv/static/new.txt"); return !ok }, "new.txt to be deleted in the container")
	arrives("/srv/static/marker.txt", "m")
	arrives("/srv/static/sub/dir/deep.txt", "deep")

	// A change of the rebuild path: a new image, a new container.
	before := Docker(t, "inspect", "-f", "{{.Id}} {{.Image}}", web)
	p.WriteFile("web/version.txt", "v2")
	Eventually(t, time.Minute, func() bool {
		now, err := docker("inspect", "-f", "{{.Id}} {{.Image}}", web)
		if err != nil || now == before {
			return false
		}
		got, ok := readIn(web, "/version.txt")
		return ok && got == "v2"
	}, "web to be recreated from a rebuilt image")
	oldID, oldImage, _ := strings.Cut(before, " ")
	now := Docker(t, "inspect", "-f", "{{.Id}} {{.Image}}", web)
	if newID, newImage, _ := strings.Cut(now, " "); newID == oldID || newImage == oldImage {
		t.Errorf("want a new container from a new image: before %s, after %s", before, now)
	}

	// A build that fails is reported, and watching goes on.
	p.WriteFile("web/Dockerfile", "FROM IMAGE\nCOPY missing.txt /missing.txt\n")
	p.WriteFile("web/version.txt", "v3")
	Eventually(t, time.Minute, func() bool { return strings.Contains(out.String(), "still watching") }, "the failed build to be reported")
	write("after.txt", "after")
	arrives("/srv/static/after.txt", "after")

	// Ctrl-C: 130, as docker compose watch; the project keeps running.
	w.interrupt()
	if state := Docker(t, "inspect", "-f", "{{.State.Status}}", web); state != "running" {
		t.Errorf("web is %s after watch ended, want running", state)
	}
}

// watching is a composer watch running in the background.
type watching struct {
	t       *testing.T
	cmd     *exec.Cmd
	out     lockedBuffer
	exited  chan error
	stopped bool
}

// startWatch starts composer watch in the project's directory and waits
// until it watches; it is killed when the test ends, if still running.
func startWatch(t *testing.T, p *Project, args ...string) *watching {
	t.Helper()
	w := &watching{t: t, exited: make(chan error, 1)}
	w.cmd = exec.Command(composerBin, append([]string{"-p", p.Name, "watch"}, args...)...)
	w.cmd.Dir, w.cmd.Env = p.Dir, composerEnv(nil)
	w.cmd.Stdout, w.cmd.Stderr = &w.out, &w.out
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { w.exited <- w.cmd.Wait() }()
	t.Cleanup(func() {
		if !w.stopped {
			_ = w.cmd.Process.Kill()
			<-w.exited
		}
		if t.Failed() {
			t.Logf("composer watch output:\n%s", w.out.String())
		}
	})
	Eventually(t, 2*time.Minute, func() bool { return strings.Contains(w.out.String(), "Watch enabled") }, "watch to start")
	return w
}

// interrupt sends SIGINT and checks that watch ends with 130, as docker
// compose watch does.
func (w *watching) interrupt() {
	w.t.Helper()
	if err := w.cmd.Process.Signal(syscall.SIGINT); err != nil {
		w.t.Fatal(err)
	}
	select {
	case err := <-w.exited:
		w.stopped = true
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			w.t.Fatal(err)
		}
		if code != 130 {
			w.t.Errorf("exit code %d after Ctrl-C, want 130", code)
		}
	case <-time.After(30 * time.Second):
		w.t.Fatal("watch did not end after Ctrl-C")
	}
}

// TestWatchRestartAndExec: sync+restart syncs a file and restarts the
// container; sync+exec syncs a file and runs the hook in the container.
func TestWatchRestartAndExec(t *testing.T) {
	p := NewProject(t, `
services:
  api:
    image: IMAGE
    develop:
      watch:
        - path: ./conf
          action: sync+restart
          target: /conf
        - path: ./hooks
          action: sync+exec
          target: /hooks
          exec:
            command: ["/app", "write", "/tmp/hook-ran", "yes"]
`)
	p.WriteFile("conf/.keep", "")
	p.WriteFile("hooks/.keep", "")
	w := startWatch(t, p)
	api := p.ContainerName("api", 1)
	started := Docker(t, "inspect", "-f", "{{.State.StartedAt}}", api)

	p.WriteFile("conf/app.conf", "level=debug")
	Eventually(t, 30*time.Second, func() bool {
		now, err := docker("inspect", "-f", "{{.State.StartedAt}} {{.State.Status}}", api)
		return err == nil && !strings.HasPrefix(now, started+" ") && strings.HasSuffix(now, " running")
	}, "api to be restarted after the sync")
	if got, ok := readIn(api, "/conf/app.conf"); !ok || got != "level=debug" {
		t.Errorf("/conf/app.conf in api: %q, %v", got, ok)
	}
	if _, ok := readIn(api, "/tmp/hook-ran"); ok {
		t.Error("the exec hook ran for a change of the restart rule")
	}

	restarted := Docker(t, "inspect", "-f", "{{.State.StartedAt}}", api)
	p.WriteFile("hooks/h.txt", "hook")
	Eventually(t, 30*time.Second, func() bool { got, ok := readIn(api, "/tmp/hook-ran"); return ok && got == "yes" }, "the exec hook to run")
	if got, ok := readIn(api, "/hooks/h.txt"); !ok || got != "hook" {
		t.Errorf("/hooks/h.txt in api: %q, %v", got, ok)
	}
	if now := Docker(t, "inspect", "-f", "{{.State.StartedAt}}", api); now != restarted {
		t.Errorf("api was restarted for a change of the exec rule")
	}
	w.interrupt()
}
