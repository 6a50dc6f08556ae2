package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"golang.org/x/sync/errgroup"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/graph"
	"github.com/composer-orchestrator/composer/labels"
)

// ErrNoContainers is wrapped by the errors of operations that found no
// container to act on (kill, start), so that callers can tell "nothing to
// do" from a failure with errors.Is.
var ErrNoContainers = errors.New("no container")

// noContainersError says which operation found nothing, in its own words,
// and still matches ErrNoContainers.
type noContainersError string

func (e noContainersError) Error() string { return string(e) }
func (e noContainersError) Unwrap() error { return ErrNoContainers }

// Target names the containers an operation acts on.
type Target struct {
	Project string
	// Services limits the operation to these services; empty means all.
	Services []string
	// Index selects one replica; 0 means all.
	Index int
}

// selection is the part of a project's containers an operation acts on.
type selection struct {
	// containers are the selected containers, sorted.
	containers []engine.Container
	// graph orders the services of all the project's containers, from
	// their depends_on labels, so that an unselected service in between
	// still orders the selected ones.
	graph *graph.Graph
	// byService groups the selected containers by service.
	byService map[string][]engine.Container
}

// serviceContainers lists the project's service containers (no one-offs)
// with one engine call: operations that act on containers need neither
// networks nor volumes.
func (o *Orchestrator) serviceContainers(ctx context.Context, project string) ([]engine.Container, error) {
	return o.containers(ctx, Target{Project: project}, false)
}

// selectTarget picks the target's containers out of all the project's
// service containers.
func selectTarget(all []engine.Container, t Target) selection {
	g, _ := labelGraph(all)
	var out []engine.Container
	for _, c := range all {
		if t.selects(c) {
			out = append(out, c)
		}
	}
	return selection{containers: out, graph: g, byService: groupByService(out)}
}

// target lists the project's containers once and selects the target's.
func (o *Orchestrator) target(ctx context.Context, t Target) (selection, error) {
	all, err := o.serviceContainers(ctx, t.Project)
	if err != nil {
		return selection{}, err
	}
	return selectTarget(all, t), nil
}

func (t Target) selects(c engine.Container) bool {
	if t.Index > 0 && number(c) != t.Index {
		return false
	}
	if len(t.Services) == 0 {
		return true
	}
	for _, s := range t.Services {
		if c.Labels[labels.Service] == s {
			return true
		}
	}
	return false
}

// containers lists the target's containers, sorted, with one engine
// call; one-off ones too when asked.
func (o *Orchestrator) containers(ctx context.Context, t Target, oneOff bool) ([]engine.Container, error) {
	cs, err := o.listContainers(ctx, t.Project)
	if err != nil {
		return nil, err
	}
	var out []engine.Container
	for _, c := range cs {
		if (oneOff || c.Labels[labels.Oneoff] != labels.True) && t.selects(c) {
			out = append(out, c)
		}
	}
	return out, nil
}

// Stop stops the target's containers, dependents before dependencies.
func (o *Orchestrator) Stop(ctx context.Context, t Target, timeout *time.Duration) error {
	sel, err := o.target(ctx, t)
	if err != nil {
		return err
	}
	return sel.graph.Walk(ctx, graph.WalkOptions{Reverse: true, Only: sortedKeys(sel.byService)}, func(ctx context.Context, svc string) error {
		return forEachOf(ctx, sel.byService[svc], func(ctx context.Context, c engine.Container) error {
			return o.stopOne(ctx, c, timeout)
		})
	})
}

func (o *Orchestrator) stopOne(ctx context.Context, c engine.Container, timeout *time.Duration) error {
	if !isUp(c.State) {
		return nil
	}
	o.emit(KindContainer, c.Name, Stopping, false, "")
	if err := o.eng.StopContainer(ctx, c.ID, timeout); err != nil && !errors.Is(err, engine.ErrNotFound) {
		o.fail(KindContainer, c.Name, err)
		return fmt.Errorf("stopping container %s: %w", c.Name, err)
	}
	o.emit(KindContainer, c.Name, Stopped, true, "")
	return nil
}

// isUp says whether a container in state s has a process to stop.
func isUp(s engine.ContainerState) bool {
	return s == engine.StateRunning || s == engine.StateRestarting || s == engine.StatePaused
}

// StartOptions tune start.
type StartOptions struct {
	Wait        bool
	WaitTimeout time.Duration
}

