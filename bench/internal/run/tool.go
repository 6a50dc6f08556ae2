// Package run times tools on benchmark projects and reports medians.
package run

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Op is one timed operation of the benchmark sequence.
type Op string

const (
	OpUp     Op = "up"        // fresh up -d
	OpNoop   Op = "up noop"   // up -d with nothing to do
	OpChange Op = "up change" // up -d after one leaf service changed
	OpPs     Op = "ps"
	OpDown   Op = "down"
)

// Ops is the order in which a cycle runs the operations.
var Ops = []Op{OpUp, OpNoop, OpChange, OpPs, OpDown}

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
}

// Target is where a tool finds the project.
type Target struct {
	Project     string
	Dir         string
	ComposeFile string
	SpecFile    string
}

func (t Tool) command(ctx context.Context, op Op, tg Target) *exec.Cmd {
	var args []string
	if t.Floor {
		verb := "up"
		switch op {
		case OpPs:
			verb = "ps"
		case OpDown:
			verb = "down"
		}
		args = append(slicesClone(t.Argv), "floor", "-op", verb, "-spec", tg.SpecFile, "-workdir", tg.Dir, "-file", tg.ComposeFile)
	} else {
		args = append(slicesClone(t.Argv), "-p", tg.Project, "-f", tg.ComposeFile)
		switch op {
		case OpPs:
			args = append(args, "ps")
		case OpDown:
			args = append(args, "down")
		default:
			args = append(args, "up", "-d")
		}
	}
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = tg.Dir
	return cmd
}

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
	cmd.Env = append(os.Environ(), env...)
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
// composerPath), "compose" (the command line in compose), or "NAME=COMMAND
// LINE" for any other compose tool.
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
		case item == "compose":
			argv := strings.Fields(compose)
			if len(argv) == 0 {
				return nil, fmt.Errorf("tool compose: BENCH_COMPOSE is empty")
			}
			t = Tool{Name: strings.Join(append([]string{filepath.Base(argv[0])}, argv[1:]...), "-"), Argv: argv}
		case strings.Contains(item, "="):
			name, cmdline, _ := strings.Cut(item, "=")
			argv := strings.Fields(cmdline)
			if name == "" || len(argv) == 0 {
				return nil, fmt.Errorf("tool %q: want NAME=COMMAND", item)
			}
			t = Tool{Name: name, Argv: argv}
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
