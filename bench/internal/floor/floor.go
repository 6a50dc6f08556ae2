// Package floor is the engine floor of the benchmark: up, ps and down done
// with direct Engine API calls and the best schedule the dependency graph
// allows, creating the same containers (image, network, names, labels) a
// compose tool would. No compose tool can be faster than the engine doing
// this work, so tools are reported as ratios to it.
//
// The schedule: one list call per resource kind to observe; the network is
// created once; every container is created at once; each is started as soon
// as its own dependencies are started, healthy or completed (learned from
// the event stream, never by polling); down stops every container as soon
// as its dependents have stopped, removes each right after its stop, and
// removes the network last.
package floor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"golang.org/x/sync/errgroup"

	"github.com/composer-orchestrator/composer/bench/internal/shape"
	"github.com/composer-orchestrator/composer/labels"
)

// Options name the project and where its compose file lives (for labels).
type Options struct {
	Project    shape.Project
	WorkingDir string
	ConfigFile string
	// Limit bounds the container calls in flight (0: no bound). It only
	// wraps the calls, never a wait, so it cannot deadlock the schedule.
	Limit int
	// Wait makes Up return only once every service is healthy (if it has a
	// healthcheck), completed (a one-shot service) or started.
	Wait bool
	// Probe runs a service's healthcheck test by exec every ProbeEvery
	// while the engine has not yet said healthy, and counts the service
	// healthy at the first pass, as composer's probe does (0: off, only
	// the engine's health_status events count).
	ProbeEvery time.Duration
}

// DefaultProbeEvery is how often the floor runs a healthcheck's test itself
// while it waits for a service to turn healthy.
const DefaultProbeEvery = 100 * time.Millisecond

// limiter bounds concurrent engine calls.
type limiter chan struct{}

func newLimiter(n int) limiter {
	if n <= 0 {
		return nil
	}
	return make(limiter, n)
}

