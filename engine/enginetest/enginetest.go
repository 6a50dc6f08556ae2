// Package enginetest is a behaviour suite for engine.Engine
// implementations. The same suite runs against the in-memory fake and the
// Docker adapter, so the fake the orchestrator's unit tests rely on cannot
// drift from the real engine unnoticed.
//
// The suite asserts end state (what list and inspect report afterwards),
// not which calls were made. It needs an image honouring this contract:
// the image's entrypoint takes its arguments from the container's Cmd, and
//
//	["sleep"] (or no Cmd)  runs until stopped, exiting 0 promptly on SIGTERM or SIGINT;
//	["sleep", "ready"]     the same, writing "ready" and a newline to stdout once
//	                       a SIGTERM or SIGINT would end it with 0;
//	["exit", "N"]          exits at once with code N;
//	["echo", "W", ...]     writes the words, space-separated, and a newline to stdout, then exits 0.
//
// Healthchecks run the same program: ["CMD", "/testimage", "exit", "N"]
// passes when N is 0 and fails otherwise.
//
// The suite builds images FROM image (with BuildImage and a context holding
// only a Dockerfile, see DockerfileContext) and checks that InspectImage
// reports its defaults (ENTRYPOINT ["/testimage"], CMD ["sleep"] and the
// builder's PATH, as Dockerfile sets them) and that a container's
// ContainerDetails.Config gives back the spec it was created from, with
// the image's defaults where the spec left a field empty.
//
// Every resource the suite creates has a unique name and carries the label
// TestLabel, whose value is unique per subtest, so that cleanup removes
// exactly the leftovers of that subtest even on a shared engine.
package enginetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/composer-orchestrator/composer/engine"
)

// TestLabel is set on every resource the suite creates.
const TestLabel = "com.github.composer.enginetest"

// timeout bounds each subtest; the real engine needs a few seconds at most.
const timeout = 2 * time.Minute

// Run runs the behaviour suite. newEngine is called once per subtest and
// may return a shared engine; image must implement the package's contract
// and exist on the engine.
func Run(t *testing.T, newEngine func(t *testing.T) engine.Engine, image string) {
	tests := []struct {
		name string
		fn   func(t *testing.T, h *harness)
	}{
		{"NetworkLifecycle", testNetworkLifecycle},
		{"VolumeLifecycle", testVolumeLifecycle},
		{"ImageInspect", testImageInspect},
		{"ImageConfig", testImageConfig},
		{"ContainerConfig", testContainerConfig},
		{"ContainerConfigDefaults", testContainerConfigDefaults},
		{"ContainerLifecycle", testContainerLifecycle},
		{"ContainerDuplicateName", testContainerDuplicateName},
		{"ContainerMissing", testContainerMissing},
		{"ContainerMissingImage", testContainerMissingImage},
		{"ContainerListFilter", testContainerListFilter},
		{"ContainerRename", testContainerRename},
		{"ContainerExitCode", testContainerExitCode},
		{"ContainerKill", testContainerKill},
		{"ContainerPause", testContainerPause},
		{"ContainerNetworks", testContainerNetworks},
		{"NetworkInUse", testNetworkInUse},
		{"VolumeInUse", testVolumeInUse},
		{"EventsStart", testEventsStart},
		{"EventsStop", testEventsStop},
		{"EventsEnd", testEventsEnd},
		{"EventsUntil", testEventsUntil},
		{"ContainerIdempotentStartStop", testContainerIdempotentStartStop},
		{"ContainerMissingNetwork", testContainerMissingNetwork},
		{"NetworkRemoveStopped", testNetworkRemoveStopped},
		{"VolumeRemoveMissingForce", testVolumeRemoveMissingForce},
		{"ContainerLogs", testContainerLogs},
		{"ContainerHealth", testContainerHealth},
		{"ContainerAttach", testContainerAttach},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newHarness(t, newEngine(t), image))
		})
	}
}

// harness holds what a subtest needs: the engine, and what every suite's
// subtest has (subtest).
type harness struct {
	subtest
	e engine.Engine
}

func newHarness(t *testing.T, e engine.Engine, image string) *harness {
	t.Helper()
	h := &harness{e: e}
	h.subtest = newSubtest(t, image, h.cleanup)
	return h
}

// subtest is what a subtest of any part of the suite has: a context
// bounded by timeout, the image, and the subtest's unique id used in
// names and labels.
type subtest struct {
	ctx   context.Context
	image string
	id    string
}

// newSubtest makes a subtest's ids and context, and has cleanup run when
// it ends.
func newSubtest(t *testing.T, image string, cleanup func(t *testing.T)) subtest {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	t.Cleanup(cancel)
	// t.Context is done before cleanups run, so cleanup has its own.
	t.Cleanup(func() { cleanup(t) })
	return subtest{ctx: ctx, image: image, id: hex.EncodeToString(b)}
}

// name returns a resource name unique to the subtest.
func (h subtest) name(what string) string {
	return "enginetest-" + h.id + "-" + what
}

