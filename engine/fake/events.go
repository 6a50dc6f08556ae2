package fake

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/composer-orchestrator/composer/engine"
)

// subscriber is one Events stream. Publishing appends to its queue and
// never blocks; a goroutine per subscriber forwards the queue to the
// channel until the subscriber's ctx is done. A slow or vanished reader
// therefore never stalls the engine, and no event is dropped or reordered
// for a reader that keeps reading.
type subscriber struct {
	filter engine.EventFilter
	// mu guards queue: publishers append under e.mu while the forwarding
	// goroutine takes the queue without holding e.mu (it must not, or a
	// reader calling back into the engine would deadlock with it).
	mu    sync.Mutex
	queue []engine.Event
	wake  chan struct{} // capacity 1: "the queue may have grown"
}

func (s *subscriber) matches(ev engine.Event) bool {
	if s.filter.Type != "" && s.filter.Type != ev.Type {
		return false
	}
	if !s.filter.Since.IsZero() && ev.Time.Before(s.filter.Since) {
		return false
	}
	if !s.filter.Until.IsZero() && ev.Time.After(s.filter.Until) {
		return false
	}
	return engine.Filter{Labels: s.filter.Labels}.Matches(ev.Attributes)
}

func (s *subscriber) push(ev engine.Event) {
	s.mu.Lock()
	s.queue = append(s.queue, ev)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default: // a wake-up is pending already
	}
}

// take empties the queue and returns what it held.
func (s *subscriber) take() []engine.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	batch := s.queue
	s.queue = nil
	return batch
}

// Events implements engine.Events. Like the engine, a non-zero
// filter.Since replays the matching past events first, and a non-zero
// filter.Until ends the stream: the past events up to Until are replayed
// (from the first one when Since is zero), the live ones follow while
// Until lies ahead, and then both channels are closed without an error.
// When ctx is done both channels are closed without an error too, as the
// Docker adapter does: the caller ended the stream, nothing failed.
func (e *Engine) Events(ctx context.Context, filter engine.EventFilter) (<-chan engine.Event, <-chan error) {
	out := make(chan engine.Event)
	errc := make(chan error, 1)
	s := &subscriber{filter: filter, wake: make(chan struct{}, 1)}
	fail := func(err error) (<-chan engine.Event, <-chan error) {
		errc <- err
		close(errc)
		close(out)
		return out, errc
	}

	e.mu.Lock()
	if err := e.enter(context.WithoutCancel(ctx), "Events"); err != nil {
		e.mu.Unlock()
		return fail(err)
	}
	bounded := !filter.Until.IsZero()
	if bounded && filter.Until.Before(filter.Since) {
		e.mu.Unlock()
		return fail(fmt.Errorf("`since` time (%d) cannot be after `until` time (%d)", filter.Since.Unix(), filter.Until.Unix()))
	}
	// Replaying and registering under one hold of e.mu means no event is
	// both replayed and delivered live, and none falls between the two.
	if !filter.Since.IsZero() || bounded {
		for _, ev := range e.history {
			if s.matches(ev) {
				s.queue = append(s.queue, ev)
			}
		}
	}
	// Every event published from now on is stamped later than now, so an
	// Until that has passed needs no live events.
	live := !bounded || time.Now().Before(filter.Until)
	if live {
		e.subs[s] = struct{}{}
	}
	e.mu.Unlock()

	go func() {
		defer close(out)
		defer close(errc)
		defer e.unsubscribe(s)
		var until <-chan time.Time // nil, never ready, for an unbounded stream
		if live && bounded {
			timer := time.NewTimer(time.Until(filter.Until))
			defer timer.Stop()
			until = timer.C
		}
		for {
			for _, ev := range s.take() {
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				}
			}
			if !live {
				return
			}
			select {
			case <-s.wake:
			case <-until:
				// Events are stamped under e.mu, so once unsubscribed
				// every event up to Until is in the queue, and the next
				// round delivers it and ends.
				e.unsubscribe(s)
				live = false
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, errc
}

// unsubscribe stops publishing to s; it may be called more than once.
func (e *Engine) unsubscribe(s *subscriber) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.subs, s)
}

// publish records an event and hands it to every matching subscriber.
// The caller holds e.mu, which makes the event order the order of the
// state changes.
func (e *Engine) publish(typ, action, id string, attrs map[string]string) {
	ev := engine.Event{Type: typ, Action: action, ID: id, Attributes: attrs, Time: time.Now()}
	e.history = append(e.history, ev)
	for s := range e.subs {
		if s.matches(ev) {
			// Each subscriber gets its own map so that none can change
			// another's (or the history's) attributes.
			c := ev
			c.Attributes = maps.Clone(ev.Attributes)
			s.push(c)
		}
	}
}

// containerEvent publishes a container event whose attributes are the
// container's labels, its name and image, and extra.
func (e *Engine) containerEvent(c *container, action string, extra ...string) {
	attrs := copyLabels(c.config.Labels)
	attrs["name"] = c.name
	attrs["image"] = c.spec.Image
	for i := 0; i+1 < len(extra); i += 2 {
		attrs[extra[i]] = extra[i+1]
	}
	e.publish("container", action, c.id, attrs)
}
