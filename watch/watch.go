// Package watch keeps running services in step with their source files,
// as develop.watch in the Compose file asks: it follows file changes with
// fsnotify (inotify on Linux: no polling), matches them against each
// service's rules (path, include, ignore, the build context's
// .dockerignore), coalesces a burst of changes into one batch per
// service, and turns the batch into actions: rebuild, sync, restart,
// sync+restart, sync+exec.
//
// The actions that reach the engine are behind the small Actions
// interface, which the command line implements over the orchestrator, so
// that everything here is tested without an engine.
package watch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/fsnotify/fsnotify"
)

// Actions change the services. Each call acts on every running container
// of the service and returns once the engine is done.
type Actions interface {
	// Rebuild builds the service's image and recreates its containers
	// from it.
	Rebuild(ctx context.Context, service string) error
	// Sync copies the changes that exist on the host into the service's
	// containers and deletes there those that do not.
	Sync(ctx context.Context, service string, changes []Change) error
	// Restart restarts the service's containers.
	Restart(ctx context.Context, service string) error
	// Exec runs a sync+exec hook in the service's containers.
	Exec(ctx context.Context, service string, hook types.ServiceHook) error
}

// EventKind says what an Event reports.
type EventKind int

const (
	// Watching: the service's rules are in place (Detail: the paths).
	Watching EventKind = iota
	// Enabled: every watch is in place; a change from now on is seen.
	Enabled
	// Rebuilding and Rebuilt surround a rebuild.
	Rebuilding
	Rebuilt
	// Synced: Copied and Deleted paths went to the service's containers.
	Synced
	Restarted
	// Executed: a sync+exec hook ran (Detail: its command).
	Executed
	// Failed: an action failed (Err); watching goes on.
	Failed
	// Warning: something about watching itself (Detail), such as lost
	// events or a path that does not exist.
	Warning
)

// Event is one thing watch reports.
type Event struct {
	Kind    EventKind
	Service string
	Copied  int
	Deleted int
	Detail  string
	Err     error
}

// Options tune Run.
type Options struct {
	// Rules are the rules of every watched service.
	Rules []Rule
	// Quiet is how long changes must settle before their batch goes out
	// (DefaultQuiet when 0); MaxDelay bounds how long a batch waits in a
	// steady stream of changes (DefaultMaxDelay when 0).
	Quiet, MaxDelay time.Duration
	// Report receives what happens; nil discards.
	Report func(Event)
}

// The defaults keep a change's way into the container well under half a
// second while an editor's save (write, rename, chmod within a few ms)
// or a checkout still makes one batch. compose waits 500 ms.
const (
	DefaultQuiet    = 50 * time.Millisecond
	DefaultMaxDelay = 100 * time.Millisecond
)

// Run watches until ctx is done, then waits for the actions under way
// (they run on ctx; the orchestrator finishes an engine request it has
// begun) and returns nil. It fails at once only when watching cannot
// start.
func Run(ctx context.Context, opts Options, actions Actions) error {
	if opts.Quiet <= 0 {
		opts.Quiet = DefaultQuiet
	}
	if opts.MaxDelay <= 0 {
		opts.MaxDelay = DefaultMaxDelay
	}
	if opts.Report == nil {
		opts.Report = func(Event) {}
	}
	fsw, err := fsnotify.NewBufferedWatcher(4096)
	if err != nil {
		return fmt.Errorf("watching files: %w", err)
	}
	defer fsw.Close()
	r := &runner{opts: opts, actions: actions, fsw: fsw, batch: newBatcher(opts.Quiet, opts.MaxDelay), done: make(chan string)}
	if err := r.start(); err != nil {
		return err
	}
	return r.loop(ctx)
}

// runner is one Run's state; only its loop goroutine touches batch and
// rules.
type runner struct {
	opts    Options
	actions Actions
	fsw     *fsnotify.Watcher
	rules   []Rule
	batch   *batcher
	// done receives a service's name when its work is finished.
	done chan string
	wg   sync.WaitGroup
}

// start watches every rule's path and queues the initial syncs.
func (r *runner) start() error {
	byService := map[string][]string{}
	for _, rule := range r.opts.Rules {
		p := rule.Trigger.Path
		fi, err := os.Stat(p)
		if err != nil {
			r.opts.Report(Event{Kind: Warning, Service: rule.Service, Detail: fmt.Sprintf("develop.watch path %s: %v: not watched", p, err)})
			continue
		}
		r.rules = append(r.rules, rule)
		byService[rule.Service] = append(byService[rule.Service], p)
		if fi.IsDir() {
			if err := r.addTree(p, nil); err != nil {
				return err
			}
		} else if err := r.fsw.Add(filepath.Dir(p)); err != nil {
			// A single file is watched through its directory: an editor
			// that saves by renaming replaces the file, and a watch on
			// the file itself would end with it.
			return watchError(filepath.Dir(p), err)
		}
	}
	services := make([]string, 0, len(byService))
	for s := range byService {
		services = append(services, s)
	}
	sort.Strings(services)
	for _, s := range services {
		r.opts.Report(Event{Kind: Watching, Service: s, Detail: fmt.Sprint(byService[s])})
	}
	// Queued after the watches are in place, so that a change made while
	// walking is seen either way.
	var zero time.Time
	for _, rule := range r.rules {
		if !rule.Trigger.InitialSync || !isSync(rule.Trigger.Action) {
			continue
		}
		_ = filepath.WalkDir(rule.Trigger.Path, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if d.IsDir() && rule.skipsDir(p) {
				return filepath.SkipDir
			}
			if _, ok := rule.Match(p); ok && p != rule.Trigger.Path {
				r.batch.add(rule.Service, p, zero)
			}
			return nil
		})
	}
	return nil
}

