package fake_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/engine/fake"
)

const img = "app:1"

func newEngine(t *testing.T) *fake.Engine {
	t.Helper()
	e := fake.New()
	e.AddImage(img)
	return e
}

func mustCreate(t *testing.T, e *fake.Engine, spec engine.ContainerSpec) string {
	t.Helper()
	if spec.Image == "" {
		spec.Image = img
	}
	id, err := e.CreateContainer(t.Context(), spec)
	if err != nil {
		t.Fatalf("CreateContainer(%s): %v", spec.Name, err)
	}
	return id
}

func mustInspect(t *testing.T, e *fake.Engine, id string) engine.ContainerDetails {
	t.Helper()
	d, err := e.InspectContainer(t.Context(), id)
	if err != nil {
		t.Fatalf("InspectContainer(%s): %v", id, err)
	}
	return d
}

// waitFor polls cond for up to five seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func actions(evs []engine.Event, id string) []string {
	var out []string
	for _, ev := range evs {
		if ev.ID == id {
			out = append(out, ev.Action)
		}
	}
	return out
}

var healthcheck = &engine.Healthcheck{Test: []string{"CMD", "true"}}

func TestBehaviour(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		spec       engine.ContainerSpec
		behaviour  *fake.Behaviour // nil: no script
		wantState  engine.ContainerState
		wantCode   int
		wantHealth engine.Health
		wantEvents []string
	}{
		{
			name:       "default keeps running",
			spec:       engine.ContainerSpec{Name: "run"},
			wantState:  engine.StateRunning,
			wantEvents: []string{"create", "start"},
		},
		{
			name:       "command exit N",
			spec:       engine.ContainerSpec{Name: "cmd", Cmd: []string{"exit", "4"}},
			wantState:  engine.StateExited,
			wantCode:   4,
			wantEvents: []string{"create", "start", "die"},
		},
		{
			name:       "scripted exit beats the command",
			spec:       engine.ContainerSpec{Name: "scripted", Cmd: []string{"exit", "4"}},
			behaviour:  &fake.Behaviour{Exit: true, ExitCode: 9},
			wantState:  engine.StateExited,
			wantCode:   9,
			wantEvents: []string{"create", "start", "die"},
		},
		{
			name:       "exit after a delay",
			spec:       engine.ContainerSpec{Name: "later"},
			behaviour:  &fake.Behaviour{Exit: true, ExitCode: 1, ExitAfter: 5 * time.Millisecond},
			wantState:  engine.StateExited,
			wantCode:   1,
			wantEvents: []string{"create", "start", "die"},
		},
		{
			name:       "healthcheck becomes healthy",
			spec:       engine.ContainerSpec{Name: "healthy", Healthcheck: healthcheck},
			wantState:  engine.StateRunning,
			wantHealth: engine.HealthHealthy,
			wantEvents: []string{"create", "start", "health_status: healthy"},
		},
		{
			name:       "scripted unhealthy",
			spec:       engine.ContainerSpec{Name: "sick", Healthcheck: healthcheck},
			behaviour:  &fake.Behaviour{Health: engine.HealthUnhealthy, HealthAfter: 5 * time.Millisecond},
			wantState:  engine.StateRunning,
			wantHealth: engine.HealthUnhealthy,
			wantEvents: []string{"create", "start", "health_status: unhealthy"},
		},
		{
			name:       "health without a healthcheck is ignored",
			spec:       engine.ContainerSpec{Name: "nocheck"},
			behaviour:  &fake.Behaviour{Health: engine.HealthUnhealthy},
			wantState:  engine.StateRunning,
			wantEvents: []string{"create", "start"},
		},
		{
			name:       "healthcheck NONE is none",
			spec:       engine.ContainerSpec{Name: "none", Healthcheck: &engine.Healthcheck{Test: []string{"NONE"}}},
			wantState:  engine.StateRunning,
			wantEvents: []string{"create", "start"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEngine(t)
			if tc.behaviour != nil {
				e.OnStart(tc.spec.Name, *tc.behaviour)
			}
			id := mustCreate(t, e, tc.spec)
			if err := e.StartContainer(t.Context(), id); err != nil {
				t.Fatalf("StartContainer: %v", err)
			}
			var d engine.ContainerDetails
			waitFor(t, "the end state", func() bool {
				d = mustInspect(t, e, id)
				return d.State == tc.wantState && d.Health == tc.wantHealth
			})
			if d.ExitCode != tc.wantCode {
				t.Errorf("exit code %d, want %d", d.ExitCode, tc.wantCode)
			}
			if got := actions(e.Published(), id); !slices.Equal(got, tc.wantEvents) {
				t.Errorf("events %v, want %v", got, tc.wantEvents)
			}
		})
	}
}

