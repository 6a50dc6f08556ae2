package graph

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestNewErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		nodes []string
		deps  map[string][]string
		want  string
	}{
		{"unknown dependency", []string{"web"}, map[string][]string{"web": {"db"}}, `service "web" depends on undefined service "db"`},
		{"self cycle", []string{"a"}, map[string][]string{"a": {"a"}}, "dependency cycle: a -> a"},
		{"three cycle", []string{"c", "b", "a"}, map[string][]string{"a": {"b"}, "b": {"c"}, "c": {"a"}}, "dependency cycle: a -> b -> c -> a"},
		{"cycle below a root", []string{"root", "x", "y"}, map[string][]string{"root": {"x"}, "x": {"y"}, "y": {"x"}}, "dependency cycle: x -> y -> x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for range 20 { // map order must not change the message
				_, err := New(tt.nodes, tt.deps)
				if err == nil || err.Error() != tt.want {
					t.Fatalf("got %v, want %q", err, tt.want)
				}
			}
		})
	}
}

func diamond(t *testing.T) *Graph {
	t.Helper()
	g, err := New([]string{"db", "cache", "api", "web"}, map[string][]string{
		"api": {"db", "cache"},
		"web": {"api"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestOrderAndClosures(t *testing.T) {
	t.Parallel()
	g := diamond(t)
	if got, want := g.Order(), []string{"cache", "db", "api", "web"}; !slices.Equal(got, want) {
		t.Errorf("Order() = %v, want %v", got, want)
	}
	if got, want := g.WithDependencies("api"), []string{"api", "cache", "db"}; !slices.Equal(got, want) {
		t.Errorf("WithDependencies(api) = %v, want %v", got, want)
	}
	if got, want := g.WithDependents("db"), []string{"api", "db", "web"}; !slices.Equal(got, want) {
		t.Errorf("WithDependents(db) = %v, want %v", got, want)
	}
}

// recorder notes when each visit starts and ends so tests can check a
// partial order rather than one exact sequence.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) add(e string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) index(e string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Index(r.events, e)
}

func TestWalkOrder(t *testing.T) {
	t.Parallel()
	for _, reverse := range []bool{false, true} {
		for _, parallel := range []int{0, 1, 2} {
			g := diamond(t)
			var r recorder
			err := g.Walk(context.Background(), WalkOptions{Reverse: reverse, Parallel: parallel}, func(ctx context.Context, n string) error {
				r.add("start " + n)
				time.Sleep(time.Millisecond)
				r.add("end " + n)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range g.Nodes() {
				for _, d := range g.Deps(n) {
					first, second := d, n
					if reverse {
						first, second = n, d
					}
					if r.index("end "+first) > r.index("start "+second) {
						t.Errorf("reverse=%v parallel=%d: %s started before %s ended: %v", reverse, parallel, second, first, r.events)
					}
				}
			}
			if len(r.events) != 8 {
				t.Errorf("want 8 events, got %v", r.events)
			}
		}
	}
}

func TestWalkBoundedConcurrency(t *testing.T) {
	t.Parallel()
	var nodes []string
	for i := range 20 {
		nodes = append(nodes, string(rune('a'+i)))
	}
	g, err := New(nodes, nil)
	if err != nil {
		t.Fatal(err)
	}
	var running, peak atomic.Int32
	err = g.Walk(context.Background(), WalkOptions{Parallel: 3}, func(ctx context.Context, n string) error {
		now := running.Add(1)
		for {
			p := peak.Load()
			if now <= p || peak.CompareAndSwap(p, now) {
				break
			}
		}
		time.Sleep(2 * time.Millisecond)
		running.Add(-1)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if p := peak.Load(); p > 3 || p < 2 {
		t.Errorf("peak concurrency %d, want between 2 and 3", p)
	}
}

// A chain walked with one slot must not deadlock: a node takes its slot
// only once its dependency is done.
func TestWalkChainWithOneSlot(t *testing.T) {
	t.Parallel()
	g, err := New([]string{"a", "b", "c"}, map[string][]string{"b": {"a"}, "c": {"b"}})
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	var mu sync.Mutex
	err = g.Walk(context.Background(), WalkOptions{Parallel: 1}, func(ctx context.Context, n string) error {
		mu.Lock()
		seen = append(seen, n)
		mu.Unlock()
		return nil
	})
	if err != nil || !slices.Equal(seen, []string{"a", "b", "c"}) {
		t.Fatalf("err=%v seen=%v", err, seen)
	}
}

func TestWalkFailureStopsDependentsAndCancels(t *testing.T) {
	t.Parallel()
	g, err := New([]string{"bad", "slow", "child"}, map[string][]string{"child": {"bad"}})
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	var childRan, slowCancelled atomic.Bool
	slowStarted := make(chan struct{})
	err = g.Walk(context.Background(), WalkOptions{}, func(ctx context.Context, n string) error {
		switch n {
		case "bad":
			<-slowStarted // fail only once the other visit is under way
			return boom
		case "child":
			childRan.Store(true)
		case "slow":
			close(slowStarted)
			select {
			case <-ctx.Done():
				slowCancelled.Store(true)
				return ctx.Err()
			case <-time.After(5 * time.Second):
			}
		}
		return nil
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Walk error = %v, want boom", err)
	}
	if childRan.Load() {
		t.Error("dependent of the failed node ran")
	}
	if !slowCancelled.Load() {
		t.Error("running visit was not cancelled")
	}
}

func TestWalkOnly(t *testing.T) {
	t.Parallel()
	g := diamond(t)
	var mu sync.Mutex
	var seen []string
	err := g.Walk(context.Background(), WalkOptions{Only: []string{"web", "api"}}, func(ctx context.Context, n string) error {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, n)
		return nil
	})
	if err != nil || strings.Join(seen, ",") != "api,web" {
		t.Fatalf("err=%v seen=%v", err, seen)
	}
}

func TestServiceReferences(t *testing.T) {
	t.Parallel()
	refs := []struct {
		mode    string
		service string
		ok      bool
	}{
		{"service:db", "db", true},
		{"container:abc", "", false},
		{"host", "", false},
		{"", "", false},
	}
	for _, tt := range refs {
		if svc, ok := ServiceRef(tt.mode); svc != tt.service || ok != tt.ok {
			t.Errorf("ServiceRef(%q) = %q, %t; want %q, %t", tt.mode, svc, ok, tt.service, tt.ok)
		}
	}
	froms := []struct {
		entry, service, mode string
		ok                   bool
	}{
		{"db", "db", "", true},
		{"db:ro", "db", "ro", true},
		{"container:abc", "", "", false},
		{"container:abc:ro", "", "", false},
	}
	for _, tt := range froms {
		if svc, mode, ok := VolumesFromService(tt.entry); svc != tt.service || mode != tt.mode || ok != tt.ok {
			t.Errorf("VolumesFromService(%q) = %q, %q, %t; want %q, %q, %t", tt.entry, svc, mode, ok, tt.service, tt.mode, tt.ok)
		}
	}
}
