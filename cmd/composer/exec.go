package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/composer/composer/engine"
	"github.com/composer/composer/orchestrator"
)

type execOptions struct {
	detach, noTTY, privileged, interactive bool
	env                                    []string
	user, workdir                          string
	index                                  int
}

func (a *app) execCommand() *cobra.Command {
	var o execOptions
	cmd := &cobra.Command{
		Use:               "exec [OPTIONS] SERVICE COMMAND [ARGS...]",
		Short:             "Execute a command in a running container",
		Args:              cobra.MinimumNArgs(2),
		ValidArgsFunction: a.completeServices,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runExec(cmd, args[0], args[1:], o)
		},
	}
	f := cmd.Flags()
	f.SetInterspersed(false)
	f.BoolVarP(&o.detach, "detach", "d", false, "Detached mode: Run command in the background")
	f.BoolVarP(&o.noTTY, "no-tty", "T", !isTerminal(os.Stdout), "Disable pseudo-TTY allocation. By default a TTY is allocated when standard output is a terminal")
	f.BoolVar(&o.privileged, "privileged", false, "Give extended privileges to the process")
	f.BoolVarP(&o.interactive, "interactive", "i", true, "Keep STDIN open even if not attached")
	f.StringArrayVarP(&o.env, "env", "e", nil, "Set environment variables")
	f.StringVarP(&o.user, "user", "u", "", "Run the command as this user")
	f.StringVarP(&o.workdir, "workdir", "w", "", "Path to workdir directory for this command")
	f.IntVar(&o.index, "index", 0, "Index of the container if service has multiple replicas")
	return cmd
}

func (a *app) runExec(cmd *cobra.Command, service string, command []string, o execOptions) error {
	ctx := cmd.Context()
	index := o.index
	if index == 0 {
		index = 1
	}
	orc, cs, err := a.listContainers(cmd, []string{service}, index, false)
	if err != nil {
		return err
	}
	var c *engine.Container
	for i := range cs {
		if cs[i].State == engine.StateRunning {
			c = &cs[i]
			break
		}
	}
	if c == nil {
		return fmt.Errorf("service %q is not running", service)
	}
	env := make([]string, 0, len(o.env))
	for _, kv := range o.env {
		if !strings.Contains(kv, "=") {
			if v, ok := a.lookupEnv(kv); ok {
				kv += "=" + v
			} else {
				continue
			}
		}
		env = append(env, kv)
	}
	tty := !o.noTTY
	spec := engine.ExecSpec{
		Cmd: command, Env: env, User: o.user, WorkingDir: o.workdir,
		TTY: tty, Stdin: o.interactive && !o.detach, Privileged: o.privileged, Detach: o.detach,
	}
	streams := engine.Streams{Stdout: a.streams.Out, Stderr: a.streams.Err}
	if spec.Stdin {
		streams.Stdin = a.streams.In
	}
	restore := a.rawTerminal(tty)
	defer restore()
	if tty {
		spec.OnStart = func(execID string) { a.resize(ctx, orc, execID, true) }
	}
	code, err := orc.Engine().Exec(ctx, c.ID, spec, streams)
	if err != nil {
		return err
	}
	if code != 0 {
		return &exitError{code: code}
	}
	return nil
}

// rawTerminal puts standard input in raw mode for a TTY session and
// returns the function that restores it.
func (a *app) rawTerminal(tty bool) func() {
	f, ok := a.streams.In.(*os.File)
	if !tty || !ok || !term.IsTerminal(int(f.Fd())) {
		return func() {}
	}
	state, err := term.MakeRaw(int(f.Fd()))
	if err != nil {
		return func() {}
	}
	return func() { _ = term.Restore(int(f.Fd()), state) }
}

// resize tells the engine the terminal's size.
func (a *app) resize(ctx context.Context, orc *orchestrator.Orchestrator, id string, exec bool) {
	f, ok := a.streams.Out.(*os.File)
	if !ok {
		return
	}
	w, h, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return
	}
	_ = orc.Engine().ResizeTTY(ctx, id, uint(h), uint(w), exec)
}
