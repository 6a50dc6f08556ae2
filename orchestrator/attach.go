package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/composer-orchestrator/composer/engine"
)

// ErrInterrupted reports that the user interrupted an operation and what
// it had started was stopped.
var ErrInterrupted = errors.New("interrupted")

// AttachOptions tune an attached up: up without -d, which follows the
// logs of the project and stops it when told to.
type AttachOptions struct {
	Up UpOptions
	// Services are the services whose logs are followed (AttachedServices
	// gives the usual choice).
	Services []string
	// AbortOnExit stops the project as soon as a followed container stops,
	// except a one-shot job that others wait for and that succeeded.
	AbortOnExit bool
	// AbortOnFailure stops the project when a followed container exits
	// with a code other than 0.
	AbortOnFailure bool
	// ExitCodeFrom names the service whose exit code the operation
	// returns; it implies AbortOnExit.
	ExitCodeFrom string
	// Timestamps shows the engine's timestamp on each line.
	Timestamps bool
	// Interrupts delivers the user's interrupts: the first stops the
	// project gracefully, a second kills it.
	Interrupts <-chan struct{}
	// UpDone, if set, is called once the project is up, before following
	// its logs: the caller stops holding the project for writing there.
	UpDone func()
	// Changing, if set, reports whether another command is changing the
	// project at the moment. When the last followed container stops while
	// one is (a restart: stop, then start), attached up waits for it to
	// finish and goes on following what it started, rather than ending
	// between the stop and the start.
	Changing func() bool
}

// AttachSelection is how the user chose the services to follow.
type AttachSelection struct {
	// Attach restricts following to these services (--attach).
	Attach []string
	// NoAttach leaves these out (--no-attach).
	NoAttach []string
	// Dependencies follows the selected services' dependencies too
	// (--attach-dependencies).
	Dependencies bool
}

// AttachedServices are the services attached up follows: those named by
// --attach, else the selected ones (with their dependencies if asked),
// else all; minus --no-attach.
func AttachedServices(p *types.Project, selected []string, sel AttachSelection) []string {
	var out []string
	switch {
	case len(sel.Attach) > 0:
		out = sel.Attach
	case len(selected) > 0 && !sel.Dependencies:
		out = selected
	default:
		out = p.ServiceNames()
	}
	var kept []string
	for _, s := range out {
		if !slices.Contains(sel.NoAttach, s) {
			kept = append(kept, s)
		}
	}
	return kept
}

// AttachedUp brings the project up, follows the logs of the attached
// services into consumer, and returns when they have all stopped, when
// the abort options say so, or after an interrupt (with ErrInterrupted).
// The int is the exit code the command should end with.
func (o *Orchestrator) AttachedUp(ctx context.Context, p *types.Project, opts AttachOptions, consumer LogConsumer) (int, error) {
	if opts.ExitCodeFrom != "" {
		if _, ok := p.Services[opts.ExitCodeFrom]; !ok {
			return 0, fmt.Errorf("no such service: %s", opts.ExitCodeFrom)
		}
		opts.AbortOnExit = true
	}
	if o.dryRun {
		// Nothing would run to log or to stop: the dry run is the up.
		return 0, o.Up(ctx, p, opts.Up)
	}
	r := &attachedRun{o: o, p: p, opts: opts, consumer: consumer, jobs: oneShotDependencies(p),
		running: map[string]bool{}, reported: map[string]bool{}, exits: make(chan Notice, 16), done: make(chan struct{})}
	logCtx, stopLogs := context.WithCancel(ctx)
	logsDone := make(chan error, 1)
	logsEnded := make(chan struct{})
	go func() {
		defer close(logsEnded)
		logsDone <- o.Logs(logCtx, p.Name, LogOptions{Services: opts.Services, Follow: true, Timestamps: opts.Timestamps}, r)
	}()
	// Nothing reaches the consumer once AttachedUp has returned: the log
	// readers are stopped and waited for. done first, so that a reader
	// handing an exit to the policy loop, which has gone, lets go.
	defer func() {
		close(r.done)
		stopLogs()
		<-logsEnded
	}()
	upCtx, cancelUp := context.WithCancel(ctx)
	defer cancelUp()
	upDone := make(chan error, 1)
	go func() { upDone <- o.Up(upCtx, p, opts.Up) }()
	select {
	case err := <-upDone:
		if err != nil {
			return 0, err
		}
		if opts.UpDone != nil {
			opts.UpDone()
		}
	case <-opts.Interrupts:
		cancelUp()
		<-upDone
		return 0, r.interrupted(ctx)
	}
	followed, err := r.attach(ctx)
	if err != nil || followed == 0 {
		return 0, err
	}
	return r.follow(ctx, logsDone, stopLogs)
}

