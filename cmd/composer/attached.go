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
		mu.Lock()
		defer mu.Unlock()
		var code int
		if _, err := fmt.Sscanf(text, "exited with code %d", &code); err == nil {
			delete(running, container)
			exits <- exitNote{container, service, code}
			return
		}
		if text == "attached" {
			running[container] = true
		}
	}
	display := a.progress(nil)
	orc, err := a.orchestrator(ctx, display)
	if err != nil {
		return err
	}
	// Logs are read from the start of each container's log, so following
	// can begin right away; lines wait until the progress view is done.
	printer.hold()
	logCtx, stopLogs := context.WithCancel(ctx)
	defer stopLogs()
	logsDone := make(chan error, 1)
	go func() {
		logsDone <- orc.Logs(logCtx, p.Name, orchestrator.LogOptions{Services: attach, Follow: true, Timestamps: o.timestamps}, printer)
	}()
	err = orc.Up(ctx, p, opts)
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

	stopAll := func(kill bool) error {
		stopper := orchestrator.New(orc.Engine(), a.progress(nil))
		t := orchestrator.Target{Project: p.Name, Services: p.ServiceNames(), Parallel: a.parallel()}
		if kill {
			return stopper.Kill(context.WithoutCancel(ctx), t, "SIGKILL")
		}
		return stopper.Stop(context.WithoutCancel(ctx), t, opts.Timeout)
	}
	exitCode := 0
	if remaining == 0 && len(cs) > 0 {
		// Everything attached already finished during up.
		return nil
	}
	for {
		select {
		case <-a.interrupts():
			fmt.Fprintln(a.streams.Err, "Gracefully stopping... (press Ctrl+C again to force)")
			stopped := make(chan error, 1)
			go func() { stopped <- stopAll(false) }()
			select {
			case <-stopped:
			case <-a.interrupts():
				_ = stopAll(true)
			}
			stopLogs()
			return &exitError{code: 130}
		case e := <-exits:
			abort := o.abortOnExit || (o.abortOnFailure && e.code != 0)
			if abort {
				code := e.code
				fmt.Fprintf(a.streams.Out, "%s exited with code %d\nAborting on container exit...\n", e.container, e.code)
				if err := stopAll(false); err != nil {
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

// interrupts delivers Ctrl-C presses; none in tests without signals.
func (a *app) interrupts() <-chan os.Signal {
	return a.streams.Interrupts
}
