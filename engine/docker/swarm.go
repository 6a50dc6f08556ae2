package docker

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"

	"github.com/composer-orchestrator/composer/engine"
)

// apiJobs: from 1.41 the engine runs job services (ReplicatedJob and
// GlobalJob modes). An older engine ignores a mode it does not know and
// would create a replicated service instead, so a job is refused before
// it is sent.
const apiJobs = "1.41"

var _ engine.Swarm = (*Engine)(nil)

// SwarmState reads the engine's swarm membership from its info, which
// every engine answers, in a swarm or not. The engine reports
// ControlAvailable only on a manager that reaches the swarm's control
// plane, and the node count only to managers.
func (e *Engine) SwarmState(ctx context.Context) (engine.SwarmState, error) {
	res, err := e.cli.Info(ctx, client.InfoOptions{})
	if err != nil {
		return engine.SwarmState{}, translate(err)
	}
	s := res.Info.Swarm
	return engine.SwarmState{
		NodeState:  cmp.Or(string(s.LocalNodeState), string(swarm.LocalNodeStateInactive)),
		Manager:    s.ControlAvailable,
		NodeID:     s.NodeID,
		Nodes:      s.Nodes,
		APIVersion: e.apiVersion,
	}, nil
}

// ListServices lists services with one call; the engine applies the label
// filters. The name filter is the swarm's: a prefix match. On an engine
// that is not a swarm manager this and every other Swarm call but
// SwarmState fail with the engine's 503 "This node is not a swarm
// manager...", returned as it is.
func (e *Engine) ListServices(ctx context.Context, filter engine.Filter) ([]engine.Service, error) {
	res, err := e.cli.ServiceList(ctx, client.ServiceListOptions{Filters: swarmFilters(filter)})
	if err != nil {
		return nil, translateSwarm(err)
	}
	out := make([]engine.Service, 0, len(res.Items))
	for _, s := range res.Items {
		out = append(out, fromService(s))
	}
	return out, nil
}

// CreateService creates a service. No registry is asked for the image's
// digest (QueryRegistry is false): the image is run by the reference the
// spec names, as each node has it, and a node without it rejects the
// task. The client completes a reference without tag or digest with
// ":latest", and that is what the service's spec reads back with.
//
// The engine's warnings are dropped. The only ones Docker sends for a
// create or an update are that the image's digest could not be pinned
// through a registry, which happens only when a registry is asked (by
// the client with QueryRegistry, or by the engine for clients older than
// API 1.30): not asking is the point here, and Swarm gives composer no
// other warning it could act on, nor the interface a way to pass one on.
func (e *Engine) CreateService(ctx context.Context, spec swarm.ServiceSpec) (string, error) {
	spec, err := e.serviceSpec(spec)
	if err != nil {
		return "", err
	}
	res, err := e.cli.ServiceCreate(ctx, client.ServiceCreateOptions{Spec: spec})
	if err != nil {
		return "", translateSwarm(err)
	}
	return res.ID, nil
}

// UpdateService replaces a service's spec at version. The engine refuses a
// stale version with a 500 "update out of sequence", reported as
// engine.ErrConflict. Warnings are dropped as for CreateService.
func (e *Engine) UpdateService(ctx context.Context, id string, version uint64, spec swarm.ServiceSpec) error {
	spec, err := e.serviceSpec(spec)
	if err != nil {
		return err
	}
	_, err = e.cli.ServiceUpdate(ctx, id, client.ServiceUpdateOptions{Version: swarm.Version{Index: version}, Spec: spec})
	return translateSwarm(err)
}

