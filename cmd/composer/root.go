package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/spf13/cobra"

	"github.com/composer-orchestrator/composer/engine/docker"
	"github.com/composer-orchestrator/composer/orchestrator"
	"github.com/composer-orchestrator/composer/project"
	"github.com/composer-orchestrator/composer/stack"
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
	// Program is the name the binary was called by (its base name): the
	// command's name in help and completion, or, as docker-composer, the
	// Docker CLI plugin. Empty means composer.
	Program string
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

// exitCode turns an operation's exit code into the command's result.
func exitCode(code int, err error) error {
	if err != nil || code == 0 {
		return err
	}
	return &exitError{code: code}
}

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
	// lockTimeout is --lock-timeout in seconds; -1 when not given.
	lockTimeout int
	// noHealthProbe is --no-health-probe.
	noHealthProbe bool
}

// connection is what a run holds of the engine.
type connection struct {
	// orchestrator makes an orchestrator over the engine.
	orchestrator func(orchestrator.Sink, ...orchestrator.Option) *orchestrator.Orchestrator
	// info asks the engine for its version (for the version command).
	info  func(context.Context) (engineInfo, error)
	close func()
	// stack is the engine as deploy and undeploy use it.
	stack stack.Engine
	// host is the engine's address: a project's lock and journal are per
	// engine, as its containers are.
	host string
}

// connector opens the engine, once per run. host, when not empty, names
// the engine instead of DOCKER_HOST.
type connector func(ctx context.Context, host string) (connection, error)

// dockerEngine connects to the Docker engine that DOCKER_HOST (or the
// default socket) names: the one place that chooses the engine.
func dockerEngine(ctx context.Context, host string) (connection, error) {
	e, err := docker.New(ctx, host)
	if err != nil {
		return connection{}, err
	}
	return connection{
		orchestrator: func(s orchestrator.Sink, opts ...orchestrator.Option) *orchestrator.Orchestrator {
			return orchestrator.New(e, s, opts...)
		},
		info: func(ctx context.Context) (engineInfo, error) {
			i, err := e.Info(ctx)
			return engineInfo{Version: i.ServerVersion, APIVersion: i.APIVersion}, err
		},
		close: func() { _ = e.Close() },
		stack: e,
		host:  e.Host(),
	}, nil
}

// app holds what the commands share during one run.
type app struct {
	streams Streams
	global  globalOptions
	connect connector
	// conn is the engine connection, opened by the first command that
	// needs it.
	conn *connection
	// dockerHost is the Docker CLI's -H, given to the plugin.
	dockerHost string
	// checkDockerFlags, set for the plugin, refuses the Docker CLI's
	// global flags composer cannot honour.
	checkDockerFlags func(*cobra.Command) error
	// mu guards onInterrupt: the signal goroutine reads it while a
	// command sets it.
	mu sync.Mutex
	// onInterrupt, when set, receives Ctrl-C instead of the command's
	// context being cancelled (attached up stops the project itself).
	onInterrupt chan struct{}
	// signal is the first interrupting signal, which sets the exit code
	// (128 + its number); guarded by mu.
	signal os.Signal
	// hard is cancelled when the user insists (the interrupt after the
	// one that stopped scheduling): engine requests under way are then
	// abandoned rather than waited for.
	hard context.Context
	// args are the command line, for the lock's and journal's records.
	args []string
	// writing is the project held for writing, whose journal records the
	// requests sent; set and read on different goroutines.
	writing       atomic.Pointer[writer]
	journalFailed atomic.Bool
	// probes serializes the read-modify-write of the probe record: the
	// probes of one up pass on many goroutines.
	probes sync.Mutex
}

func run(ctx context.Context, args []string, streams Streams) int {
	return runWith(ctx, args, streams, dockerEngine)
}

// runWith runs one command line over the engine connect opens, and
// returns the process's exit code.
func runWith(ctx context.Context, args []string, streams Streams, connect connector) int {
	a := &app{streams: streams, connect: connect, args: args}
	defer a.close()
	hard, abandon := context.WithCancel(ctx)
	defer abandon()
	a.hard = hard
	ctx, cancel := context.WithCancel(hard)
	defer cancel()
	go a.forwardInterrupts(cancel, abandon)
	top, err := a.commandTree(args)
	if err != nil {
		fmt.Fprintln(streams.Err, err)
		return 1
	}
	if top == nil {
		return 0 // the plugin metadata was asked for and written
	}
	top.SetArgs(args)
	top.SetIn(streams.In)
	top.SetOut(streams.Out)
	top.SetErr(streams.Err)
	return a.exitCode(ctx, top.ExecuteContext(ctx))
}

