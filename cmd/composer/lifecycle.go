package main

import (
	"bufio"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/composer/composer/engine"
	"github.com/composer/composer/orchestrator"
)

// target resolves the project and the services named on the command line
// into an orchestrator target. The project file is optional: the labels
// are enough to find the containers.
func (a *app) target(cmd *cobra.Command, services []string, index int) (orchestrator.Target, error) {
	name, p, err := a.projectName(cmd.Context())
	if err != nil {
		return orchestrator.Target{}, err
	}
	if p != nil {
		for _, s := range services {
			if _, ok := p.Services[s]; !ok {
				if _, ok := p.DisabledServices[s]; !ok {
					return orchestrator.Target{}, fmt.Errorf("no such service: %s", s)
				}
			}
		}
	}
	return orchestrator.Target{Project: name, Services: services, Index: index, Parallel: a.parallel()}, nil
}

// listContainers finds the containers of the named services (all when
// none is named), with one list call.
func (a *app) listContainers(cmd *cobra.Command, services []string, index int, oneOff bool) (*orchestrator.Orchestrator, []engine.Container, error) {
	t, err := a.target(cmd, services, index)
	if err != nil {
		return nil, nil, err
	}
	orc, err := a.orchestrator(cmd.Context(), nil)
	if err != nil {
		return nil, nil, err
	}
	cs, err := orc.Containers(cmd.Context(), t, oneOff)
	return orc, cs, err
}

// lifecycleCommand builds the commands that act on existing containers
// with one orchestrator call each.
func (a *app) lifecycleCommand(use, short string, flags func(cmd *cobra.Command), act func(cmd *cobra.Command, orc *orchestrator.Orchestrator, t orchestrator.Target) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:               use,
		Short:             short,
		ValidArgsFunction: a.completeServices,
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := a.target(cmd, args, 0)
			if err != nil {
				return err
			}
			display := a.progress(cmd)
			defer display.Close()
			orc, err := a.orchestrator(cmd.Context(), display)
			if err != nil {
				return err
			}
			return act(cmd, orc, t)
		},
	}
	if flags != nil {
		flags(cmd)
	}
	return cmd
}

func (a *app) lifecycleCommands() []*cobra.Command {
	var stopTimeout, restartTimeout, rmTimeout int
	var wait bool
	var waitTimeout int
	var signal string
	var rmForce, rmStop, rmVolumes bool
	return []*cobra.Command{
		a.lifecycleCommand("start [SERVICE...]", "Start services",
			func(cmd *cobra.Command) {
				cmd.Flags().BoolVar(&wait, "wait", false, "Wait for services to be running|healthy")
				cmd.Flags().IntVar(&waitTimeout, "wait-timeout", 0, "Maximum duration in seconds to wait for the project to be running|healthy")
			},
			func(cmd *cobra.Command, orc *orchestrator.Orchestrator, t orchestrator.Target) error {
				return orc.Start(cmd.Context(), t, orchestrator.StartOptions{Wait: wait, WaitTimeout: time.Duration(waitTimeout) * time.Second})
			}),
		a.lifecycleCommand("stop [SERVICE...]", "Stop services",
			func(cmd *cobra.Command) {
				cmd.Flags().IntVarP(&stopTimeout, "timeout", "t", -1, "Specify a shutdown timeout in seconds")
			},
			func(cmd *cobra.Command, orc *orchestrator.Orchestrator, t orchestrator.Target) error {
				return orc.Stop(cmd.Context(), t, timeoutFlag(stopTimeout))
			}),
		a.lifecycleCommand("restart [SERVICE...]", "Restart service containers",
			func(cmd *cobra.Command) {
				cmd.Flags().IntVarP(&restartTimeout, "timeout", "t", -1, "Specify a shutdown timeout in seconds")
				cmd.Flags().Bool("no-deps", false, "Don't restart dependent services")
			},
			func(cmd *cobra.Command, orc *orchestrator.Orchestrator, t orchestrator.Target) error {
				return orc.Restart(cmd.Context(), t, timeoutFlag(restartTimeout))
			}),
		a.lifecycleCommand("kill [OPTIONS] [SERVICE...]", "Force stop service containers",
			func(cmd *cobra.Command) {
				cmd.Flags().StringVarP(&signal, "signal", "s", "SIGKILL", "SIGNAL to send to the container")
				cmd.Flags().Bool("remove-orphans", false, "Remove containers for services not defined in the Compose file")
			},
			func(cmd *cobra.Command, orc *orchestrator.Orchestrator, t orchestrator.Target) error {
				return orc.Kill(cmd.Context(), t, signal)
			}),
		a.lifecycleCommand("pause [SERVICE...]", "Pause services", nil,
			func(cmd *cobra.Command, orc *orchestrator.Orchestrator, t orchestrator.Target) error {
				return orc.Pause(cmd.Context(), t, false)
			}),
		a.lifecycleCommand("unpause [SERVICE...]", "Unpause services", nil,
			func(cmd *cobra.Command, orc *orchestrator.Orchestrator, t orchestrator.Target) error {
				return orc.Pause(cmd.Context(), t, true)
			}),
		a.lifecycleCommand("rm [OPTIONS] [SERVICE...]", "Removes stopped service containers",
			func(cmd *cobra.Command) {
				cmd.Flags().BoolVarP(&rmForce, "force", "f", false, "Don't ask to confirm removal")
				cmd.Flags().BoolVarP(&rmStop, "stop", "s", false, "Stop the containers, if required, before removing")
				cmd.Flags().BoolVarP(&rmVolumes, "volumes", "v", false, "Remove any anonymous volumes attached to containers")
				cmd.Flags().IntVarP(&rmTimeout, "timeout", "t", -1, "Specify a shutdown timeout in seconds")
			},
			func(cmd *cobra.Command, orc *orchestrator.Orchestrator, t orchestrator.Target) error {
				opts := orchestrator.RemoveOptions{Stop: rmStop, Volumes: rmVolumes, Timeout: timeoutFlag(rmTimeout)}
				if !rmForce && isTerminal(a.streams.In) {
					opts.Confirm = func(names []string) bool {
						fmt.Fprintf(a.streams.Err, "Going to remove %s\n? Are you sure? [yN] ", strings.Join(names, ", "))
						answer, _ := bufio.NewReader(a.streams.In).ReadString('\n')
						answer = strings.ToLower(strings.TrimSpace(answer))
						return answer == "y" || answer == "yes"
					}
				}
				return orc.Remove(cmd.Context(), t, opts)
			}),
	}
}
