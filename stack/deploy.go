package stack

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/swarm"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/graph"
	"github.com/composer-orchestrator/composer/orchestrator"
)

// Engine is what deploy and undeploy ask of an engine: its swarm, its
// networks, and, on this node, images, task containers and volumes.
type Engine interface {
	engine.Swarm
	engine.Networks
	InspectImage(ctx context.Context, ref string) (engine.Image, error)
	InspectContainer(ctx context.Context, id string) (engine.ContainerDetails, error)
	ListContainers(ctx context.Context, filter engine.Filter) ([]engine.Container, error)
	RemoveContainer(ctx context.Context, id string, opts engine.RemoveOptions) error
	ListVolumes(ctx context.Context, filter engine.Filter) ([]engine.Volume, error)
	RemoveVolume(ctx context.Context, name string, force bool) error
}

// Kinds and statuses of the resources only a stack has, for the displays.
const (
	KindConfig orchestrator.Kind = "Config"
	KindSecret orchestrator.Kind = "Secret"

	Updating  orchestrator.Status = "Updating"
	Updated   orchestrator.Status = "Updated"
	Unchanged orchestrator.Status = "Unchanged"
	Completed orchestrator.Status = "Completed"
)

// DeployOptions tune Deploy.
type DeployOptions struct {
	// DryRun reads the swarm and reports what a deploy would change,
	// changing nothing.
	DryRun bool
	// RemoveOrphans removes the stack's services the project no longer
	// has; without it they are named in a warning.
	RemoveOrphans bool
	// WaitTimeout bounds each wait for a dependency's condition; zero
	// means ten minutes.
	WaitTimeout time.Duration
	// Abandon, when done, cancels the requests under way. Until then, an
	// interrupt (ctx) stops scheduling and lets sent requests finish.
	Abandon context.Context
	// Poll is how often a wait looks at the tasks; zero means 500 ms.
	Poll time.Duration
	// Parallel bounds how many services are created or updated at once;
	// zero or less means no bound.
	Parallel int
}

// NotManagerError says the engine cannot deploy a stack, and how to make
// it able to.
type NotManagerError struct {
	State engine.SwarmState
}

func (e *NotManagerError) Error() string {
	what := "is not part of a swarm"
	switch {
	case e.State.NodeState == "active":
		what = "is a swarm worker, not a manager"
	case e.State.NodeState == "locked":
		what = "is a manager of a locked swarm (unlock it with docker swarm unlock)"
	case e.State.NodeState != "inactive" && e.State.NodeState != "":
		what = "is in swarm state " + e.State.NodeState
	}
	return "the engine " + what + ": deploy needs a swarm manager. " +
		"Make this engine one with `docker swarm init` (a one-node swarm that other nodes can join), " +
		"or point DOCKER_HOST at a manager of an existing swarm"
}

// deployer holds one Deploy or Undeploy call's state.
type deployer struct {
	e    Engine
	sink orchestrator.Sink
	opts DeployOptions
	plan *Plan
	// ids of the stack's configs and secrets by swarm name, existing or
	// created by this run.
	configIDs, secretIDs map[string]string
	// networkIDs maps the networks services attach to, by name, to their
	// ids: the swarm reads attachments back by id.
	networkIDs map[string]string
	// current holds the stack's services by swarm name as the deploy
	// found them.
	current map[string]engine.Service
	// started is when this run began: task failures before it are history.
	started time.Time
	// conditions memoizes the waits: several dependents can wait for one
	// service to be healthy, and one look-up serves them all.
	mu         sync.Mutex
	conditions map[string]*condition
	// rolling holds the services this run updated in a way that replaces
	// their tasks: until the swarm says the update completed, the tasks
	// that run may be the old ones. Guarded by mu.
	rolling map[string]bool
}

type condition struct {
	once sync.Once
	err  error
}

// CheckManager fails with a NotManagerError unless the engine manages a
// swarm; it returns the swarm's state.
func CheckManager(ctx context.Context, e engine.Swarm) (engine.SwarmState, error) {
	st, err := e.SwarmState(ctx)
	if err != nil {
		return st, fmt.Errorf("ask the engine about its swarm: %w", err)
	}
	if st.NodeState != "active" || !st.Manager {
		return st, &NotManagerError{State: st}
	}
	return st, nil
}

