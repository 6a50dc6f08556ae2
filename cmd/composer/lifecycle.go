package main

import (
	"bufio"
	"fmt"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/spf13/cobra"

	"github.com/composer-orchestrator/composer/orchestrator"
	"github.com/composer-orchestrator/composer/project"
)

// target resolves the project and the services named on the command line
// into an orchestrator target. The project file is optional: the labels
// are enough to find the containers.
func (a *app) target(cmd *cobra.Command, services []string, index int) (orchestrator.Target, error) {
	t, _, err := a.targetProject(cmd, services, index)
	return t, err
}

// readTarget is target for commands that only read the engine (logs,
// ps, top, port, images). Given -p and no compose file (-f or
// COMPOSE_FILE), they work from the engine's labels alone, as docker
// compose's do: the project's files are neither read nor validated, which
// is most of such a command's time on a large project. Services named are
// then matched against the labels, not checked against a file.
func (a *app) readTarget(cmd *cobra.Command, services []string, index int) (orchestrator.Target, error) {
	if name := a.global.projectName; name != "" && len(a.global.files) == 0 {
		if f, _ := a.lookupEnv("COMPOSE_FILE"); f == "" {
			if err := project.ValidateName(name); err != nil {
				return orchestrator.Target{}, err
			}
			return orchestrator.Target{Project: name, Services: services, Index: index}, nil
		}
	}
	return a.target(cmd, services, index)
}

// targetProject is target, and the project when a compose file was found.
func (a *app) targetProject(cmd *cobra.Command, services []string, index int) (orchestrator.Target, *types.Project, error) {
	name, p, err := a.projectName(cmd.Context())
	if err != nil {
		return orchestrator.Target{}, nil, err
	}
	if p != nil {
		for _, s := range services {
			if _, ok := p.Services[s]; !ok {
				if _, ok := p.DisabledServices[s]; !ok {
					return orchestrator.Target{}, nil, fmt.Errorf("no such service: %s", s)
				}
			}
		}
	}
	return orchestrator.Target{Project: name, Services: services, Index: index}, p, nil
}

// lifecycleCommand builds a command that acts on existing containers with
// one orchestrator call, showing its progress.
func (a *app) lifecycleCommand(use, short string, flags func(cmd *cobra.Command), act func(cmd *cobra.Command, orc *orchestrator.Orchestrator, t orchestrator.Target, p *types.Project) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:               use,
		Short:             short,
		ValidArgsFunction: a.completeServices,
		RunE: func(cmd *cobra.Command, args []string) error {
			t, p, err := a.targetProject(cmd, args, 0)
			if err != nil {
				return err
			}
			display := a.progress()
			defer display.Close()
			orc, err := a.orchestrator(cmd.Context(), display)
			if err != nil {
				return err
			}
			return a.change(cmd.Context(), orc, cmd.Name(), t.Project, p, func() error { return act(cmd, orc, t, p) })
		},
	}
	if flags != nil {
		flags(cmd)
	}
	return cmd
}

func (a *app) lifecycleCommands() []*cobra.Command {
	return []*cobra.Command{
		a.startCommand(), a.stopCommand(), a.restartCommand(), a.killCommand(),
		a.lifecycleCommand("pause [SERVICE...]", "Pause services", nil,
			func(cmd *cobra.Command, orc *orchestrator.Orchestrator, t orchestrator.Target, _ *types.Project) error {
				return orc.Pause(cmd.Context(), t, false)
			}),
		a.lifecycleCommand("unpause [SERVICE...]", "Unpause services", nil,
			func(cmd *cobra.Command, orc *orchestrator.Orchestrator, t orchestrator.Target, _ *types.Project) error {
				return orc.Pause(cmd.Context(), t, true)
			}),
		a.rmCommand(),
	}
}

func (a *app) startCommand() *cobra.Command {
	var wait bool
	var waitTimeout int
	return a.lifecycleCommand("start [SERVICE...]", "Start services",
		func(cmd *cobra.Command) {
			cmd.Flags().BoolVar(&wait, "wait", false, "Wait for services to be running|healthy")
			cmd.Flags().IntVar(&waitTimeout, "wait-timeout", 0, "Maximum duration in seconds to wait for the project to be running|healthy")
		},
		func(cmd *cobra.Command, orc *orchestrator.Orchestrator, t orchestrator.Target, _ *types.Project) error {
			return orc.Start(cmd.Context(), t, orchestrator.StartOptions{Wait: wait, WaitTimeout: time.Duration(waitTimeout) * time.Second})
		})
}

