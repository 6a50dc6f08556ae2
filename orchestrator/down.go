package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"golang.org/x/sync/errgroup"

	"github.com/composer/composer/engine"
	"github.com/composer/composer/graph"
	"github.com/composer/composer/labels"
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
	// Parallel bounds concurrent engine operations; 0 means no bound.
	Parallel int
}

// Down stops and removes a project's containers in reverse dependency
// order, then its networks, and with Volumes its volumes. Only resources
// labelled with the project are touched. p may be nil: everything then
// comes from the labels.
func (o *Orchestrator) Down(ctx context.Context, name string, p *types.Project, opts DownOptions) error {
	st, err := o.Observe(ctx, name)
	if err != nil {
		return err
	}
	containers := st.Containers
	if p != nil && !opts.RemoveOrphans {
		orphaned := map[string]bool{}
		for _, c := range orphans(p, st) {
			orphaned[c.ID] = true
		}
		if len(orphaned) > 0 {
			var keep []engine.Container
			var names []string
			for _, c := range containers {
				if orphaned[c.ID] {
					names = append(names, c.Name)
				} else {
					keep = append(keep, c)
				}
			}
			containers = keep
			o.warn("Found orphan containers (%s) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.", strings.Join(names, ", "))
		}
	}
	if err := o.removeInOrder(ctx, containers, opts.Timeout, opts.Volumes, opts.Parallel); err != nil {
		return err
	}
	if opts.Volumes {
		o.removeInherited(ctx, containers)
	}
	var errs []error
	eg, ectx := errgroup.WithContext(ctx)
	for _, n := range st.Networks {
		eg.Go(func() error {
			o.emit(KindNetwork, n.Name, Removing, false, "")
			err := o.eng.RemoveNetwork(ectx, n.ID)
			switch {
			case err == nil || errors.Is(err, engine.ErrNotFound):
				o.emit(KindNetwork, n.Name, Removed, true, "")
			case errors.Is(err, engine.ErrConflict):
				// Still in use (an orphan kept, or a container of another
				// project): leave it and say so rather than fail the down.
				o.emit(KindNetwork, n.Name, Warning, true, "still in use, not removed")
			default:
				o.emit(KindNetwork, n.Name, Error, true, err.Error())
				return fmt.Errorf("removing network %s: %w", n.Name, err)
			}
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		errs = append(errs, err)
	}
	if opts.Volumes {
		eg, ectx := errgroup.WithContext(ctx)
		for _, v := range st.Volumes {
			if p != nil && isExternalVolume(p, v.Name) {
				continue
			}
			eg.Go(func() error {
				o.emit(KindVolume, v.Name, Removing, false, "")
				if err := o.eng.RemoveVolume(ectx, v.Name, false); err != nil && !errors.Is(err, engine.ErrNotFound) {
					o.emit(KindVolume, v.Name, Error, true, err.Error())
					return fmt.Errorf("removing volume %s: %w", v.Name, err)
				}
				o.emit(KindVolume, v.Name, Removed, true, "")
				return nil
			})
		}
		if err := eg.Wait(); err != nil {
			errs = append(errs, err)
		}
	}
	if opts.RemoveImages != "" && p != nil {
		if err := o.removeImages(ctx, p, opts.RemoveImages); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// removeInherited removes the anonymous volumes that recreated containers
// took over from the containers they replaced. The engine treats a volume
// mounted by name as named, so removing the container with its volumes
// leaves them behind.
func (o *Orchestrator) removeInherited(ctx context.Context, cs []engine.Container) {
	for _, c := range cs {
		if c.Labels[labels.Replace] == "" {
			continue
		}
		for _, m := range c.Mounts {
			if m.Type != "volume" || !anonymousName.MatchString(m.Name) {
				continue
			}
			err := o.eng.RemoveVolume(ctx, m.Name, false)
			if err != nil && !errors.Is(err, engine.ErrNotFound) {
				o.emit(KindVolume, m.Name, Warning, true, "not removed: "+err.Error())
			}
		}
	}
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

// removeInOrder removes containers service by service, dependents before
// their dependencies, using the depends_on label each container carries
// so that no compose file is needed.
func (o *Orchestrator) removeInOrder(ctx context.Context, cs []engine.Container, timeout *time.Duration, volumes bool, parallel int) error {
	g, byService := labelGraph(cs)
	return g.Walk(ctx, graph.WalkOptions{Reverse: true, Parallel: parallel}, func(ctx context.Context, svc string) error {
		return o.removeContainers(ctx, byService[svc], timeout, volumes)
	})
}

// labelGraph rebuilds the service graph from containers' labels. Edges to
// services with no container are dropped; should the labels form a cycle
// (they cannot, unless edited by hand), the graph has no edges at all.
func labelGraph(cs []engine.Container) (*graph.Graph, map[string][]engine.Container) {
	byService := map[string][]engine.Container{}
	for _, c := range cs {
		svc := c.Labels[labels.Service]
		byService[svc] = append(byService[svc], c)
	}
	nodes := make([]string, 0, len(byService))
	deps := map[string][]string{}
	for svc, list := range byService {
		nodes = append(nodes, svc)
		for _, c := range list {
			for _, d := range strings.Split(c.Labels[labels.DependsOn], ",") {
				dep, _, _ := strings.Cut(d, ":")
				if _, ok := byService[dep]; ok && dep != svc {
					deps[svc] = append(deps[svc], dep)
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

func (o *Orchestrator) removeImages(ctx context.Context, p *types.Project, which string) error {
	var errs []error
	seen := map[string]bool{}
	for _, name := range p.ServiceNames() {
		s := p.Services[name]
		ref := imageName(p, s)
		if seen[ref] || (which == "local" && s.Image != "") {
			continue
		}
		seen[ref] = true
		o.emit(KindImage, ref, Removing, false, "")
		if err := o.eng.RemoveImage(ctx, ref, false); err != nil && !errors.Is(err, engine.ErrNotFound) {
			o.emit(KindImage, ref, Error, true, err.Error())
			errs = append(errs, fmt.Errorf("removing image %s: %w", ref, err))
			continue
		}
		o.emit(KindImage, ref, Removed, true, "")
	}
	return errors.Join(errs...)
}
