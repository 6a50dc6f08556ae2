package orchestrator

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/labels"
)

// DefaultDetachKeys is the engine's and the Docker CLI's detach sequence.
const DefaultDetachKeys = "ctrl-p,ctrl-q"

// AttachServiceOptions say how AttachService connects the terminal.
type AttachServiceOptions struct {
	// DetachKeys is the sequence that detaches the terminal and leaves the
	// container running, in the Docker CLI's form ("ctrl-p,ctrl-q", the
	// default when empty). As with docker attach, only a container with a
	// TTY reads it: without one, stdin goes to the process untouched.
	DetachKeys string
	// NoStdin leaves the container's stdin alone; stdin is attached
	// otherwise, when the container keeps it open (stdin_open).
	NoStdin bool
	// Signals, when set, is called once attached to start receiving the
	// signals to pass on to the container's process (--sig-proxy), as
	// names the engine knows ("SIGINT"). It is not called for a container
	// with a TTY, which gets Ctrl-C from its terminal instead, as in
	// docker attach: an interrupt then ends the attach.
	Signals func() <-chan string
}

// errDetached ends the stdin of an attach whose user typed the detach
// keys.
var errDetached = errors.New("read escape sequence")

// AttachService connects the terminal to the main process of the
// target's running container (Index 0 means the first), as docker
// compose attach does, and returns the container's exit code once it
// stops. Typing the detach keys (TTY only) ends the attach and leaves the
// container running, with code 0; so does an interrupt, as the container
// is not ours to stop, with ctx's error.
func (o *Orchestrator) AttachService(ctx context.Context, t Target, opts AttachServiceOptions, term Terminal) (int, error) {
	keys, err := ParseDetachKeys(opts.DetachKeys)
	if err != nil {
		return 0, err
	}
	c, err := o.attachTarget(ctx, t)
	if err != nil {
		return 0, err
	}
	d, err := o.eng.InspectContainer(ctx, c.ID)
	if err != nil {
		return 0, fmt.Errorf("inspecting container %s: %w", c.Name, err)
	}
	switch d.State {
	case engine.StatePaused:
		return 0, fmt.Errorf("cannot attach to a paused container %s: unpause it first", c.Name)
	case engine.StateRestarting:
		return 0, fmt.Errorf("cannot attach to a restarting container %s: wait until it is running", c.Name)
	case engine.StateRunning:
	default:
		return 0, fmt.Errorf("cannot attach to a stopped container %s: start it first", c.Name)
	}
	tty := d.TTY
	stdin := !opts.NoStdin && d.Config.OpenStdin
	if stdin && tty && term.Raw == nil {
		// A TTY needs a terminal on our side too: raw keys, detach keys.
		return 0, errors.New("the input device is not a TTY: use --no-stdin, or run attach from a terminal")
	}

	actx, detach := context.WithCancel(ctx)
	defer detach()
	var detached sync.Once
	didDetach := false
	// The engine is given the same detach keys: the proxy below keeps them
	// from reaching it, so it never detaches on its own, not even on its
	// default keys, which the user may mean for the process.
	streams := engine.Streams{Stdout: term.Out, Stderr: term.Err, DetachKeys: cmp.Or(opts.DetachKeys, DefaultDetachKeys)}
	if tty {
		streams.Stderr = nil // a TTY merges the streams
	}
	if stdin {
		streams.Stdin = term.In
		if tty {
			streams.Stdin = &escapeProxy{r: term.In, keys: keys, onDetach: func() {
				detached.Do(func() { didDetach = true; detach() })
			}}
		}
	}
	wait, err := o.eng.Attach(actx, c.ID, streams, tty)
	if err != nil {
		return 0, fmt.Errorf("attaching to container %s: %w", c.Name, err)
	}
	restore := term.raw(tty && stdin)
	if tty {
		o.resize(ctx, term, c.ID, false)
	}
	stopForwarding := func() {}
	if opts.Signals != nil && !tty {
		stopForwarding = o.forwardSignals(actx, c, opts.Signals())
	}
	outErr := wait()
	stopForwarding()
	restore()
	detached.Do(func() {}) // no detach from here on: didDetach is settled
	switch {
	case didDetach:
		return 0, nil
	case ctx.Err() != nil:
		return 0, ctx.Err()
	case outErr != nil:
		return 0, fmt.Errorf("attaching to container %s: %w", c.Name, outErr)
	}
	return o.WaitExit(ctx, t.Project, c.ID)
}

