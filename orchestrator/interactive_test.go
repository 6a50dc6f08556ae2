package orchestrator

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/engine/fake"
)

// execLog is a fake engine that also keeps what each Exec was asked,
// which the fake itself does not record.
type execLog struct {
	*fake.Engine
	// mu guards execs: tests run execs while reading earlier ones.
	mu    sync.Mutex
	execs []execCall
}

type execCall struct {
	container string // id
	spec      engine.ExecSpec
	stdin     bool // whether the caller's input was attached
}

func (e *execLog) Exec(ctx context.Context, id string, spec engine.ExecSpec, streams engine.Streams) (int, error) {
	e.mu.Lock()
	e.execs = append(e.execs, execCall{container: id, spec: spec, stdin: streams.Stdin != nil})
	e.mu.Unlock()
	return e.Engine.Exec(ctx, id, spec, streams)
}

func (e *execLog) last(t *testing.T) execCall {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.execs) == 0 {
		t.Fatal("no exec reached the engine")
	}
	return e.execs[len(e.execs)-1]
}

func TestExec(t *testing.T) {
	t.Parallel()
	environ := func(k string) (string, bool) {
		if k == "HOME" {
			return "/root", true
		}
		return "", false
	}
	tests := []struct {
		name      string
		t         Target
		opts      ExecOptions
		wantCode  int
		wantOut   string
		wantIn    string // container the exec runs in
		wantEnv   []string
		wantStdin bool
		wantErr   string
	}{
		{
			name: "exit code and output", t: Target{Services: []string{"web"}},
			opts:     ExecOptions{Command: []string{"sh"}},
			wantCode: 3, wantOut: "hi\n", wantIn: "proj-web-1", wantEnv: []string{},
		},
		{
			name: "env completed from the environment", t: Target{Services: []string{"web"}},
			opts:     ExecOptions{Command: []string{"env"}, Env: []string{"A=1", "HOME", "NOPE", "B="}, Environ: environ},
			wantCode: 3, wantOut: "hi\n", wantIn: "proj-web-1", wantEnv: []string{"A=1", "HOME=/root", "B="},
		},
		{
			name: "bare keys dropped without an environment", t: Target{Services: []string{"web"}},
			opts:     ExecOptions{Command: []string{"env"}, Env: []string{"HOME", "A=1"}},
			wantCode: 3, wantOut: "hi\n", wantIn: "proj-web-1", wantEnv: []string{"A=1"},
		},
		{
			name: "second replica", t: Target{Services: []string{"web"}, Index: 2},
			opts:     ExecOptions{Command: []string{"sh"}, Stdin: true},
			wantCode: 3, wantOut: "hi\n", wantIn: "proj-web-2", wantEnv: []string{}, wantStdin: true,
		},
		{
			name: "detached", t: Target{Services: []string{"web"}},
			opts:   ExecOptions{Command: []string{"sh"}, Stdin: true, Detach: true},
			wantIn: "proj-web-1", wantEnv: []string{},
		},
		{name: "not running", t: Target{Services: []string{"job"}}, opts: ExecOptions{Command: []string{"sh"}}, wantErr: `service "job" is not running`},
		{name: "no such replica", t: Target{Services: []string{"web"}, Index: 3}, opts: ExecOptions{Command: []string{"sh"}}, wantErr: "not running"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			eng := &execLog{Engine: fake.New()}
			eng.AddImage("nginx")
			eng.AddImage("alpine")
			eng.OnStart("nginx", fake.Behaviour{ExecExitCode: 3, ExecStdout: "hi\n"})
			o := New(eng, Discard)
			mustUp(t, o, loadYAML(t, "proj", `
services:
  web: {image: nginx, scale: 2}
  job: {image: alpine, command: ["exit", "0"]}
`), UpOptions{})
			var out bytes.Buffer
			tt.t.Project = "proj"
			code, err := o.Exec(testCtx(t), tt.t, tt.opts, Terminal{In: strings.NewReader("input"), Out: &out, Err: &bytes.Buffer{}})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("Exec = %d, %v; want an error containing %q", code, err, tt.wantErr)
				}
				if eng.Calls("Exec") != 0 {
					t.Errorf("an exec reached the engine")
				}
				return
			}
			if err != nil || code != tt.wantCode {
				t.Fatalf("Exec = %d, %v; want %d", code, err, tt.wantCode)
			}
			if out.String() != tt.wantOut {
				t.Errorf("output = %q, want %q", out.String(), tt.wantOut)
			}
			call := eng.last(t)
			if id := containersOf(t, eng.Engine, "proj")[tt.wantIn].ID; call.container != id {
				t.Errorf("exec ran in %s, want %s", call.container, tt.wantIn)
			}
			if !slices.Equal(call.spec.Env, tt.wantEnv) {
				t.Errorf("exec env = %q, want %q", call.spec.Env, tt.wantEnv)
			}
			if !slices.Equal(call.spec.Cmd, tt.opts.Command) {
				t.Errorf("exec command = %q, want %q", call.spec.Cmd, tt.opts.Command)
			}
			if call.stdin != tt.wantStdin || call.spec.Stdin != tt.wantStdin {
				t.Errorf("stdin attached = %v (spec %v), want %v", call.stdin, call.spec.Stdin, tt.wantStdin)
			}
		})
	}
}