func (a *app) stopCommand() *cobra.Command {
	var timeout int
	return a.lifecycleCommand("stop [SERVICE...]", "Stop services",
		func(cmd *cobra.Command) {
			cmd.Flags().IntVarP(&timeout, "timeout", "t", -1, "Specify a shutdown timeout in seconds")
		},
		func(cmd *cobra.Command, orc *orchestrator.Orchestrator, t orchestrator.Target, _ *types.Project) error {
			return orc.Stop(cmd.Context(), t, timeoutFlag(timeout))
		})
}

func (a *app) restartCommand() *cobra.Command {
	var timeout int
	var noDeps bool
	return a.lifecycleCommand("restart [SERVICE...]", "Restart service containers",
		func(cmd *cobra.Command) {
			cmd.Flags().IntVarP(&timeout, "timeout", "t", -1, "Specify a shutdown timeout in seconds")
			cmd.Flags().BoolVar(&noDeps, "no-deps", false, "Don't restart dependent services")
		},
		func(cmd *cobra.Command, orc *orchestrator.Orchestrator, t orchestrator.Target, _ *types.Project) error {
			return orc.Restart(cmd.Context(), t, orchestrator.RestartOptions{Timeout: timeoutFlag(timeout), NoDeps: noDeps})
		})
}

func (a *app) killCommand() *cobra.Command {
	var signal string
	var removeOrphans bool
	return a.lifecycleCommand("kill [OPTIONS] [SERVICE...]", "Force stop service containers",
		func(cmd *cobra.Command) {
			cmd.Flags().StringVarP(&signal, "signal", "s", "SIGKILL", "SIGNAL to send to the container")
			cmd.Flags().BoolVar(&removeOrphans, "remove-orphans", false, "Remove containers for services not defined in the Compose file")
		},
		func(cmd *cobra.Command, orc *orchestrator.Orchestrator, t orchestrator.Target, p *types.Project) error {
			removeOrphans = removeOrphans || a.envBool("COMPOSE_REMOVE_ORPHANS")
			if removeOrphans && p == nil {
				return usageError(cmd, "--remove-orphans needs a compose file: without one, every container of the project counts as defined")
			}
			return orc.Kill(cmd.Context(), t, orchestrator.KillOptions{Signal: signal, RemoveOrphans: removeOrphans, Project: p})
		})
}

func (a *app) rmCommand() *cobra.Command {
	var force, stop, volumes bool
	var timeout int
	return a.lifecycleCommand("rm [OPTIONS] [SERVICE...]", "Removes stopped service containers",
		func(cmd *cobra.Command) {
			cmd.Flags().BoolVarP(&force, "force", "f", false, "Don't ask to confirm removal")
			cmd.Flags().BoolVarP(&stop, "stop", "s", false, "Stop the containers, if required, before removing")
			cmd.Flags().BoolVarP(&volumes, "volumes", "v", false, "Remove any anonymous volumes attached to containers")
			cmd.Flags().IntVarP(&timeout, "timeout", "t", -1, "Specify a shutdown timeout in seconds")
		},
		func(cmd *cobra.Command, orc *orchestrator.Orchestrator, t orchestrator.Target, _ *types.Project) error {
			opts := orchestrator.RemoveOptions{Stop: stop, Volumes: volumes, Timeout: timeoutFlag(timeout)}
			if !force && isTerminal(a.streams.In) {
				opts.Confirm = a.confirm
			}
			return orc.Remove(cmd.Context(), t, opts)
		})
}

// confirm asks on the terminal before removing containers.
func (a *app) confirm(names []string) bool {
	fmt.Fprintf(a.streams.Err, "Going to remove %s\n? Are you sure? [yN] ", strings.Join(names, ", "))
	answer, _ := bufio.NewReader(a.streams.In).ReadString('\n')
	answer = strings.ToLower(strings.TrimSpace(answer))
	return answer == "y" || answer == "yes"
}
