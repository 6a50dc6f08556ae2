package orchestrator

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"golang.org/x/sync/errgroup"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/labels"
)

// watcher turns the engine's event stream for one project into wake-ups
// for goroutines waiting on a container's state. Waiters always check the
// state right after subscribing, so an event that came before they
// subscribed is not missed: it changed the state they read.
//
// The engine stream is opened by the first waiter, not before: an up that
// waits for nothing (a no-op up, say) then costs no events call. That is
// safe because the engine's Events returns once the subscription is in
// place, and the waiter reads the state only after that.
type watcher struct {
	eng     engine.Engine
	ctx     context.Context
	project string
	start   sync.Once
	// mu guards subs: the event loop notifies while waiters subscribe and
	// unsubscribe from many goroutines.
	mu   sync.Mutex
	subs map[string]map[chan struct{}]bool
	// broken is closed when the event stream failed; waiters then fall
	// back to checking the state periodically.
	broken chan struct{}
	once   sync.Once
}

func (o *Orchestrator) watch(ctx context.Context, project string) *watcher {
	return &watcher{eng: o.eng, ctx: ctx, project: project, subs: map[string]map[chan struct{}]bool{}, broken: make(chan struct{})}
}

// open starts following the engine's events, once.
func (w *watcher) open() {
	w.start.Do(func() {
		ctx := w.ctx
		// The engine answers an events request before it has started
		// listening; asking for events since a moment ago replays the
		// ones that fall in that gap. Repeats only cause extra checks.
		evs, errs := w.eng.Events(ctx, engine.EventFilter{
			Type:   "container",
			Labels: map[string]string{labels.Project: w.project},
			Since:  time.Now().Add(-2 * time.Second),
		})
		go func() {
			for {
				select {
				case e, ok := <-evs:
					if !ok {
						w.fail()
						return
					}
					w.notify(e.ID)
				case err, ok := <-errs:
					if ok && err != nil || !ok {
						w.fail()
						return
					}
				case <-ctx.Done():
					return
				}
			}
		}()
	})
}

func (w *watcher) fail() { w.once.Do(func() { close(w.broken) }) }

func (w *watcher) notify(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for ch := range w.subs[id] {
		select {
		case ch <- struct{}{}:
		default: // a wake-up is already pending; one is enough
		}
	}
}

func (w *watcher) subscribe(id string) (chan struct{}, func()) {
	w.open()
	ch := make(chan struct{}, 1)
	w.mu.Lock()
	if w.subs[id] == nil {
		w.subs[id] = map[chan struct{}]bool{}
	}
	w.subs[id][ch] = true
	w.mu.Unlock()
	return ch, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		delete(w.subs[id], ch)
		if len(w.subs[id]) == 0 {
			delete(w.subs, id)
		}
	}
}

// untilSafety is how often a wait looks again without an event.
const untilSafety = 5 * time.Second