// commandTree is the command tree to run: composer's, or under the Docker
// CLI, a docker command holding it so that help says "docker composer".
// It is nil when the call was the plugin protocol's metadata request.
func (a *app) commandTree(args []string) (*cobra.Command, error) {
	program := a.streams.Program
	if program == "" {
		program = "composer"
	}
	if program != pluginBinary {
		return a.rootCommand(program), nil
	}
	if len(args) > 0 && args[0] == pluginMetadataCommand {
		return nil, writePluginMetadata(a.streams.Out)
	}
	docker := &cobra.Command{Use: "docker", SilenceUsage: true, SilenceErrors: true, TraverseChildren: true}
	a.dockerFlags(docker)
	refuseUnknown(docker)
	docker.AddCommand(a.rootCommand(pluginName))
	return docker, nil
}

// dockerFlags are the Docker CLI's global flags, which it passes on to a
// plugin before the plugin's name. -H names the engine; the others would
// need the Docker CLI's configuration and contexts, which composer does not
// read, so they are refused rather than ignored.
func (a *app) dockerFlags(docker *cobra.Command) {
	f := docker.PersistentFlags()
	f.StringVarP(&a.dockerHost, "host", "H", "", "Daemon socket to connect to")
	var refused []string
	for _, r := range []struct {
		name, short string
		bool        bool
	}{
		{"context", "c", false}, {"config", "", false}, {"log-level", "l", false},
		{"tlscacert", "", false}, {"tlscert", "", false}, {"tlskey", "", false},
		{"debug", "D", true}, {"tls", "", true}, {"tlsverify", "", true},
	} {
		if r.bool {
			f.BoolP(r.name, r.short, false, "not supported by docker composer")
		} else {
			f.StringP(r.name, r.short, "", "not supported by docker composer")
		}
		_ = f.MarkHidden(r.name)
		refused = append(refused, r.name)
	}
	a.checkDockerFlags = func(cmd *cobra.Command) error {
		for _, name := range refused {
			if f.Changed(name) {
				return usageError(cmd, fmt.Sprintf("docker --%s is not supported by docker composer: set DOCKER_HOST (or -H), DOCKER_TLS_VERIFY and DOCKER_CERT_PATH instead", name))
			}
		}
		return nil
	}
}

// exitCode maps a command's end to the process's exit code: 0, the code
// an operation asked for, 128 + the signal's number after an interrupt
// (130 for Ctrl-C, 143 for SIGTERM), or 1 for any other error, which is
// printed.
func (a *app) exitCode(ctx context.Context, err error) int {
	var ee *exitError
	var ie *orchestrator.InterruptedError
	switch {
	case err == nil && ctx.Err() == nil:
		return 0
	case errors.As(err, &ee):
		if ee.err != nil {
			fmt.Fprintln(a.streams.Err, ee.err)
		}
		return ee.code
	case errors.As(err, &ie):
		// What the interrupt left undone, for the user to decide on.
		fmt.Fprintln(a.streams.Err, ie)
		return a.interruptCode()
	case err == nil, errors.Is(err, orchestrator.ErrInterrupted), errors.Is(err, context.Canceled), ctx.Err() != nil:
		// A command that ends quietly on Ctrl-C (logs -f) was still
		// interrupted, as docker compose reports it.
		return a.interruptCode()
	}
	io.WriteString(a.streams.Err, describeError(err, isTerminal(a.streams.Err)))
	return 1
}

// describeError renders an error for the user. On a terminal, a problem
// in a compose file also shows the line it is on, with a caret under the
// spot; in a log the file:line:col prefix says it without the noise.
func describeError(err error, tty bool) string {
	if !tty {
		return err.Error() + "\n"
	}
	var problems []error
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		problems = joined.Unwrap()
	} else {
		problems = []error{err}
	}
	var b strings.Builder
	for _, p := range problems {
		b.WriteString(p.Error() + "\n")
		var le *project.LoadError
		if errors.As(p, &le) && le == p {
			if s := le.Snippet(); s != "" {
				b.WriteString(strings.TrimRight(s, "\n") + "\n")
			}
		}
	}
	return b.String()
}

// interruptCode is 128 + the number of the signal that interrupted.
func (a *app) interruptCode() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	if s, ok := a.signal.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 130
}

// forwardInterrupts handles SIGINT and SIGTERM. The first stops the
// command scheduling work (cancel): engine requests under way finish, and
// the command ends saying what it left undone. The next abandons those
// requests (abandon). A command that handles interrupts itself (attached
// up: the first stops the project, the second kills it) gets the first
// two, and a third abandons.
func (a *app) forwardInterrupts(cancel, abandon func()) {
	n := 0
	for {
		select {
		case sig, ok := <-a.streams.Interrupts:
			if !ok {
				return
			}
			n++
			a.mu.Lock()
			if a.signal == nil {
				a.signal = sig
			}
			h := a.onInterrupt
			a.mu.Unlock()
			switch {
			case h != nil && n <= 2:
				select {
				case h <- struct{}{}:
				default: // two pending ones (stop, then kill) say all there is
				}
			case n == 1:
				cancel()
			default:
				cancel()
				abandon()
			}
		case <-a.hard.Done():
			return
		}
	}
}

