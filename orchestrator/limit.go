package orchestrator

import (
	"context"
	"io"
	"time"

	"github.com/composer-orchestrator/composer/engine"
)

// limitedEngine is the --parallel bound: it takes a slot around every
// engine call that makes the engine work and gives it back when the call
// returns. Bounding calls rather than walks or goroutines gives one bound
// for a whole command (up's create and start walks, per-replica work,
// pulls, removals all share it), and no slot is ever held while an
// operation waits on another: waits happen between engine calls (a
// dependency's health is awaited on the event stream, with one inspect per
// wake-up), so a bound of 1 cannot deadlock.
//
// Methods not overridden here pass through unbounded because they wait
// rather than work; each is listed below with why.
type limitedEngine struct {
	engine.Engine
	slots chan struct{}
}

func newLimitedEngine(eng engine.Engine, n int) *limitedEngine {
	return &limitedEngine{Engine: eng, slots: make(chan struct{}, n)}
}

// acquire takes a slot, or gives up when ctx ends first.
func (l *limitedEngine) acquire(ctx context.Context) error {
	select {
	case l.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *limitedEngine) release() { <-l.slots }

// do runs one engine call in a slot.
func (l *limitedEngine) do(ctx context.Context, call func() error) error {
	if err := l.acquire(ctx); err != nil {
		return err
	}
	defer l.release()
	return call()
}

// limited runs one engine call that returns a value in a slot.
func limited[T any](ctx context.Context, l *limitedEngine, call func() (T, error)) (T, error) {
	if err := l.acquire(ctx); err != nil {
		var zero T
		return zero, err
	}
	defer l.release()
	return call()
}

// Unbounded, because they wait rather than work:
//   - Events streams for as long as the command watches; bounding it would
//     hold a slot for the whole command, and every wait depends on it.
//   - ContainerLogs follows a log until the container or the user stops
//     it; a slot held there would starve the operations it reports on.
//   - Exec and Attach run for as long as the user's process does, which
//     is the user's time, not engine work.
//   - ResizeTTY belongs to an attached session and must not queue behind
//     other work, or the terminal would lag.
//   - ContainerStats, when it streams, for the same reason as Events; a
//     one-shot reading is bounded like an inspect.

func (l *limitedEngine) ListContainers(ctx context.Context, f engine.Filter) ([]engine.Container, error) {
	return limited(ctx, l, func() ([]engine.Container, error) { return l.Engine.ListContainers(ctx, f) })
}

func (l *limitedEngine) InspectContainer(ctx context.Context, id string) (engine.ContainerDetails, error) {
	return limited(ctx, l, func() (engine.ContainerDetails, error) { return l.Engine.InspectContainer(ctx, id) })
}

func (l *limitedEngine) CreateContainer(ctx context.Context, spec engine.ContainerSpec) (string, error) {
	return limited(ctx, l, func() (string, error) { return l.Engine.CreateContainer(ctx, spec) })
}

func (l *limitedEngine) StartContainer(ctx context.Context, id string) error {
	return l.do(ctx, func() error { return l.Engine.StartContainer(ctx, id) })
}

// StopContainer holds its slot until the container has stopped: the engine
// is busy stopping it for that long, which is work, not waiting.
func (l *limitedEngine) StopContainer(ctx context.Context, id string, timeout *time.Duration) error {
	return l.do(ctx, func() error { return l.Engine.StopContainer(ctx, id, timeout) })
}

func (l *limitedEngine) KillContainer(ctx context.Context, id, signal string) error {
	return l.do(ctx, func() error { return l.Engine.KillContainer(ctx, id, signal) })
}

func (l *limitedEngine) RemoveContainer(ctx context.Context, id string, opts engine.RemoveOptions) error {
	return l.do(ctx, func() error { return l.Engine.RemoveContainer(ctx, id, opts) })
}

func (l *limitedEngine) RenameContainer(ctx context.Context, id, newName string) error {
	return l.do(ctx, func() error { return l.Engine.RenameContainer(ctx, id, newName) })
}

func (l *limitedEngine) PauseContainer(ctx context.Context, id string) error {
	return l.do(ctx, func() error { return l.Engine.PauseContainer(ctx, id) })
}

func (l *limitedEngine) UnpauseContainer(ctx context.Context, id string) error {
	return l.do(ctx, func() error { return l.Engine.UnpauseContainer(ctx, id) })
}

func (l *limitedEngine) Top(ctx context.Context, id string) (engine.Processes, error) {
	return limited(ctx, l, func() (engine.Processes, error) { return l.Engine.Top(ctx, id) })
}

func (l *limitedEngine) ListNetworks(ctx context.Context, f engine.Filter) ([]engine.Network, error) {
	return limited(ctx, l, func() ([]engine.Network, error) { return l.Engine.ListNetworks(ctx, f) })
}

func (l *limitedEngine) InspectNetwork(ctx context.Context, name string) (engine.Network, error) {
	return limited(ctx, l, func() (engine.Network, error) { return l.Engine.InspectNetwork(ctx, name) })
}

func (l *limitedEngine) CreateNetwork(ctx context.Context, spec engine.NetworkSpec) (string, error) {
	return limited(ctx, l, func() (string, error) { return l.Engine.CreateNetwork(ctx, spec) })
}

func (l *limitedEngine) RemoveNetwork(ctx context.Context, id string) error {
	return l.do(ctx, func() error { return l.Engine.RemoveNetwork(ctx, id) })
}

func (l *limitedEngine) ListVolumes(ctx context.Context, f engine.Filter) ([]engine.Volume, error) {
	return limited(ctx, l, func() ([]engine.Volume, error) { return l.Engine.ListVolumes(ctx, f) })
}

func (l *limitedEngine) InspectVolume(ctx context.Context, name string) (engine.Volume, error) {
	return limited(ctx, l, func() (engine.Volume, error) { return l.Engine.InspectVolume(ctx, name) })
}

func (l *limitedEngine) CreateVolume(ctx context.Context, spec engine.VolumeSpec) (engine.Volume, error) {
	return limited(ctx, l, func() (engine.Volume, error) { return l.Engine.CreateVolume(ctx, spec) })
}

func (l *limitedEngine) RemoveVolume(ctx context.Context, name string, force bool) error {
	return l.do(ctx, func() error { return l.Engine.RemoveVolume(ctx, name, force) })
}

func (l *limitedEngine) InspectImage(ctx context.Context, ref string) (engine.Image, error) {
	return limited(ctx, l, func() (engine.Image, error) { return l.Engine.InspectImage(ctx, ref) })
}

// PullImage holds its slot for the whole pull: the engine downloads for
// that long. That is what --parallel exists to bound.
func (l *limitedEngine) PullImage(ctx context.Context, ref, platform string, progress func(engine.ProgressLine)) error {
	return l.do(ctx, func() error { return l.Engine.PullImage(ctx, ref, platform, progress) })
}

// BuildImage holds its slot for the whole build, like PullImage.
func (l *limitedEngine) BuildImage(ctx context.Context, buildContext io.Reader, spec engine.BuildSpec, progress func(engine.ProgressLine)) (string, error) {
	return limited(ctx, l, func() (string, error) { return l.Engine.BuildImage(ctx, buildContext, spec, progress) })
}

func (l *limitedEngine) RemoveImage(ctx context.Context, ref string, force bool) error {
	return l.do(ctx, func() error { return l.Engine.RemoveImage(ctx, ref, force) })
}

func (l *limitedEngine) StatPath(ctx context.Context, id, path string) (engine.PathStat, error) {
	return limited(ctx, l, func() (engine.PathStat, error) { return l.Engine.StatPath(ctx, id, path) })
}

// CopyToContainer holds its slot while the archive is sent and extracted.
func (l *limitedEngine) CopyToContainer(ctx context.Context, id, dir string, content io.Reader, opts engine.CopyOptions) error {
	return l.do(ctx, func() error { return l.Engine.CopyToContainer(ctx, id, dir, content, opts) })
}

// copyOut is what CopyFromContainer returns, as one value.
type copyOut struct {
	rc io.ReadCloser
	st engine.PathStat
}

// CopyFromContainer holds its slot until the engine answers. The archive
// then streams at the reader's pace, like a followed log: a slot held
// until it is closed would let a caller that opens two archives before
// closing either deadlock on a bound of 1.
func (l *limitedEngine) CopyFromContainer(ctx context.Context, id, path string) (io.ReadCloser, engine.PathStat, error) {
	out, err := limited(ctx, l, func() (copyOut, error) {
		rc, st, err := l.Engine.CopyFromContainer(ctx, id, path)
		return copyOut{rc, st}, err
	})
	return out.rc, out.st, err
}

// ExportContainer holds its slot until the engine answers, as
// CopyFromContainer does.
func (l *limitedEngine) ExportContainer(ctx context.Context, id string) (io.ReadCloser, error) {
	return limited(ctx, l, func() (io.ReadCloser, error) { return l.Engine.ExportContainer(ctx, id) })
}

func (l *limitedEngine) CommitContainer(ctx context.Context, id string, opts engine.CommitOptions) (string, error) {
	return limited(ctx, l, func() (string, error) { return l.Engine.CommitContainer(ctx, id, opts) })
}

func (l *limitedEngine) ContainerStats(ctx context.Context, id string, stream bool, each func(engine.StatsSample)) error {
	if stream {
		return l.Engine.ContainerStats(ctx, id, stream, each)
	}
	return l.do(ctx, func() error { return l.Engine.ContainerStats(ctx, id, stream, each) })
}

// PushImage holds its slot for the whole push, like PullImage.
func (l *limitedEngine) PushImage(ctx context.Context, ref string, progress func(engine.ProgressLine)) error {
	return l.do(ctx, func() error { return l.Engine.PushImage(ctx, ref, progress) })
}
