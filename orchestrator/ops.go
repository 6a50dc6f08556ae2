package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/composer/composer/engine"
	"github.com/composer/composer/graph"
	"github.com/composer/composer/labels"
)

// Target names the containers an operation acts on.
type Target struct {
	Project string
	// Services limits the operation to these services; empty means all.
	Services []string
	// Index selects one replica; 0 means all.
	Index int
	// Parallel bounds concurrent engine operations; 0 means no bound.
	Parallel int
}

// containers lists the target's service containers (no one-offs), with
// the label graph that orders them.
func (o *Orchestrator) containers(ctx context.Context, t Target) ([]engine.Container, *graph.Graph, map[string][]engine.Container, error) {
	st, err := o.Observe(ctx, t.Project)
	if err != nil {
		return nil, nil, nil, err
	}
	var all []engine.Container
	for _, c := range st.Containers {
		if c.Labels[labels.Oneoff] != labels.True {
			all = append(all, c)
		}
	}
	g, _ := labelGraph(all)
	var out []engine.Container
	for _, c := range all {
		if t.selects(c) {
			out = append(out, c)
		}
	}
	_, byService := labelGraph(out)
	return out, g, byService, nil
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

// Containers lists the target's containers; one-off ones too when asked.
func (o *Orchestrator) Containers(ctx context.Context, t Target, oneOff bool) ([]engine.Container, error) {
	cs, err := o.eng.ListContainers(ctx, engine.Filter{Labels: map[string]string{labels.Project: t.Project}})
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	sortContainers(cs)
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
	_, g, byService, err := o.containers(ctx, t)
	if err != nil {
		return err
	}
	return g.Walk(ctx, graph.WalkOptions{Reverse: true, Parallel: t.Parallel, Only: keys(byService)}, func(ctx context.Context, svc string) error {
		return forEachOf(ctx, byService[svc], func(ctx context.Context, c engine.Container) error {
			return o.stopOne(ctx, c, timeout)
		})
	})
}

func (o *Orchestrator) stopOne(ctx context.Context, c engine.Container, timeout *time.Duration) error {
	if c.State != engine.StateRunning && c.State != engine.StateRestarting && c.State != engine.StatePaused {
		return nil
	}
	o.emit(KindContainer, c.Name, Stopping, false, "")
	if err := o.eng.StopContainer(ctx, c.ID, timeout); err != nil && !errors.Is(err, engine.ErrNotFound) {
		o.emit(KindContainer, c.Name, Error, true, err.Error())
		return fmt.Errorf("stopping container %s: %w", c.Name, err)
	}
	o.emit(KindContainer, c.Name, Stopped, true, "")
	return nil
}

// StartOptions tune start.
type StartOptions struct {
	Wait        bool
	WaitTimeout time.Duration
}

// Start starts the target's stopped containers in dependency order,
// waiting for each dependency's condition as recorded in the labels.
func (o *Orchestrator) Start(ctx context.Context, t Target, opts StartOptions) error {
	cs, g, byService, err := o.containers(ctx, t)
	if err != nil {
		return err
	}
	if len(cs) == 0 {
		return fmt.Errorf("no containers to start")
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := o.watch(wctx, t.Project)
	err = g.Walk(ctx, graph.WalkOptions{Parallel: t.Parallel, Only: keys(byService)}, func(ctx context.Context, svc string) error {
		if err := o.waitLabelDeps(ctx, w, byService, svc); err != nil {
			return err
		}
		return forEachOf(ctx, byService[svc], func(ctx context.Context, c engine.Container) error {
			return o.startOne(ctx, c)
		})
	})
	if err != nil || !opts.Wait {
		return err
	}
	return o.waitAll(ctx, w, cs, opts.WaitTimeout)
}

// waitLabelDeps waits for the conditions a service's containers recorded
// in their depends_on label, on the dependencies that are part of this run.
func (o *Orchestrator) waitLabelDeps(ctx context.Context, w *watcher, byService map[string][]engine.Container, svc string) error {
	if len(byService[svc]) == 0 {
		return nil
	}
	for _, d := range strings.Split(byService[svc][0].Labels[labels.DependsOn], ",") {
		parts := strings.Split(d, ":")
		if len(parts) < 2 {
			continue
		}
		var check func(engine.ContainerDetails) (bool, error)
		switch parts[1] {
		case "service_healthy":
			check = healthy
		case "service_completed_successfully":
			check = completed
		default:
			continue
		}
		for _, c := range byService[parts[0]] {
			if err := w.until(ctx, c.ID, check); err != nil {
				return fmt.Errorf("dependency failed to start: service %q depends on %q: %w", svc, parts[0], err)
			}
		}
	}
	return nil
}

// Restart restarts the target's containers in dependency order, and with
// them the containers of services that declare `restart: true` on one of
// the restarted services.
func (o *Orchestrator) Restart(ctx context.Context, t Target, timeout *time.Duration) error {
	if len(t.Services) > 0 {
		all, _, _, err := o.containers(ctx, Target{Project: t.Project})
		if err != nil {
			return err
		}
		t.Services = withRestartDependents(all, t.Services)
	}
	_, g, byService, err := o.containers(ctx, t)
	if err != nil {
		return err
	}
	return g.Walk(ctx, graph.WalkOptions{Parallel: t.Parallel, Only: keys(byService)}, func(ctx context.Context, svc string) error {
		return forEachOf(ctx, byService[svc], func(ctx context.Context, c engine.Container) error {
			o.emit(KindContainer, c.Name, Restarting, false, "")
			if err := o.eng.StopContainer(ctx, c.ID, timeout); err != nil && !errors.Is(err, engine.ErrNotFound) {
				o.emit(KindContainer, c.Name, Error, true, err.Error())
				return fmt.Errorf("stopping container %s: %w", c.Name, err)
			}
			if err := o.eng.StartContainer(ctx, c.ID); err != nil {
				o.emit(KindContainer, c.Name, Error, true, err.Error())
				return fmt.Errorf("starting container %s: %w", c.Name, err)
			}
			o.emit(KindContainer, c.Name, Restarted, true, "")
			return nil
		})
	})
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
			for _, d := range strings.Split(c.Labels[labels.DependsOn], ",") {
				parts := strings.Split(d, ":")
				if len(parts) == 3 && parts[2] == "true" && set[parts[0]] {
					set[svc], changed = true, true
					break
				}
			}
		}
	}
	return keys(set)
}

