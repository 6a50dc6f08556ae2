package orchestrator

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/composer-orchestrator/composer/engine"
)

// Volumes lists the project's volumes (those carrying its label), sorted
// by name. With services named, only the volumes that their running
// containers mount are listed, as in docker compose, whose list of the
// containers asks for running ones only. One list call per kind.
func (o *Orchestrator) Volumes(ctx context.Context, t Target) ([]engine.Volume, error) {
	vs, err := o.eng.ListVolumes(ctx, projectFilter(t.Project))
	if err != nil {
		return nil, fmt.Errorf("listing volumes: %w", err)
	}
	slices.SortFunc(vs, func(a, b engine.Volume) int { return strings.Compare(a.Name, b.Name) })
	if len(t.Services) == 0 {
		return vs, nil
	}
	cs, err := o.containers(ctx, t, true)
	if err != nil {
		return nil, err
	}
	mounted := map[string]bool{}
	for _, c := range cs {
		if !isUp(c.State) {
			continue
		}
		for _, m := range c.Mounts {
			if m.Name != "" {
				mounted[m.Name] = true
			}
		}
	}
	out := []engine.Volume{}
	for _, v := range vs {
		if mounted[v.Name] {
			out = append(out, v)
		}
	}
	return out, nil
}
