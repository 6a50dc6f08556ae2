package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/composer-orchestrator/composer/orchestrator"
	"github.com/composer-orchestrator/composer/project"
	"github.com/composer-orchestrator/composer/state"
)

// defaultLockTimeout is how long a command waits for another one changing
// the same project: long enough for a slow up to finish, short enough that
// a script stuck behind a forgotten one fails rather than hangs.
const defaultLockTimeout = 10 * time.Minute

// writer is a command holding a project for writing: the lock, and the
// journal entry saying an operation is under way.
type writer struct {
	key  state.Key
	lock *state.Lock
	// ended is set once the journal entry is gone.
	ended bool
}

// beginChange makes this command the one writer of a project on this
// engine before it changes anything, and prepares the project for it:
//
//   - it takes the project's lock, waiting (and saying so once) while
//     another composer command changes the project;
//   - if the last command on the project did not end cleanly (killed, or
//     abandoned at a second interrupt), it lets the engine settle and
//     clears what that command left half-made;
//   - with a compose file, it refuses to touch containers made from
//     another directory under a name derived from the directory's;
//   - it records the operation in the journal, which endChange removes.
//
// p is nil for a command working from labels alone (down -p NAME).
func (a *app) beginChange(ctx context.Context, orc *orchestrator.Orchestrator, op, name string, p *types.Project) (*writer, error) {
	key, err := a.stateKey(name)
	if err != nil {
		return nil, err
	}
	if a.global.dryRun {
		return nil, a.prepareDryRun(ctx, orc, key, name, p)
	}
	lock, err := a.lock(ctx, key, "project", name)
	if err != nil {
		return nil, err
	}
	w := &writer{key: key, lock: lock}
	if err := a.prepareChange(ctx, orc, w, op, name, p); err != nil {
		_ = lock.Release()
		return nil, err
	}
	return w, nil
}

// lock takes the lock of key, waiting (and saying once that it waits, for
// what) while another composer command holds it, up to --lock-timeout.
func (a *app) lock(ctx context.Context, key state.Key, what, name string) (*state.Lock, error) {
	timeout, err := a.lockTimeout()
	if err != nil {
		return nil, err
	}
	lctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	me := state.Holder{PID: os.Getpid(), Command: a.commandLine(), Since: time.Now()}
	lock, err := state.Acquire(lctx, key, me, func(h state.Holder) {
		fmt.Fprintf(a.streams.Err, "waiting: %s %q is held by %s\n", what, name, h)
	})
	if err != nil {
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("%w (waited %s; --lock-timeout or COMPOSER_LOCK_TIMEOUT sets how long)", err, timeout)
		}
		return nil, err
	}
	return lock, nil
}

// prepareChange settles after an unfinished operation, guards against a
// name collision and opens the journal entry, under the lock.
func (a *app) prepareChange(ctx context.Context, orc *orchestrator.Orchestrator, w *writer, op, name string, p *types.Project) error {
	last, err := state.Pending(w.key)
	if err != nil {
		return err
	}
	if last != nil {
		a.warn(fmt.Sprintf("the last command on project %q (%s, pid %d, %s) did not finish: waiting for the engine to finish its requests",
			name, last.Command, last.PID, last.Started.Format(time.DateTime)))
		var inFlight []orchestrator.Request
		for _, in := range last.InFlight {
			inFlight = append(inFlight, orchestrator.Request{Op: in.Op, Kind: in.Kind, Name: in.Name})
		}
		if err := orc.Settle(ctx, name, last.Started, inFlight); err != nil {
			return fmt.Errorf("recovering project %s: %w", name, err)
		}
	}
	if err := a.checkOwner(ctx, orc, p); err != nil {
		return err
	}
	if err := state.Begin(w.key, state.Entry{Op: op, Command: a.commandLine(), PID: os.Getpid(), Started: time.Now()}); err != nil {
		return err
	}
	a.writing.Store(w)
	return nil
}

// prepareDryRun is beginChange for a dry run, which changes nothing and
// so needs no lock and writes no journal. It still refuses what the real
// command would refuse (a name collision), and says when a real run would
// first recover from an unfinished one, which it does not pretend.
func (a *app) prepareDryRun(ctx context.Context, orc *orchestrator.Orchestrator, key state.Key, name string, p *types.Project) error {
	last, err := state.Pending(key)
	if err != nil {
		return err
	}
	if last != nil {
		a.warn(fmt.Sprintf("the last command on project %q (%s, pid %d) did not finish: a real run would first wait for the engine to finish its requests and clear what it left half-made; this dry run shows the project as it is now",
			name, last.Command, last.PID))
	}
	return a.checkOwner(ctx, orc, p)
}

