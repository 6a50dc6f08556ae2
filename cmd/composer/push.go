package main

import (
	"github.com/spf13/cobra"

	"github.com/composer-orchestrator/composer/orchestrator"
)

func (a *app) pushCommand() *cobra.Command {
	var o orchestrator.PushOptions
	cmd := &cobra.Command{
		Use:   "push [OPTIONS] [SERVICE...]",
		Short: "Push service images",
		Long: `Push service images.

As docker compose does, only services that have both a build section and
an image name are pushed (the image and its build.tags); the others are
skipped. Credentials come from the engine's defaults: composer does not
read the Docker CLI's config.json.`,
		ValidArgsFunction: a.completeServices,
		RunE: func(cmd *cobra.Command, services []string) error {
			ctx := cmd.Context()
			p, err := a.loadProject(ctx)
			if err != nil {
				return err
			}
			display := a.progressOrQuiet(o.Quiet)
			defer display.Close()
			orc, err := a.orchestrator(ctx, display)
			if err != nil {
				return err
			}
			o.Services = services
			return orc.PushServices(ctx, p, o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.IgnoreFailures, "ignore-push-failures", false, "Push what it can and ignores images with push failures")
	f.BoolVar(&o.IncludeDeps, "include-deps", false, "Also push images of services declared as dependencies")
	f.BoolVarP(&o.Quiet, "quiet", "q", false, "Push without printing progress information")
	return cmd
}
