package orchestrator

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/engine/fake"
)

// logSink is a LogConsumer keeping every line and notice.
type logSink struct {
	// mu guards the fields below: lines and notices come from one log
	// reader per container and from the policy loop.
	mu      sync.Mutex
	lines   []string // "container: line"
	notices []Notice
	// changed is closed and replaced on every notice, waking waitNotice.
	changed chan struct{}
}

func newLogSink() *logSink { return &logSink{changed: make(chan struct{})} }

func (s *logSink) Log(container, service string, stderr bool, line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lines = append(s.lines, container+": "+line)
}

func (s *logSink) Notice(n Notice) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notices = append(s.notices, n)
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *logSink) allLines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.lines)
}

func (s *logSink) allNotices() []Notice {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.notices)
}

// index is the position of the first notice of kind about container
// ("" matches any), or -1.
func (s *logSink) index(kind NoticeKind, container string) int {
	for i, n := range s.allNotices() {
		if n.Kind == kind && (container == "" || n.Container == container) {
			return i
		}
	}
	return -1
}

// waitNotice blocks until a notice of kind about container has arrived.
func (s *logSink) waitNotice(t *testing.T, kind NoticeKind, container string) {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if s.index(kind, container) >= 0 {
			return
		}
		select {
		case <-ch:
		case <-timeout:
			t.Fatalf("no %s notice for %q; notices: %+v", kind, container, s.allNotices())
		}
	}
}

type attachResult struct {
	code int
	err  error
}

// startAttached runs AttachedUp in the background.
func startAttached(t *testing.T, o *Orchestrator, yaml string, opts AttachOptions, sink *logSink) <-chan attachResult {
	t.Helper()
	p := loadYAML(t, "proj", yaml)
	ctx := testCtx(t)
	done := make(chan attachResult, 1)
	go func() {
		code, err := o.AttachedUp(ctx, p, opts, sink)
		done <- attachResult{code, err}
	}()
	return done
}

func waitAttached(t *testing.T, done <-chan attachResult) attachResult {
	t.Helper()
	select {
	case r := <-done:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("AttachedUp did not return")
		return attachResult{}
	}
}

func TestAttachedServices(t *testing.T) {
	t.Parallel()
	p := loadYAML(t, "proj", `
services:
  a: {image: alpine}
  b: {image: alpine, depends_on: [a]}
  c: {image: alpine}
`)
	tests := []struct {
		name     string
		selected []string
		sel      AttachSelection
		want     []string
	}{
		{name: "nothing selected follows all", want: []string{"a", "b", "c"}},
		{name: "selected services", selected: []string{"b"}, want: []string{"b"}},
		{name: "selected with dependencies follows the project", selected: []string{"b"}, sel: AttachSelection{Dependencies: true}, want: []string{"a", "b", "c"}},
		{name: "attach wins over the selection", selected: []string{"b"}, sel: AttachSelection{Attach: []string{"c"}}, want: []string{"c"}},
		{name: "no-attach leaves out", sel: AttachSelection{NoAttach: []string{"b"}}, want: []string{"a", "c"}},
		{name: "no-attach applies to attach", sel: AttachSelection{Attach: []string{"a", "c"}, NoAttach: []string{"a"}}, want: []string{"c"}},
		{name: "no-attach of everything", selected: []string{"a"}, sel: AttachSelection{NoAttach: []string{"a"}}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := AttachedServices(p, tt.selected, tt.sel); !slices.Equal(got, tt.want) {
				t.Errorf("AttachedServices = %v, want %v", got, tt.want)
			}
		})
	}
}

