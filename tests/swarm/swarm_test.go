// Package swarm holds the tests that need a Docker Swarm: the swarm
// behaviour suite against the Docker adapter, and scenarios of composer
// deploy run against the real engine.
//
// TestMain makes the engine a one-node swarm for the run if it is in none
// ("docker swarm init --advertise-addr 127.0.0.1") and leaves that swarm
// afterwards, whatever becomes of the tests; an engine that already
// manages a swarm is used as it is and left alone. Since a swarm changes
// the engine for every other test (its networks, "docker info"), this
// package runs alone, after the others. A missing engine is a failure,
// not a skip.
package swarm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/composer-orchestrator/composer/engine/docker"
)

// swarmStarted is true when TestMain made the engine a swarm for this run,
// and leaves it afterwards; false when the engine already managed a
// swarm, which the tests share with whatever else runs there and must
// leave as they found it.
var swarmStarted bool

// testsEnv tells the process that runs the tests apart from the one that
// supervises them; its value says whether the supervisor started the swarm.
const testsEnv = "COMPOSER_SWARM_TESTS"

// The values of testsEnv.
const (
	swarmStartedHere = "started"
	swarmExisting    = "existing"
)

// TestMain runs the tests in a child process: this one prepares the swarm,
// starts the child and waits for it, and leaves the swarm once the child
// has ended, however it ended. A test that panics, or the test binary's
// own timeout, ends the process running the tests at once, without its
// deferred calls; only another process can still clean up after it.
func TestMain(m *testing.M) {
	if mode, ok := os.LookupEnv(testsEnv); ok {
		swarmStarted = mode == swarmStartedHere
		os.Exit(runTests(m))
	}
	os.Exit(supervise())
}

// runTests builds what the tests need and runs them.
func runTests(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	done, err := buildComposer(ctx)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "swarm tests: %v\n", err)
		return 1
	}
	defer done()
	return m.Run()
}

// supervise prepares the engine's swarm, runs the tests in a child process
// and returns its exit code, after leaving the swarm if it started it.
func supervise() int {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	e, err := docker.New(ctx, "")
	if err != nil {
		fmt.Fprintf(os.Stderr, "swarm tests: %v\n", err)
		return 1
	}
	st, err := e.SwarmState(ctx)
	_ = e.Close()
	if err != nil {
		fmt.Fprintf(os.Stderr, "swarm tests: asking the engine about its swarm: %v\n", err)
		return 1
	}
	mode := swarmExisting
	switch {
	case st.NodeState == "inactive":
		// Swarm mode makes a bridge network, docker_gwbridge, that
		// leaving the swarm keeps; it goes too if it was not there before.
		// So do the containers of tasks that leaving leaves behind (those
		// the swarm was still creating when a test was cut short).
		before := engineState{bridge: docker0(ctx, "network", "inspect", "docker_gwbridge") == nil}
		if before.tasks, err = taskContainers(ctx); err != nil {
			fmt.Fprintf(os.Stderr, "swarm tests: %v\n", err)
			return 1
		}
		start := time.Now()
		if err := docker0(ctx, "swarm", "init", "--advertise-addr", "127.0.0.1"); err != nil {
			fmt.Fprintf(os.Stderr, "swarm tests: making the engine a swarm: %v\n", err)
			return 1
		}
		fmt.Fprintf(os.Stderr, "swarm tests: the engine is a one-node swarm for this run (docker swarm init took %s)\n", time.Since(start).Round(time.Millisecond))
		mode = swarmStartedHere
		defer leaveSwarm(before)
	case st.NodeState == "active" && st.Manager:
		fmt.Fprintln(os.Stderr, "swarm tests: using the engine's swarm, which they leave as it is")
	default:
		fmt.Fprintf(os.Stderr, "swarm tests: the engine's swarm state is %q (manager: %v); the tests need a swarm manager, or an engine in no swarm, which they make one for their run\n", st.NodeState, st.Manager)
		return 1
	}
	return runChild(mode)
}

// runChild runs this test binary again, with the same arguments, as the
// process that runs the tests, and returns its exit code.
func runChild(mode string) int {
	cmd := exec.Command(os.Args[0], os.Args[1:]...)
	cmd.Env = append(os.Environ(), testsEnv+"="+mode)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// Ctrl-C reaches the whole process group, the child too: this process
	// outlives it to clean up. A signal sent to this process alone is
	// passed on to the child.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGQUIT)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "swarm tests: starting the tests: %v\n", err)
		return 1
	}
	waited := make(chan struct{})
	defer close(waited)
	go func() {
		for {
			select {
			case s := <-sigs:
				_ = cmd.Process.Signal(s)
			case <-waited:
				return
			}
		}
	}()
	err := cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code >= 0 {
		return code
	}
	fmt.Fprintf(os.Stderr, "swarm tests: the tests ended: %v\n", err)
	return 1
}

// engineState is what TestMain notes of an engine before it makes it a
// swarm, to leave it as it was.
type engineState struct {
	bridge bool            // docker_gwbridge exists
	tasks  map[string]bool // ids of task containers
}

// taskContainers returns the ids of the containers of swarm tasks.
func taskContainers(ctx context.Context) (map[string]bool, error) {
	out, err := exec.CommandContext(ctx, "docker", "ps", "-aq", "--no-trunc", "--filter", "label=com.docker.swarm.task.id").Output()
	if err != nil {
		return nil, fmt.Errorf("listing task containers: %w", err)
	}
	ids := map[string]bool{}
	for _, id := range strings.Fields(string(out)) {
		ids[id] = true
	}
	return ids, nil
}

// leaveSwarm leaves the swarm TestMain started, and removes what it left
// behind that was not there before: task containers and the bridge
// network of swarm mode.
func leaveSwarm(before engineState) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := docker0(ctx, "swarm", "leave", "--force"); err != nil {
		fmt.Fprintf(os.Stderr, "swarm tests: leaving the swarm they started: %v\n", err)
		return
	}
	after, err := taskContainers(ctx)
	if err != nil {
		fmt.Fprintf(os.Stderr, "swarm tests: %v\n", err)
	}
	for id := range after {
		if !before.tasks[id] {
			if err := docker0(ctx, "rm", "-f", "-v", id); err != nil {
				fmt.Fprintf(os.Stderr, "swarm tests: removing a task container left behind: %v\n", err)
			}
		}
	}
	if before.bridge {
		return
	}
	// The engine lets go of the network a moment after leaving.
	for {
		err := docker0(ctx, "network", "rm", "docker_gwbridge")
		if err == nil || strings.Contains(err.Error(), "not found") {
			return
		}
		if ctx.Err() != nil {
			fmt.Fprintf(os.Stderr, "swarm tests: removing docker_gwbridge: %v\n", err)
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// docker0 runs the docker CLI for its effect; the error holds its output.
func docker0(ctx context.Context, args ...string) error {
	out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
	if err != nil {
		return errors.New("docker " + strings.Join(args, " ") + ": " + err.Error() + ": " + strings.TrimSpace(string(out)))
	}
	return nil
}
