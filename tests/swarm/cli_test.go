package swarm

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/composer-orchestrator/composer/tests/testbin"
	"github.com/composer-orchestrator/composer/tests/testimage"
)

// composerBin is the binary under test, built by TestMain (or
// COMPOSER_BIN).
var composerBin string

// testImage is the image the stacks run (see tests/testimage). It exists
// only on this engine, which a one-node swarm can run.
const testImage = testimage.DefaultTag

// commandTimeout bounds one command of a test.
const commandTimeout = 5 * time.Minute

// buildComposer builds the binary and the test image; it returns a
// function removing the binary's directory.
func buildComposer(ctx context.Context) (func(), error) {
	if err := testimage.Build(ctx, testImage); err != nil {
		return nil, fmt.Errorf("build the test image: %w", err)
	}
	bin, cleanup, err := testbin.Build(ctx)
	composerBin = bin
	return cleanup, err
}

// project is a compose project in a temporary directory, named uniquely.
type project struct {
	t    *testing.T
	dir  string
	name string
}

func newProject(t *testing.T, compose string) *project {
	t.Helper()
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	p := &project{t: t, dir: t.TempDir(), name: "swarm" + hex.EncodeToString(b)}
	p.write("compose.yaml", compose)
	return p
}

func (p *project) write(name, content string) {
	p.t.Helper()
	content = strings.ReplaceAll(content, "IMAGE", testImage)
	if err := os.WriteFile(filepath.Join(p.dir, name), []byte(content), 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// result is what a finished command left behind.
type result struct {
	args     []string
	stdout   string
	stderr   string
	exitCode int
}

func (r *result) String() string {
	return "composer " + strings.Join(r.args, " ") + fmt.Sprintf("\nexit code: %d", r.exitCode) +
		"\n--- stdout\n" + r.stdout + "\n--- stderr\n" + r.stderr
}

func (r *result) success(t *testing.T) *result {
	t.Helper()
	if r.exitCode != 0 {
		t.Fatalf("command failed:\n%s", r)
	}
	return r
}

func (r *result) mentions(t *testing.T, wants ...string) *result {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(r.stdout+r.stderr, w) {
			t.Errorf("output does not mention %q:\n%s", w, r)
		}
	}
	return r
}

// composer runs the binary in the project's directory, with -p its name
// and plain progress.
func (p *project) composer(args ...string) *result {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	args = append([]string{"-p", p.name, "--progress", "plain"}, args...)
	cmd := exec.CommandContext(ctx, composerBin, args...)
	cmd.Dir = p.dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "COMPOSE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := &result{args: args, stdout: stdout.String(), stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		r.exitCode = exitErr.ExitCode()
	default:
		p.t.Fatalf("running composer %v: %v", args, err)
	}
	if ctx.Err() != nil {
		p.t.Fatalf("composer %v did not finish within %s:\n%s", args, commandTimeout, r)
	}
	p.t.Logf("composer %s -> %d", strings.Join(args, " "), r.exitCode)
	return r
}

// dockerCLI runs the docker CLI and returns its trimmed output, failing
// the test if it fails.
func dockerCLI(t *testing.T, args ...string) string {
	t.Helper()
	out, err := runDocker(args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// runDocker runs the docker CLI; the error holds its stderr.
func runDocker(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("docker %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(stdout.String()), nil
}

// eventually polls cond until it holds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, timeout)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// leftovers lists what the engine still holds of a stack: services,
// networks, configs, secrets and containers carrying its namespace label;
// stopped containers too when stopped is set.
func leftovers(t *testing.T, name string, stopped bool) []string {
	t.Helper()
	label := "label=com.docker.stack.namespace=" + name
	ps := []string{"ps", "-q", "--filter", label}
	if stopped {
		ps = []string{"ps", "-aq", "--filter", label}
	}
	var out []string
	for _, args := range [][]string{
		{"service", "ls", "-q", "--filter", label},
		{"network", "ls", "-q", "--filter", label},
		{"config", "ls", "-q", "--filter", label},
		{"secret", "ls", "-q", "--filter", label},
		ps,
	} {
		if s := dockerCLI(t, args...); s != "" {
			out = append(out, args[0]+": "+strings.ReplaceAll(s, "\n", " "))
		}
	}
	return out
}

// cleanup removes whatever a test's stack left, whatever happened: with
// undeploy -v, and docker stack rm should that fail.
func (p *project) cleanup() {
	p.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		undeploy := exec.CommandContext(ctx, composerBin, "-p", p.name, "undeploy", "-v", "-t", "60")
		undeploy.Dir = p.dir
		if out, err := undeploy.CombinedOutput(); err != nil {
			p.t.Logf("cleanup: undeploy -v: %v\n%s", err, out)
			_ = exec.CommandContext(ctx, "docker", "stack", "rm", p.name).Run()
		}
	})
}
