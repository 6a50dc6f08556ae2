package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/labels"
)

// AutohealLabel opts a service's containers in to being restarted when
// they turn unhealthy: the label users already write for the autoheal
// container.
const AutohealLabel = "autoheal"

// SuperviseOptions tune Supervise.
type SuperviseOptions struct {
	// Services limits the restarts to these services; empty means all.
	Services []string
	// Autoheal adds services opted in by the project file (x-autoheal) to
	// those whose containers carry autoheal=true.
	Autoheal map[string]bool
	// Backoff, Window and MaxRestarts bound restarts for health: see
	// healRules. Zero values mean 2 s, 2 min and 5.
	Backoff     time.Duration
	Window      time.Duration
	MaxRestarts int
	// Timeout is the stop timeout of a restart; nil means each
	// container's own.
	Timeout *time.Duration
}

// Supervise keeps a running project healthy until ctx ends: it follows the
// engine's events for the project (it never polls) and restarts a
// container of an opted-in service that turns unhealthy, and, whenever a
// container restarts, for any reason, the services that declare
// `restart: true` on its service, each once its dependency meets its
// condition again. Each restart is reported as an event with its reason.
// It returns ctx's error when ctx ends, leaving the project as it is.
func (o *Orchestrator) Supervise(ctx context.Context, project string, opts SuperviseOptions) error {
	if opts.Backoff <= 0 {
		opts.Backoff = 2 * time.Second
	}
	if opts.Window <= 0 {
		opts.Window = 2 * time.Minute
	}
	if opts.MaxRestarts <= 0 {
		opts.MaxRestarts = 5
	}
	// Subscribe first, then list: a change in between is in the stream.
	ectx, stop := context.WithCancel(ctx)
	defer stop()
	evs, errs := o.eng.Events(ectx, engine.EventFilter{Type: "container", Labels: map[string]string{labels.Project: project}, Since: time.Now()})
	cs, err := o.serviceContainers(ctx, project)
	if err != nil {
		return err
	}
	s := &supervisor{o: o, opts: opts, project: project, w: o.watch(ectx, project)}
	rules := healRules{Autoheal: map[string]bool{}, RestartOn: map[string][]restartOn{},
		Backoff: opts.Backoff, Window: opts.Window, MaxRestarts: opts.MaxRestarts}
	for svc, on := range opts.Autoheal {
		rules.Autoheal[svc] = on
	}
	if len(opts.Services) > 0 {
		rules.Acts = map[string]bool{}
		for _, svc := range opts.Services {
			rules.Acts[svc] = true
		}
	}
	s.h = newHealer(rules)
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, c := range cs {
		s.learn(c.Labels)
		if !isUp(c.State) {
			continue
		}
		o := observation{Kind: seenRunning, ID: c.ID, Name: c.Name, Service: c.Labels[labels.Service], Time: time.Now()}
		s.h.observe(o)
		// Unhealthy already: its event came before supervising began.
		if c.Health == engine.HealthUnhealthy {
			o.Kind, o.Checks = seenUnhealthy, 3
			for _, a := range s.h.observe(o) {
				wg.Add(1)
				go func() {
					defer wg.Done()
					s.act(ectx, a)
				}()
			}
		}
	}
	for {
		select {
		case e, ok := <-evs:
			if !ok {
				return s.ended(ctx, nil)
			}
			for _, a := range s.observe(ctx, e) {
				wg.Add(1)
				go func() {
					defer wg.Done()
					s.act(ectx, a)
				}()
			}
		case err, ok := <-errs:
			if ok && err != nil {
				return s.ended(ctx, err)
			}
			if !ok {
				errs = nil
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// supervisor is one Supervise run.
type supervisor struct {
	o       *Orchestrator
	opts    SuperviseOptions
	project string
	w       *watcher
	// mu guards h: the event loop feeds it while cascades mark the
	// containers they restart.
	mu sync.Mutex
	h  *healer
}

func (s *supervisor) ended(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err == nil {
		err = errors.New("the stream ended")
	}
	return fmt.Errorf("following the engine's events: %w", err)
}

// learn takes a service's healing rules from a container's labels: the
// autoheal label, and the depends_on label's restart: true entries.
func (s *supervisor) learn(l map[string]string) {
	svc := l[labels.Service]
	if svc == "" || l[labels.Oneoff] == labels.True {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if strings.EqualFold(l[AutohealLabel], "true") {
		s.h.rules.Autoheal[svc] = true
	}
	var on []restartOn
	for _, d := range labels.DecodeDependsOn(l[labels.DependsOn]) {
		if d.Restart {
			on = append(on, restartOn{Dependency: d.Service, Condition: d.Condition})
		}
	}
	s.h.rules.RestartOn[svc] = on
}

// observe turns an engine event into the healer's terms and asks it.
func (s *supervisor) observe(ctx context.Context, e engine.Event) []healAction {
	if e.Attributes[labels.Oneoff] == labels.True {
		return nil
	}
	o := observation{ID: e.ID, Name: e.Attributes["name"], Service: e.Attributes[labels.Service], Time: e.Time}
	if o.Time.IsZero() {
		o.Time = time.Now()
	}
	switch e.Action {
	case "create":
		s.learn(e.Attributes)
		return nil
	case "start":
		o.Kind = seenStart
	case "health_status: unhealthy":
		o.Kind = seenUnhealthy
		o.Checks = 3 // the engine's default retries
		if d, err := s.o.eng.InspectContainer(ctx, e.ID); err == nil && d.Config.Healthcheck != nil && d.Config.Healthcheck.Retries > 0 {
			o.Checks = d.Config.Healthcheck.Retries
		}
	case "health_status: healthy":
		o.Kind = seenHealthy
	case "destroy":
		o.Kind = seenGone
	default:
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.h.observe(o)
}

// act carries out one decision.
func (s *supervisor) act(ctx context.Context, a healAction) {
	switch a.Kind {
	case healGiveUp:
		s.o.emit(KindContainer, a.Name, Warning, true, a.Reason)
	case healRestart:
		if sleep(ctx, a.After) != nil {
			return
		}
		c := engine.Container{ID: a.ID, Name: a.Name, State: engine.StateRunning}
		if err := s.o.restartWhy(ctx, c, s.opts.Timeout, "("+a.Reason+")"); err != nil && ctx.Err() == nil {
			s.o.warn("restarting %s: %v", a.Name, err)
		}
	case healCascade:
		s.cascade(ctx, a)
	}
}

// cascade restarts each step's service once the services it waits for
// meet their conditions again, in the order the healer gave.
func (s *supervisor) cascade(ctx context.Context, a healAction) {
	for _, step := range a.Cascade {
		var deps []dependency
		var names []string
		for _, wait := range step.Waits {
			cs, err := s.containersOf(ctx, wait.Dependency)
			if err != nil {
				return
			}
			deps = append(deps, dependency{service: wait.Dependency, condition: wait.Condition, required: true, containers: cs})
			names = append(names, wait.Dependency)
		}
		if err := s.o.waitDependencies(ctx, s.w, step.Service, deps); err != nil {
			if ctx.Err() == nil {
				s.o.warn("not restarting %s after %s restarted: %v", step.Service, a.Cause, err)
			}
			return
		}
		cs, err := s.containersOf(ctx, step.Service)
		if err != nil {
			return
		}
		why := "(its dependency " + strings.Join(names, ", ") + " restarted)"
		for _, c := range cs {
			if !isUp(c.State) {
				continue
			}
			s.mu.Lock()
			s.h.cascaded(c.ID)
			s.mu.Unlock()
			if err := s.o.restartWhy(ctx, c, s.opts.Timeout, why); err != nil && ctx.Err() == nil {
				s.o.warn("restarting %s: %v", c.Name, err)
			}
		}
	}
}

// containersOf lists a service's containers.
func (s *supervisor) containersOf(ctx context.Context, service string) ([]engine.Container, error) {
	all, err := s.o.serviceContainers(ctx, s.project)
	if err != nil {
		if ctx.Err() == nil {
			s.o.warn("%v", err)
		}
		return nil, err
	}
	return State{Containers: all}.ServiceContainers(service), nil
}