func TestBehaviourMatchesImageAndLatestRuleWins(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	e.AddImage("other")
	e.OnStart(img, fake.Behaviour{Exit: true, ExitCode: 1})
	e.SetBehaviour(func(s engine.ContainerSpec) bool { return s.Labels["role"] == "db" }, fake.Behaviour{Exit: true, ExitCode: 2})
	e.OnStart("docker.io/library/other:latest", fake.Behaviour{Exit: true, ExitCode: 3})

	tests := []struct {
		name string
		spec engine.ContainerSpec
		want int
	}{
		{"by image", engine.ContainerSpec{Name: "ca", Image: img}, 1},
		{"later rule", engine.ContainerSpec{Name: "cb", Image: img, Labels: map[string]string{"role": "db"}}, 2},
		{"normalized image", engine.ContainerSpec{Name: "cc", Image: "other"}, 3},
	}
	for _, tc := range tests {
		id := mustCreate(t, e, tc.spec)
		if err := e.StartContainer(t.Context(), id); err != nil {
			t.Fatalf("%s: StartContainer: %v", tc.name, err)
		}
		if d := mustInspect(t, e, id); d.ExitCode != tc.want {
			t.Errorf("%s: exit code %d, want %d", tc.name, d.ExitCode, tc.want)
		}
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	tests := []struct {
		name  string
		setup func(e *fake.Engine)
		call  func(ctx context.Context, e *fake.Engine) error
		// check verifies the state after the failed call.
		check func(t *testing.T, e *fake.Engine)
	}{
		{
			name:  "create by name",
			setup: func(e *fake.Engine) { e.Fail("CreateContainer", "web", boom) },
			call: func(ctx context.Context, e *fake.Engine) error {
				_, err := e.CreateContainer(ctx, engine.ContainerSpec{Name: "web", Image: img})
				return err
			},
			check: func(t *testing.T, e *fake.Engine) {
				if _, ok := e.Spec("web"); ok {
					t.Errorf("a failed create left a container")
				}
			},
		},
		{
			name: "start by container name, called with the id",
			setup: func(e *fake.Engine) {
				e.Fail("StartContainer", "web", boom)
			},
			call: func(ctx context.Context, e *fake.Engine) error {
				id, err := e.CreateContainer(ctx, engine.ContainerSpec{Name: "web", Image: img})
				if err != nil {
					return err
				}
				return e.StartContainer(ctx, id)
			},
			check: func(t *testing.T, e *fake.Engine) {
				if d, _ := e.InspectContainer(t.Context(), "web"); d.State != engine.StateCreated {
					t.Errorf("state %q after a failed start, want created", d.State)
				}
			},
		},
		{
			name:  "pull",
			setup: func(e *fake.Engine) { e.Fail("PullImage", "redis:7", boom) },
			call: func(ctx context.Context, e *fake.Engine) error {
				return e.PullImage(ctx, "redis:7", "", nil)
			},
			check: func(t *testing.T, e *fake.Engine) {
				if _, err := e.InspectImage(t.Context(), "redis:7"); !errors.Is(err, engine.ErrNotFound) {
					t.Errorf("InspectImage after a failed pull: %v, want not found", err)
				}
			},
		},
		{
			name:  "any resource",
			setup: func(e *fake.Engine) { e.Fail("CreateNetwork", "", boom) },
			call: func(ctx context.Context, e *fake.Engine) error {
				_, err := e.CreateNetwork(ctx, engine.NetworkSpec{Name: "n"})
				return err
			},
			check: func(t *testing.T, e *fake.Engine) {
				if _, err := e.InspectNetwork(t.Context(), "n"); !errors.Is(err, engine.ErrNotFound) {
					t.Errorf("InspectNetwork after a failed create: %v, want not found", err)
				}
			},
		},
		{
			name:  "events",
			setup: func(e *fake.Engine) { e.Fail("Events", "", boom) },
			call: func(ctx context.Context, e *fake.Engine) error {
				evs, errs := e.Events(ctx, engine.EventFilter{})
				for range evs {
				}
				return <-errs
			},
			check: func(*testing.T, *fake.Engine) {},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEngine(t)
			tc.setup(e)
			if err := tc.call(t.Context(), e); !errors.Is(err, boom) {
				t.Fatalf("got error %v, want the injected one", err)
			}
			tc.check(t, e)
		})
	}
}

func TestFailOnceAndClear(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	e.FailOnce("CreateVolume", "v", nil)
	if _, err := e.CreateVolume(t.Context(), engine.VolumeSpec{Name: "v"}); err == nil {
		t.Fatalf("first CreateVolume succeeded, want the injected failure")
	}
	if _, err := e.CreateVolume(t.Context(), engine.VolumeSpec{Name: "v"}); err != nil {
		t.Fatalf("second CreateVolume: %v", err)
	}
	e.Fail("RemoveVolume", "", nil)
	e.ClearFaults()
	if err := e.RemoveVolume(t.Context(), "v", false); err != nil {
		t.Fatalf("RemoveVolume after ClearFaults: %v", err)
	}
}

func TestCalls(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	ctx := t.Context()
	id := mustCreate(t, e, engine.ContainerSpec{Name: "ca"})
	_ = e.StartContainer(ctx, id)
	_ = e.StartContainer(ctx, "missing") // failed calls count too
	_, _ = e.ListContainers(ctx, engine.Filter{})
	want := map[string]int{"CreateContainer": 1, "StartContainer": 2, "ListContainers": 1}
	if got := e.CallCounts(); !maps.Equal(got, want) {
		t.Errorf("CallCounts = %v, want %v", got, want)
	}
	// Test-side helpers are not calls.
	_, _ = e.Spec("ca")
	_ = e.SetHealth("ca", engine.HealthHealthy)
	e.ResetCalls()
	if n := e.Calls("StartContainer"); n != 0 {
		t.Errorf("Calls after ResetCalls = %d, want 0", n)
	}
}