// labels returns the subtest's label set plus extra key/value pairs.
func (h subtest) labels(kv ...string) map[string]string {
	m := map[string]string{TestLabel: h.id}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func (h subtest) filter() engine.Filter {
	return engine.Filter{Labels: map[string]string{TestLabel: h.id}}
}

// cleanup removes whatever the subtest left behind, containers first since
// they hold networks and volumes.
func (h *harness) cleanup(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	check := func(what string, err error) {
		if err != nil && !errors.Is(err, engine.ErrNotFound) {
			t.Errorf("cleanup: removing %s: %v", what, err)
		}
	}
	cs, err := h.e.ListContainers(ctx, h.filter())
	check("containers", err)
	for _, c := range cs {
		check(c.Name, h.e.RemoveContainer(ctx, c.ID, engine.RemoveOptions{Force: true, RemoveVolumes: true}))
	}
	ns, err := h.e.ListNetworks(ctx, h.filter())
	check("networks", err)
	for _, n := range ns {
		check(n.Name, h.e.RemoveNetwork(ctx, n.ID))
	}
	vs, err := h.e.ListVolumes(ctx, h.filter())
	check("volumes", err)
	for _, v := range vs {
		check(v.Name, h.e.RemoveVolume(ctx, v.Name, true))
	}
}

// spec returns a container spec for the suite's image running cmd, named
// and labelled for the subtest.
func (h *harness) spec(name string, cmd ...string) engine.ContainerSpec {
	return engine.ContainerSpec{Name: h.name(name), Image: h.image, Labels: h.labels(), Cmd: cmd}
}

func (h *harness) create(t *testing.T, spec engine.ContainerSpec) string {
	t.Helper()
	id, err := h.e.CreateContainer(h.ctx, spec)
	if err != nil {
		t.Fatalf("CreateContainer(%s): %v", spec.Name, err)
	}
	if id == "" {
		t.Fatalf("CreateContainer(%s) returned an empty id", spec.Name)
	}
	return id
}

func (h *harness) start(t *testing.T, id string) {
	t.Helper()
	if err := h.e.StartContainer(h.ctx, id); err != nil {
		t.Fatalf("StartContainer(%s): %v", id, err)
	}
}

// startReady starts a container running ["sleep", "ready"] for the first
// time and waits for its "ready": a stop signal that arrives before the program handles it ends
// the process with another code than 0.
func (h *harness) startReady(t *testing.T, id string) {
	t.Helper()
	h.start(t, id)
	eventually(t, h.ctx, func() (bool, string) {
		var out bytes.Buffer
		if err := h.e.ContainerLogs(h.ctx, id, engine.LogOptions{Tail: "all"}, &out, nil); err != nil {
			return false, err.Error()
		}
		return out.String() == "ready\n", fmt.Sprintf("output %q, want \"ready\\n\"", out.String())
	})
}

func (h *harness) inspect(t *testing.T, id string) engine.ContainerDetails {
	t.Helper()
	d, err := h.e.InspectContainer(h.ctx, id)
	if err != nil {
		t.Fatalf("InspectContainer(%s): %v", id, err)
	}
	return d
}

func (h *harness) createNetwork(t *testing.T, name string) string {
	t.Helper()
	id, err := h.e.CreateNetwork(h.ctx, engine.NetworkSpec{Name: h.name(name), Labels: h.labels()})
	if err != nil {
		t.Fatalf("CreateNetwork(%s): %v", h.name(name), err)
	}
	return id
}

// waitState waits until the container is in state, failing the test if it
// is not within the subtest's timeout.
func (h *harness) waitState(t *testing.T, id string, state engine.ContainerState) engine.ContainerDetails {
	t.Helper()
	var last engine.ContainerDetails
	eventually(t, h.ctx, func() (bool, string) {
		d, err := h.e.InspectContainer(h.ctx, id)
		if err != nil {
			return false, err.Error()
		}
		last = d
		return d.State == state, fmt.Sprintf("state %q, want %q", d.State, state)
	})
	return last
}

// eventually polls cond until it holds or ctx is done, then fails with
// cond's last explanation.
func eventually(t *testing.T, ctx context.Context, cond func() (bool, string)) {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, why := cond()
		if ok {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("gave up waiting: %s", why)
		case <-tick.C:
		}
	}
}

// wantErr fails the test unless err wraps want.
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: got error %v, want %v", what, err, want)
	}
}

func containerNames(cs []engine.Container) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	slices.Sort(out)
	return out
}

