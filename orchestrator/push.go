package orchestrator

import (
	"context"
	"fmt"

	"github.com/compose-spec/compose-go/v2/types"
	"golang.org/x/sync/errgroup"

	"github.com/composer-orchestrator/composer/engine"
)

const (
	Pushing Status = "Pushing"
	Pushed  Status = "Pushed"
	Skipped Status = "Skipped"
)

// PushOptions tune composer push.
type PushOptions struct {
	// Services to push; empty means all.
	Services []string
	// IncludeDeps also pushes the images of the services' dependencies.
	IncludeDeps bool
	// IgnoreFailures reports failed pushes as warnings and goes on.
	IgnoreFailures bool
	// Quiet reports a push's start and end but not its progress.
	Quiet bool
}

// PushServices pushes the images of the project's services that build
// one and name it: as docker compose does, a service with no build
// section (its image comes from elsewhere) or no image name (its image
// is named after the project) is skipped. The image and every build.tags
// entry are pushed; a reference shared by several services is pushed once.
func (o *Orchestrator) PushServices(ctx context.Context, p *types.Project, opts PushOptions) error {
	names, err := pullSelection(p, PullOptions{Services: opts.Services, IncludeDeps: opts.IncludeDeps})
	if err != nil {
		return err
	}
	refs := map[string]string{} // reference -> the service that names it first
	for _, name := range names {
		s := p.Services[name]
		if s.Build == nil || s.Image == "" {
			o.emit(KindService, name, Skipped, true, "")
			continue
		}
		for _, ref := range append([]string{s.Image}, s.Build.Tags...) {
			if _, seen := refs[ref]; !seen {
				refs[ref] = name
			}
		}
	}
	eg, ectx := errgroup.WithContext(ctx)
	for _, ref := range sortedKeys(refs) {
		service := refs[ref]
		eg.Go(func() error {
			err := o.push(ectx, ref, opts.Quiet)
			if err == nil {
				return nil
			}
			err = fmt.Errorf("service %q: pushing image %q: %w", service, ref, err)
			if opts.IgnoreFailures {
				o.warn("%v", err)
				return nil
			}
			return err
		})
	}
	return eg.Wait()
}

func (o *Orchestrator) push(ctx context.Context, ref string, quiet bool) error {
	o.emit(KindImage, ref, Pushing, false, "")
	err := o.eng.PushImage(ctx, ref, func(l engine.ProgressLine) {
		if l.Status != "" && !quiet {
			detail := l.Status
			if l.ID != "" {
				detail = l.ID + ": " + l.Status
			}
			o.emit(KindImage, ref, Pushing, false, detail)
		}
	})
	if err != nil {
		o.fail(KindImage, ref, err)
		return err
	}
	o.emit(KindImage, ref, Pushed, true, "")
	return nil
}