func TestAnonymousVolumes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		removeVolumes bool
		wantAnonymous bool
	}{
		{"kept without RemoveVolumes", false, true},
		{"removed with RemoveVolumes", true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEngine(t)
			ctx := t.Context()
			id := mustCreate(t, e, engine.ContainerSpec{Name: "cc", Mounts: []engine.Mount{
				{Type: engine.MountVolume, Target: "/anon", VolumeLabels: map[string]string{"k": "v"}},
				{Type: engine.MountVolume, Source: "named", Target: "/named"},
				{Type: engine.MountBind, Source: "/host", Target: "/bind"},
			}})
			d := mustInspect(t, e, id)
			if len(d.Mounts) != 3 {
				t.Fatalf("mounts %+v, want three", d.Mounts)
			}
			anon := d.Mounts[0].Name
			v, err := e.InspectVolume(ctx, anon)
			if err != nil || v.Labels["k"] != "v" || len(anon) != 64 {
				t.Fatalf("anonymous volume %+v, %v; want a random name and the mount's labels", v, err)
			}
			if _, err := e.InspectVolume(ctx, "named"); err != nil {
				t.Fatalf("the named volume was not created on demand: %v", err)
			}
			if err := e.RemoveContainer(ctx, id, engine.RemoveOptions{RemoveVolumes: tc.removeVolumes}); err != nil {
				t.Fatalf("RemoveContainer: %v", err)
			}
			_, err = e.InspectVolume(ctx, anon)
			if got := err == nil; got != tc.wantAnonymous {
				t.Errorf("anonymous volume exists: %v (%v), want %v", got, err, tc.wantAnonymous)
			}
			if _, err := e.InspectVolume(ctx, "named"); err != nil {
				t.Errorf("the named volume went with the container: %v", err)
			}
		})
	}
}

func TestImages(t *testing.T) {
	t.Parallel()
	e := fake.New()
	ctx := t.Context()

	var lines []engine.ProgressLine
	if err := e.PullImage(ctx, "docker.io/library/redis", "", func(l engine.ProgressLine) { lines = append(lines, l) }); err != nil {
		t.Fatalf("PullImage: %v", err)
	}
	if len(lines) == 0 {
		t.Errorf("PullImage reported no progress")
	}
	for _, ref := range []string{"redis", "redis:latest", "docker.io/library/redis:latest"} {
		if _, err := e.InspectImage(ctx, ref); err != nil {
			t.Errorf("InspectImage(%s) after pulling redis: %v", ref, err)
		}
	}

	first, err := e.BuildImage(ctx, strings.NewReader("context"), engine.BuildSpec{Tags: []string{"app:1", "app:dev"}, Labels: map[string]string{"k": "v"}}, nil)
	if err != nil {
		t.Fatalf("BuildImage: %v", err)
	}
	if i, err := e.InspectImage(ctx, "app:dev"); err != nil || i.ID != first || i.Labels["k"] != "v" {
		t.Errorf("InspectImage(app:dev) = %+v, %v; want the built image", i, err)
	}
	// A rebuild moves the tag; the old image keeps its other tag.
	second, err := e.BuildImage(ctx, nil, engine.BuildSpec{Tags: []string{"app:dev"}}, nil)
	if err != nil {
		t.Fatalf("BuildImage again: %v", err)
	}
	if i, _ := e.InspectImage(ctx, "app:dev"); i.ID != second {
		t.Errorf("app:dev is %s after a rebuild, want %s", i.ID, second)
	}
	if i, _ := e.InspectImage(ctx, "app:1"); i.ID != first || !slices.Equal(i.RepoTags, []string{"app:1"}) {
		t.Errorf("app:1 = %+v, want the first image with only that tag", i)
	}

	if _, err := e.CreateContainer(ctx, engine.ContainerSpec{Name: "cc", Image: "app:1"}); err != nil {
		t.Fatalf("CreateContainer: %v", err)
	}
	if err := e.RemoveImage(ctx, "app:1", false); !errors.Is(err, engine.ErrConflict) {
		t.Errorf("RemoveImage of a used image: %v, want conflict", err)
	}
	if err := e.RemoveImage(ctx, "app:1", true); err != nil {
		t.Errorf("RemoveImage with force: %v", err)
	}
	if err := e.RemoveImage(ctx, "app:1", false); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("RemoveImage twice: %v, want not found", err)
	}
	// The removed image is gone by id too; redis and the rebuild remain.
	if _, err := e.InspectImage(ctx, first); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("InspectImage of the removed image by id: %v, want not found", err)
	}
	for _, ref := range []string{"redis", second} {
		if _, err := e.InspectImage(ctx, ref); err != nil {
			t.Errorf("InspectImage(%s) after removing app:1: %v", ref, err)
		}
	}
}

