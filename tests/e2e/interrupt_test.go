package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// trialServices is the size of the project interrupted in the trials: big
// enough that an up or a down takes seconds on the engine, so that a
// signal lands while requests are under way.
const trialServices = 16

// trialProject is a project of trialServices services in chains of four,
// sharing a named volume; every fourth one ignores its stop signal and is
// killed at the end of its grace period, so that stops are still under
// way inside the engine for a while after they were asked for.
func trialProject() string {
	var b strings.Builder
	b.WriteString("services:\n")
	for i := 1; i <= trialServices; i++ {
		fmt.Fprintf(&b, "  s%02d:\n    image: IMAGE\n    volumes: [data:/data]\n", i)
		if i%4 != 1 {
			fmt.Fprintf(&b, "    depends_on: [s%02d]\n", i-1)
		}
		if i%4 == 0 {
			// PID 1 ignores a signal it has no handler for.
			b.WriteString("    stop_signal: SIGUSR1\n    stop_grace_period: 2s\n")
		}
	}
	b.WriteString("volumes:\n  data: {}\n")
	return b.String()
}

// trial is one interrupt: which command, which signal, and when.
type trial struct {
	op     string // "up" or "down"
	signal syscall.Signal
	after  time.Duration
}

func (tr trial) String() string {
	sig := "SIGINT"
	if tr.signal == syscall.SIGKILL {
		sig = "SIGKILL"
	}
	return fmt.Sprintf("%s-%s-after-%s", tr.op, sig, tr.after.Round(10*time.Millisecond))
}

// trials draws n trials from seed, cycling through both commands and both
// signals so that any 4 consecutive trials cover every combination.
func trials(seed uint64, n int) []trial {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var out []trial
	for i := range n {
		tr := trial{op: "up", signal: syscall.SIGINT}
		if i%2 == 1 {
			tr.signal = syscall.SIGKILL
		}
		if i%4 >= 2 {
			tr.op = "down"
		}
		// Up takes several seconds for this project here, down a few:
		// the signal lands anywhere from the first requests to the last.
		limit := 5 * time.Second
		if tr.op == "down" {
			limit = 3 * time.Second
		}
		tr.after = 100*time.Millisecond + time.Duration(rng.Int64N(int64(limit)))
		out = append(out, tr)
	}
	return out
}

// envInt reads a positive integer from the environment, or def.
func envInt(t *testing.T, key string, def uint64) uint64 {
	v := os.Getenv(key)
	if v == "" {
		return def
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		t.Fatalf("%s=%q: %v", key, v, err)
	}
	return n
}

// TestInterruptTrials interrupts up -d and down with SIGINT or SIGKILL at
// random moments, then checks that the next up -d brings every service up
// exactly once and the next down removes everything but the named volume.
// COMPOSER_TRIALS sets how many (make stress runs 50), COMPOSER_TRIAL_SEED
// replays a run: the seed is printed first.
func TestInterruptTrials(t *testing.T) {
	t.Parallel()
	seed := envInt(t, "COMPOSER_TRIAL_SEED", uint64(time.Now().UnixNano()))
	n := envInt(t, "COMPOSER_TRIALS", 8)
	t.Logf("interrupt trials: %d, seed %d (replay with COMPOSER_TRIAL_SEED=%d)", n, seed, seed)
	// A few trials at a time: each runs 16 containers, and the other
	// scenarios, which run beside them, time things in seconds.
	slots := make(chan struct{}, envInt(t, "COMPOSER_TRIAL_PARALLEL", 2))
	var mu sync.Mutex
	var failed []string
	for i, tr := range trials(seed, int(n)) {
		t.Run(fmt.Sprintf("%02d-%s", i, tr), func(t *testing.T) {
			t.Parallel()
			slots <- struct{}{}
			defer func() { <-slots }()
			runTrial(t, tr)
			if t.Failed() {
				mu.Lock()
				failed = append(failed, tr.String())
				mu.Unlock()
			}
		})
	}
	t.Cleanup(func() {
		if len(failed) > 0 {
			t.Logf("seed %d: %d of %d trials did not recover: %v", seed, len(failed), n, failed)
		}
	})
}

func runTrial(t *testing.T, tr trial) {
	p := NewProject(t, trialProject())
	if tr.op == "down" {
		p.Up()
	}
	args := []string{"-p", p.Name, tr.op}
	if tr.op == "up" {
		args = append(args, "-d")
	}
	code, early := interrupted(t, p.Dir, args, tr.signal, tr.after)
	t.Logf("%s: the interrupted command ended with %d", tr, code)
	if tr.signal == syscall.SIGINT && code != 0 && code != 130 && !early {
		t.Errorf("after SIGINT: exit code %d, want 130 (or 0 if it had finished)", code)
	}

	p.Up()
	expectRunningOnce(t, p)
	p.Compose("down").Success(t)
	expectNothingBut(t, p, p.Name+"_data")
}

