package fake_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/swarm"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/engine/enginetest"
	"github.com/composer-orchestrator/composer/engine/fake"
)

// TestSwarmSuite runs the swarm behaviour suite against the fake's swarm,
// one engine per subtest, on the suite's image built from its Dockerfile.
func TestSwarmSuite(t *testing.T) {
	t.Parallel()
	const image = "enginetest:latest"
	enginetest.RunSwarm(t, func(t *testing.T) enginetest.SwarmUnderTest {
		e := fake.New()
		if _, err := e.BuildImage(t.Context(), enginetest.DockerfileContext(t, enginetest.Dockerfile), engine.BuildSpec{Tags: []string{image}}, nil); err != nil {
			t.Fatalf("building the suite's image: %v", err)
		}
		e.InitSwarm()
		return e
	}, image)
}

func newSwarm(t *testing.T) *fake.Engine {
	t.Helper()
	e := newEngine(t)
	e.InitSwarm()
	return e
}

// serviceSpec is a replicated service of the test image running cmd.
func serviceSpec(name string, replicas uint64, cmd ...string) swarm.ServiceSpec {
	return swarm.ServiceSpec{
		Annotations:  swarm.Annotations{Name: name, Labels: map[string]string{"app": name}},
		TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: img, Args: cmd}},
		Mode:         swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &replicas}},
	}
}

func mustCreateService(t *testing.T, e *fake.Engine, spec swarm.ServiceSpec) string {
	t.Helper()
	id, err := e.CreateService(t.Context(), spec)
	if err != nil {
		t.Fatalf("CreateService(%s): %v", spec.Name, err)
	}
	return id
}

func mustTasks(t *testing.T, e *fake.Engine, id string) []engine.Task {
	t.Helper()
	ts, err := e.ListTasks(t.Context(), id)
	if err != nil {
		t.Fatalf("ListTasks(%s): %v", id, err)
	}
	return ts
}

func mustService(t *testing.T, e *fake.Engine, name string) engine.Service {
	t.Helper()
	svcs, err := e.ListServices(t.Context(), engine.Filter{Name: name})
	if err != nil || len(svcs) != 1 {
		t.Fatalf("ListServices(%s) = %+v, %v; want one service", name, svcs, err)
	}
	return svcs[0]
}

func states(ts []engine.Task) []engine.TaskState {
	var out []engine.TaskState
	for _, t := range ts {
		out = append(out, t.State)
	}
	return out
}

func TestSwarmNotManager(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		state *engine.SwarmState // nil: a new engine
		want  string
	}{
		{"no swarm", nil, `Use "docker swarm init"`},
		{"worker", &engine.SwarmState{NodeState: "active", NodeID: "n1"}, "Worker nodes can't be used"},
		{"locked", &engine.SwarmState{NodeState: "locked"}, "needs to be unlocked"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEngine(t)
			if tc.state != nil {
				e.SetSwarmState(*tc.state)
			}
			st, err := e.SwarmState(t.Context())
			if err != nil || st.Manager || st.Nodes != 0 || st.APIVersion != "1.41" {
				t.Errorf("SwarmState = %+v, %v; want no manager, no node count, API 1.41", st, err)
			}
			if tc.state == nil && st.NodeState != "inactive" {
				t.Errorf("a new engine's node state %q, want inactive", st.NodeState)
			}
			_, err = e.ListServices(t.Context(), engine.Filter{})
			if err == nil || !strings.Contains(err.Error(), "not a swarm manager") && !strings.Contains(err.Error(), "unlocked") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ListServices: %v, want the engine's %q", err, tc.want)
			}
			if errors.Is(err, engine.ErrNotFound) || errors.Is(err, engine.ErrConflict) {
				t.Errorf("ListServices: %v, want no sentinel", err)
			}
			if n := e.Calls("ListServices"); n != 1 {
				t.Errorf("Calls(ListServices) = %d, want 1 for a refused call", n)
			}
		})
	}
}

// TestSwarmCalls checks that swarm calls are counted, so that a test can
// say that a deploy with nothing to do updated nothing.
func TestSwarmCalls(t *testing.T) {
	t.Parallel()
	e := newSwarm(t)
	mustCreateService(t, e, serviceSpec("web", 1, "sleep"))
	mustTasks(t, e, mustService(t, e, "web").ID)
	want := map[string]int{"CreateService": 1, "ListServices": 1, "ListTasks": 1}
	for op, n := range want {
		if got := e.Calls(op); got != n {
			t.Errorf("Calls(%s) = %d, want %d", op, got, n)
		}
	}
	if got := e.Calls("UpdateService"); got != 0 {
		t.Errorf("Calls(UpdateService) = %d, want 0", got)
	}
	// The tasks' containers are the swarm's doing, not calls.
	if got := e.Calls("CreateContainer") + e.Calls("StartContainer"); got != 0 {
		t.Errorf("container calls %d, want none", got)
	}
}

