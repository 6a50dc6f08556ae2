// Package docker implements engine.Engine over the Docker Engine API
// (github.com/moby/moby/client). It is the only package that talks to the
// engine: it converts composer's spec types to API types (purely, in
// convert.go), translates engine errors to engine.ErrNotFound and
// engine.ErrConflict, and hides differences between API versions, from
// Docker 20.10 (API 1.41) to current engines.
package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"github.com/moby/moby/client/pkg/versions"

	"github.com/composer-orchestrator/composer/engine"
)

// Engine is an engine.Engine backed by a Docker engine.
type Engine struct {
	cli *client.Client
	// apiVersion is the API version negotiated with the engine at New;
	// fixed afterwards, so reading it needs no lock.
	apiVersion string
}

var _ engine.Engine = (*Engine)(nil)

// New connects to the Docker engine named by the environment (DOCKER_HOST,
// DOCKER_API_VERSION, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH) and negotiates the
// API version with one ping. host, when not empty, overrides DOCKER_HOST
// (the Docker CLI's -H, passed on to a plugin). An unreachable engine is
// reported as one line naming the host.
func New(ctx context.Context, host string) (*Engine, error) {
	opts := []client.Opt{
		client.FromEnv,
		// Negotiation is the default of this client version; asking for it
		// keeps the intent explicit. DOCKER_API_VERSION still pins a version.
		client.WithAPIVersionNegotiation(), //nolint:staticcheck // explicit on purpose
	}
	if host != "" {
		opts = append(opts, client.WithHost(host))
	}
	cli, err := client.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("configuring the Docker client: %w", err)
	}
	host = cli.DaemonHost()
	if _, err := cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		_ = cli.Close()
		if client.IsErrConnectionFailed(err) || errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("cannot reach the Docker engine at %s: is the daemon running? (set DOCKER_HOST to use another engine)", host)
		}
		return nil, fmt.Errorf("pinging the Docker engine at %s: %w", host, err)
	}
	return &Engine{cli: cli, apiVersion: cli.ClientVersion()}, nil
}

// Close releases the client's connections.
func (e *Engine) Close() error {
	return e.cli.Close()
}

// APIVersion is the API version negotiated with the engine.
func (e *Engine) APIVersion() string {
	return e.apiVersion
}

// Host is the engine's address, as the client resolved it
// (unix:///var/run/docker.sock by default).
func (e *Engine) Host() string {
	return e.cli.DaemonHost()
}

// Info describes the engine. It is not part of engine.Engine: only a
// command showing versions needs it, and that command holds this adapter.
func (e *Engine) Info(ctx context.Context) (engine.Info, error) {
	res, err := e.cli.Info(ctx, client.InfoOptions{})
	if err != nil {
		return engine.Info{}, translate(err)
	}
	return engine.Info{
		APIVersion:    e.apiVersion,
		ServerVersion: res.Info.ServerVersion,
		Name:          res.Info.Name,
		OS:            res.Info.OSType,
		Host:          e.cli.DaemonHost(),
	}, nil
}

// Events streams engine events. The subscription is established before
// Events returns (the client waits for the engine's response headers), so a
// caller can subscribe first and then check the current state without
// missing a transition in between. With filter.Until the engine itself
// ends the stream: it replays the past events up to Until and, if Until
// lies ahead, sends the live ones until then.
func (e *Engine) Events(ctx context.Context, filter engine.EventFilter) (<-chan engine.Event, <-chan error) {
	f := client.Filters{}
	if filter.Type != "" {
		f.Add("type", filter.Type)
	}
	addLabelFilters(f, filter.Labels)
	opts := client.EventsListOptions{Filters: f}
	timestamp := func(t time.Time) string { return fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond()) }
	if !filter.Since.IsZero() {
		opts.Since = timestamp(filter.Since)
	}
	bounded := !filter.Until.IsZero()
	if bounded {
		// Without since the engine replays from the oldest event it keeps.
		opts.Until = timestamp(filter.Until)
	}

	ctx, cancel := context.WithCancel(ctx)
	res := e.cli.Events(ctx, opts)
	out := make(chan engine.Event)
	errc := make(chan error, 1)
	go func() {
		defer cancel()
		defer close(errc)
		defer close(out)
		for {
			select {
			case <-ctx.Done():
				return
			case err, ok := <-res.Err:
				// The client reports ctx's own error when it is cancelled;
				// that is the normal end of the stream, not a failure.
				// With Until the engine closes the stream once Until has
				// passed, which the client reports as io.EOF: the stream is
				// complete. The client sends every message before its
				// error, so none is lost here.
				if !ok || err == nil || ctx.Err() != nil || (bounded && errors.Is(err, io.EOF)) {
					return
				}
				errc <- translate(err)
				return
			case m := <-res.Messages:
				ev := engine.Event{
					Type: string(m.Type),
					// Kept as the engine sends it: API 1.41 reports health
					// as "health_status: healthy", with the status inside.
					Action:     string(m.Action),
					ID:         m.Actor.ID,
					Attributes: m.Actor.Attributes,
					Time:       eventTime(m.Time, m.TimeNano),
				}
				// The engine ends a live stream on a timer that can fire
				// after an event later than Until has been sent; that event
				// is outside what the caller asked for.
				if bounded && ev.Time.After(filter.Until) {
					continue
				}
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, errc
}

func eventTime(sec, nano int64) time.Time {
	if nano != 0 {
		return time.Unix(0, nano)
	}
	return time.Unix(sec, 0)
}

// addLabelFilters adds one engine "label" filter per label: "key=value", or
// "key" alone to match any value.
func addLabelFilters(f client.Filters, labels map[string]string) {
	for k, v := range labels {
		if v == "" {
			f.Add("label", k)
		} else {
			f.Add("label", k+"="+v)
		}
	}
}

// translate maps the engine's NotFound and Conflict answers to composer's
// sentinels, keeping the engine's message for the reader. Methods return
// what it gives without saying which operation failed: every caller wraps
// the error with that and the resource's name, and saying it here too
// would print it twice. A method adds words only where the caller cannot
// know them, such as which of its several engine calls failed.
func translate(err error) error {
	switch {
	case err == nil:
		return nil
	case cerrdefs.IsNotFound(err):
		return fmt.Errorf("%w: %s", engine.ErrNotFound, err.Error())
	case cerrdefs.IsConflict(err):
		return fmt.Errorf("%w: %s", engine.ErrConflict, err.Error())
	}
	return err
}

// atLeast reports whether the negotiated API version is v or newer.
func (e *Engine) atLeast(v string) bool {
	return versions.GreaterThanOrEqualTo(e.apiVersion, v)
}

// isRemovalInProgress recognises the engine's answer to removing a container
// that another call is already removing (409, "removal of container x is
// already in progress"): the container is going away, which is what the
// caller wants.
func isRemovalInProgress(err error) bool {
	return err != nil && strings.Contains(err.Error(), "already in progress")
}
