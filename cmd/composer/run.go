package main

import (
	"context"
	"fmt"
	"os"

	"github.com/mattn/go-shellwords"
	"github.com/spf13/cobra"

	"github.com/composer/composer/engine"
	"github.com/composer/composer/orchestrator"
	"github.com/composer/composer/project"
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
	f.BoolVarP(&o.noTTY, "no-TTY", "T", !isTerminal(os.Stdout), "Disable pseudo-TTY allocation (default: auto-detected)")
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
	p, err := a.loadProject(ctx)
	if err != nil {
		return err
	}
	if _, err := p.GetService(service); err != nil {
		if p, err = project.Select(p, []string{service}, o.noDeps); err != nil {
			return err
		}
	}
	opts := orchestrator.RunOptions{
		Service: service, Env: o.env, Environ: a.lookupEnv, Labels: o.labels, Name: o.name,
		User: o.user, Workdir: o.workdir, Volumes: o.volumes, Ports: o.ports,
		ServicePorts: o.servicePorts, UseAliases: o.useAliases, NoDeps: o.noDeps,
		TTY: !o.noTTY && !o.detach, Interactive: o.interactive && !o.detach, Parallel: a.parallel(),
		Images: orchestrator.ImageOptions{Build: o.build},
	}
	if o.pull != "policy" {
		opts.Images.Pull = o.pull
	}
	if len(command) > 0 {
		opts.Command = command
	}
	if cmd.Flags().Changed("entrypoint") {
		ep, err := shellwords.Parse(o.entrypoint)
		if err != nil {
			return fmt.Errorf("invalid --entrypoint: %w", err)
		}
		opts.Entrypoint = ep
		if opts.Entrypoint == nil {
			opts.Entrypoint = []string{}
		}
	}
	display := a.progress(cmd)
	orc, err := a.orchestrator(ctx, display)
	if err != nil {
		display.Close()
		return err
	}
	id, name, err := orc.RunPrepare(ctx, p, opts)
	display.Close()
	if err != nil {
		return err
	}
	eng := orc.Engine()
	if o.detach {
		if err := eng.StartContainer(ctx, id); err != nil {
			return fmt.Errorf("starting container %s: %w", name, err)
		}
		fmt.Fprintln(a.streams.Out, name)
		return nil
	}
	streams := engine.Streams{Stdout: a.streams.Out, Stderr: a.streams.Err}
	if opts.Interactive {
		streams.Stdin = a.streams.In
	}
	if opts.TTY {
		streams.Stderr = nil // a TTY merges the streams
	}
	// Attach before starting so that no output is lost.
	wait, err := eng.Attach(ctx, id, streams, opts.TTY)
	if err != nil {
		return err
	}
	restore := a.rawTerminal(opts.TTY)
	if err := eng.StartContainer(ctx, id); err != nil {
		restore()
		return fmt.Errorf("starting container %s: %w", name, err)
	}
	if opts.TTY {
		a.resize(ctx, orc, id, false)
	}
	outErr := wait()
	restore()
	code, err := orc.WaitExit(context.WithoutCancel(ctx), p.Name, id)
	if o.rm {
		_ = eng.RemoveContainer(context.WithoutCancel(ctx), id, engine.RemoveOptions{Force: true, RemoveVolumes: true})
	}
	if err != nil {
		return err
	}
	if outErr != nil && ctx.Err() != nil {
		return outErr
	}
	if code != 0 {
		return &exitError{code: code}
	}
	return nil
}