func testNetworkLifecycle(t *testing.T, h *harness) {
	name := h.name("net")
	id, err := h.e.CreateNetwork(h.ctx, engine.NetworkSpec{Name: name, Labels: h.labels("role", "a")})
	if err != nil {
		t.Fatalf("CreateNetwork: %v", err)
	}
	for _, ref := range []string{name, id} {
		n, err := h.e.InspectNetwork(h.ctx, ref)
		if err != nil {
			t.Fatalf("InspectNetwork(%s): %v", ref, err)
		}
		if n.ID != id || n.Name != name || n.Labels["role"] != "a" || n.Labels[TestLabel] != h.id {
			t.Errorf("InspectNetwork(%s) = %+v, want id %s, name %s and the labels", ref, n, id, name)
		}
	}

	filters := []struct {
		name   string
		labels map[string]string
		want   int
	}{
		{"exact", h.labels("role", "a"), 1},
		{"any value", h.labels("role", ""), 1},
		{"other value", h.labels("role", "b"), 0},
		{"missing label", h.labels("absent", ""), 0},
	}
	for _, f := range filters {
		ns, err := h.e.ListNetworks(h.ctx, engine.Filter{Labels: f.labels})
		if err != nil {
			t.Fatalf("ListNetworks(%s): %v", f.name, err)
		}
		if len(ns) != f.want || (f.want == 1 && ns[0].Name != name) {
			t.Errorf("ListNetworks(%s) = %+v, want %d network(s)", f.name, ns, f.want)
		}
	}

	_, err = h.e.CreateNetwork(h.ctx, engine.NetworkSpec{Name: name, Labels: h.labels()})
	wantErr(t, "CreateNetwork with a taken name", err, engine.ErrConflict)

	if err := h.e.RemoveNetwork(h.ctx, name); err != nil {
		t.Fatalf("RemoveNetwork: %v", err)
	}
	_, err = h.e.InspectNetwork(h.ctx, name)
	wantErr(t, "InspectNetwork after remove", err, engine.ErrNotFound)
	wantErr(t, "RemoveNetwork twice", h.e.RemoveNetwork(h.ctx, name), engine.ErrNotFound)
	if ns, err := h.e.ListNetworks(h.ctx, h.filter()); err != nil || len(ns) != 0 {
		t.Errorf("ListNetworks after remove = %+v, %v; want none", ns, err)
	}
}

func testVolumeLifecycle(t *testing.T, h *harness) {
	name := h.name("vol")
	v, err := h.e.CreateVolume(h.ctx, engine.VolumeSpec{Name: name, Labels: h.labels("role", "a")})
	if err != nil {
		t.Fatalf("CreateVolume: %v", err)
	}
	if v.Name != name || v.Labels["role"] != "a" {
		t.Errorf("CreateVolume = %+v, want name %s and the labels", v, name)
	}
	// The engine treats creating an existing volume as success.
	if again, err := h.e.CreateVolume(h.ctx, engine.VolumeSpec{Name: name, Labels: h.labels("role", "a")}); err != nil || again.Name != name {
		t.Errorf("CreateVolume again = %+v, %v; want the same volume", again, err)
	}
	got, err := h.e.InspectVolume(h.ctx, name)
	if err != nil {
		t.Fatalf("InspectVolume: %v", err)
	}
	if got.Name != name || got.Labels["role"] != "a" || got.Labels[TestLabel] != h.id {
		t.Errorf("InspectVolume = %+v, want name %s and the labels", got, name)
	}
	vs, err := h.e.ListVolumes(h.ctx, engine.Filter{Labels: h.labels("role", "")})
	if err != nil {
		t.Fatalf("ListVolumes: %v", err)
	}
	if len(vs) != 1 || vs[0].Name != name {
		t.Errorf("ListVolumes = %+v, want just %s", vs, name)
	}

	_, err = h.e.InspectVolume(h.ctx, h.name("missing"))
	wantErr(t, "InspectVolume of a missing volume", err, engine.ErrNotFound)

	if err := h.e.RemoveVolume(h.ctx, name, false); err != nil {
		t.Fatalf("RemoveVolume: %v", err)
	}
	_, err = h.e.InspectVolume(h.ctx, name)
	wantErr(t, "InspectVolume after remove", err, engine.ErrNotFound)
	wantErr(t, "RemoveVolume twice", h.e.RemoveVolume(h.ctx, name, false), engine.ErrNotFound)
}

func testImageInspect(t *testing.T, h *harness) {
	img, err := h.e.InspectImage(h.ctx, h.image)
	if err != nil {
		t.Fatalf("InspectImage(%s): %v", h.image, err)
	}
	if img.ID == "" {
		t.Errorf("InspectImage(%s) = %+v, want an id", h.image, img)
	}
	_, err = h.e.InspectImage(h.ctx, h.name("missing")+":v1")
	wantErr(t, "InspectImage of a missing image", err, engine.ErrNotFound)
}

