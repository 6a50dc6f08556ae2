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

	var out lockedBuffer
	cmd := exec.Command(composerBin, "-p", p.Name, "watch")
	cmd.Dir, cmd.Env = p.Dir, composerEnv(nil)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("composer watch output:\n%s", out.String())
		}
	})
	web := p.ContainerName("web", 1)
	Eventually(t, 2*time.Minute, func() bool { return strings.Contains(out.String(), "Watch enabled") }, "watch to start")
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
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		stopped = true
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != 130 {
			t.Errorf("exit code %d after Ctrl-C, want 130", code)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("watch did not end after Ctrl-C")
	}
	if state := Docker(t, "inspect", "-f", "{{.State.Status}}", web); state != "running" {
		t.Errorf("web is %s after watch ended, want running", state)
	}
}
