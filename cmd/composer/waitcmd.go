package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/composer-orchestrator/composer/orchestrator"
)

func (a *app) waitCommand() *cobra.Command {
	var downProject bool
	cmd := &cobra.Command{
		Use:               "wait SERVICE [SERVICE...] [OPTIONS]",
		Short:             "Block until the services' running containers stop",
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: a.completeServices,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			t, p, err := a.targetProject(cmd, args, 0)
			if err != nil {
				return err
			}
			// Waiting reports nothing; the display opens when down, if
			// asked for, reports its first change.
			display := &phasedDisplay{open: a.progress}
			defer display.Close()
			orc, err := a.orchestrator(ctx, display)
			if err != nil {
				return err
			}
			code, err := orc.WaitStop(ctx, t, func(e orchestrator.ContainerExit) {
				fmt.Fprintf(a.streams.Out, "container %q exited with status code %d\n", e.ID, e.ExitCode)
			})
			if err != nil {
				return err
			}
			if downProject {
				// As docker compose's wait --down-project: down with
				// --remove-orphans, keeping volumes and images, as the
				// project's writer like any down.
				opts := orchestrator.DownOptions{RemoveOrphans: true}
				err := a.change(ctx, orc, "wait", t.Project, p, func() error { return orc.Down(ctx, t.Project, p, opts) })
				if err != nil {
					return err
				}
			}
			return exitCode(code, nil)
		},
	}
	cmd.Flags().BoolVar(&downProject, "down-project", false, "Drops project when the containers stop")
	return cmd
}
