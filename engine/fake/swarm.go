package fake

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/swarm"

	"github.com/composer-orchestrator/composer/engine"
)

// The fake plays a one-node Docker Swarm (engine.Swarm), by the rules a
// Docker 20.10 engine was seen to follow:
//
//   - A new engine is in no swarm: SwarmState says "inactive" and every
//     other Swarm call fails with the engine's "This node is not a swarm
//     manager..." (no sentinel: the Docker adapter has none for it).
//     InitSwarm makes it the manager of a one-node swarm, SetSwarmState
//     anything else (a worker, a locked manager).
//   - Services, configs and secrets get versions from one counter, as the
//     swarm's store index: every write moves it on, and a service's
//     Version is the index of its last write. An update naming another
//     version is ErrConflict ("update out of sequence"), names are unique
//     (ErrConflict), and a spec reads back the way the engine stores it
//     (see readBack).
//   - Every task runs in a container of the fake, created and started the
//     way CreateContainer and StartContainer do it, named and labelled as
//     the swarm names and labels task containers. Its command is
//     interpreted as for any container (["exit", "N"] exits with N, a
//     healthcheck ending in ["exit", "N"] fails unless N is 0), and
//     SetBehaviour, OnStart, Exit and SetHealth script it: a test makes a
//     task fail by making its container fail. The task follows its
//     container: "starting" while the container's healthcheck has not
//     passed, "running" once it has (at once without a healthcheck), then
//     "complete" when the container exits with 0 and "failed" otherwise.
//     A container that turns unhealthy is stopped, as the swarm stops it,
//     and its task ends as the stop ends it (with the Behaviour's
//     StopExitCode, 0 by default, so "complete"). A task whose image the
//     fake lacks is "rejected" ("No such image: ...").
//   - A replicated service has a task per slot from 1, a global one task
//     (slot 0), a replicated job TotalCompletions tasks from slot 0,
//     MaxConcurrent at a time. An ended task is replaced as its restart
//     policy says (any, the default, on-failure, none; MaxAttempts
//     restarts per slot), after its Delay (none unless the spec sets one;
//     the engine waits 5 s). A job's complete task is never replaced. The
//     swarm keeps 5 tasks per slot and forgets older ones.
//   - Every update clears UpdateState. One that changes a replicated or
//     global service's task template is taken up by the updater a moment
//     later, as in the engine: the first look after the update still
//     finds the old tasks at work and no update state; from the second
//     on, all the tasks are replaced at once (the old ones shut down),
//     and UpdateState is "updating" until the new ones run and the
//     update's Monitor (none unless set; the engine waits 5 s) has
//     passed, then "completed". A new task ending meanwhile makes it
//     "paused" (or rolls back, or goes on, as FailureAction says). Each
//     change of the update state is a write, which moves the version on.
//     An update that leaves the template alone replaces nothing. Every
//     update of a job, changed or not, starts a new run, whose tasks
//     come with the next look: JobIteration counts from 0 at create.
//
// The swarm moves on when it is asked: every Swarm call first brings the
// tasks up to date with their containers and starts what is due. Task
// containers are not removed when a task ends, only when the task is
// forgotten or its service removed.

var _ engine.Swarm = (*Engine)(nil)

// fakeAPIVersion is the API version SwarmState reports unless
// SetSwarmState gives another.
const fakeAPIVersion = "1.41"

// taskHistory is how many tasks the swarm keeps per slot, its default
// task history retention limit.
const taskHistory = 5

// The engine's answers the fake repeats.
const (
	msgNoSwarm  = `This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.`
	msgWorker   = "This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state. Please run this command on a manager node or promote the current node to a manager."
	msgLocked   = `Swarm is encrypted and needs to be unlocked before it can be used. Please use "docker swarm unlock" to unlock it.`
	msgSequence = "rpc error: code = Unknown desc = update out of sequence"
)

// cluster is the swarm's state. It is guarded by Engine.mu like the rest.
type cluster struct {
	state    engine.SwarmState
	index    uint64 // the store index: every write increments it
	seq      int    // orders objects by creation
	services map[string]*service
	configs  map[string]*swarmObject
	secrets  map[string]*swarmObject
}

func newCluster() *cluster {
	c := &cluster{}
	c.reset(engine.SwarmState{NodeState: string(swarm.LocalNodeStateInactive)})
	return c
}

func (c *cluster) reset(s engine.SwarmState) {
	c.state = s
	c.services = map[string]*service{}
	c.configs = map[string]*swarmObject{}
	c.secrets = map[string]*swarmObject{}
}

// write moves the store index on and returns it.
func (c *cluster) write() uint64 {
	c.index++
	return c.index
}

type service struct {
	id       string
	seq      int
	version  uint64
	spec     swarm.ServiceSpec // as the engine reads it back
	previous *swarm.ServiceSpec
	created  time.Time
	updated  time.Time

	jobIteration uint64
	// updateState and updateMessage are the last update's status;
	// updateStart is when it began, allRunning since when every slot has
	// a running task of it (zero while not).
	updateState, updateMessage string
	updateStart, allRunning    time.Time
	// updaterDue counts the looks at the swarm (see reconcile) until the
	// updater takes up an update of the task template: the first look
	// after the update still sees the old tasks, and no update status.
	updaterDue int

	tasks []*task // oldest first
	// attempts counts the restarts per slot since the tasks were last
	// replaced; settled holds the slots whose last task ended and that the
	// restart policy leaves without one.
	attempts map[int]int
	settled  map[int]bool
}