func (l limiter) do(ctx context.Context, f func() error) error {
	if l != nil {
		select {
		case l <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		defer func() { <-l }()
	}
	return f()
}

// NewClient returns a client configured from the environment. It keeps
// many idle connections (the default keeps six), so that concurrent calls
// reuse connections instead of dialling again, and it skips version
// negotiation when DOCKER_API_VERSION is set.
func NewClient() (*client.Client, error) {
	hc := &http.Client{Transport: &http.Transport{MaxIdleConns: 512, MaxIdleConnsPerHost: 512}}
	opts := []client.Opt{client.WithHTTPClient(hc), client.WithHost(client.DefaultDockerHost), client.FromEnv}
	if os.Getenv("DOCKER_CERT_PATH") == "" && os.Getenv("DOCKER_TLS_VERIFY") == "" {
		// With a caller-supplied transport the client cannot tell that
		// TLS is off and would speak https to the socket.
		opts = append(opts, client.WithScheme("http"))
	}
	return client.New(opts...)
}

func projectFilter(p shape.Project) client.Filters {
	return make(client.Filters).Add("label", labels.Project+"="+p.Name)
}

func networkName(p shape.Project) string { return p.Name + "_default" }

func containerName(p shape.Project, s shape.Service) string {
	return p.Name + "-" + s.Name + "-1"
}

// observe lists the project's containers and networks, concurrently.
func observe(ctx context.Context, cli *client.Client, p shape.Project) ([]container.Summary, []network.Summary, error) {
	var ctrs []container.Summary
	var nets []network.Summary
	eg, ectx := errgroup.WithContext(ctx)
	eg.Go(func() error {
		res, err := cli.ContainerList(ectx, client.ContainerListOptions{All: true, Filters: projectFilter(p)})
		ctrs = res.Items
		return err
	})
	eg.Go(func() error {
		res, err := cli.NetworkList(ectx, client.NetworkListOptions{Filters: projectFilter(p)})
		nets = res.Items
		return err
	})
	if err := eg.Wait(); err != nil {
		return nil, nil, fmt.Errorf("observing project %s: %w", p.Name, err)
	}
	return ctrs, nets, nil
}

// readiness records how far one service has come during an up. Each
// channel is closed once; failed is closed with err set when the service
// can no longer become ready.
type readiness struct {
	started, healthy, completed chan struct{}
	failed                      chan struct{}
	once                        [4]sync.Once
	err                         error
}

func newReadiness() *readiness {
	return &readiness{
		started:   make(chan struct{}),
		healthy:   make(chan struct{}),
		completed: make(chan struct{}),
		failed:    make(chan struct{}),
	}
}

func (r *readiness) markStarted()   { r.once[0].Do(func() { close(r.started) }) }
func (r *readiness) markHealthy()   { r.once[1].Do(func() { close(r.healthy) }) }
func (r *readiness) markCompleted() { r.once[2].Do(func() { close(r.completed) }) }
func (r *readiness) fail(err error) {
	r.once[3].Do(func() { r.err = err; close(r.failed) })
}

func (r *readiness) wait(ctx context.Context, name string, c shape.Condition) error {
	ch := r.started
	switch c {
	case shape.Healthy:
		ch = r.healthy
	case shape.Completed:
		ch = r.completed
	}
	select {
	case <-ch:
		return nil
	case <-r.failed:
		// A one-shot service both completes and fails (it will never be
		// healthy); completion wins for those waiting on it.
		select {
		case <-ch:
			return nil
		default:
		}
		return fmt.Errorf("dependency %s: %w", name, r.err)
	case <-ctx.Done():
		return ctx.Err()
	}
}

type action int

const (
	keep     action = iota // running with the desired config
	create                 // no container yet
	recreate               // container with another config
	start                  // desired config, not running
)

// Up brings the project to its desired state.
func Up(ctx context.Context, cli *client.Client, o Options) error {
	p := o.Project
	// Events are read from this time on: anything later may not be in
	// the observation.
	observedAt := time.Now()
	ctrs, nets, err := observe(ctx, cli, p)
	if err != nil {
		return err
	}
	existing := map[string]container.Summary{}
	for _, c := range ctrs {
		if c.Labels[labels.Oneoff] == labels.True {
			continue
		}
		existing[c.Labels[labels.Service]] = c
	}

	ready := map[string]*readiness{}
	actions := map[string]action{}
	needEvents := false
	for _, s := range p.Services {
		r := newReadiness()
		ready[s.Name] = r
		c, ok := existing[s.Name]
		switch {
		case !ok:
			actions[s.Name] = create
		case c.Labels[labels.ConfigHash] != s.ConfigHash(p.Image):
			actions[s.Name] = recreate
		case c.State == container.StateRunning:
			actions[s.Name] = keep
			r.markStarted()
			// API 1.41 has no health field in the list; the status text
			// carries it.
			if strings.Contains(c.Status, "(healthy)") {
				r.markHealthy()
			}
		default:
			// Like docker compose, up runs a stopped service again, one-shot
			// services included.
			actions[s.Name] = start
		}
	}
	// waitedHealthy are the services something waits on to be healthy:
	// the ones worth probing.
	waitedHealthy := map[string]bool{}
	for _, s := range p.Services {
		if o.Wait && (s.Health != nil || s.OneShot) {
			needEvents = true
			if s.Health != nil {
				waitedHealthy[s.Name] = true
			}
		}
		if actions[s.Name] == keep {
			continue
		}
		for _, d := range s.DependsOn {
			if d.Condition != shape.Started {
				needEvents = true
			}
			if d.Condition == shape.Healthy {
				waitedHealthy[d.Service] = true
			}
		}
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	lim := newLimiter(o.Limit)

	// ids maps container ids to services for the event dispatcher; written
	// by the create goroutines while the dispatcher reads it.
	var mu sync.Mutex
	ids := map[string]string{}
	for svc, c := range existing {
		// A kept container can still turn healthy or exit (a one-shot
		// job started by an earlier up).
		ids[c.ID] = svc
	}
	register := func(id, svc string) {
		mu.Lock()
		defer mu.Unlock()
		ids[id] = svc
	}
	if needEvents {
		// Subscribe before anything is started, and from the time of the
		// observation: the engine (20.10) sends the response headers
		// before it registers the subscriber, and a kept container may
		// have changed since it was listed; since makes the engine replay
		// both windows from its event log.
		f := make(client.Filters).
			Add("type", "container").
			Add("label", labels.Project+"="+p.Name).
			Add("event", "health_status", "die")
		res := cli.Events(ctx, client.EventsListOptions{
			Filters: f,
			Since:   fmt.Sprintf("%d.%09d", observedAt.Unix(), observedAt.Nanosecond()),
		})
		// Kept containers that others wait on were listed before the
		// subscription, and the list can lag: the engine emits die before
		// it records the container as exited. Inspecting waits for the
		// container's lock, so its answer is current; what happens after
		// it comes through the stream.
		waitedOn := map[string]bool{}
		for _, s := range p.Services {
			if o.Wait && actions[s.Name] == keep && (s.Health != nil || s.OneShot) {
				waitedOn[s.Name] = true
			}
			if actions[s.Name] == keep {
				continue
			}
			for _, d := range s.DependsOn {
				if actions[d.Service] == keep && d.Condition != shape.Started {
					waitedOn[d.Service] = true
				}
			}
		}
		for svc := range waitedOn {
			id := existing[svc].ID
			s, _ := p.Service(svc)
			go func() {
				res, err := cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
				if err != nil {
					ready[svc].fail(fmt.Errorf("inspecting: %w", err))
					return
				}
				if st := res.Container.State; st != nil {
					if st.Health != nil && st.Health.Status == container.Healthy {
						ready[svc].markHealthy()
					} else if st.Running && waitedHealthy[svc] && o.ProbeEvery > 0 && s.Health != nil {
						go probe(ctx, cli, id, s.Health, o.ProbeEvery, ready[svc])
					}
					if st.Status == container.StateExited {
						if st.ExitCode == 0 {
							ready[svc].markCompleted()
						}
						ready[svc].fail(fmt.Errorf("exited with code %d", st.ExitCode))
					}
				}
			}()
		}
		go func() {
			for {
				select {
				case m := <-res.Messages:
					mu.Lock()
					svc, ok := ids[m.Actor.ID]
					mu.Unlock()
					if !ok {
						continue
					}
					dispatch(ready[svc], svc, m)
				case err := <-res.Err:
					if ctx.Err() == nil {
						for _, r := range ready {
							r.fail(fmt.Errorf("event stream: %w", err))
						}
					}
					return
				}
			}
		}()
	}

	netReady := make(chan struct{})
	netErr := error(nil)
	haveNet := false
	for _, n := range nets {
		if n.Name == networkName(p) {
			haveNet = true
		}
	}

	eg, ectx := errgroup.WithContext(ctx)
	if haveNet {
		close(netReady)
	} else {
		eg.Go(func() error {
			defer close(netReady)
			_, netErr = cli.NetworkCreate(ectx, networkName(p), client.NetworkCreateOptions{
				Driver: "bridge",
				Labels: merge(p.Labels, map[string]string{
					labels.Project: p.Name,
					labels.Network: "default",
					labels.Version: labels.ComposeVersion,
				}),
			})
			if netErr != nil {
				return fmt.Errorf("creating network %s: %w", networkName(p), netErr)
			}
			return nil
		})
	}

	for _, s := range p.Services {
		act := actions[s.Name]
		if act == keep {
			continue
		}
		r := ready[s.Name]
		old := existing[s.Name]
		eg.Go(func() error {
			id, err := upService(ectx, cli, lim, o, s, act, old, netReady, &netErr, register, ready)
			if err != nil {
				r.fail(err)
				return fmt.Errorf("service %s: %w", s.Name, err)
			}
			if waitedHealthy[s.Name] && o.ProbeEvery > 0 && s.Health != nil {
				// Not in eg: the probe ends with ctx, when Up returns.
				go probe(ctx, cli, id, s.Health, o.ProbeEvery, r)
			}
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return err
	}
	if !o.Wait {
		return nil
	}
	for _, s := range p.Services {
		c := shape.Started
		switch {
		case s.OneShot:
			c = shape.Completed
		case s.Health != nil:
			c = shape.Healthy
		}
		if err := ready[s.Name].wait(ctx, s.Name, c); err != nil {
			return fmt.Errorf("waiting for %s: %w", s.Name, err)
		}
	}
	return nil
}

// probe runs the healthcheck's test in container id every `every` until it
// passes once, then marks r healthy; it ends with ctx. A failing or
// erroring probe is not a failure: the engine's own verdict is.
func probe(ctx context.Context, cli *client.Client, id string, h *shape.Health, every time.Duration, r *readiness) {
	var cmd []string
	switch {
	case len(h.Test) > 1 && h.Test[0] == "CMD":
		cmd = h.Test[1:]
	case len(h.Test) == 2 && h.Test[0] == "CMD-SHELL":
		cmd = []string{"/bin/sh", "-c", h.Test[1]}
	default:
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.healthy:
			return
		case <-t.C:
		}
		if probeOnce(ctx, cli, id, cmd, h.Timeout) {
			r.markHealthy()
			return
		}
	}
}

// probeOnce runs one check, detached, and polls its exit code.
func probeOnce(ctx context.Context, cli *client.Client, id string, cmd []string, timeout time.Duration) bool {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	ex, err := cli.ExecCreate(ctx, id, client.ExecCreateOptions{Cmd: cmd})
	if err != nil {
		return false
	}
	if _, err := cli.ExecStart(ctx, ex.ID, client.ExecStartOptions{Detach: true}); err != nil {
		return false
	}
	for {
		res, err := cli.ExecInspect(ctx, ex.ID, client.ExecInspectOptions{})
		if err != nil {
			return false
		}
		if !res.Running {
			return res.ExitCode == 0
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// dispatch turns one engine event into readiness.
func dispatch(r *readiness, svc string, m events.Message) {
	switch {
	case m.Action == events.ActionHealthStatusHealthy:
		r.markHealthy()
	case m.Action == events.ActionHealthStatusUnhealthy:
		r.fail(errors.New("unhealthy"))
	case m.Action == events.ActionDie:
		if m.Actor.Attributes["exitCode"] == "0" {
			r.markCompleted()
		}
		r.fail(fmt.Errorf("%s exited with code %s", svc, m.Actor.Attributes["exitCode"]))
	}
}

func upService(ctx context.Context, cli *client.Client, lim limiter, o Options, s shape.Service, act action, old container.Summary,
	netReady <-chan struct{}, netErr *error, register func(id, svc string), ready map[string]*readiness) (string, error) {
	p := o.Project
	id := old.ID
	if act == create || act == recreate {
		select {
		case <-netReady:
		case <-ctx.Done():
			return "", ctx.Err()
		}
		if *netErr != nil {
			return "", errors.New("network not created")
		}
	}
	switch act {
	case create:
		var err error
		if id, err = createContainer(ctx, cli, lim, o, s, containerName(p, s)); err != nil {
			return "", err
		}
	case recreate:
		// Create the replacement under a temporary name while the old
		// container stops; the name is only free once the old one is gone.
		tmp := old.ID[:12] + "_" + containerName(p, s)
		eg, ectx := errgroup.WithContext(ctx)
		eg.Go(func() error {
			var err error
			id, err = createContainer(ectx, cli, lim, o, s, tmp)
			return err
		})
		eg.Go(func() error {
			_, err := cli.ContainerStop(ectx, old.ID, client.ContainerStopOptions{})
			return err
		})
		if err := eg.Wait(); err != nil {
			return "", err
		}
		if _, err := cli.ContainerRemove(ctx, old.ID, client.ContainerRemoveOptions{}); err != nil {
			return "", err
		}
		if _, err := cli.ContainerRename(ctx, id, client.ContainerRenameOptions{NewName: containerName(p, s)}); err != nil {
			return "", err
		}
	}
	register(id, s.Name)
	for _, d := range s.DependsOn {
		if err := ready[d.Service].wait(ctx, d.Service, d.Condition); err != nil {
			return "", err
		}
	}
	if err := lim.do(ctx, func() error {
		_, err := cli.ContainerStart(ctx, id, client.ContainerStartOptions{})
		return err
	}); err != nil {
		return "", fmt.Errorf("starting: %w", err)
	}
	ready[s.Name].markStarted()
	return id, nil
}

func createContainer(ctx context.Context, cli *client.Client, lim limiter, o Options, s shape.Service, name string) (string, error) {
	p := o.Project
	var deps []string
	for _, d := range s.DependsOn {
		deps = append(deps, d.Service+":"+string(d.Condition)+":false")
	}
	cfg := &container.Config{
		Image: p.Image,
		Cmd:   s.Command,
		Env:   s.EnvList(),
		Labels: merge(p.Labels, map[string]string{
			labels.Project:     p.Name,
			labels.Service:     s.Name,
			labels.Number:      "1",
			labels.Oneoff:      labels.False,
			labels.ConfigHash:  s.ConfigHash(p.Image),
			labels.DependsOn:   strings.Join(deps, ","),
			labels.Image:       p.Image,
			labels.WorkingDir:  o.WorkingDir,
			labels.ConfigFiles: o.ConfigFile,
			labels.Version:     labels.ComposeVersion,
		}),
	}
	if h := s.Health; h != nil {
		cfg.Healthcheck = &container.HealthConfig{Test: h.Test, Interval: h.Interval, Timeout: h.Timeout, Retries: h.Retries, StartPeriod: h.StartPeriod}
	}
	hostCfg := &container.HostConfig{NetworkMode: container.NetworkMode(networkName(p))}
	if len(s.Ports) > 0 {
		cfg.ExposedPorts = network.PortSet{}
		hostCfg.PortBindings = network.PortMap{}
		for _, port := range s.Ports {
			cp := network.MustParsePort(fmt.Sprintf("%d/tcp", port))
			cfg.ExposedPorts[cp] = struct{}{}
			hostCfg.PortBindings[cp] = []network.PortBinding{{HostIP: netip.MustParseAddr("127.0.0.1")}}
		}
	}
	net := networkName(p)
	var res client.ContainerCreateResult
	err := lim.do(ctx, func() (err error) {
		res, err = cli.ContainerCreate(ctx, client.ContainerCreateOptions{
			Name:       name,
			Config:     cfg,
			HostConfig: hostCfg,
			NetworkingConfig: &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
				net: {Aliases: []string{s.Name, containerName(p, s)}},
			}},
		})
		return err
	})
	if err != nil {
		return "", fmt.Errorf("creating container %s: %w", name, err)
	}
	return res.ID, nil
}

func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// Ps prints the project's containers, one list call.
func Ps(ctx context.Context, cli *client.Client, o Options, w io.Writer) error {
	res, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: projectFilter(o.Project)})
	if err != nil {
		return fmt.Errorf("listing containers: %w", err)
	}
	sort.Slice(res.Items, func(i, j int) bool { return res.Items[i].Names[0] < res.Items[j].Names[0] })
	fmt.Fprintf(w, "%-40s %-12s %s\n", "NAME", "SERVICE", "STATUS")
	for _, c := range res.Items {
		fmt.Fprintf(w, "%-40s %-12s %s\n", strings.TrimPrefix(c.Names[0], "/"), c.Labels[labels.Service], c.Status)
	}
	return nil
}

// Down stops and removes the project's containers, then its networks. A
// container is stopped only after every container depending on it has
// stopped, and removed right after its own stop.
func Down(ctx context.Context, cli *client.Client, o Options) error {
	p := o.Project
	ctrs, nets, err := observe(ctx, cli, p)
	if err != nil {
		return err
	}
	byService := map[string][]container.Summary{}
	for _, c := range ctrs {
		svc := c.Labels[labels.Service]
		byService[svc] = append(byService[svc], c)
	}
	dependents := map[string][]string{}
	stopped := map[string]chan struct{}{}
	for _, s := range p.Services {
		stopped[s.Name] = make(chan struct{})
		for _, d := range s.DependsOn {
			dependents[d.Service] = append(dependents[d.Service], s.Name)
		}
	}
	// Containers of services the project no longer has are stopped
	// without ordering.
	for svc := range byService {
		if _, ok := stopped[svc]; !ok {
			stopped[svc] = make(chan struct{})
		}
	}

	lim := newLimiter(o.Limit)
	eg, ectx := errgroup.WithContext(ctx)
	for svc, done := range stopped {
		eg.Go(func() error {
			for _, d := range dependents[svc] {
				select {
				case <-stopped[d]:
				case <-ectx.Done():
					return ectx.Err()
				}
			}
			inner, ictx := errgroup.WithContext(ectx)
			for _, c := range byService[svc] {
				inner.Go(func() error {
					if c.State == container.StateRunning || c.State == container.StateRestarting || c.State == container.StatePaused {
						if err := lim.do(ictx, func() error {
							_, err := cli.ContainerStop(ictx, c.ID, client.ContainerStopOptions{})
							return err
						}); err != nil {
							return fmt.Errorf("stopping %s: %w", c.Names[0], err)
						}
					}
					return nil
				})
			}
			err := inner.Wait()
			close(done)
			if err != nil {
				return err
			}
			rm, rctx := errgroup.WithContext(ectx)
			for _, c := range byService[svc] {
				rm.Go(func() error {
					if err := lim.do(rctx, func() error {
						_, err := cli.ContainerRemove(rctx, c.ID, client.ContainerRemoveOptions{})
						return err
					}); err != nil {
						return fmt.Errorf("removing %s: %w", c.Names[0], err)
					}
					return nil
				})
			}
			return rm.Wait()
		})
	}
	if err := eg.Wait(); err != nil {
		return err
	}
	for _, n := range nets {
		if _, err := cli.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{}); err != nil {
			return fmt.Errorf("removing network %s: %w", n.Name, err)
		}
	}
	return nil
}

// Cleanup force-removes everything carrying the bench label, whatever
// project it belongs to: the way back to a clean engine after a failed or
// interrupted run.
func Cleanup(ctx context.Context, cli *client.Client) (int, error) {
	f := make(client.Filters).Add("label", shape.BenchLabel)
	res, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return 0, err
	}
	eg, ectx := errgroup.WithContext(ctx)
	eg.SetLimit(16)
	for _, c := range res.Items {
		eg.Go(func() error {
			_, err := cli.ContainerRemove(ectx, c.ID, client.ContainerRemoveOptions{Force: true})
			return err
		})
	}
	if err := eg.Wait(); err != nil {
		return 0, err
	}
	nets, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return 0, err
	}
	for _, n := range nets.Items {
		if _, err := cli.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{}); err != nil {
			return 0, err
		}
	}
	return len(res.Items) + len(nets.Items), nil
}

// Check reports services whose container is not in its expected state
// after an up: every service running, one-shot services exited with 0.
func Check(ctx context.Context, cli *client.Client, p shape.Project) error {
	res, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: projectFilter(p)})
	if err != nil {
		return err
	}
	got := map[string]container.Summary{}
	for _, c := range res.Items {
		got[c.Labels[labels.Service]] = c
	}
	var errs []error
	for _, s := range p.Services {
		c, ok := got[s.Name]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("%s: no container", s.Name))
		case s.OneShot:
			if c.State != container.StateRunning && !strings.HasPrefix(c.Status, "Exited (0)") {
				errs = append(errs, fmt.Errorf("%s: %s", s.Name, c.Status))
			}
		case c.State != container.StateRunning:
			errs = append(errs, fmt.Errorf("%s: %s", s.Name, c.Status))
		}
	}
	if len(res.Items) != len(p.Services) {
		errs = append(errs, fmt.Errorf("%d containers for %d services", len(res.Items), len(p.Services)))
	}
	return errors.Join(errs...)
}
