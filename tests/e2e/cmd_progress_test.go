package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

const progressProject = `
services:
  db:
    image: IMAGE
  web:
    image: IMAGE
    depends_on: [db]
`

func TestCmdProgressJSON(t *testing.T) {
	t.Parallel()
	p := NewProject(t, progressProject)
	r := p.Compose("--progress", "json", "up", "-d").Success(t)
	lines := nonEmptyLines(r.Stderr)
	if len(lines) == 0 {
		t.Fatalf("--progress json printed nothing on stderr:\n%s", r)
	}
	started := map[string]bool{}
	for _, l := range lines {
		var ev map[string]any
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Errorf("--progress json: line %q is not a JSON object: %v", l, err)
			continue
		}
		status, ok := ev["status"].(string)
		if !ok || status == "" {
			t.Errorf("--progress json: object without a status: %s", l)
		}
		if status == "Started" {
			for _, v := range ev {
				if s, ok := v.(string); ok {
					started[s] = true
				}
			}
		}
	}
	for _, n := range []string{p.ContainerName("db", 1), p.ContainerName("web", 1)} {
		if !started[n] {
			t.Errorf("--progress json: no Started object for %s:\n%s", n, r.Stderr)
		}
	}
}

func TestCmdProgressPlain(t *testing.T) {
	t.Parallel()
	p := NewProject(t, progressProject)
	r := p.Compose("--progress", "plain", "up", "-d").Success(t)
	for _, n := range []string{p.ContainerName("db", 1), p.ContainerName("web", 1)} {
		if want := " Container " + n + "  Started"; !contains(strings.Split(r.Stderr, "\n"), want) {
			t.Errorf("--progress plain: no line %q:\n%s", want, r)
		}
	}
	if strings.Contains(r.Stderr, "\x1b[") {
		t.Errorf("--progress plain printed escape sequences:\n%q", r.Stderr)
	}
	r = p.Compose("--progress", "plain", "stop", "-t", "1").Success(t)
	r.Mentions(t, " Container "+p.ContainerName("web", 1)+"  Stopped")
}

func TestCmdProgressQuiet(t *testing.T) {
	t.Parallel()
	p := NewProject(t, progressProject)
	r := p.Compose("--progress", "quiet", "up", "-d").Success(t)
	if r.Stderr != "" || r.Stdout != "" {
		t.Errorf("--progress quiet printed something for a successful up:\n%s", r)
	}
	if st := containerState(p.ContainerName("web", 1)); st != "running" {
		t.Errorf("web is %q after a quiet up", st)
	}
}

func TestCmdTerminalLiveViewForUpDetached(t *testing.T) {
	t.Parallel()
	p := NewProject(t, progressProject)
	s := newTmuxSession(t, p.Dir, shellQuote(composerBin)+" -p "+p.Name+" up -d; echo EXIT=$?; sleep 600")
	screen := s.waitFor(60*time.Second, "EXIT=")
	if !strings.Contains(screen, "EXIT=0") {
		t.Fatalf("up -d in a terminal failed:\n%s", screen)
	}
	for _, res := range []string{"Network " + p.Name + "_default", "Container " + p.ContainerName("db", 1), "Container " + p.ContainerName("web", 1)} {
		found := false
		for _, l := range strings.Split(screen, "\n") {
			if strings.Contains(l, "✔") && strings.Contains(l, res) {
				found = true
			}
		}
		if !found {
			t.Errorf("the live view has no ✔ line for %s:\n%s", res, screen)
		}
	}
	if !strings.Contains(screen, "Started") {
		t.Errorf("the live view does not show Started:\n%s", screen)
	}
}

func TestCmdTerminalCtrlCStopsAttachedUp(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  a:
    image: IMAGE
    command: ["log", "1", "up-and-running"]
  b:
    image: IMAGE
`)
	s := newTmuxSession(t, p.Dir, shellQuote(composerBin)+" -p "+p.Name+" up; echo EXIT=$?; sleep 600")
	s.waitFor(60*time.Second, "up-and-running 1")
	s.sendKeys("C-c")
	screen := s.waitFor(60*time.Second, "EXIT=")
	if !strings.Contains(screen, "Gracefully stopping") {
		t.Errorf("Ctrl-C: the terminal does not show Gracefully stopping:\n%s", screen)
	}
	if !strings.Contains(screen, "EXIT=130") {
		t.Errorf("Ctrl-C: want exit code 130:\n%s", screen)
	}
	for _, svc := range []string{"a", "b"} {
		if st := containerState(p.ContainerName(svc, 1)); st != "exited" {
			t.Errorf("%s is %q after Ctrl-C, want exited", p.ContainerName(svc, 1), st)
		}
	}
}

func TestCmdCompletionBash(t *testing.T) {
	t.Parallel()
	r := RunComposer(t, Cmd{Dir: t.TempDir(), Args: []string{"completion", "bash"}}).Success(t)
	if !strings.Contains(r.Stdout, "complete ") || !strings.Contains(r.Stdout, "composer") || len(r.Stdout) < 500 {
		t.Errorf("completion bash does not look like a bash completion script:\n%.500s", r.Stdout)
	}
}

func TestCmdCompletionListsServices(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  frontend:
    image: IMAGE
  backend:
    image: IMAGE
  debugger:
    image: IMAGE
    profiles: [debug]
`)
	r := RunComposer(t, Cmd{Dir: p.Dir, Args: []string{"__complete", "up", ""}}).Success(t)
	lines := nonEmptyLines(r.Stdout)
	for _, s := range []string{"frontend", "backend"} {
		if !contains(lines, s) {
			t.Errorf("__complete up '' does not offer %s:\n%s", s, r)
		}
	}
	if len(lines) == 0 || !strings.HasPrefix(lines[len(lines)-1], ":") {
		t.Errorf("__complete output does not end with cobra's :<directive> line:\n%s", r)
	}
	r = RunComposer(t, Cmd{Dir: p.Dir, Args: []string{"__complete", "logs", "fr"}}).Success(t)
	if got := nonEmptyLines(r.Stdout); len(got) == 0 || got[0] != "frontend" || contains(got, "backend") {
		t.Errorf("__complete logs fr: want frontend only:\n%s", r)
	}
}

func TestCmdTerminalExecAndRunWithTTY(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  web:
    image: IMAGE
`)
	p.Up()
	bin := shellQuote(composerBin) + " -p " + p.Name
	s := newTmuxSession(t, p.Dir, bin+" exec web /app exit 5; echo EXEC=$?; "+bin+" run --rm web exit 4; echo RUN=$?; sleep 600")
	screen := s.waitFor(60*time.Second, "RUN=")
	if !strings.Contains(screen, "EXEC=5") {
		t.Errorf("exec with a TTY: want exit code 5:\n%s", screen)
	}
	if !strings.Contains(screen, "RUN=4") {
		t.Errorf("run with a TTY: want exit code 4:\n%s", screen)
	}
	if left := oneoffContainers(t, p.Name); len(left) != 0 {
		t.Errorf("run --rm with a TTY left %v", left)
	}
}
