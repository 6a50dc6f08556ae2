package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/composer-orchestrator/composer/orchestrator"
)

type downOptions struct {
	removeOrphans bool
	volumes       bool
	timeout       int
	rmi           string
}

func (a *app) downCommand() *cobra.Command {
	var o downOptions
	cmd := &cobra.Command{
		Use:   "down [OPTIONS] [SERVICES]",
		Short: "Stop and remove containers, networks",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if o.rmi != "" && o.rmi != "local" && o.rmi != "all" {
				return usageError(cmd, fmt.Sprintf("invalid --rmi value %q: want local or all", o.rmi))
			}
			name, p, err := a.projectName(ctx)
			if err != nil {
				return err
			}
			display := a.progress()
			defer display.Close()
			orc, err := a.orchestrator(ctx, display)
			if err != nil {
				return err
			}
			opts := orchestrator.DownOptions{
				RemoveOrphans: o.removeOrphans || a.envBool("COMPOSE_REMOVE_ORPHANS"),
				Volumes:       o.volumes,
				Timeout:       timeoutFlag(o.timeout),
				RemoveImages:  o.rmi,
			}
			return a.change(ctx, orc, "down", name, p, func() error { return orc.Down(ctx, name, p, opts) })
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.removeOrphans, "remove-orphans", false, "Remove containers for services not defined in the Compose file")
	f.BoolVarP(&o.volumes, "volumes", "v", false, "Remove named volumes declared in the \"volumes\" section of the Compose file and anonymous volumes attached to containers")
	f.IntVarP(&o.timeout, "timeout", "t", -1, "Specify a shutdown timeout in seconds")
	f.StringVar(&o.rmi, "rmi", "", `Remove images used by services. "local" remove only images that don't have a custom tag ("local"|"all")`)
	return cmd
}