// serviceSpec checks that the engine can run spec and copies what the
// client changes in place: it writes the tagged image reference into the
// ContainerSpec (or PluginSpec) the spec points to, which is the caller's.
func (e *Engine) serviceSpec(spec swarm.ServiceSpec) (swarm.ServiceSpec, error) {
	if (spec.Mode.ReplicatedJob != nil || spec.Mode.GlobalJob != nil) && !e.atLeast(apiJobs) {
		return spec, fmt.Errorf("service %s is a job, which needs API %s; the engine speaks %s", spec.Name, apiJobs, e.apiVersion)
	}
	if cs := spec.TaskTemplate.ContainerSpec; cs != nil {
		c := *cs
		spec.TaskTemplate.ContainerSpec = &c
	}
	if ps := spec.TaskTemplate.PluginSpec; ps != nil {
		p := *ps
		spec.TaskTemplate.PluginSpec = &p
	}
	return spec, nil
}

// RemoveService removes a service. The swarm shuts its tasks down and
// removes their containers afterwards; the service is gone at once.
func (e *Engine) RemoveService(ctx context.Context, id string) error {
	_, err := e.cli.ServiceRemove(ctx, id, client.ServiceRemoveOptions{})
	return translateSwarm(err)
}

// ListTasks lists a service's tasks, oldest first. The engine keeps a few
// ended tasks per slot (the swarm's task history retention, 5 by
// default). The engine resolves the service filter to one service first
// (by id, name or id prefix), so a service that does not exist, or no
// longer, is engine.ErrNotFound.
func (e *Engine) ListTasks(ctx context.Context, serviceID string) ([]engine.Task, error) {
	f := client.Filters{}
	f.Add("service", serviceID)
	res, err := e.cli.TaskList(ctx, client.TaskListOptions{Filters: f})
	if err != nil {
		return nil, translateSwarm(err)
	}
	// The engine lists tasks in no useful order; by creation a caller
	// finds the latest attempt of a slot last.
	items := slices.Clone(res.Items)
	slices.SortStableFunc(items, func(a, b swarm.Task) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
	})
	out := make([]engine.Task, 0, len(items))
	for _, t := range items {
		out = append(out, fromTask(t))
	}
	return out, nil
}

// ListConfigs lists configs with one call; the engine applies the label
// filters.
func (e *Engine) ListConfigs(ctx context.Context, filter engine.Filter) ([]engine.SwarmObject, error) {
	res, err := e.cli.ConfigList(ctx, client.ConfigListOptions{Filters: swarmFilters(filter)})
	if err != nil {
		return nil, translateSwarm(err)
	}
	out := make([]engine.SwarmObject, 0, len(res.Items))
	for _, c := range res.Items {
		out = append(out, fromSwarmObject(c.ID, c.Meta, c.Spec.Annotations))
	}
	return out, nil
}

// CreateConfig creates a config; a name in use is engine.ErrConflict (the
// engine's 409 AlreadyExists).
func (e *Engine) CreateConfig(ctx context.Context, spec engine.SwarmObjectSpec) (string, error) {
	res, err := e.cli.ConfigCreate(ctx, client.ConfigCreateOptions{Spec: swarm.ConfigSpec{
		Annotations: swarm.Annotations{Name: spec.Name, Labels: spec.Labels},
		Data:        spec.Data,
	}})
	if err != nil {
		return "", translateSwarm(err)
	}
	return res.ID, nil
}

// RemoveConfig removes a config by id or name. The engine refuses one that
// a service's spec refers to with a 400 ("config 'x' is in use by the
// following service: y"), reported as engine.ErrConflict.
func (e *Engine) RemoveConfig(ctx context.Context, id string) error {
	_, err := e.cli.ConfigRemove(ctx, id, client.ConfigRemoveOptions{})
	return translateSwarm(err)
}

// ListSecrets lists secrets with one call; the engine applies the label
// filters and never returns a secret's data.
func (e *Engine) ListSecrets(ctx context.Context, filter engine.Filter) ([]engine.SwarmObject, error) {
	res, err := e.cli.SecretList(ctx, client.SecretListOptions{Filters: swarmFilters(filter)})
	if err != nil {
		return nil, translateSwarm(err)
	}
	out := make([]engine.SwarmObject, 0, len(res.Items))
	for _, s := range res.Items {
		out = append(out, fromSwarmObject(s.ID, s.Meta, s.Spec.Annotations))
	}
	return out, nil
}

