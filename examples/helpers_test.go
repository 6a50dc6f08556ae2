// Package examples_test runs the projects under examples/ end to end: it
// builds the composer binary once, starts each example with it against the
// real Docker engine and checks what the engine did.
package examples_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// projectLabel is the label every resource of a compose project carries.
const projectLabel = "com.docker.compose.project"

var (
	buildOnce   sync.Once
	composerBin string
	buildErr    error
)

// repoRoot is the module root, one level above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("..")
	if err != nil {
		t.Fatalf("locating the repository root: %v", err)
	}
	return dir
}

// requireEngine fails the test when the Docker engine does not answer: these
// tests exist to run against it, so a missing engine is a failure, not a skip.
func requireEngine(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", "version", "--format", "{{.Server.Version}}").CombinedOutput()
	if err != nil {
		t.Fatalf("the Docker engine is unreachable (docker version: %v):\n%s", err, out)
	}
}

// composer builds bin/composer once per test binary, into a temporary
// directory, and returns its path. COMPOSER_BIN names a binary to run
// instead, to hold another Compose implementation to the same checks.
func composer(t *testing.T) string {
	t.Helper()
	root := repoRoot(t)
	buildOnce.Do(func() {
		if bin := os.Getenv("COMPOSER_BIN"); bin != "" {
			composerBin = bin
			return
		}
		dir, err := os.MkdirTemp("", "composer-examples-")
		if err != nil {
			buildErr = err
			return
		}
		composerBin = filepath.Join(dir, "composer")
		cmd := exec.Command("go", "build", "-o", composerBin, "./cmd/composer")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/composer: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatalf("building composer: %v", buildErr)
	}
	return composerBin
}

// project is one run of an example under a unique project name.
type project struct {
	t     *testing.T
	bin   string
	dir   string   // the example's directory
	name  string   // the project name, passed with -p
	files []string // compose files, passed with -f
	env   []string // extra environment, KEY=VALUE
}

func newProject(t *testing.T, example, prefix string, files ...string) *project {
	t.Helper()
	p := &project{
		t:     t,
		bin:   composer(t),
		dir:   filepath.Join(repoRoot(t), "examples", example),
		name:  fmt.Sprintf("%s-%d-%d", prefix, os.Getpid(), time.Now().UnixNano()%1_000_000),
		files: files,
	}
	return p
}

// cleanupAfter removes the project when the test ends, dumping its state
// and logs first if the test failed. downArgs are the global flags for down
// (for example a profile).
func (p *project) cleanupAfter(downArgs ...string) {
	p.t.Cleanup(func() {
		if p.t.Failed() {
			p.dumpState()
		}
		args := append(append([]string{}, downArgs...), "down", "-v", "--remove-orphans")
		if _, err := p.run(2*time.Minute, args...); err != nil {
			p.t.Logf("cleanup: %v", err)
		}
		// Whatever composer left behind, the engine must not keep.
		removeByLabel(p.t, p.name)
	})
}

// env returns the environment for composer: the test's, without settings of
// the examples that would change what is tested, plus the project's own.
func (p *project) environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "COMPOSE_") || strings.HasPrefix(k, "AIRFLOW") ||
			strings.HasPrefix(k, "_AIRFLOW") || strings.HasPrefix(k, "_PIP") ||
			k == "NGINX_PORT" || k == "FLOWER_PORT" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, p.env...)
}

// run runs composer with the project's name and files, then args.
func (p *project) run(timeout time.Duration, args ...string) (string, error) {
	p.t.Helper()
	full := []string{"-p", p.name}
	for _, f := range p.files {
		full = append(full, "-f", f)
	}
	full = append(full, args...)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, p.bin, full...)
	cmd.Dir = p.dir
	cmd.Env = p.environ()
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	start := time.Now()
	err := cmd.Run()
	p.t.Logf("composer %s (%s)", strings.Join(full, " "), time.Since(start).Round(time.Millisecond))
	if err != nil {
		return out.String(), fmt.Errorf("composer %s: %w\n%s", strings.Join(full, " "), err, out.String())
	}
	return out.String(), nil
}

