package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"golang.org/x/sync/errgroup"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/graph"
	"github.com/composer-orchestrator/composer/labels"
)

// UpOptions tune up. The project given to Up is already narrowed to the
// selected services and scaled.
type UpOptions struct {
	// Recreate is RecreateDiverged (default), RecreateForce or RecreateNever.
	Recreate string
	// NoStart creates containers without starting them.
	NoStart bool
	// RemoveOrphans removes containers of services the project no longer
	// defines; without it they are reported.
	RemoveOrphans bool
	// Wait blocks until every service is running and healthy (or, for a
	// one-shot service, exited 0). WaitTimeout bounds it; 0 means no bound.
	Wait        bool
	WaitTimeout time.Duration
	// Timeout is the stop timeout for containers replaced by a recreate;
	// nil means each container's own.
	Timeout *time.Duration
	// RenewAnonVolumes gives recreated containers new anonymous volumes
	// instead of the old containers' ones.
	RenewAnonVolumes bool
	Images           ImageOptions
}

// Up creates and starts the project's resources, each service as soon as
// its own dependencies meet their conditions.
func (o *Orchestrator) Up(ctx context.Context, p *types.Project, opts UpOptions) error {
	g, err := graph.FromProject(p)
	if err != nil {
		return err
	}
	for _, name := range p.ServiceNames() {
		if fields := unsupported(p.Services[name]); len(fields) > 0 {
			o.warn("service %q: %s not supported yet, ignored", name, strings.Join(fields, ", "))
		}
	}
	// Subscribe before anything starts so that no state change is missed.
	wctx, stopWatching := context.WithCancel(ctx)
	defer stopWatching()
	w := o.watch(wctx, p.Name)

	var st State
	var imageIDs map[string]string
	eg, ectx := errgroup.WithContext(ctx)
	eg.Go(func() (err error) { st, err = o.Observe(ectx, p.Name); return err })
	eg.Go(func() (err error) { imageIDs, err = o.ensureImages(ectx, p, opts.Images); return err })
	if err := eg.Wait(); err != nil {
		return err
	}
	want, err := desired(p, imageIDs)
	if err != nil {
		return err
	}
	var started syncMap[string, bool]
	for attempt := 1; ; attempt++ {
		err = o.converge(ctx, p, g, st, want, opts, w, &started)
		if err == nil || attempt == upAttempts || !raced(err) || ctx.Err() != nil {
			break
		}
		// Something changed under this run: a container an earlier,
		// interrupted run left the engine making or removing appeared or
		// vanished. Up is convergent, so look again and go on from there.
		if err := sleep(ctx, time.Duration(attempt)*200*time.Millisecond); err != nil {
			break
		}
		if st, err = o.Observe(ctx, p.Name); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return interruptedUp(p, &started, ctx.Err())
	}
	if err != nil {
		return err
	}
	if opts.Wait && !opts.NoStart && !o.dryRun {
		return o.waitReady(ctx, p, w, opts.WaitTimeout)
	}
	return nil
}

// upAttempts bounds how often up observes and applies again after finding
// the engine changed under it.
const upAttempts = 3