// CreateSecret creates a secret; a name in use is engine.ErrConflict.
func (e *Engine) CreateSecret(ctx context.Context, spec engine.SwarmObjectSpec) (string, error) {
	res, err := e.cli.SecretCreate(ctx, client.SecretCreateOptions{Spec: swarm.SecretSpec{
		Annotations: swarm.Annotations{Name: spec.Name, Labels: spec.Labels},
		Data:        spec.Data,
	}})
	if err != nil {
		return "", translateSwarm(err)
	}
	return res.ID, nil
}

// RemoveSecret removes a secret by id or name; one in use is
// engine.ErrConflict, as for RemoveConfig.
func (e *Engine) RemoveSecret(ctx context.Context, id string) error {
	_, err := e.cli.SecretRemove(ctx, id, client.SecretRemoveOptions{})
	return translateSwarm(err)
}

// swarmFilters turns a filter into the engine's: labels, and the name,
// which the swarm matches as a prefix.
func swarmFilters(filter engine.Filter) client.Filters {
	f := client.Filters{}
	addLabelFilters(f, filter.Labels)
	if filter.Name != "" {
		f.Add("name", filter.Name)
	}
	return f
}

// fromService is what composer needs of a service. Version is the
// swarm's store index at the service's last write, which the swarm also
// makes when an update's status changes (to "completed", say): the
// version read before an update is stale once the update completes.
func fromService(s swarm.Service) engine.Service {
	out := engine.Service{
		ID:        s.ID,
		Version:   s.Version.Index,
		Spec:      s.Spec,
		CreatedAt: s.CreatedAt,
		UpdatedAt: s.UpdatedAt,
	}
	if s.JobStatus != nil {
		out.JobIteration = s.JobStatus.JobIteration.Index
	}
	if u := s.UpdateStatus; u != nil {
		out.UpdateState = string(u.State)
		out.UpdateMessage = u.Message
	}
	return out
}

// fromTask is what composer needs of a task.
func fromTask(t swarm.Task) engine.Task {
	out := engine.Task{
		ID:           t.ID,
		ServiceID:    t.ServiceID,
		NodeID:       t.NodeID,
		Slot:         t.Slot,
		DesiredState: engine.TaskState(t.DesiredState),
		State:        engine.TaskState(t.Status.State),
		Message:      t.Status.Message,
		Err:          t.Status.Err,
		Timestamp:    t.Status.Timestamp,
	}
	if t.JobIteration != nil {
		out.JobIteration = t.JobIteration.Index
	}
	if c := t.Status.ContainerStatus; c != nil {
		out.ContainerID = c.ContainerID
		out.ExitCode = c.ExitCode
	}
	return out
}

func fromSwarmObject(id string, meta swarm.Meta, a swarm.Annotations) engine.SwarmObject {
	return engine.SwarmObject{ID: id, Name: a.Name, Labels: a.Labels, Version: meta.Version.Index}
}

// missingReference matches the engine's answers to a service spec naming
// a network, secret or config that does not exist: "network x not found"
// (a 500) and "secret not found: x" or "config not found: x" (400
// InvalidArgument).
var missingReference = regexp.MustCompile(`network \S+ not found|(secret|config) not found: `)

// translateSwarm is translate for the swarm's answers, several of which
// carry no useful status: a stale version is a 500 ("update out of
// sequence"), a config or secret in use a 400 InvalidArgument ("... is in
// use by the following service: ..."), and a missing network, secret or
// config a spec refers to a 500 or a 400. Those are recognised by their
// text and reported as engine.ErrConflict and engine.ErrNotFound.
func translateSwarm(err error) error {
	if err == nil || cerrdefs.IsNotFound(err) || cerrdefs.IsConflict(err) {
		return translate(err)
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "update out of sequence"), strings.Contains(msg, "is in use by the following service"):
		return fmt.Errorf("%w: %s", engine.ErrConflict, msg)
	case missingReference.MatchString(msg):
		return fmt.Errorf("%w: %s", engine.ErrNotFound, msg)
	}
	return err
}
