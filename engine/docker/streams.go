package docker

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"

	"github.com/composer-orchestrator/composer/engine"
)

// ContainerLogs copies a container's log to stdout and stderr. The engine
// multiplexes both streams into one with 8-byte frame headers unless the
// container has a TTY, in which case there is only raw output: one inspect
// tells which.
func (e *Engine) ContainerLogs(ctx context.Context, id string, opts engine.LogOptions, stdout, stderr io.Writer) error {
	insp, err := e.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return translate(err)
	}
	tty := insp.Container.Config != nil && insp.Container.Config.Tty
	rc, err := e.cli.ContainerLogs(ctx, id, client.ContainerLogsOptions{
		ShowStdout: true,
		ShowStderr: true,
		Since:      opts.Since,
		Until:      opts.Until,
		Timestamps: opts.Timestamps,
		Follow:     opts.Follow,
		Tail:       opts.Tail,
	})
	if err != nil {
		return translate(err)
	}
	defer rc.Close()
	if err := copyOutput(rc, tty, stdout, stderr); err != nil {
		// The client closes the body when ctx ends; report that as the
		// cancellation it is rather than as a read error.
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("reading the log stream: %w", err)
	}
	return nil
}

// copyOutput copies a container's output stream: raw with a TTY, otherwise
// demultiplexed into stdout and stderr. Nil writers discard.
func copyOutput(r io.Reader, tty bool, stdout, stderr io.Writer) error {
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	var err error
	if tty {
		_, err = io.Copy(stdout, r)
	} else {
		_, err = stdcopy.StdCopy(stdout, stderr, r)
	}
	return err
}

// Exec runs a command in a running container and returns its exit code.
// Attached, the command's output ends when the process exits, and only then
// does an exec inspect know its exit code.
func (e *Engine) Exec(ctx context.Context, id string, spec engine.ExecSpec, streams engine.Streams) (int, error) {
	attachIn := spec.Stdin && streams.Stdin != nil && !spec.Detach
	created, err := e.cli.ExecCreate(ctx, id, client.ExecCreateOptions{
		User:         spec.User,
		Privileged:   spec.Privileged,
		TTY:          spec.TTY,
		AttachStdin:  attachIn,
		AttachStdout: !spec.Detach,
		AttachStderr: !spec.Detach,
		Env:          spec.Env,
		WorkingDir:   spec.WorkingDir,
		Cmd:          spec.Cmd,
	})
	if err != nil {
		return 0, fmt.Errorf("creating the exec: %w", translate(err))
	}
	execID := created.ID

	if spec.Detach {
		if _, err := e.cli.ExecStart(ctx, execID, client.ExecStartOptions{Detach: true, TTY: spec.TTY}); err != nil {
			return 0, fmt.Errorf("starting the exec: %w", translate(err))
		}
		if spec.OnStart != nil {
			spec.OnStart(execID)
		}
		return 0, nil
	}

	hj, err := e.cli.ExecAttach(ctx, execID, client.ExecAttachOptions{TTY: spec.TTY})
	if err != nil {
		return 0, fmt.Errorf("starting the exec: %w", translate(err))
	}
	defer hj.Close()
	// The hijacked connection outlives the request's context: close it
	// ourselves when ctx ends so the copy below returns.
	stop := context.AfterFunc(ctx, hj.Close)
	defer stop()
	if spec.OnStart != nil {
		spec.OnStart(execID)
	}
	if attachIn {
		go pumpStdin(&hj.HijackedResponse, streams.Stdin)
	}
	if err := copyOutput(hj.Reader, spec.TTY, streams.Stdout, streams.Stderr); err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return 0, fmt.Errorf("reading the exec's output: %w", err)
	}
	return e.execExitCode(ctx, execID)
}

// execExitCode inspects a finished exec. The output stream can end a moment
// before the engine records the exit, so a still running exec is inspected
// again, a few times at most.
func (e *Engine) execExitCode(ctx context.Context, execID string) (int, error) {
	for try := 0; ; try++ {
		res, err := e.cli.ExecInspect(ctx, execID, client.ExecInspectOptions{})
		if err != nil {
			return 0, fmt.Errorf("reading the exec's exit code: %w", translate(err))
		}
		if !res.Running || try == 20 {
			return res.ExitCode, nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// pumpStdin copies stdin into a hijacked connection, then half-closes it so
// the process reads end of file. It is not waited for: reading a terminal
// may block past the process's end.
func pumpStdin(hj *client.HijackedResponse, stdin io.Reader) {
	_, _ = io.Copy(hj.Conn, stdin)
	_ = hj.CloseWrite()
}

// Attach connects streams to a container's main process. It returns once
// the engine has accepted the attach (so the container can be started
// without losing output), and wait returns when the output ends, which is
// when the process exits or ctx ends.
func (e *Engine) Attach(ctx context.Context, id string, streams engine.Streams, tty bool) (func() error, error) {
	res, err := e.cli.ContainerAttach(ctx, id, client.ContainerAttachOptions{
		Stream:     true,
		Stdin:      streams.Stdin != nil,
		Stdout:     streams.Stdout != nil,
		Stderr:     streams.Stderr != nil,
		DetachKeys: streams.DetachKeys,
	})
	if err != nil {
		return nil, translate(err)
	}
	hj := res.HijackedResponse
	stop := context.AfterFunc(ctx, hj.Close)
	if streams.Stdin != nil {
		go pumpStdin(&hj, streams.Stdin)
	}
	done := make(chan error, 1)
	go func() {
		done <- copyOutput(hj.Reader, tty, streams.Stdout, streams.Stderr)
	}()
	wait := func() error {
		err := <-done
		stop()
		hj.Close()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			return fmt.Errorf("reading the container's output: %w", err)
		}
		return nil
	}
	// Waiting twice must not block on the spent channel.
	return sync.OnceValue(wait), nil
}
