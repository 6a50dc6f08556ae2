package orchestrator

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/engine/fake"
)

// probeYAML is a service others wait for with service_healthy, whose
// engine check would first run an hour after the start.
const probeYAML = `
services:
  db:
    image: db:1
    healthcheck:
      test: ["CMD", "ready"]
      interval: 1h
  api:
    image: api:1
    depends_on:
      db:
        condition: service_healthy
`

// healthEvent finds the Healthy event of a container.
func healthEvent(evs []Event, name string) (Event, bool) {
	for _, e := range evs {
		if e.Name == name && e.Status == Healthy {
			return e, true
		}
	}
	return Event{}, false
}

func TestProbeStartsDependentsAtTheFirstPass(t *testing.T) {
	t.Parallel()
	for _, wait := range []bool{false, true} {
		name := "dependency"
		if wait {
			name = "--wait"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			eng := fake.New()
			eng.AddImage("db:1")
			eng.AddImage("api:1")
			// The engine never gets to say healthy; the check passes.
			eng.OnStart("db:1", fake.Behaviour{Health: engine.HealthStarting, ExecExitCode: 0})
			var mu sync.Mutex
			var passed []string
			rec := &recorder{}
			o := New(eng, rec, WithProbePassed(func(_, id string) {
				mu.Lock()
				defer mu.Unlock()
				passed = append(passed, id)
			}))
			p := loadYAML(t, "probe", probeYAML)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := o.Up(ctx, p, UpOptions{Wait: wait}); err != nil {
				t.Fatalf("up: %v", err)
			}
			e, ok := healthEvent(rec.all(), "probe-db-1")
			if !ok || e.Detail != ByProbe {
				t.Errorf("db's Healthy event = %+v (found %v), want one by the probe", e, ok)
			}
			if s := containersOf(t, eng, "probe")["probe-api-1"].State; s != engine.StateRunning {
				t.Errorf("api is %s, want running", s)
			}
			d, _ := eng.InspectContainer(context.Background(), "probe-db-1")
			mu.Lock()
			defer mu.Unlock()
			if len(passed) == 0 || passed[0] != d.ID {
				t.Errorf("probe passes reported: %v, want db's id %s", passed, d.ID)
			}
			if n := eng.Calls("Exec"); n == 0 {
				t.Error("no probe was run")
			}
		})
	}
}

func TestProbeCanBeTurnedOff(t *testing.T) {
	t.Parallel()
	eng := fake.New()
	eng.AddImage("db:1")
	eng.AddImage("api:1")
	eng.OnStart("db:1", fake.Behaviour{Health: engine.HealthStarting, ExecExitCode: 0})
	o := New(eng, nil, WithoutHealthProbe())
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	if err := o.Up(ctx, loadYAML(t, "off", probeYAML), UpOptions{}); err == nil {
		t.Fatal("up finished, but nothing said db is healthy")
	}
	if n := eng.Calls("Exec"); n != 0 {
		t.Errorf("%d probes ran with probing off", n)
	}
	if _, ok := containersOf(t, eng, "off")["off-api-1"]; ok && containersOf(t, eng, "off")["off-api-1"].State == engine.StateRunning {
		t.Error("api started before db was healthy")
	}
}

func TestFailingProbeIsNotAFailure(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		engine fake.Behaviour
		fails  string
	}{
		{"the engine says healthy later", fake.Behaviour{HealthAfter: 700 * time.Millisecond, ExecExitCode: 1}, ""},
		{"the engine says unhealthy", fake.Behaviour{Health: engine.HealthUnhealthy, HealthAfter: 700 * time.Millisecond, ExecExitCode: 1}, "unhealthy"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			eng := fake.New()
			eng.AddImage("db:1")
			eng.AddImage("api:1")
			eng.OnStart("db:1", tc.engine)
			rec := &recorder{}
			err := New(eng, rec).Up(testCtx(t), loadYAML(t, "fail", probeYAML), UpOptions{})
			if tc.fails == "" {
				if err != nil {
					t.Fatalf("up: %v", err)
				}
				if e, ok := healthEvent(rec.all(), "fail-db-1"); !ok || e.Detail != "" {
					t.Errorf("db's Healthy event = %+v (found %v), want the engine's", e, ok)
				}
			} else if err == nil || !strings.Contains(err.Error(), tc.fails) {
				t.Errorf("up error = %v, want %q", err, tc.fails)
			}
			if n := eng.Calls("Exec"); n < 1 {
				_ = n
				t.Error("no probe ran in 700 ms")
			}
		})
	}
}

func TestNoOpUpWaitsForNothing(t *testing.T) {
	t.Parallel()
	eng := fake.New()
	eng.AddImage("db:1")
	eng.AddImage("api:1")
	// The engine's check never comes; only the probe says healthy.
	eng.OnStart("db:1", fake.Behaviour{Health: engine.HealthStarting, ExecExitCode: 0})
	o := New(eng, nil)
	p := loadYAML(t, "noop", probeYAML)
	mustUp(t, o, p, UpOptions{})
	eng.ResetCalls()
	start := time.Now()
	mustUp(t, o, p, UpOptions{})
	if n := eng.Calls("Exec"); n != 0 {
		t.Errorf("a no-op up probed %d times: it waited for a dependency of a service it leaves alone", n)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("a no-op up took %s", took)
	}
}