func (s *service) job() bool {
	return s.spec.Mode.ReplicatedJob != nil || s.spec.Mode.GlobalJob != nil
}

// running is the desired state of a task at work: running, or complete
// for a job.
func (s *service) running() engine.TaskState {
	if s.job() {
		return engine.TaskComplete
	}
	return engine.TaskRunning
}

type task struct {
	id           string
	seq          int
	slot         int
	jobIteration uint64
	spec         swarm.TaskSpec // the template the task was made from
	desired      engine.TaskState
	state        engine.TaskState
	message      string
	err          string
	containerID  string
	exitCode     int
	created      time.Time
	timestamp    time.Time
	// startAt is when a task not yet started is due to start.
	startAt time.Time
	// unhealthy marks a task the swarm stopped for failing its healthcheck.
	unhealthy bool
}

// Task states the fake passes through besides those engine names.
const (
	taskPending  engine.TaskState = "pending"
	taskReady    engine.TaskState = "ready"
	taskStarting engine.TaskState = "starting"
)

// active is true for a task that has not ended.
func (t *task) active() bool {
	switch t.state {
	case taskPending, taskReady, taskStarting, engine.TaskRunning:
		return true
	}
	return false
}

func (t *task) set(state engine.TaskState, message string, now time.Time) {
	t.state, t.message, t.timestamp = state, message, now
}

type swarmObject struct {
	id      string
	seq     int
	name    string
	labels  map[string]string
	data    []byte
	version uint64
}

func (o *swarmObject) summary() engine.SwarmObject {
	return engine.SwarmObject{ID: o.id, Name: o.name, Labels: copyLabels(o.labels), Version: o.version}
}

// swarmID returns an id shaped like the swarm's: 25 lower-case letters
// and digits.
func swarmID() string {
	return randomID()[:25]
}

// InitSwarm makes the engine the manager of a new one-node swarm, as
// docker swarm init does. It is not counted as a call.
func (e *Engine) InitSwarm() {
	e.SetSwarmState(engine.SwarmState{NodeState: string(swarm.LocalNodeStateActive), Manager: true, NodeID: swarmID(), Nodes: 1})
}

// SetSwarmState sets the engine's place in a swarm, as SwarmState reports
// it (an empty APIVersion reports the fake's, 1.41). Only an active
// manager answers the other Swarm calls. Leaving the swarm ("inactive")
// forgets its services, their tasks and containers, its configs and its
// secrets, as the last manager leaving a swarm does; any other change
// keeps them. It is not counted as a call.
func (e *Engine) SetSwarmState(s engine.SwarmState) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s.NodeState = cmp.Or(s.NodeState, string(swarm.LocalNodeStateInactive))
	if s.NodeState == string(swarm.LocalNodeStateInactive) {
		for _, svc := range e.cluster.services {
			e.dropService(svc)
		}
		e.cluster.reset(s)
		return
	}
	e.cluster.state = s
}

// SwarmState implements engine.Swarm.
func (e *Engine) SwarmState(ctx context.Context) (engine.SwarmState, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.enter(ctx, "SwarmState"); err != nil {
		return engine.SwarmState{}, err
	}
	s := e.cluster.state
	s.APIVersion = cmp.Or(s.APIVersion, fakeAPIVersion)
	if !s.Manager {
		s.Nodes = 0 // known only to managers
	}
	return s, nil
}

// enterSwarm records a call of op like enter, refuses it unless the
// engine manages a swarm, and brings the swarm up to date. The caller
// holds e.mu.
func (e *Engine) enterSwarm(ctx context.Context, op string, names ...string) error {
	if err := e.enter(ctx, op, names...); err != nil {
		return err
	}
	s := e.cluster.state
	switch {
	case s.NodeState == string(swarm.LocalNodeStateLocked):
		return errors.New(msgLocked)
	case s.NodeState != string(swarm.LocalNodeStateActive):
		return errors.New(msgNoSwarm)
	case !s.Manager:
		return errors.New(msgWorker)
	}
	e.reconcile(time.Now())
	return nil
}

// lookupService finds a service the way the engine does: by id, by name,
// or by a unique id prefix. The caller holds e.mu.
func (e *Engine) lookupService(ref string) (*service, error) {
	if s, ok := e.cluster.services[ref]; ok {
		return s, nil
	}
	var byPrefix []*service
	for _, s := range e.cluster.services {
		if s.spec.Name == ref {
			return s, nil
		}
		if ref != "" && strings.HasPrefix(s.id, ref) {
			byPrefix = append(byPrefix, s)
		}
	}
	if len(byPrefix) == 1 {
		return byPrefix[0], nil
	}
	return nil, fmt.Errorf("%w: service %s not found", engine.ErrNotFound, ref)
}

// sortedServices returns the services in creation order. The caller
// holds e.mu.
func (e *Engine) sortedServices() []*service {
	return slices.SortedFunc(maps.Values(e.cluster.services), func(a, b *service) int { return a.seq - b.seq })
}

// ListServices implements engine.Swarm, in creation order. The name
// filter matches a prefix, as the swarm's does.
func (e *Engine) ListServices(ctx context.Context, filter engine.Filter) ([]engine.Service, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.enterSwarm(ctx, "ListServices"); err != nil {
		return nil, err
	}
	out := []engine.Service{}
	for _, s := range e.sortedServices() {
		if filter.Matches(s.spec.Labels) && strings.HasPrefix(s.spec.Name, filter.Name) {
			out = append(out, s.summary())
		}
	}
	return out, nil
}

