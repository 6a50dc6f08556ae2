package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/spf13/cobra"

	"github.com/composer-orchestrator/composer/orchestrator"
	"github.com/composer-orchestrator/composer/project"
)

type upOptions struct {
	detach        bool
	forceRecreate bool
	noRecreate    bool
	noDeps        bool
	noStart       bool
	removeOrphans bool
	scale         []string
	wait          bool
	waitTimeout   int
	timeout       int
	pull          string
	build         bool
	noBuild       bool
	quietPull     bool
	// attached mode
	abortOnExit        bool
	abortOnFailure     bool
	exitCodeFrom       string
	attach             []string
	noAttach           []string
	attachDeps         bool
	noColor            bool
	noLogPrefix        bool
	timestamps         bool
	menu               bool
	alwaysRecreateDeps bool
	renewAnonVolumes   bool
	// watch follows develop.watch while attached (up --watch).
	watch bool
}

func (a *app) upCommand() *cobra.Command {
	var o upOptions
	cmd := &cobra.Command{
		Use:   "up [OPTIONS] [SERVICE...]",
		Short: "Create and start containers",
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runUp(cmd, args, o)
		},
		ValidArgsFunction: a.completeServices,
	}
	f := cmd.Flags()
	f.BoolVarP(&o.detach, "detach", "d", false, "Detached mode: Run containers in the background")
	f.BoolVar(&o.forceRecreate, "force-recreate", false, "Recreate containers even if their configuration and image haven't changed")
	f.BoolVar(&o.noRecreate, "no-recreate", false, "If containers already exist, don't recreate them")
	f.BoolVar(&o.noDeps, "no-deps", false, "Don't start linked services")
	f.BoolVar(&o.noStart, "no-start", false, "Don't start the services after creating them")
	f.BoolVar(&o.removeOrphans, "remove-orphans", false, "Remove containers for services not defined in the Compose file")
	f.StringArrayVar(&o.scale, "scale", nil, "Scale SERVICE to NUM instances. Overrides the scale setting in the Compose file if present")
	f.BoolVar(&o.wait, "wait", false, "Wait for services to be running|healthy. Implies detached mode")
	f.IntVar(&o.waitTimeout, "wait-timeout", 0, "Maximum duration in seconds to wait for the project to be running|healthy")
	f.IntVarP(&o.timeout, "timeout", "t", -1, "Use this timeout in seconds for container shutdown when attached or when containers are already running")
	f.StringVar(&o.pull, "pull", "policy", `Pull image before running ("always"|"missing"|"never"|"policy")`)
	f.BoolVar(&o.build, "build", false, "Build images before starting containers")
	f.BoolVar(&o.noBuild, "no-build", false, "Don't build an image, even if it's policy")
	f.BoolVar(&o.quietPull, "quiet-pull", false, "Pull without printing progress information")
	f.BoolVar(&o.abortOnExit, "abort-on-container-exit", false, "Stops all containers if any container was stopped. Incompatible with -d")
	f.BoolVar(&o.abortOnFailure, "abort-on-container-failure", false, "Stops all containers if any container exited with failure. Incompatible with -d")
	f.StringVar(&o.exitCodeFrom, "exit-code-from", "", "Return the exit code of the selected service container. Implies --abort-on-container-exit")
	f.StringArrayVar(&o.attach, "attach", nil, "Restrict attaching to the specified services. Incompatible with --attach-dependencies")
	f.StringArrayVar(&o.noAttach, "no-attach", nil, "Do not attach (stream logs) to the specified services")
	f.BoolVar(&o.attachDeps, "attach-dependencies", false, "Automatically attach to log output of dependent services")
	f.BoolVar(&o.noColor, "no-color", false, "Produce monochrome output")
	f.BoolVar(&o.noLogPrefix, "no-log-prefix", false, "Don't print prefix in logs")
	f.BoolVar(&o.timestamps, "timestamps", false, "Show timestamps")
	f.BoolVar(&o.menu, "menu", false, "Enable interactive shortcuts when running attached (not supported)")
	f.BoolVar(&o.alwaysRecreateDeps, "always-recreate-deps", false, "Recreate dependent containers. Incompatible with --no-recreate")
	f.BoolVarP(&o.renewAnonVolumes, "renew-anon-volumes", "V", false, "Recreate anonymous volumes instead of retrieving data from the previous containers")
	f.BoolVarP(&o.watch, "watch", "w", false, "Watch source code and rebuild/refresh containers when files are updated.")
	return cmd
}

