package e2e

import (
	"regexp"
	"strings"
	"testing"
)

func TestBadYAMLNamesFileAndLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		files map[string]string
		args  []string
		file  string // the file the error must name
		noP   bool   // run without -p, so the project name comes from the directory
	}{
		{
			name:  "bad indentation",
			files: map[string]string{"compose.yaml": "services:\n  app:\n    image: IMAGE\n   bad: [\n"},
			file:  "compose.yaml",
		},
		{
			name:  "bad indentation short image",
			files: map[string]string{"compose.yaml": "services:\n  a:\n    image: x\n   b: [\n"},
			file:  "compose.yaml",
		},
		{
			name:  "bad indentation without -p",
			files: map[string]string{"compose.yaml": "services:\n  a:\n    image: x\n   b: [\n"},
			file:  "compose.yaml",
			noP:   true,
		},
		{
			name:  "unclosed quote",
			files: map[string]string{"compose.yaml": "services:\n  app:\n    image: \"IMAGE\n    command: x\n"},
			file:  "compose.yaml",
		},
		{
			name: "in the override file",
			files: map[string]string{
				"compose.yaml":          "services:\n  app:\n    image: IMAGE\n",
				"compose.override.yaml": "services:\n  app:\n    environment:\n      A: 1\n     B: 2\n",
			},
			file: "compose.override.yaml",
		},
		{
			name:  "named with -f",
			files: map[string]string{"custom.yml": "services:\n\tapp:\n    image: IMAGE\n"},
			args:  []string{"-f", "custom.yml"},
			file:  "custom.yml",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := NewProject(t, "")
			for name, content := range tc.files {
				p.WriteFile(name, content)
			}
			args := append(tc.args, "up", "-d")
			if !tc.noP {
				args = append([]string{"-p", p.Name}, args...)
			}
			r := RunComposer(t, Cmd{Dir: p.Dir, Args: args}).Failure(t, 1)
			r.Mentions(t, tc.file)
			if !regexp.MustCompile(`line \d+`).MatchString(r.Stderr) {
				t.Errorf("error does not name the line:\n%s", r)
			}
			AssertNothingCreated(t, p.Name)
		})
	}
}

func TestUnknownDependencyNamesBothServices(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  web:
    image: IMAGE
    depends_on: [ghost]
`)
	p.Compose("up", "-d").Failure(t, 1).Mentions(t, "web", "ghost")
	AssertNothingCreated(t, p.Name)
}

func TestDependencyCycleShowsPath(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  a:
    image: IMAGE
    depends_on: [b]
  b:
    image: IMAGE
    depends_on: [a]
  c:
    image: IMAGE
`)
	r := p.Compose("up", "-d").Failure(t, 1)
	if !strings.Contains(r.Stderr, "a -> b -> a") && !strings.Contains(r.Stderr, "b -> a -> b") {
		t.Errorf("error does not show the cycle path:\n%s", r)
	}
	again := p.Compose("up", "-d").Failure(t, 1)
	if again.Stderr != r.Stderr {
		t.Errorf("cycle error differs between runs:\n%s\n%s", r.Stderr, again.Stderr)
	}
	AssertNothingCreated(t, p.Name)
}

func TestLongerCycleShowsWholePath(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  a:
    image: IMAGE
    depends_on: [b]
  b:
    image: IMAGE
    depends_on: [c]
  c:
    image: IMAGE
    depends_on: [a]
`)
	r := p.Compose("up", "-d").Failure(t, 1)
	found := false
	for _, path := range []string{"a -> b -> c -> a", "b -> c -> a -> b", "c -> a -> b -> c"} {
		found = found || strings.Contains(r.Stderr, path)
	}
	if !found {
		t.Errorf("error does not show the cycle path:\n%s", r)
	}
	AssertNothingCreated(t, p.Name)
}

func TestMissingImageNamesServiceAndImage(t *testing.T) {
	t.Parallel()
	image := "composer-test/does-not-exist:" + randomSuffix()
	p := NewProject(t, `
services:
  ok:
    image: IMAGE
  broken:
    image: `+image+`
`)
	p.Compose("up", "-d").Failure(t, 1).Mentions(t, "broken", image)
	AssertNothingCreated(t, p.Name)
}

func TestUnreachableEngineGivesOneLine(t *testing.T) {
	t.Parallel()
	p := NewProject(t, "services:\n  app:\n    image: IMAGE\n")
	for _, args := range [][]string{{"up", "-d"}, {"down"}} {
		r := RunComposer(t, Cmd{Dir: p.Dir, Args: append([]string{"-p", p.Name}, args...),
			Env: []string{"DOCKER_HOST=unix:///nonexistent.sock"}})
		r.Failure(t, 1)
		lines := splitLines(strings.TrimSpace(r.Stderr))
		if len(strings.Split(strings.TrimSpace(r.Stderr), "\n")) != 1 || len(lines) == 0 {
			t.Errorf("%v: want exactly one line on stderr:\n%s", args, r)
		}
		r.Mentions(t, "/nonexistent.sock")
		if strings.Contains(r.Combined(), "panic") || strings.Contains(r.Combined(), "goroutine") {
			t.Errorf("%v: composer panicked:\n%s", args, r)
		}
	}
}