// attachedRun is the state of one attached up once the project is up.
type attachedRun struct {
	o        *Orchestrator
	p        *types.Project
	opts     AttachOptions
	consumer LogConsumer
	// jobs are the services others wait for to complete successfully.
	jobs map[string]bool
	// mu guards running, reported and queued: notices come from one log
	// reader per container while the policy loop counts what is left.
	mu      sync.Mutex
	running map[string]bool
	// reported are the containers whose exit the consumer has been told
	// of since they last started; queued counts the exits handed to the
	// policy loop that it has not taken yet, so that it does not return
	// before it has applied the policy to every exit.
	reported map[string]bool
	queued   int
	// exits carries exit notices to the policy loop; done is closed when
	// the loop has returned, so a late notice is dropped, never blocked on.
	exits chan Notice
	done  chan struct{}
}

// Log passes a line on.
func (r *attachedRun) Log(container, service string, stderr bool, line string) {
	r.consumer.Log(container, service, stderr, line)
}

// Notice keeps count of the running containers and hands exits to the
// policy loop, after the consumer has shown them.
func (r *attachedRun) Notice(n Notice) {
	switch n.Kind {
	case NoticeAttached:
		r.mu.Lock()
		r.running[n.Container] = true
		delete(r.reported, n.Container)
		r.mu.Unlock()
	case NoticeExited:
		r.mu.Lock()
		delete(r.running, n.Container)
		r.reported[n.Container] = true
		r.queued++
		r.mu.Unlock()
	}
	r.consumer.Notice(n)
	if n.Kind == NoticeExited {
		select {
		case r.exits <- n:
		case <-r.done:
		}
	}
}

// left counts the followed containers still running and the exits the
// policy loop has still to take.
func (r *attachedRun) left() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.running) + r.queued
}

// took records that the policy loop has taken an exit.
func (r *attachedRun) took() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.queued--
}

// attach counts the followed containers whose exit is still to come and
// tells the consumer which containers it follows. It returns how many it
// follows, 0 when there are none.
//
// A container that has already stopped counts until its exit is
// reported: its log reader delivers its lines, then its exit, which the
// abort policy must see like any other (a test service that finished
// during up still gives its exit code).
func (r *attachedRun) attach(ctx context.Context) (int, error) {
	cs, err := r.o.containers(ctx, Target{Project: r.p.Name, Services: r.opts.Services}, false)
	if err != nil {
		return 0, err
	}
	names := make([]string, 0, len(cs))
	r.mu.Lock()
	for _, c := range cs {
		names = append(names, c.Name)
		switch c.State {
		case engine.StateRunning, engine.StateExited, engine.StateDead:
			if !r.reported[c.Name] {
				r.running[c.Name] = true
			}
		}
	}
	r.mu.Unlock()
	r.consumer.Notice(Notice{Kind: NoticeAttaching, Containers: names})
	if r.left() == 0 {
		return 0, nil
	}
	return len(cs), nil
}

