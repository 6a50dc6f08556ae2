package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/composer-orchestrator/composer/engine"
)

// Terminal is the user's side of an interactive session: the streams, and
// what the command line knows of the terminal behind them.
type Terminal struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
	// Raw, if set, puts the terminal in raw mode for a TTY session and
	// returns the function that restores it.
	Raw func() (restore func())
	// Size, if set, reports the terminal's size; ok is false when unknown.
	Size func() (height, width uint, ok bool)
}

// raw enters raw mode when the session has a TTY and the terminal can.
func (t Terminal) raw(tty bool) func() {
	if !tty || t.Raw == nil {
		return func() {}
	}
	return t.Raw()
}

// resize tells the engine the terminal's size, best effort: a session
// with the default size still works.
func (o *Orchestrator) resize(ctx context.Context, t Terminal, id string, exec bool) {
	if t.Size == nil {
		return
	}
	if h, w, ok := t.Size(); ok {
		_ = o.eng.ResizeTTY(ctx, id, h, w, exec)
	}
}

// ExecOptions describe a command run in a service's running container.
type ExecOptions struct {
	Command []string
	// Env adds KEY=VALUE entries; a bare KEY takes its value from Environ
	// and is dropped when Environ has none.
	Env        []string
	Environ    func(string) (string, bool)
	User       string
	Workdir    string
	TTY        bool
	Stdin      bool
	Privileged bool
	Detach     bool
}

// Exec runs a command in the target's container (Index 0 means the
// first) and returns its exit code.
func (o *Orchestrator) Exec(ctx context.Context, t Target, opts ExecOptions, term Terminal) (int, error) {
	if t.Index == 0 {
		t.Index = 1
	}
	cs, err := o.containers(ctx, t, false)
	if err != nil {
		return 0, err
	}
	var c *engine.Container
	for i := range cs {
		if cs[i].State == engine.StateRunning {
			c = &cs[i]
			break
		}
	}
	if c == nil {
		return 0, fmt.Errorf("service %q is not running", strings.Join(t.Services, ","))
	}
	spec := engine.ExecSpec{
		Cmd: opts.Command, Env: resolveEnv(opts.Env, opts.Environ), User: opts.User, WorkingDir: opts.Workdir,
		TTY: opts.TTY, Stdin: opts.Stdin && !opts.Detach, Privileged: opts.Privileged, Detach: opts.Detach,
	}
	streams := engine.Streams{Stdout: term.Out, Stderr: term.Err}
	if spec.Stdin {
		streams.Stdin = term.In
	}
	restore := term.raw(opts.TTY)
	defer restore()
	if opts.TTY {
		spec.OnStart = func(execID string) { o.resize(ctx, term, execID, true) }
	}
	code, err := o.eng.Exec(ctx, c.ID, spec, streams)
	if err != nil {
		return 0, fmt.Errorf("running a command in %s: %w", c.Name, err)
	}
	return code, nil
}

// OneOff is a one-off container made by RunPrepare.
type OneOff struct {
	Project string
	ID      string
	Name    string
}

// OneOffOptions say how a one-off container runs.
type OneOffOptions struct {
	// Detach starts the container and returns at once.
	Detach bool
	// Remove removes the container once it has exited (--rm).
	Remove bool
	// TTY and Interactive must match how the container was created.
	TTY         bool
	Interactive bool
}

// RunOneOff starts a one-off container made by RunPrepare. Attached, it
// connects the terminal first so that no output is lost, and returns the
// container's exit code once it has stopped.
func (o *Orchestrator) RunOneOff(ctx context.Context, c OneOff, opts OneOffOptions, term Terminal) (int, error) {
	if opts.Detach || o.dryRun {
		// A dry run's container would start; it cannot be attached to.
		if err := o.eng.StartContainer(ctx, c.ID); err != nil {
			return 0, fmt.Errorf("starting container %s: %w", c.Name, err)
		}
		if o.dryRun {
			o.emit(KindContainer, c.Name, Started, true, "")
		}
		return 0, nil
	}
	streams := engine.Streams{Stdout: term.Out, Stderr: term.Err}
	if opts.Interactive {
		streams.Stdin = term.In
	}
	if opts.TTY {
		streams.Stderr = nil // a TTY merges the streams
	}
	wait, err := o.eng.Attach(ctx, c.ID, streams, opts.TTY)
	if err != nil {
		return 0, fmt.Errorf("attaching to container %s: %w", c.Name, err)
	}
	restore := term.raw(opts.TTY)
	if err := o.eng.StartContainer(ctx, c.ID); err != nil {
		restore()
		return 0, fmt.Errorf("starting container %s: %w", c.Name, err)
	}
	if opts.TTY {
		o.resize(ctx, term, c.ID, false)
	}
	outErr := wait()
	restore()
	// The container is waited for and removed even after an interrupt:
	// --rm must not leave it behind. Nothing else passes the interrupt on
	// (without a TTY the container is no child of ours), so it is stopped
	// here; without that the wait below would last as long as it runs.
	if ctx.Err() != nil {
		err := o.eng.StopContainer(context.WithoutCancel(ctx), c.ID, nil)
		if err != nil && !errors.Is(err, engine.ErrNotFound) {
			o.warn("stopping container %s: %v", c.Name, err)
		}
	}
	code, err := o.WaitExit(context.WithoutCancel(ctx), c.Project, c.ID)
	if opts.Remove {
		rmErr := o.eng.RemoveContainer(context.WithoutCancel(ctx), c.ID, engine.RemoveOptions{Force: true, RemoveVolumes: true})
		if rmErr != nil && !errors.Is(rmErr, engine.ErrNotFound) {
			o.warn("removing container %s: %v", c.Name, rmErr)
		}
	}
	if err != nil {
		return 0, err
	}
	if outErr != nil && ctx.Err() != nil {
		return 0, outErr
	}
	return code, nil
}
