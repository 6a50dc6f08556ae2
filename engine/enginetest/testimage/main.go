// Command testimage is the program of the image the enginetest suite runs
// on real engines (see package enginetest for the contract):
//
//	testimage [sleep]   waits for SIGTERM or SIGINT, then exits 0
//	testimage sleep ready  the same, writing "ready" to stdout once it handles them
//	testimage exit N    exits with code N
//	testimage echo W... writes the words and a newline to stdout, exits 0
//
// It runs as PID 1 in a FROM scratch image; the engine delivers signals to
// PID 1 only if it handles them, which signal.Notify does.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) == 0 {
		args = []string{"sleep"}
	}
	switch {
	case args[0] == "sleep" && (len(args) == 1 || len(args) == 2 && args[1] == "ready"):
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
		if len(args) == 2 {
			// A signal before Notify ends the process with 2 (the Go
			// runtime's answer to an unhandled SIGTERM): tell the tests
			// when stopping is safe.
			fmt.Println("ready")
		}
		<-sig
		return 0
	case args[0] == "exit" && len(args) == 2:
		n, err := strconv.Atoi(args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, "testimage: exit code:", err)
			return 2
		}
		return n
	case args[0] == "echo":
		fmt.Println(strings.Join(args[1:], " "))
		return 0
	default:
		fmt.Fprintln(os.Stderr, "usage: testimage [sleep [ready]] | exit N | echo WORD...")
		return 2
	}
}
