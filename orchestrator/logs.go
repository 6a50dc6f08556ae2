package orchestrator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/labels"
)

// LogOptions select the logs to show.
type LogOptions struct {
	// Services limits the logs to these services; empty means all.
	Services []string
	// Follow keeps streaming, including containers that start, restart or
	// are recreated later, until ctx is done.
	Follow     bool
	Tail       string
	Since      string
	Until      string
	Timestamps bool
	// Index selects one replica; 0 means all.
	Index int
	// OneOff includes one-off (run) containers.
	OneOff bool
}

// LogConsumer receives whole log lines, and notices about containers
// (attached, exited, ...) while following.
type LogConsumer interface {
	Log(container, service string, stderr bool, line string)
	Notice(Notice)
}

// NoticeKind says what a notice reports.
type NoticeKind string

const (
	// NoticeAttached: a container started while following; its logs follow.
	NoticeAttached NoticeKind = "attached"
	// NoticeExited: a followed container stopped, with ExitCode.
	NoticeExited NoticeKind = "exited"
	// NoticeAttaching: attached up is done bringing the project up; the
	// logs of Containers follow.
	NoticeAttaching NoticeKind = "attaching"
	// NoticeAborting: attached up stops the project because Container
	// exited with ExitCode (--abort-on-container-exit and the like).
	NoticeAborting NoticeKind = "aborting"
	// NoticeStopping: attached up stops the project after an interrupt; a
	// second interrupt kills it.
	NoticeStopping NoticeKind = "stopping"
)

// Notice reports a change in what is being followed. The fields other
// than Kind are set where the kind says.
type Notice struct {
	Kind       NoticeKind
	Container  string
	Service    string
	ExitCode   int
	Containers []string
}

// Logs streams the logs of a project's containers to consumer. Lines are
// delivered whole: a line split over two reads is held until complete.
func (o *Orchestrator) Logs(ctx context.Context, project string, opts LogOptions, consumer LogConsumer) error {
	f := &follower{o: o, opts: opts, consumer: consumer, active: map[string]bool{}, ended: map[string]time.Time{}}
	return f.run(ctx, project)
}

type follower struct {
	o        *Orchestrator
	opts     LogOptions
	consumer LogConsumer
	// mu guards active and ended: readers end on their own goroutines while
	// the event loop starts new ones, and a container must never have two
	// readers (its lines would be shown twice).
	mu     sync.Mutex
	active map[string]bool
	// ended is when each container's last reader finished: a restarted
	// container is read from then on, since its log holds earlier runs.
	ended map[string]time.Time
}

func (f *follower) wanted(c engine.Container) bool {
	if c.Labels[labels.Oneoff] == labels.True && !f.opts.OneOff {
		return false
	}
	if f.opts.Index > 0 && c.Labels[labels.Number] != strconv.Itoa(f.opts.Index) {
		return false
	}
	if len(f.opts.Services) == 0 {
		return true
	}
	for _, s := range f.opts.Services {
		if c.Labels[labels.Service] == s {
			return true
		}
	}
	return false
}

func (f *follower) run(ctx context.Context, project string) error {
	eg, ctx := errgroup.WithContext(ctx)
	var evs <-chan engine.Event
	var errs <-chan error
	if f.opts.Follow {
		// Subscribe before listing so that a container starting in between
		// is seen by one or the other (active[] keeps it from both).
		// Since a moment ago, as the engine may drop the events between
		// answering and listening; a replayed start is deduplicated.
		evs, errs = f.o.eng.Events(ctx, engine.EventFilter{Type: "container", Labels: map[string]string{labels.Project: project}, Since: time.Now().Add(-2 * time.Second)})
	}
	cs, err := f.o.eng.ListContainers(ctx, engine.Filter{Labels: map[string]string{labels.Project: project}})
	if err != nil {
		return fmt.Errorf("listing containers: %w", err)
	}
	sortContainers(cs)
	for _, c := range cs {
		// When following, a container not yet started is picked up by its
		// start event; reading it now would race with that.
		if f.wanted(c) && !(f.opts.Follow && c.State == engine.StateCreated) {
			f.start(ctx, eg, c)
		}
	}
	if f.opts.Follow {
		eg.Go(func() error {
			for {
				select {
				case e, ok := <-evs:
					if !ok {
						return nil
					}
					if e.Action != "start" {
						continue
					}
					c := engine.Container{ID: e.ID, Name: e.Attributes["name"], Labels: e.Attributes}
					if !f.wanted(c) || f.covered(e) {
						continue
					}
					f.consumer.Notice(Notice{Kind: NoticeAttached, Container: c.Name, Service: c.Labels[labels.Service]})
					f.start(ctx, eg, c)
				case err := <-errs:
					if err != nil && ctx.Err() == nil {
						return fmt.Errorf("following engine events: %w", err)
					}
					return nil
				case <-ctx.Done():
					return nil
				}
			}
		})
	}
	err = eg.Wait()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// covered reports whether a start event (replayed from before the
// subscription) is already covered by a reader that ended after it.
func (f *follower) covered(e engine.Event) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.ended[e.ID]
	return ok && !e.Time.After(t)
}

// start reads a container's log unless a reader is already on it. A
// container seen for the first time is read from the start of its log (it
// may print before the engine sends its start event); a restarted one from
// where its last reader ended, so that earlier runs are not shown twice.
func (f *follower) start(ctx context.Context, eg *errgroup.Group, c engine.Container) {
	f.mu.Lock()
	if f.active[c.ID] {
		f.mu.Unlock()
		return
	}
	f.active[c.ID] = true
	since := f.opts.Since
	if t, ok := f.ended[c.ID]; ok {
		since = strconv.FormatFloat(float64(t.UnixNano())/1e9, 'f', 9, 64)
	}
	f.mu.Unlock()
	service := c.Labels[labels.Service]
	eg.Go(func() error {
		defer func() {
			f.mu.Lock()
			delete(f.active, c.ID)
			f.ended[c.ID] = time.Now()
			f.mu.Unlock()
		}()
		out := &lineWriter{emit: func(l string) { f.consumer.Log(c.Name, service, false, l) }}
		errw := &lineWriter{emit: func(l string) { f.consumer.Log(c.Name, service, true, l) }}
		err := f.o.eng.ContainerLogs(ctx, c.ID, engine.LogOptions{
			Follow: f.opts.Follow, Tail: f.opts.Tail, Since: since, Until: f.opts.Until, Timestamps: f.opts.Timestamps,
		}, out, errw)
		out.Flush()
		errw.Flush()
		if err != nil && ctx.Err() == nil && !errors.Is(err, engine.ErrNotFound) {
			return fmt.Errorf("reading logs of %s: %w", c.Name, err)
		}
		if f.opts.Follow && ctx.Err() == nil {
			// The stream ends when the container stops.
			if d, err := f.o.eng.InspectContainer(ctx, c.ID); err == nil && d.State != engine.StateRunning {
				f.consumer.Notice(Notice{Kind: NoticeExited, Container: c.Name, Service: service, ExitCode: d.ExitCode})
			}
		}
		return nil
	})
}

// lineWriter cuts a byte stream into whole lines.
type lineWriter struct {
	buf  []byte
	emit func(string)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		line := string(bytes.TrimSuffix(w.buf[:i], []byte("\r")))
		w.buf = w.buf[i+1:]
		w.emit(line)
	}
	return len(p), nil
}

// Flush emits a last line that had no newline.
func (w *lineWriter) Flush() {
	if len(w.buf) > 0 {
		w.emit(string(w.buf))
		w.buf = nil
	}
}