// The abort policy, on projects whose containers exit on their own.
func TestAttachedUpPolicy(t *testing.T) {
	t.Parallel()
	exitAfter := func(code int, d time.Duration) fake.Behaviour {
		return fake.Behaviour{Exit: true, ExitCode: code, ExitAfter: d}
	}
	const twoJobsAndWeb = `
services:
  a: {image: alpine}
  b: {image: alpine}
  web: {image: nginx}
`
	tests := []struct {
		name   string
		yaml   string
		behave map[string]fake.Behaviour // by container name
		opts   AttachOptions
		// wantCode is what AttachedUp returns; wantAbort the container
		// whose exit aborted, "" when none did.
		wantCode   int
		wantAbort  string
		wantExited map[string]int // exit notices expected, with their codes
		wantStates string
	}{
		{
			name: "returns when every followed container has stopped",
			yaml: "services:\n  a: {image: alpine}\n  b: {image: alpine}\n",
			behave: map[string]fake.Behaviour{
				"proj-a-1": exitAfter(0, 20*time.Millisecond),
				"proj-b-1": exitAfter(1, 60*time.Millisecond),
			},
			wantExited: map[string]int{"proj-a-1": 0, "proj-b-1": 1},
			wantStates: "proj-a-1=exited proj-b-1=exited",
		},
		{
			name:       "abort on exit stops the others",
			yaml:       twoJobsAndWeb,
			behave:     map[string]fake.Behaviour{"proj-a-1": exitAfter(2, 40*time.Millisecond), "proj-b-1": {}},
			opts:       AttachOptions{AbortOnExit: true},
			wantCode:   2,
			wantAbort:  "proj-a-1",
			wantExited: map[string]int{"proj-a-1": 2},
			wantStates: "proj-a-1=exited proj-b-1=exited proj-web-1=exited",
		},
		{
			name: "abort on failure ignores a success",
			yaml: twoJobsAndWeb,
			behave: map[string]fake.Behaviour{
				"proj-a-1": exitAfter(0, 20*time.Millisecond),
				"proj-b-1": exitAfter(3, 80*time.Millisecond),
			},
			opts:       AttachOptions{AbortOnFailure: true},
			wantCode:   3,
			wantAbort:  "proj-b-1",
			wantExited: map[string]int{"proj-a-1": 0, "proj-b-1": 3},
			wantStates: "proj-a-1=exited proj-b-1=exited proj-web-1=exited",
		},
		{
			name: "abort on failure with only successes",
			yaml: "services:\n  a: {image: alpine}\n  b: {image: alpine}\n",
			behave: map[string]fake.Behaviour{
				"proj-a-1": exitAfter(0, 20*time.Millisecond),
				"proj-b-1": exitAfter(0, 50*time.Millisecond),
			},
			opts:       AttachOptions{AbortOnFailure: true},
			wantExited: map[string]int{"proj-a-1": 0, "proj-b-1": 0},
			wantStates: "proj-a-1=exited proj-b-1=exited",
		},
		{
			name:       "exit code from the service that exited",
			yaml:       twoJobsAndWeb,
			behave:     map[string]fake.Behaviour{"proj-a-1": {}, "proj-b-1": exitAfter(4, 40*time.Millisecond)},
			opts:       AttachOptions{ExitCodeFrom: "b"},
			wantCode:   4,
			wantAbort:  "proj-b-1",
			wantExited: map[string]int{"proj-b-1": 4},
			wantStates: "proj-a-1=exited proj-b-1=exited proj-web-1=exited",
		},
		{
			name: "exit code from a service stopped by the abort",
			yaml: twoJobsAndWeb,
			behave: map[string]fake.Behaviour{
				"proj-a-1": exitAfter(1, 40*time.Millisecond),
				"proj-b-1": {StopExitCode: 143},
			},
			opts:       AttachOptions{ExitCodeFrom: "b"},
			wantCode:   143,
			wantAbort:  "proj-a-1",
			wantExited: map[string]int{"proj-a-1": 1},
			wantStates: "proj-a-1=exited proj-b-1=exited proj-web-1=exited",
		},
		{
			name: "a completed job that others wait for does not abort",
			yaml: `
services:
  migrate: {image: alpine, command: ["exit", "0"]}
  web:
    image: nginx
    depends_on:
      migrate: {condition: service_completed_successfully}
`,
			behave:     map[string]fake.Behaviour{"proj-web-1": exitAfter(5, 80*time.Millisecond)},
			opts:       AttachOptions{AbortOnExit: true},
			wantCode:   5,
			wantAbort:  "proj-web-1",
			wantExited: map[string]int{"proj-migrate-1": 0, "proj-web-1": 5},
			wantStates: "proj-migrate-1=exited proj-web-1=exited",
		},
		{
			name: "a job nobody waits for aborts",
			yaml: `
services:
  migrate: {image: alpine}
  web: {image: nginx, depends_on: [migrate]}
`,
			behave:     map[string]fake.Behaviour{"proj-migrate-1": exitAfter(0, 40*time.Millisecond)},
			opts:       AttachOptions{AbortOnExit: true},
			wantCode:   0,
			wantAbort:  "proj-migrate-1",
			wantExited: map[string]int{"proj-migrate-1": 0},
			wantStates: "proj-migrate-1=exited proj-web-1=exited",
		},
		{
			name: "only followed services count",
			yaml: twoJobsAndWeb,
			behave: map[string]fake.Behaviour{
				"proj-a-1":   exitAfter(1, 20*time.Millisecond),
				"proj-b-1":   {},
				"proj-web-1": exitAfter(6, 80*time.Millisecond),
			},
			opts:       AttachOptions{AbortOnExit: true, Services: []string{"web"}},
			wantCode:   6,
			wantAbort:  "proj-web-1",
			wantExited: map[string]int{"proj-web-1": 6},
			wantStates: "proj-a-1=exited proj-b-1=exited proj-web-1=exited",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			eng, o, _ := newFake("alpine", "nginx")
			for name, b := range tt.behave {
				eng.OnStart(name, b)
			}
			sink := newLogSink()
			r := waitAttached(t, startAttached(t, o, tt.yaml, tt.opts, sink))
			if r.err != nil {
				t.Fatalf("AttachedUp: %v", r.err)
			}
			if r.code != tt.wantCode {
				t.Errorf("exit code = %d, want %d", r.code, tt.wantCode)
			}
			attaching := sink.index(NoticeAttaching, "")
			if attaching < 0 {
				t.Errorf("no attaching notice in %+v", sink.allNotices())
			}
			var aborts []string
			for _, n := range sink.allNotices() {
				if n.Kind == NoticeAborting {
					aborts = append(aborts, n.Container)
				}
			}
			if tt.wantAbort == "" && len(aborts) > 0 {
				t.Errorf("aborted on %v, want no abort", aborts)
			}
			if tt.wantAbort != "" {
				if !slices.Equal(aborts, []string{tt.wantAbort}) {
					t.Errorf("aborted on %v, want once on %s", aborts, tt.wantAbort)
				}
				// The exit is shown before the abort it causes, and both
				// after attaching.
				exited, aborting := sink.index(NoticeExited, tt.wantAbort), sink.index(NoticeAborting, tt.wantAbort)
				if exited < 0 || exited > aborting || attaching > aborting {
					t.Errorf("notices %+v: want attaching and the exit of %s before aborting", sink.allNotices(), tt.wantAbort)
				}
			}
			for name, code := range tt.wantExited {
				i := sink.index(NoticeExited, name)
				if i < 0 {
					t.Errorf("no exit notice for %s in %+v", name, sink.allNotices())
					continue
				}
				if n := sink.allNotices()[i]; n.ExitCode != code {
					t.Errorf("exit notice for %s has code %d, want %d", name, n.ExitCode, code)
				}
			}
			if got := states(containersOf(t, eng, "proj")); got != tt.wantStates {
				t.Errorf("containers = %s, want %s", got, tt.wantStates)
			}
		})
	}
}

