package main

import (
	"github.com/spf13/cobra"

	"github.com/composer-orchestrator/composer/orchestrator"
	"github.com/composer-orchestrator/composer/project"
)

// createCommand is `up --no-start` under docker compose's name for it,
// with its flags.
func (a *app) createCommand() *cobra.Command {
	var o upOptions
	var yes bool
	cmd := &cobra.Command{
		Use:   "create [OPTIONS] [SERVICE...]",
		Short: "Creates containers for a service",
		RunE: func(cmd *cobra.Command, args []string) error {
			o.noStart, o.detach = true, true
			return a.runUp(cmd, args, o)
		},
		ValidArgsFunction: a.completeServices,
	}
	f := cmd.Flags()
	f.BoolVar(&o.build, "build", false, "Build images before starting containers")
	f.BoolVar(&o.noBuild, "no-build", false, "Don't build an image, even if it's policy")
	f.BoolVar(&o.forceRecreate, "force-recreate", false, "Recreate containers even if their configuration and image haven't changed")
	f.BoolVar(&o.noRecreate, "no-recreate", false, "If containers already exist, don't recreate them")
	f.StringVar(&o.pull, "pull", "policy", `Pull image before running ("always"|"missing"|"never"|"build"|"policy")`)
	f.BoolVar(&o.quietPull, "quiet-pull", false, "Pull without printing progress information")
	f.BoolVar(&o.removeOrphans, "remove-orphans", false, "Remove containers for services not defined in the Compose file")
	f.StringArrayVar(&o.scale, "scale", nil, "Scale SERVICE to NUM instances. Overrides the scale setting in the Compose file if present")
	// docker compose asks before recreating a container whose anonymous
	// volumes would be lost; composer carries them over, so there is
	// nothing to confirm and -y has nothing to answer.
	f.BoolVarP(&yes, "yes", "y", false, "Assume \"yes\" as answer to all prompts and run non-interactively (nothing is asked)")
	return cmd
}

// scaleCommand sets how many containers services run, creating or
// removing containers and starting the new ones; the containers it keeps
// are left as they are.
func (a *app) scaleCommand() *cobra.Command {
	var noDeps bool
	cmd := &cobra.Command{
		Use:   "scale [SERVICE=REPLICAS...]",
		Short: "Scale services",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			scale, err := project.ParseScale(args)
			if err != nil {
				return usageError(cmd, err.Error())
			}
			p, err := a.loadProject(ctx)
			if err != nil {
				return err
			}
			services := make([]string, 0, len(scale))
			for s := range scale {
				services = append(services, s)
			}
			if p, err = project.Select(p, services, noDeps); err != nil {
				return err
			}
			if p, err = project.WithScale(p, scale); err != nil {
				return err
			}
			display := a.progress()
			defer display.Close()
			orc, err := a.orchestrator(ctx, display)
			if err != nil {
				return err
			}
			opts := orchestrator.UpOptions{Recreate: orchestrator.RecreateNever}
			return a.change(ctx, orc, "scale", p.Name, p, func() error { return orc.Up(ctx, p, opts) })
		},
		ValidArgsFunction: a.completeServices,
	}
	cmd.Flags().BoolVar(&noDeps, "no-deps", false, "Don't start linked services")
	return cmd
}
