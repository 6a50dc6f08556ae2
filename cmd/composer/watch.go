package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/spf13/cobra"

	"github.com/composer-orchestrator/composer/orchestrator"
	"github.com/composer-orchestrator/composer/project"
	"github.com/composer-orchestrator/composer/watch"
)

// watchOptions are watch's flags; up --watch uses prune and quiet's
// defaults.
type watchOptions struct {
	noUp  bool
	prune bool
	quiet bool
}

func (a *app) watchCommand() *cobra.Command {
	o := watchOptions{prune: true}
	cmd := &cobra.Command{
		Use:   "watch [SERVICE...]",
		Short: "Watch build context for service and rebuild/refresh containers when files are updated",
		Long: `Brings the services up (unless --no-up), then follows the files their
develop.watch rules name and syncs, restarts, runs hooks or rebuilds as the
rules say. Ctrl-C ends watching and leaves the services running.`,
		ValidArgsFunction: a.completeServices,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runWatch(cmd.Context(), args, o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.noUp, "no-up", false, "Do not build & start services before watching")
	f.BoolVar(&o.prune, "prune", true, "Prune dangling images on rebuild")
	f.BoolVar(&o.quiet, "quiet", false, "hide build output")
	return cmd
}

func (a *app) runWatch(ctx context.Context, services []string, o watchOptions) error {
	if a.global.dryRun {
		return errors.New("--dry-run is not supported by watch: it acts on changes still to come, which a dry run cannot see")
	}
	a.shareStreams()
	p, err := a.loadProject(ctx)
	if err != nil {
		return err
	}
	if p, err = project.Select(p, services, false); err != nil {
		return err
	}
	rules, err := a.watchRules(p)
	if err != nil {
		return err
	}
	if !o.noUp {
		up := buildWatched(p)
		display := a.progressOrQuiet(o.quiet)
		orc, err := a.orchestrator(ctx, display)
		if err != nil {
			display.Close()
			return err
		}
		err = a.change(ctx, orc, "up", up.Name, up, func() error {
			return orc.Up(ctx, up, orchestrator.UpOptions{Recreate: orchestrator.RecreateDiverged, Images: orchestrator.ImageOptions{QuietPull: o.quiet}})
		})
		display.Close()
		if err != nil {
			return err
		}
	}
	return a.watch(ctx, p, rules, o)
}

// watchRules makes the rules of the project's services, saying which
// services are not watched and why; it fails when none is.
func (a *app) watchRules(p *types.Project) ([]watch.Rule, error) {
	var rules []watch.Rule
	for _, name := range p.ServiceNames() {
		rs, notes, err := watch.ServiceRules(p.Services[name])
		for _, n := range notes {
			a.warn(n)
		}
		var nw *watch.NotWatchedError
		switch {
		case errors.As(err, &nw):
			a.warn(err.Error())
		case err != nil:
			a.warn(fmt.Sprintf("service %q is not watched: %v", name, err))
		}
		rules = append(rules, rs...)
	}
	if len(rules) == 0 {
		return nil, errors.New("none of the selected services is configured for watch, consider setting a 'develop' section")
	}
	return rules, nil
}

// buildWatched is p with the services that have both a build and a
// develop section built before they start, as compose's watch does: the
// image is the one their rebuilds will replace.
func buildWatched(p *types.Project) *types.Project {
	out := *p
	out.Services = types.Services{}
	for name, s := range p.Services {
		if s.Build != nil && s.Develop != nil {
			s.PullPolicy = types.PullPolicyBuild
		}
		out.Services[name] = s
	}
	return &out
}

// watch follows the rules until ctx ends.
func (a *app) watch(ctx context.Context, p *types.Project, rules []watch.Rule, o watchOptions) error {
	orc, err := a.orchestrator(ctx, &quietDisplay{w: a.streams.Err})
	if err != nil {
		return err
	}
	out := &syncWriter{w: a.streams.Out}
	acts := &watchActions{a: a, orc: orc, p: p, o: o, out: out}
	err = watch.Run(ctx, watch.Options{Rules: rules, Report: acts.report}, acts)
	out.line("Watch disabled")
	return err
}

// watchActions are watch's actions over the orchestrator, and its
// reports as lines.
type watchActions struct {
	a   *app
	orc *orchestrator.Orchestrator
	p   *types.Project
	o   watchOptions
	out *syncWriter
	// changing serializes the actions that take the project's lock: two
	// services' rebuilds would otherwise wait on each other's lock, and
	// the app records one writer at a time.
	changing sync.Mutex
}

func (w *watchActions) Sync(ctx context.Context, service string, changes []watch.Change) error {
	files := make([]orchestrator.SyncFile, len(changes))
	for i, c := range changes {
		files[i] = orchestrator.SyncFile{HostPath: c.HostPath, ContainerPath: c.ContainerPath, Deleted: c.Deleted}
	}
	return w.orc.Sync(ctx, w.p.Name, service, files)
}

func (w *watchActions) Restart(ctx context.Context, service string) error {
	w.changing.Lock()
	defer w.changing.Unlock()
	return w.a.change(ctx, w.orc, "restart", w.p.Name, nil, func() error {
		return w.orc.Restart(ctx, orchestrator.Target{Project: w.p.Name, Services: []string{service}}, orchestrator.RestartOptions{})
	})
}

func (w *watchActions) Exec(ctx context.Context, service string, hook types.ServiceHook) error {
	return w.orc.ExecHook(ctx, w.p.Name, service, hook, w.out, w.a.streams.Err)
}

// Rebuild builds the service and recreates it alone (not its
// dependencies), under the project's lock, showing the build's progress
// unless --quiet.
func (w *watchActions) Rebuild(ctx context.Context, service string) error {
	w.changing.Lock()
	defer w.changing.Unlock()
	p, err := project.Select(w.p, []string{service}, true)
	if err != nil {
		return err
	}
	var display display = &plainDisplay{w: w.a.streams.Err}
	switch mode := w.a.progressMode(); {
	case w.o.quiet:
		display = &quietDisplay{w: w.a.streams.Err}
	case mode == "json" || mode == "quiet":
		display = w.a.progress()
	}
	// (A live view would fight the other lines for the terminal: plain
	// lines otherwise.)
	defer display.Close()
	orc, err := w.a.orchestrator(ctx, display)
	if err != nil {
		return err
	}
	return w.a.change(ctx, orc, "up", p.Name, p, func() error {
		return orc.Rebuild(ctx, p, service, orchestrator.RebuildOptions{Prune: w.o.prune})
	})
}

// report renders what watch reports as the lines docker compose prints.
func (w *watchActions) report(e watch.Event) {
	switch e.Kind {
	case watch.Enabled:
		w.out.line("Watch enabled")
	case watch.Rebuilding:
		w.out.line(fmt.Sprintf("Rebuilding service(s) [%q] after changes were detected...", e.Service))
	case watch.Rebuilt:
		w.out.line(fmt.Sprintf("service(s) [%q] successfully built", e.Service))
	case watch.Synced:
		w.out.line(fmt.Sprintf("Synced service %q: %d path(s) copied, %d deleted", e.Service, e.Copied, e.Deleted))
	case watch.Restarted:
		w.out.line(fmt.Sprintf("service(s) [%q] restarted", e.Service))
	case watch.Executed:
		w.out.line(fmt.Sprintf("service %q: ran %s", e.Service, e.Detail))
	case watch.Failed:
		w.a.warn(fmt.Sprintf("service %q: %v (still watching)", e.Service, e.Err))
	case watch.Warning:
		w.a.warn(e.Detail)
	}
}

// shareStreams makes the output streams safe for the goroutines that
// write to them while watching (reports, hooks' output, warnings, the
// logs of up --watch). A file is already: each line is one write. Other
// writers (a test's buffer) are serialized; they are no terminal, so
// wrapping them changes no decision taken on isTerminal.
func (a *app) shareStreams() {
	if _, ok := a.streams.Out.(*os.File); !ok {
		a.streams.Out = &syncWriter{w: a.streams.Out}
	}
	if _, ok := a.streams.Err.(*os.File); !ok {
		a.streams.Err = &syncWriter{w: a.streams.Err}
	}
}

// syncWriter writes whole lines from many goroutines.
type syncWriter struct {
	// mu keeps lines whole: hooks' output and reports come concurrently.
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}

func (s *syncWriter) line(text string) { _, _ = fmt.Fprintln(s, text) }