func testContainerLifecycle(t *testing.T, h *harness) {
	net := h.name("net")
	h.createNetwork(t, "net")
	spec := h.spec("c", "sleep", "ready")
	spec.Labels["role"] = "web"
	spec.Networks = []engine.EndpointSpec{{Network: net, Aliases: []string{"web"}}}
	spec.Mounts = []engine.Mount{{Type: engine.MountVolume, Target: "/data", VolumeLabels: h.labels()}}
	id := h.create(t, spec)

	cs, err := h.e.ListContainers(h.ctx, h.filter())
	if err != nil {
		t.Fatalf("ListContainers: %v", err)
	}
	if len(cs) != 1 {
		t.Fatalf("ListContainers = %+v, want one container", cs)
	}
	if c := cs[0]; c.ID != id || c.Name != spec.Name || c.State != engine.StateCreated || c.Labels["role"] != "web" || c.Labels[TestLabel] != h.id {
		t.Errorf("ListContainers = %+v, want id %s, name %s, state created and the labels", c, id, spec.Name)
	}

	d := h.inspect(t, spec.Name)
	if d.ID != id || d.State != engine.StateCreated || !slices.Contains(d.Networks, net) {
		t.Errorf("InspectContainer(name) = %+v, want id %s, state created, on network %s", d.Container, id, net)
	}
	var anon string
	for _, m := range d.Mounts {
		if m.Destination == "/data" && m.Type == string(engine.MountVolume) {
			anon = m.Name
		}
	}
	if anon == "" {
		t.Errorf("InspectContainer mounts = %+v, want an anonymous volume on /data", d.Mounts)
	}

	h.startReady(t, id)
	if d := h.inspect(t, id); d.State != engine.StateRunning || d.StartedAt.IsZero() {
		t.Errorf("after start: state %q, started at %v; want running since a non-zero time", d.State, d.StartedAt)
	}

	err = h.e.RemoveContainer(h.ctx, id, engine.RemoveOptions{})
	wantErr(t, "RemoveContainer of a running container", err, engine.ErrConflict)
	if d := h.inspect(t, id); d.State != engine.StateRunning {
		t.Errorf("after a refused remove: state %q, want running", d.State)
	}

	stop := 10 * time.Second
	if err := h.e.StopContainer(h.ctx, id, &stop); err != nil {
		t.Fatalf("StopContainer: %v", err)
	}
	if d := h.inspect(t, id); d.State != engine.StateExited || d.ExitCode != 0 {
		t.Errorf("after stop: state %q, exit code %d; want exited with 0", d.State, d.ExitCode)
	}
	// Starting an exited container runs it again.
	h.start(t, id)
	if d := h.inspect(t, id); d.State != engine.StateRunning {
		t.Errorf("after restart: state %q, want running", d.State)
	}

	if err := h.e.RemoveContainer(h.ctx, id, engine.RemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
		t.Fatalf("RemoveContainer with force: %v", err)
	}
	_, err = h.e.InspectContainer(h.ctx, id)
	wantErr(t, "InspectContainer after remove", err, engine.ErrNotFound)
	if cs, err := h.e.ListContainers(h.ctx, h.filter()); err != nil || len(cs) != 0 {
		t.Errorf("ListContainers after remove = %+v, %v; want none", cs, err)
	}
	if anon != "" {
		_, err = h.e.InspectVolume(h.ctx, anon)
		wantErr(t, "InspectVolume of the removed container's anonymous volume", err, engine.ErrNotFound)
	}
	if err := h.e.RemoveNetwork(h.ctx, net); err != nil {
		t.Errorf("RemoveNetwork after its container is gone: %v", err)
	}
}

func testContainerDuplicateName(t *testing.T, h *harness) {
	spec := h.spec("c", "sleep")
	id := h.create(t, spec)
	_, err := h.e.CreateContainer(h.ctx, spec)
	wantErr(t, "CreateContainer with a taken name", err, engine.ErrConflict)
	cs, err := h.e.ListContainers(h.ctx, h.filter())
	if err != nil {
		t.Fatalf("ListContainers: %v", err)
	}
	if len(cs) != 1 || cs[0].ID != id {
		t.Errorf("ListContainers = %+v, want only the first container", cs)
	}
}

func testContainerMissing(t *testing.T, h *harness) {
	missing := h.name("missing")
	calls := []struct {
		name string
		call func() error
	}{
		{"InspectContainer", func() error { _, err := h.e.InspectContainer(h.ctx, missing); return err }},
		{"StartContainer", func() error { return h.e.StartContainer(h.ctx, missing) }},
		{"StopContainer", func() error { return h.e.StopContainer(h.ctx, missing, nil) }},
		{"RemoveContainer", func() error { return h.e.RemoveContainer(h.ctx, missing, engine.RemoveOptions{}) }},
		{"RemoveContainer with force", func() error {
			return h.e.RemoveContainer(h.ctx, missing, engine.RemoveOptions{Force: true})
		}},
		{"RenameContainer", func() error { return h.e.RenameContainer(h.ctx, missing, h.name("other")) }},
	}
	for _, c := range calls {
		wantErr(t, c.name+" of a missing container", c.call(), engine.ErrNotFound)
	}
}