func TestAttachedUpNoticesAndLines(t *testing.T) {
	t.Parallel()
	eng, o, _ := newFake("alpine", "nginx")
	eng.OnStart("proj-web-1", fake.Behaviour{Stdout: "hello\nworld\n", Exit: true, ExitCode: 0, ExitAfter: 50 * time.Millisecond})
	eng.OnStart("proj-db-1", fake.Behaviour{Stdout: "not followed\n"})
	sink := newLogSink()
	r := waitAttached(t, startAttached(t, o, `
services:
  db: {image: alpine}
  web: {image: nginx, depends_on: [db]}
`, AttachOptions{Services: []string{"web"}, AbortOnExit: true}, sink))
	if r.err != nil || r.code != 0 {
		t.Fatalf("AttachedUp = %d, %v; want 0, nil", r.code, r.err)
	}
	var attaching []string
	for _, n := range sink.allNotices() {
		if n.Kind == NoticeAttaching {
			attaching = append(attaching, strings.Join(n.Containers, ","))
		}
	}
	if !slices.Equal(attaching, []string{"proj-web-1"}) {
		t.Errorf("attaching notices name %q, want one naming proj-web-1 only", attaching)
	}
	if got, want := sink.allLines(), []string{"proj-web-1: hello", "proj-web-1: world"}; !slices.Equal(got, want) {
		t.Errorf("lines = %q, want %q", got, want)
	}
}

