// Command composer runs multi-container projects described by compose
// files on a Docker engine, the way docker compose does.
package main

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"
)

func main() {
	// A command lives for well under a second and allocates mostly while
	// loading the compose files: collecting less often saves CPU on that
	// path at the cost of a few megabytes.
	debug.SetGCPercent(400)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	interrupts := make(chan os.Signal, 2)
	signal.Notify(interrupts, os.Interrupt, syscall.SIGTERM)
	streams := Streams{
		In: os.Stdin, Out: os.Stdout, Err: os.Stderr, Env: os.Environ(), Interrupts: interrupts,
		Program: filepath.Base(os.Args[0]),
	}
	os.Exit(run(ctx, os.Args[1:], streams))
}
