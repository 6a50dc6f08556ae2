// Package fake implements engine.Engine in memory, for the orchestrator's
// unit tests.
//
// The fake keeps real state (containers, networks, volumes, images) and
// follows the Docker engine's rules where the orchestrator depends on them:
// which operations conflict, which resources count as missing, the events
// a change publishes and their order. engine/enginetest runs the same
// behaviour suite against this fake and against the Docker adapter, so the
// two cannot drift apart silently.
//
// Tests script what a started container does with SetBehaviour or OnStart,
// make single operations fail with Fail or FailOnce, make them slow with
// SetLatency (and wait for those still under way with Quiesce), and count
// calls with Calls. Without a script a container interprets its command the way the
// enginetest image does: ["exit", "N"] exits with N, ["echo", words...]
// writes the words and exits 0, ["sleep", "ready"] writes "ready" and keeps
// running, anything else keeps running until stopped;
// a healthcheck ending in ["exit", "N"] fails unless N is 0.
//
// Images may have defaults (engine.ImageConfig): AddImageWithConfig gives
// them, and BuildImage reads them from the Dockerfile of a tar context
// (the instructions that set defaults; none that touch files is run). A
// container gets its image's defaults where its spec leaves a field empty,
// by the engine's rules, and the engine's own (hostname, log driver, shm
// size, ...): InspectContainer reports the result in Config the way the
// Docker adapter reads a real engine's inspect back, anonymous volumes
// (the image's VOLUMEs included) by their generated names, and the
// container runs its image's command and healthcheck when its spec has
// none. Spec still returns the spec as the orchestrator passed it.
//
// The fake also plays a one-node Docker Swarm (engine.Swarm), outside any
// swarm until InitSwarm or SetSwarmState; its rules are in swarm.go.
package fake

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/composer-orchestrator/composer/engine"
)

// Engine is an in-memory engine.Engine. Create it with New; it is safe for
// concurrent use.
type Engine struct {
	// mu guards every field below. The orchestrator calls the engine from
	// many goroutines, and one call often reads and writes several of these
	// maps together (a create checks the name index, creates volumes and
	// attaches networks), so a single lock keeps each call atomic the way
	// the real engine's API calls are. Health and exit timers and the
	// delayed effects of SetLatency take it too, so none of them can race
	// a concurrent stop or remove.
	mu         sync.Mutex
	containers map[string]*container // by id
	// reserved maps the names of containers being created to the ids they
	// will have: the engine reserves a name before the container exists.
	reserved   map[string]string
	networks   map[string]*network       // by id
	volumes    map[string]*engine.Volume // by name
	images     map[string]*engine.Image  // by id
	rules      []rule                    // later rules win
	faults     []*fault
	calls      map[string]int // by method name
	history    []engine.Event // every event published, oldest first
	subs       map[*subscriber]struct{}
	seq        int // orders containers by creation for listing
	nextSubnet int // gives each network its own fake subnet
	nextPort   int // host ports handed out for "any port" bindings
	nextExec   int
	nextPid    int
	latency    map[string]time.Duration // by method name; see SetLatency
	// pending counts operations whose effect is still to come; settled is
	// closed and replaced whenever pending drops to zero, waking Quiesce.
	pending int
	settled chan struct{}
	// cluster is the swarm the engine plays (see swarm.go).
	cluster *cluster
	// transfer holds containers' files, registries and pushes (see
	// transfer.go).
	transfer transferState
}

// New returns an empty engine holding only Docker's predefined networks
// "bridge", "host" and "none", which exist on every Docker host.
func New() *Engine {
	e := &Engine{
		containers: map[string]*container{},
		reserved:   map[string]string{},
		latency:    map[string]time.Duration{},
		settled:    make(chan struct{}),
		networks:   map[string]*network{},
		volumes:    map[string]*engine.Volume{},
		images:     map[string]*engine.Image{},
		calls:      map[string]int{},
		subs:       map[*subscriber]struct{}{},
		nextPort:   32768,
		nextPid:    1000,
		cluster:    newCluster(),
		transfer:   newTransferState(),
	}
	for _, n := range []struct{ name, driver string }{{"bridge", "bridge"}, {"host", "host"}, {"none", "null"}} {
		e.addNetwork(engine.NetworkSpec{Name: n.name, Driver: n.driver}, true)
	}
	return e
}

