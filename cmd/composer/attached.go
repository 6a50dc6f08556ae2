package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/composer/composer/engine"
	"github.com/composer/composer/orchestrator"
)

// exitNote is a container of an attached service that stopped.
type exitNote struct {
	container, service string
	code               int
}

// runAttachedUp is up without -d: bring the project up, stream the logs
// of the attached services, and stop everything on Ctrl-C (kill on a
// second Ctrl-C) or when the abort flags say so.
func (a *app) runAttachedUp(ctx context.Context, p *types.Project, selected []string, o upOptions, opts orchestrator.UpOptions) error {
	attach := attachedServices(p, selected, o)
	printer := newLogPrinter(a.streams.Out, a.streams.Err, a.colors() && isTerminal(a.streams.Out) && !o.noColor, o.noLogPrefix)
	var mu sync.Mutex // guards running: notes come from log goroutines
	running := map[string]bool{}
	exits := make(chan exitNote, 64)
	printer.notify = func(container, service, text string) {
		var code int
		if _, err := fmt.Sscanf(text, "exited with code %d", &code); err == nil {
			mu.Lock()
			delete(running, container)
			mu.Unlock()
			// Sent outside the lock: the loop below takes it too.
			exits <- exitNote{container, service, code}
			return
		}
		if text == "attached" {
			mu.Lock()
			running[container] = true
			mu.Unlock()
		}
	}
	jobs := oneShotDependencies(p)
	display := a.progress(nil)
	orc, err := a.orchestrator(ctx, display)
	if err != nil {
		return err
	}
	// Logs are read from the start of each container's log, so following
	// can begin right away; lines wait until the progress view is done.
	// Known names set the prefix width before the first line is printed.
	for _, svc := range attach {
		if sc, ok := p.Services[svc]; ok {
			for n := 1; n <= sc.GetScale(); n++ {
				printer.reserve(orchestrator.ContainerName(p.Name, sc, n))
			}
		}
	}
	printer.hold()
	logCtx, stopLogs := context.WithCancel(ctx)
	defer stopLogs()
	logsDone := make(chan error, 1)
	go func() {
		logsDone <- orc.Logs(logCtx, p.Name, orchestrator.LogOptions{Services: attach, Follow: true, Timestamps: o.timestamps}, printer)
	}()
	// Ctrl-C while up is under way cancels it, then stops what started.
	interrupts := make(chan os.Signal, 2)
	a.onInterrupt.Store(interrupts)
	upCtx, cancelUp := context.WithCancel(ctx)
	defer cancelUp()
	upDone := make(chan error, 1)
	go func() { upDone <- orc.Up(upCtx, p, opts) }()
	select {
	case err = <-upDone:
	case <-interrupts:
		cancelUp()
		<-upDone
		display.Close()
		fmt.Fprintln(a.streams.Err, "Gracefully stopping... (press Ctrl+C again to force)")
		return a.stopAttached(ctx, orc, p, opts, interrupts)
	}
	display.Close()
	if err != nil {
		printer.release()
		return err
	}
	cs, err := orc.Containers(ctx, orchestrator.Target{Project: p.Name, Services: attach}, false)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(cs))
	mu.Lock()
	for _, c := range cs {
		names = append(names, c.Name)
		if c.State == engine.StateRunning {
			running[c.Name] = true
		}
	}
	remaining := len(running)
	mu.Unlock()
	printer.reserve(names...)
	fmt.Fprintf(a.streams.Out, "Attaching to %s\n", strings.Join(names, ", "))
	printer.release()

	stopAll := func() error { return a.stopServices(ctx, orc, p, opts, false) }
	exitCode := 0
	if remaining == 0 && len(cs) > 0 {
		// Everything attached already finished during up.
		return nil
	}
	for {
		select {
		case <-interrupts:
			stopLogs()
			fmt.Fprintln(a.streams.Err, "Gracefully stopping... (press Ctrl+C again to force)")
			return a.stopAttached(ctx, orc, p, opts, interrupts)
		case e := <-exits:
			// A job others wait for is meant to end: its success is no
			// reason to abort.
			abort := (o.abortOnExit && !(jobs[e.service] && e.code == 0)) || (o.abortOnFailure && e.code != 0)
			if abort {
				code := e.code
				fmt.Fprintf(a.streams.Out, "%s exited with code %d\nAborting on container exit...\n", e.container, e.code)
				if err := stopAll(); err != nil {
					return err
				}
				if o.exitCodeFrom != "" {
					code = a.serviceExitCode(ctx, orc, p.Name, o.exitCodeFrom)
				}
				stopLogs()
				if code != 0 {
					return &exitError{code: code}
				}
				return nil
			}
			if o.exitCodeFrom == e.service {
				exitCode = e.code
			}
			mu.Lock()
			left := len(running)
			mu.Unlock()
			if left == 0 {
				stopLogs()
				if exitCode != 0 {
					return &exitError{code: exitCode}
				}
				return nil
			}
		case err := <-logsDone:
			if err != nil {
				return err
			}
			logsDone = nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (a *app) serviceExitCode(ctx context.Context, orc *orchestrator.Orchestrator, project, service string) int {
	cs, err := orc.Containers(ctx, orchestrator.Target{Project: project, Services: []string{service}}, false)
	if err != nil || len(cs) == 0 {
		return 1
	}
	d, err := orc.Engine().InspectContainer(ctx, cs[0].ID)
	if err != nil {
		return 1
	}
	return d.ExitCode
}

// oneShotDependencies are the services another service waits for with
// service_completed_successfully.
func oneShotDependencies(p *types.Project) map[string]bool {
	out := map[string]bool{}
	for _, s := range p.Services {
		for dep, d := range s.DependsOn {
			if d.Condition == types.ServiceConditionCompletedSuccessfully {
				out[dep] = true
			}
		}
	}
	return out
}

// attachedServices are the services whose logs attached up shows.
func attachedServices(p *types.Project, selected []string, o upOptions) []string {
	var out []string
	switch {
	case len(o.attach) > 0:
		out = o.attach
	case len(selected) > 0 && !o.attachDeps:
		out = selected
	default:
		out = p.ServiceNames()
	}
	var kept []string
	for _, s := range out {
		if !slices.Contains(o.noAttach, s) {
			kept = append(kept, s)
		}
	}
	return kept
}

// stopAttached stops the project's services, each with its grace period;
// a second Ctrl-C kills them instead. It always ends in exit code 130.
func (a *app) stopAttached(ctx context.Context, orc *orchestrator.Orchestrator, p *types.Project, opts orchestrator.UpOptions, interrupts <-chan os.Signal) error {
	stopped := make(chan error, 1)
	stopCtx, cancelStop := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelStop()
	go func() { stopped <- a.stopServices(stopCtx, orc, p, opts, false) }()
	select {
	case <-stopped:
	case <-interrupts:
		cancelStop()
		<-stopped
		_ = a.stopServices(context.WithoutCancel(ctx), orc, p, opts, true)
	}
	return &exitError{code: 130}
}

// stopServices stops (or kills) the services of the project.
func (a *app) stopServices(ctx context.Context, orc *orchestrator.Orchestrator, p *types.Project, opts orchestrator.UpOptions, kill bool) error {
	display := a.progress(nil)
	defer display.Close()
	stopper := orchestrator.New(orc.Engine(), display)
	t := orchestrator.Target{Project: p.Name, Services: p.ServiceNames(), Parallel: a.parallel()}
	if kill {
		err := stopper.Kill(context.WithoutCancel(ctx), t, "SIGKILL")
		if err != nil && strings.Contains(err.Error(), "no container to kill") {
			return nil
		}
		return err
	}
	return stopper.Stop(ctx, t, opts.Timeout)
}