// Start starts the target's stopped containers in dependency order,
// waiting for each dependency's condition as recorded in the labels.
func (o *Orchestrator) Start(ctx context.Context, t Target, opts StartOptions) error {
	sel, err := o.target(ctx, t)
	if err != nil {
		return err
	}
	if len(sel.containers) == 0 {
		return noContainersError("no containers to start")
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := o.watch(wctx, t.Project)
	err = sel.graph.Walk(ctx, graph.WalkOptions{Only: sortedKeys(sel.byService)}, func(ctx context.Context, svc string) error {
		if err := o.waitDependencies(ctx, w, svc, labelDependencies(sel.byService, svc)); err != nil {
			return err
		}
		return forEachOf(ctx, sel.byService[svc], o.startOne)
	})
	if err != nil || !opts.Wait {
		return err
	}
	return o.waitAll(ctx, w, sel.containers, opts.WaitTimeout)
}

// labelDependencies are the dependencies a service's containers recorded
// in their depends_on label, on the services that are part of this run.
// The label does not record whether a dependency is required, so every
// one is.
func labelDependencies(byService map[string][]engine.Container, svc string) []dependency {
	if len(byService[svc]) == 0 {
		return nil
	}
	var out []dependency
	for _, d := range labels.DecodeDependsOn(byService[svc][0].Labels[labels.DependsOn]) {
		out = append(out, dependency{service: d.Service, condition: d.Condition, required: true, containers: byService[d.Service]})
	}
	return out
}

// RestartOptions tune restart.
type RestartOptions struct {
	// Timeout is the stop timeout; nil means each container's own.
	Timeout *time.Duration
	// NoDeps restarts only the named services, not the services that
	// declare `restart: true` on one of them.
	NoDeps bool
}

// Restart restarts the target's containers in dependency order, and with
// them (unless NoDeps) the containers of services that declare
// `restart: true` on one of the restarted services.
func (o *Orchestrator) Restart(ctx context.Context, t Target, opts RestartOptions) error {
	all, err := o.serviceContainers(ctx, t.Project)
	if err != nil {
		return err
	}
	if len(t.Services) > 0 && !opts.NoDeps {
		t.Services = withRestartDependents(all, t.Services)
	}
	sel := selectTarget(all, t)
	return sel.graph.Walk(ctx, graph.WalkOptions{Only: sortedKeys(sel.byService)}, func(ctx context.Context, svc string) error {
		return forEachOf(ctx, sel.byService[svc], func(ctx context.Context, c engine.Container) error {
			return o.restartOne(ctx, c, opts.Timeout)
		})
	})
}

func (o *Orchestrator) restartOne(ctx context.Context, c engine.Container, timeout *time.Duration) error {
	return o.restartWhy(ctx, c, timeout, "")
}

// restartWhy restarts a container, saying why in the events' detail.
func (o *Orchestrator) restartWhy(ctx context.Context, c engine.Container, timeout *time.Duration, why string) error {
	o.emit(KindContainer, c.Name, Restarting, false, why)
	if err := o.eng.StopContainer(ctx, c.ID, timeout); err != nil && !errors.Is(err, engine.ErrNotFound) {
		o.fail(KindContainer, c.Name, err)
		return fmt.Errorf("stopping container %s: %w", c.Name, err)
	}
	if err := o.eng.StartContainer(ctx, c.ID); err != nil {
		o.fail(KindContainer, c.Name, err)
		return fmt.Errorf("starting container %s: %w", c.Name, err)
	}
	o.emit(KindContainer, c.Name, Restarted, true, why)
	return nil
}

// withRestartDependents adds, transitively, the services whose
// depends_on label says restart:true on one of services.
func withRestartDependents(cs []engine.Container, services []string) []string {
	set := map[string]bool{}
	for _, s := range services {
		set[s] = true
	}
	for changed := true; changed; {
		changed = false
		for _, c := range cs {
			svc := c.Labels[labels.Service]
			if set[svc] {
				continue
			}
			for _, d := range labels.DecodeDependsOn(c.Labels[labels.DependsOn]) {
				if d.Restart && set[d.Service] {
					set[svc], changed = true, true
					break
				}
			}
		}
	}
	return sortedKeys(set)
}

// KillOptions tune kill.
type KillOptions struct {
	// Signal is the signal to send; empty means the engine's default.
	Signal string
	// RemoveOrphans stops and removes the containers of services Project
	// does not define. It needs Project; without one it does nothing.
	RemoveOrphans bool
	Project       *types.Project
}

// Kill sends a signal to the target's running containers, and with
// RemoveOrphans removes the project's orphan containers. It fails with an
// error wrapping ErrNoContainers when it found nothing to kill or remove.
func (o *Orchestrator) Kill(ctx context.Context, t Target, opts KillOptions) error {
	all, err := o.serviceContainers(ctx, t.Project)
	if err != nil {
		return err
	}
	var orphaned []engine.Container
	if opts.RemoveOrphans && opts.Project != nil {
		orphaned = orphans(opts.Project, State{Containers: all})
	}
	running := runningExcept(selectTarget(all, t).containers, orphaned)
	if len(running) == 0 && len(orphaned) == 0 {
		return noContainersError("no container to kill")
	}
	eg, ctx := errgroup.WithContext(ctx)
	eg.Go(func() error { return o.removeContainers(ctx, orphaned, nil, false) })
	eg.Go(func() error {
		return forEachOf(ctx, running, func(ctx context.Context, c engine.Container) error {
			return o.killOne(ctx, c, opts.Signal)
		})
	})
	return eg.Wait()
}

// runningExcept keeps the running containers of cs that are not in skip.
func runningExcept(cs, skip []engine.Container) []engine.Container {
	skipped := map[string]bool{}
	for _, c := range skip {
		skipped[c.ID] = true
	}
	var out []engine.Container
	for _, c := range cs {
		if (c.State == engine.StateRunning || c.State == engine.StateRestarting) && !skipped[c.ID] {
			out = append(out, c)
		}
	}
	return out
}

func (o *Orchestrator) killOne(ctx context.Context, c engine.Container, signal string) error {
	o.emit(KindContainer, c.Name, Killing, false, "")
	if err := o.eng.KillContainer(ctx, c.ID, signal); err != nil {
		o.fail(KindContainer, c.Name, err)
		return fmt.Errorf("killing container %s: %w", c.Name, err)
	}
	o.emit(KindContainer, c.Name, Killed, true, "")
	return nil
}

// Pause pauses (or with unpause, resumes) the target's containers.
func (o *Orchestrator) Pause(ctx context.Context, t Target, unpause bool) error {
	sel, err := o.target(ctx, t)
	if err != nil {
		return err
	}
	return forEachOf(ctx, sel.containers, func(ctx context.Context, c engine.Container) error {
		if unpause {
			return o.unpauseOne(ctx, c)
		}
		return o.pauseOne(ctx, c)
	})
}

func (o *Orchestrator) pauseOne(ctx context.Context, c engine.Container) error {
	if c.State != engine.StateRunning {
		return nil
	}
	o.emit(KindContainer, c.Name, Pausing, false, "")
	if err := o.eng.PauseContainer(ctx, c.ID); err != nil {
		o.fail(KindContainer, c.Name, err)
		return fmt.Errorf("pausing container %s: %w", c.Name, err)
	}
	o.emit(KindContainer, c.Name, Paused, true, "")
	return nil
}

func (o *Orchestrator) unpauseOne(ctx context.Context, c engine.Container) error {
	if c.State != engine.StatePaused {
		return nil
	}
	o.emit(KindContainer, c.Name, Unpausing, false, "")
	if err := o.eng.UnpauseContainer(ctx, c.ID); err != nil {
		o.fail(KindContainer, c.Name, err)
		return fmt.Errorf("unpausing container %s: %w", c.Name, err)
	}
	o.emit(KindContainer, c.Name, Unpaused, true, "")
	return nil
}

// RemoveOptions tune rm.
type RemoveOptions struct {
	Stop    bool // stop running containers first
	Volumes bool // remove anonymous volumes
	Timeout *time.Duration
	// Confirm, if set, is asked before removing; false aborts.
	Confirm func(names []string) bool
}

// Remove removes the target's stopped containers (stopping them first with
// Stop). Running containers are left alone otherwise.
func (o *Orchestrator) Remove(ctx context.Context, t Target, opts RemoveOptions) error {
	cs, err := o.containers(ctx, t, false)
	if err != nil {
		return err
	}
	if opts.Stop {
		for i, c := range cs {
			if err := o.stopOne(ctx, c, opts.Timeout); err != nil {
				return err
			}
			cs[i].State = engine.StateExited
		}
	}
	var stopped []engine.Container
	var names []string
	for _, c := range cs {
		if !isUp(c.State) {
			stopped = append(stopped, c)
			names = append(names, c.Name)
		}
	}
	if len(stopped) == 0 {
		o.warn("No stopped containers")
		return nil
	}
	if opts.Confirm != nil && !opts.Confirm(names) {
		return nil
	}
	return forEachOf(ctx, stopped, func(ctx context.Context, c engine.Container) error {
		return o.removeOne(ctx, c, nil, opts.Volumes)
	})
}

// forEachOf runs fn on every item concurrently; the first error cancels
// the others.
func forEachOf[T any](ctx context.Context, items []T, fn func(context.Context, T) error) error {
	eg, ctx := errgroup.WithContext(ctx)
	for _, it := range items {
		eg.Go(func() error { return fn(ctx, it) })
	}
	return eg.Wait()
}