func (s *service) summary() engine.Service {
	return engine.Service{
		ID:            s.id,
		Version:       s.version,
		Spec:          cloneServiceSpec(s.spec),
		JobIteration:  s.jobIteration,
		UpdateState:   s.updateState,
		UpdateMessage: s.updateMessage,
		CreatedAt:     s.created,
		UpdatedAt:     s.updated,
	}
}

// CreateService implements engine.Swarm. The tasks are created, and those
// due started, before it returns.
func (e *Engine) CreateService(ctx context.Context, spec swarm.ServiceSpec) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.enterSwarm(ctx, "CreateService", spec.Name); err != nil {
		return "", err
	}
	spec, err := e.readBack(spec)
	if err != nil {
		return "", err
	}
	id := swarmID()
	if spec.Name == "" {
		spec.Name = "service_" + id[:8] // the engine makes up a name
	}
	for _, s := range e.cluster.services {
		if s.spec.Name == spec.Name {
			return "", conflict("rpc error: code = AlreadyExists desc = name conflicts with an existing object: service %s already exists", spec.Name)
		}
	}
	now := time.Now()
	e.cluster.seq++
	s := &service{
		id: id, seq: e.cluster.seq, version: e.cluster.write(), spec: spec, created: now, updated: now,
		attempts: map[int]int{}, settled: map[int]bool{},
	}
	e.cluster.services[id] = s
	e.publish("service", "create", id, map[string]string{"name": spec.Name})
	e.converge(s, now)
	return id, nil
}

// UpdateService implements engine.Swarm.
func (e *Engine) UpdateService(ctx context.Context, id string, version uint64, spec swarm.ServiceSpec) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.enterSwarm(ctx, "UpdateService", id, spec.Name); err != nil {
		return err
	}
	s, err := e.lookupService(id)
	if err != nil {
		return err
	}
	if version != s.version {
		return conflict(msgSequence)
	}
	spec, err = e.readBack(spec)
	if err != nil {
		return err
	}
	if spec.Name != s.spec.Name {
		return errors.New("rpc error: code = Unimplemented desc = renaming services is not supported")
	}
	if modeName(spec.Mode) != modeName(s.spec.Mode) {
		return errors.New("rpc error: code = Unimplemented desc = service mode change is not allowed")
	}
	now := time.Now()
	old := s.spec
	s.previous = &old
	s.spec = spec
	s.version = e.cluster.write()
	s.updated = now
	// The engine clears the status of the previous update with every
	// update; only one that replaces tasks gets a new one, from the
	// updater, which takes the update up a moment later.
	s.updateState, s.updateMessage = "", ""
	s.updaterDue = 0
	switch {
	case s.job():
		// Every update of a job runs it again, changed or not; the new
		// run's tasks come with the next look.
		s.jobIteration++
		e.replaceTasks(s, now)
	case !reflect.DeepEqual(old.TaskTemplate, spec.TaskTemplate):
		s.updaterDue = 2
	}
	e.publish("service", "update", s.id, map[string]string{"name": spec.Name})
	return nil
}

// startUpdate is the updater taking up an update of the task template:
// the tasks are replaced, and the update's status, "updating", is a write
// of its own. The caller holds e.mu.
func (e *Engine) startUpdate(s *service, now time.Time) {
	e.replaceTasks(s, now)
	s.updateState, s.updateMessage = string(swarm.UpdateStateUpdating), "update in progress"
	s.updateStart, s.allRunning = now, time.Time{}
	s.version = e.cluster.write()
	e.publish("service", "update", s.id, map[string]string{"name": s.spec.Name})
}

func modeName(m swarm.ServiceMode) string {
	switch {
	case m.Global != nil:
		return "global"
	case m.ReplicatedJob != nil:
		return "replicated-job"
	case m.GlobalJob != nil:
		return "global-job"
	}
	return "replicated"
}

// replaceTasks shuts down every task at work, so that converge starts new
// ones from the current spec. The caller holds e.mu.
func (e *Engine) replaceTasks(s *service, now time.Time) {
	for _, t := range s.tasks {
		if t.active() {
			e.shutdownTask(t, now)
		}
	}
	clear(s.attempts)
	clear(s.settled)
}

// shutdownTask stops a task the swarm no longer wants. The caller holds
// e.mu.
func (e *Engine) shutdownTask(t *task, now time.Time) {
	t.desired = engine.TaskShutdown
	t.set(engine.TaskShutdown, "shutdown", now)
	if c, ok := e.containers[t.containerID]; ok {
		e.stopTaskContainer(c)
	}
}

// stopTaskContainer stops a task's container the way StopContainer does.
// The caller holds e.mu.
func (e *Engine) stopTaskContainer(c *container) {
	if !c.running() {
		return
	}
	e.containerEvent(c, "kill", "signal", fmt.Sprint(signalNumber(cmp.Or(c.config.StopSignal, "SIGTERM"))))
	e.exit(c, c.behaviour.StopExitCode)
	e.containerEvent(c, "stop")
}

// RemoveService implements engine.Swarm. The service, its tasks and their
// containers are gone when it returns.
func (e *Engine) RemoveService(ctx context.Context, id string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.enterSwarm(ctx, "RemoveService", id); err != nil {
		return err
	}
	s, err := e.lookupService(id)
	if err != nil {
		return err
	}
	e.dropService(s)
	e.publish("service", "remove", s.id, map[string]string{"name": s.spec.Name})
	return nil
}