// Deploy deploys the project to the engine's swarm as a stack named after
// it. Networks, configs and secrets come first; then each service, once
// the services it depends on meet their conditions. A service whose spec
// is unchanged is left alone, so deploying twice changes nothing.
func Deploy(ctx context.Context, e Engine, p *types.Project, sink orchestrator.Sink, opts DeployOptions) error {
	st, err := CheckManager(ctx, e)
	if err != nil {
		return err
	}
	plan, err := Convert(p, Options{APIVersion: st.APIVersion})
	if err != nil {
		return err
	}
	d := newDeployer(e, sink, opts, plan)
	for _, w := range plan.Warnings {
		d.warn(w)
	}
	if err := d.checkImages(ctx, st); err != nil {
		return err
	}
	// Everything is checked before anything is created; the services come
	// last, as they need the rest.
	for _, step := range []func(context.Context) error{
		d.checkExternal, d.readCurrent, d.ensureNetworks, d.ensureObjects, d.deployServices, d.orphans,
	} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	d.pruneObjects(ctx)
	return nil
}

func newDeployer(e Engine, sink orchestrator.Sink, opts DeployOptions, plan *Plan) *deployer {
	if sink == nil {
		sink = orchestrator.Discard
	}
	if opts.WaitTimeout <= 0 {
		opts.WaitTimeout = 10 * time.Minute
	}
	if opts.Poll <= 0 {
		opts.Poll = 500 * time.Millisecond
	}
	if opts.Abandon == nil {
		opts.Abandon = context.Background()
	}
	return &deployer{
		e: e, sink: sink, opts: opts, plan: plan,
		configIDs: map[string]string{}, secretIDs: map[string]string{}, networkIDs: map[string]string{},
		current: map[string]engine.Service{}, conditions: map[string]*condition{}, rolling: map[string]bool{},
		started: time.Now(),
	}
}

func (d *deployer) emit(kind orchestrator.Kind, name string, status orchestrator.Status, done bool, detail string) {
	d.sink.Event(orchestrator.Event{Kind: kind, Name: name, Status: status, Done: done, Detail: detail, Time: time.Now()})
}

func (d *deployer) warn(text string) {
	d.emit(orchestrator.KindProject, "", orchestrator.Warning, true, text)
}

// send runs a request that changes the swarm. Once the caller's context is
// done nothing more is sent; a request sent runs to its end unless the
// user abandons it, so the run ends knowing what the swarm holds.
func (d *deployer) send(ctx context.Context, req func(ctx context.Context) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(d.opts.Abandon, cancel)
	defer stop()
	return req(rctx)
}

// change reports a change, and makes it unless the run is dry. A dry run
// reports the change as made: the display marks every line of it as
// pretended.
func (d *deployer) change(ctx context.Context, kind orchestrator.Kind, name string, doing, done orchestrator.Status, why string, req func(ctx context.Context) error) error {
	if why != "" {
		why = "(" + why + ")"
	}
	if d.opts.DryRun {
		d.emit(kind, name, done, true, why)
		return nil
	}
	d.emit(kind, name, doing, false, why)
	if err := d.send(ctx, req); err != nil {
		if errors.Is(err, context.Canceled) {
			// The user interrupted before it was sent: not an error of
			// the swarm's.
			d.emit(kind, name, orchestrator.Interrupted, true, "")
			return err
		}
		d.emit(kind, name, orchestrator.Error, true, err.Error())
		return fmt.Errorf("%s %s: %w", strings.ToLower(string(doing)), name, err)
	}
	d.emit(kind, name, done, true, why)
	return nil
}

// checkImages refuses services whose image the nodes cannot have: deploy
// does not build, and nodes pull the images they run.
func (d *deployer) checkImages(ctx context.Context, st engine.SwarmState) error {
	var errs []error
	for _, s := range d.plan.Services {
		if !s.Build {
			continue
		}
		_, err := d.e.InspectImage(ctx, s.Image)
		switch {
		case errors.Is(err, engine.ErrNotFound):
			errs = append(errs, fmt.Errorf("service %s: it has a build section and its image %s is not on this engine: deploy does not build, as swarm nodes pull the images they run. "+
				"Build it first (composer build %s); with more than one node, also push it to a registry the nodes can reach (composer push %s)", s.Key, s.Image, s.Key, s.Key))
		case err != nil:
			return fmt.Errorf("service %s: look for image %s: %w", s.Key, s.Image, err)
		case st.Nodes > 1:
			d.warn(fmt.Sprintf("service %s: the swarm has %d nodes and image %s was built here: the other nodes must pull it from a registry (composer push %s)", s.Key, st.Nodes, s.Image, s.Key))
		default:
			d.warn(fmt.Sprintf("service %s: image %s was built on this engine and is used as it is, which works on a one-node swarm; once nodes join, push it to a registry they can reach", s.Key, s.Image))
		}
	}
	return errors.Join(errs...)
}

