package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/state"
)

const threeServices = `
services:
  a: {image: alpine}
  b: {image: alpine, depends_on: [a]}
  c: {image: alpine, depends_on: [b]}
`

// background runs a command line on its own goroutine.
func (c *cli) background(interrupts chan os.Signal, args ...string) <-chan result {
	done := make(chan result, 1)
	go func() { done <- c.runWithInterrupts(interrupts, args...) }()
	return done
}

// holding starts up -d with slow starts and returns once it holds the
// project (its first container exists), with where its result arrives.
func (c *cli) holding() <-chan result {
	c.t.Helper()
	c.eng.AddImage("alpine")
	c.eng.SetLatency("StartContainer", 300*time.Millisecond)
	done := c.background(nil, "up", "-d")
	c.eventually("the first up holds the project", func() bool { return len(c.containers("proj")) > 0 })
	return done
}

// TestWritersTakeTurns: a second command changing the project waits for
// the first, says once whom it waits for, then runs; both succeed, and
// the project has one container per service.
func TestWritersTakeTurns(t *testing.T) {
	t.Parallel()
	c := newCLI(t, threeServices)
	first := c.holding()
	second := c.background(nil, "up", "-d")
	r1, r2 := waitResult(t, first), waitResult(t, second)
	for _, r := range []result{r1, r2} {
		if r.code != 0 {
			t.Fatalf("exit code %d:\n%s", r.code, r)
		}
	}
	if n := strings.Count(r2.stderr, "waiting: project \"proj\" is held by pid"); n != 1 {
		t.Errorf("the waiting command said %d times that it waits, want once:\n%s", n, r2)
	}
	if !strings.Contains(r2.stderr, "up -d") {
		t.Errorf("the waiting command does not name the command it waits for:\n%s", r2)
	}
	if got, want := c.containerNames("proj"), []string{"proj-a-1", "proj-b-1", "proj-c-1"}; !slices.Equal(got, want) {
		t.Fatalf("containers = %v, want %v", got, want)
	}
}

// TestLockTimeout: a bounded wait ends with an error naming the holder.
func TestLockTimeout(t *testing.T) {
	t.Parallel()
	c := newCLI(t, threeServices)
	first := c.holding()
	r := c.run("--lock-timeout", "0", "stop")
	if r.code != 1 || !strings.Contains(r.stderr, "held by pid") || !strings.Contains(r.stderr, "--lock-timeout") {
		t.Fatalf("want exit 1 naming the holder and the flag:\n%s", r)
	}
	if r := waitResult(t, first); r.code != 0 {
		t.Fatalf("the first up failed:\n%s", r)
	}
	if r := c.run("--lock-timeout", "nope", "stop"); r.code == 0 {
		t.Fatalf("a bad --lock-timeout was accepted:\n%s", r)
	}
}

// TestReadersDoNotWait: read-only commands run while a writer holds the
// project.
func TestReadersDoNotWait(t *testing.T) {
	t.Parallel()
	c := newCLI(t, threeServices)
	first := c.holding()
	for _, args := range [][]string{{"ps"}, {"logs"}, {"config", "--services"}, {"ls"}, {"images"}} {
		r := c.run(args...)
		if r.code != 0 || strings.Contains(r.stderr, "waiting") {
			t.Errorf("%v waited or failed:\n%s", args, r)
		}
	}
	select {
	case <-first:
		t.Fatal("the writer ended before the readers were done: the test proves nothing")
	default:
	}
	waitResult(t, first)
}

// TestTerminatedUpSaysWhatIsUndone: SIGTERM ends up with 143 once the
// requests under way are done, naming the services it did not start, and
// the next up completes the project.
func TestTerminatedUpSaysWhatIsUndone(t *testing.T) {
	t.Parallel()
	c := newCLI(t, threeServices)
	c.eng.AddImage("alpine")
	c.eng.SetLatency("StartContainer", 200*time.Millisecond)
	interrupts := make(chan os.Signal, 2)
	done := c.background(interrupts, "up", "-d")
	c.eventually("a starts", func() bool { d, ok := c.inspect("proj-a-1"); return ok && d.State == engine.StateRunning })
	interrupts <- syscall.SIGTERM
	r := waitResult(t, done)
	if r.code != 143 {
		t.Fatalf("exit code %d, want 143:\n%s", r.code, r)
	}
	if !strings.Contains(r.stderr, "up interrupted") || !strings.Contains(r.stderr, "services not started") || !strings.Contains(r.stderr, "c") {
		t.Errorf("the interrupt does not say what was left undone:\n%s", r)
	}
	if p := c.pending("proj"); p != nil {
		t.Errorf("a cleanly interrupted run left its journal entry: %+v", p)
	}
	c.eng.SetLatency("StartContainer", 0)
	c.must("up", "-d")
	for _, name := range []string{"proj-a-1", "proj-b-1", "proj-c-1"} {
		if d, ok := c.inspect(name); !ok || d.State != engine.StateRunning {
			t.Errorf("%s is not running after the next up", name)
		}
	}
}