func TestLogsAttachExec(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	ctx := t.Context()
	e.OnStart("cc", fake.Behaviour{Stdout: "one\ntwo\n", Stderr: "oops\n", ExecExitCode: 5, ExecStdout: "hi"})
	id := mustCreate(t, e, engine.ContainerSpec{Name: "cc"})

	var aout, aerr bytes.Buffer
	wait, err := e.Attach(ctx, id, engine.Streams{Stdout: &aout, Stderr: &aerr}, false)
	if err != nil {
		t.Fatalf("Attach: %v", err)
	}
	attached := make(chan error, 1)
	go func() { attached <- wait() }()

	if _, err := e.Exec(ctx, id, engine.ExecSpec{Cmd: []string{"true"}}, engine.Streams{}); !errors.Is(err, engine.ErrConflict) {
		t.Errorf("Exec in a created container: %v, want conflict", err)
	}
	if err := e.StartContainer(ctx, id); err != nil {
		t.Fatalf("StartContainer: %v", err)
	}
	var xout bytes.Buffer
	var execID string
	code, err := e.Exec(ctx, id, engine.ExecSpec{Cmd: []string{"true"}, OnStart: func(id string) { execID = id }}, engine.Streams{Stdout: &xout})
	if err != nil || code != 5 || xout.String() != "hi" || execID == "" {
		t.Errorf("Exec = %d, %v, output %q, exec id %q; want 5 and the scripted output", code, err, xout.String(), execID)
	}

	// A followed log ends when the container stops.
	followed := make(chan error, 1)
	var fout bytes.Buffer
	go func() {
		followed <- e.ContainerLogs(ctx, id, engine.LogOptions{Follow: true}, &fout, nil)
	}()
	if err := e.StopContainer(ctx, id, nil); err != nil {
		t.Fatalf("StopContainer: %v", err)
	}
	for name, ch := range map[string]chan error{"followed logs": followed, "attach": attached} {
		select {
		case err := <-ch:
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s did not end when the container stopped", name)
		}
	}
	if aout.String() != "one\ntwo\n" || aerr.String() != "oops\n" {
		t.Errorf("attached output %q / %q, want the scripted output", aout.String(), aerr.String())
	}
	if fout.String() != "one\ntwo\n" {
		t.Errorf("followed log %q, want the scripted stdout", fout.String())
	}

	// Each start adds to the log; Tail keeps the last lines.
	if err := e.StartContainer(ctx, id); err != nil {
		t.Fatalf("StartContainer again: %v", err)
	}
	tests := []struct {
		tail, wantOut, wantErr string
	}{
		{"all", "one\ntwo\none\ntwo\n", "oops\noops\n"},
		{"", "one\ntwo\none\ntwo\n", "oops\noops\n"},
		{"1", "", "oops\n"},
		{"2", "two\n", "oops\n"},
	}
	for _, tc := range tests {
		var out, errb bytes.Buffer
		if err := e.ContainerLogs(ctx, id, engine.LogOptions{Tail: tc.tail}, &out, &errb); err != nil {
			t.Fatalf("ContainerLogs: %v", err)
		}
		if out.String() != tc.wantOut || errb.String() != tc.wantErr {
			t.Errorf("tail %q: logs %q / %q, want %q / %q", tc.tail, out.String(), errb.String(), tc.wantOut, tc.wantErr)
		}
	}
}

func TestStateTransitions(t *testing.T) {
	t.Parallel()
	type step struct {
		op      string
		wantErr error
		want    engine.ContainerState
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"pause a created container", []step{{"pause", engine.ErrConflict, engine.StateCreated}}},
		{"start paused", []step{{"start", nil, engine.StateRunning}, {"pause", nil, engine.StatePaused}, {"start", engine.ErrConflict, engine.StatePaused}}},
		{"stop paused", []step{{"start", nil, engine.StateRunning}, {"pause", nil, engine.StatePaused}, {"stop", nil, engine.StateExited}}},
		{"unpause running", []step{{"start", nil, engine.StateRunning}, {"unpause", engine.ErrConflict, engine.StateRunning}}},
		{"kill exited", []step{{"start", nil, engine.StateRunning}, {"stop", nil, engine.StateExited}, {"kill", engine.ErrConflict, engine.StateExited}}},
		{"restart exited", []step{{"start", nil, engine.StateRunning}, {"kill", nil, engine.StateExited}, {"start", nil, engine.StateRunning}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEngine(t)
			ctx := t.Context()
			id := mustCreate(t, e, engine.ContainerSpec{Name: "cc"})
			ops := map[string]func() error{
				"start":   func() error { return e.StartContainer(ctx, id) },
				"stop":    func() error { return e.StopContainer(ctx, id, nil) },
				"kill":    func() error { return e.KillContainer(ctx, id, "") },
				"pause":   func() error { return e.PauseContainer(ctx, id) },
				"unpause": func() error { return e.UnpauseContainer(ctx, id) },
			}
			for i, s := range tc.steps {
				err := ops[s.op]()
				if (s.wantErr == nil && err != nil) || !errors.Is(err, s.wantErr) {
					t.Fatalf("step %d %s: error %v, want %v", i, s.op, err, s.wantErr)
				}
				if d := mustInspect(t, e, id); d.State != s.want {
					t.Fatalf("step %d %s: state %q, want %q", i, s.op, d.State, s.want)
				}
			}
		})
	}
}