func testContainerMissingImage(t *testing.T, h *harness) {
	spec := h.spec("c")
	spec.Image = h.name("missing") + ":v1"
	_, err := h.e.CreateContainer(h.ctx, spec)
	wantErr(t, "CreateContainer with a missing image", err, engine.ErrNotFound)
	if cs, err := h.e.ListContainers(h.ctx, h.filter()); err != nil || len(cs) != 0 {
		t.Errorf("ListContainers = %+v, %v; want none", cs, err)
	}
}

func testContainerListFilter(t *testing.T, h *harness) {
	for _, role := range []string{"a", "b"} {
		spec := h.spec(role, "sleep")
		spec.Labels["role"] = role
		h.create(t, spec)
	}
	tests := []struct {
		name   string
		filter engine.Filter
		want   []string
	}{
		{"test label", h.filter(), []string{h.name("a"), h.name("b")}},
		{"exact value", engine.Filter{Labels: h.labels("role", "a")}, []string{h.name("a")}},
		{"any value", engine.Filter{Labels: h.labels("role", "")}, []string{h.name("a"), h.name("b")}},
		{"no match", engine.Filter{Labels: h.labels("role", "c")}, nil},
		{"missing label", engine.Filter{Labels: h.labels("absent", "")}, nil},
	}
	for _, tc := range tests {
		cs, err := h.e.ListContainers(h.ctx, tc.filter)
		if err != nil {
			t.Fatalf("ListContainers(%s): %v", tc.name, err)
		}
		if got := containerNames(cs); !slices.Equal(got, tc.want) {
			t.Errorf("ListContainers(%s) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func testContainerRename(t *testing.T, h *harness) {
	id := h.create(t, h.spec("old", "sleep"))
	if err := h.e.RenameContainer(h.ctx, id, h.name("new")); err != nil {
		t.Fatalf("RenameContainer: %v", err)
	}
	if d := h.inspect(t, h.name("new")); d.ID != id || d.Name != h.name("new") {
		t.Errorf("InspectContainer(new name) = %+v, want id %s under the new name", d.Container, id)
	}
	_, err := h.e.InspectContainer(h.ctx, h.name("old"))
	wantErr(t, "InspectContainer(old name)", err, engine.ErrNotFound)

	other := h.create(t, h.spec("other", "sleep"))
	err = h.e.RenameContainer(h.ctx, other, h.name("new"))
	wantErr(t, "RenameContainer to a taken name", err, engine.ErrConflict)
	if d := h.inspect(t, other); d.Name != h.name("other") {
		t.Errorf("after a refused rename: name %q, want %q", d.Name, h.name("other"))
	}
}

func testContainerExitCode(t *testing.T, h *harness) {
	events, _ := h.e.Events(h.ctx, engine.EventFilter{Type: "container", Labels: h.labels(), Since: time.Now().Add(-time.Second)})
	id := h.create(t, h.spec("c", "exit", "3"))
	h.start(t, id)
	d := h.waitState(t, id, engine.StateExited)
	if d.ExitCode != 3 {
		t.Errorf("exit code %d, want 3", d.ExitCode)
	}
	if d.FinishedAt.IsZero() {
		t.Errorf("FinishedAt is zero after the container exited")
	}
	ev := waitEvent(t, h.ctx, events, func(ev engine.Event) bool { return ev.ID == id && ev.Action == "die" })
	if ev.Attributes["exitCode"] != "3" {
		t.Errorf("die event attributes %v, want exitCode 3", ev.Attributes)
	}
}

func testContainerKill(t *testing.T, h *harness) {
	id := h.create(t, h.spec("c", "sleep"))
	err := h.e.KillContainer(h.ctx, id, "SIGKILL")
	wantErr(t, "KillContainer of a container never started", err, engine.ErrConflict)
	h.start(t, id)
	if err := h.e.KillContainer(h.ctx, id, "SIGKILL"); err != nil {
		t.Fatalf("KillContainer: %v", err)
	}
	if d := h.waitState(t, id, engine.StateExited); d.ExitCode != 137 {
		t.Errorf("exit code after SIGKILL %d, want 137", d.ExitCode)
	}
}

func testContainerPause(t *testing.T, h *harness) {
	id := h.create(t, h.spec("c", "sleep"))
	wantErr(t, "PauseContainer of a created container", h.e.PauseContainer(h.ctx, id), engine.ErrConflict)
	h.start(t, id)
	if err := h.e.PauseContainer(h.ctx, id); err != nil {
		t.Fatalf("PauseContainer: %v", err)
	}
	if d := h.inspect(t, id); d.State != engine.StatePaused {
		t.Errorf("after pause: state %q, want paused", d.State)
	}
	wantErr(t, "RemoveContainer of a paused container", h.e.RemoveContainer(h.ctx, id, engine.RemoveOptions{}), engine.ErrConflict)
	if err := h.e.UnpauseContainer(h.ctx, id); err != nil {
		t.Fatalf("UnpauseContainer: %v", err)
	}
	if d := h.inspect(t, id); d.State != engine.StateRunning {
		t.Errorf("after unpause: state %q, want running", d.State)
	}
}

// testContainerNetworks creates a container on several networks at once.
// Engines before API 1.44 take one network at create and the Docker
// adapter connects the others itself; either way the container is on all
// of them before it starts and has an address on each once it runs.
func testContainerNetworks(t *testing.T, h *harness) {
	var nets []string
	spec := h.spec("c", "sleep")
	for i, what := range []string{"first", "second", "third"} {
		h.createNetwork(t, what)
		nets = append(nets, h.name(what))
		spec.Networks = append(spec.Networks, engine.EndpointSpec{Network: h.name(what), Aliases: []string{fmt.Sprintf("c%d", i)}})
	}
	id := h.create(t, spec)
	want := slices.Sorted(slices.Values(nets))
	if d := h.inspect(t, id); !slices.Equal(d.Networks, want) {
		t.Errorf("created container on networks %v, want %v", d.Networks, want)
	}
	h.start(t, id)
	d := h.inspect(t, id)
	for _, n := range nets {
		if d.NetworkIPs[n] == "" {
			t.Errorf("running container has no address on %s: %v", n, d.NetworkIPs)
		}
	}
}

func testNetworkInUse(t *testing.T, h *harness) {
	net := h.name("net")
	h.createNetwork(t, "net")
	spec := h.spec("c", "sleep")
	spec.Networks = []engine.EndpointSpec{{Network: net}}
	id := h.create(t, spec)
	h.start(t, id)
	wantErr(t, "RemoveNetwork with a running container", h.e.RemoveNetwork(h.ctx, net), engine.ErrConflict)
	if _, err := h.e.InspectNetwork(h.ctx, net); err != nil {
		t.Errorf("InspectNetwork after a refused remove: %v", err)
	}
}

func testVolumeInUse(t *testing.T, h *harness) {
	vol := h.name("vol")
	if _, err := h.e.CreateVolume(h.ctx, engine.VolumeSpec{Name: vol, Labels: h.labels()}); err != nil {
		t.Fatalf("CreateVolume: %v", err)
	}
	spec := h.spec("c", "sleep")
	spec.Mounts = []engine.Mount{{Type: engine.MountVolume, Source: vol, Target: "/data"}}
	id := h.create(t, spec)
	// A volume is in use by any container mounting it, running or not.
	wantErr(t, "RemoveVolume of a mounted volume", h.e.RemoveVolume(h.ctx, vol, false), engine.ErrConflict)
	// Removing the container with its anonymous volumes keeps named ones.
	if err := h.e.RemoveContainer(h.ctx, id, engine.RemoveOptions{RemoveVolumes: true}); err != nil {
		t.Fatalf("RemoveContainer: %v", err)
	}
	if _, err := h.e.InspectVolume(h.ctx, vol); err != nil {
		t.Errorf("InspectVolume of a named volume after its container is removed: %v", err)
	}
	if err := h.e.RemoveVolume(h.ctx, vol, false); err != nil {
		t.Errorf("RemoveVolume once unused: %v", err)
	}
}

func testEventsStart(t *testing.T, h *harness) {
	// Since covers the time the subscription takes to reach the engine.
	events, errs := h.e.Events(h.ctx, engine.EventFilter{Type: "container", Labels: h.labels(), Since: time.Now().Add(-time.Second)})
	spec := h.spec("c", "sleep")
	id := h.create(t, spec)
	h.start(t, id)

	var seen []string
	ev := waitEvent(t, h.ctx, events, func(ev engine.Event) bool {
		if ev.ID == id {
			seen = append(seen, ev.Action)
		}
		return ev.ID == id && ev.Action == "start"
	})
	if ev.Type != "container" || ev.Attributes["name"] != spec.Name || ev.Attributes[TestLabel] != h.id {
		t.Errorf("start event %+v, want type container, name %s and the labels", ev, spec.Name)
	}
	if !slices.Contains(seen, "create") {
		t.Errorf("events before start %v, want create first", seen)
	}
	select {
	case err := <-errs:
		t.Errorf("event stream failed: %v", err)
	default:
	}
}

// waitEvent reads events until one satisfies match, failing the test if
// the stream ends or ctx is done first.
func waitEvent(t *testing.T, ctx context.Context, events <-chan engine.Event, match func(engine.Event) bool) engine.Event {
	t.Helper()
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("event stream ended before the expected event")
			}
			if match(ev) {
				return ev
			}
		case <-ctx.Done():
			t.Fatalf("no expected event: %v", ctx.Err())
		}
	}
}

