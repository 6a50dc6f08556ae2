package orchestrator

import (
	"context"
	"errors"
	"sort"
	"sync"
	"time"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/labels"
)

// StatsOptions select the containers stats reads.
type StatsOptions struct {
	// Service limits the reading to one service; empty means all.
	Service string
	// All includes containers that are not running.
	All bool
	// Stream reads until ctx is done, reporting every Interval, and
	// follows containers that start or stop meanwhile; otherwise one
	// reading each is reported once.
	Stream bool
	// Interval is how often a stream reports; 0 means 500ms, as docker
	// stats redraws.
	Interval time.Duration
}

// ContainerStats is one container's resource usage, computed from the
// engine's raw counters as docker stats computes it.
type ContainerStats struct {
	ID   string
	Name string
	// CPUPercent is the share of one CPU used between two readings,
	// times the number of CPUs (200% is two CPUs busy).
	CPUPercent float64
	// Memory is the usage without the page cache, as docker shows it.
	Memory, MemoryLimit uint64
	MemoryPercent       float64
	NetRx, NetTx        uint64
	BlockRead           uint64
	BlockWrite          uint64
	PIDs                uint64
}

// Usage computes a container's usage from a reading. The CPU share comes
// from the reading's own previous CPU counters, or, when the engine gave
// none, from prev, the container's reading before (nil if none).
func Usage(s engine.StatsSample, prev *engine.StatsSample) ContainerStats {
	preCPU, preSystem := s.PreCPUTotal, s.PreSystemCPU
	if preSystem == 0 && prev != nil {
		preCPU, preSystem = prev.CPUTotal, prev.SystemCPU
	}
	u := ContainerStats{
		MemoryLimit: s.MemoryLimit, NetRx: s.NetRx, NetTx: s.NetTx,
		BlockRead: s.BlockRead, BlockWrite: s.BlockWrite, PIDs: s.PIDs,
	}
	if s.CPUTotal > preCPU && s.SystemCPU > preSystem {
		cpuDelta := float64(s.CPUTotal - preCPU)
		systemDelta := float64(s.SystemCPU - preSystem)
		u.CPUPercent = cpuDelta / systemDelta * float64(s.OnlineCPUs) * 100
	}
	u.Memory = s.MemoryUsage
	if s.MemoryCache < s.MemoryUsage {
		u.Memory = s.MemoryUsage - s.MemoryCache
	}
	if s.MemoryLimit != 0 {
		u.MemoryPercent = float64(u.Memory) / float64(s.MemoryLimit) * 100
	}
	return u
}

// statsTable holds the latest usage of each container read.
type statsTable struct {
	// mu guards rows, prev and reading: each container's reader writes
	// its own row while the reporter reads them all and the event loop
	// adds and removes containers.
	mu   sync.Mutex
	rows map[string]ContainerStats
	prev map[string]engine.StatsSample
	// reading holds the containers whose reader runs.
	reading map[string]bool
}

func newStatsTable() *statsTable {
	return &statsTable{rows: map[string]ContainerStats{}, prev: map[string]engine.StatsSample{}, reading: map[string]bool{}}
}

// add shows a container (with zero usage until its first reading) and
// reports whether a reader must start for it: false if one runs already.
func (t *statsTable) add(c engine.Container) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.reading[c.ID] {
		return false
	}
	t.reading[c.ID] = true
	if _, ok := t.rows[c.ID]; !ok {
		t.rows[c.ID] = ContainerStats{ID: c.ID, Name: c.Name}
	}
	return true
}

// finish records that a container's reader ended, and removes its row
// unless keep.
func (t *statsTable) finish(id string, keep bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.reading, id)
	if !keep {
		delete(t.rows, id)
		delete(t.prev, id)
	}
}

func (t *statsTable) update(c engine.Container, s engine.StatsSample) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.rows[c.ID]; !ok {
		return // removed meanwhile
	}
	var prev *engine.StatsSample
	if p, ok := t.prev[c.ID]; ok {
		prev = &p
	}
	u := Usage(s, prev)
	u.ID, u.Name = c.ID, c.Name
	t.rows[c.ID] = u
	t.prev[c.ID] = s
}

