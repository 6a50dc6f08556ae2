package docker

import (
	"context"

	"github.com/moby/moby/client"

	"github.com/composer-orchestrator/composer/engine"
)

// ListVolumes lists volumes with one call; the engine applies the label
// filters.
func (e *Engine) ListVolumes(ctx context.Context, filter engine.Filter) ([]engine.Volume, error) {
	f := client.Filters{}
	addLabelFilters(f, filter.Labels)
	if filter.Name != "" {
		f.Add("name", filter.Name)
	}
	res, err := e.cli.VolumeList(ctx, client.VolumeListOptions{Filters: f})
	if err != nil {
		return nil, translate(err)
	}
	out := make([]engine.Volume, 0, len(res.Items))
	for _, v := range res.Items {
		out = append(out, fromVolume(v))
	}
	return out, nil
}

// InspectVolume finds a volume by name.
func (e *Engine) InspectVolume(ctx context.Context, name string) (engine.Volume, error) {
	res, err := e.cli.VolumeInspect(ctx, name, client.VolumeInspectOptions{})
	if err != nil {
		return engine.Volume{}, translate(err)
	}
	return fromVolume(res.Volume), nil
}

// CreateVolume creates a volume. The engine treats creating an existing
// volume (same name, same driver) as success and returns it unchanged, with
// its old labels: callers that care compare the returned labels.
func (e *Engine) CreateVolume(ctx context.Context, spec engine.VolumeSpec) (engine.Volume, error) {
	res, err := e.cli.VolumeCreate(ctx, client.VolumeCreateOptions{
		Name:       spec.Name,
		Driver:     spec.Driver,
		DriverOpts: spec.DriverOpts,
		Labels:     spec.Labels,
	})
	if err != nil {
		return engine.Volume{}, translate(err)
	}
	return fromVolume(res.Volume), nil
}

// RemoveVolume removes a volume; one in use is refused with
// engine.ErrConflict.
func (e *Engine) RemoveVolume(ctx context.Context, name string, force bool) error {
	if _, err := e.cli.VolumeRemove(ctx, name, client.VolumeRemoveOptions{Force: force}); err != nil {
		return translate(err)
	}
	return nil
}