// Containers that have all finished by the time up is done still have
// their output and their exits delivered, and the policy applied.
func TestAttachedUpEverythingFinishedDuringUp(t *testing.T) {
	t.Parallel()
	const yaml = `
services:
  a: {image: alpine, command: ["echo", "hello"]}
  test: {image: alpine, command: ["exit", "3"]}
`
	tests := []struct {
		name     string
		opts     AttachOptions
		wantCode int
	}{
		{name: "no policy", wantCode: 0},
		{name: "exit code from", opts: AttachOptions{ExitCodeFrom: "test"}, wantCode: 3},
		{name: "abort on failure", opts: AttachOptions{AbortOnFailure: true, Services: []string{"test"}}, wantCode: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, o, _ := newFake("alpine")
			sink := newLogSink()
			r := waitAttached(t, startAttached(t, o, yaml, tt.opts, sink))
			if r.err != nil || r.code != tt.wantCode {
				t.Fatalf("AttachedUp = %d, %v; want %d, nil", r.code, r.err, tt.wantCode)
			}
			if tt.opts.ExitCodeFrom != "" || tt.opts.AbortOnFailure {
				// The first exit that aborts ends the run; later ones
				// need not be shown.
				if sink.index(NoticeAborting, "") < 0 {
					t.Errorf("notices %+v: want an abort", sink.allNotices())
				}
				return
			}
			for _, c := range []string{"proj-a-1", "proj-test-1"} {
				if sink.index(NoticeExited, c) < 0 {
					t.Errorf("notices %+v: want the exit of %s", sink.allNotices(), c)
				}
			}
			if got := sink.allLines(); !slices.Equal(got, []string{"proj-a-1: hello"}) {
				t.Errorf("lines = %q, want the output of proj-a-1", got)
			}
		})
	}
}

func TestAttachedUpUnknownExitCodeFrom(t *testing.T) {
	t.Parallel()
	eng, o, _ := newFake("alpine")
	r := waitAttached(t, startAttached(t, o, "services:\n  a: {image: alpine}\n", AttachOptions{ExitCodeFrom: "nope"}, newLogSink()))
	if r.err == nil || !strings.Contains(r.err.Error(), "nope") {
		t.Errorf("error = %v, want one naming the unknown service", r.err)
	}
	if got := len(containersOf(t, eng, "proj")); got != 0 {
		t.Errorf("%d containers created, want none", got)
	}
}