// must runs composer and fails the test on error.
func (p *project) must(args ...string) string {
	p.t.Helper()
	out, err := p.run(5*time.Minute, args...)
	if err != nil {
		p.t.Fatal(err)
	}
	return out
}

func (p *project) dumpState() {
	out, _ := exec.Command("docker", "ps", "-a", "--filter", "label="+projectLabel+"="+p.name,
		"--format", "{{.Names}}\t{{.Status}}").CombinedOutput()
	p.t.Logf("containers of %s:\n%s", p.name, out)
	for _, name := range strings.Fields(string(runDocker(p.t, "ps", "-a", "-q", "--filter", "label="+projectLabel+"="+p.name))) {
		logs, _ := exec.Command("docker", "logs", "--tail", "40", "--timestamps", name).CombinedOutput()
		p.t.Logf("logs of %s:\n%s", name, logs)
	}
}

// runDocker runs the docker CLI and returns its standard output; errors are
// logged, not fatal, for use in cleanups and diagnostics.
func runDocker(t *testing.T, args ...string) []byte {
	t.Helper()
	out, err := exec.Command("docker", args...).Output()
	if err != nil {
		t.Logf("docker %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// resources lists the containers, networks and volumes carrying the project label.
func resources(t *testing.T, project string) (containers, networks, volumes []string) {
	t.Helper()
	f := "label=" + projectLabel + "=" + project
	containers = strings.Fields(string(runDocker(t, "ps", "-a", "--filter", f, "--format", "{{.Names}}")))
	networks = strings.Fields(string(runDocker(t, "network", "ls", "--filter", f, "--format", "{{.Name}}")))
	volumes = strings.Fields(string(runDocker(t, "volume", "ls", "--filter", f, "--format", "{{.Name}}")))
	return containers, networks, volumes
}

func removeByLabel(t *testing.T, project string) {
	t.Helper()
	c, n, v := resources(t, project)
	if len(c) > 0 {
		runDocker(t, append([]string{"rm", "-f", "-v"}, c...)...)
	}
	if len(n) > 0 {
		runDocker(t, append([]string{"network", "rm"}, n...)...)
	}
	if len(v) > 0 {
		runDocker(t, append([]string{"volume", "rm", "-f"}, v...)...)
	}
}

// container is the part of `docker inspect` these tests read.
type container struct {
	ID     string
	Name   string
	Config struct {
		Labels map[string]string
	}
	State struct {
		Status     string
		Running    bool
		ExitCode   int
		StartedAt  time.Time
		FinishedAt time.Time
		Health     *struct {
			Status string
			Log    []struct {
				Start    time.Time
				End      time.Time
				ExitCode int
			}
		}
	}
}

func (c container) service() string { return c.Config.Labels["com.docker.compose.service"] }

// inspectProject returns the project's containers by service name (one
// container per service in these examples).
func inspectProject(t *testing.T, project string) map[string]container {
	t.Helper()
	ids := strings.Fields(string(runDocker(t, "ps", "-a", "-q", "--filter", "label="+projectLabel+"="+project)))
	byService := map[string]container{}
	if len(ids) == 0 {
		return byService
	}
	out, err := exec.Command("docker", append([]string{"inspect"}, ids...)...).Output()
	if err != nil {
		t.Fatalf("docker inspect: %v", err)
	}
	var cs []container
	if err := json.Unmarshal(out, &cs); err != nil {
		t.Fatalf("decoding docker inspect: %v", err)
	}
	for _, c := range cs {
		if prev, dup := byService[c.service()]; dup {
			t.Fatalf("service %s has two containers: %s and %s", c.service(), prev.Name, c.Name)
		}
		byService[c.service()] = c
	}
	return byService
}

// freePort returns a TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// eventually calls cond until it returns true or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
