package orchestrator

import (
	"fmt"
	"slices"
	"time"
)

// The decisions of supervise, kept apart from acting on them: a healer is
// fed what the engine reports about a project's containers, in order, and
// answers with what to restart, when, and why. It touches no engine and
// reads no clock; the times it needs come with the observations.

// observation is one thing the engine reported about a container.
type observation struct {
	Kind    observed
	ID      string
	Name    string
	Service string
	Time    time.Time
	// Checks is how many failing checks make the container unhealthy (its
	// health check's retries), for the reason given.
	Checks int
}

type observed int

const (
	// seenRunning: the container was running when supervising began.
	seenRunning observed = iota
	seenStart
	seenUnhealthy
	seenHealthy
	seenGone
)

// healAction is one thing to do.
type healAction struct {
	Kind healKind
	// Container is the container to restart or given up on (restart,
	// giveUp).
	ID, Name string
	// After is how long to wait before restarting (the back-off).
	After time.Duration
	// Cascade is the services to restart, in order, because Cause
	// restarted (cascade).
	Cascade []cascadeStep
	Cause   string
	Reason  string
}

type healKind int

const (
	healRestart healKind = iota
	healCascade
	healGiveUp
)

// cascadeStep restarts a service once each dependency it declares
// `restart: true` on, among those the cascade restarts, meets its
// condition again.
type cascadeStep struct {
	Service string
	Waits   []restartOn
}

// restartOn is a depends_on entry with `restart: true`.
type restartOn struct {
	Dependency string
	Condition  string
}

// healRules are what the project says about healing.
type healRules struct {
	// Autoheal are the services whose unhealthy containers are restarted.
	Autoheal map[string]bool
	// RestartOn maps a service to its depends_on entries that say
	// `restart: true`.
	RestartOn map[string][]restartOn
	// Acts, if not nil, limits the restarts to these services.
	Acts map[string]bool
	// Backoff is the wait before each restart of a container that turns
	// unhealthy again within Window of its last restart: the first comes at
	// once, then Backoff, 2×Backoff, ..., and after MaxRestarts such
	// restarts the healer gives up on the container.
	Backoff     time.Duration
	Window      time.Duration
	MaxRestarts int
}

func (r healRules) acts(service string) bool { return r.Acts == nil || r.Acts[service] }

// healer holds what the decisions need to remember.
type healer struct {
	rules healRules
	// started are the containers seen running: a later start is a restart.
	started map[string]bool
	// restarts counts, per container, the restarts for health in a row,
	// and when the last one was.
	restarts map[string]restartRecord
	// gaveUp are the containers the healer stopped restarting, until they
	// turn healthy again.
	gaveUp map[string]bool
	// cascading are the containers restarted as part of a cascade: their
	// start is the cascade's doing and causes none of its own.
	cascading map[string]bool
}

type restartRecord struct {
	count int
	last  time.Time
}

func newHealer(rules healRules) *healer {
	return &healer{rules: rules, started: map[string]bool{}, restarts: map[string]restartRecord{},
		gaveUp: map[string]bool{}, cascading: map[string]bool{}}
}

// cascaded tells the healer that it is about to restart container id as
// part of a cascade, so that its start does not cascade again.
func (h *healer) cascaded(id string) { h.cascading[id] = true }

// observe decides what an observation calls for.
func (h *healer) observe(o observation) []healAction {
	switch o.Kind {
	case seenRunning:
		h.started[o.ID] = true
	case seenGone:
		delete(h.started, o.ID)
		delete(h.restarts, o.ID)
		delete(h.gaveUp, o.ID)
		delete(h.cascading, o.ID)
	case seenHealthy:
		if h.gaveUp[o.ID] {
			// Mended after the healer gave up (by hand, say): a fresh
			// start for the back-off.
			delete(h.gaveUp, o.ID)
			delete(h.restarts, o.ID)
		}
	case seenUnhealthy:
		return h.unhealthy(o)
	case seenStart:
		again := h.started[o.ID]
		h.started[o.ID] = true
		if !again {
			return nil // a first start: nothing restarted
		}
		if h.cascading[o.ID] {
			delete(h.cascading, o.ID)
			return nil // the cascade that restarted it covers its dependents
		}
		return h.cascade(o.Service)
	}
	return nil
}

// unhealthy restarts a container that opted in, backing off when it turns
// unhealthy again soon after a restart, and giving up after too many.
func (h *healer) unhealthy(o observation) []healAction {
	if !h.rules.Autoheal[o.Service] || !h.rules.acts(o.Service) || h.gaveUp[o.ID] {
		return nil
	}
	rec := h.restarts[o.ID]
	if rec.count > 0 && o.Time.Sub(rec.last) > h.rules.Window {
		rec.count = 0 // healthy long enough: start counting again
	}
	if rec.count > h.rules.MaxRestarts {
		h.gaveUp[o.ID] = true
		return []healAction{{Kind: healGiveUp, ID: o.ID, Name: o.Name,
			Reason: fmt.Sprintf("unhealthy again after %d restarts in a row: not restarted any more until it is healthy; look at its health check's output (docker inspect %s)", rec.count, o.Name)}}
	}
	var after time.Duration
	if rec.count > 0 {
		after = h.rules.Backoff << (rec.count - 1)
	}
	rec.count++
	rec.last = o.Time.Add(after)
	h.restarts[o.ID] = rec
	reason := "unhealthy for 1 check"
	if o.Checks > 1 {
		reason = fmt.Sprintf("unhealthy for %d checks", o.Checks)
	}
	if after > 0 {
		reason += fmt.Sprintf("; restart %d in a row, after %s", rec.count, after)
	}
	return []healAction{{Kind: healRestart, ID: o.ID, Name: o.Name, After: after, Cause: o.Service, Reason: reason}}
}

// cascade lists, in dependency order, every service that declares
// `restart: true` on service, directly or through another such service,
// each once, waiting for each of its restarted dependencies.
func (h *healer) cascade(service string) []healAction {
	// The services to restart: everything that reaches service through
	// restart: true entries.
	in := map[string]bool{service: true}
	for changed := true; changed; {
		changed = false
		for svc, deps := range h.rules.RestartOn {
			if in[svc] {
				continue
			}
			for _, d := range deps {
				if in[d.Dependency] {
					in[svc], changed = true, true
					break
				}
			}
		}
	}
	// In dependency order: a service after every restarted service it
	// waits for; by name among equals, so the order is always the same.
	var steps []cascadeStep
	done := map[string]bool{service: true}
	for len(done) < len(in) {
		var ready []string
		for svc := range in {
			if done[svc] {
				continue
			}
			waitsDone := true
			for _, d := range h.rules.RestartOn[svc] {
				if in[d.Dependency] && !done[d.Dependency] {
					waitsDone = false
				}
			}
			if waitsDone {
				ready = append(ready, svc)
			}
		}
		if len(ready) == 0 {
			break // a cycle, which the loader refuses anyway
		}
		slices.Sort(ready)
		for _, svc := range ready {
			done[svc] = true
			if !h.rules.acts(svc) {
				continue
			}
			step := cascadeStep{Service: svc}
			for _, d := range h.rules.RestartOn[svc] {
				if in[d.Dependency] {
					step.Waits = append(step.Waits, d)
				}
			}
			slices.SortFunc(step.Waits, func(a, b restartOn) int { return cmpString(a.Dependency, b.Dependency) })
			steps = append(steps, step)
		}
	}
	if len(steps) == 0 {
		return nil
	}
	return []healAction{{Kind: healCascade, Cascade: steps, Cause: service, Reason: "its dependency " + service + " restarted"}}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