func (a *app) runUp(cmd *cobra.Command, services []string, o upOptions) error {
	ctx := cmd.Context()
	if err := a.checkUpFlags(cmd, &o); err != nil {
		return err
	}
	pull, err := pullPolicy(cmd, o.pull)
	if err != nil {
		return err
	}
	scale, err := project.ParseScale(o.scale)
	if err != nil {
		return err
	}
	p, err := a.loadProject(ctx)
	if err != nil {
		return err
	}
	if p, err = project.Select(p, services, o.noDeps); err != nil {
		return err
	}
	if p, err = project.WithScale(p, scale); err != nil {
		return err
	}
	opts := a.upOptions(o, pull)
	if o.watch {
		return a.runWatchedUp(ctx, p, services, o, opts)
	}
	if o.detach || o.wait || o.noStart {
		display := a.progress()
		defer display.Close()
		orc, err := a.orchestrator(ctx, display)
		if err != nil {
			return err
		}
		return a.change(ctx, orc, "up", p.Name, p, func() error { return orc.Up(ctx, p, opts) })
	}
	return a.runAttachedUp(ctx, p, services, o, opts, nil)
}

// checkUpFlags refuses flags that contradict each other, and warns about
// those that are accepted with a limit.
func (a *app) checkUpFlags(cmd *cobra.Command, o *upOptions) error {
	if o.menu {
		a.warn("--menu is not supported: the interactive shortcuts are not shown")
	}
	if o.alwaysRecreateDeps {
		if o.noRecreate {
			return usageError(cmd, "--always-recreate-deps and --no-recreate are incompatible")
		}
		o.forceRecreate = true
		a.warn("--always-recreate-deps recreates every selected service and its dependencies")
	}
	if o.forceRecreate && o.noRecreate {
		return usageError(cmd, "--force-recreate and --no-recreate are incompatible")
	}
	if o.detach && (o.abortOnExit || o.abortOnFailure || o.exitCodeFrom != "") {
		return usageError(cmd, "--abort-on-container-exit, --abort-on-container-failure and --exit-code-from are incompatible with --detach")
	}
	if o.watch && (o.detach || o.wait) {
		// As docker compose: watching needs the attached command's life.
		flag := "--detach"
		if o.wait {
			flag = "--wait"
		}
		return usageError(cmd, flag+" cannot be combined with --watch")
	}
	if o.watch && o.noBuild {
		return usageError(cmd, "--no-build and --watch are incompatible")
	}
	if len(o.attach) > 0 && o.attachDeps {
		return usageError(cmd, "--attach and --attach-dependencies are incompatible")
	}
	return nil
}

// pullPolicy reads --pull: "" for "policy" (each service's pull_policy),
// else the policy that overrides them all.
func pullPolicy(cmd *cobra.Command, value string) (string, error) {
	switch value {
	case "policy":
		return "", nil
	case "always", "missing", "never", "build":
		return value, nil
	}
	return "", usageError(cmd, fmt.Sprintf("invalid --pull value %q: want always, missing, never, build or policy", value))
}

func (a *app) upOptions(o upOptions, pull string) orchestrator.UpOptions {
	opts := orchestrator.UpOptions{
		Recreate:         orchestrator.RecreateDiverged,
		NoStart:          o.noStart,
		RemoveOrphans:    o.removeOrphans || a.envBool("COMPOSE_REMOVE_ORPHANS"),
		Wait:             o.wait,
		WaitTimeout:      time.Duration(o.waitTimeout) * time.Second,
		Timeout:          timeoutFlag(o.timeout),
		Images:           orchestrator.ImageOptions{Pull: pull, Build: o.build, NoBuild: o.noBuild, QuietPull: o.quietPull},
		RenewAnonVolumes: o.renewAnonVolumes,
	}
	if o.forceRecreate {
		opts.Recreate = orchestrator.RecreateForce
	}
	if o.noRecreate {
		opts.Recreate = orchestrator.RecreateNever
	}
	return opts
}

func timeoutFlag(secs int) *time.Duration {
	if secs < 0 {
		return nil
	}
	d := time.Duration(secs) * time.Second
	return &d
}

// runWatchedUp is up --watch: attached up, watching from the moment the
// project is up until the attached up ends (Ctrl-C stops the project, as
// attached up does, and watching with it).
func (a *app) runWatchedUp(ctx context.Context, p *types.Project, services []string, o upOptions, opts orchestrator.UpOptions) error {
	if a.global.dryRun {
		return errors.New("--dry-run is not supported by up --watch: it acts on changes still to come, which a dry run cannot see")
	}
	a.shareStreams()
	rules, err := a.watchRules(p)
	if err != nil {
		return err
	}
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	var watched chan error
	err = a.runAttachedUp(ctx, p, services, o, opts, func() {
		watched = make(chan error, 1)
		go func() { watched <- a.watch(wctx, p, rules, watchOptions{prune: true}) }()
	})
	stop()
	if watched != nil {
		if werr := <-watched; werr != nil && err == nil {
			err = werr
		}
	}
	return err
}