// dropService removes a service with its tasks and their containers. The
// caller holds e.mu.
func (e *Engine) dropService(s *service) {
	for _, t := range s.tasks {
		e.forgetTask(t)
	}
	s.tasks = nil
	delete(e.cluster.services, s.id)
}

// forgetTask removes a task's container. The caller holds e.mu.
func (e *Engine) forgetTask(t *task) {
	if c, ok := e.containers[t.containerID]; ok {
		e.stopTaskContainer(c)
		e.deleteContainer(c, true)
	}
}

// ListTasks implements engine.Swarm, oldest first.
func (e *Engine) ListTasks(ctx context.Context, serviceID string) ([]engine.Task, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.enterSwarm(ctx, "ListTasks", serviceID); err != nil {
		return nil, err
	}
	s, err := e.lookupService(serviceID)
	if err != nil {
		return nil, err
	}
	out := make([]engine.Task, 0, len(s.tasks))
	for _, t := range s.tasks {
		out = append(out, engine.Task{
			ID:           t.id,
			ServiceID:    s.id,
			NodeID:       e.cluster.state.NodeID,
			Slot:         t.slot,
			JobIteration: t.jobIteration,
			DesiredState: t.desired,
			State:        t.state,
			Message:      t.message,
			Err:          t.err,
			ContainerID:  t.containerID,
			ExitCode:     t.exitCode,
			Timestamp:    t.timestamp,
		})
	}
	return out, nil
}

// reconcile is a look at the swarm, which moves it on: updates of task
// templates are taken up (on the second look after them), every
// service's tasks are brought up to date with their containers, the
// tasks that are due start, those that ended are replaced as their
// restart policy says, those missing (after a create, a scale up, a new
// run of a job) are created, and the updates under way are settled. A
// task made in this pass starts in this pass only if due at once, and a
// replacement never does, so a task that fails as it starts is replaced
// once per pass, not in an endless loop. The caller holds e.mu.
func (e *Engine) reconcile(now time.Time) {
	for _, s := range e.sortedServices() {
		if s.updaterDue > 0 {
			s.updaterDue--
			if s.updaterDue == 0 {
				e.startUpdate(s, now)
			}
		}
		for _, t := range slices.Clone(s.tasks) {
			switch {
			case t.state == taskPending || t.state == taskReady:
				if !now.Before(t.startAt) {
					e.startTask(s, t, now)
				}
			case t.active():
				e.observeTask(s, t, now)
			}
		}
		e.converge(s, now)
		e.settleUpdate(s, now)
	}
}

// converge creates the tasks a service lacks: one per slot that has none
// at work and that its restart policy did not leave empty, and for a job
// only as many at once as MaxConcurrent allows. Scaling down removes the
// tasks of the slots no longer wanted, as the swarm does (their ended
// tasks stay in the history). The caller holds e.mu.
func (e *Engine) converge(s *service, now time.Time) {
	busy := map[int]bool{} // slots with a task at work
	done := map[int]bool{} // job slots complete in this run
	active := 0
	for _, t := range s.tasks {
		if s.job() && t.jobIteration != s.jobIteration {
			continue
		}
		if t.active() {
			busy[t.slot] = true
			active++
		}
		if t.state == engine.TaskComplete && s.job() {
			done[t.slot] = true
		}
	}
	m := s.spec.Mode
	switch {
	case m.ReplicatedJob != nil:
		total, limit := int(*m.ReplicatedJob.TotalCompletions), int(*m.ReplicatedJob.MaxConcurrent)
		for slot := 0; slot < total && active < limit; slot++ {
			if !busy[slot] && !done[slot] && !s.settled[slot] {
				e.spawnTask(s, slot, now, now)
				active++
			}
		}
	case m.GlobalJob != nil:
		if !busy[0] && !done[0] && !s.settled[0] {
			e.spawnTask(s, 0, now, now)
		}
	case m.Global != nil:
		if !busy[0] && !s.settled[0] {
			e.spawnTask(s, 0, now, now)
		}
	default:
		replicas := int(*m.Replicated.Replicas)
		s.tasks = slices.DeleteFunc(s.tasks, func(t *task) bool {
			if t.slot > replicas && t.active() {
				e.forgetTask(t)
				return true
			}
			return false
		})
		for slot := 1; slot <= replicas; slot++ {
			if !busy[slot] && !s.settled[slot] {
				e.spawnTask(s, slot, now, now)
			}
		}
	}
}

// spawnTask creates a task for slot, due to start at startAt: at once if
// that is now, else waiting as "ready". The caller holds e.mu.
func (e *Engine) spawnTask(s *service, slot int, startAt, now time.Time) {
	e.cluster.seq++
	t := &task{
		id: swarmID(), seq: e.cluster.seq, slot: slot, jobIteration: s.jobIteration,
		spec: cloneTaskSpec(s.spec.TaskTemplate), startAt: startAt, created: now,
	}
	s.tasks = append(s.tasks, t)
	if startAt.After(now) {
		// A replacement waits out the restart delay prepared.
		t.desired = taskReady
		t.set(taskReady, "prepared", now)
		return
	}
	t.desired = s.running()
	t.set(taskPending, "pending task scheduling", now)
	e.startTask(s, t, now)
}

