// Package run times tools on benchmark projects and reports medians.
package run

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/composer-orchestrator/composer/bench/internal/shape"
)

// Op is one timed operation of the benchmark sequence.
type Op string

const (
	OpUp     Op = "up"        // fresh up -d
	OpNoop   Op = "up noop"   // up -d with nothing to do
	OpChange Op = "up change" // up -d after one leaf service changed
	OpPs     Op = "ps"
	OpDown   Op = "down"

	// OpUpWait is a fresh up -d --wait (shapes with Wait).
	OpUpWait Op = "up --wait"

	// Read commands (shapes with Reads), over a project that is up.
	OpVersion  Op = "version"
	OpPsNoFile Op = "ps -p, no -f" // from an empty directory
	OpLogs     Op = "logs"
	OpTop      Op = "top"
	OpPort     Op = "port"
	OpImages   Op = "images"
	OpConfig   Op = "config"
)

// Ops is the order in which a cycle runs the operations.
var Ops = []Op{OpUp, OpNoop, OpChange, OpPs, OpDown}

// WaitOps is the cycle of a shape with Wait.
var WaitOps = []Op{OpUpWait, OpDown}

// ReadOps are the commands a reads shape times, each several times, after
// one untimed-for-the-ratios up; OpUp and OpDown are then measured once.
var ReadOps = []Op{OpVersion, OpPs, OpPsNoFile, OpLogs, OpTop, OpPort, OpImages, OpConfig, OpNoop}

// OpsFor returns the operations reported for a shape, in order.
func OpsFor(p shape.Project) []Op {
	switch {
	case p.Reads:
		return append(append([]Op{OpUp}, ReadOps...), OpDown)
	case p.Wait:
		return WaitOps
	}
	return Ops
}

// Tool is something that can bring a project up and down: a compose
// command line, or the engine floor run as a subprocess of this program.
type Tool struct {
	// Name is the column title and part of the project name.
	Name string
	// Argv is the command prefix; the project, file and operation are
	// appended, e.g. ["docker-compose"] or ["docker", "compose"].
	Argv []string
	// Floor marks the engine floor, which takes its own arguments.
	Floor bool
	// Env is added to the tool's environment (KEY=VALUE).
	Env []string
}

// Supports reports whether the tool has a command for op. The floor only
// does what a compose tool must do with the engine (up, ps, down) and the
// cost of starting a process (version).
func (t Tool) Supports(op Op) bool {
	if !t.Floor {
		return true
	}
	switch op {
	case OpUp, OpNoop, OpChange, OpPs, OpDown, OpUpWait, OpVersion:
		return true
	}
	return false
}

// Target is where a tool finds the project.
type Target struct {
	Project     string
	Dir         string
	ComposeFile string
	SpecFile    string
	// EmptyDir is a directory without a compose file, for commands that
	// name the project only.
	EmptyDir string
	// PortService and Port are what the port command asks about.
	PortService string
	Port        int
}

func (t Tool) command(ctx context.Context, op Op, tg Target) *exec.Cmd {
	var args []string
	dir := tg.Dir
	if t.Floor {
		verb := "up"
		switch op {
		case OpPs:
			verb = "ps"
		case OpDown:
			verb = "down"
		case OpVersion:
			verb = "version"
		}
		args = append(slicesClone(t.Argv), "floor", "-op", verb, "-spec", tg.SpecFile, "-workdir", tg.Dir, "-file", tg.ComposeFile)
		if op == OpUpWait {
			args = append(args, "-wait")
		}
	} else {
		args = append(slicesClone(t.Argv), "-p", tg.Project, "-f", tg.ComposeFile)
		switch op {
		case OpPs:
			args = append(args, "ps")
		case OpDown:
			args = append(args, "down")
		case OpUpWait:
			args = append(args, "up", "-d", "--wait")
		case OpVersion:
			args = append(slicesClone(t.Argv), "version")
		case OpPsNoFile:
			args = append(slicesClone(t.Argv), "-p", tg.Project, "ps")
			dir = tg.EmptyDir
		case OpLogs:
			args = append(args, "logs")
		case OpTop:
			args = append(args, "top")
		case OpPort:
			args = append(args, "port", tg.PortService, strconv.Itoa(tg.Port))
		case OpImages:
			args = append(args, "images")
		case OpConfig:
			args = append(args, "config")
		default:
			args = append(args, "up", "-d")
		}
	}
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = dir
	return cmd
}

