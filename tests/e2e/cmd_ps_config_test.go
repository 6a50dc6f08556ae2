package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

const psProject = `
services:
  web:
    image: IMAGE
    command: ["healthy-after", "0s"]
    ports: ["8080"]
    healthcheck:
      test: ["CMD", "/app", "check", "/tmp/healthy"]
      interval: 500ms
  job:
    image: IMAGE
    command: ["exit", "3"]
`

type psJSON struct {
	ID, Name, Service, State, Health, Project string
	ExitCode                                  int
	Publishers                                []struct {
		URL           string
		TargetPort    int
		PublishedPort int
		Protocol      string
	}
}

func parsePS(t *testing.T, r *Result) map[string]psJSON {
	t.Helper()
	out := map[string]psJSON{}
	text := strings.TrimSpace(r.Stdout)
	if strings.HasPrefix(text, "[") {
		var list []psJSON
		if err := json.Unmarshal([]byte(text), &list); err != nil {
			t.Fatalf("parsing ps json: %v\n%s", err, r)
		}
		for _, e := range list {
			out[e.Service] = e
		}
		return out
	}
	for _, l := range nonEmptyLines(text) {
		var e psJSON
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("parsing ps json line %q: %v\n%s", l, err, r)
		}
		out[e.Service] = e
	}
	return out
}

func TestCmdPs(t *testing.T) {
	t.Parallel()
	p := NewProject(t, psProject)
	p.Up()
	web, job := p.ContainerName("web", 1), p.ContainerName("job", 1)
	Eventually(t, 30*time.Second, func() bool {
		return containerState(job) == "exited" && inspectField(web, "{{.State.Health.Status}}") == "healthy"
	}, "job to exit and web to be healthy")

	r := p.Compose("ps").Success(t)
	if !strings.Contains(r.Stdout, web) || strings.Contains(r.Stdout, job) {
		t.Errorf("ps: want the running web only:\n%s", r)
	}
	r = p.Compose("ps", "-a").Success(t)
	if !strings.Contains(r.Stdout, web) || !strings.Contains(r.Stdout, job) {
		t.Errorf("ps -a: want both containers:\n%s", r)
	}
	r = p.Compose("ps", "-q").Success(t)
	if got, want := strings.TrimSpace(r.Stdout), InspectContainer(t, web).ID; got != want && !strings.HasPrefix(want, got) {
		t.Errorf("ps -q: got %q, want web's ID %s", got, want)
	}
	r = p.Compose("ps", "--services").Success(t)
	if got := strings.TrimSpace(r.Stdout); got != "web" {
		t.Errorf("ps --services: got %q, want web", got)
	}
	r = p.Compose("ps", "--status", "exited").Success(t)
	if !strings.Contains(r.Stdout, job) || strings.Contains(r.Stdout, web) {
		t.Errorf("ps --status exited: want job only:\n%s", r)
	}
	r = p.Compose("ps", "--status", "running").Success(t)
	if !strings.Contains(r.Stdout, web) || strings.Contains(r.Stdout, job) {
		t.Errorf("ps --status running: want web only:\n%s", r)
	}

	entries := parsePS(t, p.Compose("ps", "-a", "--format", "json").Success(t))
	w, j := entries["web"], entries["job"]
	if w.Name != web || w.State != "running" || w.Health != "healthy" || w.Project != p.Name {
		t.Errorf("ps json web: %+v", w)
	}
	published := false
	for _, pub := range w.Publishers {
		if pub.TargetPort == 8080 && pub.PublishedPort != 0 && pub.Protocol == "tcp" {
			published = true
		}
	}
	if !published {
		t.Errorf("ps json web: Publishers do not show 8080/tcp published: %+v", w.Publishers)
	}
	if j.Name != job || j.State != "exited" || j.ExitCode != 3 {
		t.Errorf("ps json job: want exited with ExitCode 3: %+v", j)
	}
}