func TestSwarmFault(t *testing.T) {
	t.Parallel()
	e := newSwarm(t)
	boom := errors.New("boom")
	e.FailOnce("CreateService", "web", boom)
	if _, err := e.CreateService(t.Context(), serviceSpec("web", 1, "sleep")); !errors.Is(err, boom) {
		t.Fatalf("CreateService with a fault: %v, want boom", err)
	}
	if svcs, _ := e.ListServices(t.Context(), engine.Filter{}); len(svcs) != 0 {
		t.Errorf("services after a failed create: %+v", svcs)
	}
	mustCreateService(t, e, serviceSpec("web", 1, "sleep"))
}

// TestSwarmTaskContainers checks that a task runs in a container of the
// fake, named and labelled as the swarm's are, that scripting the
// container scripts the task, and that removing the service removes it.
func TestSwarmTaskContainers(t *testing.T) {
	t.Parallel()
	e := newSwarm(t)
	spec := serviceSpec("web", 1, "sleep")
	spec.TaskTemplate.ContainerSpec.Labels = map[string]string{"com.docker.stack.namespace": "p"}
	id := mustCreateService(t, e, spec)
	ts := mustTasks(t, e, id)
	if len(ts) != 1 || ts[0].State != engine.TaskRunning || ts[0].ContainerID == "" {
		t.Fatalf("tasks %+v, want one running, with a container", ts)
	}
	c := mustInspect(t, e, ts[0].ContainerID)
	if c.Name != "web.1."+ts[0].ID || c.State != engine.StateRunning || c.Labels["com.docker.swarm.service.id"] != id ||
		c.Labels["com.docker.swarm.task.id"] != ts[0].ID || c.Labels["com.docker.stack.namespace"] != "p" {
		t.Errorf("task container %+v, want web.1.<task>, running, with the swarm's and the spec's labels", c.Container)
	}

	// The container crashes: the task fails, and a new one replaces it.
	if err := e.Exit(ts[0].ContainerID, 7); err != nil {
		t.Fatalf("Exit: %v", err)
	}
	ts = mustTasks(t, e, id)
	if len(ts) != 2 || ts[0].State != engine.TaskFailed || ts[0].ExitCode != 7 || ts[0].Err != "task: non-zero exit (7)" ||
		ts[0].DesiredState != engine.TaskShutdown || ts[1].Slot != 1 {
		t.Fatalf("tasks after a crash:\n%+v\nwant the first failed with 7 and another in slot 1", ts)
	}
	ts = mustTasks(t, e, id) // the replacement starts on the next look
	if ts[1].State != engine.TaskRunning {
		t.Errorf("replacement %+v, want running", ts[1])
	}

	if err := e.RemoveService(t.Context(), id); err != nil {
		t.Fatalf("RemoveService: %v", err)
	}
	cs, err := e.ListContainers(t.Context(), engine.Filter{Labels: map[string]string{"com.docker.swarm.service.id": id}})
	if err != nil || len(cs) != 0 {
		t.Errorf("containers after the service's removal: %+v, %v; want none", cs, err)
	}
}

// TestSwarmScriptedFailure scripts the image's containers to fail: the
// tasks keep failing, the swarm keeps its history to five tasks per slot,
// and a restart delay keeps the replacement waiting, ready.
func TestSwarmScriptedFailure(t *testing.T) {
	t.Parallel()
	e := newSwarm(t)
	e.OnStart(img, fake.Behaviour{Exit: true, ExitCode: 1})
	id := mustCreateService(t, e, serviceSpec("web", 1))
	var ts []engine.Task
	for range 10 {
		ts = mustTasks(t, e, id)
	}
	if len(ts) != 5 {
		t.Errorf("%d tasks kept, want 5: %v", len(ts), states(ts))
	}
	for _, task := range ts[:len(ts)-1] {
		if task.State != engine.TaskFailed {
			t.Errorf("task %+v, want failed", task)
		}
	}

	spec := mustService(t, e, "web")
	spec.Spec.TaskTemplate.RestartPolicy = &swarm.RestartPolicy{Delay: new(time.Hour)}
	if err := e.UpdateService(t.Context(), id, spec.Version, spec.Spec); err != nil {
		t.Fatalf("UpdateService: %v", err)
	}
	ts = mustTasks(t, e, id)
	last := ts[len(ts)-1]
	if prev := ts[len(ts)-2]; prev.State != engine.TaskFailed || last.State != "ready" || last.DesiredState != "ready" {
		t.Errorf("tasks %v, want a failed one and a replacement waiting, ready", states(ts))
	}
}