// pending is the journal entry left for project, or nil.
func (c *cli) pending(project string) *state.Entry {
	c.t.Helper()
	e, err := state.Pending(c.stateKey(project))
	if err != nil {
		c.t.Fatal(err)
	}
	return e
}

func (c *cli) stateKey(project string) state.Key {
	return state.Key{Dir: filepath.Join(c.dir, ".local", "state", "composer"), Engine: "fake://" + c.dir, Project: project}
}

// TestUnfinishedRunIsSettled: a journal entry left by a killed run makes
// the next writer settle first and say so; a clean run leaves none.
func TestUnfinishedRunIsSettled(t *testing.T) {
	t.Parallel()
	c := newCLI(t, threeServices)
	c.eng.AddImage("alpine")
	if err := state.Begin(c.stateKey("proj"), state.Entry{Op: "up", Command: "composer up -d", PID: 4242, Started: time.Now().Add(-time.Second)}); err != nil {
		t.Fatal(err)
	}
	r := c.must("up", "-d")
	if !strings.Contains(r.stderr, "did not finish") || !strings.Contains(r.stderr, "pid 4242") {
		t.Errorf("no word of the unfinished run:\n%s", r)
	}
	if p := c.pending("proj"); p != nil {
		t.Errorf("journal entry left after a clean run: %+v", p)
	}
	if r := c.must("up", "-d"); strings.Contains(r.stderr, "did not finish") {
		t.Errorf("settled again after a clean run:\n%s", r)
	}
}

// TestNameCollision: two directories called api are one project by name.
// The second may not touch the first one's containers unless the name is
// given; the first stays managed from anywhere with -p and no file.
func TestNameCollision(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	mk := func(dir string, eng *cli) *cli {
		c := &cli{t: t, eng: eng.eng, dir: filepath.Join(root, dir, "api"), env: []string{"COMPOSE_PROJECT_NAME="}}
		if err := os.MkdirAll(c.dir, 0o755); err != nil {
			t.Fatal(err)
		}
		c.write("compose.yaml", "services:\n  web: {image: alpine}\n  db: {image: alpine}\n")
		return c
	}
	base := newCLI(t, "")
	base.eng.AddImage("alpine")
	src, old := mk("src", base), mk("old", base)
	// One engine, one state directory: both run as the same user.
	old.env = append(old.env, "COMPOSER_STATE_DIR="+filepath.Join(root, "state"))
	src.env = append(src.env, "COMPOSER_STATE_DIR="+filepath.Join(root, "state"))
	src.must("up", "-d")
	before := c2ids(src.containers("api"))

	for _, args := range [][]string{{"up", "-d", "--remove-orphans"}, {"down"}, {"stop"}, {"restart"}, {"rm", "-f", "-s"}} {
		r := old.run(args...)
		if r.code != 1 || !strings.Contains(r.stderr, src.dir) || !strings.Contains(r.stderr, old.dir) || !strings.Contains(r.stderr, "-p") {
			t.Errorf("%v from the second directory: want a refusal naming both directories and -p:\n%s", args, r)
		}
	}
	after := src.containers("api")
	if got := c2ids(after); !slices.Equal(got, before) {
		t.Fatalf("the refused commands touched the first project's containers: %v, was %v", got, before)
	}
	for _, ct := range after {
		if ct.State != engine.StateRunning {
			t.Errorf("%s is %s after the refused commands", ct.Name, ct.State)
		}
	}
	// Named, the second directory means that project: a warning.
	if r := old.must("-p", "api", "stop"); !strings.Contains(r.stderr, src.dir) {
		t.Errorf("no warning naming the other directory:\n%s", r)
	}
	// Without a file, from anywhere, the project is managed by its name.
	nowhere := &cli{t: t, eng: base.eng, dir: t.TempDir(), env: []string{"COMPOSER_STATE_DIR=" + filepath.Join(root, "state")}}
	nowhere.must("-p", "api", "down")
	if cs := src.containers("api"); len(cs) != 0 {
		t.Fatalf("down -p api left %d containers", len(cs))
	}
}

