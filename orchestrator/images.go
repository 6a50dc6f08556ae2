package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/compose-spec/compose-go/v2/types"
	"golang.org/x/sync/errgroup"

	"github.com/composer-orchestrator/composer/engine"
)

// ImageOptions say how up obtains images.
type ImageOptions struct {
	// Pull overrides every service's pull_policy when set
	// ("always", "missing", "never", "build").
	Pull string
	// Build builds images of services with a build section before up
	// (up --build); NoBuild never builds.
	Build, NoBuild bool
	// QuietPull reports a pull's start and end but not its progress.
	QuietPull bool
}

// ensureImages makes sure every service's image exists, pulling or
// building as the pull policy says, and returns each service's image id.
// Services sharing an image share one pull.
func (o *Orchestrator) ensureImages(ctx context.Context, p *types.Project, opts ImageOptions) (map[string]string, error) {
	ids := map[string]string{}
	// mu guards ids, written by concurrent pulls of different images.
	var mu sync.Mutex
	byRef := map[string][]string{}
	for _, name := range p.ServiceNames() {
		ref := ImageName(p, p.Services[name])
		byRef[ref] = append(byRef[ref], name)
	}
	// Not bounded here: pulls and builds take engine slots (limitedEngine).
	eg, ctx := errgroup.WithContext(ctx)
	for _, ref := range sortedKeys(byRef) {
		services := byRef[ref]
		eg.Go(func() error {
			id, err := o.ensureImage(ctx, p, ref, services, opts)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			for _, s := range services {
				ids[s] = id
			}
			return nil
		})
	}
	return ids, eg.Wait()
}

func (o *Orchestrator) ensureImage(ctx context.Context, p *types.Project, ref string, services []string, opts ImageOptions) (string, error) {
	first := p.Services[services[0]]
	var buildable *types.ServiceConfig
	for _, name := range services {
		if s := p.Services[name]; s.Build != nil {
			buildable = &s
			break
		}
	}
	policy := first.PullPolicy
	if opts.Pull != "" {
		policy = opts.Pull
	}
	if buildable != nil && !opts.NoBuild && (opts.Build || policy == types.PullPolicyBuild) {
		return o.buildService(ctx, p, *buildable)
	}
	img, err := o.eng.InspectImage(ctx, ref)
	present := err == nil
	if err != nil && !errors.Is(err, engine.ErrNotFound) {
		return "", fmt.Errorf("service %q: inspecting image %q: %w", first.Name, ref, err)
	}
	switch {
	case policy == types.PullPolicyAlways:
	case present:
		return img.ID, nil
	case buildable != nil && !opts.NoBuild:
		return o.buildService(ctx, p, *buildable)
	case policy == types.PullPolicyNever:
		return "", fmt.Errorf("service %q: image %q is not present and pull_policy is never", first.Name, ref)
	}
	if err := o.pull(ctx, ref, first.Platform, opts.QuietPull); err != nil {
		if present && opts.Pull == "" {
			// pull_policy: always with a local copy: keep going with it.
			o.warn("service %q: pulling %q failed, using the local image: %v", first.Name, ref, err)
			return img.ID, nil
		}
		return "", fmt.Errorf("service %q: pulling image %q: %w", first.Name, ref, err)
	}
	img, err = o.eng.InspectImage(ctx, ref)
	if err != nil {
		return "", fmt.Errorf("service %q: inspecting image %q after pull: %w", first.Name, ref, err)
	}
	return img.ID, nil
}

// pull pulls one image, reporting progress. Its error is the engine's:
// callers say which service and image it was about.
func (o *Orchestrator) pull(ctx context.Context, ref, platform string, quiet bool) error {
	o.emit(KindImage, ref, Pulling, false, "")
	err := o.eng.PullImage(ctx, ref, platform, func(l engine.ProgressLine) {
		if l.Status != "" && !quiet {
			o.emit(KindImage, ref, Pulling, false, l.Status)
		}
	})
	if err != nil {
		o.fail(KindImage, ref, err)
		return err
	}
	o.emit(KindImage, ref, Pulled, true, "")
	return nil
}
