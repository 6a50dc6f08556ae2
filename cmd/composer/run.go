package main

import (
	"fmt"

	"github.com/mattn/go-shellwords"
	"github.com/spf13/cobra"

	"github.com/composer-orchestrator/composer/orchestrator"
	"github.com/composer-orchestrator/composer/project"
)

type runOptions struct {
	detach, rm, noTTY, noDeps, servicePorts, useAliases, interactive, build, quietPull bool
	env, labels, volumes, ports                                                        []string
	entrypoint, name, user, workdir, pull                                              string
	tty                                                                                bool
}

func (a *app) runCommand() *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:               "run [OPTIONS] SERVICE [COMMAND] [ARGS...]",
		Short:             "Run a one-off command on a service",
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: a.completeServices,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runRun(cmd, args[0], args[1:], o)
		},
	}
	f := cmd.Flags()
	f.SetInterspersed(false)
	f.BoolVarP(&o.detach, "detach", "d", false, "Run container in background and print container ID")
	f.BoolVar(&o.rm, "rm", false, "Automatically remove the container when it exits")
	f.BoolVarP(&o.noTTY, "no-TTY", "T", false, "Disable pseudo-TTY allocation (default: auto-detected)")
	f.BoolVarP(&o.tty, "tty", "t", true, "Allocate a pseudo-TTY")
	_ = f.MarkHidden("tty")
	f.BoolVar(&o.noDeps, "no-deps", false, "Don't start linked services")
	f.BoolVarP(&o.servicePorts, "service-ports", "P", false, "Run command with all service's ports enabled and mapped to the host")
	f.BoolVar(&o.useAliases, "use-aliases", false, "Use the service's network useAliases in the network(s) the container connects to")
	f.BoolVarP(&o.interactive, "interactive", "i", true, "Keep STDIN open even if not attached")
	f.BoolVar(&o.build, "build", false, "Build image before starting container")
	f.BoolVar(&o.quietPull, "quiet-pull", false, "Pull without printing progress information")
	f.StringArrayVarP(&o.env, "env", "e", nil, "Set environment variables")
	f.StringArrayVarP(&o.labels, "label", "l", nil, "Add or override a label")
	f.StringArrayVarP(&o.volumes, "volume", "v", nil, "Bind mount a volume")
	f.StringArrayVarP(&o.ports, "publish", "p", nil, "Publish a container's port(s) to the host")
	f.StringVar(&o.entrypoint, "entrypoint", "", "Override the entrypoint of the image")
	f.StringVar(&o.name, "name", "", "Assign a name to the container")
	f.StringVarP(&o.user, "user", "u", "", "Run as specified username or uid")
	f.StringVarP(&o.workdir, "workdir", "w", "", "Working directory inside the container")
	f.StringVar(&o.pull, "pull", "policy", `Pull image before running ("always"|"missing"|"never")`)
	return cmd
}

func (a *app) runRun(cmd *cobra.Command, service string, command []string, o runOptions) error {
	ctx := cmd.Context()
	switch {
	case cmd.Flags().Changed("no-TTY"):
	case cmd.Flags().Changed("tty"):
		o.noTTY = !o.tty
	default:
		o.noTTY = !isTerminal(a.streams.Out)
	}
	p, err := a.loadProject(ctx)
	if err != nil {
		return err
	}
	if _, err := p.GetService(service); err != nil {
		if p, err = project.Select(p, []string{service}, o.noDeps); err != nil {
			return err
		}
	}
	opts, err := a.runOptions(cmd, service, command, o)
	if err != nil {
		return err
	}
	display := a.progress()
	orc, err := a.orchestrator(ctx, display)
	if err != nil {
		display.Close()
		return err
	}
	// The project is held while run starts dependencies and creates the
	// one-off container, not while the one-off runs.
	var id, name string
	err = a.change(ctx, orc, "run", p.Name, p, func() (err error) {
		id, name, err = orc.RunPrepare(ctx, p, opts)
		return err
	})
	// The progress view is done before the container owns the terminal.
	display.Close()
	if err != nil {
		return err
	}
	code, err := orc.RunOneOff(ctx, orchestrator.OneOff{Project: p.Name, ID: id, Name: name},
		orchestrator.OneOffOptions{Detach: o.detach, Remove: o.rm, TTY: opts.TTY, Interactive: opts.Interactive}, a.terminal())
	if err == nil && o.detach {
		fmt.Fprintln(a.streams.Out, name)
	}
	return exitCode(code, err)
}

func (a *app) runOptions(cmd *cobra.Command, service string, command []string, o runOptions) (orchestrator.RunOptions, error) {
	opts := orchestrator.RunOptions{
		Service: service, Env: o.env, Environ: a.lookupEnv, Labels: o.labels, Name: o.name,
		User: o.user, Workdir: o.workdir, Volumes: o.volumes, Ports: o.ports,
		ServicePorts: o.servicePorts, UseAliases: o.useAliases, NoDeps: o.noDeps,
		TTY: !o.noTTY && !o.detach, Interactive: o.interactive && !o.detach,
		Images: orchestrator.ImageOptions{Build: o.build, QuietPull: o.quietPull},
	}
	var err error
	if opts.Images.Pull, err = pullPolicy(cmd, o.pull); err != nil {
		return opts, err
	}
	if len(command) > 0 {
		opts.Command = command
	}
	if cmd.Flags().Changed("entrypoint") {
		ep, err := shellwords.Parse(o.entrypoint)
		if err != nil {
			return opts, fmt.Errorf("invalid --entrypoint: %w", err)
		}
		opts.Entrypoint = ep
		if opts.Entrypoint == nil {
			opts.Entrypoint = []string{}
		}
	}
	return opts, nil
}
