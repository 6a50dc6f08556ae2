package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/composer-orchestrator/composer/stack"
)

type deployOptions struct {
	removeOrphans bool
	waitTimeout   int
}

// deployCommand deploys the project to the engine's swarm as a stack.
func (a *app) deployCommand() *cobra.Command {
	var o deployOptions
	cmd := &cobra.Command{
		Use:   "deploy [OPTIONS]",
		Short: "Deploy the project to a Docker Swarm as a stack, in dependency order",
		Long: "Deploy the project, as loaded for up (files, profiles, .env, interpolation), to the swarm the engine manages, " +
			"as a stack named after the project that docker stack sees. A service is created once the services it depends on " +
			"meet their conditions; a service whose spec is unchanged is not updated.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.waitTimeout <= 0 {
				return usageError(cmd, fmt.Sprintf("invalid --wait-timeout %d: want a number of seconds above 0", o.waitTimeout))
			}
			ctx := cmd.Context()
			p, err := a.loadProject(ctx)
			if err != nil {
				return err
			}
			e, err := a.stackEngine(ctx)
			if err != nil {
				return err
			}
			display := a.progress()
			defer display.Close()
			return a.lockStack(ctx, p.Name, func() error {
				return stack.Deploy(ctx, e, p, display, stack.DeployOptions{
					DryRun:        a.global.dryRun,
					RemoveOrphans: o.removeOrphans || a.envBool("COMPOSE_REMOVE_ORPHANS"),
					WaitTimeout:   time.Duration(o.waitTimeout) * time.Second,
					Abandon:       a.hard,
					Parallel:      a.parallel(),
				})
			})
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.removeOrphans, "remove-orphans", false, "Remove the stack's services that are not in the project")
	f.BoolVar(&o.removeOrphans, "prune", false, "Same as --remove-orphans (docker stack deploy's name)")
	f.IntVar(&o.waitTimeout, "wait-timeout", 600, "Seconds to wait for each dependency to meet its condition")
	return cmd
}

type undeployOptions struct {
	volumes bool
	timeout int
}

// undeployCommand removes the project's stack from the swarm.
func (a *app) undeployCommand() *cobra.Command {
	var o undeployOptions
	cmd := &cobra.Command{
		Use:   "undeploy [OPTIONS]",
		Short: "Remove the project's stack from the swarm: services, networks, configs and secrets",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.timeout <= 0 {
				return usageError(cmd, fmt.Sprintf("invalid --timeout %d: want a number of seconds above 0", o.timeout))
			}
			ctx := cmd.Context()
			name, _, err := a.projectName(ctx)
			if err != nil {
				return err
			}
			e, err := a.stackEngine(ctx)
			if err != nil {
				return err
			}
			display := a.progress()
			defer display.Close()
			return a.lockStack(ctx, name, func() error {
				return stack.Undeploy(ctx, e, name, display, stack.UndeployOptions{
					DryRun:  a.global.dryRun,
					Volumes: o.volumes,
					Timeout: time.Duration(o.timeout) * time.Second,
					Abandon: a.hard,
				})
			})
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.volumes, "volumes", "v", false, "Also remove the stack's volumes on this node")
	f.IntVarP(&o.timeout, "timeout", "t", 120, "Seconds to wait for the stack's containers to go before removing its networks and volumes")
	return cmd
}

// stackEngine connects to the engine, for the commands that manage a
// swarm stack.
func (a *app) stackEngine(ctx context.Context) (stack.Engine, error) {
	if err := a.connectOnce(ctx); err != nil {
		return nil, err
	}
	if a.conn.stack == nil {
		return nil, fmt.Errorf("this engine connection cannot manage a swarm")
	}
	return a.conn.stack, nil
}

// lockStack runs fn holding the lock of the project's stack on this
// engine, so that two deploys of one stack do not race; a dry run changes
// nothing and takes none. The stack's lock is apart from the project's:
// deploy and up of one project touch different things.
func (a *app) lockStack(ctx context.Context, name string, fn func() error) error {
	if a.global.dryRun {
		return fn()
	}
	key, err := a.stateKey(name)
	if err != nil {
		return err
	}
	key.Project += ".stack"
	lock, err := a.lock(ctx, key, "stack", name)
	if err != nil {
		return err
	}
	defer func() { _ = lock.Release() }()
	return fn()
}
