package orchestrator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/format"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/graph"
	"github.com/composer-orchestrator/composer/labels"
)

// RunOptions describe a one-off container (composer run).
type RunOptions struct {
	Service string
	// Command replaces the service's command when not nil.
	Command []string
	// Entrypoint replaces the service's entrypoint when not nil.
	Entrypoint []string
	// Env adds KEY=VALUE (or KEY, taken from Environ) entries.
	Env     []string
	Environ func(string) (string, bool)
	Labels  []string
	Name    string
	User    string
	Workdir string
	// Volumes and Ports add mounts and published ports, docker run style.
	Volumes []string
	Ports   []string
	// ServicePorts publishes the service's ports; without it a one-off
	// container publishes none, so it cannot clash with the service.
	ServicePorts bool
	// UseAliases gives the container the service's network aliases.
	UseAliases  bool
	NoDeps      bool
	TTY         bool
	Interactive bool
	Images      ImageOptions
}

// RunPrepare brings up the service's dependencies (unless NoDeps), waits
// for their conditions and creates the one-off container, unstarted. It
// returns the container's id and name.
func (o *Orchestrator) RunPrepare(ctx context.Context, p *types.Project, opts RunOptions) (string, string, error) {
	s, err := p.GetService(opts.Service)
	if err != nil {
		return "", "", fmt.Errorf("no such service: %s", opts.Service)
	}
	if !opts.NoDeps {
		if err := o.upDependencies(ctx, p, s, opts.Images); err != nil {
			return "", "", err
		}
	}
	st, ids, err := o.prepareOneOff(ctx, p, opts)
	if err != nil {
		return "", "", err
	}
	if s, err = applyRunOptions(s, p, opts); err != nil {
		return "", "", err
	}
	spec, err := o.oneOffSpec(ctx, p, s, st, ids[s.Name], opts)
	if err != nil {
		return "", "", err
	}
	o.emit(KindContainer, spec.Name, Creating, false, "")
	id, err := o.eng.CreateContainer(ctx, spec)
	if err != nil {
		o.fail(KindContainer, spec.Name, err)
		return "", "", fmt.Errorf("creating container %s: %w", spec.Name, err)
	}
	o.emit(KindContainer, spec.Name, Created, true, "")
	return id, spec.Name, nil
}

// upDependencies brings up what s depends on and waits for the
// conditions s puts on them.
func (o *Orchestrator) upDependencies(ctx context.Context, p *types.Project, s types.ServiceConfig, images ImageOptions) error {
	g, err := graph.FromProject(p)
	if err != nil {
		return err
	}
	var deps []string
	for _, d := range g.WithDependencies(s.Name) {
		if d != s.Name {
			deps = append(deps, d)
		}
	}
	if len(deps) == 0 {
		return nil
	}
	dp, err := p.WithSelectedServices(deps)
	if err != nil {
		return err
	}
	if err := o.Up(ctx, dp.WithoutUnnecessaryResources(), UpOptions{Recreate: RecreateDiverged, Images: images}); err != nil {
		return err
	}
	return o.waitFor(ctx, p, s)
}

// prepareOneOff makes sure the networks, volumes and image the service
// itself uses exist, and returns the project's state and the image id.
func (o *Orchestrator) prepareOneOff(ctx context.Context, p *types.Project, opts RunOptions) (State, map[string]string, error) {
	one, err := p.WithSelectedServices([]string{opts.Service}, types.IgnoreDependencies)
	if err != nil {
		return State{}, nil, err
	}
	one = one.WithoutUnnecessaryResources()
	st, err := o.Observe(ctx, p.Name)
	if err != nil {
		return State{}, nil, err
	}
	if err := o.ensureResources(ctx, one, PlanUp(one, st, Desired{}, RecreateNever)); err != nil {
		return State{}, nil, err
	}
	ids, err := o.ensureImages(ctx, one, opts.Images)
	if err != nil {
		return State{}, nil, err
	}
	return st, ids, nil
}

