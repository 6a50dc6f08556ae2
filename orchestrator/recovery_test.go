package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/engine/fake"
	"github.com/composer-orchestrator/composer/labels"
)

// chain is a project of n services, each depending on the one before, and
// a named volume: interrupting its up leaves some services made and some
// not.
func chain(t *testing.T, n int) *types.Project {
	t.Helper()
	var b strings.Builder
	b.WriteString("services:\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "  s%02d:\n    image: alpine\n    volumes: [data:/data]\n", i)
		if i > 1 {
			fmt.Fprintf(&b, "    depends_on: [s%02d]\n", i-1)
		}
	}
	b.WriteString("volumes:\n  data: {}\n")
	return loadYAML(t, "proj", b.String())
}

// convergedUp checks the end state every recovery must reach: each
// service running exactly once, under its own name, and nothing else.
func convergedUp(t *testing.T, eng *fake.Engine, p *types.Project) {
	t.Helper()
	cs := containersOf(t, eng, p.Name)
	var want []string
	for _, svc := range p.ServiceNames() {
		want = append(want, "proj-"+svc+"-1")
	}
	if got := names(cs); !slices.Equal(got, want) {
		t.Fatalf("containers = %v, want %v", got, want)
	}
	for _, c := range cs {
		if c.State != engine.StateRunning {
			t.Errorf("%s is %s, want running (%s)", c.Name, c.State, states(cs))
		}
	}
}