// interrupted starts composer, sends sig after d and returns its exit code
// (-1 when it was killed). early reports a SIGINT that came before the
// program had installed its handler, under load some 300 ms after exec,
// and so before it had done anything: the default action ended it.
func interrupted(t *testing.T, dir string, args []string, sig syscall.Signal, d time.Duration) (code int, early bool) {
	t.Helper()
	cmd := exec.Command(composerBin, args...)
	cmd.Dir = dir
	cmd.Env = composerEnv(nil)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		t.Logf("composer %v finished before the signal (%v):\n%s", args, err, out.String())
		return cmd.ProcessState.ExitCode(), false
	case <-time.After(d):
	}
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	// A first SIGINT lets the requests under way finish: the longest is
	// a stop, bounded by the 2 s grace period.
	select {
	case <-done:
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("composer %v did not end within a minute of %s:\n%s", args, sig, out.String())
	}
	t.Logf("composer %v after %s:\n%s", args, sig, out.String())
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	early = sig == syscall.SIGINT && ws.Signaled() && ws.Signal() == syscall.SIGINT && out.Len() == 0
	return cmd.ProcessState.ExitCode(), early
}

// projectContainers lists the project's containers as "name state".
func projectContainers(t *testing.T, project string) []string {
	t.Helper()
	out := Docker(t, "ps", "-a", "--filter", "label="+projectLabel+"="+project, "--format", "{{.Names}} {{.State}}")
	lines := strings.Split(out, "\n")
	if out == "" {
		lines = nil
	}
	slices.Sort(lines)
	return lines
}

// expectRunningOnce checks that every service of the trial project has
// exactly one container, under its own name, running, and that nothing
// else of the project exists. Containers that were being stopped exit a
// moment after a careless up: the check looks again a little later.
func expectRunningOnce(t *testing.T, p *Project) {
	t.Helper()
	var want []string
	for i := 1; i <= trialServices; i++ {
		want = append(want, p.ContainerName(fmt.Sprintf("s%02d", i), 1)+" running")
	}
	slices.Sort(want)
	for _, when := range []string{"right after up", "3 s later"} {
		if got := projectContainers(t, p.Name); !slices.Equal(got, want) {
			t.Fatalf("%s: containers =\n%s\nwant\n%s", when, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		time.Sleep(3 * time.Second)
	}
}

// expectNothingBut checks that down left no container or network of the
// project, and kept the named volume.
func expectNothingBut(t *testing.T, p *Project, volume string) {
	t.Helper()
	filter := "label=" + projectLabel + "=" + p.Name
	if cs := projectContainers(t, p.Name); len(cs) > 0 {
		t.Errorf("down left containers: %v", cs)
	}
	if ns := Docker(t, "network", "ls", "-q", "--filter", filter); ns != "" {
		t.Errorf("down left networks: %s", ns)
	}
	if vs := Docker(t, "volume", "ls", "-q", "--filter", filter); vs != volume {
		t.Errorf("volumes after down = %q, want the named volume %s kept", vs, volume)
	}
}

// TestConcurrentWriters runs three up -d at once on one project, then two
// downs: each waits for the one before, all succeed, and the project ends
// with one container per service, then with none.
func TestConcurrentWriters(t *testing.T) {
	t.Parallel()
	p := NewProject(t, trialProject())
	results := make([]*Result, 3)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() { results[i] = p.Compose("up", "-d") })
	}
	wg.Wait()
	waited := 0
	for _, r := range results {
		r.Success(t)
		if strings.Contains(r.Stderr, "waiting: project") {
			waited++
		}
	}
	if waited == 0 {
		t.Errorf("no up said it waited for another: did they run at once?")
	}
	expectRunningOnce(t, p)
	downs := make([]*Result, 2)
	for i := range downs {
		wg.Go(func() { downs[i] = p.Compose("down") })
	}
	wg.Wait()
	for _, r := range downs {
		r.Success(t)
	}
	expectNothingBut(t, p, p.Name+"_data")
}

// TestNameCollisionBetweenDirectories: two directories of the same name
// are one project by default. The second may neither remove the first
// one's containers as orphans nor stop them; -p NAME without a file still
// manages the project from anywhere.
func TestNameCollisionBetweenDirectories(t *testing.T) {
	t.Parallel()
	name := "e2e-" + randomSuffix()
	root := t.TempDir()
	first, second := filepath.Join(root, "src", name), filepath.Join(root, "old", name)
	write := func(dir, content string) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(withImage(content)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(first, "services:\n  web: {image: IMAGE}\n  db: {image: IMAGE}\n")
	write(second, "services:\n  other: {image: IMAGE}\n")
	t.Cleanup(func() { RemoveProject(t, name) })
	RunComposer(t, Cmd{Dir: first, Args: []string{"up", "-d"}}).Success(t)
	before := projectContainers(t, name)

	for _, args := range [][]string{{"up", "-d", "--remove-orphans"}, {"down"}, {"stop"}} {
		RunComposer(t, Cmd{Dir: second, Args: args}).Failure(t, 1).Mentions(t, first, second, "-p NAME")
	}
	if after := projectContainers(t, name); !slices.Equal(after, before) {
		t.Fatalf("the second directory touched the first one's containers:\n%v\nwas\n%v", after, before)
	}
	// An explicit name means that project: a warning, and it acts.
	RunComposer(t, Cmd{Dir: second, Args: []string{"-p", name, "up", "-d"}}).Success(t).Mentions(t, "warning:", first)
	RunComposer(t, Cmd{Dir: t.TempDir(), Args: []string{"-p", name, "down", "--remove-orphans"}}).Success(t)
	if left := projectContainers(t, name); len(left) > 0 {
		t.Fatalf("down -p %s from elsewhere left %v", name, left)
	}
}
