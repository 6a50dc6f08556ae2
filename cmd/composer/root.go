package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/sirupsen/logrus"
	"github.com/spf13/cobra"

	"github.com/composer/composer/engine"
	"github.com/composer/composer/engine/docker"
	"github.com/composer/composer/orchestrator"
	"github.com/composer/composer/project"
)

// Streams are the process's standard streams and environment, passed in
// so that commands can be run from tests.
type Streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
	Env []string
	// Interrupts delivers Ctrl-C; nil in tests that send none.
	Interrupts <-chan os.Signal
}

// exitError carries an exit code other than 1 up to run.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// globalOptions are the flags every command shares, as in docker compose.
type globalOptions struct {
	files       []string
	projectName string
	projectDir  string
	profiles    []string
	envFiles    []string
	parallel    int
	progress    string
	ansi        string
	dryRun      bool
}

// app holds what the commands share during one run.
type app struct {
	streams Streams
	global  globalOptions
	eng     engine.Engine
	closeFn func()
	// onInterrupt, when it holds a channel, receives Ctrl-C instead of the
	// command's context being cancelled.
	onInterrupt atomic.Value
}

func run(ctx context.Context, args []string, streams Streams) int {
	// compose-go reports some warnings through logrus; show them the way
	// docker compose does, on standard error without timestamps.
	logrus.SetOutput(streams.Err)
	logrus.SetFormatter(&logrus.TextFormatter{DisableTimestamp: true, DisableQuote: true})

	a := &app{streams: streams}
	defer a.close()
	// Ctrl-C cancels the command, unless a command (attached up) asked to
	// handle it itself; a cancelled command exits 130.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		for {
			select {
			case sig, ok := <-streams.Interrupts:
				if !ok {
					return
				}
				if h, _ := a.onInterrupt.Load().(chan os.Signal); h != nil {
					h <- sig
					continue
				}
				cancel()
			case <-ctx.Done():
				return
			}
		}
	}()
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.Err)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(streams.Err, ee.err)
		}
		return ee.code
	}
	if errors.Is(err, context.Canceled) || ctx.Err() != nil {
		return 130
	}
	fmt.Fprintln(streams.Err, err)
	return 1
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "composer",
		Short:         "Define and run multi-container applications",
		SilenceUsage:  true,
		SilenceErrors: true,
		// Global flags go before the command, as in docker compose, so that
		// commands may reuse their letters (logs -f, run -p).
		TraverseChildren: true,
		// A missing or unknown subcommand is a usage error.
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmd.Help()
		},
		CompletionOptions: cobra.CompletionOptions{HiddenDefaultCmd: false},
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &exitError{code: 1, err: fmt.Errorf("%w\nSee '%s --help'.", err, cmd.CommandPath())}
	})
	f := root.Flags()
	g := &a.global
	f.StringArrayVarP(&g.files, "file", "f", nil, "Compose configuration files")
	f.StringVarP(&g.projectName, "project-name", "p", "", "Project name")
	f.StringVar(&g.projectDir, "project-directory", "", "Specify an alternate working directory (default: the path of the first specified Compose file)")
	f.StringArrayVar(&g.profiles, "profile", nil, "Specify a profile to enable")
	f.StringArrayVar(&g.envFiles, "env-file", nil, "Specify an alternate environment file")
	f.IntVar(&g.parallel, "parallel", -1, "Control max parallelism, -1 for unlimited")
	f.StringVar(&g.progress, "progress", "", "Set type of progress output (auto, tty, plain, json, quiet) (default auto)")
	f.StringVar(&g.ansi, "ansi", "auto", `Control when to print ANSI control characters ("never"|"always"|"auto")`)
	f.BoolVar(&g.dryRun, "dry-run", false, "Execute command in dry run mode")
	_ = f.MarkHidden("dry-run")

	root.AddCommand(
		a.upCommand(),
		a.downCommand(),
		a.logsCommand(),
		a.psCommand(),
		a.lsCommand(),
		a.configCommand(),
		a.versionCommand(),
		a.execCommand(),
		a.runCommand(),
		a.buildCommand(),
		a.pullCommand(),
		a.topCommand(),
		a.portCommand(),
		a.imagesCommand(),
	)
	root.AddCommand(a.lifecycleCommands()...)
	return root
}

func (a *app) close() {
	if a.closeFn != nil {
		a.closeFn()
	}
}

func (a *app) lookupEnv(key string) (string, bool) {
	for _, kv := range a.streams.Env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}

// projectOptions turns the global flags into loader options.
func (a *app) projectOptions() project.Options {
	g := a.global
	return project.Options{
		Files:            g.files,
		Name:             g.projectName,
		ProjectDirectory: g.projectDir,
		Profiles:         g.profiles,
		EnvFiles:         g.envFiles,
		Env:              a.streams.Env,
	}
}

// loadProject loads the compose project named by the global flags.
func (a *app) loadProject(ctx context.Context) (*types.Project, error) {
	return project.Load(ctx, a.projectOptions())
}

// projectName resolves the project's name, from the file if there is one,
// so that commands like down work with only -p and no compose file.
func (a *app) projectName(ctx context.Context) (string, *types.Project, error) {
	return project.Resolve(ctx, a.projectOptions())
}

// engine connects to the Docker engine once per run.
func (a *app) engine(ctx context.Context) (engine.Engine, error) {
	if a.eng != nil {
		return a.eng, nil
	}
	e, err := docker.New(ctx)
	if err != nil {
		return nil, err
	}
	a.eng = e
	a.closeFn = func() { _ = e.Close() }
	return e, nil
}

// parallel is the concurrency bound: --parallel, then
// COMPOSE_PARALLEL_LIMIT; 0 means unbounded.
func (a *app) parallel() int {
	if a.global.parallel > 0 {
		return a.global.parallel
	}
	if v, ok := a.lookupEnv("COMPOSE_PARALLEL_LIMIT"); ok {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			return n
		}
	}
	return 0
}

// orchestrator returns an orchestrator reporting to the progress display.
func (a *app) orchestrator(ctx context.Context, sink orchestrator.Sink) (*orchestrator.Orchestrator, error) {
	e, err := a.engine(ctx)
	if err != nil {
		return nil, err
	}
	return orchestrator.New(e, sink), nil
}

// stdoutIsTerminal reports whether standard output is a terminal.
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