var envAssignment = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)

func slicesClone(s []string) []string { return append([]string(nil), s...) }

// Sample is one timed run of one operation.
type Sample struct {
	Wall time.Duration
	// CPU is the process's user plus system time (children it waited for
	// included), from its rusage.
	CPU time.Duration
	// MaxRSS is the process's peak resident set in bytes.
	MaxRSS int64
	// Calls is the number of Engine API calls, when counted (else -1).
	Calls int
	Err   error
}

// Exec runs op once with env added to the environment and measures it. A
// run that outlasts timeout is killed and counts as failed.
func (t Tool) Exec(ctx context.Context, op Op, tg Target, env []string, timeout time.Duration) Sample {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := t.command(ctx, op, tg)
	cmd.Env = append(append(os.Environ(), t.Env...), env...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	start := time.Now()
	err := cmd.Run()
	s := Sample{Wall: time.Since(start), Calls: -1}
	if ps := cmd.ProcessState; ps != nil {
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			s.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
			s.MaxRSS = ru.Maxrss * 1024 // kilobytes on Linux
		}
	}
	if ctx.Err() != nil {
		err = fmt.Errorf("%w (%v)", err, ctx.Err())
	}
	if err != nil {
		s.Err = fmt.Errorf("%s %s: %w: %s", t.Name, op, err, lastLines(out.String(), 5))
	}
	return s
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// ParseTools reads the -tools list: "floor", "composer" (the binary at
// composerPath), "composer-noprobe" (the same with COMPOSER_HEALTH_PROBE=false),
// "compose" (the command line in compose), or "NAME=COMMAND LINE" for any
// other compose tool, where the command line may start with environment
// assignments (NAME=KEY=VALUE COMMAND ...), as with env(1).
func ParseTools(list, self, composerPath, compose string) ([]Tool, error) {
	var tools []Tool
	seen := map[string]bool{}
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		var t Tool
		switch {
		case item == "floor":
			t = Tool{Name: "floor", Argv: []string{self}, Floor: true}
		case item == "composer":
			p, err := filepath.Abs(composerPath)
			if err != nil {
				return nil, err
			}
			t = Tool{Name: "composer", Argv: []string{p}}
		case item == "composer-noprobe":
			p, err := filepath.Abs(composerPath)
			if err != nil {
				return nil, err
			}
			t = Tool{Name: item, Argv: []string{p}, Env: []string{"COMPOSER_HEALTH_PROBE=false"}}
		case item == "compose":
			argv := strings.Fields(compose)
			if len(argv) == 0 {
				return nil, fmt.Errorf("tool compose: BENCH_COMPOSE is empty")
			}
			t = Tool{Name: strings.Join(append([]string{filepath.Base(argv[0])}, argv[1:]...), "-"), Argv: argv}
		case strings.Contains(item, "="):
			name, cmdline, _ := strings.Cut(item, "=")
			argv := strings.Fields(cmdline)
			var env []string
			for len(argv) > 0 && envAssignment.MatchString(argv[0]) {
				env, argv = append(env, argv[0]), argv[1:]
			}
			if name == "" || len(argv) == 0 {
				return nil, fmt.Errorf("tool %q: want NAME=[KEY=VALUE ...] COMMAND", item)
			}
			t = Tool{Name: name, Argv: argv, Env: env}
		default:
			return nil, fmt.Errorf("unknown tool %q (want floor, composer, compose or NAME=COMMAND)", item)
		}
		if seen[t.Name] {
			return nil, fmt.Errorf("tool %q given twice", t.Name)
		}
		seen[t.Name] = true
		if !t.Floor {
			if _, err := exec.LookPath(t.Argv[0]); err != nil {
				return nil, fmt.Errorf("tool %s: %w", t.Name, err)
			}
		}
		tools = append(tools, t)
	}
	if len(tools) == 0 {
		return nil, fmt.Errorf("no tools")
	}
	return tools, nil
}
