package orchestrator

import (
	"context"
	"io"
	"sync/atomic"
	"time"

	"github.com/composer-orchestrator/composer/engine"
)

// Probing a container's health check ourselves: the engine runs the first
// check one full interval after the start (30 s by default, and
// start_interval, which shortens that, needs API 1.44 and a file that sets
// it), so a dependent waiting for service_healthy waits an interval per
// level even when the service was ready in 200 ms. While the engine still
// says "starting", composer runs the service's own check the way the
// engine would (an exec of the same test, as the container's user, with
// its environment, bounded by the check's timeout), first probeFirst
// after the container's start, then backing off, and counts the container
// healthy at the first pass. A failing probe is not a failure: only the engine's
// "unhealthy", or the container stopping, is.
const (
	probeFirst = 250 * time.Millisecond
	probeMax   = 2 * time.Second
	// probeTimeout bounds a probe whose check sets no timeout, as the
	// engine's default does.
	probeTimeout = 30 * time.Second
	// probeSlack is added to the check's timeout for the exec's own cost.
	probeSlack = 5 * time.Second
)

// WithoutHealthProbe leaves health to the engine alone: a dependent
// waiting for service_healthy, and --wait, wait for the engine's own
// checks.
func WithoutHealthProbe() Option {
	return func(o *options) { o.noProbe = true }
}

// WithProbePassed tells passed about each container that composer's own
// probe found healthy before the engine did (for ps to show it later).
func WithProbePassed(passed func(project, containerID string)) Option {
	return func(o *options) { o.probePassed = passed }
}

// ByProbe is the detail of a Healthy event when composer's probe, not the
// engine, found the container healthy.
const ByProbe = "(by composer's probe)"

// untilHealthy waits until check is done for container id, as w.until
// does, and meanwhile probes the container's health check while the
// engine says it is starting. It reports whether the wait ended on
// composer's probe rather than on the engine's word.
func (o *Orchestrator) untilHealthy(ctx context.Context, w *watcher, id string, check func(engine.ContainerDetails) (bool, error)) (byProbe bool, err error) {
	if o.noProbe {
		return false, w.until(ctx, id, check)
	}
	var passed atomic.Bool
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	go o.probe(pctx, id, func() {
		passed.Store(true)
		w.notify(id) // wake the wait below to look again
	})
	err = w.until(ctx, id, func(d engine.ContainerDetails) (bool, error) {
		done, err := check(d)
		if err != nil || done {
			return done, err
		}
		if d.State == engine.StateRunning && d.Health == engine.HealthStarting && passed.Load() {
			byProbe = true
			return true, nil
		}
		return false, nil
	})
	if err == nil && byProbe && o.probePassed != nil {
		o.probePassed(w.project, id)
	}
	return byProbe, err
}

// probe runs the container's health check until it passes once (then it
// calls pass) or ctx ends. The check is read from the engine, so it is the
// one the container was made with, the image's included.
func (o *Orchestrator) probe(ctx context.Context, id string, pass func()) {
	d, err := o.eng.InspectContainer(ctx, id)
	if err != nil {
		return
	}
	hc := d.Config.Healthcheck
	if hc == nil || len(hc.Test) == 0 {
		return
	}
	var cmd []string
	switch hc.Test[0] {
	case "CMD":
		cmd = hc.Test[1:]
	case "CMD-SHELL":
		if len(hc.Test) < 2 {
			return
		}
		cmd = []string{"/bin/sh", "-c", hc.Test[1]}
	default: // NONE, or a form the engine would not run either
		return
	}
	if len(cmd) == 0 {
		return
	}
	// Where the engine checks often anyway, a probe gains little and
	// costs an exec, which is not cheap on a loaded engine.
	if hc.Interval > 0 && hc.Interval <= probeMax {
		return
	}
	// The engine runs its check inside itself; a probe is an exec over
	// the API, which costs seconds more on a loaded engine: without
	// slack, every probe would time out exactly when waiting is slowest.
	timeout := hc.Timeout
	if timeout <= 0 {
		timeout = probeTimeout
	}
	timeout += probeSlack
	// The first probe comes probeFirst after the container's start: at
	// once for one that has run a while already (a dependency up found
	// running, whose engine check is still to come), so that it is known
	// ready without waiting at all.
	first := probeFirst - time.Since(d.StartedAt)
	for delay := max(first, 0); ; delay = min(max(delay*3/2, probeFirst), probeMax) {
		if sleep(ctx, delay) != nil {
			return
		}
		if probeOnce(ctx, o.eng, id, cmd, timeout) {
			pass()
			return
		}
	}
}

// probeOnce runs one check and reports whether it passed. The exec runs
// as the container's user, in its working directory, with its
// environment, as the engine's own check does.
func probeOnce(ctx context.Context, eng engine.Engine, id string, cmd []string, timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	code, err := eng.Exec(ctx, id, engine.ExecSpec{Cmd: cmd}, engine.Streams{Stdout: io.Discard, Stderr: io.Discard})
	return err == nil && code == 0
}
