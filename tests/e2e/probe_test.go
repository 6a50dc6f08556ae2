package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// probeProject has a service that is ready 300 ms after its start but
// whose engine health check first runs 60 s after it, and a dependent.
const probeProject = `
services:
  db:
    image: IMAGE
    command: ["healthy-after", "300ms"]
    healthcheck:
      test: ["CMD", "/app", "check", "/tmp/healthy"]
      interval: 60s
      timeout: 2s
      retries: 3
  api:
    image: IMAGE
    depends_on:
      db:
        condition: service_healthy
`

func TestHealthProbeStartsDependentsEarly(t *testing.T) {
	t.Parallel()
	p := NewProject(t, probeProject)
	start := time.Now()
	r := p.Compose("--progress", "plain", "up", "-d").Success(t)
	took := time.Since(start)
	db := p.ContainerName("db", 1)
	r.Mentions(t, "Container "+db+"  Healthy (by composer's probe)")
	// Generous: on a loaded engine an exec can take seconds.
	if took > 45*time.Second {
		t.Errorf("up -d took %s: the dependent waited for the engine's first check", took)
	}
	if s := containerState(p.ContainerName("api", 1)); s != "running" {
		t.Errorf("api is %q, want running", s)
	}
	// The engine itself has not checked yet: composer's probe made the call.
	if h := inspectField(db, "{{.State.Health.Status}}"); h != "starting" {
		t.Logf("the engine already says %q (a slow run)", h)
	}
	var found bool
	for _, line := range nonEmptyLines(p.Compose("ps", "--format", "json").Success(t).Stdout) {
		var c struct{ Name, ReadyByProbe string }
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			t.Fatalf("ps json line %q: %v", line, err)
		}
		if c.Name == db {
			found = c.ReadyByProbe != ""
		}
	}
	if !found {
		t.Error("ps --format json does not say db was found ready by composer's probe")
	}
}

func TestHealthProbeCanBeTurnedOff(t *testing.T) {
	t.Parallel()
	p := NewProject(t, probeProject)
	off := Cmd{Dir: p.Dir, Env: []string{"COMPOSER_HEALTH_PROBE=false"}}
	off.Args = []string{"-p", p.Name, "up", "-d", "--wait", "--wait-timeout", "4", "db"}
	r := RunComposer(t, off)
	if r.ExitCode == 0 || !strings.Contains(r.Combined(), "timed out") {
		t.Errorf("with the probe off, --wait returned before the engine's first check:\n%s", r)
	}
	p.Compose("--no-health-probe", "up", "-d", "--wait", "--wait-timeout", "4", "db").Failure(t, 1)
	// With the probe on, the same wait ends at once.
	p.Compose("up", "-d", "--wait", "--wait-timeout", "45", "db").Success(t)
}