// TestInterruptedUpLeavesNothingUnderWay interrupts up while engine calls
// take time, as they do on a real engine, and checks that up returns only
// once the requests it sent are done: nothing changes after it returns,
// and it says which services it did not start.
func TestInterruptedUpLeavesNothingUnderWay(t *testing.T) {
	t.Parallel()
	eng, o, _ := newFake("alpine")
	eng.SetLatency("", 40*time.Millisecond)
	p := chain(t, 8)
	ctx, cancel := context.WithCancel(testCtx(t))
	// Interrupt once the first service runs: the chain is then part way.
	go func() {
		for ctx.Err() == nil {
			if d, err := eng.InspectContainer(ctx, "proj-s01-1"); err == nil && d.State == engine.StateRunning {
				cancel()
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	err := o.Up(ctx, p, UpOptions{})
	var ie *InterruptedError
	if !errors.As(err, &ie) || !errors.Is(err, ErrInterrupted) {
		t.Fatalf("Up = %v, want an InterruptedError", err)
	}
	before := states(containersOf(t, eng, "proj"))
	if err := eng.Quiesce(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if after := states(containersOf(t, eng, "proj")); after != before {
		t.Fatalf("the engine went on after up returned:\n at return: %s\n later:     %s", before, after)
	}
	if len(ie.Undone) == 0 || len(ie.Undone) == 8 {
		t.Fatalf("undone = %v, want some but not all of 8 services (at return: %s)", ie.Undone, before)
	}
	for _, svc := range ie.Undone {
		if c, ok := containersOf(t, eng, "proj")["proj-"+svc+"-1"]; ok && c.State == engine.StateRunning {
			t.Errorf("%s is reported not started but runs", svc)
		}
	}
	mustUp(t, New(eng, nil), p, UpOptions{})
	convergedUp(t, eng, p)
}

// TestAbandonedUpIsRecovered abandons up's requests, as a second Ctrl-C
// or SIGKILL does: the engine carries them out after up has gone. Settling
// and a new up must converge anyway.
func TestAbandonedUpIsRecovered(t *testing.T) {
	t.Parallel()
	for _, cut := range []time.Duration{30 * time.Millisecond, 90 * time.Millisecond, 200 * time.Millisecond} {
		t.Run(cut.String(), func(t *testing.T) {
			t.Parallel()
			eng := fake.New()
			eng.AddImage("alpine")
			eng.SetLatency("", 50*time.Millisecond)
			p := chain(t, 6)
			ctx, cancel := context.WithCancel(testCtx(t))
			time.AfterFunc(cut, cancel)
			began := time.Now()
			// Abandoning with the operation's own context: every request
			// under way is cut when it is cancelled.
			err := New(eng, nil, WithAbandon(ctx)).Up(ctx, p, UpOptions{})
			if !errors.Is(err, ErrInterrupted) && !errors.Is(err, context.Canceled) {
				t.Fatalf("Up = %v, want interrupted", err)
			}
			// The next run comes while the engine is still at work.
			rec := &recorder{}
			o := New(eng, rec)
			if err := o.Settle(testCtx(t), "proj", began, nil); err != nil {
				t.Fatalf("Settle: %v", err)
			}
			mustUp(t, o, p, UpOptions{})
			if err := eng.Quiesce(testCtx(t)); err != nil {
				t.Fatal(err)
			}
			convergedUp(t, eng, p)
		})
	}
}

// TestSettleWaitsForStopsUnderWay reproduces an interrupted down: the
// engine has sent the stop signal and the container has not died yet. An
// up that looked now would keep it running, and it would exit a moment
// later; Settle returns only once it is down.
func TestSettleWaitsForStopsUnderWay(t *testing.T) {
	t.Parallel()
	eng, o, _ := newFake("alpine")
	p := chain(t, 3)
	mustUp(t, o, p, UpOptions{})
	eng.SetLatency("StopContainer", 600*time.Millisecond)
	eng.SetLatency("RemoveContainer", 600*time.Millisecond)
	began := time.Now()
	ctx, cancel := context.WithCancel(testCtx(t))
	time.AfterFunc(100*time.Millisecond, cancel)
	_ = New(eng, nil, WithAbandon(ctx)).Down(ctx, "proj", p, DownOptions{})
	if cs := containersOf(t, eng, "proj"); !strings.Contains(states(cs), "running") {
		t.Fatalf("want a stop still under way when down returns: %s", states(cs))
	}
	if err := o.Settle(testCtx(t), "proj", began, nil); err != nil {
		t.Fatalf("Settle: %v", err)
	}
	settled := states(containersOf(t, eng, "proj"))
	if err := eng.Quiesce(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if later := states(containersOf(t, eng, "proj")); later != settled {
		t.Fatalf("Settle returned with a stop under way:\n settled: %s\n later:   %s", settled, later)
	}
	eng.SetLatency("", 0)
	mustUp(t, o, p, UpOptions{})
	convergedUp(t, eng, p)
}

// TestSettleClearsHalfMade: containers an interrupted run created and
// never started go; a replacement whose old container is gone is renamed
// and kept (it holds the old one's anonymous volumes); what ran stays.
func TestSettleClearsHalfMade(t *testing.T) {
	t.Parallel()
	eng, o, rec := newFake("alpine")
	old := makeContainer(t, eng, "proj-old-1", "old", nil)
	if err := eng.StartContainer(testCtx(t), old); err != nil {
		t.Fatal(err)
	}
	oldStopped := makeContainer(t, eng, "proj-ran-1", "ran", nil)
	if err := eng.StartContainer(testCtx(t), oldStopped); err != nil {
		t.Fatal(err)
	}
	if err := eng.StopContainer(testCtx(t), oldStopped, nil); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	makeContainer(t, eng, "proj-fresh-1", "fresh", nil)
	kept := makeContainer(t, eng, "proj-kept-1", "kept", nil)
	replacedGone := "aaaaaaaaaaaa0000000000000000000000000000000000000000000000000000"
	makeContainer(t, eng, "aaaaaaaaaaaa_proj-web-1", "web", map[string]string{labels.Replace: replacedGone})
	makeContainer(t, eng, shortID(old)+"_proj-old-1", "old", map[string]string{labels.Replace: old})
	if err := eng.StartContainer(testCtx(t), kept); err != nil {
		t.Fatal(err)
	}
	if err := o.Settle(testCtx(t), "proj", began, nil); err != nil {
		t.Fatal(err)
	}
	got := states(containersOf(t, eng, "proj"))
	want := "proj-kept-1=running proj-old-1=running proj-ran-1=exited proj-web-1=created"
	if got != want {
		t.Fatalf("after Settle: %s\nwant:        %s", got, want)
	}
	if w := strings.Join(rec.warnings(), "\n"); !strings.Contains(w, "proj-fresh-1") || !strings.Contains(w, shortID(old)+"_proj-old-1") {
		t.Errorf("warnings do not name the removed containers: %q", w)
	}
}

// makeContainer creates a container of project proj and returns its id.
func makeContainer(t *testing.T, eng *fake.Engine, name, service string, extra map[string]string) string {
	t.Helper()
	l := map[string]string{labels.Project: "proj", labels.Service: service, labels.Number: "1", labels.Oneoff: labels.False}
	for k, v := range extra {
		l[k] = v
	}
	id, err := eng.CreateContainer(testCtx(t), engine.ContainerSpec{Name: name, Image: "alpine", Labels: l})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestDownRemovesContainersThatAppearMeanwhile: a create an earlier run
// sent lands while down works; down looks again and removes it.
func TestDownRemovesContainersThatAppearMeanwhile(t *testing.T) {
	t.Parallel()
	eng, o, _ := newFake("alpine")
	p := chain(t, 2)
	mustUp(t, o, p, UpOptions{})
	eng.SetLatency("CreateContainer", 100*time.Millisecond)
	// A create whose caller is gone: it lands 100ms from now.
	late, lateCancel := context.WithCancel(testCtx(t))
	go func() {
		_, _ = eng.CreateContainer(late, engine.ContainerSpec{Name: "proj-late-1", Image: "alpine", Labels: map[string]string{labels.Project: "proj", labels.Service: "late", labels.Number: "1"}})
	}()
	time.AfterFunc(10*time.Millisecond, lateCancel)
	eng.SetLatency("RemoveContainer", 150*time.Millisecond)
	if err := o.Down(testCtx(t), "proj", nil, DownOptions{}); err != nil {
		t.Fatal(err)
	}
	if cs := containersOf(t, eng, "proj"); len(cs) != 0 {
		t.Fatalf("down left %s", states(cs))
	}
}

// TestCheckOwner: containers made from another directory under a derived
// name are refused, under a given name they are a warning.
func TestCheckOwner(t *testing.T) {
	t.Parallel()
	_, o, rec := newFake("alpine")
	first := chain(t, 1)
	mustUp(t, o, first, UpOptions{})
	if err := o.CheckOwner(testCtx(t), first, func() bool { return false }); err != nil {
		t.Fatalf("the project's own directory: %v", err)
	}
	second := chain(t, 1) // another directory, same name
	err := o.CheckOwner(testCtx(t), second, func() bool { return false })
	var ce *CollisionError
	if !errors.As(err, &ce) {
		t.Fatalf("CheckOwner = %v, want a CollisionError", err)
	}
	for _, want := range []string{first.WorkingDir, second.WorkingDir, "-p"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %q: %v", want, err)
		}
	}
	if err := o.CheckOwner(testCtx(t), second, func() bool { return true }); err != nil {
		t.Fatalf("given name: %v", err)
	}
	if w := strings.Join(rec.warnings(), "\n"); !strings.Contains(w, first.WorkingDir) {
		t.Errorf("no warning naming the other directory: %q", w)
	}
}

// TestSettleAwaitsJournaledRequests: a run killed while the engine was
// still creating its network leaves that request in its journal; settling
// waits for it to land, where the event stream says nothing about it, so
// that the next up finds the network instead of making a second one.
func TestSettleAwaitsJournaledRequests(t *testing.T) {
	t.Parallel()
	eng := fake.New()
	eng.AddImage("alpine")
	eng.SetLatency("CreateNetwork", 2*settleQuiet)
	p := chain(t, 2)
	var mu sync.Mutex
	inFlight := map[Request]bool{}
	record := func(r Request, answered bool) {
		mu.Lock()
		defer mu.Unlock()
		if answered {
			delete(inFlight, r)
		} else {
			inFlight[r] = true
		}
	}
	ctx, cancel := context.WithCancel(testCtx(t))
	time.AfterFunc(100*time.Millisecond, cancel)
	began := time.Now()
	_ = New(eng, nil, WithAbandon(ctx), WithJournal(record)).Up(ctx, p, UpOptions{})
	mu.Lock()
	left := slices.Collect(maps.Keys(inFlight))
	mu.Unlock()
	if !slices.Contains(left, Request{Op: "create", Kind: "network", Name: "proj_default"}) {
		t.Fatalf("in flight = %v, want the network's create", left)
	}
	o := New(eng, nil)
	if err := o.Settle(testCtx(t), "proj", began, left); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.InspectNetwork(testCtx(t), "proj_default"); err != nil {
		t.Fatalf("Settle returned before the network's create landed: %v", err)
	}
	eng.SetLatency("", 0)
	mustUp(t, o, p, UpOptions{})
	convergedUp(t, eng, p)
}