// startTask runs a task's container: created and started as
// CreateContainer and StartContainer would, from the task's container
// spec. A missing image or network rejects the task. The caller holds
// e.mu.
func (e *Engine) startTask(s *service, t *task, now time.Time) {
	t.desired = s.running()
	cs := t.spec.ContainerSpec
	if _, err := e.lookupImage(cs.Image); err != nil {
		e.endTask(s, t, now, engine.TaskRejected, "preparing", "No such image: "+cs.Image, 0)
		return
	}
	spec := e.taskContainerSpec(s, t)
	id := randomID()
	if err := e.addContainer(id, spec.Name, spec); err != nil {
		e.endTask(s, t, now, engine.TaskRejected, "preparing", err.Error(), 0)
		return
	}
	c := e.containers[id]
	t.containerID = id
	e.start(c)
	t.set(taskStarting, "starting", now)
	e.observeTask(s, t, now)
}

// taskContainerSpec is the container the swarm runs for a task: the
// container spec's settings, named and labelled as the swarm names and
// labels task containers. The caller holds e.mu.
func (e *Engine) taskContainerSpec(s *service, t *task) engine.ContainerSpec {
	cs := t.spec.ContainerSpec
	node := e.cluster.state.NodeID
	name := fmt.Sprintf("%s.%d.%s", s.spec.Name, t.slot, t.id)
	if t.slot == 0 {
		name = fmt.Sprintf("%s.%s.%s", s.spec.Name, node, t.id)
	}
	labels := copyLabels(cs.Labels)
	maps.Copy(labels, map[string]string{
		"com.docker.swarm.node.id":      node,
		"com.docker.swarm.service.id":   s.id,
		"com.docker.swarm.service.name": s.spec.Name,
		"com.docker.swarm.task":         "",
		"com.docker.swarm.task.id":      t.id,
		"com.docker.swarm.task.name":    name,
	})
	spec := engine.ContainerSpec{
		Name:       name,
		Image:      cs.Image,
		Labels:     labels,
		Env:        slices.Clone(cs.Env),
		Cmd:        slices.Clone(cs.Args),
		Entrypoint: slices.Clone(cs.Command),
		WorkingDir: cs.Dir,
		User:       cs.User,
		Hostname:   cs.Hostname,
		TTY:        cs.TTY,
		OpenStdin:  cs.OpenStdin,
		ReadOnly:   cs.ReadOnly,
		Init:       clonePtr(cs.Init),
		StopSignal: cs.StopSignal,
		GroupAdd:   slices.Clone(cs.Groups),
		CapAdd:     slices.Clone(cs.CapabilityAdd),
		CapDrop:    slices.Clone(cs.CapabilityDrop),
		Sysctls:    maps.Clone(cs.Sysctls),
	}
	if g := cs.StopGracePeriod; g != nil {
		spec.StopTimeout = new(int(g.Seconds()))
	}
	if h := cs.Healthcheck; h != nil {
		spec.Healthcheck = &engine.Healthcheck{
			Test: slices.Clone(h.Test), Interval: h.Interval, Timeout: h.Timeout,
			StartPeriod: h.StartPeriod, StartInterval: h.StartInterval, Retries: h.Retries,
		}
	}
	for _, m := range cs.Mounts {
		spec.Mounts = append(spec.Mounts, fromSwarmMount(m))
	}
	for _, n := range t.spec.Networks {
		spec.Networks = append(spec.Networks, engine.EndpointSpec{Network: n.Target, Aliases: slices.Clone(n.Aliases)})
	}
	return spec
}

func fromSwarmMount(m mount.Mount) engine.Mount {
	out := engine.Mount{Type: engine.MountType(m.Type), Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly}
	if o := m.VolumeOptions; o != nil {
		out.NoCopy, out.VolumeLabels, out.Subpath = o.NoCopy, maps.Clone(o.Labels), o.Subpath
	}
	if o := m.BindOptions; o != nil {
		out.Propagation, out.CreateHostPath = string(o.Propagation), o.CreateMountpoint
	}
	if o := m.TmpfsOptions; o != nil {
		out.TmpfsSize, out.TmpfsMode = o.SizeBytes, uint32(o.Mode)
	}
	return out
}

// observeTask moves a task at work on as its container has: running once
// its healthcheck passed (at once without one), ended when it exited. A
// container that turned unhealthy is stopped, as the swarm's executor
// stops it, and the task ends as the stop ends the container. The caller
// holds e.mu.
func (e *Engine) observeTask(s *service, t *task, now time.Time) {
	c, ok := e.containers[t.containerID]
	if !ok {
		e.endTask(s, t, now, engine.TaskFailed, t.message, "No such container: "+t.containerID, 0)
		return
	}
	if c.running() && c.hasHealthcheck() && c.health == engine.HealthUnhealthy {
		t.unhealthy = true
		e.stopTaskContainer(c)
	}
	switch {
	case c.state == engine.StateExited || c.state == engine.StateDead:
		if c.exitCode == 0 {
			e.endTask(s, t, now, engine.TaskComplete, "finished", "", 0)
			return
		}
		errText := fmt.Sprintf("task: non-zero exit (%d)", c.exitCode)
		if t.unhealthy {
			errText += ": dockerexec: unhealthy container"
		}
		// The message is the last state the swarm reported: without a
		// healthcheck the task was running by the time it exited.
		msg := t.message
		if !c.hasHealthcheck() {
			msg = "started"
		}
		e.endTask(s, t, now, engine.TaskFailed, msg, errText, c.exitCode)
	case c.running() && t.state == taskStarting && (!c.hasHealthcheck() || c.health == engine.HealthHealthy):
		t.set(engine.TaskRunning, "started", now)
	}
}

