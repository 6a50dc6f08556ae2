package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"golang.org/x/sync/errgroup"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/graph"
	"github.com/composer-orchestrator/composer/labels"
)

// DownOptions tune down.
type DownOptions struct {
	// RemoveOrphans also removes containers of services the project file
	// no longer defines. Without a project file every container of the
	// project is removed anyway.
	RemoveOrphans bool
	// Volumes also removes the project's named volumes and the containers'
	// anonymous volumes.
	Volumes bool
	// Timeout is the stop timeout; nil means each container's own.
	Timeout *time.Duration
	// RemoveImages is "", "local" (images built for the project without a
	// custom name) or "all".
	RemoveImages string
}

// DownPlan is what down will do. It is a value: computing it touches no
// engine.
type DownPlan struct {
	// Containers maps each service to the containers removed, by number.
	Containers map[string][]engine.Container
	// Order is the graph of those services from their depends_on labels;
	// removal walks it in reverse, dependents first.
	Order *graph.Graph
	// AnonymousVolumes removes the containers' anonymous volumes with them.
	AnonymousVolumes bool
	// Inherited are anonymous volumes that recreated containers took over
	// from the containers they replaced. The engine treats a volume
	// mounted by name as named, so removing the container with its
	// volumes leaves them behind: they are removed by name afterwards.
	Inherited []string
	// Orphans are containers of services the project no longer defines,
	// kept (and reported) because orphans were not asked to go.
	Orphans  []engine.Container
	Networks []engine.Network
	Volumes  []engine.Volume
	// Images are the image references removed.
	Images []string
}

// String renders the plan, one line per decision, containers in removal
// order.
func (p DownPlan) String() string {
	var b strings.Builder
	services := p.Order.Order()
	slices.Reverse(services)
	for _, svc := range services {
		for _, c := range p.Containers[svc] {
			fmt.Fprintf(&b, "container %s: remove", c.Name)
			if p.AnonymousVolumes {
				b.WriteString(" (with anonymous volumes)")
			}
			b.WriteString("\n")
		}
	}
	for _, c := range p.Orphans {
		fmt.Fprintf(&b, "orphan %s: keep\n", c.Name)
	}
	for _, v := range p.Inherited {
		fmt.Fprintf(&b, "volume %s: remove (inherited anonymous volume)\n", v)
	}
	for _, n := range p.Networks {
		fmt.Fprintf(&b, "network %s: remove\n", n.Name)
	}
	for _, v := range p.Volumes {
		fmt.Fprintf(&b, "volume %s: remove\n", v.Name)
	}
	for _, img := range p.Images {
		fmt.Fprintf(&b, "image %s: remove\n", img)
	}
	return b.String()
}

// PlanDown decides what down removes of project name, given what the
// engine holds. p may be nil: everything then comes from the labels, and
// there are no orphans since there is no file to compare with. External
// networks and volumes are never removed, and volumes only with Volumes.
func PlanDown(name string, p *types.Project, st State, opts DownOptions) DownPlan {
	plan := DownPlan{AnonymousVolumes: opts.Volumes}
	containers := st.Containers
	if p != nil && !opts.RemoveOrphans {
		plan.Orphans = orphans(p, st)
		containers = without(containers, plan.Orphans)
	}
	plan.Order, plan.Containers = labelGraph(containers)
	if opts.Volumes {
		plan.Inherited = inheritedVolumes(containers)
	}
	for _, n := range st.Networks {
		if p == nil || !isExternalNetwork(p, n.Name) {
			plan.Networks = append(plan.Networks, n)
		}
	}
	if opts.Volumes {
		for _, v := range st.Volumes {
			if p == nil || !isExternalVolume(p, v.Name) {
				plan.Volumes = append(plan.Volumes, v)
			}
		}
	}
	plan.Images = imagesToRemove(name, p, st.Containers, opts.RemoveImages)
	return plan
}

// without returns cs minus the containers in drop.
func without(cs, drop []engine.Container) []engine.Container {
	dropped := map[string]bool{}
	for _, c := range drop {
		dropped[c.ID] = true
	}
	var out []engine.Container
	for _, c := range cs {
		if !dropped[c.ID] {
			out = append(out, c)
		}
	}
	return out
}

