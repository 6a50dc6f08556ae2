package stack

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/orchestrator"
)

// UndeployOptions tune Undeploy.
type UndeployOptions struct {
	DryRun bool
	// Volumes also removes the stack's volumes on this node, once its task
	// containers are gone.
	Volumes bool
	// Timeout bounds the wait for the task containers to go, which
	// networks and volumes must wait for; zero means two minutes.
	Timeout time.Duration
	Abandon context.Context
	Poll    time.Duration
}

// Undeploy removes the stack named namespace: its services, then, once
// their containers on this node are gone, its networks, configs and
// secrets, and with Volumes its volumes. Like docker stack rm it finds
// them by their namespace label, so it needs no compose file and removes
// what another tool deployed under that name.
func Undeploy(ctx context.Context, e Engine, namespace string, sink orchestrator.Sink, opts UndeployOptions) error {
	if _, err := CheckManager(ctx, e); err != nil {
		return err
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Minute
	}
	d := newDeployer(e, sink, DeployOptions{DryRun: opts.DryRun, Abandon: opts.Abandon, Poll: opts.Poll}, &Plan{Namespace: namespace})
	f := d.stackFilter()
	svcs, err := e.ListServices(ctx, f)
	if err != nil {
		return fmt.Errorf("list the stack's services: %w", err)
	}
	nets, err := e.ListNetworks(ctx, f)
	if err != nil {
		return fmt.Errorf("list the stack's networks: %w", err)
	}
	configs, err := e.ListConfigs(ctx, f)
	if err != nil {
		return fmt.Errorf("list the stack's configs: %w", err)
	}
	secrets, err := e.ListSecrets(ctx, f)
	if err != nil {
		return fmt.Errorf("list the stack's secrets: %w", err)
	}
	var vols []engine.Volume
	if opts.Volumes {
		if vols, err = e.ListVolumes(ctx, f); err != nil {
			return fmt.Errorf("list the stack's volumes: %w", err)
		}
	}
	containers, err := e.ListContainers(ctx, f)
	if err != nil {
		return fmt.Errorf("list the stack's containers: %w", err)
	}
	if len(svcs)+len(nets)+len(configs)+len(secrets)+len(vols)+len(containers) == 0 {
		d.warn(fmt.Sprintf("nothing to remove: the swarm has no stack %s", namespace))
		return nil
	}
	slices.SortFunc(svcs, func(a, b engine.Service) int { return cmp.Compare(a.Spec.Name, b.Spec.Name) })
	var errs []error
	for _, s := range svcs {
		errs = append(errs, d.remove(ctx, orchestrator.KindService, s.Spec.Name, func(ctx context.Context) error { return e.RemoveService(ctx, s.ID) }))
	}
	for _, c := range configs {
		errs = append(errs, d.remove(ctx, KindConfig, c.Name, func(ctx context.Context) error { return e.RemoveConfig(ctx, c.ID) }))
	}
	for _, s := range secrets {
		errs = append(errs, d.remove(ctx, KindSecret, s.Name, func(ctx context.Context) error { return e.RemoveSecret(ctx, s.ID) }))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if opts.DryRun {
		for _, c := range containers {
			d.emit(orchestrator.KindContainer, c.Name, orchestrator.Removed, true, "")
		}
	} else if err := d.containersGone(ctx, opts.Timeout); err != nil {
		return err
	}
	for _, n := range nets {
		errs = append(errs, d.remove(ctx, orchestrator.KindNetwork, n.Name, func(ctx context.Context) error { return e.RemoveNetwork(ctx, n.ID) }))
	}
	for _, v := range vols {
		errs = append(errs, d.remove(ctx, orchestrator.KindVolume, v.Name, func(ctx context.Context) error { return e.RemoveVolume(ctx, v.Name, false) }))
	}
	if err := errors.Join(errs...); err != nil || opts.DryRun || len(nets) == 0 {
		return err
	}
	return d.networksGone(ctx, opts.Timeout)
}

// networksGone waits until the swarm has let go of the stack's networks:
// it removes an overlay network a moment after saying so, and a deploy
// in that moment would find the network and attach services to it.
func (d *deployer) networksGone(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(d.opts.Poll)
	defer tick.Stop()
	for {
		nets, err := d.e.ListNetworks(ctx, d.stackFilter())
		if err != nil {
			return fmt.Errorf("list the stack's networks: %w", err)
		}
		if len(nets) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("network %s was still there %s after its removal", nets[0].Name, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// remove removes one resource; one already gone is removed.
func (d *deployer) remove(ctx context.Context, kind orchestrator.Kind, name string, req func(ctx context.Context) error) error {
	return d.change(ctx, kind, name, orchestrator.Removing, orchestrator.Removed, "", func(ctx context.Context) error {
		if err := req(ctx); err != nil && !errors.Is(err, engine.ErrNotFound) {
			return err
		}
		return nil
	})
}

// containersGone waits until this node has no running container of the
// stack left, and removes the stopped ones. Networks and volumes are in
// use until then. The node stops the containers of removed services in
// its own time, but leaves some stopped ones behind for good (a job's
// completed task), which would hold the stack's name on the engine.
func (d *deployer) containersGone(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(d.opts.Poll)
	defer tick.Stop()
	for {
		cs, err := d.e.ListContainers(ctx, d.stackFilter())
		if err != nil {
			return fmt.Errorf("list the stack's containers: %w", err)
		}
		running := 0
		for _, c := range cs {
			if c.State == engine.StateRunning || c.State == engine.StateRestarting || c.State == engine.StatePaused || c.State == engine.StateRemoving {
				running++
			}
		}
		if running == 0 {
			var errs []error
			for _, c := range cs {
				errs = append(errs, d.remove(ctx, orchestrator.KindContainer, c.Name, func(ctx context.Context) error {
					return d.e.RemoveContainer(ctx, c.ID, engine.RemoveOptions{Force: true})
				}))
			}
			return errors.Join(errs...)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of the stack's containers on this node still ran after %s; run undeploy again to remove its networks and volumes", running, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}