func isSync(a types.WatchAction) bool {
	return a == types.WatchActionSync || a == types.WatchActionSyncRestart || a == types.WatchActionSyncExec
}

// addTree watches dir and the directories below it that some rule needs
// (fsnotify watches one directory, not a tree). found, if set, receives
// every path below dir: for a directory that just appeared, what was
// created in it before its watch was.
func (r *runner) addTree(dir string, found func(string)) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // gone meanwhile: its removal is an event of its own
		}
		if d.IsDir() {
			if r.skipped(p) {
				return filepath.SkipDir
			}
			if err := r.fsw.Add(p); err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return filepath.SkipDir
				}
				return watchError(p, err)
			}
		}
		if found != nil && p != dir {
			found(p)
		}
		return nil
	})
}

// skipped reports whether no rule needs the directory p watched.
func (r *runner) skipped(p string) bool {
	for _, rule := range r.rules {
		if rule.covers(p) && !rule.skipsDir(p) {
			return false
		}
	}
	return true
}

func watchError(p string, err error) error {
	if errors.Is(err, errNoSpace) {
		return fmt.Errorf("watching %s: %w (the limit is fs.inotify.max_user_watches; raise it, or ignore directories such as node_modules)", p, err)
	}
	return fmt.Errorf("watching %s: %w", p, err)
}

// loop routes file events into the batcher and starts each service's
// work when its batch is due.
func (r *runner) loop(ctx context.Context) error {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var timerC <-chan time.Time
	rearm := func() {
		timer.Stop()
		timerC = nil
		if at, ok := r.batch.next(); ok {
			timer.Reset(max(time.Until(at), 0))
			timerC = timer.C
		}
	}
	r.opts.Report(Event{Kind: Enabled})
	r.dispatch(ctx)
	rearm()
	for {
		select {
		case <-ctx.Done():
			// Drain: a finished worker sends on done.
			go func() {
				for range r.done {
				}
			}()
			r.wg.Wait()
			close(r.done)
			return nil
		case ev, ok := <-r.fsw.Events:
			if !ok {
				return nil
			}
			r.event(ev, time.Now())
		case err, ok := <-r.fsw.Errors:
			if !ok {
				return nil
			}
			detail := err.Error()
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				detail = "file events were lost (the kernel's queue overflowed): a change may be missed until the file changes again"
			}
			r.opts.Report(Event{Kind: Warning, Detail: detail})
		case <-timerC:
			r.dispatch(ctx)
		case s := <-r.done:
			r.batch.done(s)
			r.dispatch(ctx)
		}
		rearm()
	}
}

// event records a file event for the services whose rules want it.
func (r *runner) event(ev fsnotify.Event, now time.Time) {
	r.route(ev.Name, now)
	if !ev.Has(fsnotify.Create) {
		return
	}
	if fi, err := os.Lstat(ev.Name); err == nil && fi.IsDir() && !r.skipped(ev.Name) {
		err := r.addTree(ev.Name, func(p string) { r.route(p, now) })
		if err != nil {
			r.opts.Report(Event{Kind: Warning, Detail: err.Error()})
		}
	}
}

func (r *runner) route(p string, now time.Time) {
	for _, rule := range r.rules {
		if _, ok := rule.Match(p); ok {
			r.batch.add(rule.Service, p, now)
		}
	}
}

// dispatch starts the work of every batch that is due.
func (r *runner) dispatch(ctx context.Context) {
	if ctx.Err() != nil {
		return
	}
	for service, paths := range r.batch.take(time.Now()) {
		w := plan(service, r.rules, paths, exists)
		if w.empty() {
			r.batch.done(service)
			continue
		}
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			r.work(ctx, w)
			r.done <- service
		}()
	}
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// work does a service's batch, step by step; a failed step ends it (the
// steps after it assume it worked), and the next change tries again.
func (r *runner) work(ctx context.Context, w Work) {
	report := r.opts.Report
	fail := func(err error) { report(Event{Kind: Failed, Service: w.Service, Err: err}) }
	if w.Rebuild {
		report(Event{Kind: Rebuilding, Service: w.Service})
		if err := r.actions.Rebuild(ctx, w.Service); err != nil {
			fail(err)
			return
		}
		report(Event{Kind: Rebuilt, Service: w.Service})
	}
	if len(w.Sync) > 0 && ctx.Err() == nil {
		if err := r.actions.Sync(ctx, w.Service, w.Sync); err != nil {
			fail(err)
			return
		}
		e := Event{Kind: Synced, Service: w.Service}
		for _, c := range w.Sync {
			if c.Deleted {
				e.Deleted++
			} else {
				e.Copied++
			}
		}
		report(e)
	}
	if w.Restart && ctx.Err() == nil {
		if err := r.actions.Restart(ctx, w.Service); err != nil {
			fail(err)
			return
		}
		report(Event{Kind: Restarted, Service: w.Service})
	}
	for _, h := range w.Exec {
		if ctx.Err() != nil {
			return
		}
		if err := r.actions.Exec(ctx, w.Service, h); err != nil {
			fail(err)
			return
		}
		report(Event{Kind: Executed, Service: w.Service, Detail: fmt.Sprint(h.Command)})
	}
}