// until re-reads a container's state on every event about it until check
// says it is done or fails.
func (w *watcher) until(ctx context.Context, id string, check func(engine.ContainerDetails) (bool, error)) error {
	ch, unsubscribe := w.subscribe(id)
	defer unsubscribe()
	var tick <-chan time.Time
	broken := w.broken
	// A slow look even while the stream works: on a loaded engine an
	// event can come late, and a wait must not hang on one that never
	// comes. Events still wake the wait at once.
	safety := time.NewTicker(untilSafety)
	defer safety.Stop()
	for {
		d, err := w.eng.InspectContainer(ctx, id)
		if err != nil {
			return err
		}
		done, err := check(d)
		if err != nil || done {
			return err
		}
		select {
		case <-ch:
		case <-safety.C:
		case <-tick:
		case <-broken:
			// Without events, check twice a second; only reached if the
			// engine's event stream broke.
			t := time.NewTicker(500 * time.Millisecond)
			defer t.Stop()
			tick = t.C
			broken = nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// conditionCheck maps a depends_on condition to the check that says it is
// met and the status reported then. service_started (and any condition
// composer does not know) has no check: starting the dependency met it.
func conditionCheck(condition string) (check func(engine.ContainerDetails) (bool, error), met Status) {
	switch condition {
	case types.ServiceConditionHealthy:
		return healthy, Healthy
	case types.ServiceConditionCompletedSuccessfully:
		return completed, Exited
	}
	return nil, ""
}

// dependency is one depends_on entry to wait for.
type dependency struct {
	service   string // the service depended on
	condition string
	// required: a failure fails the dependent; otherwise it is a warning.
	required bool
	// containers are the dependency's containers the condition applies to.
	containers []engine.Container
}

// waitDependencies blocks until every dependency of service meets its
// condition, all dependencies at once. It takes no engine slot while it
// waits: the watcher waits on the event stream between inspects.
func (o *Orchestrator) waitDependencies(ctx context.Context, w *watcher, service string, deps []dependency) error {
	if o.dryRun {
		return nil // nothing runs, so there is nothing to wait for
	}
	eg, ctx := errgroup.WithContext(ctx)
	for _, d := range deps {
		check, met := conditionCheck(d.condition)
		if check == nil {
			continue
		}
		eg.Go(func() error { return o.waitDependency(ctx, w, service, d, check, met) })
	}
	return eg.Wait()
}

// waitDependency waits for one dependency's containers, one after the
// other. A failed optional dependency is a warning and ends its wait.
func (o *Orchestrator) waitDependency(ctx context.Context, w *watcher, service string, d dependency, check func(engine.ContainerDetails) (bool, error), met Status) error {
	for _, c := range d.containers {
		o.emit(KindContainer, c.Name, Waiting, false, "")
		var err error
		detail := ""
		if d.condition == types.ServiceConditionHealthy {
			var byProbe bool
			if byProbe, err = o.untilHealthy(ctx, w, c.ID, check); byProbe {
				detail = ByProbe
			}
		} else {
			err = w.until(ctx, c.ID, check)
		}
		if err == nil {
			o.emit(KindContainer, c.Name, met, true, detail)
			continue
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !d.required {
			o.warn("optional dependency %q of service %q failed: %v", d.service, service, err)
			return nil
		}
		o.fail(KindContainer, c.Name, err)
		return fmt.Errorf("dependency failed to start: service %q depends on %q: %w", service, d.service, err)
	}
	return nil
}

// healthy is done when the container is healthy; it fails when the
// container has no healthcheck, turns unhealthy or stops.
func healthy(d engine.ContainerDetails) (bool, error) {
	switch {
	case d.State == engine.StateExited || d.State == engine.StateDead:
		return false, fmt.Errorf("container %s exited (%d)", d.Name, d.ExitCode)
	case d.Health == engine.HealthNone:
		return false, fmt.Errorf("container %s has no healthcheck configured", d.Name)
	case d.Health == engine.HealthUnhealthy:
		return false, fmt.Errorf("container %s is unhealthy", d.Name)
	}
	return d.Health == engine.HealthHealthy, nil
}

// completed is done when the container exited 0; it fails on another code.
func completed(d engine.ContainerDetails) (bool, error) {
	if d.State != engine.StateExited && d.State != engine.StateDead {
		return false, nil
	}
	if d.ExitCode != 0 {
		return false, fmt.Errorf("container %s exited (%d)", d.Name, d.ExitCode)
	}
	return true, nil
}

// ready is the --wait condition: running (and healthy where there is a
// healthcheck), or finished with exit code 0 for one-shot services.
func ready(d engine.ContainerDetails) (bool, error) {
	switch d.State {
	case engine.StateExited, engine.StateDead:
		if d.ExitCode == 0 {
			return true, nil
		}
		return false, fmt.Errorf("container %s exited (%d)", d.Name, d.ExitCode)
	case engine.StateRunning:
		switch d.Health {
		case engine.HealthNone, engine.HealthHealthy:
			return true, nil
		case engine.HealthUnhealthy:
			return false, fmt.Errorf("container %s is unhealthy", d.Name)
		}
	}
	return false, nil
}

// notReady describes why a container is not ready, for timeout messages.
func notReady(d engine.ContainerDetails) string {
	if d.State == engine.StateRunning && d.Health != engine.HealthNone {
		return fmt.Sprintf("%s is %s", d.Name, d.Health)
	}
	return fmt.Sprintf("%s is %s", d.Name, d.State)
}