// endTask ends a task in state and replaces it as the restart policy says.
// The caller holds e.mu.
func (e *Engine) endTask(s *service, t *task, now time.Time, state engine.TaskState, message, errText string, code int) {
	t.set(state, message, now)
	t.err, t.exitCode = errText, code
	failed := state != engine.TaskComplete
	if s.job() && !failed {
		t.desired = engine.TaskComplete
	} else {
		t.desired = engine.TaskShutdown
	}
	e.noteUpdateFailure(s, t, now)

	rp := s.spec.TaskTemplate.RestartPolicy
	condition := swarm.RestartPolicyConditionAny
	if rp != nil {
		condition = rp.Condition
	}
	again := false
	switch condition {
	case swarm.RestartPolicyConditionNone:
	case swarm.RestartPolicyConditionOnFailure:
		again = failed
	default:
		// A job's complete task counts towards the job, whatever the
		// policy; a service's is restarted like a failed one.
		again = failed || !s.job()
	}
	if again && rp != nil && rp.MaxAttempts != nil && *rp.MaxAttempts > 0 && uint64(s.attempts[t.slot]) >= *rp.MaxAttempts {
		again = false
	}
	switch {
	case again:
		s.attempts[t.slot]++
		var delay time.Duration
		if rp != nil && rp.Delay != nil {
			delay = *rp.Delay
		}
		// Due now at the earliest: a replacement starts in a later pass.
		e.spawnTask(s, t.slot, now.Add(max(delay, time.Nanosecond)), now)
	case failed || !s.job():
		s.settled[t.slot] = true
	}
	e.pruneHistory(s, t.slot)
}

// pruneHistory forgets the oldest ended tasks of a slot beyond the
// swarm's history limit. The caller holds e.mu.
func (e *Engine) pruneHistory(s *service, slot int) {
	n := 0
	for _, t := range s.tasks {
		if t.slot == slot {
			n++
		}
	}
	s.tasks = slices.DeleteFunc(s.tasks, func(t *task) bool {
		if n > taskHistory && t.slot == slot && !t.active() {
			n--
			e.forgetTask(t)
			return true
		}
		return false
	})
}

// noteUpdateFailure applies the update's failure action when a task of
// an update under way ends: the engine pauses the update (the default),
// rolls it back, or goes on. The caller holds e.mu.
func (e *Engine) noteUpdateFailure(s *service, t *task, now time.Time) {
	if s.updateState != string(swarm.UpdateStateUpdating) || s.job() || t.created.Before(s.updateStart) {
		return
	}
	action := swarm.UpdateFailureActionPause
	if u := s.spec.UpdateConfig; u != nil {
		action = u.FailureAction
	}
	why := "failure or early termination of task " + t.id
	switch action {
	case swarm.UpdateFailureActionContinue:
		return
	case swarm.UpdateFailureActionRollback:
		if s.previous != nil {
			s.spec, s.previous = *s.previous, nil
			e.replaceTasks(s, now)
		}
		s.updateState, s.updateMessage = string(swarm.UpdateStateRollbackStarted), "update rolled back due to "+why
	default:
		s.updateState, s.updateMessage = string(swarm.UpdateStatePaused), "update paused due to "+why
	}
	s.allRunning = time.Time{}
	s.version = e.cluster.write()
	e.publish("service", "update", s.id, map[string]string{"name": s.spec.Name})
}

// settleUpdate completes an update (or a rollback) once every slot runs
// a task and the update's Monitor has passed since, as the engine's
// updater does: on a later look than the one that found them all
// running. The caller holds e.mu.
func (e *Engine) settleUpdate(s *service, now time.Time) {
	var done, message string
	switch s.updateState {
	case string(swarm.UpdateStateUpdating):
		done, message = string(swarm.UpdateStateCompleted), "update completed"
	case string(swarm.UpdateStateRollbackStarted):
		done, message = string(swarm.UpdateStateRollbackCompleted), "rollback completed"
	default:
		return
	}
	running := map[int]bool{}
	for _, t := range s.tasks {
		if t.state == engine.TaskRunning && t.desired == engine.TaskRunning {
			running[t.slot] = true
		}
	}
	want := 1
	if r := s.spec.Mode.Replicated; r != nil {
		want = int(*r.Replicas)
	}
	if len(running) < want {
		s.allRunning = time.Time{}
		return
	}
	if s.allRunning.IsZero() {
		// Settled on a later look at the earliest, so that the update is
		// seen under way.
		s.allRunning = now
		return
	}
	var monitor time.Duration
	if u := s.spec.UpdateConfig; u != nil {
		monitor = u.Monitor
	}
	if now.Sub(s.allRunning) < monitor {
		return
	}
	s.updateState, s.updateMessage = done, message
	s.version = e.cluster.write()
	e.publish("service", "update", s.id, map[string]string{"name": s.spec.Name})
}

