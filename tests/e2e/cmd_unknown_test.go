package e2e

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestUnknownCommandAndFlag checks that a command or flag that does not
// exist is a usage error: exit 1, a message on stderr, nothing on stdout;
// never the help with exit 0.
func TestUnknownCommandAndFlag(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate" for "composer"`},
		{[]string{"up", "--frobnicate"}, "unknown flag: --frobnicate\nSee 'composer up --help'."},
		{[]string{"--frobnicate", "ps"}, "unknown flag: --frobnicate"},
		{[]string{"help", "frobnicate"}, "unknown help topic: frobnicate"},
	} {
		r := RunComposer(t, Cmd{Dir: dir, Args: tt.args})
		if r.ExitCode != 1 || r.Stdout != "" || !strings.Contains(r.Stderr, tt.want) {
			t.Errorf("want exit 1, no output and %q on stderr:\n%s", tt.want, r)
		}
	}
}

// TestUnknownCommandUnderTheDockerCLI checks the same through the real
// Docker CLI running composer as its plugin, from a DOCKER_CONFIG of the
// test's own.
func TestUnknownCommandUnderTheDockerCLI(t *testing.T) {
	t.Parallel()
	config := t.TempDir()
	plugins := filepath.Join(config, "cli-plugins")
	if err := os.MkdirAll(plugins, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(composerBin, filepath.Join(plugins, "docker-composer")); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"composer", "frobnicate"}, `unknown command "frobnicate" for "docker composer"`},
		{[]string{"composer", "up", "--frobnicate"}, "unknown flag: --frobnicate\nSee 'docker composer up --help'."},
		{[]string{"composer", "help", "frobnicate"}, "unknown help topic: frobnicate"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		cmd := exec.CommandContext(ctx, "docker", tt.args...)
		cmd.Env = append(composerEnv(nil), "DOCKER_CONFIG="+config)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		cancel()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("docker %v: %v", tt.args, err)
		}
		if code != 1 || stdout.Len() != 0 || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("docker %s: exit %d, want 1 with %q on stderr and nothing on stdout:\n--- stdout\n%s--- stderr\n%s",
				strings.Join(tt.args, " "), code, tt.want, stdout.String(), stderr.String())
		}
	}
}
