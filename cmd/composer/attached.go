package main

import (
	"context"
	"fmt"
	"strings"
	"syscall"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/composer-orchestrator/composer/orchestrator"
	"github.com/composer-orchestrator/composer/state"
)

// runAttachedUp is up without -d: the orchestrator brings the project up
// and follows its logs; this renders the progress, the lines and the
// notices, and hands Ctrl-C over. upDone, if set, is called once the
// project is up, before its logs are followed (up --watch starts watching
// there).
func (a *app) runAttachedUp(ctx context.Context, p *types.Project, selected []string, o upOptions, opts orchestrator.UpOptions, upDone func()) error {
	attach := orchestrator.AttachedServices(p, selected, orchestrator.AttachSelection{Attach: o.attach, NoAttach: o.noAttach, Dependencies: o.attachDeps})
	printer := newLogPrinter(a.streams.Out, a.streams.Err, a.colors() && isTerminal(a.streams.Out) && !o.noColor, o.noLogPrefix)
	// Known names set the prefix width before the first line is printed.
	for _, svc := range attach {
		if sc, ok := p.Services[svc]; ok {
			for n := 1; n <= sc.GetScale(); n++ {
				printer.reserve(orchestrator.ContainerName(p.Name, sc, n))
			}
		}
	}
	// Lines wait while the progress view owns the terminal.
	printer.hold()
	view := &attachedView{a: a, printer: printer, display: &phasedDisplay{open: a.progress}}
	defer view.display.Close()
	orc, err := a.orchestrator(ctx, view.display)
	if err != nil {
		return err
	}
	w, err := a.beginChange(ctx, orc, "up", p.Name, p)
	if err != nil {
		return err
	}
	// The project is held while it is brought up (and stopped, after an
	// interrupt then), not while its logs are followed: other commands
	// (restart web, from another terminal) must not wait for that.
	defer a.endChange(w)
	// Once the project is up, it is kept healthy as composer supervise
	// keeps it, while the logs are followed, unless a supervisor runs.
	stopSupervising := func() {}
	defer func() { stopSupervising() }()
	code, err := orc.AttachedUp(ctx, p, orchestrator.AttachOptions{
		Up: opts, Services: attach, Timestamps: o.timestamps, Interrupts: a.interrupts(),
		AbortOnExit: o.abortOnExit, AbortOnFailure: o.abortOnFailure, ExitCodeFrom: o.exitCodeFrom,
		Changing: a.changing(p.Name),
		UpDone: func() {
			a.endChange(w)
			if !a.global.dryRun {
				stopSupervising = a.supervising(ctx, orc, p)
			}
			if upDone != nil {
				upDone()
			}
		},
	}, view)
	printer.release()
	return exitCode(code, err)
}

// attachedView renders what attached up reports.
type attachedView struct {
	a       *app
	printer *logPrinter
	display *phasedDisplay
}

func (v *attachedView) Log(container, service string, stderr bool, line string) {
	v.printer.Log(container, service, stderr, line)
}

func (v *attachedView) Notice(n orchestrator.Notice) {
	out := v.a.streams.Out
	switch n.Kind {
	case orchestrator.NoticeAttaching:
		// Up is done: the progress view gives the terminal to the logs.
		v.display.Close()
		v.printer.reserve(n.Containers...)
		fmt.Fprintf(out, "Attaching to %s\n", strings.Join(n.Containers, ", "))
		v.printer.release()
	case orchestrator.NoticeAborting:
		fmt.Fprintf(out, "%s exited with code %d\nAborting on container exit...\n", n.Container, n.ExitCode)
	case orchestrator.NoticeStopping:
		v.display.Close()
		fmt.Fprintln(v.a.streams.Err, "Gracefully stopping... (press Ctrl+C again to force)")
	default:
		v.printer.Notice(n)
	}
}

// changing reports, for attached up, whether another composer command is
// changing the project: one has a journal entry open until it ends. An
// entry whose process is gone was left by a killed command, which
// changes nothing any more.
func (a *app) changing(project string) func() bool {
	return func() bool {
		key, err := a.stateKey(project)
		if err != nil {
			return false
		}
		e, err := state.Pending(key)
		if err != nil || e == nil {
			return false
		}
		return syscall.Kill(e.PID, 0) == nil
	}
}
