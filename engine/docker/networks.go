package docker

import (
	"context"
	"fmt"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"github.com/composer-orchestrator/composer/engine"
)

// ListNetworks lists networks with one call; the engine applies the label
// filters. The name filter is the engine's: a substring match.
func (e *Engine) ListNetworks(ctx context.Context, filter engine.Filter) ([]engine.Network, error) {
	f := client.Filters{}
	addLabelFilters(f, filter.Labels)
	if filter.Name != "" {
		f.Add("name", filter.Name)
	}
	res, err := e.cli.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return nil, translate(err)
	}
	out := make([]engine.Network, 0, len(res.Items))
	for _, n := range res.Items {
		out = append(out, fromNetwork(n.Network))
	}
	return out, nil
}

// InspectNetwork finds a network by exact name or full id. The engine also
// resolves an id prefix, so asking for a network "ab" that does not exist
// can return a network whose id starts with "ab"; that is reported as not
// found here.
func (e *Engine) InspectNetwork(ctx context.Context, name string) (engine.Network, error) {
	res, err := e.cli.NetworkInspect(ctx, name, client.NetworkInspectOptions{})
	if err != nil {
		return engine.Network{}, translate(err)
	}
	n := res.Network.Network
	if n.Name != name && n.ID != name {
		return engine.Network{}, fmt.Errorf("%w: network %s not found (the engine matched %s by id prefix)", engine.ErrNotFound, name, n.Name)
	}
	return fromNetwork(n), nil
}

// CreateNetwork creates a network and returns its id. Engines before API
// 1.44 create a second network of the same name unless asked not to, which
// the current API types can no longer ask; there a list call checks the
// name first. That check races with a concurrent create of the same name.
func (e *Engine) CreateNetwork(ctx context.Context, spec engine.NetworkSpec) (string, error) {
	opts, err := toNetworkCreate(spec)
	if err != nil {
		return "", err
	}
	if !e.atLeast(apiMultiNetworkCreate) {
		f := client.Filters{}
		f.Add("name", spec.Name)
		res, err := e.cli.NetworkList(ctx, client.NetworkListOptions{Filters: f})
		if err != nil {
			return "", fmt.Errorf("looking for a network of the same name: %w", translate(err))
		}
		for _, n := range res.Items {
			if n.Name == spec.Name {
				return "", fmt.Errorf("%w: network with name %s already exists", engine.ErrConflict, spec.Name)
			}
		}
	}
	res, err := e.cli.NetworkCreate(ctx, spec.Name, opts)
	if err != nil {
		return "", translate(err)
	}
	return res.ID, nil
}

// RemoveNetwork removes a network. The engine refuses a network that running
// containers use with 403 Forbidden ("... has active endpoints"), reported
// here as engine.ErrConflict. Containers that are only created have no
// endpoint yet, and Docker 20.10 removes their network without complaint.
func (e *Engine) RemoveNetwork(ctx context.Context, id string) error {
	_, err := e.cli.NetworkRemove(ctx, id, client.NetworkRemoveOptions{})
	if err == nil {
		return nil
	}
	// 403 is the engine's answer for a network in use (and for a
	// predefined network, which composer never removes: it removes only
	// what carries its labels).
	if cerrdefs.IsPermissionDenied(err) {
		return fmt.Errorf("%w: %s", engine.ErrConflict, err.Error())
	}
	return translate(err)
}