func c2ids(cs []engine.Container) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.ID)
	}
	slices.Sort(out)
	return out
}

// TestSecondInterruptAbandons: the first Ctrl-C waits for the requests
// under way; the second gives up on them at once, and leaves the journal
// entry for the next command to settle from.
func TestSecondInterruptAbandons(t *testing.T) {
	t.Parallel()
	c := newCLI(t, threeServices)
	c.eng.AddImage("alpine")
	c.eng.SetLatency("StartContainer", 10*time.Second)
	interrupts := make(chan os.Signal, 2)
	done := c.background(interrupts, "up", "-d")
	c.eventually("a is being started", func() bool { return c.eng.Calls("StartContainer") > 0 })
	interrupts <- os.Interrupt
	select {
	case r := <-done:
		t.Fatalf("the first interrupt did not wait for the start under way:\n%s", r)
	case <-time.After(300 * time.Millisecond):
	}
	began := time.Now()
	interrupts <- os.Interrupt
	r := waitResult(t, done)
	if took := time.Since(began); took > 2*time.Second {
		t.Errorf("the second interrupt took %s to end the command", took)
	}
	if r.code != 130 {
		t.Errorf("exit code %d, want 130:\n%s", r.code, r)
	}
	if c.pending("proj") == nil {
		t.Fatal("an abandoned run left no journal entry")
	}
}

// TestAttachedUpHoldsOnlyWhileBringingUp: once the project is up and its
// logs are followed, other commands change it without waiting.
func TestAttachedUpHoldsOnlyWhileBringingUp(t *testing.T) {
	t.Parallel()
	c := newCLI(t, "services:\n  web:\n    image: img\n")
	c.eng.AddImage("img")
	interrupts := make(chan os.Signal, 2)
	done := c.attachedUp(interrupts, "proj-web-1", "up")
	c.eventually("the attached up releases the project", func() bool {
		return c.run("--lock-timeout", "0", "restart").code == 0
	})
	select {
	case r := <-done:
		t.Fatalf("the attached up ended:\n%s", r)
	default:
	}
	interrupts <- os.Interrupt
	if r := waitResult(t, done); r.code != 130 {
		t.Fatalf("exit code %d, want 130:\n%s", r.code, r)
	}
}

// TestSuperviseOneAtATime checks that supervise runs until interrupted,
// leaving the project running, and that a second supervisor of the same
// project is refused while the first runs.
func TestSuperviseOneAtATime(t *testing.T) {
	t.Parallel()
	c := newCLI(t, threeServices)
	c.eng.AddImage("alpine")
	c.must("up", "-d")
	interrupts := make(chan os.Signal, 1)
	watches := c.eng.Calls("Events")
	done := c.background(interrupts, "supervise")
	// The supervisor watches the engine's events once it holds the
	// project. Probing the lock itself would race with it: a probe that
	// holds the lock for a moment makes the supervisor's one try fail.
	c.eventually("the supervisor holds the project", func() bool { return c.eng.Calls("Events") > watches })
	if r := c.run("supervise"); r.code != 1 || !strings.Contains(r.stderr, "supervised already") {
		t.Errorf("a second supervisor:\n%s", r)
	}
	if r := c.run("--dry-run", "supervise"); r.code != 1 || !strings.Contains(r.stderr, "--dry-run is not supported by supervise") {
		t.Errorf("a dry run of supervise:\n%s", r)
	}
	if r := c.run("supervise", "--backoff", "0s"); r.code != 1 {
		t.Errorf("--backoff 0s accepted:\n%s", r)
	}
	interrupts <- os.Interrupt
	if r := <-done; r.code != 130 {
		t.Errorf("supervise after Ctrl-C: exit %d, want 130:\n%s", r.code, r)
	}
	for _, ctr := range c.containers("proj") {
		if ctr.State != engine.StateRunning {
			t.Errorf("%s is %s after supervise ended", ctr.Name, ctr.State)
		}
	}
}
