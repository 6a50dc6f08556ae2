package watch

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
)

// recorder is an Actions that remembers what it was asked, and can hold
// a rebuild until released.
type recorder struct {
	mu       sync.Mutex
	syncs    [][]Change
	rebuilds int
	restarts int
	execs    int
	// hold, when set, blocks each rebuild until it receives.
	hold chan struct{}
	// inRebuild is signalled when a rebuild begins.
	inRebuild chan struct{}
}

func (r *recorder) Rebuild(ctx context.Context, service string) error {
	if r.inRebuild != nil {
		r.inRebuild <- struct{}{}
	}
	if r.hold != nil {
		<-r.hold
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rebuilds++
	return nil
}

func (r *recorder) Sync(ctx context.Context, service string, changes []Change) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.syncs = append(r.syncs, changes)
	return nil
}

func (r *recorder) Restart(ctx context.Context, service string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.restarts++
	return nil
}

func (r *recorder) Exec(ctx context.Context, service string, hook types.ServiceHook) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.execs++
	return nil
}

// synced is the last state of every container path the syncs reached:
// true for copied, false for deleted.
func (r *recorder) synced() map[string]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]bool{}
	for _, b := range r.syncs {
		for _, c := range b {
			out[c.ContainerPath] = !c.Deleted
		}
	}
	return out
}

func (r *recorder) counts() (syncs, rebuilds int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.syncs), r.rebuilds
}

// start runs a watch over rules in the background; the returned function
// stops it and fails the test if Run does not return nil.
func start(t *testing.T, rules []Rule, acts Actions) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Rules: rules, Report: func(e Event) {
			if e.Kind == Enabled {
				select {
				case <-ready:
				default:
					close(ready)
				}
			}
		}}, acts)
	}()
	select {
	case <-ready:
	case <-time.After(5 * time.Second):
		t.Fatal("watch did not start")
	}
	return func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Run did not return after cancel")
		}
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func write(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func syncRules(t *testing.T, dir string, initial bool) []Rule {
	t.Helper()
	rules, _, err := ServiceRules(types.ServiceConfig{Name: "web", Develop: &types.DevelopConfig{Watch: []types.Trigger{
		{Path: dir, Action: types.WatchActionSync, Target: "/app", Ignore: []string{"ignored/", "*.tmp"}, InitialSync: initial},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	return rules
}

func TestRunSyncs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "old.txt"), "old")
	write(t, filepath.Join(dir, "before.txt"), "before")
	rec := &recorder{}
	stop := start(t, syncRules(t, dir, true), rec)
	defer stop()
	// initial_sync copies what was there.
	eventually(t, "the initial sync", func() bool { return rec.synced()["/app/before.txt"] })

	write(t, filepath.Join(dir, "new.txt"), "new")
	write(t, filepath.Join(dir, "a", "b", "c", "deep.txt"), "deep") // directories made at once
	write(t, filepath.Join(dir, "ignored", "x.txt"), "no")
	write(t, filepath.Join(dir, "scratch.tmp"), "no")
	if err := os.Remove(filepath.Join(dir, "old.txt")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the changes", func() bool {
		s := rec.synced()
		return s["/app/new.txt"] && s["/app/a/b/c/deep.txt"] && !s["/app/old.txt"] && hasKey(s, "/app/old.txt")
	})
	s := rec.synced()
	for _, p := range []string{"/app/ignored/x.txt", "/app/ignored", "/app/scratch.tmp"} {
		if hasKey(s, p) {
			t.Errorf("%s was synced, but is ignored", p)
		}
	}
}

func hasKey(m map[string]bool, k string) bool { _, ok := m[k]; return ok }

// A burst of writes is coalesced: far fewer syncs than writes, and every
// file's last state arrives.
func TestRunCoalescesABurst(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rec := &recorder{}
	stop := start(t, syncRules(t, dir, false), rec)
	defer stop()
	for i := 0; i < 100; i++ {
		write(t, filepath.Join(dir, "f"+itoa(i%20)), "x")
	}
	eventually(t, "every file", func() bool { return len(rec.synced()) == 20 })
	time.Sleep(200 * time.Millisecond)
	if n, _ := rec.counts(); n > 5 {
		t.Errorf("100 writes in a burst made %d syncs, want a handful", n)
	}
}

func rebuildRules(t *testing.T, dir string) []Rule {
	t.Helper()
	rules, _, err := ServiceRules(types.ServiceConfig{Name: "api",
		WorkloadSpec: types.WorkloadSpec{Build: &types.BuildConfig{Context: dir}},
		Develop:      &types.DevelopConfig{Watch: []types.Trigger{{Path: dir, Action: types.WatchActionRebuild}}}})
	if err != nil {
		t.Fatal(err)
	}
	return rules
}

// Many changes make one rebuild; changes during a rebuild make exactly
// one more, after it.
func TestRunRebuildCoalescesAndPicksUpChangesDuringIt(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rec := &recorder{hold: make(chan struct{}), inRebuild: make(chan struct{}, 4)}
	stop := start(t, rebuildRules(t, dir), rec)
	defer stop()
	for i := 0; i < 30; i++ {
		write(t, filepath.Join(dir, "src", "f"+itoa(i)), "x")
	}
	select {
	case <-rec.inRebuild:
	case <-time.After(5 * time.Second):
		t.Fatal("no rebuild")
	}
	// While it rebuilds, more changes come.
	for i := 0; i < 10; i++ {
		write(t, filepath.Join(dir, "during"+itoa(i)), "x")
	}
	time.Sleep(300 * time.Millisecond) // settled, yet held back by the rebuild
	if len(rec.inRebuild) != 0 {
		t.Fatal("a second rebuild began while the first ran")
	}
	rec.hold <- struct{}{}
	select {
	case <-rec.inRebuild:
	case <-time.After(5 * time.Second):
		t.Fatal("the changes made during the rebuild were not picked up")
	}
	rec.hold <- struct{}{}
	time.Sleep(300 * time.Millisecond)
	if _, n := rec.counts(); n != 2 {
		t.Fatalf("want 2 rebuilds, got %d", n)
	}
}

// Cancelling waits for the work under way.
func TestRunStopWaitsForWork(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rec := &recorder{hold: make(chan struct{}), inRebuild: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	enabled := make(chan struct{})
	report := func(e Event) {
		if e.Kind == Enabled {
			close(enabled)
		}
	}
	go func() { done <- Run(ctx, Options{Rules: rebuildRules(t, dir), Report: report}, rec) }()
	<-enabled
	write(t, filepath.Join(dir, "x"), "x")
	<-rec.inRebuild
	cancel()
	select {
	case <-done:
		t.Fatal("Run returned while a rebuild was under way")
	case <-time.After(100 * time.Millisecond):
	}
	close(rec.hold)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, n := rec.counts(); n != 1 {
		t.Fatalf("want the rebuild finished, got %d", n)
	}
}