func testEventsStop(t *testing.T, h *harness) {
	events, _ := h.e.Events(h.ctx, engine.EventFilter{Type: "container", Labels: h.labels(), Since: time.Now().Add(-time.Second)})
	id := h.create(t, h.spec("c", "sleep", "ready"))
	h.startReady(t, id)
	if err := h.e.RenameContainer(h.ctx, id, h.name("renamed")); err != nil {
		t.Fatalf("RenameContainer: %v", err)
	}
	if err := h.e.StopContainer(h.ctx, id, nil); err != nil {
		t.Fatalf("StopContainer: %v", err)
	}
	if err := h.e.RemoveContainer(h.ctx, id, engine.RemoveOptions{}); err != nil {
		t.Fatalf("RemoveContainer: %v", err)
	}
	var actions []string
	evs := map[string]engine.Event{}
	waitEvent(t, h.ctx, events, func(ev engine.Event) bool {
		if ev.ID == id {
			actions = append(actions, ev.Action)
			evs[ev.Action] = ev
		}
		return ev.ID == id && ev.Action == "destroy"
	})
	t.Logf("events: %v", actions)
	// The order is the behaviour: a stop kills, the process dies, the stop completes.
	want := []string{"create", "start", "rename", "kill", "die", "stop", "destroy"}
	if !slices.Equal(actions, want) {
		t.Errorf("events %v, want %v", actions, want)
	}
	if r := evs["rename"]; r.Attributes["name"] != h.name("renamed") || r.Attributes["oldName"] != "/"+h.name("c") {
		t.Errorf("rename event attributes %v, want name %s and oldName /%s", r.Attributes, h.name("renamed"), h.name("c"))
	}
	if d := evs["die"]; d.Attributes["exitCode"] != "0" || d.Attributes["name"] != h.name("renamed") {
		t.Errorf("die event attributes %v, want exitCode 0 and the new name", d.Attributes)
	}
}

