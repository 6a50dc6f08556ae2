package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/composer/composer/orchestrator"
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
			buildArgs := map[string]string{}
			for _, kv := range args {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					v, ok = a.lookupEnv(k)
				}
				if ok {
					buildArgs[k] = v
				}
			}
			var display display = a.progress(cmd)
			if quiet {
				display = &quietDisplay{w: a.streams.Err}
			}
			defer display.Close()
			orc, err := a.orchestrator(ctx, display)
			if err != nil {
				return err
			}
			return orc.Build(ctx, p, services, orchestrator.BuildOptions{NoCache: noCache, Pull: pull, Args: buildArgs, Parallel: a.parallel()})
		},
	}
	f := cmd.Flags()
	f.BoolVar(&noCache, "no-cache", false, "Do not use cache when building the image")
	f.BoolVar(&pull, "pull", false, "Always attempt to pull a newer version of the image")
	f.BoolVarP(&quiet, "quiet", "q", false, "Don't print anything to STDOUT")
	f.StringArrayVar(&args, "build-arg", nil, "Set build-time variables for services")
	return cmd
}

func (a *app) pullCommand() *cobra.Command {
	var ignoreFailures, quiet, includeDeps bool
	var policy string
	cmd := &cobra.Command{
		Use:               "pull [OPTIONS] [SERVICE...]",
		Short:             "Pull service images",
		ValidArgsFunction: a.completeServices,
		RunE: func(cmd *cobra.Command, services []string) error {
			ctx := cmd.Context()
			p, err := a.loadProject(ctx)
			if err != nil {
				return err
			}
			if len(services) == 0 {
				services = p.ServiceNames()
			}
			var display display = a.progress(cmd)
			if quiet {
				display = &quietDisplay{w: a.streams.Err}
			}
			defer display.Close()
			orc, err := a.orchestrator(ctx, display)
			if err != nil {
				return err
			}
			refs := map[string]string{}
			for _, name := range services {
				s, err := p.GetService(name)
				if err != nil {
					return fmt.Errorf("no such service: %s", name)
				}
				if s.Image == "" {
					continue // build-only services have nothing to pull
				}
				if policy == "missing" {
					if _, err := orc.Engine().InspectImage(ctx, s.Image); err == nil {
						continue
					}
				}
				refs[s.Image] = name
			}
			eg, ectx := errgroup.WithContext(ctx)
			if n := a.parallel(); n > 0 {
				eg.SetLimit(n)
			}
			var failures []error
			results := make(chan error, len(refs))
			for ref, svc := range refs {
				eg.Go(func() error {
					err := orc.Pull(ectx, ref, p.Services[svc].Platform)
					if err != nil {
						err = fmt.Errorf("service %q: pulling image %q: %w", svc, ref, err)
						if ignoreFailures {
							results <- err
							return nil
						}
					}
					return err
				})
			}
			err = eg.Wait()
			close(results)
			for e := range results {
				failures = append(failures, e)
			}
			if err != nil {
				return err
			}
			for _, f := range failures {
				fmt.Fprintln(a.streams.Err, "WARN", f)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&ignoreFailures, "ignore-pull-failures", false, "Pull what it can and ignores images with pull failures")
	f.BoolVarP(&quiet, "quiet", "q", false, "Pull without printing progress information")
	f.BoolVar(&includeDeps, "include-deps", false, "Also pull services declared as dependencies")
	f.StringVar(&policy, "policy", "", `Apply pull policy ("missing"|"always")`)
	return cmd
}
