package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/engine/fake"
)

const opsYAML = `
services:
  db:
    image: postgres
  api:
    image: nginx
    depends_on:
      db: {condition: service_started, restart: true}
  web:
    image: nginx
    depends_on: [api]
  other:
    image: redis
`

func upForOps(t *testing.T) (*fake.Engine, *Orchestrator, *recorder) {
	t.Helper()
	eng, o, rec := newFake("postgres", "nginx", "redis")
	mustUp(t, o, loadYAML(t, "p", opsYAML), UpOptions{})
	return eng, o, rec
}

// since returns the events published after the first n.
func since(eng *fake.Engine, n int) []engine.Event { return eng.Published()[n:] }

// before checks that the action on a happened before the one on b.
func before(t *testing.T, evs []engine.Event, action, a, b string) {
	t.Helper()
	ia, ib := eventIndex(evs, action, a), eventIndex(evs, action, b)
	if ia < 0 || ib < 0 || ia > ib {
		t.Errorf("%s of %s at %d, of %s at %d: want %s first", action, a, ia, b, ib, a)
	}
}

func TestStopAndStartOrder(t *testing.T) {
	t.Parallel()
	eng, o, _ := upForOps(t)
	ctx := testCtx(t)
	mark := len(eng.Published())
	if err := o.Stop(ctx, Target{Project: "p"}, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := states(containersOf(t, eng, "p")), "p-api-1=exited p-db-1=exited p-other-1=exited p-web-1=exited"; got != want {
		t.Errorf("after Stop: %s, want %s", got, want)
	}
	evs := since(eng, mark)
	before(t, evs, "stop", "p-web-1", "p-api-1")
	before(t, evs, "stop", "p-api-1", "p-db-1")

	mark = len(eng.Published())
	if err := o.Start(ctx, Target{Project: "p"}, StartOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, want := states(containersOf(t, eng, "p")), "p-api-1=running p-db-1=running p-other-1=running p-web-1=running"; got != want {
		t.Errorf("after Start: %s, want %s", got, want)
	}
	evs = since(eng, mark)
	before(t, evs, "start", "p-db-1", "p-api-1")
	before(t, evs, "start", "p-api-1", "p-web-1")
}

func TestStopSelectedService(t *testing.T) {
	t.Parallel()
	eng, o, _ := upForOps(t)
	if err := o.Stop(testCtx(t), Target{Project: "p", Services: []string{"api"}}, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := states(containersOf(t, eng, "p")), "p-api-1=exited p-db-1=running p-other-1=running p-web-1=running"; got != want {
		t.Errorf("after Stop api: %s, want %s", got, want)
	}
}

func TestStartWithoutContainers(t *testing.T) {
	t.Parallel()
	_, o, _ := newFake()
	if err := o.Start(testCtx(t), Target{Project: "nothing"}, StartOptions{}); err == nil {
		t.Error("Start of a project without containers succeeded")
	}
}

// Start waits for the conditions recorded in the depends_on label.
func TestStartWaitsForHealthyDependency(t *testing.T) {
	t.Parallel()
	eng, o, _ := newFake("postgres", "nginx")
	eng.OnStart("postgres", fake.Behaviour{HealthAfter: 30 * time.Millisecond})
	mustUp(t, o, loadYAML(t, "p", `
services:
  db:
    image: postgres
    healthcheck: {test: ["CMD", "true"]}
  web:
    image: nginx
    depends_on:
      db: {condition: service_healthy}
`), UpOptions{})
	ctx := testCtx(t)
	if err := o.Stop(ctx, Target{Project: "p"}, nil); err != nil {
		t.Fatal(err)
	}
	mark := len(eng.Published())
	if err := o.Start(ctx, Target{Project: "p"}, StartOptions{}); err != nil {
		t.Fatal(err)
	}
	evs := since(eng, mark)
	healthy, started := eventIndex(evs, "health_status: healthy", "p-db-1"), eventIndex(evs, "start", "p-web-1")
	if healthy < 0 || started < healthy {
		t.Errorf("web started at %d, db healthy at %d: want web after", started, healthy)
	}
}

func TestRestart(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		services  []string
		restarted []string
	}{
		{"all", nil, []string{"p-api-1", "p-db-1", "p-other-1", "p-web-1"}},
		// api declares restart: true on db; web depends on api without it.
		{"db and its restart dependents", []string{"db"}, []string{"p-api-1", "p-db-1"}},
		{"a leaf", []string{"web"}, []string{"p-web-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			eng, o, _ := upForOps(t)
			mark := len(eng.Published())
			if err := o.Restart(testCtx(t), Target{Project: "p", Services: tt.services}, RestartOptions{}); err != nil {
				t.Fatal(err)
			}
			evs := since(eng, mark)
			var got []string
			for _, name := range []string{"p-api-1", "p-db-1", "p-other-1", "p-web-1"} {
				if eventIndex(evs, "start", name) >= 0 {
					got = append(got, name)
				}
			}
			if strings.Join(got, " ") != strings.Join(tt.restarted, " ") {
				t.Errorf("restarted %v, want %v", got, tt.restarted)
			}
			if len(tt.restarted) > 1 && contains(tt.restarted, "p-api-1") {
				before(t, evs, "start", "p-db-1", "p-api-1")
			}
			for name, c := range containersOf(t, eng, "p") {
				if c.State != engine.StateRunning {
					t.Errorf("%s is %s after restart", name, c.State)
				}
			}
		})
	}
}

func TestKill(t *testing.T) {
	t.Parallel()
	eng, o, _ := upForOps(t)
	ctx := testCtx(t)
	if err := o.Kill(ctx, Target{Project: "p", Services: []string{"web", "other"}}, KillOptions{Signal: "SIGKILL"}); err != nil {
		t.Fatal(err)
	}
	cs := containersOf(t, eng, "p")
	if got, want := states(cs), "p-api-1=running p-db-1=running p-other-1=exited p-web-1=exited"; got != want {
		t.Errorf("after Kill: %s, want %s", got, want)
	}
	d, err := eng.InspectContainer(ctx, cs["p-web-1"].ID)
	if err != nil || d.ExitCode != 137 {
		t.Errorf("killed web exit code = %d (%v), want 137", d.ExitCode, err)
	}
	if err := o.Kill(ctx, Target{Project: "p", Services: []string{"web"}}, KillOptions{}); err == nil {
		t.Error("Kill with nothing running succeeded")
	}
}

func TestPauseUnpause(t *testing.T) {
	t.Parallel()
	eng, o, _ := upForOps(t)
	ctx := testCtx(t)
	if err := o.Pause(ctx, Target{Project: "p", Services: []string{"web", "db"}}, false); err != nil {
		t.Fatal(err)
	}
	if got, want := states(containersOf(t, eng, "p")), "p-api-1=running p-db-1=paused p-other-1=running p-web-1=paused"; got != want {
		t.Errorf("after Pause: %s, want %s", got, want)
	}
	// Pausing again, or unpausing everything, touches only what needs it.
	if err := o.Pause(ctx, Target{Project: "p", Services: []string{"web"}}, false); err != nil {
		t.Errorf("second Pause: %v", err)
	}
	if err := o.Pause(ctx, Target{Project: "p"}, true); err != nil {
		t.Fatal(err)
	}
	if got, want := states(containersOf(t, eng, "p")), "p-api-1=running p-db-1=running p-other-1=running p-web-1=running"; got != want {
		t.Errorf("after Unpause: %s, want %s", got, want)
	}
}

func TestRemove(t *testing.T) {
	t.Parallel()
	t.Run("running containers stay without Stop", func(t *testing.T) {
		t.Parallel()
		eng, o, rec := upForOps(t)
		if err := o.Remove(testCtx(t), Target{Project: "p"}, RemoveOptions{}); err != nil {
			t.Fatal(err)
		}
		if n := len(containersOf(t, eng, "p")); n != 4 {
			t.Errorf("%d containers left, want all 4", n)
		}
		if w := strings.Join(rec.warnings(), "\n"); !strings.Contains(w, "No stopped containers") {
			t.Errorf("warnings %q, want No stopped containers", w)
		}
	})
	t.Run("only stopped ones go", func(t *testing.T) {
		t.Parallel()
		eng, o, _ := upForOps(t)
		ctx := testCtx(t)
		if err := o.Stop(ctx, Target{Project: "p", Services: []string{"other"}}, nil); err != nil {
			t.Fatal(err)
		}
		if err := o.Remove(ctx, Target{Project: "p"}, RemoveOptions{}); err != nil {
			t.Fatal(err)
		}
		if got, want := states(containersOf(t, eng, "p")), "p-api-1=running p-db-1=running p-web-1=running"; got != want {
			t.Errorf("after Remove: %s, want %s", got, want)
		}
	})
	t.Run("with Stop", func(t *testing.T) {
		t.Parallel()
		eng, o, _ := upForOps(t)
		if err := o.Remove(testCtx(t), Target{Project: "p", Services: []string{"web", "api"}}, RemoveOptions{Stop: true}); err != nil {
			t.Fatal(err)
		}
		if got, want := states(containersOf(t, eng, "p")), "p-db-1=running p-other-1=running"; got != want {
			t.Errorf("after Remove --stop: %s, want %s", got, want)
		}
	})
	t.Run("declined confirmation", func(t *testing.T) {
		t.Parallel()
		eng, o, _ := upForOps(t)
		var asked []string
		opts := RemoveOptions{Stop: true, Confirm: func(n []string) bool { asked = n; return false }}
		if err := o.Remove(testCtx(t), Target{Project: "p", Services: []string{"web"}}, opts); err != nil {
			t.Fatal(err)
		}
		if strings.Join(asked, ",") != "p-web-1" {
			t.Errorf("asked about %v, want p-web-1", asked)
		}
		if _, ok := containersOf(t, eng, "p")["p-web-1"]; !ok {
			t.Error("p-web-1 removed although the confirmation was declined")
		}
	})
}

// Operations on containers cost one list call: no networks, no volumes.
func TestContainerOpsListOnlyContainers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		op   func(context.Context, *Orchestrator) error
	}{
		{"stop", func(ctx context.Context, o *Orchestrator) error { return o.Stop(ctx, Target{Project: "p"}, nil) }},
		{"start", func(ctx context.Context, o *Orchestrator) error {
			return o.Start(ctx, Target{Project: "p"}, StartOptions{})
		}},
		{"restart", func(ctx context.Context, o *Orchestrator) error {
			return o.Restart(ctx, Target{Project: "p", Services: []string{"db"}}, RestartOptions{})
		}},
		{"kill", func(ctx context.Context, o *Orchestrator) error {
			return o.Kill(ctx, Target{Project: "p"}, KillOptions{Signal: "SIGKILL"})
		}},
		{"pause", func(ctx context.Context, o *Orchestrator) error { return o.Pause(ctx, Target{Project: "p"}, false) }},
		{"unpause", func(ctx context.Context, o *Orchestrator) error { return o.Pause(ctx, Target{Project: "p"}, true) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			eng, o, _ := upForOps(t)
			eng.ResetCalls()
			if err := tt.op(testCtx(t), o); err != nil {
				t.Fatal(err)
			}
			for method, want := range map[string]int{"ListContainers": 1, "ListNetworks": 0, "ListVolumes": 0} {
				if got := eng.Calls(method); got != want {
					t.Errorf("%s calls = %d, want %d", method, got, want)
				}
			}
		})
	}
}