// interrupts makes Ctrl-C reach the returned channel instead of
// cancelling the command.
func (a *app) interrupts() <-chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.onInterrupt == nil {
		a.onInterrupt = make(chan struct{}, 2)
	}
	return a.onInterrupt
}

func (a *app) rootCommand(name string) *cobra.Command {
	root := &cobra.Command{
		Use:           name,
		Short:         "Define and run multi-container applications",
		SilenceUsage:  true,
		SilenceErrors: true,
		// Global flags go before the command, as in docker compose, so that
		// commands may reuse their letters (logs -f, run -p).
		TraverseChildren: true,
		// An unknown subcommand is a usage error.
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError(cmd, fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath()))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmd.Help()
		},
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if a.checkDockerFlags != nil {
				if err := a.checkDockerFlags(cmd); err != nil {
					return err
				}
			}
			if why, ok := dryRunRefused[cmd.Name()]; ok && a.global.dryRun {
				return usageError(cmd, fmt.Sprintf("--dry-run is not supported by %s: %s", cmd.Name(), why))
			}
			return nil
		},
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
	f.BoolVar(&g.dryRun, "dry-run", false, "Execute command in dry run mode: show what would change, change nothing")
	f.BoolVar(&g.noHealthProbe, "no-health-probe", false, "Wait for the engine's own health checks only, not composer's early probes (or COMPOSER_HEALTH_PROBE=false)")
	f.IntVar(&g.lockTimeout, "lock-timeout", -1, "Seconds to wait for another command changing the project (default 600, or COMPOSER_LOCK_TIMEOUT)")

	root.AddCommand(
		a.upCommand(),
		a.createCommand(),
		a.scaleCommand(),
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
		a.exportCommand(),
		a.superviseCommand(),
		a.deployCommand(),
		a.undeployCommand(),
		a.watchCommand(),
	)
	root.AddCommand(a.lifecycleCommands()...)
	root.AddCommand(a.cpCommand(), a.commitCommand(), a.statsCommand(), a.pushCommand())
	root.AddCommand(a.waitCommand(), a.eventsCommand(), a.attachCommand(), a.volumesCommand())
	addHelp(root)
	return root
}

func (a *app) close() {
	if a.conn != nil {
		a.conn.close()
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

func (a *app) envBool(key string) bool {
	v, _ := a.lookupEnv(key)
	b, err := strconv.ParseBool(v)
	return err == nil && b || v == "yes"
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
		Warn:             a.warn,
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

// connectOnce opens the engine connection unless it is open.
func (a *app) connectOnce(ctx context.Context) error {
	if a.conn != nil {
		return nil
	}
	c, err := a.connect(ctx, a.dockerHost)
	if err != nil {
		return err
	}
	a.conn = &c
	return nil
}

// orchestrator connects to the engine (once per run) and returns an
// orchestrator reporting to sink, bounded by --parallel.
func (a *app) orchestrator(ctx context.Context, sink orchestrator.Sink) (*orchestrator.Orchestrator, error) {
	if err := a.connectOnce(ctx); err != nil {
		return nil, err
	}
	opts := []orchestrator.Option{orchestrator.WithParallel(a.parallel()), orchestrator.WithAbandon(a.hard)}
	if a.global.dryRun {
		// Nothing is sent that could need recovering: no journal.
		opts = append(opts, orchestrator.WithDryRun())
	} else {
		opts = append(opts, orchestrator.WithJournal(a.record), orchestrator.WithProbePassed(a.recordProbe))
	}
	probe, err := a.healthProbe()
	if err != nil {
		return nil, err
	}
	if !probe {
		opts = append(opts, orchestrator.WithoutHealthProbe())
	}
	return a.conn.orchestrator(sink, opts...), nil
}

// healthProbe reports whether composer probes health checks itself while
// the engine says "starting": unless --no-health-probe, or
// COMPOSER_HEALTH_PROBE is false.
func (a *app) healthProbe() (bool, error) {
	if a.global.noHealthProbe {
		return false, nil
	}
	v, ok := a.lookupEnv("COMPOSER_HEALTH_PROBE")
	if !ok || v == "" {
		return true, nil
	}
	on, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("invalid COMPOSER_HEALTH_PROBE %q: want true or false", v)
	}
	return on, nil
}

// dryRunRefused are the commands --dry-run cannot honour. Every other
// command either changes the project, and then only pretends to (the
// orchestrator's dry run), or only reads it, and runs as usual.
var dryRunRefused = map[string]string{
	"exec":      "it runs a process in a container, which is a change in itself",
	"attach":    "its input goes to a running process, which is a change in itself",
	"supervise": "it acts on what happens later, which a dry run cannot see",
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

func usageError(cmd *cobra.Command, msg string) error {
	return &exitError{code: 1, err: fmt.Errorf("%s\nSee '%s --help'.", msg, cmd.CommandPath())}
}

// isTerminal reports whether w is a terminal.
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