var _ engine.Engine = (*Engine)(nil)

// Behaviour scripts what a container does once started. The zero value is
// a process that keeps running until it is stopped, writes nothing and,
// if the container has a healthcheck, becomes healthy right after start.
type Behaviour struct {
	// Exit makes the main process end by itself with ExitCode, ExitAfter
	// after the start. With ExitAfter zero the container has exited (and
	// its die event is published) by the time StartContainer returns.
	Exit      bool
	ExitCode  int
	ExitAfter time.Duration
	// Health is the status the healthcheck reaches HealthAfter after the
	// start: "" means healthy, HealthStarting means it never leaves
	// "starting". Like the engine, the fake reports health only for
	// containers whose spec has a healthcheck; the transition happens on a
	// timer even for a zero HealthAfter, so callers see "starting" first.
	Health      engine.Health
	HealthAfter time.Duration
	// Stdout and Stderr are written to the container's log on every start;
	// ContainerLogs returns the log and Attach copies a run's output.
	Stdout, Stderr string
	// StopExitCode is the exit code after StopContainer or a kill with the
	// stop signal; 0 models a process that handles SIGTERM.
	StopExitCode int
	// ExecExitCode and ExecStdout are what Exec returns and writes.
	ExecExitCode int
	ExecStdout   string
}

type rule struct {
	match func(engine.ContainerSpec) bool
	b     Behaviour
}

// SetBehaviour makes containers whose spec satisfies match behave as b when
// they start. A rule added later takes precedence over earlier ones. The
// behaviour is chosen at every start, so a rule added for a running
// container applies from its next start on.
func (e *Engine) SetBehaviour(match func(spec engine.ContainerSpec) bool, b Behaviour) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.rules = append(e.rules, rule{match: match, b: b})
}

// OnStart makes containers named imageOrName, or created from the image
// imageOrName, behave as b when they start.
func (e *Engine) OnStart(imageOrName string, b Behaviour) {
	ref := normalizeRef(imageOrName)
	e.SetBehaviour(func(s engine.ContainerSpec) bool {
		return s.Name == imageOrName || s.Image == imageOrName || normalizeRef(s.Image) == ref
	}, b)
}

// behaviourFor picks the behaviour of a container starting now: the latest
// rule matching its spec, else what its command (the image's when the
// spec has none) asks for under the enginetest image's contract. The
// caller holds e.mu.
func (e *Engine) behaviourFor(c *container) Behaviour {
	for _, r := range slices.Backward(e.rules) {
		if r.match(c.spec) {
			return r.b
		}
	}
	spec := c.config
	var b Behaviour
	switch {
	case len(spec.Cmd) == 2 && spec.Cmd[0] == "exit":
		if code, err := strconv.Atoi(spec.Cmd[1]); err == nil {
			b.Exit, b.ExitCode = true, code
		}
	case len(spec.Cmd) > 0 && spec.Cmd[0] == "echo":
		b.Exit, b.Stdout = true, strings.Join(spec.Cmd[1:], " ")+"\n"
	case slices.Equal(spec.Cmd, []string{"sleep", "ready"}):
		b.Stdout = "ready\n"
	}
	// A probe of the image's program, [... "exit", "N"], fails unless N is 0.
	if hc := spec.Healthcheck; hc != nil && len(hc.Test) >= 2 && hc.Test[len(hc.Test)-2] == "exit" && hc.Test[len(hc.Test)-1] != "0" {
		b.Health = engine.HealthUnhealthy
	}
	return b
}