// Kill sends a signal to the target's running containers.
func (o *Orchestrator) Kill(ctx context.Context, t Target, signal string) error {
	cs, _, _, err := o.containers(ctx, t)
	if err != nil {
		return err
	}
	var running []engine.Container
	for _, c := range cs {
		if c.State == engine.StateRunning || c.State == engine.StateRestarting {
			running = append(running, c)
		}
	}
	if len(running) == 0 {
		return fmt.Errorf("no container to kill")
	}
	return forEachOf(ctx, running, func(ctx context.Context, c engine.Container) error {
		o.emit(KindContainer, c.Name, Killing, false, "")
		if err := o.eng.KillContainer(ctx, c.ID, signal); err != nil {
			o.emit(KindContainer, c.Name, Error, true, err.Error())
			return fmt.Errorf("killing container %s: %w", c.Name, err)
		}
		o.emit(KindContainer, c.Name, Killed, true, "")
		return nil
	})
}

// Pause pauses (or with unpause, resumes) the target's containers.
func (o *Orchestrator) Pause(ctx context.Context, t Target, unpause bool) error {
	cs, _, _, err := o.containers(ctx, t)
	if err != nil {
		return err
	}
	return forEachOf(ctx, cs, func(ctx context.Context, c engine.Container) error {
		if unpause {
			if c.State != engine.StatePaused {
				return nil
			}
			o.emit(KindContainer, c.Name, Unpausing, false, "")
			if err := o.eng.UnpauseContainer(ctx, c.ID); err != nil {
				return fmt.Errorf("unpausing container %s: %w", c.Name, err)
			}
			o.emit(KindContainer, c.Name, Unpaused, true, "")
			return nil
		}
		if c.State != engine.StateRunning {
			return nil
		}
		o.emit(KindContainer, c.Name, Pausing, false, "")
		if err := o.eng.PauseContainer(ctx, c.ID); err != nil {
			return fmt.Errorf("pausing container %s: %w", c.Name, err)
		}
		o.emit(KindContainer, c.Name, Paused, true, "")
		return nil
	})
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
	cs, err := o.Containers(ctx, t, false)
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
		if c.State != engine.StateRunning && c.State != engine.StateRestarting && c.State != engine.StatePaused {
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

func keys[V any](m map[string]V) []string { return sortedKeys(m) }
