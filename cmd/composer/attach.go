package main

import (
	"context"
	"strconv"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/composer-orchestrator/composer/orchestrator"
)

type attachOptions struct {
	index      int
	detachKeys string
	noStdin    bool
	sigProxy   bool
}

func (a *app) attachCommand() *cobra.Command {
	var o attachOptions
	cmd := &cobra.Command{
		Use:               "attach [OPTIONS] SERVICE",
		Short:             "Attach local standard input, output, and error streams to a service's running container",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: a.completeServices,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if _, err := orchestrator.ParseDetachKeys(o.detachKeys); err != nil {
				return usageError(cmd, err.Error())
			}
			t, err := a.readTarget(cmd, args, o.index)
			if err != nil {
				return err
			}
			orc, err := a.orchestrator(ctx, nil)
			if err != nil {
				return err
			}
			opts := orchestrator.AttachServiceOptions{DetachKeys: o.detachKeys, NoStdin: o.noStdin}
			if o.sigProxy {
				opts.Signals = func() <-chan string { return a.proxiedSignals(ctx) }
			}
			return exitCode(orc.AttachService(ctx, t, opts, a.terminal()))
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.index, "index", 0, "index of the container if service has multiple replicas.")
	f.StringVar(&o.detachKeys, "detach-keys", "", "Override the key sequence for detaching from a container.")
	f.BoolVar(&o.noStdin, "no-stdin", false, "Do not attach STDIN")
	f.BoolVar(&o.sigProxy, "sig-proxy", true, "Proxy all received signals to the process")
	return cmd
}

// proxiedSignals takes Ctrl-C and SIGTERM from the command (which would
// otherwise end it) and hands them on by name, for the orchestrator to
// pass on to the container's process. Like any command that handles
// interrupts itself, attach still ends at the third.
func (a *app) proxiedSignals(ctx context.Context) <-chan string {
	in := a.interrupts()
	out := make(chan string)
	go func() {
		for {
			select {
			case <-in:
				select {
				case out <- a.signalName():
				case <-ctx.Done():
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// signalName names the signal that interrupted the command, for the
// engine; the app records the first one, and SIGINT and SIGTERM are the
// only ones it listens to.
func (a *app) signalName() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	s, ok := a.signal.(syscall.Signal)
	switch {
	case !ok, s == syscall.SIGINT:
		return "SIGINT"
	case s == syscall.SIGTERM:
		return "SIGTERM"
	}
	return strconv.Itoa(int(s))
}