// attachTarget picks the container attach connects to: the first
// running one of the target's service by number, or number Index; the
// service's one-off containers come after its own.
func (o *Orchestrator) attachTarget(ctx context.Context, t Target) (engine.Container, error) {
	cs, err := o.containers(ctx, t, true)
	if err != nil {
		return engine.Container{}, err
	}
	cs = slices.DeleteFunc(cs, func(c engine.Container) bool { return !isUp(c.State) })
	slices.SortStableFunc(cs, func(a, b engine.Container) int {
		ao, bo := a.Labels[labels.Oneoff] == labels.True, b.Labels[labels.Oneoff] == labels.True
		switch {
		case ao == bo:
			return 0
		case bo:
			return -1
		}
		return 1
	})
	service := strings.Join(t.Services, ",")
	if len(cs) == 0 {
		if t.Index > 0 {
			return engine.Container{}, fmt.Errorf("service %q is not running container #%d", service, t.Index)
		}
		return engine.Container{}, fmt.Errorf("service %q is not running", service)
	}
	return cs[0], nil
}

// forwardSignals passes the signals received on signals on to c's
// process until the returned function is called. A signal the engine
// refuses (the process has just ended) is dropped: the wait reports the
// end.
func (o *Orchestrator) forwardSignals(ctx context.Context, c engine.Container, signals <-chan string) func() {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case sig := <-signals:
				if err := o.eng.KillContainer(ctx, c.ID, sig); err != nil && ctx.Err() == nil && !errors.Is(err, engine.ErrConflict) && !errors.Is(err, engine.ErrNotFound) {
					o.warn("passing %s on to container %s: %v", sig, c.Name, err)
				}
			case <-done:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}

// ParseDetachKeys reads a detach sequence in the Docker CLI's form: keys
// separated by commas, each a single character or ctrl-X where X is a
// letter or one of @ [ \ ] ^ _. Empty means DefaultDetachKeys.
func ParseDetachKeys(s string) ([]byte, error) {
	if s == "" {
		s = DefaultDetachKeys
	}
	var out []byte
	for _, k := range strings.Split(s, ",") {
		if len(k) == 1 {
			out = append(out, k[0])
			continue
		}
		x, ok := strings.CutPrefix(strings.ToLower(k), "ctrl-")
		if !ok || len(x) != 1 {
			return nil, fmt.Errorf("invalid detach keys %q: %q is neither one character nor ctrl-<key>", s, k)
		}
		switch c := x[0]; {
		case c >= 'a' && c <= 'z':
			out = append(out, c-'a'+1)
		case c == '@':
			out = append(out, 0)
		case c >= '[' && c <= '_':
			out = append(out, c-'['+27)
		default:
			return nil, fmt.Errorf("invalid detach keys %q: unknown key %q", s, k)
		}
	}
	return out, nil
}

// escapeProxy passes input on until it reads the detach sequence, which
// it keeps back; it then calls onDetach and ends the input. A partial
// sequence is held until the next byte tells whether it goes on; when it
// does not, the held bytes are passed on after all.
type escapeProxy struct {
	r        io.Reader
	keys     []byte
	onDetach func()
	// matched is how much of keys the last bytes read were.
	matched int
	pending []byte
	err     error
	done    bool
}

func (p *escapeProxy) Read(b []byte) (int, error) {
	for {
		if len(p.pending) > 0 {
			n := copy(b, p.pending)
			p.pending = p.pending[n:]
			return n, nil
		}
		if p.done {
			p.onDetach()
			return 0, errDetached
		}
		if p.err != nil {
			if p.matched > 0 {
				// The input ended half-way through a sequence: it was text.
				p.pending, p.matched = append(p.pending, p.keys[:p.matched]...), 0
				continue
			}
			return 0, p.err
		}
		buf := make([]byte, max(len(b), 1))
		n, err := p.r.Read(buf)
		p.err = err
		for _, c := range buf[:n] {
			if p.done {
				break // what follows the sequence is not sent
			}
			if c == p.keys[p.matched] {
				p.matched++
				if p.matched == len(p.keys) {
					p.done = true
				}
				continue
			}
			if p.matched > 0 {
				p.pending = append(p.pending, p.keys[:p.matched]...)
				p.matched = 0
				if c == p.keys[0] {
					p.matched = 1
					continue
				}
			}
			p.pending = append(p.pending, c)
		}
	}
}
