package orchestrator

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/engine/fake"
	"github.com/composer-orchestrator/composer/labels"
	"github.com/composer-orchestrator/composer/project"
)

// loadYAML writes yaml as compose.yaml in a fresh directory and loads it
// as project name, with an empty environment.
func loadYAML(t *testing.T, name, yaml string) *types.Project {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := project.Load(context.Background(), project.Options{WorkingDir: dir, Name: name, Env: []string{}})
	if err != nil {
		t.Fatalf("loading project: %v", err)
	}
	return p
}

// testCtx is a context that ends with the test, bounded so that a hang
// fails the test rather than the whole run.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// recorder is a Sink keeping every event.
type recorder struct {
	// mu guards events: the orchestrator emits from many goroutines.
	mu     sync.Mutex
	events []Event
}

func (r *recorder) Event(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) all() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

func (r *recorder) warnings() []string {
	var out []string
	for _, e := range r.all() {
		if e.Status == Warning {
			out = append(out, e.Detail)
		}
	}
	return out
}

// newFake returns a fake engine holding the given images and an
// orchestrator over it with a recording sink.
func newFake(images ...string) (*fake.Engine, *Orchestrator, *recorder) {
	eng := fake.New()
	for _, img := range images {
		eng.AddImage(img)
	}
	rec := &recorder{}
	return eng, New(eng, rec), rec
}

// mustUp runs Up and fails the test on error.
func mustUp(t *testing.T, o *Orchestrator, p *types.Project, opts UpOptions) {
	t.Helper()
	if err := o.Up(testCtx(t), p, opts); err != nil {
		t.Fatalf("Up: %v", err)
	}
}

// containersOf lists every container of a project, by name.
func containersOf(t *testing.T, eng *fake.Engine, proj string) map[string]engine.Container {
	t.Helper()
	cs, err := eng.ListContainers(context.Background(), engine.Filter{Labels: map[string]string{labels.Project: proj}})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]engine.Container{}
	for _, c := range cs {
		out[c.Name] = c
	}
	return out
}

// names returns the sorted keys of m.
func names[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// states renders each container as "name=state", sorted.
func states(cs map[string]engine.Container) string {
	var out []string
	for _, n := range names(cs) {
		out = append(out, n+"="+string(cs[n].State))
	}
	return strings.Join(out, " ")
}

// eventIndex returns the index in the fake's published history of the
// first event with action on the container named name, or -1.
func eventIndex(evs []engine.Event, action, name string) int {
	for i, e := range evs {
		if e.Type == "container" && e.Action == action && e.Attributes["name"] == name {
			return i
		}
	}
	return -1
}

// mutatingCalls are the engine methods that change state.
var mutatingCalls = []string{
	"CreateContainer", "StartContainer", "StopContainer", "KillContainer",
	"RemoveContainer", "RenameContainer", "PauseContainer", "UnpauseContainer",
	"CreateNetwork", "RemoveNetwork", "ConnectNetwork",
	"CreateVolume", "RemoveVolume", "PullImage", "BuildImage", "RemoveImage",
}

// mutations returns the counts of state-changing calls made.
func mutations(eng *fake.Engine) map[string]int {
	out := map[string]int{}
	for k, v := range eng.CallCounts() {
		if slices.Contains(mutatingCalls, k) && v > 0 {
			out[k] = v
		}
	}
	return out
}
