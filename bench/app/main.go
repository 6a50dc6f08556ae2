// Command app is the entrypoint of the benchmark image: a static program in
// a FROM scratch image, so that container start-up cost is the engine's and
// not the program's.
//
//	app sleep                        run until SIGTERM or SIGINT, then exit 0
//	app exit N [DELAY]               wait DELAY (a Go duration), exit with N
//	app healthy-after DURATION [FILE] create FILE (default /healthy) after
//	                                 DURATION, then run like sleep
//	app check FILE                   exit 0 if FILE exists, 1 otherwise
package main

import (
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) == 0 {
		return waitForSignal()
	}
	switch args[0] {
	case "sleep":
		return waitForSignal()
	case "exit":
		if len(args) < 2 {
			return usage()
		}
		code, err := strconv.Atoi(args[1])
		if err != nil {
			return usage()
		}
		if len(args) > 2 {
			d, err := time.ParseDuration(args[2])
			if err != nil {
				return usage()
			}
			time.Sleep(d)
		}
		return code
	case "healthy-after":
		if len(args) < 2 {
			return usage()
		}
		d, err := time.ParseDuration(args[1])
		if err != nil {
			return usage()
		}
		file := "/healthy"
		if len(args) > 2 {
			file = args[2]
		}
		// Register before the timer so a stop during the delay still exits
		// cleanly instead of waiting for the engine's kill.
		sig := notify()
		go func() {
			time.Sleep(d)
			if err := os.WriteFile(file, nil, 0o644); err != nil {
				os.Stderr.WriteString("app: " + err.Error() + "\n")
			}
		}()
		<-sig
		return 0
	case "check":
		if len(args) < 2 {
			return usage()
		}
		if _, err := os.Stat(args[1]); err != nil {
			return 1
		}
		return 0
	}
	return usage()
}

// notify returns a channel that receives SIGTERM and SIGINT. As PID 1 in a
// container the process gets no default signal handling from the kernel, so
// without this the engine would wait out the stop timeout and then kill.
func notify() <-chan os.Signal {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM, syscall.SIGINT)
	return c
}

func waitForSignal() int {
	<-notify()
	return 0
}

func usage() int {
	os.Stderr.WriteString("usage: app sleep | exit N [DELAY] | healthy-after DURATION [FILE] | check FILE\n")
	return 2
}