// oneOffSpec is the spec of the one-off container of s (already adjusted
// by the run options).
func (o *Orchestrator) oneOffSpec(ctx context.Context, p *types.Project, s types.ServiceConfig, st State, imageID string, opts RunOptions) (engine.ContainerSpec, error) {
	hash, err := ServiceHash(s)
	if err != nil {
		return engine.ContainerSpec{}, err
	}
	slug := randomHex(32)
	name := opts.Name
	if name == "" {
		name = fmt.Sprintf("%s-%s-run-%s", p.Name, s.Name, slug[:12])
	}
	spec, err := containerSpec(specInput{
		project: p, service: s, name: name, number: 1, hash: hash, imageID: imageID, oneOff: true,
		containerOf: func(svc string) (string, error) {
			for _, c := range st.ServiceContainers(svc) {
				return c.ID, nil
			}
			cs, err := o.containers(ctx, Target{Project: p.Name, Services: []string{svc}}, false)
			if err != nil || len(cs) == 0 {
				return "", fmt.Errorf("no container found for service %q", svc)
			}
			return cs[0].ID, nil
		},
	})
	if err != nil {
		return engine.ContainerSpec{}, err
	}
	spec.Labels[labels.Slug] = slug
	if opts.UseAliases {
		ep := endpoints(p, s, false)
		for i := range spec.Networks {
			for _, e := range ep {
				if e.Network == spec.Networks[i].Network {
					spec.Networks[i].Aliases = e.Aliases
				}
			}
		}
	}
	spec.TTY = opts.TTY
	spec.OpenStdin, spec.StdinOnce, spec.AttachStdin = opts.Interactive, opts.Interactive, opts.Interactive
	spec.AttachStdout, spec.AttachStderr = true, true
	spec.Restart = engine.RestartPolicy{}
	return spec, nil
}

// waitFor waits for the depends_on conditions of s on the project's
// containers.
func (o *Orchestrator) waitFor(ctx context.Context, p *types.Project, s types.ServiceConfig) error {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := o.watch(wctx, p.Name)
	all, err := o.listContainers(ctx, p.Name)
	if err != nil {
		return err
	}
	st := State{Containers: all}
	var deps []dependency
	for _, dep := range sortedKeys(s.DependsOn) {
		cond := s.DependsOn[dep]
		deps = append(deps, dependency{service: dep, condition: cond.Condition, required: cond.Required, containers: st.ServiceContainers(dep)})
	}
	return o.waitDependencies(ctx, w, s.Name, deps)
}

func applyRunOptions(s types.ServiceConfig, p *types.Project, opts RunOptions) (types.ServiceConfig, error) {
	if opts.Command != nil {
		s.Command = opts.Command
	}
	if opts.Entrypoint != nil {
		s.Entrypoint = opts.Entrypoint
		if opts.Command == nil {
			s.Command = nil
		}
	}
	if opts.User != "" {
		s.User = opts.User
	}
	if opts.Workdir != "" {
		s.WorkingDir = opts.Workdir
	}
	env := types.MappingWithEquals{}
	for k, v := range s.Environment {
		env[k] = v
	}
	for _, kv := range resolveEnv(opts.Env, opts.Environ) {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = &v
	}
	s.Environment = env
	if len(opts.Labels) > 0 {
		l := types.Labels{}
		for k, v := range s.Labels {
			l[k] = v
		}
		for _, kv := range opts.Labels {
			k, v, _ := strings.Cut(kv, "=")
			l[k] = v
		}
		s.Labels = l
	}
	if !opts.ServicePorts {
		s.Ports = nil
	}
	for _, spec := range opts.Ports {
		pcs, err := types.ParsePortConfig(spec)
		if err != nil {
			return s, fmt.Errorf("invalid port %q: %w", spec, err)
		}
		s.Ports = append(s.Ports, pcs...)
	}
	vols := append([]types.ServiceVolumeConfig{}, s.Volumes...)
	for _, spec := range opts.Volumes {
		v, err := format.ParseVolume(spec)
		if err != nil {
			return s, fmt.Errorf("invalid volume %q: %w", spec, err)
		}
		if v.Type == types.VolumeTypeBind && !filepath.IsAbs(v.Source) {
			v.Source = filepath.Join(p.WorkingDir, v.Source)
		}
		if v.Type == types.VolumeTypeVolume && v.Source != "" {
			if _, ok := p.Volumes[v.Source]; !ok {
				return s, fmt.Errorf("volume %q is not declared in the project", v.Source)
			}
		}
		vols = append(vols, v)
	}
	s.Volumes = vols
	return s, nil
}

func randomHex(n int) string {
	b := make([]byte, n/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// WaitExit waits until a container has stopped and returns its exit code.
func (o *Orchestrator) WaitExit(ctx context.Context, project, id string) (int, error) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := o.watch(wctx, project)
	code := 0
	err := w.until(ctx, id, func(d engine.ContainerDetails) (bool, error) {
		code = d.ExitCode
		return d.State == engine.StateExited || d.State == engine.StateDead, nil
	})
	return code, err
}