// readBack returns spec as the engine stores it and reads it back, and
// checks what it refers to. The engine (or the client, for the image)
// fills in:
//
//   - an image reference without tag or digest gets ":latest";
//   - TaskTemplate.Runtime "container" and ContainerSpec.Isolation
//     "default";
//   - a service without mode is replicated; Replicas defaults to 1, a
//     replicated job's MaxConcurrent to 1 and its TotalCompletions to
//     MaxConcurrent;
//   - a RestartPolicy's Condition defaults to "any" and its MaxAttempts
//     to 0; an UpdateConfig's or RollbackConfig's FailureAction to
//     "pause" and its Order to "stop-first"; an EndpointSpec's Mode to
//     "vip" (only where those structures are given);
//   - the service's Labels read back as an empty map when nil, and the
//     empty lists and maps of the rest as nil;
//   - a network is named by its id, whatever the spec named it by;
//   - a field newer than the engine's API version is dropped, as an
//     engine drops what it does not know (see dropNewer).
//
// A network, secret or config the spec names that does not exist is
// ErrNotFound, with the engine's messages. The caller holds e.mu.
func (e *Engine) readBack(in swarm.ServiceSpec) (swarm.ServiceSpec, error) {
	s := cloneServiceSpec(in)
	if s.Labels == nil {
		s.Labels = map[string]string{}
	}
	tt := &s.TaskTemplate
	if tt.ContainerSpec == nil && (tt.Runtime == "" || tt.Runtime == swarm.RuntimeContainer) {
		tt.ContainerSpec = &swarm.ContainerSpec{} // the client's doing
	}
	cs := tt.ContainerSpec
	if cs == nil {
		return s, fmt.Errorf("fake: only container services are supported, not runtime %q", tt.Runtime)
	}
	if cs.Image == "" {
		return s, errors.New("rpc error: code = InvalidArgument desc = ContainerSpec: image reference must be provided")
	}
	cs.Image = normalizeRef(cs.Image)
	tt.Runtime = cmp.Or(tt.Runtime, swarm.RuntimeContainer)
	cs.Isolation = cmp.Or(cs.Isolation, "default")
	for i, a := range tt.Networks {
		n, err := e.lookupNetwork(a.Target)
		if err != nil {
			return s, fmt.Errorf("%w: network %s not found", engine.ErrNotFound, a.Target)
		}
		tt.Networks[i].Target = n.id
	}
	for _, r := range cs.Secrets {
		if _, ok := e.cluster.secrets[r.SecretID]; !ok {
			return s, fmt.Errorf("%w: rpc error: code = InvalidArgument desc = secret not found: %s", engine.ErrNotFound, r.SecretID)
		}
	}
	for _, r := range cs.Configs {
		if _, ok := e.cluster.configs[r.ConfigID]; !ok {
			return s, fmt.Errorf("%w: rpc error: code = InvalidArgument desc = config not found: %s", engine.ErrNotFound, r.ConfigID)
		}
	}
	m := &s.Mode
	if m.Replicated == nil && m.Global == nil && m.ReplicatedJob == nil && m.GlobalJob == nil {
		m.Replicated = &swarm.ReplicatedService{}
	}
	if r := m.Replicated; r != nil && r.Replicas == nil {
		r.Replicas = new(uint64(1))
	}
	if j := m.ReplicatedJob; j != nil {
		if j.MaxConcurrent == nil {
			j.MaxConcurrent = new(uint64(1))
		}
		if j.TotalCompletions == nil {
			j.TotalCompletions = new(*j.MaxConcurrent)
		}
	}
	if rp := tt.RestartPolicy; rp != nil {
		rp.Condition = cmp.Or(rp.Condition, swarm.RestartPolicyConditionAny)
		if rp.MaxAttempts == nil {
			rp.MaxAttempts = new(uint64(0))
		}
	}
	for _, u := range []*swarm.UpdateConfig{s.UpdateConfig, s.RollbackConfig} {
		if u != nil {
			u.FailureAction = cmp.Or(u.FailureAction, swarm.UpdateFailureActionPause)
			u.Order = cmp.Or(u.Order, swarm.UpdateOrderStopFirst)
		}
	}
	if ep := s.EndpointSpec; ep != nil {
		ep.Mode = cmp.Or(ep.Mode, swarm.ResolutionModeVIP)
	}
	dropNewer(&s, cmp.Or(e.cluster.state.APIVersion, fakeAPIVersion))
	return s, nil
}

// dropNewer clears the fields of a spec that an engine speaking API
// version api does not know, and so never stores: an engine ignores the
// fields of a request it does not know. (Docker 20.10, at 1.41, also
// drops Privileges.NoNewPrivileges, from an API version not documented;
// the fake keeps it.)
func dropNewer(s *swarm.ServiceSpec, api string) {
	cs := s.TaskTemplate.ContainerSpec
	if apiBefore(api, 44) && cs.Privileges != nil {
		cs.Privileges.Seccomp, cs.Privileges.AppArmor = nil, nil
	}
	if apiBefore(api, 46) {
		cs.OomScoreAdj = 0
		for i := range cs.Mounts {
			if o := cs.Mounts[i].TmpfsOptions; o != nil {
				o.Options = nil
			}
		}
	}
	if r := s.TaskTemplate.Resources; r != nil && apiBefore(api, 52) {
		r.SwapBytes, r.MemorySwappiness = nil, nil
	}
}

// apiBefore reports whether API version api ("1.41") is before 1.minor.
func apiBefore(api string, minor int) bool {
	var major, m int
	if _, err := fmt.Sscanf(api, "%d.%d", &major, &m); err != nil {
		return false
	}
	return major < 1 || major == 1 && m < minor
}

// cloneServiceSpec copies a spec through its JSON form, as it travels to
// the engine and back: nothing is shared, and the empty lists and maps
// the wire format omits come back nil.
func cloneServiceSpec(s swarm.ServiceSpec) swarm.ServiceSpec {
	var out swarm.ServiceSpec
	roundTrip(s, &out)
	return out
}

