package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/engine/fake"
	"github.com/composer-orchestrator/composer/labels"
	"github.com/composer-orchestrator/composer/orchestrator"
)

// cli runs command lines in-process over one fake engine, as a user would
// run composer in one project directory.
type cli struct {
	t   *testing.T
	eng *fake.Engine
	dir string
	env []string
	// wrap, when set, stands between the orchestrator and the fake, for
	// tests that need an engine call to take time.
	wrap func(engine.Engine) engine.Engine
	// program is the name the binary is called by (Streams.Program):
	// empty for composer, docker-composer for the Docker CLI plugin.
	program string
	// host is the engine host the last command connected with ("" for
	// DOCKER_HOST): the Docker CLI's -H reaches the plugin as this.
	host string
}

// newCLI makes a project directory holding compose.yaml (when yaml is not
// empty) and a fake engine for it.
func newCLI(t *testing.T, yaml string) *cli {
	t.Helper()
	c := &cli{t: t, eng: fake.New(), dir: t.TempDir()}
	if yaml != "" {
		c.write("compose.yaml", yaml)
	}
	return c
}

func (c *cli) write(name, content string) {
	c.t.Helper()
	if err := os.WriteFile(filepath.Join(c.dir, name), []byte(content), 0o644); err != nil {
		c.t.Fatal(err)
	}
}

// result is what one command line did.
type result struct {
	code   int
	stdout string
	stderr string
	args   []string
}

func (r result) String() string {
	return "composer " + strings.Join(r.args, " ") + "\n--- stdout\n" + r.stdout + "--- stderr\n" + r.stderr
}

// run runs one command line to its end. Relative paths in the compose
// file resolve against the project directory through --project-directory.
func (c *cli) run(args ...string) result {
	c.t.Helper()
	return c.runWithInterrupts(nil, args...)
}

// runWithInterrupts runs a command line while interrupts feeds it Ctrl-C.
func (c *cli) runWithInterrupts(interrupts chan os.Signal, args ...string) result {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	full := args
	if _, err := os.Stat(filepath.Join(c.dir, "compose.yaml")); err == nil {
		// As the Docker CLI plugin, composer's flags follow the plugin's
		// own command name, as in docker composer -f FILE ps.
		at := 0
		if c.program == pluginBinary && len(args) > 0 && args[0] == pluginName {
			at = 1
		}
		full = slices.Concat(args[:at], []string{"-f", filepath.Join(c.dir, "compose.yaml")}, args[at:])
	}
	// The project is called proj unless a test says otherwise (-p, or its
	// own COMPOSE_PROJECT_NAME in c.env).
	env := append([]string{"HOME=" + c.dir}, c.env...)
	if !slices.ContainsFunc(c.env, func(kv string) bool { return strings.HasPrefix(kv, "COMPOSE_PROJECT_NAME=") }) {
		env = append(env, "COMPOSE_PROJECT_NAME=proj")
	}
	streams := Streams{In: strings.NewReader(""), Out: &out, Err: &errb, Env: env, Interrupts: interrupts, Program: c.program}
	code := runWith(ctx, full, streams, c.connector())
	if ctx.Err() != nil {
		c.t.Fatalf("composer %v did not finish in time", full)
	}
	return result{code: code, stdout: out.String(), stderr: errb.String(), args: full}
}

// connector hands the fake engine to the command line. It reports itself
// as engine version "fake" speaking API 1.41.
func (c *cli) connector() connector {
	return func(_ context.Context, host string) (connection, error) {
		c.host = host
		var eng engine.Engine = c.eng
		if c.wrap != nil {
			eng = c.wrap(eng)
		}
		return connection{
			orchestrator: func(s orchestrator.Sink, opts ...orchestrator.Option) *orchestrator.Orchestrator {
				return orchestrator.New(eng, s, opts...)
			},
			info:  func(context.Context) (engineInfo, error) { return engineInfo{Version: "fake", APIVersion: "1.41"}, nil },
			close: func() {},
			// deploy reaches the fake's swarm directly: the wrappers
			// tests put around the engine are about the orchestrator.
			stack: c.eng,
			host:  "fake://" + c.dir,
		}, nil
	}
}

// must runs a command line that must succeed.
func (c *cli) must(args ...string) result {
	c.t.Helper()
	r := c.run(args...)
	if r.code != 0 {
		c.t.Fatalf("exit code %d, want 0:\n%s", r.code, r)
	}
	return r
}

// containers lists every container of project, one-off ones included,
// newest first.
func (c *cli) containers(project string) []engine.Container {
	c.t.Helper()
	cs, err := c.eng.ListContainers(context.Background(), engine.Filter{Labels: map[string]string{labels.Project: project}})
	if err != nil {
		c.t.Fatal(err)
	}
	return cs
}

// containerNames are the names of project's containers, sorted.
func (c *cli) containerNames(project string) []string {
	c.t.Helper()
	var names []string
	for _, ct := range c.containers(project) {
		names = append(names, ct.Name)
	}
	slices.Sort(names)
	return names
}

// inspect returns what the engine knows of the container called name, and
// false when there is no such container.
func (c *cli) inspect(name string) (engine.ContainerDetails, bool) {
	c.t.Helper()
	d, err := c.eng.InspectContainer(context.Background(), name)
	if errors.Is(err, engine.ErrNotFound) {
		return d, false
	}
	if err != nil {
		c.t.Fatal(err)
	}
	return d, true
}

// volumeNames are the names of project's volumes, sorted.
func (c *cli) volumeNames(project string) []string {
	c.t.Helper()
	vs, err := c.eng.ListVolumes(context.Background(), engine.Filter{Labels: map[string]string{labels.Project: project}})
	if err != nil {
		c.t.Fatal(err)
	}
	var names []string
	for _, v := range vs {
		names = append(names, v.Name)
	}
	slices.Sort(names)
	return names
}

// hasImage reports whether the engine holds the image ref.
func (c *cli) hasImage(ref string) bool {
	c.t.Helper()
	_, err := c.eng.InspectImage(context.Background(), ref)
	if err != nil && !errors.Is(err, engine.ErrNotFound) {
		c.t.Fatal(err)
	}
	return err == nil
}

// starts counts the times the container called name was started.
func (c *cli) starts(name string) int {
	n := 0
	for _, ev := range c.eng.Published() {
		if ev.Type == "container" && ev.Action == "start" && ev.Attributes["name"] == name {
			n++
		}
	}
	return n
}

// eventually polls cond until it holds, failing the test after a while.
func (c *cli) eventually(what string, cond func() bool) {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			c.t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// jsonObjects parses text holding one JSON object a line.
func jsonObjects(t *testing.T, text string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %q is not a JSON object: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// mkdirFor makes the directories a project file called name goes in.
func (c *cli) mkdirFor(name string) {
	c.t.Helper()
	if err := os.MkdirAll(filepath.Dir(filepath.Join(c.dir, name)), 0o755); err != nil {
		c.t.Fatal(err)
	}
}
