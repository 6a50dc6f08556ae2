// Package e2e holds end-to-end scenarios: each builds a small compose project
// in a temporary directory, runs the composer binary against the real Docker
// engine, and checks what the engine holds afterwards (containers, labels,
// networks, volumes, start times, exit codes).
//
// TestMain builds the composer binary and the test image once. A missing
// engine is a failure, not a skip: these tests are the contract.
//
// Set COMPOSER_BIN to test an already built binary instead.
package e2e

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/composer-orchestrator/composer/tests/testbin"
	"github.com/composer-orchestrator/composer/tests/testimage"
)

// composerBin is the binary under test, set once by TestMain.
var composerBin string

// testImage is the image every scenario runs (see tests/testimage).
const testImage = testimage.DefaultTag

// defaultParallel is how many scenarios run at once unless -parallel is
// given. Scenarios mostly wait on the engine, so more than the CPU count pays.
const defaultParallel = 6

func TestMain(m *testing.M) {
	flag.Parse()
	setByUser := false
	flag.Visit(func(f *flag.Flag) {
		if f.Name == "test.parallel" {
			setByUser = true
		}
	})
	if !setByUser {
		_ = flag.Set("test.parallel", fmt.Sprint(defaultParallel))
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	if out, err := exec.CommandContext(ctx, "docker", "version", "--format", "{{.Server.Version}}").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: the Docker engine is unreachable (start dockerd): %v\n%s", err, out)
		return 1
	}
	if err := testimage.Build(ctx, testImage); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: building the test image: %v\n", err)
		return 1
	}

	bin, cleanup, err := testbin.Build(ctx)
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	defer cleanup()
	composerBin = bin
	return m.Run()
}

// moduleRoot is the repository root.
func moduleRoot() string { return testbin.ModuleRoot() }

// composerEnv is the environment composer runs with: the test process's own,
// minus anything that would change how a project is loaded, plus extra.
func composerEnv(extra []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "COMPOSE_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}
