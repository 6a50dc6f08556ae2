package watch

import (
	"sort"
	"time"
)

// batcher coalesces the changed paths of each service until they settle:
// a service's batch is due once no change came for quiet, or once its
// oldest change is maxDelay old, so that a steady stream of changes
// (a build tool writing for seconds) still goes out. A service whose
// work is under way collects what comes meanwhile and is due again
// after it. It is driven by explicit times, so it is tested without
// waiting; the watcher's loop owns it (no lock).
type batcher struct {
	quiet, maxDelay time.Duration
	pending         map[string]*pendingBatch
	busy            map[string]bool
}

type pendingBatch struct {
	paths       map[string]bool
	first, last time.Time
}

func newBatcher(quiet, maxDelay time.Duration) *batcher {
	return &batcher{quiet: quiet, maxDelay: maxDelay, pending: map[string]*pendingBatch{}, busy: map[string]bool{}}
}

// add records a change of path for service at now.
func (b *batcher) add(service, path string, now time.Time) {
	p := b.pending[service]
	if p == nil {
		p = &pendingBatch{paths: map[string]bool{}, first: now}
		b.pending[service] = p
	}
	p.paths[path] = true
	p.last = now
}

// deadline is when a service's pending batch is due.
func (b *batcher) deadline(p *pendingBatch) time.Time {
	d := p.last.Add(b.quiet)
	if m := p.first.Add(b.maxDelay); m.Before(d) {
		d = m
	}
	return d
}

// next is the earliest time a batch is due, and false when none is
// pending for an idle service.
func (b *batcher) next() (time.Time, bool) {
	var at time.Time
	found := false
	for s, p := range b.pending {
		if b.busy[s] {
			continue
		}
		if d := b.deadline(p); !found || d.Before(at) {
			at, found = d, true
		}
	}
	return at, found
}

// take returns the batches due at now, by service, sorted paths, and
// marks those services busy until done.
func (b *batcher) take(now time.Time) map[string][]string {
	out := map[string][]string{}
	for s, p := range b.pending {
		if b.busy[s] || now.Before(b.deadline(p)) {
			continue
		}
		paths := make([]string, 0, len(p.paths))
		for q := range p.paths {
			paths = append(paths, q)
		}
		sort.Strings(paths)
		out[s] = paths
		delete(b.pending, s)
		b.busy[s] = true
	}
	return out
}

// done marks a service's work finished. What came meanwhile is due at
// once if it has settled, else when it does.
func (b *batcher) done(service string) {
	delete(b.busy, service)
}

// idle reports whether no work is under way.
func (b *batcher) idle() bool { return len(b.busy) == 0 }