func (t *statsTable) remove(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.rows, id)
	delete(t.prev, id)
}

// snapshot is the table sorted by name.
func (t *statsTable) snapshot() []ContainerStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]ContainerStats, 0, len(t.rows))
	for _, r := range t.rows {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Stats reads the resource usage of the project's containers (one-off
// ones included, as docker compose's label filter does) and calls report
// with every container's usage: once, or, with Stream, every Interval
// until ctx is done, following containers that start and stop. A stream
// that ends because ctx is done ends without error. An error from report
// ends the reading.
func (o *Orchestrator) Stats(ctx context.Context, project string, opts StatsOptions, report func([]ContainerStats) error) error {
	selects := func(state engine.ContainerState, lbls map[string]string) bool {
		if opts.Service != "" && lbls[labels.Service] != opts.Service {
			return false
		}
		return opts.All || state == engine.StateRunning
	}
	if !opts.Stream {
		cs, err := o.listContainers(ctx, project)
		if err != nil {
			return err
		}
		table := newStatsTable()
		var wg sync.WaitGroup
		for _, c := range cs {
			if !selects(c.State, c.Labels) {
				continue
			}
			table.add(c)
			wg.Add(1)
			go func() {
				defer wg.Done()
				// A container gone meanwhile shows zero usage, as
				// docker stats shows one whose reading failed.
				_ = o.eng.ContainerStats(ctx, c.ID, false, func(s engine.StatsSample) { table.update(c, s) })
			}()
		}
		wg.Wait()
		if err := ctx.Err(); err != nil {
			return err
		}
		return report(table.snapshot())
	}
	return o.streamStats(ctx, project, opts, selects, report)
}

func (o *Orchestrator) streamStats(ctx context.Context, project string, opts StatsOptions, selects func(engine.ContainerState, map[string]string) bool, report func([]ContainerStats) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Watch before listing, so that a container started in between is
	// not missed.
	events, errs := o.eng.Events(ctx, engine.EventFilter{Type: "container", Labels: map[string]string{labels.Project: project}})
	cs, err := o.listContainers(ctx, project)
	if err != nil {
		return err
	}
	table := newStatsTable()
	var readers sync.WaitGroup
	defer readers.Wait()
	// first is done when every container known at the start has its
	// first reading (or has no more to give), so that the first report
	// shows real numbers.
	var first sync.WaitGroup
	follow := func(c engine.Container, initial bool) {
		if !table.add(c) {
			return
		}
		var once sync.Once
		if initial {
			first.Add(1)
		}
		done := func() {
			if initial {
				once.Do(first.Done)
			}
		}
		readers.Add(1)
		go func() {
			defer readers.Done()
			defer done()
			_ = o.eng.ContainerStats(ctx, c.ID, true, func(s engine.StatsSample) {
				table.update(c, s)
				done()
			})
			// The stream ends when the container stops: docker stats
			// then drops it unless --all.
			table.finish(c.ID, opts.All || ctx.Err() != nil)
		}()
	}
	for _, c := range cs {
		if selects(c.State, c.Labels) {
			follow(c, true)
		}
	}
	waited := make(chan struct{})
	go func() { first.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-ctx.Done():
		return nil
	}
	interval := opts.Interval
	if interval <= 0 {
		interval = 500 * time.Millisecond
	}
	if err := report(table.snapshot()); err != nil {
		return err
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err, ok := <-errs:
			if ok && err != nil && ctx.Err() == nil && !errors.Is(err, context.Canceled) {
				return err
			}
			errs = nil
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			c := engine.Container{ID: ev.ID, Name: ev.Attributes["name"], Labels: ev.Attributes}
			switch ev.Action {
			case "start":
				if selects(engine.StateRunning, ev.Attributes) {
					follow(c, false)
				}
			case "create":
				if selects(engine.StateCreated, ev.Attributes) {
					follow(c, false)
				}
			case "die":
				if !opts.All {
					table.remove(ev.ID)
				}
			case "destroy":
				table.remove(ev.ID)
			}
		case <-tick.C:
			if err := report(table.snapshot()); err != nil {
				return err
			}
		}
	}
}