func TestNetworks(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	ctx := t.Context()
	if _, err := e.CreateNetwork(ctx, engine.NetworkSpec{Name: "n"}); err != nil {
		t.Fatalf("CreateNetwork: %v", err)
	}
	id := mustCreate(t, e, engine.ContainerSpec{Name: "cc", Networks: []engine.EndpointSpec{{Network: "n"}}})
	if d := mustInspect(t, e, id); d.NetworkIPs["n"] != "" {
		t.Errorf("a created container has address %q, want none before start", d.NetworkIPs["n"])
	}
	if err := e.StartContainer(ctx, id); err != nil {
		t.Fatalf("StartContainer: %v", err)
	}
	if d := mustInspect(t, e, id); d.NetworkIPs["n"] == "" {
		t.Errorf("a running container has no address on n")
	}
	if err := e.StopContainer(ctx, id, nil); err != nil {
		t.Fatalf("StopContainer: %v", err)
	}
	// A stopped container does not hold its network; it cannot start
	// once the network is gone.
	if err := e.RemoveNetwork(ctx, "n"); err != nil {
		t.Fatalf("RemoveNetwork: %v", err)
	}
	if err := e.StartContainer(ctx, id); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("StartContainer without its network: %v, want not found", err)
	}
	if err := e.RemoveNetwork(ctx, "bridge"); err == nil {
		t.Errorf("removing the predefined bridge network succeeded")
	}
	// The default network mode joins the predefined bridge.
	def := mustCreate(t, e, engine.ContainerSpec{Name: "cd"})
	if d := mustInspect(t, e, def); !slices.Equal(d.Networks, []string{"bridge"}) {
		t.Errorf("networks of a default container %v, want bridge", d.Networks)
	}
}

func TestEventsDoNotBlockOnGoneSubscriber(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	ctx, cancel := context.WithCancel(t.Context())
	events, _ := e.Events(ctx, engine.EventFilter{}) // never read
	for i := range 100 {
		mustCreate(t, e, engine.ContainerSpec{Name: fmt.Sprintf("c%d", i)})
	}
	cancel()
	for range events { // the stream ends once ctx is done
	}
	mustCreate(t, e, engine.ContainerSpec{Name: "after"})
}

func TestEventsFilterAndReplay(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	ctx := t.Context()
	since := time.Now()
	a := mustCreate(t, e, engine.ContainerSpec{Name: "ca", Labels: map[string]string{"p": "x"}})
	mustCreate(t, e, engine.ContainerSpec{Name: "cb", Labels: map[string]string{"p": "y"}})
	if _, err := e.CreateNetwork(ctx, engine.NetworkSpec{Name: "n", Labels: map[string]string{"p": "x"}}); err != nil {
		t.Fatalf("CreateNetwork: %v", err)
	}

	events, _ := e.Events(ctx, engine.EventFilter{Type: "container", Labels: map[string]string{"p": "x"}, Since: since})
	if err := e.StartContainer(ctx, a); err != nil {
		t.Fatalf("StartContainer: %v", err)
	}
	var got []string
	for len(got) < 2 {
		select {
		case ev := <-events:
			got = append(got, ev.Attributes["name"]+" "+ev.Action)
			if ev.Attributes["image"] != img {
				t.Errorf("event %+v lacks the image attribute", ev)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("events so far %v, want two", got)
		}
	}
	if want := []string{"ca create", "ca start"}; !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
}

func TestTestHelpers(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	ctx := t.Context()
	id := mustCreate(t, e, engine.ContainerSpec{Name: "cc", Env: []string{"A=1"}, Healthcheck: healthcheck})
	e.OnStart("cc", fake.Behaviour{Health: engine.HealthStarting})
	if s, ok := e.Spec(id); !ok || s.Name != "cc" || !slices.Equal(s.Env, []string{"A=1"}) {
		t.Errorf("Spec = %+v, %v; want the create spec", s, ok)
	}
	if err := e.StartContainer(ctx, id); err != nil {
		t.Fatalf("StartContainer: %v", err)
	}
	if err := e.SetHealth("cc", engine.HealthUnhealthy); err != nil {
		t.Fatalf("SetHealth: %v", err)
	}
	if d := mustInspect(t, e, id); d.Health != engine.HealthUnhealthy || !strings.Contains(d.Status, "(unhealthy)") {
		t.Errorf("health %q, status %q; want unhealthy", d.Health, d.Status)
	}
	if err := e.Exit("cc", 2); err != nil {
		t.Fatalf("Exit: %v", err)
	}
	if d := mustInspect(t, e, id); d.State != engine.StateExited || d.ExitCode != 2 || !strings.HasPrefix(d.Status, "Exited (2)") {
		t.Errorf("after Exit: %+v, want exited with 2", d)
	}
	if err := e.Exit("cc", 2); !errors.Is(err, engine.ErrConflict) {
		t.Errorf("Exit of an exited container: %v, want conflict", err)
	}
}

// TestConcurrentUse exercises the locking under -race: many goroutines
// create, start, list, subscribe and remove at once.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	ctx := t.Context()
	e.OnStart(img, fake.Behaviour{HealthAfter: time.Millisecond})
	events, _ := e.Events(ctx, engine.EventFilter{})
	go func() {
		for range events {
		}
	}()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			name := fmt.Sprintf("c%d", i)
			id, err := e.CreateContainer(ctx, engine.ContainerSpec{Name: name, Image: img, Healthcheck: healthcheck})
			if err != nil {
				t.Errorf("CreateContainer: %v", err)
				return
			}
			_ = e.StartContainer(ctx, id)
			_, _ = e.ListContainers(ctx, engine.Filter{})
			_ = e.RemoveContainer(ctx, id, engine.RemoveOptions{Force: true, RemoveVolumes: true})
		})
	}
	wg.Wait()
	if cs, err := e.ListContainers(ctx, engine.Filter{}); err != nil || len(cs) != 0 {
		t.Errorf("ListContainers = %d containers, %v; want none", len(cs), err)
	}
	if n := e.Calls("CreateContainer"); n != 20 {
		t.Errorf("Calls(CreateContainer) = %d, want 20", n)
	}
}

