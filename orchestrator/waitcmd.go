package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/composer-orchestrator/composer/engine"
)

// ContainerExit reports that a waited-for container stopped.
type ContainerExit struct {
	ID       string
	Name     string
	ExitCode int
}

// WaitStop blocks until every running container of the target (one-off
// ones included) has stopped, calls exited for each as it stops, and
// returns the exit code of the one that stopped last. That is docker
// compose's wait: despite its help ("until the first service container
// stops") it waits for all of them, and each exit overwrites the code it
// returns. A target with no running container is an error.
//
// A container that stops and is started again by its restart policy
// before the wait looks counts as stopped: the wait is for a stop, as
// the engine's own wait is, not for a state.
func (o *Orchestrator) WaitStop(ctx context.Context, t Target, exited func(ContainerExit)) (int, error) {
	all, err := o.containers(ctx, t, true)
	if err != nil {
		return 0, err
	}
	var cs []engine.Container
	for _, c := range all {
		if isUp(c.State) {
			cs = append(cs, c)
		}
	}
	if len(cs) == 0 {
		return 0, fmt.Errorf("no containers for project %q", t.Project)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := o.watch(wctx, t.Project)
	// mu orders the reports and the last code: containers stop on many
	// goroutines, and the code returned must be the one reported last.
	var mu sync.Mutex
	last := 0
	eg, ectx := errgroup.WithContext(ctx)
	for _, c := range cs {
		eg.Go(func() error {
			code, err := o.untilStopped(ectx, w, c)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			last = code
			if exited != nil {
				exited(ContainerExit{ID: c.ID, Name: c.Name, ExitCode: code})
			}
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return 0, err
	}
	return last, nil
}

// untilStopped waits for one container to stop and returns its exit
// code. A container removed meanwhile has stopped too; its code is lost
// with it.
func (o *Orchestrator) untilStopped(ctx context.Context, w *watcher, c engine.Container) (int, error) {
	first, err := o.eng.InspectContainer(ctx, c.ID)
	if errors.Is(err, engine.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("inspecting container %s: %w", c.Name, err)
	}
	code := 0
	err = w.until(ctx, c.ID, func(d engine.ContainerDetails) (bool, error) {
		code = d.ExitCode
		switch {
		case d.State == engine.StateExited || d.State == engine.StateDead || d.State == engine.StateRestarting:
			return true, nil
		case !d.StartedAt.Equal(first.StartedAt) || d.RestartCount != first.RestartCount:
			// Restarted between two looks: it stopped in between. The
			// engine resets the exit code at the new start.
			return true, nil
		}
		return false, nil
	})
	if errors.Is(err, engine.ErrNotFound) {
		return code, nil
	}
	if err != nil {
		return 0, fmt.Errorf("waiting for container %s: %w", c.Name, err)
	}
	return code, nil
}
