package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/spf13/cobra"

	"github.com/composer-orchestrator/composer/orchestrator"
	"github.com/composer-orchestrator/composer/state"
)

// autohealExtension opts a service in to being restarted when it turns
// unhealthy, in the file, beside the autoheal=true label.
const autohealExtension = "x-autoheal"

func (a *app) superviseCommand() *cobra.Command {
	var backoff time.Duration
	var maxRestarts int
	cmd := &cobra.Command{
		Use:   "supervise [SERVICE...]",
		Short: "Keep a running project healthy: restart unhealthy services and their restart: true dependents",
		Long: `Follows the project's engine events in the foreground and restarts the
containers of services that opt in (label autoheal=true, or x-autoheal: true)
when they turn unhealthy, with a bounded back-off; whenever a container
restarts, for any reason, restarts the services that declare restart: true on
it, once it meets their condition again. Ctrl-C ends it and leaves the
project running.`,
		ValidArgsFunction: a.completeServices,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if backoff <= 0 || maxRestarts <= 0 {
				return usageError(cmd, "--backoff and --max-restarts must be positive")
			}
			t, p, err := a.targetProject(cmd, args, 0)
			if err != nil {
				return err
			}
			display := a.superviseDisplay()
			defer display.Close()
			orc, err := a.orchestrator(ctx, display)
			if err != nil {
				return err
			}
			release, holder, err := a.superviseLock(t.Project)
			if err != nil {
				return err
			}
			if release == nil {
				return fmt.Errorf("project %s is supervised already, by %s", t.Project, holder)
			}
			defer release()
			if a.progressMode() != "json" {
				fmt.Fprintf(a.streams.Err, "supervising project %s; Ctrl-C stops supervising and leaves the project running\n", t.Project)
			}
			opts := superviseOptions(p, args)
			opts.Backoff, opts.MaxRestarts = backoff, maxRestarts
			return orc.Supervise(ctx, t.Project, opts)
		},
	}
	f := cmd.Flags()
	f.DurationVar(&backoff, "backoff", 2*time.Second, "Wait before restarting a container that turns unhealthy again soon after a restart; doubled each time")
	f.IntVar(&maxRestarts, "max-restarts", 5, "Restarts for health in a row, after the first, before giving up on a container until it is healthy")
	return cmd
}

// superviseOptions are the restarts' rules that the file holds (x-autoheal).
func superviseOptions(p *types.Project, services []string) orchestrator.SuperviseOptions {
	opts := orchestrator.SuperviseOptions{Services: services, Autoheal: map[string]bool{}}
	if p == nil {
		return opts
	}
	for name, s := range p.Services {
		if on, ok := s.Extensions[autohealExtension].(bool); ok && on {
			opts.Autoheal[name] = true
		}
	}
	return opts
}

// superviseLock takes the project's supervise lock, if no one holds it:
// release is nil and holder says who does otherwise.
func (a *app) superviseLock(project string) (release func(), holder state.Holder, err error) {
	key, err := a.stateKey(project)
	if err != nil {
		return nil, state.Holder{}, err
	}
	l, holder, err := state.AcquireSupervisor(key, state.Holder{PID: os.Getpid(), Command: a.commandLine(), Since: time.Now()})
	if err != nil || l == nil {
		return nil, holder, err
	}
	return func() { _ = l.Release() }, state.Holder{}, nil
}

// superviseDisplay shows each restart as a line, or a json event: a live
// view would redraw for hours.
func (a *app) superviseDisplay() display {
	switch a.progressMode() {
	case "json":
		return &jsonDisplay{w: a.streams.Err, dryRun: a.global.dryRun}
	case "quiet":
		return &quietDisplay{w: a.streams.Err}
	}
	return &plainDisplay{w: a.streams.Err, dryRun: a.global.dryRun}
}

// supervising runs Supervise for an attached up, while ctx lasts, when no
// other supervisor holds the project; it returns a function that stops it
// and waits.
func (a *app) supervising(ctx context.Context, orc *orchestrator.Orchestrator, p *types.Project) func() {
	release, _, err := a.superviseLock(p.Name)
	if err != nil || release == nil {
		return func() {} // composer supervise does it
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer release()
		if err := orc.Supervise(ctx, p.Name, superviseOptions(p, nil)); err != nil && ctx.Err() == nil {
			a.warn("supervising stopped: " + err.Error())
		}
	}()
	return func() { cancel(); <-done }
}