func TestEventsUntil(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	ctx := t.Context()
	past := mustCreate(t, e, engine.ContainerSpec{Name: "past"})

	// An Until ahead replays the past, delivers live events until then,
	// and ends the stream at Until.
	until := time.Now().Add(200 * time.Millisecond)
	events, errs := e.Events(ctx, engine.EventFilter{Type: "container", Until: until})
	live := mustCreate(t, e, engine.ContainerSpec{Name: "live"})
	var got []string
	for ev := range events {
		got = append(got, ev.Attributes["name"]+" "+ev.Action)
	}
	if time.Now().Before(until) {
		t.Errorf("the stream ended before Until")
	}
	for err := range errs {
		t.Errorf("the stream ended at Until with %v, want no error", err)
	}
	if want := []string{"past create", "live create"}; !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}

	// An Until past replays the events in [Since, Until] and ends at once.
	evs := e.Published()
	since, until := evs[0].Time, evs[len(evs)-1].Time
	if err := e.StartContainer(ctx, past); err != nil {
		t.Fatalf("StartContainer: %v", err)
	}
	events, _ = e.Events(ctx, engine.EventFilter{Type: "container", Since: since, Until: until})
	got = nil
	for ev := range events {
		got = append(got, ev.ID+" "+ev.Action)
	}
	if want := []string{past + " create", live + " create"}; !slices.Equal(got, want) {
		t.Errorf("replayed events %v, want the two creates", got)
	}

	_, errs = e.Events(ctx, engine.EventFilter{Since: until, Until: since.Add(-time.Second)})
	if err := <-errs; err == nil {
		t.Errorf("Until before Since: no error")
	}
}

// latency is how long a slowed-down call takes to take effect: long
// enough that a check made right after a call that gave up runs before
// the effect, even under the race detector.
const latency = 300 * time.Millisecond

// giveUp makes call with a context cancelled shortly after, as a client
// that stops waiting, and reports how long the call took and its error.
func giveUp(t *testing.T, call func(ctx context.Context) error) (time.Duration, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	timer := time.AfterFunc(20*time.Millisecond, cancel)
	defer timer.Stop()
	begin := time.Now()
	err := call(ctx)
	return time.Since(begin), err
}

// stateOf is the state of the container named name as list and inspect
// both report it; "" when neither knows it.
func stateOf(t *testing.T, e *fake.Engine, name string) engine.ContainerState {
	t.Helper()
	var listed engine.ContainerState
	cs, err := e.ListContainers(t.Context(), engine.Filter{Name: name})
	if err != nil {
		t.Fatalf("ListContainers: %v", err)
	}
	if len(cs) > 0 {
		listed = cs[0].State
	}
	var inspected engine.ContainerState
	d, err := e.InspectContainer(t.Context(), name)
	switch {
	case err == nil:
		inspected = d.State
	case !errors.Is(err, engine.ErrNotFound):
		t.Fatalf("InspectContainer(%s): %v", name, err)
	}
	if listed != inspected {
		t.Fatalf("container %s is %q listed but %q inspected", name, listed, inspected)
	}
	return inspected
}

func TestLatencyCallerGivesUp(t *testing.T) {
	t.Parallel()
	const gone engine.ContainerState = ""
	tests := []struct {
		name string
		op   string
		// setup brings container "cc" to the state before the call.
		setup         func(t *testing.T, e *fake.Engine)
		call          func(ctx context.Context, e *fake.Engine) error
		before, after engine.ContainerState
	}{
		{
			name:  "create",
			op:    "CreateContainer",
			setup: func(*testing.T, *fake.Engine) {},
			call: func(ctx context.Context, e *fake.Engine) error {
				_, err := e.CreateContainer(ctx, engine.ContainerSpec{Name: "cc", Image: img})
				return err
			},
			before: gone,
			after:  engine.StateCreated,
		},
		{
			name:   "start",
			op:     "StartContainer",
			setup:  func(t *testing.T, e *fake.Engine) { mustCreate(t, e, engine.ContainerSpec{Name: "cc"}) },
			call:   func(ctx context.Context, e *fake.Engine) error { return e.StartContainer(ctx, "cc") },
			before: engine.StateCreated,
			after:  engine.StateRunning,
		},
		{
			name:   "stop",
			op:     "StopContainer",
			setup:  createStarted,
			call:   func(ctx context.Context, e *fake.Engine) error { return e.StopContainer(ctx, "cc", nil) },
			before: engine.StateRunning,
			after:  engine.StateExited,
		},
		{
			name:  "remove",
			op:    "RemoveContainer",
			setup: func(t *testing.T, e *fake.Engine) { mustCreate(t, e, engine.ContainerSpec{Name: "cc"}) },
			call: func(ctx context.Context, e *fake.Engine) error {
				return e.RemoveContainer(ctx, "cc", engine.RemoveOptions{})
			},
			// The engine shows a removal under way at once.
			before: engine.StateRemoving,
			after:  gone,
		},
		{
			name:  "remove with force",
			op:    "RemoveContainer",
			setup: createStarted,
			call: func(ctx context.Context, e *fake.Engine) error {
				return e.RemoveContainer(ctx, "cc", engine.RemoveOptions{Force: true})
			},
			before: engine.StateRemoving,
			after:  gone,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEngine(t)
			tc.setup(t, e)
			e.SetLatency(tc.op, latency)
			took, err := giveUp(t, func(ctx context.Context) error { return tc.call(ctx, e) })
			if !errors.Is(err, context.Canceled) || took >= latency {
				t.Fatalf("call = %v after %v, want context.Canceled at once", err, took)
			}
			if got := stateOf(t, e, "cc"); got != tc.before {
				t.Errorf("state right after the call gave up %q, want %q", got, tc.before)
			}
			if err := e.Quiesce(t.Context()); err != nil {
				t.Fatalf("Quiesce: %v", err)
			}
			if got := stateOf(t, e, "cc"); got != tc.after {
				t.Errorf("state once the operation took effect %q, want %q", got, tc.after)
			}
		})
	}
}

