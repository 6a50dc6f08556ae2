package stack

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/moby/moby/api/types/swarm"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/orchestrator"
)

// failedTasksLimit is how many failed or rejected tasks of a service since
// the deploy began make a wait give up: the swarm replaces them forever
// (an image no node has, a command that exits at once), and a deploy that
// waited on would hang with the reason in plain sight.
const failedTasksLimit = 3

// await waits until dep meets cond, once per dependency and condition
// however many services wait for it. A dry run does not wait: it changed
// nothing, so there is nothing to wait for.
func (d *deployer) await(ctx context.Context, dep *Service, cond string) error {
	if d.opts.DryRun {
		return nil
	}
	d.mu.Lock()
	c, ok := d.conditions[dep.Key+"\x00"+cond]
	if !ok {
		c = &condition{}
		d.conditions[dep.Key+"\x00"+cond] = c
	}
	d.mu.Unlock()
	c.once.Do(func() { c.err = d.wait(ctx, dep, cond) })
	return c.err
}

func (d *deployer) wait(ctx context.Context, dep *Service, cond string) error {
	name := dep.Spec.Name
	if cond == ConditionHealthy && !hasHealthcheck(dep.Spec) {
		return fmt.Errorf("depends on %s being healthy, and %s has no healthcheck", dep.Key, dep.Key)
	}
	if cond == ConditionCompleted && !dep.Job {
		// The converter makes every such dependency a job; this is a
		// guard against the two drifting apart.
		return fmt.Errorf("depends on %s completing, and %s is not a job", dep.Key, dep.Key)
	}
	ctx, cancel := context.WithTimeout(ctx, d.opts.WaitTimeout)
	defer cancel()
	d.emit(orchestrator.KindService, name, orchestrator.Waiting, false, waitText(cond))
	tick := time.NewTicker(d.opts.Poll)
	defer tick.Stop()
	for {
		met, err := d.check(ctx, dep, cond)
		if err != nil {
			d.emit(orchestrator.KindService, name, orchestrator.Error, true, err.Error())
			return err
		}
		if met {
			d.emit(orchestrator.KindService, name, metStatus(cond), true, "")
			return nil
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				err := fmt.Errorf("%s did not become %s within %s", dep.Key, condText(cond), d.opts.WaitTimeout)
				d.emit(orchestrator.KindService, name, orchestrator.Error, true, err.Error())
				return err
			}
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func waitText(cond string) string {
	return "until " + condText(cond)
}

func condText(cond string) string {
	switch cond {
	case ConditionHealthy:
		return "healthy"
	case ConditionCompleted:
		return "completed successfully"
	}
	return "running"
}

func metStatus(cond string) orchestrator.Status {
	switch cond {
	case ConditionHealthy:
		return orchestrator.Healthy
	case ConditionCompleted:
		return Completed
	}
	return orchestrator.Running
}

func hasHealthcheck(spec swarm.ServiceSpec) bool {
	cs := spec.TaskTemplate.ContainerSpec
	if cs == nil || cs.Healthcheck == nil {
		return false
	}
	t := cs.Healthcheck.Test
	return len(t) > 0 && t[0] != "NONE"
}

// check looks once at the service and its tasks.
func (d *deployer) check(ctx context.Context, dep *Service, cond string) (bool, error) {
	svc, err := d.service(ctx, dep.Spec.Name)
	if err != nil {
		return false, err
	}
	switch svc.UpdateState {
	case "updating", "rollback_started":
		return false, nil
	case "paused", "rollback_paused", "rollback_completed":
		return false, fmt.Errorf("the update of %s %s: %s", dep.Key, svc.UpdateState, svc.UpdateMessage)
	}
	d.mu.Lock()
	rolling := d.rolling[dep.Spec.Name]
	d.mu.Unlock()
	if rolling && svc.UpdateState != "completed" {
		// Updated by this run: right after the update the swarm has not
		// begun replacing the tasks, and the old ones still run.
		return false, nil
	}
	tasks, err := d.e.ListTasks(ctx, svc.ID)
	if err != nil {
		return false, fmt.Errorf("list the tasks of %s: %w", dep.Key, err)
	}
	if cond == ConditionCompleted {
		return jobDone(dep, svc, tasks)
	}
	var running []engine.Task
	var failed []engine.Task
	for _, t := range tasks {
		switch {
		case t.DesiredState == engine.TaskRunning && t.State == engine.TaskRunning:
			running = append(running, t)
		case ended(t) && !t.Timestamp.Before(d.started):
			failed = append(failed, t)
		}
	}
	if len(running) < wantRunning(svc.Spec) {
		if len(failed) >= failedTasksLimit {
			return false, fmt.Errorf("%s's tasks keep failing: %s", dep.Key, taskError(failed[len(failed)-1]))
		}
		return false, nil
	}
	if cond == ConditionHealthy {
		return d.healthy(ctx, running)
	}
	return true, nil
}

// healthy confirms, for the tasks on this node, that their containers are
// healthy. The swarm reports a task running only once its container's
// health check passes; the containers here are asked too, as the health
// check is the condition itself. Tasks on other nodes count as the swarm
// says.
func (d *deployer) healthy(ctx context.Context, running []engine.Task) (bool, error) {
	for _, t := range running {
		if t.ContainerID == "" {
			continue
		}
		c, err := d.e.InspectContainer(ctx, t.ContainerID)
		if errors.Is(err, engine.ErrNotFound) {
			continue // on another node
		}
		if err != nil {
			return false, fmt.Errorf("inspect task container %s: %w", t.ContainerID, err)
		}
		if c.Health != engine.HealthHealthy {
			return false, nil
		}
	}
	return true, nil
}

// jobDone reports whether the job's current run has completed, and fails
// once it cannot: a task failed and the restart policy will not retry.
func jobDone(dep *Service, svc engine.Service, tasks []engine.Task) (bool, error) {
	want := uint64(1)
	rp := svc.Spec.TaskTemplate.RestartPolicy
	if j := svc.Spec.Mode.ReplicatedJob; j != nil && j.TotalCompletions != nil {
		want = *j.TotalCompletions
	}
	var complete uint64
	var failed []engine.Task
	for _, t := range tasks {
		if t.JobIteration != svc.JobIteration {
			continue
		}
		switch t.State {
		case engine.TaskComplete:
			complete++
		case engine.TaskFailed, engine.TaskRejected:
			failed = append(failed, t)
		}
	}
	if complete >= want {
		return true, nil
	}
	if len(failed) == 0 {
		return false, nil
	}
	last := failed[len(failed)-1]
	if rp != nil && rp.Condition != swarm.RestartPolicyConditionNone {
		// The swarm retries: up to MaxAttempts times, or without end
		// when it is not set, where a few failures are enough to say.
		limit := uint64(failedTasksLimit - 1)
		if rp.MaxAttempts != nil && *rp.MaxAttempts > 0 {
			limit = *rp.MaxAttempts
		}
		if uint64(len(failed)) <= limit {
			return false, nil
		}
	}
	return false, fmt.Errorf("%s did not complete successfully: %s", dep.Key, taskError(last))
}

// ended reports whether a task of a long-running service has ended: failed,
// rejected, or complete, which is how a task the swarm stopped for being
// unhealthy ends when its process exits 0 on the stop signal.
func ended(t engine.Task) bool {
	return t.State == engine.TaskFailed || t.State == engine.TaskRejected || t.State == engine.TaskComplete
}

func taskError(t engine.Task) string {
	msg := t.Err
	if msg == "" {
		msg = t.Message
	}
	if t.ExitCode != 0 {
		msg = fmt.Sprintf("%s (exit code %d)", msg, t.ExitCode)
	}
	return "task " + t.ID + ": " + msg
}

// wantRunning is how many running tasks make a service started: all its
// replicas, or one for a global service (one node may be all there is).
func wantRunning(spec swarm.ServiceSpec) int {
	if r := spec.Mode.Replicated; r != nil && r.Replicas != nil {
		return int(*r.Replicas)
	}
	return 1
}

// service finds one of the stack's services by its swarm name.
func (d *deployer) service(ctx context.Context, name string) (engine.Service, error) {
	svcs, err := d.e.ListServices(ctx, d.stackFilter())
	if err != nil {
		return engine.Service{}, fmt.Errorf("list the stack's services: %w", err)
	}
	for _, s := range svcs {
		if s.Spec.Name == name {
			return s, nil
		}
	}
	return engine.Service{}, fmt.Errorf("service %s is not in the swarm", name)
}