func TestAttachedUpInterrupt(t *testing.T) {
	t.Parallel()
	eng, o, _ := newFake("alpine", "nginx")
	interrupts := make(chan struct{})
	sink := newLogSink()
	done := startAttached(t, o, `
services:
  db: {image: alpine}
  web: {image: nginx, depends_on: [db]}
`, AttachOptions{Interrupts: interrupts, AbortOnExit: true}, sink)
	sink.waitNotice(t, NoticeAttaching, "")
	interrupts <- struct{}{}
	r := waitAttached(t, done)
	if !errors.Is(r.err, ErrInterrupted) {
		t.Errorf("error = %v, want ErrInterrupted", r.err)
	}
	if sink.index(NoticeStopping, "") < 0 {
		t.Errorf("notices %+v: want stopping", sink.allNotices())
	}
	// The exits caused by the interrupt are no reason to abort.
	if i := sink.index(NoticeAborting, ""); i >= 0 {
		t.Errorf("notices %+v: want no abort after an interrupt", sink.allNotices())
	}
	if got, want := states(containersOf(t, eng, "proj")), "proj-db-1=exited proj-web-1=exited"; got != want {
		t.Errorf("containers = %s, want %s (stopped, not removed)", got, want)
	}
}

// An interrupt while up is still waiting for a dependency stops what was
// started, and starts nothing more.
func TestAttachedUpInterruptDuringUp(t *testing.T) {
	t.Parallel()
	eng, o, _ := newFake("postgres", "nginx")
	eng.OnStart("postgres", fake.Behaviour{Health: engine.HealthStarting})
	interrupts := make(chan struct{})
	sink := newLogSink()
	done := startAttached(t, o, `
services:
  db:
    image: postgres
    healthcheck: {test: ["CMD", "true"]}
  web:
    image: nginx
    depends_on:
      db: {condition: service_healthy}
`, AttachOptions{Interrupts: interrupts}, sink)
	sink.waitNotice(t, NoticeAttached, "proj-db-1")
	interrupts <- struct{}{}
	r := waitAttached(t, done)
	if !errors.Is(r.err, ErrInterrupted) {
		t.Errorf("error = %v, want ErrInterrupted", r.err)
	}
	if sink.index(NoticeAttaching, "") >= 0 {
		t.Errorf("notices %+v: want no attaching, up never finished", sink.allNotices())
	}
	cs := containersOf(t, eng, "proj")
	if got := cs["proj-db-1"].State; got != engine.StateExited {
		t.Errorf("db is %s, want exited", got)
	}
	if c, ok := cs["proj-web-1"]; ok && c.State != engine.StateCreated {
		t.Errorf("web is %s, want never started", c.State)
	}
}

// slowStop is a fake engine on which a graceful stop never ends by itself,
// like a container ignoring SIGTERM under a long stop timeout: it lasts
// until its context is cancelled.
type slowStop struct {
	*fake.Engine
	stopping chan struct{} // receives when a stop is in progress
}

func (e *slowStop) StopContainer(ctx context.Context, id string, timeout *time.Duration) error {
	select {
	case e.stopping <- struct{}{}:
	default:
	}
	<-ctx.Done()
	return ctx.Err()
}

func TestAttachedUpSecondInterruptKills(t *testing.T) {
	t.Parallel()
	eng := &slowStop{Engine: fake.New(), stopping: make(chan struct{}, 1)}
	eng.AddImage("nginx")
	o := New(eng, Discard)
	interrupts := make(chan struct{})
	sink := newLogSink()
	done := startAttached(t, o, "services:\n  web: {image: nginx}\n", AttachOptions{Interrupts: interrupts}, sink)
	sink.waitNotice(t, NoticeAttaching, "")
	interrupts <- struct{}{}
	select {
	case <-eng.stopping:
	case <-time.After(5 * time.Second):
		t.Fatal("no stop after the first interrupt")
	}
	if got := containersOf(t, eng.Engine, "proj")["proj-web-1"].State; got != engine.StateRunning {
		t.Fatalf("web is %s while the graceful stop lasts, want running", got)
	}
	interrupts <- struct{}{}
	r := waitAttached(t, done)
	if !errors.Is(r.err, ErrInterrupted) {
		t.Errorf("error = %v, want ErrInterrupted", r.err)
	}
	d, err := eng.InspectContainer(context.Background(), "proj-web-1")
	if err != nil {
		t.Fatal(err)
	}
	if d.State != engine.StateExited || d.ExitCode != 137 {
		t.Errorf("web is %s with code %d, want exited 137 (killed)", d.State, d.ExitCode)
	}
}