func createStarted(t *testing.T, e *fake.Engine) {
	t.Helper()
	id := mustCreate(t, e, engine.ContainerSpec{Name: "cc"})
	if err := e.StartContainer(t.Context(), id); err != nil {
		t.Fatalf("StartContainer: %v", err)
	}
}

// TestLatencyStopEvents checks what a stop under way looks like in the
// event stream: the kill at once, the die and stop once it takes effect.
func TestLatencyStopEvents(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	createStarted(t, e)
	events, _ := e.Events(t.Context(), engine.EventFilter{Type: "container"})
	e.SetLatency("StopContainer", latency)

	ctx, cancel := context.WithCancel(t.Context())
	stopped := make(chan error, 1)
	go func() { stopped <- e.StopContainer(ctx, "cc", nil) }()
	next := func() engine.Event {
		t.Helper()
		select {
		case ev := <-events:
			return ev
		case <-time.After(5 * time.Second):
			t.Fatalf("no event")
			return engine.Event{}
		}
	}
	kill := next()
	if kill.Action != "kill" || kill.Attributes["signal"] != "15" {
		t.Fatalf("first event of the stop %s %v, want kill with signal 15", kill.Action, kill.Attributes)
	}
	if got := actions(e.Published(), kill.ID); !slices.Equal(got, []string{"create", "start", "kill"}) {
		t.Errorf("events while the stop is under way %v, want no die yet", got)
	}
	cancel()
	if err := <-stopped; !errors.Is(err, context.Canceled) {
		t.Errorf("StopContainer = %v, want context.Canceled", err)
	}
	die, stop := next(), next()
	if die.Action != "die" || stop.Action != "stop" {
		t.Fatalf("events after the kill %s, %s; want die, stop", die.Action, stop.Action)
	}
	if d := die.Time.Sub(kill.Time); d < latency {
		t.Errorf("die %v after the kill, want at least the latency %v", d, latency)
	}
}

func TestLatencyCreateReservesName(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	other := mustCreate(t, e, engine.ContainerSpec{Name: "other"})
	e.SetLatency("CreateContainer", latency)
	// Not a name made of hex digits, which could also be a prefix of the
	// other container's id, which the engine resolves too.
	spec := engine.ContainerSpec{Name: "web", Image: img}
	if _, err := giveUp(t, func(ctx context.Context) error {
		_, err := e.CreateContainer(ctx, spec)
		return err
	}); !errors.Is(err, context.Canceled) {
		t.Fatalf("CreateContainer = %v, want context.Canceled", err)
	}
	// The name is taken before the container exists.
	begin := time.Now()
	if _, err := e.CreateContainer(t.Context(), spec); !errors.Is(err, engine.ErrConflict) || time.Since(begin) >= latency {
		t.Errorf("second CreateContainer = %v after %v, want a conflict at once", err, time.Since(begin))
	}
	if err := e.RenameContainer(t.Context(), other, "web"); !errors.Is(err, engine.ErrConflict) {
		t.Errorf("RenameContainer to the reserved name = %v, want a conflict", err)
	}
	if got := stateOf(t, e, "web"); got != "" {
		t.Errorf("container under creation is %q, want not there yet", got)
	}
	if err := e.Quiesce(t.Context()); err != nil {
		t.Fatalf("Quiesce: %v", err)
	}
	if got := stateOf(t, e, "web"); got != engine.StateCreated {
		t.Errorf("container once created is %q, want created", got)
	}
	if _, err := e.CreateContainer(t.Context(), spec); !errors.Is(err, engine.ErrConflict) {
		t.Errorf("CreateContainer once created = %v, want a conflict", err)
	}
}

