// Package orchestrator implements composer's operations (up, down, logs,
// ps, ...) over an engine.Engine: observe the engine's state, plan what to
// change (pure), then apply the plan along the dependency graph.
//
// The orchestrator never prints: it reports progress as Events to a Sink
// that the command line renders.
package orchestrator

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"sync"

	"github.com/compose-spec/compose-go/v2/types"
	"golang.org/x/sync/errgroup"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/labels"
)

// Orchestrator runs operations against one engine.
type Orchestrator struct {
	// eng is the engine every operation goes through: the one given to
	// New, behind the --parallel limit when there is one.
	eng    engine.Engine
	events Sink
	// abandon ends the engine requests under way (see WithAbandon).
	abandon context.Context
	// dryRun: see WithDryRun.
	dryRun bool
	// noProbe and probePassed: see WithoutHealthProbe and WithProbePassed.
	noProbe     bool
	probePassed func(project, containerID string)
}

// Option tunes an Orchestrator.
type Option func(*options)

// options are what the Options set, read once by New.
type options struct {
	parallel    int
	abandon     context.Context
	journal     func(Request, bool)
	dryRun      bool
	noProbe     bool
	probePassed func(string, string)
}

// WithParallel bounds how many engine operations (create, start, stop,
// pull, ...) run at once, over everything the orchestrator does; n <= 0
// means no bound. Waiting (for health, exits, events or logs) takes no
// part of the bound.
func WithParallel(n int) Option {
	return func(o *options) { o.parallel = n }
}

// WithAbandon gives the context whose end abandons the engine requests
// under way. Until it ends, a request that changes the engine's state
// runs to its end even when the operation's context is cancelled (see
// shieldedEngine); without this option that is always so.
func WithAbandon(ctx context.Context) Option {
	return func(o *options) { o.abandon = ctx }
}

// New returns an orchestrator over eng reporting to sink (nil discards).
func New(eng engine.Engine, sink Sink, opts ...Option) *Orchestrator {
	if sink == nil {
		sink = Discard
	}
	cfg := options{abandon: context.Background()}
	for _, opt := range opts {
		opt(&cfg)
	}
	// A dry run's overlay is innermost: whatever sits above it, nothing
	// that changes the engine gets past it.
	if cfg.dryRun {
		eng = newDryRunEngine(eng)
	}
	// The bound sits outside the shield: a call still waiting for its
	// slot when the operation is cancelled has not been sent, and is not.
	if cfg.journal != nil {
		eng = &journaledEngine{Engine: eng, record: cfg.journal}
	}
	eng = &shieldedEngine{Engine: eng, abandon: cfg.abandon}
	if cfg.parallel > 0 {
		eng = newLimitedEngine(eng, cfg.parallel)
	}
	return &Orchestrator{eng: eng, events: sink, abandon: cfg.abandon, dryRun: cfg.dryRun, noProbe: cfg.noProbe, probePassed: cfg.probePassed}
}

// whole returns a context for a sequence of engine requests that must not
// be cut between two of them: an interrupt does not end it, only
// abandoning does. A sequence already under way when ctx is cancelled
// runs to its end; one not yet begun does not begin.
func (o *Orchestrator) whole(ctx context.Context) (context.Context, func()) {
	if ctx.Err() != nil {
		return ctx, func() {}
	}
	return untilAbandoned(ctx, o.abandon)
}

// State is what the engine holds of one project.
type State struct {
	Containers []engine.Container
	Networks   []engine.Network
	Volumes    []engine.Volume
}

// Observe lists a project's containers, networks and volumes: one list call
// per kind, run concurrently, whatever the project's size.
func (o *Orchestrator) Observe(ctx context.Context, project string) (State, error) {
	var st State
	f := projectFilter(project)
	eg, ctx := errgroup.WithContext(ctx)
	eg.Go(func() error {
		var err error
		st.Containers, err = o.listContainers(ctx, project)
		return err
	})
	eg.Go(func() error {
		var err error
		st.Networks, err = o.eng.ListNetworks(ctx, f)
		if err != nil {
			return fmt.Errorf("listing networks: %w", err)
		}
		return nil
	})
	eg.Go(func() error {
		var err error
		st.Volumes, err = o.eng.ListVolumes(ctx, f)
		if err != nil {
			return fmt.Errorf("listing volumes: %w", err)
		}
		return nil
	})
	if err := eg.Wait(); err != nil {
		return State{}, err
	}
	return st, nil
}

func projectFilter(project string) engine.Filter {
	return engine.Filter{Labels: map[string]string{labels.Project: project}}
}

// listContainers lists every container of a project, one-offs included,
// sorted: one engine call.
func (o *Orchestrator) listContainers(ctx context.Context, project string) ([]engine.Container, error) {
	cs, err := o.eng.ListContainers(ctx, projectFilter(project))
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	sortContainers(cs)
	return cs, nil
}

// ServiceContainers returns the project's non-one-off containers of one
// service, by container number.
func (st State) ServiceContainers(service string) []engine.Container {
	var out []engine.Container
	for _, c := range st.Containers {
		if c.Labels[labels.Service] == service && c.Labels[labels.Oneoff] != labels.True {
			out = append(out, c)
		}
	}
	return out
}

// sortContainers orders containers by service, then number, then name, so
// that everything derived from a list is deterministic.
func sortContainers(cs []engine.Container) {
	sort.SliceStable(cs, func(i, j int) bool {
		a, b := cs[i], cs[j]
		if a.Labels[labels.Service] != b.Labels[labels.Service] {
			return a.Labels[labels.Service] < b.Labels[labels.Service]
		}
		na, nb := number(a), number(b)
		if na != nb {
			return na < nb
		}
		return a.Name < b.Name
	})
}

func number(c engine.Container) int {
	n, _ := strconv.Atoi(c.Labels[labels.Number])
	return n
}

// ContainerName is the name of a service's container number n.
func ContainerName(project string, s types.ServiceConfig, n int) string {
	if s.ContainerName != "" {
		return s.ContainerName
	}
	return fmt.Sprintf("%s-%s-%d", project, s.Name, n)
}

// syncMap is a small typed map safe for concurrent use.
type syncMap[K comparable, V any] struct {
	// mu guards m: service visits on different goroutines record and read
	// results concurrently.
	mu sync.Mutex
	m  map[K]V
}

func (s *syncMap[K, V]) Store(k K, v V) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[K]V{}
	}
	s.m[k] = v
}

func (s *syncMap[K, V]) Load(k K) (V, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[k]
	return v, ok
}