// inheritedVolumes lists the anonymous volumes mounted by containers that
// replaced others in a recreate: they took them over from the old ones.
func inheritedVolumes(cs []engine.Container) []string {
	var out []string
	for _, c := range cs {
		if c.Labels[labels.Replace] == "" {
			continue
		}
		for _, m := range c.Mounts {
			if m.Type == "volume" && anonymousName.MatchString(m.Name) && !slices.Contains(out, m.Name) {
				out = append(out, m.Name)
			}
		}
	}
	return out
}

// anonymousName matches the names the engine gives anonymous volumes.
var anonymousName = regexp.MustCompile(`^[0-9a-f]{64}$`)

func isExternalVolume(p *types.Project, name string) bool {
	for _, v := range p.Volumes {
		if v.Name == name && bool(v.External) {
			return true
		}
	}
	return false
}

func isExternalNetwork(p *types.Project, name string) bool {
	for _, n := range p.Networks {
		if n.Name == name && bool(n.External) {
			return true
		}
	}
	return false
}

// imagesToRemove lists the images --rmi removes: with "all" every image the
// services run, with "local" only those built for the project without a
// custom name. Without a project they come from the containers: the image
// each was created from, a local one being named after project and service.
func imagesToRemove(name string, p *types.Project, cs []engine.Container, which string) []string {
	if which == "" {
		return nil
	}
	var out []string
	add := func(ref string, local bool) {
		if ref != "" && (which != "local" || local) && !slices.Contains(out, ref) {
			out = append(out, ref)
		}
	}
	if p != nil {
		for _, svc := range p.ServiceNames() {
			s := p.Services[svc]
			add(ImageName(p, s), s.Image == "")
		}
		return out
	}
	for _, c := range cs {
		add(c.Image, c.Image == name+"-"+c.Labels[labels.Service])
	}
	slices.Sort(out)
	return out
}

// Down stops and removes a project's containers in reverse dependency
// order, then its networks, and with Volumes its volumes. Only resources
// labelled with the project are touched. p may be nil: everything then
// comes from the labels.
//
// A container can appear after down has looked: the engine carries out a
// create sent by an earlier run that was killed. So down looks again once
// it is done, and removes what it finds, a bounded number of times.
func (o *Orchestrator) Down(ctx context.Context, name string, p *types.Project, opts DownOptions) error {
	for round := 0; ; round++ {
		st, err := o.Observe(ctx, name)
		if err != nil {
			return err
		}
		plan := PlanDown(name, p, st, opts)
		if round > 0 && len(plan.Containers) == 0 {
			return nil
		}
		err = o.applyDown(ctx, plan, opts.Timeout)
		if ctx.Err() != nil {
			return o.interruptedDown(ctx, name, p, opts)
		}
		if err != nil || round == downRounds-1 {
			return err
		}
	}
}

// downRounds bounds how often down looks again for containers that
// appeared while it worked.
const downRounds = 3

// interruptedDown lists what an interrupted down left, with one more look
// at the engine: the interrupt let the removals under way finish, so only
// the engine knows which did.
func (o *Orchestrator) interruptedDown(ctx context.Context, name string, p *types.Project, opts DownOptions) error {
	cause := ctx.Err()
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	ie := &InterruptedError{Op: "down", What: "containers not removed", Cause: cause}
	if st, err := o.Observe(lctx, name); err == nil {
		for _, cs := range PlanDown(name, p, st, opts).Containers {
			for _, c := range cs {
				ie.Undone = append(ie.Undone, c.Name)
			}
		}
		slices.Sort(ie.Undone)
	}
	return ie
}

// applyDown carries out a down plan. Containers must be gone before their
// networks and volumes can go; once they are, a failure to remove one
// resource does not stop the others.
func (o *Orchestrator) applyDown(ctx context.Context, plan DownPlan, timeout *time.Duration) error {
	o.warnOrphans(plan.Orphans)
	err := plan.Order.Walk(ctx, graph.WalkOptions{Reverse: true}, func(ctx context.Context, svc string) error {
		return o.removeContainers(ctx, plan.Containers[svc], timeout, plan.AnonymousVolumes)
	})
	if err != nil {
		return err
	}
	o.removeInherited(ctx, plan.Inherited)
	return errors.Join(
		o.removeNetworks(ctx, plan.Networks),
		o.removeVolumes(ctx, plan.Volumes),
		o.removeImages(ctx, plan.Images),
	)
}