func TestLatencyCancelledBeforeTheCall(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		op   string
		call func(ctx context.Context, e *fake.Engine) error
	}{
		{"create", "CreateContainer", func(ctx context.Context, e *fake.Engine) error {
			_, err := e.CreateContainer(ctx, engine.ContainerSpec{Name: "new", Image: img})
			return err
		}},
		{"start", "StartContainer", func(ctx context.Context, e *fake.Engine) error { return e.StartContainer(ctx, "created") }},
		{"stop", "StopContainer", func(ctx context.Context, e *fake.Engine) error { return e.StopContainer(ctx, "running", nil) }},
		{"remove", "RemoveContainer", func(ctx context.Context, e *fake.Engine) error {
			return e.RemoveContainer(ctx, "running", engine.RemoveOptions{Force: true})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEngine(t)
			mustCreate(t, e, engine.ContainerSpec{Name: "created"})
			running := mustCreate(t, e, engine.ContainerSpec{Name: "running"})
			if err := e.StartContainer(t.Context(), running); err != nil {
				t.Fatalf("StartContainer: %v", err)
			}
			e.SetLatency("", latency)
			e.ResetCalls()
			published := len(e.Published())

			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			if err := tc.call(ctx, e); !errors.Is(err, context.Canceled) {
				t.Fatalf("call = %v, want context.Canceled", err)
			}
			// Nothing is under way, so Quiesce returns well within the latency.
			qctx, qcancel := context.WithTimeout(t.Context(), latency/2)
			defer qcancel()
			if err := e.Quiesce(qctx); err != nil {
				t.Fatalf("Quiesce: %v", err)
			}
			if n := e.Calls(tc.op); n != 1 {
				t.Errorf("Calls(%s) = %d, want the call counted", tc.op, n)
			}
			if evs := e.Published(); len(evs) != published {
				t.Errorf("the call published %v", evs[published:])
			}
			for name, want := range map[string]engine.ContainerState{"created": engine.StateCreated, "running": engine.StateRunning, "new": ""} {
				if got := stateOf(t, e, name); got != want {
					t.Errorf("%s is %q, want %q", name, got, want)
				}
			}
		})
	}
}

// TestLatencyContainerRemovedMeanwhile checks that an operation taking
// effect on a container removed in the meantime does nothing.
func TestLatencyContainerRemovedMeanwhile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		op   string
		call func(ctx context.Context, e *fake.Engine) error
	}{
		{"start", "StartContainer", func(ctx context.Context, e *fake.Engine) error { return e.StartContainer(ctx, "cc") }},
		{"stop", "StopContainer", func(ctx context.Context, e *fake.Engine) error { return e.StopContainer(ctx, "cc", nil) }},
		{"kill", "KillContainer", func(ctx context.Context, e *fake.Engine) error { return e.KillContainer(ctx, "cc", "") }},
		{"rename", "RenameContainer", func(ctx context.Context, e *fake.Engine) error { return e.RenameContainer(ctx, "cc", "renamed") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEngine(t)
			createStarted(t, e)
			id := mustInspect(t, e, "cc").ID
			e.SetLatency(tc.op, latency)
			if _, err := giveUp(t, func(ctx context.Context) error { return tc.call(ctx, e) }); !errors.Is(err, context.Canceled) {
				t.Fatalf("call = %v, want context.Canceled", err)
			}
			if err := e.RemoveContainer(t.Context(), id, engine.RemoveOptions{Force: true}); err != nil {
				t.Fatalf("RemoveContainer: %v", err)
			}
			if err := e.Quiesce(t.Context()); err != nil {
				t.Fatalf("Quiesce: %v", err)
			}
			if got := actions(e.Published(), id); got[len(got)-1] != "destroy" {
				t.Errorf("events %v, want none after destroy", got)
			}
			for _, name := range []string{"cc", "renamed"} {
				if got := stateOf(t, e, name); got != "" {
					t.Errorf("%s is %q after the removal, want gone", name, got)
				}
			}
		})
	}
}

func TestLatencyCallerWaits(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	id := mustCreate(t, e, engine.ContainerSpec{Name: "cc"})
	e.SetLatency("StartContainer", latency)
	begin := time.Now()
	if err := e.StartContainer(t.Context(), id); err != nil {
		t.Fatalf("StartContainer: %v", err)
	}
	if took := time.Since(begin); took < latency {
		t.Errorf("StartContainer returned after %v, want at least the latency %v", took, latency)
	}
	if got := stateOf(t, e, "cc"); got != engine.StateRunning {
		t.Errorf("state when StartContainer returned %q, want running", got)
	}
	// A waiting caller gets the result of the operation as it took effect.
	if err := e.PauseContainer(t.Context(), id); err != nil {
		t.Fatalf("PauseContainer: %v", err)
	}
	if err := e.StartContainer(t.Context(), id); !errors.Is(err, engine.ErrConflict) {
		t.Errorf("StartContainer of a paused container = %v, want a conflict", err)
	}

	e.SetLatency("StartContainer", 0)
	if err := e.UnpauseContainer(t.Context(), id); err != nil {
		t.Fatalf("UnpauseContainer: %v", err)
	}
	if err := e.StopContainer(t.Context(), id, nil); err != nil {
		t.Fatalf("StopContainer: %v", err)
	}
	begin = time.Now()
	if err := e.StartContainer(t.Context(), id); err != nil || time.Since(begin) >= latency {
		t.Errorf("StartContainer without latency = %v after %v, want nil at once", err, time.Since(begin))
	}

	defer func() {
		if recover() == nil {
			t.Errorf("SetLatency of a method it cannot slow down did not panic")
		}
	}()
	e.SetLatency("ListContainers", latency)
}