func TestCmdLs(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  a:
    image: IMAGE
`)
	p.Up()
	type lsEntry struct{ Name, Status, ConfigFiles string }
	find := func(args ...string) (lsEntry, bool) {
		r := p.Compose(append([]string{"ls", "--format", "json"}, args...)...).Success(t)
		var list []lsEntry
		if err := json.Unmarshal([]byte(strings.TrimSpace(r.Stdout)), &list); err != nil {
			t.Fatalf("parsing ls json: %v\n%s", err, r)
		}
		for _, e := range list {
			if e.Name == p.Name {
				return e, true
			}
		}
		return lsEntry{}, false
	}
	e, ok := find()
	if !ok {
		t.Fatalf("ls --format json does not list %s", p.Name)
	}
	if !strings.Contains(e.Status, "running(1)") {
		t.Errorf("ls status %q, want running(1)", e.Status)
	}
	if !strings.Contains(e.ConfigFiles, filepath.Join(p.Dir, "compose.yaml")) {
		t.Errorf("ls config files %q, want %s", e.ConfigFiles, filepath.Join(p.Dir, "compose.yaml"))
	}
	if r := p.Compose("ls", "-q").Success(t); !contains(nonEmptyLines(r.Stdout), p.Name) {
		t.Errorf("ls -q does not list %s:\n%s", p.Name, r)
	}

	p.Compose("stop", "-t", "1").Success(t)
	if _, ok := find(); ok {
		t.Errorf("ls lists the stopped project %s", p.Name)
	}
	e, ok = find("-a")
	if !ok || !strings.Contains(e.Status, "exited(1)") {
		t.Errorf("ls -a: want %s with exited(1), got %+v (found %v)", p.Name, e, ok)
	}
}

const configProject = `
services:
  web:
    image: IMAGE
    environment:
      GREETING: ${GREETING:-hello}
    volumes: ["data:/data"]
    networks: [front]
  built:
    build: ./ctx
    networks: [back]
  extra:
    image: IMAGE
    profiles: [debug]
    networks: [front]
volumes:
  data: {}
networks:
  front: {}
  back: {}
`

func TestCmdConfigListings(t *testing.T) {
	t.Parallel()
	p := NewProject(t, configProject)
	lines := func(args ...string) string {
		return strings.Join(nonEmptyLines(p.Compose(append([]string{"config"}, args...)...).Success(t).Stdout), ",")
	}
	if got := lines("--services"); got != "built,web" {
		t.Errorf("config --services: got %q, want built,web", got)
	}
	if got := lines("--volumes"); got != "data" {
		t.Errorf("config --volumes: got %q, want data", got)
	}
	if got := lines("--networks"); got != "back,front" {
		t.Errorf("config --networks: got %q, want back,front", got)
	}
	if got := lines("--images"); got != p.Name+"-built,"+testImage {
		t.Errorf("config --images: got %q, want %s-built,%s", got, p.Name, testImage)
	}
	if got := lines("--profiles"); got != "debug" {
		t.Errorf("config --profiles: got %q, want debug", got)
	}
	if r := p.Compose("config", "-q").Success(t); r.Stdout != "" {
		t.Errorf("config -q printed something:\n%s", r)
	}
}

func TestCmdConfigHashMatchesTheContainerLabel(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  web:
    image: IMAGE
    environment: {A: "1"}
`)
	r := p.Compose("config", "--hash", "web").Success(t)
	m := regexp.MustCompile(`^web ([0-9a-f]{64})$`).FindStringSubmatch(strings.TrimSpace(r.Stdout))
	if m == nil {
		t.Fatalf("config --hash web: want \"web <sha256>\":\n%s", r)
	}
	p.Up()
	if label := InspectContainer(t, p.ContainerName("web", 1)).Config.Labels[configHashLabel]; label != m[1] {
		t.Errorf("config --hash printed %s, the container's %s label is %s", m[1], configHashLabel, label)
	}
	if r := p.Compose("config", "--hash", "*").Success(t); strings.TrimSpace(r.Stdout) != "web "+m[1] {
		t.Errorf("config --hash '*': got %q", r.Stdout)
	}
}

func TestCmdConfigFormatsAndOutput(t *testing.T) {
	t.Parallel()
	p := NewProject(t, configProject)
	r := p.Compose("config", "--format", "json").Success(t)
	var doc struct {
		Name     string
		Services map[string]struct {
			Image       string
			Environment map[string]*string
		}
	}
	if err := json.Unmarshal([]byte(r.Stdout), &doc); err != nil {
		t.Fatalf("config --format json: %v\n%s", err, r)
	}
	if doc.Name != p.Name || doc.Services["web"].Image != testImage {
		t.Errorf("config --format json: name %q, web image %q", doc.Name, doc.Services["web"].Image)
	}
	if v := doc.Services["web"].Environment["GREETING"]; v == nil || *v != "hello" {
		t.Errorf("config --format json: GREETING is not interpolated to its default: %v", v)
	}

	out := filepath.Join(p.Dir, "rendered.yaml")
	r = p.Compose("config", "-o", out).Success(t)
	if strings.TrimSpace(r.Stdout) != "" {
		t.Errorf("config -o printed on stdout:\n%s", r)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("config -o did not write the file: %v", err)
	}
	if !strings.Contains(string(b), "GREETING: hello") || !strings.Contains(string(b), "services:") {
		t.Errorf("config -o wrote:\n%s", b)
	}

	r = p.Compose("config", "--no-interpolate").Success(t)
	if !strings.Contains(r.Stdout, "${GREETING:-hello}") {
		t.Errorf("config --no-interpolate should keep ${GREETING:-hello}:\n%s", r)
	}
}

func TestCmdVersion(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := RunComposer(t, Cmd{Dir: dir, Args: []string{"version"}}).Success(t)
	short := strings.TrimSpace(RunComposer(t, Cmd{Dir: dir, Args: []string{"version", "--short"}}).Success(t).Stdout)
	if short == "" || strings.Contains(short, " ") || strings.Contains(short, "\n") {
		t.Errorf("version --short: want a bare version, got %q", short)
	}
	if !strings.Contains(r.Stdout, short) {
		t.Errorf("version does not show %q:\n%s", short, r)
	}
}
