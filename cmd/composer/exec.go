package main

import (
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/composer-orchestrator/composer/orchestrator"
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
			if !cmd.Flags().Changed("no-tty") {
				o.noTTY = !isTerminal(a.streams.Out)
			}
			t, err := a.target(cmd, args[:1], o.index)
			if err != nil {
				return err
			}
			orc, err := a.orchestrator(cmd.Context(), nil)
			if err != nil {
				return err
			}
			return exitCode(orc.Exec(cmd.Context(), t, orchestrator.ExecOptions{
				Command: args[1:], Env: o.env, Environ: a.lookupEnv, User: o.user, Workdir: o.workdir,
				TTY: !o.noTTY, Stdin: o.interactive, Privileged: o.privileged, Detach: o.detach,
			}, a.terminal()))
		},
	}
	f := cmd.Flags()
	f.SetInterspersed(false)
	f.BoolVarP(&o.detach, "detach", "d", false, "Detached mode: Run command in the background")
	f.BoolVarP(&o.noTTY, "no-tty", "T", false, "Disable pseudo-TTY allocation. By default a TTY is allocated when standard output is a terminal")
	f.BoolVar(&o.privileged, "privileged", false, "Give extended privileges to the process")
	f.BoolVarP(&o.interactive, "interactive", "i", true, "Keep STDIN open even if not attached")
	f.StringArrayVarP(&o.env, "env", "e", nil, "Set environment variables")
	f.StringVarP(&o.user, "user", "u", "", "Run the command as this user")
	f.StringVarP(&o.workdir, "workdir", "w", "", "Path to workdir directory for this command")
	f.IntVar(&o.index, "index", 0, "Index of the container if service has multiple replicas")
	return cmd
}

// terminal describes the user's terminal to interactive operations: raw
// mode on standard input, and the size of standard output.
func (a *app) terminal() orchestrator.Terminal {
	t := orchestrator.Terminal{In: a.streams.In, Out: a.streams.Out, Err: a.streams.Err}
	if in, ok := a.streams.In.(*os.File); ok && term.IsTerminal(int(in.Fd())) {
		t.Raw = func() func() {
			state, err := term.MakeRaw(int(in.Fd()))
			if err != nil {
				return func() {}
			}
			return func() { _ = term.Restore(int(in.Fd()), state) }
		}
	}
	if out, ok := a.streams.Out.(*os.File); ok {
		t.Size = func() (uint, uint, bool) {
			w, h, err := term.GetSize(int(out.Fd()))
			return uint(h), uint(w), err == nil
		}
	}
	return t
}