// checkExternal makes sure what the stack uses but does not create exists,
// before anything is created.
func (d *deployer) checkExternal(ctx context.Context) error {
	var errs []error
	for _, n := range d.plan.ExternalNetworks {
		if _, err := d.e.InspectNetwork(ctx, n); err != nil {
			errs = append(errs, fmt.Errorf("external network %s: %w", n, err))
		}
	}
	for _, list := range []struct {
		kind  string
		names []string
		ids   map[string]string
		list  func(context.Context, engine.Filter) ([]engine.SwarmObject, error)
	}{
		{"config", d.plan.ExternalConfigs, d.configIDs, d.e.ListConfigs},
		{"secret", d.plan.ExternalSecrets, d.secretIDs, d.e.ListSecrets},
	} {
		for _, n := range list.names {
			objs, err := list.list(ctx, engine.Filter{Name: n})
			if err != nil {
				return fmt.Errorf("look for external %s %s: %w", list.kind, n, err)
			}
			i := slices.IndexFunc(objs, func(o engine.SwarmObject) bool { return o.Name == n })
			if i < 0 {
				errs = append(errs, fmt.Errorf("external %s %s does not exist in the swarm", list.kind, n))
				continue
			}
			list.ids[n] = objs[i].ID
		}
	}
	return errors.Join(errs...)
}

// readCurrent reads the stack's services as the swarm has them.
func (d *deployer) readCurrent(ctx context.Context) error {
	svcs, err := d.e.ListServices(ctx, d.stackFilter())
	if err != nil {
		return fmt.Errorf("list the stack's services: %w", err)
	}
	for _, s := range svcs {
		d.current[s.Spec.Name] = s
	}
	return nil
}

func (d *deployer) stackFilter() engine.Filter {
	return engine.Filter{Labels: map[string]string{LabelNamespace: d.plan.Namespace}}
}

func (d *deployer) ensureNetworks(ctx context.Context) error {
	existing, err := d.e.ListNetworks(ctx, d.stackFilter())
	if err != nil {
		return fmt.Errorf("list the stack's networks: %w", err)
	}
	for _, x := range existing {
		d.networkIDs[x.Name] = x.ID
	}
	for _, n := range d.plan.Networks {
		if _, ok := d.networkIDs[n.Name]; ok {
			continue
		}
		err := d.change(ctx, orchestrator.KindNetwork, n.Name, orchestrator.Creating, orchestrator.Created, "", func(ctx context.Context) error {
			id, err := d.e.CreateNetwork(ctx, n)
			d.networkIDs[n.Name] = id
			return err
		})
		if err != nil {
			return err
		}
		if d.opts.DryRun {
			d.networkIDs[n.Name] = "<new>"
		}
	}
	// The networks the stack does not make (external ones, the engine's
	// own host and bridge) are attached by id too.
	for _, s := range d.plan.Services {
		for _, a := range s.Spec.TaskTemplate.Networks {
			if _, ok := d.networkIDs[a.Target]; ok {
				continue
			}
			n, err := d.e.InspectNetwork(ctx, a.Target)
			if err != nil {
				return fmt.Errorf("service %s: network %s: %w", s.Key, a.Target, err)
			}
			d.networkIDs[a.Target] = n.ID
		}
	}
	return nil
}

