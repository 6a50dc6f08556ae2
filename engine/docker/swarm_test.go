package docker

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"

	"github.com/composer-orchestrator/composer/engine"
)

func TestFromService(t *testing.T) {
	t.Parallel()
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	spec := swarm.ServiceSpec{Annotations: swarm.Annotations{Name: "p_web", Labels: map[string]string{"a": "b"}}}
	tests := []struct {
		name string
		in   swarm.Service
		want engine.Service
	}{
		{
			name: "service",
			in: swarm.Service{
				ID:   "s1",
				Meta: swarm.Meta{Version: swarm.Version{Index: 42}, CreatedAt: created, UpdatedAt: created.Add(time.Minute)},
				Spec: spec,
			},
			want: engine.Service{ID: "s1", Version: 42, Spec: spec, CreatedAt: created, UpdatedAt: created.Add(time.Minute)},
		},
		{
			name: "job and update status",
			in: swarm.Service{
				ID:           "s2",
				Meta:         swarm.Meta{Version: swarm.Version{Index: 7}},
				Spec:         spec,
				JobStatus:    &swarm.JobStatus{JobIteration: swarm.Version{Index: 3}},
				UpdateStatus: &swarm.UpdateStatus{State: swarm.UpdateStatePaused, Message: "update paused due to failure"},
			},
			want: engine.Service{ID: "s2", Version: 7, Spec: spec, JobIteration: 3, UpdateState: "paused", UpdateMessage: "update paused due to failure"},
		},
	}
	for _, tc := range tests {
		if got := fromService(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: fromService = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestFromTask(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		in   swarm.Task
		want engine.Task
	}{
		{
			name: "failed job task",
			in: swarm.Task{
				ID: "t1", ServiceID: "s1", NodeID: "n1", Slot: 0,
				JobIteration: &swarm.Version{Index: 2},
				DesiredState: swarm.TaskStateShutdown,
				Status: swarm.TaskStatus{
					Timestamp: at, State: swarm.TaskStateFailed, Message: "started", Err: "task: non-zero exit (3)",
					ContainerStatus: &swarm.ContainerStatus{ContainerID: "c1", ExitCode: 3},
				},
			},
			want: engine.Task{
				ID: "t1", ServiceID: "s1", NodeID: "n1", JobIteration: 2, DesiredState: engine.TaskShutdown,
				State: engine.TaskFailed, Message: "started", Err: "task: non-zero exit (3)", ContainerID: "c1", ExitCode: 3, Timestamp: at,
			},
		},
		{
			name: "pending task, no container yet",
			in: swarm.Task{
				ID: "t2", ServiceID: "s1", Slot: 1, DesiredState: swarm.TaskStateRunning,
				Status: swarm.TaskStatus{Timestamp: at, State: swarm.TaskStatePending, Message: "pending task scheduling"},
			},
			want: engine.Task{
				ID: "t2", ServiceID: "s1", Slot: 1, DesiredState: engine.TaskRunning, State: "pending",
				Message: "pending task scheduling", Timestamp: at,
			},
		},
	}
	for _, tc := range tests {
		if got := fromTask(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: fromTask = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestTranslateSwarm(t *testing.T) {
	t.Parallel()
	tests := []struct {
		msg  string
		want error // nil: no sentinel
	}{
		{"Error response from daemon: rpc error: code = Unknown desc = update out of sequence", engine.ErrConflict},
		{"Error response from daemon: rpc error: code = InvalidArgument desc = config 'p_site' is in use by the following service: p_web", engine.ErrConflict},
		{"Error response from daemon: rpc error: code = InvalidArgument desc = secret 'p_token' is in use by the following service: p_web", engine.ErrConflict},
		{"Error response from daemon: network p_back not found", engine.ErrNotFound},
		{"Error response from daemon: rpc error: code = InvalidArgument desc = secret not found: abc", engine.ErrNotFound},
		{"Error response from daemon: rpc error: code = InvalidArgument desc = config not found: abc", engine.ErrNotFound},
		{`Error response from daemon: This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.`, nil},
		{"Error response from daemon: rpc error: code = Unimplemented desc = service mode change is not allowed", nil},
	}
	for _, tc := range tests {
		err := translateSwarm(errors.New(tc.msg))
		for _, sentinel := range []error{engine.ErrConflict, engine.ErrNotFound} {
			if errors.Is(err, sentinel) != (sentinel == tc.want) {
				t.Errorf("translateSwarm(%q) = %v, want sentinel %v", tc.msg, err, tc.want)
			}
		}
		if err.Error() != tc.msg && !slices.Contains([]string{"conflict: " + tc.msg, "not found: " + tc.msg}, err.Error()) {
			t.Errorf("translateSwarm(%q) = %q, want the engine's message kept", tc.msg, err)
		}
	}
	if translateSwarm(nil) != nil {
		t.Errorf("translateSwarm(nil) != nil")
	}
}

func TestSwarmFilters(t *testing.T) {
	t.Parallel()
	f := swarmFilters(engine.Filter{Labels: map[string]string{"a": "1", "b": ""}, Name: "p_"})
	want := client.Filters{"label": {"a=1": true, "b": true}, "name": {"p_": true}}
	if !reflect.DeepEqual(f, want) {
		t.Errorf("swarmFilters = %v, want %v", f, want)
	}
}

// TestServiceSpec checks what the adapter does to a spec before sending
// it: it refuses a job an engine before API 1.41 would take for a
// replicated service, and copies the container spec, which the client
// rewrites in place (the image's tag), so the caller's spec is untouched.
func TestServiceSpec(t *testing.T) {
	t.Parallel()
	job := swarm.ServiceSpec{
		Annotations:  swarm.Annotations{Name: "p_init"},
		TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: "busybox"}},
		Mode:         swarm.ServiceMode{ReplicatedJob: &swarm.ReplicatedJob{}},
	}
	if _, err := (&Engine{apiVersion: "1.40"}).serviceSpec(job); err == nil {
		t.Errorf("serviceSpec of a job at API 1.40 succeeded, want an error")
	}
	got, err := (&Engine{apiVersion: "1.41"}).serviceSpec(job)
	if err != nil {
		t.Fatalf("serviceSpec of a job at API 1.41: %v", err)
	}
	if got.TaskTemplate.ContainerSpec == job.TaskTemplate.ContainerSpec || !reflect.DeepEqual(got, job) {
		t.Errorf("serviceSpec = %+v, want an equal spec with its own container spec", got)
	}
	got.TaskTemplate.ContainerSpec.Image = "busybox:latest"
	if job.TaskTemplate.ContainerSpec.Image != "busybox" {
		t.Errorf("changing the copy changed the caller's image to %q", job.TaskTemplate.ContainerSpec.Image)
	}
}
