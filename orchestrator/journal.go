package orchestrator

import (
	"context"
	"errors"

	"github.com/composer-orchestrator/composer/engine"
)

// Request is an engine request that makes or unmakes part of a project:
// what a journal records, so that the next command knows which ones a
// killed run left in flight.
type Request struct {
	// Op is "create" or "remove"; Kind is "container" or "network".
	Op, Kind string
	// Name is the name created, or the id removed.
	Name string
}

// WithJournal has every create and remove of a container or network
// reported to record before it is sent (answered false) and once the
// engine has answered it (answered true). A request abandoned before its
// answer is never reported answered: the engine may still carry it out.
// Volumes are left out: creating one is idempotent, and a volume being
// removed is no obstacle to anything but its own use.
func WithJournal(record func(r Request, answered bool)) Option {
	return func(o *options) { o.journal = record }
}

// journaledEngine reports requests to a journal around sending them.
type journaledEngine struct {
	engine.Engine
	record func(Request, bool)
}

// journaled sends one request between its two records.
func journaled[T any](ctx context.Context, j *journaledEngine, r Request, call func() (T, error)) (T, error) {
	j.record(r, false)
	v, err := call()
	// The shield cancels ctx only when the request is abandoned; an
	// engine that answered, even with an error, has nothing left to do.
	if ctx.Err() == nil || (err != nil && !errors.Is(err, ctx.Err())) {
		j.record(r, true)
	}
	return v, err
}

func (j *journaledEngine) CreateContainer(ctx context.Context, spec engine.ContainerSpec) (string, error) {
	return journaled(ctx, j, Request{Op: "create", Kind: "container", Name: spec.Name}, func() (string, error) {
		return j.Engine.CreateContainer(ctx, spec)
	})
}

func (j *journaledEngine) RemoveContainer(ctx context.Context, id string, opts engine.RemoveOptions) error {
	_, err := journaled(ctx, j, Request{Op: "remove", Kind: "container", Name: id}, func() (struct{}, error) {
		return struct{}{}, j.Engine.RemoveContainer(ctx, id, opts)
	})
	return err
}

func (j *journaledEngine) CreateNetwork(ctx context.Context, spec engine.NetworkSpec) (string, error) {
	return journaled(ctx, j, Request{Op: "create", Kind: "network", Name: spec.Name}, func() (string, error) {
		return j.Engine.CreateNetwork(ctx, spec)
	})
}

func (j *journaledEngine) RemoveNetwork(ctx context.Context, id string) error {
	_, err := journaled(ctx, j, Request{Op: "remove", Kind: "network", Name: id}, func() (struct{}, error) {
		return struct{}{}, j.Engine.RemoveNetwork(ctx, id)
	})
	return err
}
