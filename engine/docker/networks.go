package docker

import (
	"context"
	"fmt"
	"strings"

	"github.com/moby/moby/client"

	"github.com/composer/composer/engine"
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
		return nil, fmt.Errorf("listing networks: %w", translate(err))
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
		return engine.Network{}, fmt.Errorf("inspecting network %s: %w", name, translate(err))
	}
	n := res.Network.Network
	if n.Name != name && n.ID != name {
		return engine.Network{}, fmt.Errorf("inspecting network %s: %w: the engine matched %s (%s) by prefix", name, engine.ErrNotFound, n.Name, n.ID)
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
			return "", fmt.Errorf("creating network %s: %w", spec.Name, translate(err))
		}
		for _, n := range res.Items {
			if n.Name == spec.Name {
				return "", fmt.Errorf("creating network %s: %w: network with name %s already exists", spec.Name, engine.ErrConflict, spec.Name)
			}
		}
	}
	res, err := e.cli.NetworkCreate(ctx, spec.Name, opts)
	if err != nil {
		return "", fmt.Errorf("creating network %s: %w", spec.Name, translate(err))
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
	if strings.Contains(err.Error(), "active endpoints") {
		return fmt.Errorf("removing network %s: %w: %s", id, engine.ErrConflict, err.Error())
	}
	return fmt.Errorf("removing network %s: %w", id, translate(err))
}

// ConnectNetwork attaches a container to a network with the endpoint's
// aliases and addresses.
func (e *Engine) ConnectNetwork(ctx context.Context, network, container string, ep engine.EndpointSpec) error {
	es, err := toEndpointSettings(ep)
	if err != nil {
		return fmt.Errorf("connecting container %s to network %s: %w", container, network, err)
	}
	if _, err := e.cli.NetworkConnect(ctx, network, client.NetworkConnectOptions{Container: container, EndpointConfig: es}); err != nil {
		return fmt.Errorf("connecting container %s to network %s: %w", container, network, translate(err))
	}
	return nil
}