// TestSwarmUpdateFailure updates a service to a spec whose tasks fail: the
// update pauses by default, and a rollback restores the previous spec.
func TestSwarmUpdateFailure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		action    swarm.FailureAction
		wantState string
		wantArgs  []string
	}{
		{"", "paused", []string{"exit", "1"}},
		{swarm.UpdateFailureActionRollback, "rollback_completed", []string{"sleep"}},
		{swarm.UpdateFailureActionContinue, "updating", []string{"exit", "1"}},
	}
	for _, tc := range tests {
		t.Run(string(tc.action), func(t *testing.T) {
			t.Parallel()
			e := newSwarm(t)
			spec := serviceSpec("web", 1, "sleep")
			spec.UpdateConfig = &swarm.UpdateConfig{FailureAction: tc.action}
			id := mustCreateService(t, e, spec)
			s := mustService(t, e, "web")
			s.Spec.TaskTemplate.ContainerSpec.Args = []string{"exit", "1"}
			if err := e.UpdateService(t.Context(), id, s.Version, s.Spec); err != nil {
				t.Fatalf("UpdateService: %v", err)
			}
			for range 3 {
				mustTasks(t, e, id)
			}
			got := mustService(t, e, "web")
			if got.UpdateState != tc.wantState || !slices.Equal(got.Spec.TaskTemplate.ContainerSpec.Args, tc.wantArgs) {
				t.Errorf("after the update: state %q (%q), args %q; want %q, %q", got.UpdateState, got.UpdateMessage,
					got.Spec.TaskTemplate.ContainerSpec.Args, tc.wantState, tc.wantArgs)
			}
			if got.Version <= s.Version+1 && tc.wantState != "updating" {
				t.Errorf("version %d, want the update's status written after the update (%d)", got.Version, s.Version+1)
			}
		})
	}
}

// TestSwarmLeave checks that leaving the swarm forgets it, containers too.
func TestSwarmLeave(t *testing.T) {
	t.Parallel()
	e := newSwarm(t)
	mustCreateService(t, e, serviceSpec("web", 2, "sleep"))
	if _, err := e.CreateConfig(t.Context(), engine.SwarmObjectSpec{Name: "c"}); err != nil {
		t.Fatalf("CreateConfig: %v", err)
	}
	e.SetSwarmState(engine.SwarmState{NodeState: "inactive"})
	if cs, err := e.ListContainers(t.Context(), engine.Filter{}); err != nil || len(cs) != 0 {
		t.Errorf("containers after leaving: %+v, %v; want none", cs, err)
	}
	e.InitSwarm()
	svcs, err := e.ListServices(t.Context(), engine.Filter{})
	cfgs, err2 := e.ListConfigs(t.Context(), engine.Filter{})
	if len(svcs) != 0 || len(cfgs) != 0 || err != nil || err2 != nil {
		t.Errorf("a new swarm holds %+v, %+v (%v, %v); want nothing", svcs, cfgs, err, err2)
	}
}

// TestSwarmJobs runs a job of three completions, two at a time: slots 0 to
// 2, the third once one of the first two is done.
func TestSwarmJobs(t *testing.T) {
	t.Parallel()
	e := newSwarm(t)
	spec := serviceSpec("job", 0, "exit", "0")
	spec.Mode = swarm.ServiceMode{ReplicatedJob: &swarm.ReplicatedJob{MaxConcurrent: new(uint64(2)), TotalCompletions: new(uint64(3))}}
	id := mustCreateService(t, e, spec)
	ts := mustTasks(t, e, id)
	ts = mustTasks(t, e, id)
	var slots []int
	for _, task := range ts {
		if task.State != engine.TaskComplete || task.DesiredState != engine.TaskComplete || task.JobIteration != 0 {
			t.Errorf("task %+v, want complete, of iteration 0", task)
		}
		slots = append(slots, task.Slot)
	}
	if !slices.Equal(slots, []int{0, 1, 2}) {
		t.Errorf("slots %v, want 0, 1, 2", slots)
	}
	if got := mustTasks(t, e, id); len(got) != 3 {
		t.Errorf("a complete job went on: %v", states(got))
	}
}

// TestSwarmUpdateTakesAMoment checks that, as in the engine, the updater
// takes an update of the tasks up after it: the first look still finds the
// old task at work and no update state, the next one the update under
// way, a write of its own.
func TestSwarmUpdateTakesAMoment(t *testing.T) {
	t.Parallel()
	e := newSwarm(t)
	id := mustCreateService(t, e, serviceSpec("web", 1, "sleep"))
	old := mustTasks(t, e, id)[0]
	s := mustService(t, e, "web")
	s.Spec.TaskTemplate.ContainerSpec.Env = []string{"A=1"}
	if err := e.UpdateService(t.Context(), id, s.Version, s.Spec); err != nil {
		t.Fatalf("UpdateService: %v", err)
	}
	if ts := mustTasks(t, e, id); len(ts) != 1 || ts[0].ID != old.ID || ts[0].DesiredState != engine.TaskRunning {
		t.Errorf("first look after the update: %+v, want the old task at work", ts)
	}
	updating := mustService(t, e, "web")
	if updating.UpdateState != "updating" || updating.Version != s.Version+2 {
		t.Errorf("second look: state %q, version %d; want updating, version %d (the update, then its status)",
			updating.UpdateState, updating.Version, s.Version+2)
	}
	ts := mustTasks(t, e, id)
	if len(ts) != 2 || ts[0].State != engine.TaskShutdown || ts[1].State != engine.TaskRunning {
		t.Errorf("tasks %v, want the old one shut down and a new one running", states(ts))
	}
	if done := mustService(t, e, "web"); done.UpdateState != "completed" || done.Version != updating.Version+1 {
		t.Errorf("then: state %q, version %d; want completed, version %d", done.UpdateState, done.Version, updating.Version+1)
	}
}