func testEventsEnd(t *testing.T, h *harness) {
	ctx, cancel := context.WithCancel(h.ctx)
	events, errs := h.e.Events(ctx, engine.EventFilter{Labels: h.labels()})
	cancel()
	for range events {
	}
	for err := range errs {
		t.Errorf("event stream ended by its context reported %v, want no error", err)
	}
}

// testEventsUntil replays a finished stretch of history: with Until the
// stream ends by itself once it has delivered the events up to Until.
func testEventsUntil(t *testing.T, h *harness) {
	before := time.Now()
	id := h.create(t, h.spec("c", "sleep"))
	h.start(t, id)
	if err := h.e.StopContainer(h.ctx, id, nil); err != nil {
		t.Fatalf("StopContainer: %v", err)
	}
	after := time.Now()

	events, errs := h.e.Events(h.ctx, engine.EventFilter{Type: "container", Labels: h.labels(), Since: before, Until: after})
	ended := time.After(10 * time.Second)
	var actions []string
	for done := false; !done; {
		select {
		case ev, ok := <-events:
			if !ok {
				done = true
				break
			}
			if ev.Time.Before(before) || ev.Time.After(after) {
				t.Errorf("event %s %s at %v, outside [%v, %v]", ev.ID, ev.Action, ev.Time, before, after)
			}
			if ev.ID == id {
				actions = append(actions, ev.Action)
			}
		case <-ended:
			t.Fatalf("the stream did not end by itself after Until; events so far %v", actions)
		}
	}
	for err := range errs {
		t.Errorf("the stream ended at Until with error %v, want none", err)
	}
	t.Logf("events: %v", actions)
	// Order matters only among these three; the stop's kill and stop
	// events come in between and after.
	var got []string
	for _, a := range actions {
		if a == "create" || a == "start" || a == "die" {
			got = append(got, a)
		}
	}
	if want := []string{"create", "start", "die"}; !slices.Equal(got, want) {
		t.Errorf("events %v, want create, start and die in that order", actions)
	}
}

func testContainerIdempotentStartStop(t *testing.T, h *harness) {
	id := h.create(t, h.spec("c", "sleep"))
	// Stopping a container that does not run is no error.
	if err := h.e.StopContainer(h.ctx, id, nil); err != nil {
		t.Errorf("StopContainer of a created container: %v", err)
	}
	if d := h.inspect(t, id); d.State != engine.StateCreated {
		t.Errorf("after stopping a created container: state %q, want created", d.State)
	}
	h.start(t, id)
	// Starting a running container is no error either.
	if err := h.e.StartContainer(h.ctx, id); err != nil {
		t.Errorf("StartContainer of a running container: %v", err)
	}
	if d := h.inspect(t, id); d.State != engine.StateRunning {
		t.Errorf("after starting twice: state %q, want running", d.State)
	}
}

