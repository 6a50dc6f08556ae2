package main

import (
	"github.com/spf13/cobra"

	"github.com/composer-orchestrator/composer/orchestrator"
)

func (a *app) commitCommand() *cobra.Command {
	var o orchestrator.CommitOptions
	cmd := &cobra.Command{
		Use:   "commit [OPTIONS] SERVICE [REPOSITORY[:TAG]]",
		Short: "Create a new image from a service container's changes",
		Long: `Create a new image from a service container's changes.

The container is a running one of the service (the first, or --index's).
The new image's id is shown in the progress, as docker compose shows it:
"Committed as sha256:...".`,
		Args:              cobra.RangeArgs(1, 2),
		ValidArgsFunction: a.completeServices,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Service = args[0]
			if len(args) > 1 {
				o.Reference = args[1]
			}
			t, err := a.target(cmd, args[:1], o.Index)
			if err != nil {
				return err
			}
			display := a.progress()
			defer display.Close()
			orc, err := a.orchestrator(cmd.Context(), display)
			if err != nil {
				return err
			}
			_, err = orc.Commit(cmd.Context(), t.Project, o)
			return err
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.Index, "index", 0, "index of the container if service has multiple replicas.")
	f.BoolVarP(&o.Pause, "pause", "p", true, "Pause container during commit")
	f.StringVarP(&o.Comment, "message", "m", "", "Commit message")
	f.StringVarP(&o.Author, "author", "a", "", `Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")`)
	f.StringArrayVarP(&o.Changes, "change", "c", nil, "Apply Dockerfile instruction to the created image")
	return cmd
}