// follow applies the abort policy to each exit until nothing followed is
// left running.
func (r *attachedRun) follow(ctx context.Context, logsDone <-chan error, stopLogs func()) (int, error) {
	exitCode := 0
	// recheck ticks while nothing followed runs and another command is
	// changing the project.
	var recheck <-chan time.Time
	for {
		select {
		case <-recheck:
			recheck = nil
			if r.left() > 0 {
				continue
			}
			if r.opts.Changing() {
				recheck = time.After(changingPoll)
				continue
			}
			// The change is over; a container it started is followed
			// again by now, or is seen here.
			n, err := r.recount(ctx)
			if err != nil {
				return 0, err
			}
			if n == 0 {
				return exitCode, nil
			}
		case <-r.opts.Interrupts:
			// The user asked to stop: the exits that follow are ours.
			stopLogs()
			return 0, r.interrupted(ctx)
		case e := <-r.exits:
			r.took()
			if r.aborts(e) {
				return r.abort(ctx, e)
			}
			if r.opts.ExitCodeFrom == e.Service {
				exitCode = e.ExitCode
			}
			if r.left() == 0 && r.opts.Changing != nil {
				// Another command may have stopped it to start it again:
				// wait for that command, or see it running already.
				recheck = time.After(0)
				continue
			}
			if r.left() == 0 {
				return exitCode, nil
			}
		case err := <-logsDone:
			if err != nil {
				return 0, err
			}
			logsDone = nil
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// changingPoll is how often attached up looks whether another command
// has finished changing the project, while nothing it follows runs.
const changingPoll = 100 * time.Millisecond

// recount counts the followed containers running now, and follows them:
// a container another command started while the follower was between
// streams.
func (r *attachedRun) recount(ctx context.Context) (int, error) {
	cs, err := r.o.containers(ctx, Target{Project: r.p.Name, Services: r.opts.Services}, false)
	if err != nil {
		return 0, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range cs {
		if c.State == engine.StateRunning {
			r.running[c.Name] = true
		}
	}
	return len(r.running) + r.queued, nil
}

// aborts is the abort policy for one exit. A job others wait for is meant
// to end: its success is no reason to abort.
func (r *attachedRun) aborts(e Notice) bool {
	if r.opts.AbortOnFailure && e.ExitCode != 0 {
		return true
	}
	return r.opts.AbortOnExit && !(r.jobs[e.Service] && e.ExitCode == 0)
}

// abort stops the project after an exit and returns the exit code: the
// exiting container's, or that of the --exit-code-from service.
func (r *attachedRun) abort(ctx context.Context, e Notice) (int, error) {
	r.consumer.Notice(Notice{Kind: NoticeAborting, Container: e.Container, Service: e.Service, ExitCode: e.ExitCode})
	if err := r.stop(ctx, false); err != nil {
		return 0, err
	}
	if r.opts.ExitCodeFrom == "" {
		return e.ExitCode, nil
	}
	return r.o.serviceExitCode(ctx, r.p.Name, r.opts.ExitCodeFrom), nil
}

// interrupted stops the project after a first interrupt, and kills it on
// a second one. It always returns ErrInterrupted.
func (r *attachedRun) interrupted(ctx context.Context) error {
	r.consumer.Notice(Notice{Kind: NoticeStopping})
	// The stop goes on after the context is cancelled: an interrupt
	// stops scheduling, never the stop it asked for.
	stopCtx, cancelStop := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelStop()
	// A second interrupt abandons the stops under way and kills.
	stopCtx = abandonWith(stopCtx, stopCtx)
	stopped := make(chan error, 1)
	go func() { stopped <- r.stop(stopCtx, false) }()
	select {
	case <-stopped:
	case <-r.opts.Interrupts:
		cancelStop()
		<-stopped
		_ = r.stop(context.WithoutCancel(ctx), true)
	}
	return ErrInterrupted
}

// stop stops (or kills) every service of the project.
func (r *attachedRun) stop(ctx context.Context, kill bool) error {
	t := Target{Project: r.p.Name, Services: r.p.ServiceNames()}
	if !kill {
		return r.o.Stop(ctx, t, r.opts.Up.Timeout)
	}
	err := r.o.Kill(ctx, t, KillOptions{Signal: "SIGKILL"})
	if errors.Is(err, ErrNoContainers) {
		return nil
	}
	return err
}

// serviceExitCode is the exit code of a service's first container; 1 when
// it cannot be read.
func (o *Orchestrator) serviceExitCode(ctx context.Context, project, service string) int {
	cs, err := o.containers(ctx, Target{Project: project, Services: []string{service}}, false)
	if err != nil || len(cs) == 0 {
		return 1
	}
	d, err := o.eng.InspectContainer(ctx, cs[0].ID)
	if err != nil {
		return 1
	}
	return d.ExitCode
}

// oneShotDependencies are the services another service waits for with
// service_completed_successfully.
func oneShotDependencies(p *types.Project) map[string]bool {
	out := map[string]bool{}
	for _, s := range p.Services {
		for dep, d := range s.DependsOn {
			if d.Condition == types.ServiceConditionCompletedSuccessfully {
				out[dep] = true
			}
		}
	}
	return out
}
