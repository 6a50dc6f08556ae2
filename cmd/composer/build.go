package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/composer-orchestrator/composer/orchestrator"
)

func (a *app) buildCommand() *cobra.Command {
	var noCache, pull, quiet bool
	var args []string
	cmd := &cobra.Command{
		Use:               "build [OPTIONS] [SERVICE...]",
		Short:             "Build or rebuild services",
		ValidArgsFunction: a.completeServices,
		RunE: func(cmd *cobra.Command, services []string) error {
			ctx := cmd.Context()
			p, err := a.loadProject(ctx)
			if err != nil {
				return err
			}
			display := a.progressOrQuiet(quiet)
			defer display.Close()
			orc, err := a.orchestrator(ctx, display)
			if err != nil {
				return err
			}
			return orc.Build(ctx, p, services, orchestrator.BuildOptions{NoCache: noCache, Pull: pull, Args: args, Environ: a.lookupEnv})
		},
	}
	f := cmd.Flags()
	f.BoolVar(&noCache, "no-cache", false, "Do not use cache when building the image")
	f.BoolVar(&pull, "pull", false, "Always attempt to pull a newer version of the image")
	f.BoolVarP(&quiet, "quiet", "q", false, "Don't print anything to STDOUT")
	f.StringArrayVar(&args, "build-arg", nil, "Set build-time variables for services")
	return cmd
}

// progressOrQuiet is the progress display, or only warnings with -q.
func (a *app) progressOrQuiet(quiet bool) display {
	if quiet {
		return &quietDisplay{w: a.streams.Err}
	}
	return a.progress()
}

func (a *app) pullCommand() *cobra.Command {
	var o orchestrator.PullOptions
	var policy string
	cmd := &cobra.Command{
		Use:               "pull [OPTIONS] [SERVICE...]",
		Short:             "Pull service images",
		ValidArgsFunction: a.completeServices,
		RunE: func(cmd *cobra.Command, services []string) error {
			ctx := cmd.Context()
			switch policy {
			case "", "always":
			case "missing":
				o.Missing = true
			default:
				return usageError(cmd, fmt.Sprintf("invalid --policy value %q: want missing or always", policy))
			}
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
			return orc.PullServices(ctx, p, o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.IgnoreFailures, "ignore-pull-failures", false, "Pull what it can and ignores images with pull failures")
	f.BoolVarP(&o.Quiet, "quiet", "q", false, "Pull without printing progress information")
	f.BoolVar(&o.IncludeDeps, "include-deps", false, "Also pull services declared as dependencies")
	f.StringVar(&policy, "policy", "", `Apply pull policy ("missing"|"always")`)
	return cmd
}
