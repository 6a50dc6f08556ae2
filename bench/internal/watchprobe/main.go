// Command watchprobe runs in the watch benchmark's container: it reads
// every file of a directory every millisecond and prints, when a file's
// content changes, "NAME CONTENT UNIXNANO", so that the benchmark learns
// when a synced edit became visible in the container without asking the
// engine (a read-back through the archive API takes longer than what it
// measures). The container shares the host's clock.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func main() {
	dir := "/src"
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	// PID 1 in a FROM scratch image has no default action for SIGTERM.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	seen := map[string]string{}
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if !e.Type().IsRegular() {
				continue
			}
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				continue
			}
			now := time.Now().UnixNano()
			v := strings.TrimSpace(string(b))
			if seen[e.Name()] != v {
				seen[e.Name()] = v
				fmt.Printf("%s %s %d\n", e.Name(), v, now)
			}
		}
	}
}