// A TTY exec puts the terminal in raw mode for its duration and tells the
// engine the terminal's size.
func TestExecTTY(t *testing.T) {
	t.Parallel()
	eng, o, _ := newFake("nginx")
	mustUp(t, o, loadYAML(t, "proj", "services:\n  web: {image: nginx}\n"), UpOptions{})
	var raw, restored int
	term := Terminal{
		Out:  &bytes.Buffer{},
		Raw:  func() func() { raw++; return func() { restored++ } },
		Size: func() (uint, uint, bool) { return 24, 80, true },
	}
	if _, err := o.Exec(testCtx(t), Target{Project: "proj", Services: []string{"web"}}, ExecOptions{Command: []string{"sh"}, TTY: true}, term); err != nil {
		t.Fatal(err)
	}
	if raw != 1 || restored != 1 {
		t.Errorf("raw mode entered %d and left %d times, want once each", raw, restored)
	}
	if eng.Calls("ResizeTTY") != 1 {
		t.Errorf("%d resizes, want 1", eng.Calls("ResizeTTY"))
	}
}

func TestRunOneOff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		command []string
		behave  *fake.Behaviour
		opts    OneOffOptions
		// wantCode is the exit code returned; wantState the container's
		// state afterwards, "" when it must be gone.
		wantCode  int
		wantState engine.ContainerState
		wantOut   string
		wantErr   string // what reaches term.Err
	}{
		{name: "detached", opts: OneOffOptions{Detach: true}, wantState: engine.StateRunning},
		{name: "attached returns the exit code", command: []string{"exit", "3"}, wantCode: 3, wantState: engine.StateExited},
		{
			name: "attached waits for the exit", behave: &fake.Behaviour{Exit: true, ExitCode: 4, ExitAfter: 50 * time.Millisecond},
			wantCode: 4, wantState: engine.StateExited,
		},
		{name: "removed afterwards", command: []string{"exit", "2"}, opts: OneOffOptions{Remove: true}, wantCode: 2},
		{
			name: "output reaches the terminal", behave: &fake.Behaviour{Exit: true, Stdout: "out\n", Stderr: "err\n"},
			wantState: engine.StateExited, wantOut: "out\n", wantErr: "err\n",
		},
		{
			name: "a TTY merges the streams", behave: &fake.Behaviour{Exit: true, Stdout: "out\n", Stderr: "err\n"},
			opts: OneOffOptions{TTY: true, Remove: true}, wantOut: "out\nerr\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			eng, o, _ := newFake("alpine")
			if tt.behave != nil {
				eng.OnStart("alpine", *tt.behave)
			}
			p := loadYAML(t, "proj", "services:\n  app: {image: alpine}\n")
			ctx := testCtx(t)
			id, name, err := o.RunPrepare(ctx, p, RunOptions{Service: "app", Command: tt.command, TTY: tt.opts.TTY})
			if err != nil {
				t.Fatalf("RunPrepare: %v", err)
			}
			if got := containersOf(t, eng, "proj")[name].State; got != engine.StateCreated {
				t.Fatalf("prepared container is %s, want created", got)
			}
			var out, errOut bytes.Buffer
			code, err := o.RunOneOff(ctx, OneOff{Project: "proj", ID: id, Name: name}, tt.opts, Terminal{Out: &out, Err: &errOut})
			if err != nil || code != tt.wantCode {
				t.Fatalf("RunOneOff = %d, %v; want %d", code, err, tt.wantCode)
			}
			c, exists := containersOf(t, eng, "proj")[name]
			switch {
			case tt.wantState == "" && exists:
				t.Errorf("%s is %s, want it removed", name, c.State)
			case tt.wantState != "" && c.State != tt.wantState:
				t.Errorf("%s is %q, want %s", name, c.State, tt.wantState)
			}
			if out.String() != tt.wantOut || errOut.String() != tt.wantErr {
				t.Errorf("output %q and %q, want %q and %q", out.String(), errOut.String(), tt.wantOut, tt.wantErr)
			}
		})
	}
}

// An interrupt while attached to a one-off container ends the run; with
// Remove the container does not stay behind.
func TestRunOneOffInterrupted(t *testing.T) {
	t.Parallel()
	eng, o, _ := newFake("alpine")
	p := loadYAML(t, "proj", "services:\n  app: {image: alpine}\n")
	id, name, err := o.RunPrepare(testCtx(t), p, RunOptions{Service: "app"})
	if err != nil {
		t.Fatal(err)
	}
	evs, _ := eng.Events(testCtx(t), engine.EventFilter{Type: "container"})
	ctx, cancel := context.WithCancel(testCtx(t))
	done := make(chan error, 1)
	go func() {
		_, err := o.RunOneOff(ctx, OneOff{Project: "proj", ID: id, Name: name}, OneOffOptions{Remove: true}, Terminal{Out: &bytes.Buffer{}, Err: &bytes.Buffer{}})
		done <- err
	}()
	for e := range evs {
		if e.ID == id && e.Action == "start" {
			break
		}
	}
	cancel()
	select {
	case err := <-done:
		if err == nil {
			t.Errorf("RunOneOff succeeded after an interrupt, want an error")
		}
	case <-time.After(3 * time.Second):
		t.Fatal("RunOneOff did not return after an interrupt")
	}
	if c, ok := containersOf(t, eng, "proj")[name]; ok {
		t.Errorf("%s is %s, want it removed", name, c.State)
	}
}
