package fake

import (
	"context"
	"slices"
	"time"
)

// latencyOps are the methods SetLatency can slow down: those that change
// the engine's state.
var latencyOps = []string{
	"CreateContainer", "StartContainer", "StopContainer", "KillContainer",
	"RemoveContainer", "RenameContainer",
	"CreateNetwork", "RemoveNetwork", "CreateVolume", "RemoveVolume",
	"CopyToContainer", "CommitContainer",
}

// SetLatency makes every call of op (a method name such as
// "CreateContainer", "StartContainer", "StopContainer", "RemoveContainer",
// "RenameContainer", "CreateNetwork", "RemoveNetwork", "CreateVolume",
// "RemoveVolume", "KillContainer") take d before it takes effect. If the
// caller's context is done first, the call returns ctx.Err() at once, but
// the operation still takes effect when d has passed, as the engine
// carries out a request whose client has gone. A zero d removes the
// latency. op "" sets it for all of the listed mutating methods; any other
// op panics, since a latency that never applies would let a test pass
// without testing anything.
//
// The call is counted, and faults and a done context are checked, when it
// is made: a call made with a context already done does nothing at all.
// A few effects show at once, as they do in the engine: StopContainer
// publishes "kill" when called and "die" and "stop" when d has passed;
// RemoveContainer puts the container in engine.StateRemoving until it is
// gone; CreateContainer reserves the name, so a second create with it is
// a conflict, while the container itself appears only when d has passed.
// The rest of the operation applies to the state as it is then: a
// container removed meanwhile is not started, stopped or renamed.
func (e *Engine) SetLatency(op string, d time.Duration) {
	ops := []string{op}
	if op == "" {
		ops = latencyOps
	} else if !slices.Contains(latencyOps, op) {
		panic("fake: SetLatency: no latency can be set for " + op)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, op := range ops {
		if d <= 0 {
			delete(e.latency, op)
		} else {
			e.latency[op] = d
		}
	}
}

// Quiesce waits until every operation still under way (started by a call
// whose caller gave up or not) has taken effect, or ctx is done. It is not
// counted as a call.
func (e *Engine) Quiesce(ctx context.Context) error {
	for {
		e.mu.Lock()
		pending, settled := e.pending, e.settled
		e.mu.Unlock()
		if pending == 0 {
			return nil
		}
		select {
		case <-settled:
			// Another call may have started an operation since; look again.
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// apply makes the state change of a call of op whose checks have passed,
// by calling effect, and returns effect's error. Without a latency for op
// effect runs at once. With one, effect runs when the latency has passed,
// whether or not the caller still waits; the caller gets ctx.Err() as soon
// as ctx is done. effect must look at the state afresh, since other calls
// may have changed it in the meantime.
//
// The caller holds e.mu. apply releases it while the operation is under
// way, so that other calls go on meanwhile, and holds it again when it
// returns; the caller must not rely on anything it saw before.
func (e *Engine) apply(ctx context.Context, op string, effect func() error) error {
	d, ok := e.latency[op]
	if !ok {
		return effect()
	}
	done := make(chan error, 1) // never blocks the effect, read or not
	e.pending++
	time.AfterFunc(d, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		done <- effect()
		e.pending--
		if e.pending == 0 {
			close(e.settled)
			e.settled = make(chan struct{})
		}
	})
	e.mu.Unlock()
	defer e.mu.Lock()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