// checkOwner refuses to touch containers made from another directory
// under a name derived from the directory's (see CheckOwner). p is nil
// for a command working from labels alone, which has nothing to compare.
func (a *app) checkOwner(ctx context.Context, orc *orchestrator.Orchestrator, p *types.Project) error {
	if p == nil {
		return nil
	}
	given := func() bool { return project.NameGiven(a.projectOptions(), p) }
	return orc.CheckOwner(ctx, p, given)
}

// recordProbe remembers, for ps, a container that composer's own probe
// found healthy before the engine did: the orchestrator's WithProbePassed
// hook. A failure to write costs only that remark, so it is a warning.
func (a *app) recordProbe(project, id string) {
	a.probes.Lock()
	defer a.probes.Unlock()
	key, err := a.stateKey(project)
	if err == nil {
		err = state.RecordProbe(key, id, time.Now())
	}
	if err != nil {
		a.warn(err.Error())
	}
}

// markProbed fills in, for ps, when composer's probe found each container
// healthy before the engine did. The record is a remark: one that cannot
// be read leaves the field empty.
func (a *app) markProbed(project string, cs []orchestrator.ContainerSummary) {
	key, err := a.stateKey(project)
	if err != nil {
		return
	}
	probes, err := state.Probes(key)
	if err != nil {
		return
	}
	for i, c := range cs {
		if t, ok := probes[c.ID]; ok {
			cs[i].ReadyByProbe = t.UTC().Format(time.RFC3339)
		}
	}
}

// stateKey is the key of a project's local state on the engine in use.
func (a *app) stateKey(project string) (state.Key, error) {
	dir, err := state.Dir(a.streams.Env)
	if err != nil {
		return state.Key{}, err
	}
	return state.Key{Dir: dir, Engine: a.conn.host, Project: project}, nil
}

// record writes a request to the journal of the project being changed:
// the orchestrator's WithJournal hook. Outside a change it does nothing.
func (a *app) record(r orchestrator.Request, answered bool) {
	w := a.writing.Load()
	if w == nil {
		return
	}
	err := state.Record(w.key, state.Intent{Op: r.Op, Kind: r.Kind, Name: r.Name, Done: answered})
	if err != nil && a.journalFailed.CompareAndSwap(false, true) {
		a.warn("the journal cannot be written, so a killed run would not be recovered: " + err.Error())
	}
}

// endChange closes the journal entry and releases the lock. The entry
// stays when the run was abandoned: requests it sent may still be under
// way in the engine, which the next command must wait for. Calling it
// again does nothing, so a command that goes on without changing the
// project (attached up once the project is up) can end it early.
func (a *app) endChange(w *writer) {
	if w == nil {
		return
	}
	a.writing.CompareAndSwap(w, nil)
	if !w.ended && a.hard.Err() == nil {
		if err := state.End(w.key); err != nil {
			a.warn("clearing the journal: " + err.Error())
		}
		w.ended = true
	}
	_ = w.lock.Release()
}

// change runs one changing operation as the project's writer.
func (a *app) change(ctx context.Context, orc *orchestrator.Orchestrator, op, name string, p *types.Project, fn func() error) error {
	w, err := a.beginChange(ctx, orc, op, name, p)
	if err != nil {
		return err
	}
	defer a.endChange(w)
	return fn()
}

// lockTimeout is --lock-timeout, then COMPOSER_LOCK_TIMEOUT (seconds).
func (a *app) lockTimeout() (time.Duration, error) {
	secs := a.global.lockTimeout
	if secs < 0 {
		v, ok := a.lookupEnv("COMPOSER_LOCK_TIMEOUT")
		if !ok || v == "" {
			return defaultLockTimeout, nil
		}
		if _, err := fmt.Sscan(v, &secs); err != nil || secs < 0 {
			return 0, fmt.Errorf("invalid COMPOSER_LOCK_TIMEOUT %q: want a number of seconds", v)
		}
	}
	return time.Duration(secs) * time.Second, nil
}

// commandLine is how this run is described to a waiting one.
func (a *app) commandLine() string {
	program := a.streams.Program
	if program == "" {
		program = "composer"
	}
	return strings.Join(append([]string{program}, a.args...), " ")
}
