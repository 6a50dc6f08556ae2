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

	"github.com/composer/composer/engine"
	"github.com/composer/composer/labels"
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

// LogConsumer receives whole log lines, and notes about containers
// (exited, attached) while following.
type LogConsumer interface {
	Log(container, service string, stderr bool, line string)
	Status(container, service string, text string)
}

// Logs streams the logs of a project's containers to consumer. Lines are
// delivered whole: a line split over two reads is held until complete.
func (o *Orchestrator) Logs(ctx context.Context, project string, opts LogOptions, consumer LogConsumer) error {
	f := &follower{o: o, opts: opts, consumer: consumer, active: map[string]bool{}}
	return f.run(ctx, project)
}

type follower struct {
	o        *Orchestrator
	opts     LogOptions
	consumer LogConsumer
	// mu guards active: readers end on their own goroutines while the event
	// loop starts new ones, and a container must never have two readers
	// (its lines would be shown twice).
	mu     sync.Mutex
	active map[string]bool
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
		evs, errs = f.o.eng.Events(ctx, engine.EventFilter{Type: "container", Labels: map[string]string{labels.Project: project}})
	}
	cs, err := f.o.eng.ListContainers(ctx, engine.Filter{Labels: map[string]string{labels.Project: project}})
	if err != nil {
		return fmt.Errorf("listing containers: %w", err)
	}
	sortContainers(cs)
	for _, c := range cs {
		if f.wanted(c) {
			f.start(ctx, eg, c, f.opts.Since)
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
					if !f.wanted(c) {
						continue
					}
					// A restarted container's log already holds its earlier
					// run: read only from this start on.
					since := strconv.FormatFloat(float64(e.Time.UnixNano())/1e9-0.001, 'f', 6, 64)
					f.consumer.Status(c.Name, c.Labels[labels.Service], "attached")
					f.start(ctx, eg, c, since)
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

func (f *follower) start(ctx context.Context, eg *errgroup.Group, c engine.Container, since string) {
	f.mu.Lock()
	if f.active[c.ID] {
		f.mu.Unlock()
		return
	}
	f.active[c.ID] = true
	f.mu.Unlock()
	service := c.Labels[labels.Service]
	eg.Go(func() error {
		defer func() {
			f.mu.Lock()
			delete(f.active, c.ID)
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
				f.consumer.Status(c.Name, service, fmt.Sprintf("exited with code %d", d.ExitCode))
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

var _ = time.Second