func cloneTaskSpec(s swarm.TaskSpec) swarm.TaskSpec {
	var out swarm.TaskSpec
	roundTrip(s, &out)
	return out
}

func roundTrip(in, out any) {
	b, err := json.Marshal(in)
	if err == nil {
		err = json.Unmarshal(b, out)
	}
	if err != nil {
		// The API's types are plain data and always survive the trip.
		panic(fmt.Sprintf("fake: copying %T: %v", in, err))
	}
}

// The configs and secrets: the two kinds differ only in their names.

type objectKind struct {
	name   string // "config" or "secret"
	method string // "Config" or "Secret", for call names
}

var (
	configKind = objectKind{"config", "Config"}
	secretKind = objectKind{"secret", "Secret"}
)

func (e *Engine) objects(k objectKind) map[string]*swarmObject {
	if k == configKind {
		return e.cluster.configs
	}
	return e.cluster.secrets
}

// ListConfigs implements engine.Swarm, in creation order.
func (e *Engine) ListConfigs(ctx context.Context, filter engine.Filter) ([]engine.SwarmObject, error) {
	return e.listObjects(ctx, configKind, filter)
}

// CreateConfig implements engine.Swarm.
func (e *Engine) CreateConfig(ctx context.Context, spec engine.SwarmObjectSpec) (string, error) {
	return e.createObject(ctx, configKind, spec)
}

// RemoveConfig implements engine.Swarm.
func (e *Engine) RemoveConfig(ctx context.Context, id string) error {
	return e.removeObject(ctx, configKind, id)
}

// ListSecrets implements engine.Swarm, in creation order.
func (e *Engine) ListSecrets(ctx context.Context, filter engine.Filter) ([]engine.SwarmObject, error) {
	return e.listObjects(ctx, secretKind, filter)
}

// CreateSecret implements engine.Swarm.
func (e *Engine) CreateSecret(ctx context.Context, spec engine.SwarmObjectSpec) (string, error) {
	return e.createObject(ctx, secretKind, spec)
}

// RemoveSecret implements engine.Swarm.
func (e *Engine) RemoveSecret(ctx context.Context, id string) error {
	return e.removeObject(ctx, secretKind, id)
}

func (e *Engine) listObjects(ctx context.Context, k objectKind, filter engine.Filter) ([]engine.SwarmObject, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.enterSwarm(ctx, "List"+k.method+"s"); err != nil {
		return nil, err
	}
	objs := slices.SortedFunc(maps.Values(e.objects(k)), func(a, b *swarmObject) int { return a.seq - b.seq })
	out := []engine.SwarmObject{}
	for _, o := range objs {
		if filter.Matches(o.labels) && strings.HasPrefix(o.name, filter.Name) {
			out = append(out, o.summary())
		}
	}
	return out, nil
}

func (e *Engine) createObject(ctx context.Context, k objectKind, spec engine.SwarmObjectSpec) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.enterSwarm(ctx, "Create"+k.method, spec.Name); err != nil {
		return "", err
	}
	if spec.Name == "" {
		return "", fmt.Errorf("rpc error: code = InvalidArgument desc = %s name must be provided", k.name)
	}
	for _, o := range e.objects(k) {
		if o.name == spec.Name {
			return "", conflict("rpc error: code = AlreadyExists desc = %s %s already exists", k.name, spec.Name)
		}
	}
	e.cluster.seq++
	o := &swarmObject{
		id: swarmID(), seq: e.cluster.seq, name: spec.Name, labels: copyLabels(spec.Labels),
		data: slices.Clone(spec.Data), version: e.cluster.write(),
	}
	e.objects(k)[o.id] = o
	e.publish(k.name, "create", o.id, map[string]string{"name": o.name})
	return o.id, nil
}

// removeObject removes a config or secret by id, name or unique id
// prefix. One a service's spec refers to is ErrConflict, with the
// engine's message.
func (e *Engine) removeObject(ctx context.Context, k objectKind, ref string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.enterSwarm(ctx, "Remove"+k.method, ref); err != nil {
		return err
	}
	var found []*swarmObject
	for _, o := range e.objects(k) {
		if o.id == ref || o.name == ref {
			found = []*swarmObject{o}
			break
		}
		if ref != "" && strings.HasPrefix(o.id, ref) {
			found = append(found, o)
		}
	}
	if len(found) != 1 {
		return fmt.Errorf("%w: %s %s not found", engine.ErrNotFound, k.name, ref)
	}
	o := found[0]
	var users []string
	for _, s := range e.sortedServices() {
		cs := s.spec.TaskTemplate.ContainerSpec
		uses := slices.ContainsFunc(cs.Configs, func(r *swarm.ConfigReference) bool { return k == configKind && r.ConfigID == o.id }) ||
			slices.ContainsFunc(cs.Secrets, func(r *swarm.SecretReference) bool { return k == secretKind && r.SecretID == o.id })
		if uses {
			users = append(users, s.spec.Name)
		}
	}
	if len(users) > 0 {
		return conflict("rpc error: code = InvalidArgument desc = %s '%s' is in use by the following service: %s", k.name, o.name, strings.Join(users, ", "))
	}
	delete(e.objects(k), o.id)
	e.cluster.write()
	e.publish(k.name, "remove", o.id, map[string]string{"name": o.name})
	return nil
}
