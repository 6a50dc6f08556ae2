package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"sync"
	"testing"
	"time"
)

// eventWatcher records the engine's container die events for one project,
// for scenarios where the order of stops is the behaviour.
type eventWatcher struct {
	mu   sync.Mutex // guards dies against the reading goroutine
	dies []string   // service labels, in the engine's event order
}

// startEvents follows `docker events` for the project's containers until the
// test ends.
func startEvents(t *testing.T, project string) *eventWatcher {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	// --since replays what happened after this moment even if the
	// subscription is set up late, so there is no race with the scenario.
	since := fmt.Sprintf("%d.%09d", time.Now().Unix(), time.Now().Nanosecond())
	cmd := exec.CommandContext(ctx, "docker", "events", "--since", since,
		"--filter", "type=container", "--filter", "event=die",
		"--filter", "label="+projectLabel+"="+project, "--format", "{{json .}}")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := &eventWatcher{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var ev struct {
				Actor struct{ Attributes map[string]string }
			}
			if json.Unmarshal(sc.Bytes(), &ev) == nil {
				w.mu.Lock()
				w.dies = append(w.dies, ev.Actor.Attributes[serviceLabel])
				w.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		<-done
	})
	return w
}

// dieOrder waits up to 10s for n die events and returns the services in the
// order they died.
func (w *eventWatcher) dieOrder(t *testing.T, n int) []string {
	t.Helper()
	var got []string
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		w.mu.Lock()
		got = append([]string(nil), w.dies...)
		w.mu.Unlock()
		if len(got) >= n {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	return got
}