func testContainerMissingNetwork(t *testing.T, h *harness) {
	h.createNetwork(t, "net")
	missing := h.name("missing")
	tests := []struct {
		name string
		nets []string
	}{
		{"first", []string{missing}},
		// Before API 1.44 the Docker adapter connects the second network
		// after the create; the engine records a missing one there and
		// refuses the start, like a missing first network.
		{"second", []string{h.name("net"), missing}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := h.spec("c-" + tc.name)
			for _, n := range tc.nets {
				spec.Networks = append(spec.Networks, engine.EndpointSpec{Network: n})
			}
			// Engines differ in when they look a network up: some refuse
			// the create, Docker 20.10 creates the container and refuses
			// to start it.
			id, err := h.e.CreateContainer(h.ctx, spec)
			if err != nil {
				wantErr(t, "CreateContainer on a missing network", err, engine.ErrNotFound)
				_, err := h.e.InspectContainer(h.ctx, spec.Name)
				wantErr(t, "InspectContainer after a failed create", err, engine.ErrNotFound)
				return
			}
			wantErr(t, "StartContainer on a missing network", h.e.StartContainer(h.ctx, id), engine.ErrNotFound)
			if d := h.inspect(t, id); d.State == engine.StateRunning {
				t.Errorf("state %q after a failed start, want not running", d.State)
			}
		})
	}
}

func testNetworkRemoveStopped(t *testing.T, h *harness) {
	net := h.name("net")
	h.createNetwork(t, "net")
	spec := h.spec("c", "sleep")
	spec.Networks = []engine.EndpointSpec{{Network: net}}
	h.create(t, spec)
	// Only running containers hold endpoints; a created one does not keep
	// its network from being removed.
	if err := h.e.RemoveNetwork(h.ctx, net); err != nil {
		t.Errorf("RemoveNetwork with only a created container: %v", err)
	}
}

func testVolumeRemoveMissingForce(t *testing.T, h *harness) {
	if err := h.e.RemoveVolume(h.ctx, h.name("missing"), true); err != nil {
		t.Errorf("RemoveVolume of a missing volume with force: %v", err)
	}
}

func testContainerLogs(t *testing.T, h *harness) {
	id := h.create(t, h.spec("c", "echo", "hello", "world"))
	h.start(t, id)
	if d := h.waitState(t, id, engine.StateExited); d.ExitCode != 0 {
		t.Errorf("exit code %d, want 0", d.ExitCode)
	}
	var stdout, stderr bytes.Buffer
	if err := h.e.ContainerLogs(h.ctx, id, engine.LogOptions{Tail: "all"}, &stdout, &stderr); err != nil {
		t.Fatalf("ContainerLogs: %v", err)
	}
	if stdout.String() != "hello world\n" || stderr.String() != "" {
		t.Errorf("logs %q / %q, want %q on stdout alone", stdout.String(), stderr.String(), "hello world\n")
	}
	// A followed log of an exited container ends at once.
	stdout.Reset()
	if err := h.e.ContainerLogs(h.ctx, id, engine.LogOptions{Follow: true}, &stdout, nil); err != nil || stdout.String() != "hello world\n" {
		t.Errorf("followed logs of an exited container = %q, %v", stdout.String(), err)
	}
}

func testContainerAttach(t *testing.T, h *harness) {
	id := h.create(t, h.spec("c", "echo", "attached"))
	var stdout, stderr bytes.Buffer
	wait, err := h.e.Attach(h.ctx, id, engine.Streams{Stdout: &stdout, Stderr: &stderr}, false)
	if err != nil {
		t.Fatalf("Attach: %v", err)
	}
	h.start(t, id)
	if err := wait(); err != nil {
		t.Fatalf("waiting for the attached streams: %v", err)
	}
	if stdout.String() != "attached\n" || stderr.String() != "" {
		t.Errorf("attached output %q / %q, want %q on stdout alone", stdout.String(), stderr.String(), "attached\n")
	}
	if d := h.waitState(t, id, engine.StateExited); d.ExitCode != 0 {
		t.Errorf("exit code %d, want 0", d.ExitCode)
	}
}

func testContainerHealth(t *testing.T, h *harness) {
	tests := []struct {
		name string
		code string
		want engine.Health
	}{
		{"healthy", "0", engine.HealthHealthy},
		{"unhealthy", "1", engine.HealthUnhealthy},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			events, _ := h.e.Events(h.ctx, engine.EventFilter{Type: "container", Labels: h.labels(), Since: time.Now().Add(-time.Second)})
			spec := h.spec(tc.name, "sleep")
			spec.Healthcheck = &engine.Healthcheck{
				Test:     []string{"CMD", "/testimage", "exit", tc.code},
				Interval: 100 * time.Millisecond,
				Timeout:  5 * time.Second,
				Retries:  1,
			}
			id := h.create(t, spec)
			h.start(t, id)
			if d := h.inspect(t, id); d.Health != engine.HealthStarting && d.Health != tc.want {
				t.Errorf("health right after start %q, want starting (or already %s)", d.Health, tc.want)
			}
			eventually(t, h.ctx, func() (bool, string) {
				d, err := h.e.InspectContainer(h.ctx, id)
				if err != nil {
					return false, err.Error()
				}
				return d.Health == tc.want, fmt.Sprintf("health %q, want %q", d.Health, tc.want)
			})
			// API 1.41 puts the status in the action; the status is the behaviour.
			waitEvent(t, h.ctx, events, func(ev engine.Event) bool {
				return ev.ID == id && ev.Action == "health_status: "+string(tc.want)
			})
		})
	}
}
