package orchestrator

import (
	"context"
	"io"
	"time"

	"github.com/composer-orchestrator/composer/engine"
)

// shieldedEngine makes an interrupt stop scheduling without cutting an
// engine request in half.
//
// Cancelling an HTTP request to the Docker engine does not cancel what the
// engine does for it: a create, start, stop or remove goes on inside the
// engine, and the caller only loses sight of its result. A run that
// cancelled its requests on Ctrl-C would exit believing a container does
// not exist while the engine is still making it, and the next command
// would trip over it ("the container name is already in use", "no such
// container"). So a request that changes the engine's state is not sent
// once the caller's context is done, and once sent it runs on a context
// that only abandoning cancels: the operation's errgroup then waits for
// it, and the run ends knowing what the engine did.
//
// Reads (list, inspect, stat, copies out of a container, export, stats),
// waits (events, logs) and the interactive calls are cancelled at once,
// as before: stopping them loses nothing. Pulls, builds and pushes too:
// they change no project state and can take minutes. A copy into a
// container and a commit change the engine, and are shielded.
type shieldedEngine struct {
	engine.Engine
	// abandon, when done, cancels the requests under way: the user asked
	// a second time, and would rather lose track of them than wait.
	abandon context.Context
}

// abandonKey holds, in a context, the context whose end abandons the
// requests made under it, overriding the orchestrator's.
type abandonKey struct{}

// abandonWith makes the requests sent under ctx abandoned when abandon
// ends rather than when the orchestrator's abandon context does: attached
// up's stop after a first Ctrl-C is abandoned by the second.
func abandonWith(ctx, abandon context.Context) context.Context {
	return context.WithValue(ctx, abandonKey{}, abandon)
}

// finishing returns the context a request already decided on runs under:
// ctx's values without its cancellation, cancelled only by abandoning.
// It fails, sending nothing, when ctx is already done.
func (s *shieldedEngine) finishing(ctx context.Context) (context.Context, func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	fctx, cancel := untilAbandoned(ctx, s.abandon)
	return fctx, cancel, nil
}

// untilAbandoned returns ctx's values without its cancellation, cancelled
// only when the abandon context ends: the one ctx carries (abandonWith),
// or else def.
func untilAbandoned(ctx, def context.Context) (context.Context, func()) {
	abandon := def
	if a, ok := ctx.Value(abandonKey{}).(context.Context); ok {
		abandon = a
	}
	actx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(abandon, cancel)
	return actx, func() { stop(); cancel() }
}

// shielded runs one state-changing call to its end.
func shielded[T any](ctx context.Context, s *shieldedEngine, call func(context.Context) (T, error)) (T, error) {
	fctx, done, err := s.finishing(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	defer done()
	return call(fctx)
}

// do is shielded for calls that return only an error.
func (s *shieldedEngine) do(ctx context.Context, call func(context.Context) error) error {
	_, err := shielded(ctx, s, func(ctx context.Context) (struct{}, error) { return struct{}{}, call(ctx) })
	return err
}

func (s *shieldedEngine) CreateContainer(ctx context.Context, spec engine.ContainerSpec) (string, error) {
	return shielded(ctx, s, func(ctx context.Context) (string, error) { return s.Engine.CreateContainer(ctx, spec) })
}

func (s *shieldedEngine) StartContainer(ctx context.Context, id string) error {
	return s.do(ctx, func(ctx context.Context) error { return s.Engine.StartContainer(ctx, id) })
}

// StopContainer runs for up to the stop timeout: that is the bound on how
// long a first Ctrl-C waits.
func (s *shieldedEngine) StopContainer(ctx context.Context, id string, timeout *time.Duration) error {
	return s.do(ctx, func(ctx context.Context) error { return s.Engine.StopContainer(ctx, id, timeout) })
}

func (s *shieldedEngine) KillContainer(ctx context.Context, id, signal string) error {
	return s.do(ctx, func(ctx context.Context) error { return s.Engine.KillContainer(ctx, id, signal) })
}

func (s *shieldedEngine) RemoveContainer(ctx context.Context, id string, opts engine.RemoveOptions) error {
	return s.do(ctx, func(ctx context.Context) error { return s.Engine.RemoveContainer(ctx, id, opts) })
}

func (s *shieldedEngine) RenameContainer(ctx context.Context, id, newName string) error {
	return s.do(ctx, func(ctx context.Context) error { return s.Engine.RenameContainer(ctx, id, newName) })
}

func (s *shieldedEngine) PauseContainer(ctx context.Context, id string) error {
	return s.do(ctx, func(ctx context.Context) error { return s.Engine.PauseContainer(ctx, id) })
}

func (s *shieldedEngine) UnpauseContainer(ctx context.Context, id string) error {
	return s.do(ctx, func(ctx context.Context) error { return s.Engine.UnpauseContainer(ctx, id) })
}

func (s *shieldedEngine) CreateNetwork(ctx context.Context, spec engine.NetworkSpec) (string, error) {
	return shielded(ctx, s, func(ctx context.Context) (string, error) { return s.Engine.CreateNetwork(ctx, spec) })
}

func (s *shieldedEngine) RemoveNetwork(ctx context.Context, id string) error {
	return s.do(ctx, func(ctx context.Context) error { return s.Engine.RemoveNetwork(ctx, id) })
}

func (s *shieldedEngine) CreateVolume(ctx context.Context, spec engine.VolumeSpec) (engine.Volume, error) {
	return shielded(ctx, s, func(ctx context.Context) (engine.Volume, error) { return s.Engine.CreateVolume(ctx, spec) })
}

func (s *shieldedEngine) RemoveVolume(ctx context.Context, name string, force bool) error {
	return s.do(ctx, func(ctx context.Context) error { return s.Engine.RemoveVolume(ctx, name, force) })
}

func (s *shieldedEngine) RemoveImage(ctx context.Context, ref string, force bool) error {
	return s.do(ctx, func(ctx context.Context) error { return s.Engine.RemoveImage(ctx, ref, force) })
}

// CopyToContainer runs to its end: an archive extracted half-way would
// leave a container with some of the files and no one knowing which.
func (s *shieldedEngine) CopyToContainer(ctx context.Context, id, dir string, content io.Reader, opts engine.CopyOptions) error {
	return s.do(ctx, func(ctx context.Context) error { return s.Engine.CopyToContainer(ctx, id, dir, content, opts) })
}

func (s *shieldedEngine) CommitContainer(ctx context.Context, id string, opts engine.CommitOptions) (string, error) {
	return shielded(ctx, s, func(ctx context.Context) (string, error) { return s.Engine.CommitContainer(ctx, id, opts) })
}