// removeInherited removes volumes by name, warning about those that stay:
// they are a leftover, not a reason to fail the down.
func (o *Orchestrator) removeInherited(ctx context.Context, names []string) {
	for _, name := range names {
		err := o.eng.RemoveVolume(ctx, name, false)
		if err != nil && !errors.Is(err, engine.ErrNotFound) {
			o.emit(KindVolume, name, Warning, true, "not removed: "+err.Error())
		}
	}
}

func (o *Orchestrator) removeNetworks(ctx context.Context, networks []engine.Network) error {
	eg, ctx := errgroup.WithContext(ctx)
	for _, n := range networks {
		eg.Go(func() error {
			o.emit(KindNetwork, n.Name, Removing, false, "")
			err := o.eng.RemoveNetwork(ctx, n.ID)
			switch {
			case err == nil || errors.Is(err, engine.ErrNotFound):
				o.emit(KindNetwork, n.Name, Removed, true, "")
			case errors.Is(err, engine.ErrConflict):
				// Still in use (an orphan kept, or a container of another
				// project): leave it and say so rather than fail the down.
				o.emit(KindNetwork, n.Name, Warning, true, "still in use, not removed")
			default:
				o.fail(KindNetwork, n.Name, err)
				return fmt.Errorf("removing network %s: %w", n.Name, err)
			}
			return nil
		})
	}
	return eg.Wait()
}

func (o *Orchestrator) removeVolumes(ctx context.Context, volumes []engine.Volume) error {
	eg, ctx := errgroup.WithContext(ctx)
	for _, v := range volumes {
		eg.Go(func() error {
			o.emit(KindVolume, v.Name, Removing, false, "")
			if err := o.eng.RemoveVolume(ctx, v.Name, false); err != nil && !errors.Is(err, engine.ErrNotFound) {
				o.fail(KindVolume, v.Name, err)
				return fmt.Errorf("removing volume %s: %w", v.Name, err)
			}
			o.emit(KindVolume, v.Name, Removed, true, "")
			return nil
		})
	}
	return eg.Wait()
}

// removeImages removes images one after the other, going on after a
// failure: each image is independent of the others.
func (o *Orchestrator) removeImages(ctx context.Context, refs []string) error {
	var errs []error
	for _, ref := range refs {
		o.emit(KindImage, ref, Removing, false, "")
		if err := o.eng.RemoveImage(ctx, ref, false); err != nil && !errors.Is(err, engine.ErrNotFound) {
			o.fail(KindImage, ref, err)
			errs = append(errs, fmt.Errorf("removing image %s: %w", ref, err))
			continue
		}
		o.emit(KindImage, ref, Removed, true, "")
	}
	return errors.Join(errs...)
}

// labelGraph rebuilds the service graph from containers' labels. Edges to
// services with no container are dropped; should the labels form a cycle
// (they cannot, unless edited by hand), the graph has no edges at all.
func labelGraph(cs []engine.Container) (*graph.Graph, map[string][]engine.Container) {
	byService := groupByService(cs)
	nodes := make([]string, 0, len(byService))
	deps := map[string][]string{}
	for svc, list := range byService {
		nodes = append(nodes, svc)
		for _, c := range list {
			for _, d := range labels.DecodeDependsOn(c.Labels[labels.DependsOn]) {
				if _, ok := byService[d.Service]; ok && d.Service != svc {
					deps[svc] = append(deps[svc], d.Service)
				}
			}
		}
	}
	g, err := graph.New(nodes, deps)
	if err != nil {
		g, _ = graph.New(nodes, nil)
	}
	return g, byService
}

// groupByService groups containers by their service label, keeping order.
func groupByService(cs []engine.Container) map[string][]engine.Container {
	out := map[string][]engine.Container{}
	for _, c := range cs {
		svc := c.Labels[labels.Service]
		out[svc] = append(out[svc], c)
	}
	return out
}
