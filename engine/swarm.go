package engine

import (
	"context"
	"time"

	"github.com/moby/moby/api/types/swarm"
)

// Swarm is the part of an engine that manages a Docker Swarm: services,
// their tasks, and the configs and secrets they mount. It is apart from
// Engine because only deploy and undeploy use it, and an engine that is
// not a swarm manager answers none of it. Networks are created through
// Networks (an overlay network is a network with the overlay driver).
//
// A service's spec is the Swarm API's own ServiceSpec: it is the wire
// format of the one engine that has services, and a copy of its hundred
// fields in composer's words would add a mapping to keep, not meaning.
type Swarm interface {
	// SwarmState says whether the engine belongs to a swarm and manages it.
	// It succeeds on any engine, swarm or not.
	SwarmState(ctx context.Context) (SwarmState, error)

	// ListServices returns the services carrying every label in filter.
	ListServices(ctx context.Context, filter Filter) ([]Service, error)
	// CreateService creates a service and returns its id. A name in use is
	// ErrConflict.
	CreateService(ctx context.Context, spec swarm.ServiceSpec) (string, error)
	// UpdateService replaces a service's spec. version is the Version the
	// caller read; a service changed since is ErrConflict.
	UpdateService(ctx context.Context, id string, version uint64, spec swarm.ServiceSpec) error
	RemoveService(ctx context.Context, id string) error
	// ListTasks returns the tasks of one service (by id), current and
	// past, as the swarm keeps them.
	ListTasks(ctx context.Context, serviceID string) ([]Task, error)

	ListConfigs(ctx context.Context, filter Filter) ([]SwarmObject, error)
	CreateConfig(ctx context.Context, spec SwarmObjectSpec) (string, error)
	// RemoveConfig fails with ErrConflict while a service uses the config.
	RemoveConfig(ctx context.Context, id string) error

	ListSecrets(ctx context.Context, filter Filter) ([]SwarmObject, error)
	CreateSecret(ctx context.Context, spec SwarmObjectSpec) (string, error)
	// RemoveSecret fails with ErrConflict while a service uses the secret.
	RemoveSecret(ctx context.Context, id string) error
}

// SwarmState is the engine's place in a swarm.
type SwarmState struct {
	// NodeState is the engine's swarm membership: "inactive", "pending",
	// "active", "error" or "locked".
	NodeState string
	// Manager is true when the engine can manage the swarm (a manager
	// node with the control plane available).
	Manager bool
	NodeID  string
	// Nodes is how many nodes the swarm has; known only to managers.
	Nodes int
	// APIVersion is the API version the client and the engine agreed on:
	// jobs need 1.41.
	APIVersion string
}

// Service is a swarm service as the engine reports it.
type Service struct {
	ID string
	// Version changes with every update; an update must name the version
	// it read.
	Version uint64
	Spec    swarm.ServiceSpec
	// JobIteration counts the runs of a job service (0 for other
	// services): tasks of the current run carry the same number.
	JobIteration uint64
	// UpdateState is where the last update of the spec is: "updating",
	// "paused", "completed", "rollback_started", "rollback_paused" or
	// "rollback_completed"; empty for a service never updated.
	UpdateState string
	// UpdateMessage says why, for a paused or rolled back update.
	UpdateMessage string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// TaskState is a task's state, as the swarm names it: new, pending,
// assigned, accepted, preparing, ready, starting, running, complete,
// shutdown, failed, rejected, remove, orphaned.
type TaskState string

// The task states deploy decides on.
const (
	TaskRunning  TaskState = "running"
	TaskComplete TaskState = "complete"
	TaskFailed   TaskState = "failed"
	TaskRejected TaskState = "rejected"
	TaskShutdown TaskState = "shutdown"
	TaskOrphaned TaskState = "orphaned"
)

// Task is one task of a service: one container on one node.
type Task struct {
	ID        string
	ServiceID string
	NodeID    string
	// Slot numbers the tasks of a replicated service from 1.
	Slot int
	// JobIteration is the run of a job this task belongs to.
	JobIteration uint64
	// DesiredState is what the swarm wants of the task; State is where it
	// is.
	DesiredState TaskState
	State        TaskState
	// Message and Err say why the task is in its state.
	Message string
	Err     string
	// ContainerID is the task's container on its node, once it has one.
	ContainerID string
	ExitCode    int
	// Timestamp is when the task last changed state.
	Timestamp time.Time
}

// SwarmObject is a config or a secret as the engine reports it; a
// secret's data is never returned.
type SwarmObject struct {
	ID      string
	Name    string
	Labels  map[string]string
	Version uint64
}

// SwarmObjectSpec is everything needed to create a config or a secret.
type SwarmObjectSpec struct {
	Name   string
	Labels map[string]string
	Data   []byte
}
