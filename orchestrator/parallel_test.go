package orchestrator

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/engine/fake"
)

// inFlight wraps an engine and records how many of its working calls run
// at once. Each call lasts a little, so that calls an unbounded
// orchestrator makes concurrently do overlap.
type inFlight struct {
	engine.Engine
	// mu guards now and peak: calls start and end on many goroutines.
	mu        sync.Mutex
	now, peak int
}

func (e *inFlight) enter() {
	e.mu.Lock()
	e.now++
	e.peak = max(e.peak, e.now)
	e.mu.Unlock()
	time.Sleep(2 * time.Millisecond)
}

func (e *inFlight) leave() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now--
}

func (e *inFlight) max() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.peak
}

func track[T any](e *inFlight, call func() (T, error)) (T, error) {
	e.enter()
	defer e.leave()
	return call()
}

func track0(e *inFlight, call func() error) error {
	e.enter()
	defer e.leave()
	return call()
}

func (e *inFlight) ListContainers(ctx context.Context, f engine.Filter) ([]engine.Container, error) {
	return track(e, func() ([]engine.Container, error) { return e.Engine.ListContainers(ctx, f) })
}

func (e *inFlight) InspectContainer(ctx context.Context, id string) (engine.ContainerDetails, error) {
	return track(e, func() (engine.ContainerDetails, error) { return e.Engine.InspectContainer(ctx, id) })
}

func (e *inFlight) CreateContainer(ctx context.Context, spec engine.ContainerSpec) (string, error) {
	return track(e, func() (string, error) { return e.Engine.CreateContainer(ctx, spec) })
}

func (e *inFlight) StartContainer(ctx context.Context, id string) error {
	return track0(e, func() error { return e.Engine.StartContainer(ctx, id) })
}

func (e *inFlight) StopContainer(ctx context.Context, id string, timeout *time.Duration) error {
	return track0(e, func() error { return e.Engine.StopContainer(ctx, id, timeout) })
}

func (e *inFlight) RemoveContainer(ctx context.Context, id string, opts engine.RemoveOptions) error {
	return track0(e, func() error { return e.Engine.RemoveContainer(ctx, id, opts) })
}

func (e *inFlight) ListNetworks(ctx context.Context, f engine.Filter) ([]engine.Network, error) {
	return track(e, func() ([]engine.Network, error) { return e.Engine.ListNetworks(ctx, f) })
}

func (e *inFlight) CreateNetwork(ctx context.Context, spec engine.NetworkSpec) (string, error) {
	return track(e, func() (string, error) { return e.Engine.CreateNetwork(ctx, spec) })
}

func (e *inFlight) RemoveNetwork(ctx context.Context, id string) error {
	return track0(e, func() error { return e.Engine.RemoveNetwork(ctx, id) })
}

func (e *inFlight) ListVolumes(ctx context.Context, f engine.Filter) ([]engine.Volume, error) {
	return track(e, func() ([]engine.Volume, error) { return e.Engine.ListVolumes(ctx, f) })
}

func (e *inFlight) InspectImage(ctx context.Context, ref string) (engine.Image, error) {
	return track(e, func() (engine.Image, error) { return e.Engine.InspectImage(ctx, ref) })
}

// independentServices is a project of n services that depend on nothing,
// each with its own image so that up inspects n images too.
func independentServices(n int) (yaml string, images []string) {
	var b strings.Builder
	b.WriteString("services:\n")
	for i := range n {
		img := fmt.Sprintf("img%d", i)
		fmt.Fprintf(&b, "  s%d: {image: %s}\n", i, img)
		images = append(images, img)
	}
	return b.String(), images
}

// --parallel bounds the engine calls of a whole up (image inspects,
// network creation, both walks' creates and starts), and down.
func TestParallelBoundsEngineCalls(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		parallel int
		// atMost is the peak allowed; 0 means the peak must exceed 2, to
		// show that the test can see overlap at all.
		atMost int
	}{
		{"unbounded", 0, 0},
		{"two", 2, 2},
		{"one", 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			yaml, images := independentServices(8)
			eng := fake.New()
			for _, img := range images {
				eng.AddImage(img)
			}
			counted := &inFlight{Engine: eng}
			o := New(counted, nil, WithParallel(tt.parallel))
			p := loadYAML(t, "p", yaml)
			mustUp(t, o, p, UpOptions{})
			if got, want := len(containersOf(t, eng, "p")), 8; got != want {
				t.Fatalf("%d containers after up, want %d", got, want)
			}
			if err := o.Down(testCtx(t), "p", p, DownOptions{}); err != nil {
				t.Fatalf("Down: %v", err)
			}
			if left := containersOf(t, eng, "p"); len(left) != 0 {
				t.Errorf("containers left after down: %v", names(left))
			}
			peak := counted.max()
			switch {
			case tt.atMost == 0 && peak <= 2:
				t.Errorf("unbounded: at most %d engine calls at once, want more than 2", peak)
			case tt.atMost > 0 && peak > tt.atMost:
				t.Errorf("WithParallel(%d): %d engine calls at once", tt.parallel, peak)
			}
		})
	}
}

// Waiting for a dependency holds no slot: with a single slot, a chain of
// service_healthy dependencies still comes up.
func TestParallelOneWaitsWithoutDeadlock(t *testing.T) {
	t.Parallel()
	eng := fake.New()
	eng.AddImage("postgres")
	eng.AddImage("nginx")
	eng.OnStart("postgres", fake.Behaviour{HealthAfter: 20 * time.Millisecond})
	o := New(eng, nil, WithParallel(1))
	p := loadYAML(t, "p", `
services:
  db:
    image: postgres
    healthcheck: {test: ["CMD", "true"]}
  cache:
    image: postgres
    healthcheck: {test: ["CMD", "true"]}
    depends_on:
      db: {condition: service_healthy}
  web:
    image: nginx
    depends_on:
      cache: {condition: service_healthy}
      db: {condition: service_healthy}
`)
	mustUp(t, o, p, UpOptions{Wait: true})
	if got, want := states(containersOf(t, eng, "p")), "p-cache-1=running p-db-1=running p-web-1=running"; got != want {
		t.Errorf("after up: %s, want %s", got, want)
	}
	ctx := testCtx(t)
	if err := o.Stop(ctx, Target{Project: "p"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := o.Start(ctx, Target{Project: "p"}, StartOptions{Wait: true}); err != nil {
		t.Fatalf("Start: %v", err)
	}
	evs := eng.Published()
	before(t, evs, "health_status: healthy", "p-db-1", "p-cache-1")
}
