package orchestrator

import (
	"context"
	"errors"
	"fmt"

	"github.com/compose-spec/compose-go/v2/types"
	"golang.org/x/sync/errgroup"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/graph"
)

// PullOptions tune composer pull.
type PullOptions struct {
	// Services to pull; empty means all.
	Services []string
	// IncludeDeps also pulls the images of the services' dependencies.
	IncludeDeps bool
	// IgnoreFailures reports failed pulls as warnings and goes on.
	IgnoreFailures bool
	// Missing pulls only images that are not present (--policy missing).
	Missing bool
	// Quiet reports a pull's start and end but not its progress.
	Quiet bool
}

// PullServices pulls the images of the project's services. A service with
// only a build section has nothing to pull; services sharing an image
// share one pull.
func (o *Orchestrator) PullServices(ctx context.Context, p *types.Project, opts PullOptions) error {
	names, err := pullSelection(p, opts)
	if err != nil {
		return err
	}
	refs := map[string]types.ServiceConfig{}
	for _, name := range names {
		s := p.Services[name]
		if s.Image == "" {
			continue
		}
		if _, seen := refs[s.Image]; seen {
			continue
		}
		if opts.Missing {
			_, err := o.eng.InspectImage(ctx, s.Image)
			if err == nil {
				continue
			}
			if !errors.Is(err, engine.ErrNotFound) {
				return fmt.Errorf("service %q: inspecting image %q: %w", name, s.Image, err)
			}
		}
		refs[s.Image] = s
	}
	eg, ectx := errgroup.WithContext(ctx)
	for _, ref := range sortedKeys(refs) {
		s := refs[ref]
		eg.Go(func() error {
			err := o.pull(ectx, ref, s.Platform, opts.Quiet)
			if err == nil {
				return nil
			}
			err = fmt.Errorf("service %q: pulling image %q: %w", s.Name, ref, err)
			if opts.IgnoreFailures {
				o.warn("%v", err)
				return nil
			}
			return err
		})
	}
	return eg.Wait()
}

// pullSelection names the services to pull, checking that they exist.
func pullSelection(p *types.Project, opts PullOptions) ([]string, error) {
	if len(opts.Services) == 0 {
		return p.ServiceNames(), nil
	}
	for _, name := range opts.Services {
		if _, ok := p.Services[name]; !ok {
			return nil, fmt.Errorf("no such service: %s", name)
		}
	}
	if !opts.IncludeDeps {
		return opts.Services, nil
	}
	g, err := graph.FromProject(p)
	if err != nil {
		return nil, err
	}
	return g.WithDependencies(opts.Services...), nil
}
