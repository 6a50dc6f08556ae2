package orchestrator

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/composer-orchestrator/composer/engine"
)

// VolumeSummary is what volumes shows of one volume.
type VolumeSummary struct {
	Name       string
	Driver     string
	Mountpoint string
	Labels     map[string]string
}

// Volumes lists the project's volumes (those carrying its label), sorted
// by name. With services named, only the volumes that their running
// containers mount are listed, as in docker compose, whose list of the
// containers asks for running ones only. One list call per kind.
func (o *Orchestrator) Volumes(ctx context.Context, t Target) ([]VolumeSummary, error) {
	vs, err := o.eng.ListVolumes(ctx, projectFilter(t.Project))
	if err != nil {
		return nil, fmt.Errorf("listing volumes: %w", err)
	}
	slices.SortFunc(vs, func(a, b engine.Volume) int { return strings.Compare(a.Name, b.Name) })
	if len(t.Services) == 0 {
		return volumeSummaries(vs), nil
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
	vs = slices.DeleteFunc(vs, func(v engine.Volume) bool { return !mounted[v.Name] })
	return volumeSummaries(vs), nil
}

func volumeSummaries(vs []engine.Volume) []VolumeSummary {
	out := make([]VolumeSummary, 0, len(vs))
	for _, v := range vs {
		out = append(out, VolumeSummary{Name: v.Name, Driver: v.Driver, Mountpoint: v.Mountpoint, Labels: v.Labels})
	}
	return out
}
