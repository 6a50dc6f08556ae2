package docker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/moby/moby/client"

	"github.com/composer-orchestrator/composer/engine"
)

// ListContainers lists containers, stopped ones included, with one call; the
// engine applies the label filters.
func (e *Engine) ListContainers(ctx context.Context, filter engine.Filter) ([]engine.Container, error) {
	f := client.Filters{}
	addLabelFilters(f, filter.Labels)
	if filter.Name != "" {
		f.Add("name", filter.Name)
	}
	res, err := e.cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return nil, translate(err)
	}
	out := make([]engine.Container, 0, len(res.Items))
	for _, s := range res.Items {
		out = append(out, fromSummary(s))
	}
	return out, nil
}

// InspectContainer returns the full state of one container.
func (e *Engine) InspectContainer(ctx context.Context, id string) (engine.ContainerDetails, error) {
	res, err := e.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return engine.ContainerDetails{}, translate(err)
	}
	return fromInspect(res.Container), nil
}

// CreateContainer creates a container attached to all of spec.Networks.
// Engines before API 1.44 accept one network at create; the others are
// connected here, before the container can start, and a failure removes
// the half-made container so that no caller sees it.
func (e *Engine) CreateContainer(ctx context.Context, spec engine.ContainerSpec) (string, error) {
	opts, connect, err := toCreateOptions(spec, e.apiVersion)
	if err != nil {
		return "", err
	}
	res, err := e.cli.ContainerCreate(ctx, opts)
	if err != nil {
		return "", translate(err)
	}
	for _, ep := range connect {
		if err := e.connectNetwork(ctx, res.ID, ep); err != nil {
			// A fresh context: the caller's may be what failed.
			rmCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			_, rmErr := e.cli.ContainerRemove(rmCtx, res.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
			cancel()
			if rmErr != nil {
				rmErr = fmt.Errorf("removing the half-made container %s: %w", res.ID, translate(rmErr))
			}
			return "", errors.Join(err, rmErr)
		}
	}
	return res.ID, nil
}

// connectNetwork attaches a created container to one more network. Only
// CreateContainer needs it, on engines that take one network at create;
// the error names the network, which the caller of CreateContainer cannot
// tell from the container's name alone.
func (e *Engine) connectNetwork(ctx context.Context, containerID string, ep engine.EndpointSpec) error {
	es, err := toEndpointSettings(ep)
	if err != nil {
		return err // toCreateOptions has checked ep: unreachable
	}
	if _, err := e.cli.NetworkConnect(ctx, ep.Network, client.NetworkConnectOptions{Container: containerID, EndpointConfig: es}); err != nil {
		return fmt.Errorf("connecting network %s: %w", ep.Network, translate(err))
	}
	return nil
}

// StartContainer starts a created or stopped container.
func (e *Engine) StartContainer(ctx context.Context, id string) error {
	if _, err := e.cli.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		return translate(err)
	}
	return nil
}

// StopContainer stops a container; a nil timeout leaves the engine to use
// the container's own stop timeout.
func (e *Engine) StopContainer(ctx context.Context, id string, timeout *time.Duration) error {
	var opts client.ContainerStopOptions
	if timeout != nil {
		secs := int(timeout.Round(time.Second) / time.Second)
		opts.Timeout = &secs
	}
	if _, err := e.cli.ContainerStop(ctx, id, opts); err != nil {
		return translate(err)
	}
	return nil
}

// KillContainer sends signal (the engine's default, SIGKILL, when empty).
func (e *Engine) KillContainer(ctx context.Context, id string, signal string) error {
	if _, err := e.cli.ContainerKill(ctx, id, client.ContainerKillOptions{Signal: signal}); err != nil {
		return translate(err)
	}
	return nil
}

// RemoveContainer removes a container. A removal already in progress (the
// engine answers 409 to a second remove) counts as success.
func (e *Engine) RemoveContainer(ctx context.Context, id string, opts engine.RemoveOptions) error {
	_, err := e.cli.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: opts.Force, RemoveVolumes: opts.RemoveVolumes})
	if err == nil || isRemovalInProgress(err) {
		return nil
	}
	return translate(err)
}

// RenameContainer renames a container.
func (e *Engine) RenameContainer(ctx context.Context, id, newName string) error {
	if _, err := e.cli.ContainerRename(ctx, id, client.ContainerRenameOptions{NewName: newName}); err != nil {
		return translate(err)
	}
	return nil
}

// PauseContainer freezes a running container.
func (e *Engine) PauseContainer(ctx context.Context, id string) error {
	if _, err := e.cli.ContainerPause(ctx, id, client.ContainerPauseOptions{}); err != nil {
		return translate(err)
	}
	return nil
}

// UnpauseContainer thaws a paused container.
func (e *Engine) UnpauseContainer(ctx context.Context, id string) error {
	if _, err := e.cli.ContainerUnpause(ctx, id, client.ContainerUnpauseOptions{}); err != nil {
		return translate(err)
	}
	return nil
}

// Top lists the processes of a running container.
func (e *Engine) Top(ctx context.Context, id string) (engine.Processes, error) {
	res, err := e.cli.ContainerTop(ctx, id, client.ContainerTopOptions{})
	if err != nil {
		return engine.Processes{}, translate(err)
	}
	return engine.Processes{Titles: res.Titles, Processes: res.Processes}, nil
}

// ResizeTTY sets the terminal size of a container or, with exec, of an exec.
func (e *Engine) ResizeTTY(ctx context.Context, id string, height, width uint, exec bool) error {
	var err error
	if exec {
		_, err = e.cli.ExecResize(ctx, id, client.ExecResizeOptions{Height: height, Width: width})
	} else {
		_, err = e.cli.ContainerResize(ctx, id, client.ContainerResizeOptions{Height: height, Width: width})
	}
	if err != nil {
		return translate(err)
	}
	return nil
}
