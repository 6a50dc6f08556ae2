package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// commandTimeout bounds a single composer or docker invocation so a hang
// fails the scenario instead of the whole run.
const commandTimeout = 2 * time.Minute

// Project is one scenario's compose project: a temporary directory and a
// unique project name whose resources are removed when the test ends.
type Project struct {
	t    *testing.T
	Name string // unique project name, e2e-<random>
	Dir  string // project directory holding the compose files
}

// NewProject creates a project directory holding compose.yaml with content
// (if content is not empty) and registers the cleanup that removes every
// resource labelled with the project name. IMAGE in content is replaced by
// the test image's tag.
func NewProject(t *testing.T, content string) *Project {
	t.Helper()
	p := &Project{t: t, Name: "e2e-" + randomSuffix(), Dir: t.TempDir()}
	if content != "" {
		p.WriteFile("compose.yaml", content)
	}
	t.Cleanup(func() {
		if t.Failed() {
			dumpProject(t, p.Name, p.Dir)
		}
		RemoveProject(t, p.Name)
	})
	return p
}

// randomSuffix returns 8 lowercase hex characters.
func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// withImage replaces the IMAGE placeholder with the test image tag.
func withImage(content string) string {
	return strings.ReplaceAll(content, "IMAGE", testImage)
}

// WriteFile writes content (IMAGE replaced by the test image tag) to name,
// relative to the project directory, creating directories as needed.
func (p *Project) WriteFile(name, content string) string {
	p.t.Helper()
	path := filepath.Join(p.Dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(withImage(content)), 0o644); err != nil {
		p.t.Fatal(err)
	}
	return path
}

// Compose runs composer -p NAME args... in the project directory.
func (p *Project) Compose(args ...string) *Result {
	p.t.Helper()
	return RunComposer(p.t, Cmd{Dir: p.Dir, Args: append([]string{"-p", p.Name}, args...)})
}

// Up runs composer -p NAME up -d args... and fails the test if it fails.
func (p *Project) Up(args ...string) *Result {
	p.t.Helper()
	return p.Compose(append([]string{"up", "-d"}, args...)...).Success(p.t)
}

// ContainerName is docker compose's name for replica n of service.
func (p *Project) ContainerName(service string, n int) string {
	return p.Name + "-" + service + "-" + itoa(n)
}

func itoa(n int) string { return strconv.Itoa(n) }

// Cmd describes one composer invocation.
type Cmd struct {
	Dir   string   // working directory
	Args  []string // arguments after the binary name
	Env   []string // extra KEY=VALUE entries (COMPOSE_* from the outside are dropped)
	Stdin string   // standard input
}

// Result is what a finished command left behind.
type Result struct {
	Args     []string
	Stdout   string
	Stderr   string
	ExitCode int
}

// Combined is stdout and stderr together, for "mentions" checks that should
// not care which stream a message went to.
func (r *Result) Combined() string { return r.Stdout + r.Stderr }

func (r *Result) String() string {
	return "composer " + strings.Join(r.Args, " ") + "\nexit code: " + itoa(r.ExitCode) +
		"\n--- stdout\n" + r.Stdout + "\n--- stderr\n" + r.Stderr
}

// Success fails the test now unless the command exited 0.
func (r *Result) Success(t *testing.T) *Result {
	t.Helper()
	if r.ExitCode != 0 {
		t.Fatalf("command failed:\n%s", r)
	}
	return r
}

// Failure fails the test now unless the command exited with code.
func (r *Result) Failure(t *testing.T, code int) *Result {
	t.Helper()
	if r.ExitCode != code {
		t.Fatalf("want exit code %d:\n%s", code, r)
	}
	return r
}

// Mentions fails the test (without stopping it) unless every want appears in
// stdout or stderr.
func (r *Result) Mentions(t *testing.T, wants ...string) *Result {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(r.Combined(), w) {
			t.Errorf("output does not mention %q:\n%s", w, r)
		}
	}
	return r
}

// RunComposer runs the composer binary and captures its output and exit code.
func RunComposer(t *testing.T, c Cmd) *Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, composerBin, c.Args...)
	cmd.Dir = c.Dir
	cmd.Env = composerEnv(c.Env)
	cmd.Stdin = strings.NewReader(c.Stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := &Result{Args: c.Args, Stdout: stdout.String(), Stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		r.ExitCode = exitErr.ExitCode()
	default:
		t.Fatalf("running composer %v: %v", c.Args, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("composer %v did not finish within %s:\n%s", c.Args, commandTimeout, r)
	}
	t.Logf("composer %s -> %d", strings.Join(c.Args, " "), r.ExitCode)
	return r
}

// Docker runs the docker CLI and returns its trimmed stdout, failing the test
// if it fails.
func Docker(t *testing.T, args ...string) string {
	t.Helper()
	out, err := docker(args...)
	if err != nil {
		t.Fatalf("docker %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// docker runs the docker CLI; the error holds stderr.
func docker(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), errors.New(err.Error() + ": " + strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// Eventually polls cond every 100ms until it returns true, failing the test
// after timeout.
func Eventually(t *testing.T, timeout time.Duration, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// RemoveProject brings a project down with composer, then force-removes
// whatever still carries its project label, so a failing composer cannot leak
// resources into later runs.
func RemoveProject(t *testing.T, name string) {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, composerBin, "-p", name, "down", "-v", "--remove-orphans", "-t", "1")
	cmd.Dir = dir
	cmd.Env = composerEnv(nil)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Logf("cleanup: composer -p %s down: %v\n%s", name, err, out)
	}
	filter := "label=" + projectLabel + "=" + name
	if ids := fields(docker("ps", "-aq", "--filter", filter)); len(ids) > 0 {
		t.Logf("cleanup: %d container(s) left by down", len(ids))
		_, _ = docker(append([]string{"rm", "-f", "-v"}, ids...)...)
	}
	if ids := fields(docker("network", "ls", "-q", "--filter", filter)); len(ids) > 0 {
		t.Logf("cleanup: %d network(s) left by down", len(ids))
		_, _ = docker(append([]string{"network", "rm"}, ids...)...)
	}
	if ids := fields(docker("volume", "ls", "-q", "--filter", filter)); len(ids) > 0 {
		t.Logf("cleanup: %d volume(s) left by down -v", len(ids))
		_, _ = docker(append([]string{"volume", "rm", "-f"}, ids...)...)
	}
}

func fields(out string, err error) []string {
	if err != nil {
		return nil
	}
	return strings.Fields(out)
}

// dumpProject logs what helps to understand a failure: the project's
// containers, composer's view of their logs, and each container's own logs.
func dumpProject(t *testing.T, name, dir string) {
	t.Helper()
	filter := "label=" + projectLabel + "=" + name
	ps, _ := docker("ps", "-a", "--filter", filter, "--format", "{{.Names}}\t{{.Status}}")
	t.Logf("containers of %s:\n%s", name, ps)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, composerBin, "-p", name, "logs", "--no-color", "--tail", "50")
	cmd.Dir = dir
	cmd.Env = composerEnv(nil)
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Logf("composer logs:\n%s", out)
	}
	names, _ := docker("ps", "-a", "--filter", filter, "--format", "{{.Names}}")
	for _, n := range strings.Fields(names) {
		out, _ := exec.Command("docker", "logs", "--tail", "50", n).CombinedOutput()
		t.Logf("docker logs %s:\n%s", n, out)
	}
}