// ensureObjects creates the configs and secrets the stack lacks. Their
// names hold their content's hash, so one that exists by name holds the
// same content.
func (d *deployer) ensureObjects(ctx context.Context) error {
	for _, k := range []struct {
		kind    orchestrator.Kind
		objs    []Object
		ids     map[string]string
		list    func(context.Context, engine.Filter) ([]engine.SwarmObject, error)
		create  func(context.Context, engine.SwarmObjectSpec) (string, error)
		listErr string
	}{
		{KindConfig, d.plan.Configs, d.configIDs, d.e.ListConfigs, d.e.CreateConfig, "configs"},
		{KindSecret, d.plan.Secrets, d.secretIDs, d.e.ListSecrets, d.e.CreateSecret, "secrets"},
	} {
		existing, err := k.list(ctx, d.stackFilter())
		if err != nil {
			return fmt.Errorf("list the stack's %s: %w", k.listErr, err)
		}
		for _, x := range existing {
			k.ids[x.Name] = x.ID
		}
		for _, o := range k.objs {
			if _, ok := k.ids[o.Name]; ok {
				continue
			}
			err := d.change(ctx, k.kind, o.Name, orchestrator.Creating, orchestrator.Created, "", func(ctx context.Context) error {
				id, err := k.create(ctx, engine.SwarmObjectSpec{Name: o.Name, Labels: o.Labels, Data: o.Data})
				k.ids[o.Name] = id
				return err
			})
			if err != nil {
				return err
			}
			if d.opts.DryRun {
				k.ids[o.Name] = "<new>"
			}
		}
	}
	return nil
}

// deployServices creates or updates each service once the services it
// depends on meet their conditions.
func (d *deployer) deployServices(ctx context.Context) error {
	byKey := map[string]*Service{}
	var keys []string
	deps := map[string][]string{}
	for i := range d.plan.Services {
		s := &d.plan.Services[i]
		byKey[s.Key] = s
		keys = append(keys, s.Key)
	}
	for _, s := range d.plan.Services {
		for dep := range s.DependsOn {
			if _, ok := byKey[dep]; ok {
				deps[s.Key] = append(deps[s.Key], dep)
			}
		}
		slices.Sort(deps[s.Key])
	}
	g, err := graph.New(keys, deps)
	if err != nil {
		return fmt.Errorf("order the services: %w", err)
	}
	return g.Walk(ctx, graph.WalkOptions{Parallel: d.opts.Parallel}, func(ctx context.Context, key string) error {
		s := byKey[key]
		for _, dep := range deps[key] {
			if err := d.await(ctx, byKey[dep], s.DependsOn[dep].Condition); err != nil {
				return fmt.Errorf("service %s: %w", key, err)
			}
		}
		return d.deployService(ctx, s)
	})
}

// deployService creates the service, or updates it when its spec differs,
// saying why.
func (d *deployer) deployService(ctx context.Context, s *Service) error {
	spec, err := d.resolveRefs(s.Spec)
	if err != nil {
		return fmt.Errorf("service %s: %w", s.Key, err)
	}
	cur, ok := d.current[spec.Name]
	if !ok {
		return d.change(ctx, orchestrator.KindService, spec.Name, orchestrator.Creating, orchestrator.Created, "", func(ctx context.Context) error {
			_, err := d.e.CreateService(ctx, spec)
			return err
		})
	}
	// An update names the version it read; the swarm moves the version
	// on by itself too (each step of a rolling update is a write), so a
	// conflict means reading the service again and deciding again.
	for attempt := 0; ; attempt++ {
		reasons := Differences(cur.Spec, spec)
		if len(reasons) == 0 {
			d.emit(orchestrator.KindService, spec.Name, Unchanged, true, "")
			return nil
		}
		err := d.change(ctx, orchestrator.KindService, spec.Name, Updating, Updated, strings.Join(reasons, "; "), func(ctx context.Context) error {
			return d.e.UpdateService(ctx, cur.ID, cur.Version, spec)
		})
		if err == nil || !errors.Is(err, engine.ErrConflict) || attempt == 2 {
			if err == nil && replacesTasks(cur.Spec, spec) {
				d.mu.Lock()
				d.rolling[spec.Name] = true
				d.mu.Unlock()
			}
			return err
		}
		if cur, err = d.service(ctx, spec.Name); err != nil {
			return err
		}
	}
}

// replacesTasks reports whether an update from one spec to the other
// makes the swarm replace a service's tasks (a rolling update, with an
// update status), as a change of the task template does; a job runs
// again instead.
func replacesTasks(current, want swarm.ServiceSpec) bool {
	if want.Mode.ReplicatedJob != nil || want.Mode.GlobalJob != nil {
		return false
	}
	a, b := current, want
	a.Annotations, b.Annotations = swarm.Annotations{}, swarm.Annotations{}
	a.Mode, b.Mode = swarm.ServiceMode{}, swarm.ServiceMode{}
	a.UpdateConfig, b.UpdateConfig = nil, nil
	a.RollbackConfig, b.RollbackConfig = nil, nil
	a.EndpointSpec, b.EndpointSpec = nil, nil
	return len(Differences(a, b)) > 0
}

