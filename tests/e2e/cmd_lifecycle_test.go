package e2e

import (
	"strings"
	"testing"
	"time"
)

const lifecycleProject = `
services:
  db:
    image: IMAGE
  web:
    image: IMAGE
    depends_on: [db]
`

func finishedAt(t *testing.T, name string) time.Time {
	t.Helper()
	return InspectContainer(t, name).State.FinishedAt
}

func startedAt(t *testing.T, name string) time.Time {
	t.Helper()
	return InspectContainer(t, name).State.StartedAt
}

func TestCmdStopStopsDependentsFirstAndStartStartsAgain(t *testing.T) {
	t.Parallel()
	p := NewProject(t, lifecycleProject)
	p.Up()
	db, web := p.ContainerName("db", 1), p.ContainerName("web", 1)
	p.Compose("stop", "-t", "5").Success(t)
	for _, n := range []string{db, web} {
		if st := containerState(n); st != "exited" {
			t.Fatalf("%s is %q after stop, want exited", n, st)
		}
	}
	if fw, fd := finishedAt(t, web), finishedAt(t, db); fw.After(fd) {
		t.Errorf("web (dependent) finished at %s, after db (dependency) at %s", fw, fd)
	}
	p.Compose("start").Success(t)
	for _, n := range []string{db, web} {
		if st := containerState(n); st != "running" {
			t.Errorf("%s is %q after start, want running", n, st)
		}
	}
	if sw, sd := startedAt(t, web), startedAt(t, db); sw.Before(sd) {
		t.Errorf("start: web (dependent) started at %s, before db at %s", sw, sd)
	}
}

func TestCmdRestartRestartsTheService(t *testing.T) {
	t.Parallel()
	p := NewProject(t, lifecycleProject)
	p.Up()
	web := p.ContainerName("web", 1)
	before := startedAt(t, web)
	id := InspectContainer(t, web).ID
	p.Compose("restart", "-t", "1", "web").Success(t)
	c := InspectContainer(t, web)
	if c.ID != id {
		t.Errorf("restart recreated %s", web)
	}
	if !c.State.Running || !c.State.StartedAt.After(before) {
		t.Errorf("restart: %s running=%v, started at %s (was %s)", web, c.State.Running, c.State.StartedAt, before)
	}
}

func TestCmdRestartAlsoRestartsDependentsWithRestartTrue(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  db:
    image: IMAGE
  web:
    image: IMAGE
    depends_on:
      db:
        condition: service_started
        restart: true
  other:
    image: IMAGE
    depends_on:
      db:
        condition: service_started
`)
	p.Up()
	db, web, other := p.ContainerName("db", 1), p.ContainerName("web", 1), p.ContainerName("other", 1)
	dbBefore, webBefore, otherBefore := startedAt(t, db), startedAt(t, web), startedAt(t, other)
	p.Compose("restart", "-t", "1", "db").Success(t)
	if !startedAt(t, db).After(dbBefore) {
		t.Errorf("restart db did not restart db")
	}
	if !startedAt(t, web).After(webBefore) {
		t.Errorf("restart db did not restart web, which depends on db with restart: true")
	}
	if !startedAt(t, other).Equal(otherBefore) {
		t.Errorf("restart db restarted other, whose dependency has no restart: true")
	}
	for _, n := range []string{db, web, other} {
		if st := containerState(n); st != "running" {
			t.Errorf("%s is %q after restart, want running", n, st)
		}
	}
}

func TestCmdRm(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  keep:
    image: IMAGE
  gone:
    image: IMAGE
    volumes: ["/data"]
`)
	p.Up()
	keep, gone := p.ContainerName("keep", 1), p.ContainerName("gone", 1)
	_, anon, _, ok := InspectContainer(t, gone).Mount("/data")
	if !ok || anon == "" {
		t.Fatalf("%s has no anonymous volume at /data", gone)
	}
	// Without -s, running containers stay.
	p.Compose("rm", "-f").Success(t)
	if !ContainerExists(keep) || !ContainerExists(gone) {
		t.Errorf("rm -f removed running containers")
	}
	// A stopped container goes with rm -f.
	p.Compose("stop", "-t", "1", "keep").Success(t)
	p.Compose("rm", "-f", "keep").Success(t)
	if ContainerExists(keep) {
		t.Errorf("rm -f keep left the stopped %s", keep)
	}
	// -s stops first; -v takes the anonymous volume along.
	p.Compose("rm", "-f", "-s", "-v", "-t", "1", "gone").Success(t)
	if ContainerExists(gone) {
		t.Errorf("rm -f -s gone left %s", gone)
	}
	if VolumeExists(anon) {
		t.Errorf("rm -v left the anonymous volume %s", anon)
	}
}