// errInjected is returned by an injected fault that was given no error.
var errInjected = errors.New("injected failure")

type fault struct {
	op, name  string
	err       error
	remaining int // < 0: forever
}

// Fail makes every later call of method op (an engine.Engine method name,
// e.g. "CreateContainer", "StartContainer", "PullImage", "CreateNetwork")
// on the resource called name fail with err. The name is the container's
// name or id, the network's, the volume's name or the image reference as
// passed to the call; an empty op or name matches any. The call returns err
// itself, as the engine's answer; a nil err fails with a generic error.
// Faults are checked after the call is counted and before anything
// changes, so a failed call leaves the state untouched.
func (e *Engine) Fail(op, name string, err error) {
	e.addFault(op, name, err, -1)
}

// FailOnce is Fail for the next matching call only.
func (e *Engine) FailOnce(op, name string, err error) {
	e.addFault(op, name, err, 1)
}

// ClearFaults removes every injected fault.
func (e *Engine) ClearFaults() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = nil
}

func (e *Engine) addFault(op, name string, err error, n int) {
	if err == nil {
		err = errInjected
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = append(e.faults, &fault{op: op, name: name, err: err, remaining: n})
}

// Calls returns how many times method (e.g. "ListContainers") was called,
// failed calls included.
func (e *Engine) Calls(method string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.calls[method]
}

// CallCounts returns the number of calls per method name.
func (e *Engine) CallCounts() map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return maps.Clone(e.calls)
}

// ResetCalls sets every call count back to zero, e.g. after a test's setup.
func (e *Engine) ResetCalls() {
	e.mu.Lock()
	defer e.mu.Unlock()
	clear(e.calls)
}

// enter records a call of op and returns the error the call must fail
// with, if any: ctx being done or a fault injected for op on one of the
// names the resource is known by. The caller holds e.mu.
func (e *Engine) enter(ctx context.Context, op string, names ...string) error {
	e.calls[op]++
	if err := ctx.Err(); err != nil {
		return err
	}
	for i, f := range e.faults {
		if f.op != "" && f.op != op {
			continue
		}
		if f.name != "" && !slices.Contains(names, f.name) {
			continue
		}
		if f.remaining > 0 {
			f.remaining--
			if f.remaining == 0 {
				e.faults = slices.Delete(e.faults, i, i+1)
			}
		}
		// As given: the injected error plays the engine's message, and
		// the caller adds which operation failed, as with the real engine.
		return f.err
	}
	return nil
}

// Published returns every event published so far, oldest first, whether
// or not anyone subscribed.
func (e *Engine) Published() []engine.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]engine.Event, len(e.history))
	for i, ev := range e.history {
		ev.Attributes = maps.Clone(ev.Attributes)
		out[i] = ev
	}
	return out
}

// randomID returns 64 hex digits, the shape of engine ids.
func randomID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// copyLabels returns a copy that is never nil, so callers can index it.
func copyLabels(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	maps.Copy(out, m)
	return out
}

// notFound and conflict build the fake's errors the way the Docker adapter
// reports the engine's: the sentinel, then the engine's message, and no
// words about the operation, which the caller adds.
func notFound(kind, name string) error {
	return fmt.Errorf("%w: no such %s: %s", engine.ErrNotFound, kind, name)
}

func conflict(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{engine.ErrConflict}, args...)...)
}

// humanDuration renders d the way the engine's status texts do.
func humanDuration(d time.Duration) string {
	switch s := int(d.Seconds()); {
	case s < 1:
		return "Less than a second"
	case s == 1:
		return "1 second"
	case s < 60:
		return fmt.Sprintf("%d seconds", s)
	case s < 120:
		return "About a minute"
	case s < 3600:
		return fmt.Sprintf("%d minutes", s/60)
	case s < 7200:
		return "About an hour"
	default:
		return fmt.Sprintf("%d hours", s/3600)
	}
}
