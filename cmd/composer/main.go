// Command composer runs multi-container projects described by compose
// files on a Docker engine, the way docker compose does.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	interrupts := make(chan os.Signal, 2)
	signal.Notify(interrupts, os.Interrupt, syscall.SIGTERM)
	streams := Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, Env: os.Environ(), Interrupts: interrupts}
	os.Exit(run(ctx, os.Args[1:], streams))
}