// raced reports whether an error may come from the engine's state changing
// between observing and acting: a container or network that vanished, or
// a name taken meanwhile. A permanent conflict (a name used by a container
// of another project) fails the same way on every attempt.
func raced(err error) bool {
	return errors.Is(err, engine.ErrNotFound) || errors.Is(err, engine.ErrConflict)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// converge plans from what was observed and applies the plan.
func (o *Orchestrator) converge(ctx context.Context, p *types.Project, g *graph.Graph, st State, want Desired, opts UpOptions, w *watcher, started *syncMap[string, bool]) error {
	plan := PlanUp(p, st, want, opts.Recreate)
	o.explain(ctx, p, plan, want, st, opts)
	var err error
	if opts.RemoveOrphans {
		err = o.removeContainers(ctx, plan.Orphans, opts.Timeout, false)
	} else {
		o.warnOrphans(plan.Orphans)
	}
	if err != nil {
		return err
	}
	if err := o.ensureResources(ctx, p, plan); err != nil {
		return err
	}
	run := &upRun{o: o, p: p, g: g, plan: plan, want: want, opts: opts, w: w, state: st, started: started}
	return run.apply(ctx)
}

// desired computes what the project wants of each service, given the ids
// of the images the services run.
func desired(p *types.Project, imageIDs map[string]string) (Desired, error) {
	want := Desired{Hash: map[string]string{}, AltHash: map[string]string{}, ImageID: imageIDs}
	for _, name := range p.ServiceNames() {
		hashes, err := serviceHashes(p.Services[name])
		if err != nil {
			return Desired{}, err
		}
		want.Hash[name], want.AltHash[name] = hashes[0], hashes[1]
	}
	return want, nil
}

// warnOrphans reports orphan containers that are kept.
func (o *Orchestrator) warnOrphans(orphans []engine.Container) {
	if len(orphans) == 0 {
		return
	}
	names := make([]string, len(orphans))
	for i, c := range orphans {
		names[i] = c.Name
	}
	o.warn("Found orphan containers (%s) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.", strings.Join(names, ", "))
}

// ensureResources creates the project's networks and volumes (all at once:
// none depends on another) and checks that external ones exist.
func (o *Orchestrator) ensureResources(ctx context.Context, p *types.Project, plan Plan) error {
	eg, ctx := errgroup.WithContext(ctx)
	for _, n := range plan.Networks {
		cfg := p.Networks[n.Key]
		eg.Go(func() error { return o.ensureNetwork(ctx, p.Name, n, cfg) })
	}
	for _, v := range plan.Volumes {
		cfg := p.Volumes[v.Key]
		eg.Go(func() error { return o.ensureVolume(ctx, p.Name, v, cfg) })
	}
	return eg.Wait()
}

func (o *Orchestrator) ensureNetwork(ctx context.Context, project string, a ResourceAction, cfg types.NetworkConfig) error {
	switch a.Kind {
	case ActExists:
		return nil
	case ActExternal:
		if _, err := o.eng.InspectNetwork(ctx, a.Name); err != nil {
			if errors.Is(err, engine.ErrNotFound) {
				return fmt.Errorf("network %s declared as external, but could not be found", a.Name)
			}
			return fmt.Errorf("inspecting network %s: %w", a.Name, err)
		}
		return nil
	}
	spec := engine.NetworkSpec{
		Name:       a.Name,
		Driver:     cfg.Driver,
		DriverOpts: cfg.DriverOpts,
		Labels:     map[string]string{},
		Internal:   cfg.Internal,
		Attachable: cfg.Attachable,
		EnableIPv6: cfg.EnableIPv6,
		IPAM:       engine.IPAM{Driver: cfg.Ipam.Driver},
	}
	for k, v := range cfg.Labels {
		spec.Labels[k] = v
	}
	spec.Labels[labels.Project] = project
	spec.Labels[labels.Network] = a.Key
	spec.Labels[labels.Version] = labels.ComposeVersion
	for _, c := range cfg.Ipam.Config {
		spec.IPAM.Configs = append(spec.IPAM.Configs, engine.IPAMConfig{Subnet: c.Subnet, IPRange: c.IPRange, Gateway: c.Gateway, AuxAddress: c.AuxiliaryAddresses})
	}
	o.emit(KindNetwork, a.Name, Creating, false, "")
	if _, err := o.eng.CreateNetwork(ctx, spec); err != nil {
		if errors.Is(err, engine.ErrConflict) {
			// The network exists without our labels (made by hand or by
			// another tool): use it, as docker compose does, but say so.
			o.emit(KindNetwork, a.Name, Created, true, "exists already, not created by this project")
			return nil
		}
		o.fail(KindNetwork, a.Name, err)
		return fmt.Errorf("creating network %s: %w", a.Name, err)
	}
	o.emit(KindNetwork, a.Name, Created, true, "")
	return nil
}

func (o *Orchestrator) ensureVolume(ctx context.Context, project string, a ResourceAction, cfg types.VolumeConfig) error {
	switch a.Kind {
	case ActExists:
		return nil
	case ActExternal:
		if _, err := o.eng.InspectVolume(ctx, a.Name); err != nil {
			if errors.Is(err, engine.ErrNotFound) {
				return fmt.Errorf("external volume %q not found", a.Name)
			}
			return fmt.Errorf("inspecting volume %s: %w", a.Name, err)
		}
		return nil
	}
	// A volume of that name may exist without our labels; creating a
	// volume that exists is a no-op for the engine, so just use it.
	if _, err := o.eng.InspectVolume(ctx, a.Name); err == nil {
		return nil
	}
	spec := engine.VolumeSpec{Name: a.Name, Driver: cfg.Driver, DriverOpts: cfg.DriverOpts, Labels: map[string]string{}}
	for k, v := range cfg.Labels {
		spec.Labels[k] = v
	}
	spec.Labels[labels.Project] = project
	spec.Labels[labels.Volume] = a.Key
	spec.Labels[labels.Version] = labels.ComposeVersion
	o.emit(KindVolume, a.Name, Creating, false, "")
	if _, err := o.eng.CreateVolume(ctx, spec); err != nil {
		o.fail(KindVolume, a.Name, err)
		return fmt.Errorf("creating volume %s: %w", a.Name, err)
	}
	o.emit(KindVolume, a.Name, Created, true, "")
	return nil
}

// upRun is the state of one up while it applies its plan.
type upRun struct {
	o     *Orchestrator
	p     *types.Project
	g     *graph.Graph
	plan  Plan
	want  Desired
	opts  UpOptions
	w     *watcher
	state State
	// created holds, per service, the containers ready to start once the
	// create phase has made them: closed channels signal completion.
	created  map[string]chan struct{}
	services syncMap[string, []engine.Container]
	replaced syncMap[string, []replacement]
	// started records the services whose start visit finished, over
	// every attempt, so that an interrupt can say what was left undone.
	started *syncMap[string, bool]
}

// replacement is a container made to take the place of an existing one,
// under a temporary name until the old one is gone.
type replacement struct {
	old   engine.Container
	newID string
	name  string // the final name, the old container's
}

// apply runs two walks at once: a create walk that makes every container
// as early as possible (ordered only where one container's creation needs
// another's: network_mode, ipc, pid, volumes_from), and a start walk that
// starts each service once it is created and its dependencies meet their
// conditions. So a chain of services is created concurrently, and only
// the starts follow the chain.
func (r *upRun) apply(ctx context.Context) error {
	r.created = map[string]chan struct{}{}
	createDeps := map[string][]string{}
	for _, name := range r.p.ServiceNames() {
		r.created[name] = make(chan struct{})
		for _, d := range graph.NamespaceDeps(r.p.Services[name]) {
			if _, ok := r.p.Services[d]; ok {
				createDeps[name] = append(createDeps[name], d)
			}
		}
	}
	cg, err := graph.New(r.p.ServiceNames(), createDeps)
	if err != nil {
		return err
	}
	eg, ctx := errgroup.WithContext(ctx)
	// Neither walk is bounded: the engine calls they make are (see
	// limitedEngine), so a start waiting for a dependency holds nothing.
	eg.Go(func() error { return cg.Walk(ctx, graph.WalkOptions{}, r.create) })
	eg.Go(func() error { return r.g.Walk(ctx, graph.WalkOptions{}, r.start) })
	return eg.Wait()
}

// containerOf finds the first container of a service, made in this run or
// found running, for `service:x` references.
func (r *upRun) containerOf(service string) (string, error) {
	if cs, ok := r.services.Load(service); ok && len(cs) > 0 {
		return cs[0].ID, nil
	}
	for _, c := range r.state.ServiceContainers(service) {
		return c.ID, nil
	}
	return "", fmt.Errorf("no container found for service %q", service)
}

// create makes the new containers of a service (fresh ones and the
// replacements of recreated ones, under a temporary name).
func (r *upRun) create(ctx context.Context, name string) error {
	var ready []engine.Container
	var replaced []replacement
	for _, a := range r.plan.Services[name] {
		switch a.Kind {
		case ActKeep, ActStart:
			ready = append(ready, *a.Existing)
		case ActCreate, ActRecreate:
			c, err := r.createOne(ctx, a)
			if err != nil {
				return err
			}
			ready = append(ready, c)
			if a.Kind == ActRecreate {
				replaced = append(replaced, replacement{old: *a.Existing, newID: c.ID, name: a.Name})
			}
		}
	}
	r.services.Store(name, ready)
	r.replaced.Store(name, replaced)
	close(r.created[name])
	return nil
}

// createOne creates the container of one create or recreate action. A
// replacement is created under a temporary name, its final one taken when
// the old container is gone.
func (r *upRun) createOne(ctx context.Context, a ContainerAction) (engine.Container, error) {
	in := specInput{
		project: r.p, service: r.p.Services[a.Service], name: a.Name, number: a.Number,
		hash: r.want.Hash[a.Service], imageID: r.want.ImageID[a.Service],
		containerOf: r.containerOf,
	}
	status, done, why := Creating, Created, ""
	if a.Kind == ActRecreate {
		why = "(" + a.Reason + ")"
		if !r.opts.RenewAnonVolumes {
			in.inherit = a.Existing
		}
		in.replaces = a.Existing.ID
		in.name = shortID(a.Existing.ID) + "_" + a.Name
		status, done = Recreate, Recreated
	}
	spec, err := containerSpec(in)
	if err != nil {
		return engine.Container{}, err
	}
	r.o.emit(KindContainer, a.Name, status, false, why)
	id, err := r.o.eng.CreateContainer(ctx, spec)
	if err != nil {
		r.o.fail(KindContainer, a.Name, err)
		return engine.Container{}, fmt.Errorf("creating container %s: %w", a.Name, err)
	}
	r.o.emit(KindContainer, a.Name, done, true, why)
	// Known by its final name from here on: it is renamed before it
	// starts, and engine calls use the id.
	return engine.Container{ID: id, Name: a.Name, Labels: spec.Labels, State: engine.StateCreated}, nil
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// start waits for the service's dependencies, then retires replaced and
// surplus containers and starts the service's containers.
func (r *upRun) start(ctx context.Context, name string) error {
	// With --no-start nothing runs, so no condition could ever be met;
	// and a service whose containers all run on, untouched, starts
	// nothing that would need its dependencies ready (a no-op up would
	// otherwise wait on every health check again).
	if !r.opts.NoStart && !r.untouched(name) {
		if err := r.waitDependencies(ctx, name); err != nil {
			return err
		}
	}
	select {
	case <-r.created[name]:
	case <-ctx.Done():
		return ctx.Err()
	}
	var surplus []engine.Container
	for _, a := range r.plan.Services[name] {
		if a.Kind == ActRemove {
			surplus = append(surplus, *a.Existing)
		}
	}
	if err := r.o.removeContainers(ctx, surplus, r.opts.Timeout, false); err != nil {
		return err
	}
	replaced, _ := r.replaced.Load(name)
	err := forEachOf(ctx, replaced, func(ctx context.Context, rep replacement) error {
		// Stop, remove and rename go together: an interrupt between them
		// would leave the service with no container under its name.
		ctx, done := r.o.whole(ctx)
		defer done()
		if err := r.o.retire(ctx, rep.old, r.opts.Timeout); err != nil {
			return err
		}
		if err := r.o.eng.RenameContainer(ctx, rep.newID, rep.name); err != nil {
			return fmt.Errorf("renaming container %s: %w", rep.name, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !r.opts.NoStart {
		cs, _ := r.services.Load(name)
		if err := forEachOf(ctx, cs, r.o.startOne); err != nil {
			return err
		}
	}
	r.started.Store(name, true)
	return nil
}

// untouched reports whether up leaves every container of a service
// running as it is.
func (r *upRun) untouched(name string) bool {
	for _, a := range r.plan.Services[name] {
		if a.Kind != ActKeep {
			return false
		}
	}
	return true
}

func (o *Orchestrator) startOne(ctx context.Context, c engine.Container) error {
	name := c.Name
	if c.State == engine.StateRunning || c.State == engine.StateRestarting {
		o.emit(KindContainer, name, Running, true, "")
		return nil
	}
	if c.State == engine.StatePaused {
		o.emit(KindContainer, name, Paused, true, "")
		return nil
	}
	o.emit(KindContainer, name, Starting, false, "")
	if err := o.eng.StartContainer(ctx, c.ID); err != nil {
		o.fail(KindContainer, name, err)
		return fmt.Errorf("starting container %s: %w", name, err)
	}
	o.emit(KindContainer, name, Started, true, "")
	return nil
}

// retire stops and removes a container that a new one replaces. Its
// anonymous volumes stay: the replacement mounts them.
func (o *Orchestrator) retire(ctx context.Context, c engine.Container, timeout *time.Duration) error {
	if isUp(c.State) {
		if err := o.eng.StopContainer(ctx, c.ID, timeout); err != nil && !errors.Is(err, engine.ErrNotFound) {
			return fmt.Errorf("stopping container %s: %w", c.Name, err)
		}
	}
	if err := o.eng.RemoveContainer(ctx, c.ID, engine.RemoveOptions{}); err != nil && !errors.Is(err, engine.ErrNotFound) {
		return fmt.Errorf("removing container %s: %w", c.Name, err)
	}
	return nil
}

// waitDependencies blocks until every dependency of the service that is
// part of this run meets its depends_on condition.
func (r *upRun) waitDependencies(ctx context.Context, name string) error {
	s := r.p.Services[name]
	var deps []dependency
	for _, dep := range sortedKeys(s.DependsOn) {
		if _, ok := r.p.Services[dep]; !ok {
			continue // not part of this run (--no-deps, or optional and absent)
		}
		// The dependency's start visit is done (the walk ordered it
		// first), so its containers are known.
		cs, _ := r.services.Load(dep)
		cond := s.DependsOn[dep]
		deps = append(deps, dependency{service: dep, condition: cond.Condition, required: cond.Required, containers: cs})
	}
	return r.o.waitDependencies(ctx, r.w, name, deps)
}

// waitReady is up --wait over the project's containers.
func (o *Orchestrator) waitReady(ctx context.Context, p *types.Project, w *watcher, timeout time.Duration) error {
	all, err := o.listContainers(ctx, p.Name)
	if err != nil {
		return err
	}
	st := State{Containers: all}
	var cs []engine.Container
	for _, name := range p.ServiceNames() {
		cs = append(cs, st.ServiceContainers(name)...)
	}
	return o.waitAll(ctx, w, cs, timeout)
}

// waitAll is the --wait condition: every container running (and healthy
// where it has a healthcheck), or exited 0. A container found ready stays
// watched until all are: one that exits non-zero meanwhile (a one-shot job
// that was still running when first checked) fails the wait.
func (o *Orchestrator) waitAll(ctx context.Context, w *watcher, cs []engine.Container, timeout time.Duration) error {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	allReady, everyoneReady := context.WithCancel(ctx)
	defer everyoneReady()
	var pending syncMap[string, string]
	var left atomic.Int32
	left.Store(int32(len(cs)))
	eg, ectx := errgroup.WithContext(ctx)
	for _, c := range cs {
		pending.Store(c.Name, c.Name+" is not ready")
		eg.Go(func() error {
			byProbe, err := o.untilHealthy(ectx, w, c.ID, func(d engine.ContainerDetails) (bool, error) {
				pending.Store(c.Name, notReady(d))
				return ready(d)
			})
			if err != nil {
				return err
			}
			pending.Store(c.Name, "")
			detail := ""
			if byProbe {
				detail = ByProbe
			}
			o.emit(KindContainer, c.Name, Healthy, true, detail)
			if left.Add(-1) == 0 {
				everyoneReady()
				return nil
			}
			err = w.until(allReady, c.ID, func(d engine.ContainerDetails) (bool, error) {
				if (d.State == engine.StateExited || d.State == engine.StateDead) && d.ExitCode != 0 {
					return false, fmt.Errorf("container %s exited (%d)", d.Name, d.ExitCode)
				}
				return false, nil
			})
			if allReady.Err() != nil && ctx.Err() == nil {
				return nil // everyone became ready while this one was fine
			}
			return err
		})
	}
	err := eg.Wait()
	if err != nil && errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
		var waiting []string
		pending.mu.Lock()
		for _, why := range pending.m {
			if why != "" {
				waiting = append(waiting, why)
			}
		}
		pending.mu.Unlock()
		sort.Strings(waiting)
		return fmt.Errorf("timed out after %s waiting for: %s", timeout, strings.Join(waiting, "; "))
	}
	return err
}

// removeContainers stops and removes containers concurrently.
func (o *Orchestrator) removeContainers(ctx context.Context, cs []engine.Container, timeout *time.Duration, volumes bool) error {
	eg, ctx := errgroup.WithContext(ctx)
	for _, c := range cs {
		eg.Go(func() error { return o.removeOne(ctx, c, timeout, volumes) })
	}
	return eg.Wait()
}

func (o *Orchestrator) removeOne(ctx context.Context, c engine.Container, timeout *time.Duration, volumes bool) error {
	if isUp(c.State) {
		o.emit(KindContainer, c.Name, Stopping, false, "")
		if err := o.eng.StopContainer(ctx, c.ID, timeout); err != nil && !errors.Is(err, engine.ErrNotFound) {
			o.fail(KindContainer, c.Name, err)
			return fmt.Errorf("stopping container %s: %w", c.Name, err)
		}
		o.emit(KindContainer, c.Name, Stopped, false, "")
	}
	o.emit(KindContainer, c.Name, Removing, false, "")
	if err := o.eng.RemoveContainer(ctx, c.ID, engine.RemoveOptions{Force: true, RemoveVolumes: volumes}); err != nil && !errors.Is(err, engine.ErrNotFound) {
		o.fail(KindContainer, c.Name, err)
		return fmt.Errorf("removing container %s: %w", c.Name, err)
	}
	o.emit(KindContainer, c.Name, Removed, true, "")
	return nil
}