// Finding nothing to act on is told apart from a failure by
// ErrNoContainers; the message says what was not found.
func TestNothingToActOnWrapsErrNoContainers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		op      func(context.Context, *Orchestrator) error
		message string
	}{
		{"kill with nothing running", func(ctx context.Context, o *Orchestrator) error {
			if err := o.Stop(ctx, Target{Project: "p"}, nil); err != nil {
				return err
			}
			return o.Kill(ctx, Target{Project: "p"}, KillOptions{})
		}, "no container to kill"},
		{"start of a project without containers", func(ctx context.Context, o *Orchestrator) error {
			return o.Start(ctx, Target{Project: "nothing"}, StartOptions{})
		}, "no containers to start"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, o, _ := upForOps(t)
			err := tt.op(testCtx(t), o)
			if !errors.Is(err, ErrNoContainers) {
				t.Fatalf("error %v does not wrap ErrNoContainers", err)
			}
			if err.Error() != tt.message {
				t.Errorf("error = %q, want %q", err, tt.message)
			}
		})
	}
}

// NoDeps restarts the named services only, not the ones declaring
// `restart: true` on them.
func TestRestartNoDeps(t *testing.T) {
	t.Parallel()
	tests := []struct {
		noDeps    bool
		restarted string
	}{
		{false, "p-api-1 p-db-1"},
		{true, "p-db-1"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("NoDeps=%t", tt.noDeps), func(t *testing.T) {
			t.Parallel()
			eng, o, _ := upForOps(t)
			mark := len(eng.Published())
			if err := o.Restart(testCtx(t), Target{Project: "p", Services: []string{"db"}}, RestartOptions{NoDeps: tt.noDeps}); err != nil {
				t.Fatal(err)
			}
			evs := since(eng, mark)
			var got []string
			for _, name := range []string{"p-api-1", "p-db-1", "p-other-1", "p-web-1"} {
				if eventIndex(evs, "start", name) >= 0 {
					got = append(got, name)
				}
			}
			if strings.Join(got, " ") != tt.restarted {
				t.Errorf("restarted %v, want %s", got, tt.restarted)
			}
		})
	}
}

// Kill with RemoveOrphans stops and removes the containers of services the
// project no longer defines, and kills the others.
func TestKillRemoveOrphans(t *testing.T) {
	t.Parallel()
	smaller := "services:\n  db: {image: postgres}\n  other: {image: redis}\n"
	tests := []struct {
		name          string
		removeOrphans bool
		want          string
	}{
		{"orphans kept", false, "p-api-1=exited p-db-1=exited p-other-1=exited p-web-1=exited"},
		{"orphans removed", true, "p-db-1=exited p-other-1=exited"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			eng, o, _ := upForOps(t)
			opts := KillOptions{Signal: "SIGKILL", RemoveOrphans: tt.removeOrphans, Project: loadYAML(t, "p", smaller)}
			if err := o.Kill(testCtx(t), Target{Project: "p"}, opts); err != nil {
				t.Fatal(err)
			}
			if got := states(containersOf(t, eng, "p")); got != tt.want {
				t.Errorf("after Kill: %s, want %s", got, tt.want)
			}
		})
	}
}