func TestCmdRmWithoutVolumesKeepsAnonymousVolume(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  a:
    image: IMAGE
    volumes: ["/data"]
`)
	p.Up()
	name := p.ContainerName("a", 1)
	_, anon, _, ok := InspectContainer(t, name).Mount("/data")
	if !ok || anon == "" {
		t.Fatalf("%s has no anonymous volume at /data", name)
	}
	t.Cleanup(func() { _, _ = docker("volume", "rm", "-f", anon) })
	p.Compose("rm", "-f", "-s", "-t", "1").Success(t)
	if ContainerExists(name) {
		t.Errorf("rm -f -s left %s", name)
	}
	if !VolumeExists(anon) {
		t.Errorf("rm without -v removed the anonymous volume %s", anon)
	}
}

func TestCmdKillSignals(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  term:
    image: IMAGE
  hard:
    image: IMAGE
`)
	p.Up()
	term, hard := p.ContainerName("term", 1), p.ContainerName("hard", 1)
	// The test program exits 0 on SIGTERM; SIGKILL gives 137.
	p.Compose("kill", "-s", "SIGTERM", "term").Success(t)
	p.Compose("kill", "hard").Success(t)
	Eventually(t, 20*time.Second, func() bool {
		return containerState(term) == "exited" && containerState(hard) == "exited"
	}, "both containers to exit")
	if code := InspectContainer(t, term).State.ExitCode; code != 0 {
		t.Errorf("kill -s SIGTERM: %s exited %d, want 0 (the program's SIGTERM exit)", term, code)
	}
	if code := InspectContainer(t, hard).State.ExitCode; code != 137 {
		t.Errorf("kill (default SIGKILL): %s exited %d, want 137", hard, code)
	}
}

func TestCmdPauseUnpause(t *testing.T) {
	t.Parallel()
	p := NewProject(t, lifecycleProject)
	p.Up()
	web, db := p.ContainerName("web", 1), p.ContainerName("db", 1)
	p.Compose("pause", "web").Success(t)
	if got := inspectField(web, "{{.State.Paused}}"); got != "true" {
		t.Errorf("after pause web, %s paused=%s", web, got)
	}
	if got := inspectField(db, "{{.State.Paused}}"); got != "false" {
		t.Errorf("pause web paused db too")
	}
	if r := p.Compose("ps", "--status", "paused").Success(t); !strings.Contains(r.Stdout, web) {
		t.Errorf("ps --status paused does not list %s:\n%s", web, r)
	}
	p.Compose("unpause", "web").Success(t)
	if got := inspectField(web, "{{.State.Paused}} {{.State.Running}}"); got != "false true" {
		t.Errorf("after unpause web, %s paused/running = %s", web, got)
	}
}

func TestCmdTop(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  a:
    image: IMAGE
    command: ["sleep"]
`)
	p.Up()
	r := p.Compose("top").Success(t)
	r.Mentions(t, p.ContainerName("a", 1), "PID", "/app sleep")
}

func TestCmdPort(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  web:
    image: IMAGE
    command: ["serve", "8080"]
    ports: ["127.0.0.1::8080"]
`)
	p.Up()
	r := p.Compose("port", "web", "8080").Success(t)
	want := Docker(t, "port", p.ContainerName("web", 1), "8080/tcp")
	if got := strings.TrimSpace(r.Stdout); got == "" || !strings.Contains(want, got) {
		t.Errorf("port web 8080: got %q, docker port says %q", got, want)
	}
	if !strings.HasPrefix(strings.TrimSpace(r.Stdout), "127.0.0.1:") {
		t.Errorf("port web 8080: want 127.0.0.1:<port>, got %q", r.Stdout)
	}
	if r := p.Compose("port", "web", "9999"); r.ExitCode == 0 {
		t.Errorf("port web 9999 (not published) succeeded:\n%s", r)
	}
}

func TestCmdImages(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  a:
    image: IMAGE
`)
	p.Up()
	r := p.Compose("images").Success(t)
	r.Mentions(t, p.ContainerName("a", 1), "composer-test/app", "latest")
	id := strings.TrimPrefix(ImageID(t, testImage), "sha256:")[:12]
	r.Mentions(t, id)
	q := p.Compose("images", "-q").Success(t)
	if !strings.Contains(q.Stdout, id) {
		t.Errorf("images -q does not show %s:\n%s", id, q)
	}
}