// resolveRefs fills in the ids of the networks, configs and secrets a spec
// names: the converter knows only their names, and the swarm reads them
// back by id, so a spec compared with the swarm's must hold ids too.
func (d *deployer) resolveRefs(spec swarm.ServiceSpec) (swarm.ServiceSpec, error) {
	nets := make([]swarm.NetworkAttachmentConfig, 0, len(spec.TaskTemplate.Networks))
	for _, a := range spec.TaskTemplate.Networks {
		id, ok := d.networkIDs[a.Target]
		if !ok {
			return spec, fmt.Errorf("network %s is not in the swarm", a.Target)
		}
		a.Target = id
		nets = append(nets, a)
	}
	if len(nets) > 0 {
		spec.TaskTemplate.Networks = nets
	}
	cs := spec.TaskTemplate.ContainerSpec
	if cs == nil {
		return spec, nil
	}
	c := *cs
	if p := c.Privileges; p != nil && p.CredentialSpec != nil && p.CredentialSpec.Config != "" {
		id, ok := d.configIDs[p.CredentialSpec.Config]
		if !ok {
			return spec, fmt.Errorf("config %s (credential_spec) is not in the swarm", p.CredentialSpec.Config)
		}
		priv, cred := *p, *p.CredentialSpec
		cred.Config = id
		priv.CredentialSpec = &cred
		c.Privileges = &priv
	}
	c.Configs = nil
	for _, r := range cs.Configs {
		ref := *r
		id, ok := d.configIDs[r.ConfigName]
		if !ok {
			return spec, fmt.Errorf("config %s is not in the swarm", r.ConfigName)
		}
		ref.ConfigID = id
		c.Configs = append(c.Configs, &ref)
	}
	c.Secrets = nil
	for _, r := range cs.Secrets {
		ref := *r
		id, ok := d.secretIDs[r.SecretName]
		if !ok {
			return spec, fmt.Errorf("secret %s is not in the swarm", r.SecretName)
		}
		ref.SecretID = id
		c.Secrets = append(c.Secrets, &ref)
	}
	spec.TaskTemplate.ContainerSpec = &c
	return spec, nil
}

// orphans removes, or names, the stack's services the project no longer
// has.
func (d *deployer) orphans(ctx context.Context) error {
	want := map[string]bool{}
	for _, s := range d.plan.Services {
		want[s.Spec.Name] = true
	}
	var names []string
	for name := range d.current {
		if !want[name] {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	if len(names) == 0 {
		return nil
	}
	if !d.opts.RemoveOrphans {
		d.warn(fmt.Sprintf("the stack has services the project does not: %s; deploy --remove-orphans removes them", strings.Join(names, ", ")))
		return nil
	}
	for _, name := range names {
		id := d.current[name].ID
		err := d.change(ctx, orchestrator.KindService, name, orchestrator.Removing, orchestrator.Removed, "orphan", func(ctx context.Context) error {
			return d.e.RemoveService(ctx, id)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// pruneObjects removes the stack's configs and secrets no service of the
// plan uses any more: the old contents of changed ones. One still mounted
// by a task being replaced cannot go yet; the next deploy removes it.
func (d *deployer) pruneObjects(ctx context.Context) {
	if d.opts.DryRun {
		return
	}
	keep := map[string]bool{}
	for _, o := range slices.Concat(d.plan.Configs, d.plan.Secrets) {
		keep[o.Name] = true
	}
	for _, k := range []struct {
		ids    map[string]string
		remove func(context.Context, string) error
	}{{d.configIDs, d.e.RemoveConfig}, {d.secretIDs, d.e.RemoveSecret}} {
		for _, name := range slices.Sorted(maps.Keys(k.ids)) {
			if keep[name] || slices.Contains(d.plan.ExternalConfigs, name) || slices.Contains(d.plan.ExternalSecrets, name) {
				continue
			}
			id := k.ids[name]
			_ = d.send(ctx, func(ctx context.Context) error { return k.remove(ctx, id) })
		}
	}
}
