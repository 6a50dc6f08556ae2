package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/composer-orchestrator/composer/engine"
)

// These tests run against the Docker engine of this machine and fail when it
// is unreachable. No registry is reachable, so the one image they use is
// built here: FROM scratch plus a small static program.

// testProgram interprets its arguments as a script of steps:
// "out TEXT", "err TEXT", "sleep DURATION", "cat" (stdin to stdout),
// "exit CODE". It exits 0 on SIGTERM, since as PID 1 it would otherwise
// ignore it.
const testProgram = `package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

func main() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	go func() { <-sig; os.Exit(0) }()
	args := os.Args[1:]
	for len(args) > 0 {
		switch args[0] {
		case "out":
			fmt.Println(args[1])
			args = args[2:]
		case "err":
			fmt.Fprintln(os.Stderr, args[1])
			args = args[2:]
		case "sleep":
			d, _ := time.ParseDuration(args[1])
			time.Sleep(d)
			args = args[2:]
		case "cat":
			io.Copy(os.Stdout, os.Stdin)
			args = args[1:]
		case "exit":
			n, _ := strconv.Atoi(args[1])
			os.Exit(n)
		default:
			fmt.Fprintln(os.Stderr, "unknown step", args[0])
			os.Exit(100)
		}
	}
}
`

var (
	imageOnce sync.Once
	imageRef  string
	imageErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if imageRef != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if e, err := New(ctx, ""); err == nil {
			_ = e.RemoveImage(ctx, imageRef, true)
			_ = e.Close()
		}
		cancel()
	}
	os.Exit(code)
}

func newTestEngine(t *testing.T) *Engine {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e, err := New(ctx, "")
	if err != nil {
		t.Fatalf("the Docker engine is needed for these tests: %v", err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func uniqueName(t *testing.T) string {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "composer-dockertest-" + hex.EncodeToString(b)
}

// testImage builds the test image once for the whole package.
func testImage(t *testing.T, e *Engine) string {
	t.Helper()
	imageOnce.Do(func() {
		imageRef = uniqueName(t) + ":latest"
		imageErr = buildTestImage(e, imageRef)
		if imageErr != nil {
			imageRef = ""
		}
	})
	if imageErr != nil {
		t.Fatalf("building the test image: %v", imageErr)
	}
	return imageRef
}

func buildTestImage(e *Engine, ref string) error {
	dir, err := os.MkdirTemp("", "composer-dockertest")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(testProgram), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module app\n\ngo 1.21\n"), 0o644); err != nil {
		return err
	}
	cmd := exec.Command("go", "build", "-o", "app", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	bin, err := os.ReadFile(filepath.Join(dir, "app"))
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	files := []struct {
		name string
		mode int64
		data []byte
	}{
		{"Dockerfile", 0o644, []byte("FROM scratch\nCOPY app /app\nENTRYPOINT [\"/app\"]\n")},
		{"app", 0o755, bin},
	}
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data))}); err != nil {
			return err
		}
		if _, err := tw.Write(f.data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var streamed strings.Builder
	id, err := e.BuildImage(ctx, &buf, engine.BuildSpec{Tags: []string{ref}, Labels: map[string]string{"composer.test": "docker"}}, func(l engine.ProgressLine) {
		streamed.WriteString(l.Stream)
	})
	if err != nil {
		return err
	}
	if !strings.HasPrefix(id, "sha256:") {
		return fmt.Errorf("image id %q, build output:\n%s", id, streamed.String())
	}
	img, err := e.InspectImage(ctx, ref)
	if err != nil {
		return err
	}
	if img.ID != id || img.Labels["composer.test"] != "docker" {
		return fmt.Errorf("built %s, inspect says %+v", id, img)
	}
	return nil
}

func TestNewReportsUnreachableEngine(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
	_, err := New(testContext(t), "")
	if err == nil {
		t.Fatal("want an error")
	}
	want := "cannot reach the Docker engine at unix:///nonexistent/docker.sock: is the daemon running? (set DOCKER_HOST to use another engine)"
	if err.Error() != want {
		t.Errorf("err = %q\nwant  %q", err, want)
	}
}

func TestInfo(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	info, err := e.Info(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	if info.APIVersion == "" || info.APIVersion != e.APIVersion() || info.ServerVersion == "" || info.OS == "" || info.Host == "" {
		t.Errorf("info = %+v", info)
	}
}

func TestNetworkLifecycle(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	ctx := testContext(t)
	name := uniqueName(t)
	labels := map[string]string{"composer.test": name, "composer.kind": "network"}
	// The subnet lies outside the engine's default pools (172.17-31/16,
	// 192.168/16): networks other tests create at the same time take their
	// subnets from those pools and could overlap one picked there.
	id, err := e.CreateNetwork(ctx, engine.NetworkSpec{Name: name, Labels: labels,
		IPAM: engine.IPAM{Configs: []engine.IPAMConfig{{Subnet: "10.213.250.0/24"}}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.RemoveNetwork(context.Background(), id) })

	if _, err := e.CreateNetwork(ctx, engine.NetworkSpec{Name: name}); !errors.Is(err, engine.ErrConflict) {
		t.Errorf("second create: err = %v, want ErrConflict", err)
	}

	for _, filter := range []map[string]string{{"composer.test": name}, {"composer.test": ""}, labels} {
		list, err := e.ListNetworks(ctx, engine.Filter{Labels: filter})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(list, func(n engine.Network) bool {
			return n.ID == id && n.Name == name && n.Labels["composer.kind"] == "network"
		}) {
			t.Errorf("list with %v = %+v, want %s in it", filter, list, name)
		}
		if filter["composer.test"] != "" && len(list) != 1 {
			t.Errorf("list with %v = %+v, want only %s", filter, list, name)
		}
	}
	if list, _ := e.ListNetworks(ctx, engine.Filter{Labels: map[string]string{"composer.test": "other"}}); len(list) != 0 {
		t.Errorf("list by another value = %+v", list)
	}

	for _, ref := range []string{name, id} {
		n, err := e.InspectNetwork(ctx, ref)
		if err != nil {
			t.Fatalf("inspect %s: %v", ref, err)
		}
		if n.ID != id || n.Name != name || n.Driver != "bridge" || n.Labels["composer.test"] != name || n.Created.IsZero() {
			t.Errorf("inspect %s = %+v", ref, n)
		}
	}
	// The engine resolves id prefixes; an exact lookup must not.
	if _, err := e.InspectNetwork(ctx, id[:10]); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("inspect by id prefix: err = %v, want ErrNotFound", err)
	}

	if err := e.RemoveNetwork(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := e.InspectNetwork(ctx, name); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("inspect removed: err = %v, want ErrNotFound", err)
	}
	if err := e.RemoveNetwork(ctx, id); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("remove removed: err = %v, want ErrNotFound", err)
	}
}

func TestVolumeLifecycle(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	ctx := testContext(t)
	name := uniqueName(t)
	v, err := e.CreateVolume(ctx, engine.VolumeSpec{Name: name, Labels: map[string]string{"composer.test": name}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.RemoveVolume(context.Background(), name, true) })
	if v.Name != name || v.Driver != "local" || v.Labels["composer.test"] != name || v.Mountpoint == "" {
		t.Errorf("created %+v", v)
	}

	list, err := e.ListVolumes(ctx, engine.Filter{Labels: map[string]string{"composer.test": name}})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Name != name {
		t.Errorf("list = %+v, want only %s", list, name)
	}
	got, err := e.InspectVolume(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != name || got.Labels["composer.test"] != name || got.CreatedAt.IsZero() {
		t.Errorf("inspect = %+v", got)
	}

	if err := e.RemoveVolume(ctx, name, false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.InspectVolume(ctx, name); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("inspect removed: err = %v, want ErrNotFound", err)
	}
	if err := e.RemoveVolume(ctx, name, false); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("remove removed: err = %v, want ErrNotFound", err)
	}
}

// createContainer creates a container from the test image and removes it at
// the end of the test.
func createContainer(t *testing.T, e *Engine, spec engine.ContainerSpec) string {
	t.Helper()
	if spec.Name == "" {
		spec.Name = uniqueName(t)
	}
	spec.Image = testImage(t, e)
	id, err := e.CreateContainer(testContext(t), spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = e.RemoveContainer(context.Background(), id, engine.RemoveOptions{Force: true, RemoveVolumes: true})
	})
	return id
}

// waitEvent waits for an event with the given action from the subscription.
func waitEvent(t *testing.T, events <-chan engine.Event, errs <-chan error, id, action string) engine.Event {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.ID == id && ev.Action == action {
				return ev
			}
		case err := <-errs:
			t.Fatalf("events ended waiting for %s: %v", action, err)
		case <-timeout:
			t.Fatalf("no %q event for %s", action, id)
		}
	}
}

func TestContainerLifecycle(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	ctx := testContext(t)
	name := uniqueName(t)
	labels := map[string]string{"composer.test": name}

	// Three networks: on API 1.41 only the first can be given at create.
	var nets []engine.EndpointSpec
	for i := range 3 {
		netName := fmt.Sprintf("%s_n%d", name, i)
		id, err := e.CreateNetwork(ctx, engine.NetworkSpec{Name: netName, Labels: labels})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = e.RemoveNetwork(context.Background(), id) })
		nets = append(nets, engine.EndpointSpec{Network: netName, Aliases: []string{fmt.Sprintf("alias%d", i)}})
	}
	volName := uniqueName(t)
	t.Cleanup(func() { _ = e.RemoveVolume(context.Background(), volName, true) })

	events, errs := e.Events(ctx, engine.EventFilter{Type: "container", Labels: labels})
	id := createContainer(t, e, engine.ContainerSpec{
		Name:     name,
		Labels:   labels,
		Cmd:      []string{"out", "hello", "err", "oops", "sleep", "1h"},
		Env:      []string{"A=1"},
		Networks: nets,
		Mounts: []engine.Mount{
			{Type: engine.MountVolume, Source: volName, Target: "/data", VolumeLabels: labels},
			{Type: engine.MountVolume, Target: "/anon"},
			{Type: engine.MountTmpfs, Target: "/tmp"},
		},
		Ports: []engine.PortBinding{{ContainerPort: 8080, HostIP: "127.0.0.1"}},
	})
	if ev := waitEvent(t, events, errs, id, "create"); ev.Attributes["name"] != name || ev.Attributes["composer.test"] != name || ev.Time.IsZero() {
		t.Errorf("create event = %+v", ev)
	}

	if _, err := e.CreateContainer(ctx, engine.ContainerSpec{Name: name, Image: testImage(t, e)}); !errors.Is(err, engine.ErrConflict) {
		t.Errorf("create with a taken name: err = %v, want ErrConflict", err)
	}

	d, err := e.InspectContainer(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if d.State != engine.StateCreated || d.Name != name || !slices.Contains(d.Env, "A=1") {
		t.Errorf("created container = %+v", d)
	}
	wantNets := []string{nets[0].Network, nets[1].Network, nets[2].Network}
	if !slices.Equal(d.Networks, wantNets) {
		t.Errorf("networks = %v, want %v", d.Networks, wantNets)
	}

	if err := e.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, events, errs, id, "start")
	d, err = e.InspectContainer(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if d.State != engine.StateRunning || d.Pid == 0 || d.StartedAt.IsZero() || len(d.NetworkIPs) != 3 {
		t.Errorf("running container = %+v", d)
	}
	for n, ip := range d.NetworkIPs {
		if ip == "" {
			t.Errorf("no ip on %s", n)
		}
	}
	var mountTypes []string
	for _, m := range d.Mounts {
		mountTypes = append(mountTypes, m.Type+":"+m.Destination)
		if m.Destination == "/data" && m.Name != volName {
			t.Errorf("/data mount = %+v, want volume %s", m, volName)
		}
	}
	slices.Sort(mountTypes)
	if want := []string{"tmpfs:/tmp", "volume:/anon", "volume:/data"}; !slices.Equal(mountTypes, want) {
		t.Errorf("mounts = %v, want %v", mountTypes, want)
	}
	if v, err := e.InspectVolume(ctx, volName); err != nil || v.Labels["composer.test"] != name {
		t.Errorf("volume created by the mount = %+v, %v", v, err)
	}
	if len(d.Ports) != 1 || d.Ports[0].PrivatePort != 8080 || d.Ports[0].PublicPort == 0 || d.Ports[0].IP != "127.0.0.1" {
		t.Errorf("ports = %+v", d.Ports)
	}

	list, err := e.ListContainers(ctx, engine.Filter{Labels: labels})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != id || list[0].Name != name || list[0].State != engine.StateRunning || len(list[0].Networks) != 3 || list[0].Image != testImage(t, e) {
		t.Errorf("list = %+v", list)
	}

	if err := e.RemoveContainer(ctx, id, engine.RemoveOptions{}); !errors.Is(err, engine.ErrConflict) {
		t.Errorf("removing a running container: err = %v, want ErrConflict", err)
	}
	if err := e.RemoveNetwork(ctx, nets[0].Network); !errors.Is(err, engine.ErrConflict) {
		t.Errorf("removing a network in use: err = %v, want ErrConflict", err)
	}

	// The program writes its lines just after it starts: read until they
	// are there, or give up after a while.
	var stdout, stderr bytes.Buffer
	for deadline := time.Now().Add(10 * time.Second); ; {
		stdout.Reset()
		stderr.Reset()
		if err := e.ContainerLogs(ctx, id, engine.LogOptions{}, &stdout, &stderr); err != nil {
			t.Fatal(err)
		}
		if (stdout.Len() > 0 && stderr.Len() > 0) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if stdout.String() != "hello\n" || stderr.String() != "oops\n" {
		t.Errorf("logs: stdout %q stderr %q", stdout.String(), stderr.String())
	}

	if err := e.PauseContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	if d, _ := e.InspectContainer(ctx, id); d.State != engine.StatePaused {
		t.Errorf("state after pause = %q", d.State)
	}
	if err := e.UnpauseContainer(ctx, id); err != nil {
		t.Fatal(err)
	}

	top, err := e.Top(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(top.Titles) == 0 || len(top.Processes) != 1 {
		t.Errorf("top = %+v", top)
	}

	timeout := 10 * time.Second
	if err := e.StopContainer(ctx, id, &timeout); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, events, errs, id, "die")
	d, err = e.InspectContainer(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	// The program exits 0 on SIGTERM; a kill after the timeout would be 137.
	if d.State != engine.StateExited || d.ExitCode != 0 || d.FinishedAt.Before(d.StartedAt) {
		t.Errorf("stopped container = %+v", d)
	}

	newName := name + "-renamed"
	if err := e.RenameContainer(ctx, id, newName); err != nil {
		t.Fatal(err)
	}
	if d, _ := e.InspectContainer(ctx, newName); d.ID != id {
		t.Errorf("inspect by new name = %+v", d)
	}

	if err := e.RemoveContainer(ctx, id, engine.RemoveOptions{RemoveVolumes: true}); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, events, errs, id, "destroy")
	if _, err := e.InspectContainer(ctx, id); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("inspect removed: err = %v, want ErrNotFound", err)
	}
	if err := e.RemoveContainer(ctx, id, engine.RemoveOptions{}); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("remove removed: err = %v, want ErrNotFound", err)
	}
	// The named volume outlives the container; the network is free again.
	if _, err := e.InspectVolume(ctx, volName); err != nil {
		t.Errorf("named volume: %v", err)
	}
	if err := e.RemoveNetwork(ctx, nets[0].Network); err != nil {
		t.Errorf("removing the freed network: %v", err)
	}
}

func TestExitCodeAndKill(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	ctx := testContext(t)
	name := uniqueName(t)
	labels := map[string]string{"composer.test": name}
	events, errs := e.Events(ctx, engine.EventFilter{Type: "container", Labels: labels})

	exits := createContainer(t, e, engine.ContainerSpec{Labels: labels, Cmd: []string{"out", "bye", "exit", "7"}})
	if err := e.StartContainer(ctx, exits); err != nil {
		t.Fatal(err)
	}
	if ev := waitEvent(t, events, errs, exits, "die"); ev.Attributes["exitCode"] != "7" {
		t.Errorf("die event = %+v", ev)
	}
	d, err := e.InspectContainer(ctx, exits)
	if err != nil {
		t.Fatal(err)
	}
	if d.State != engine.StateExited || d.ExitCode != 7 {
		t.Errorf("exited container = %+v", d)
	}

	sleeps := createContainer(t, e, engine.ContainerSpec{Labels: labels, Cmd: []string{"sleep", "1h"}})
	if err := e.StartContainer(ctx, sleeps); err != nil {
		t.Fatal(err)
	}
	if err := e.KillContainer(ctx, sleeps, "SIGKILL"); err != nil {
		t.Fatal(err)
	}
	if ev := waitEvent(t, events, errs, sleeps, "die"); ev.Attributes["exitCode"] != "137" {
		t.Errorf("die event after kill = %+v", ev)
	}
	if err := e.KillContainer(ctx, "composer-dockertest-missing", ""); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("kill missing: err = %v, want ErrNotFound", err)
	}
}

func TestHealthcheck(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	ctx := testContext(t)
	name := uniqueName(t)
	labels := map[string]string{"composer.test": name}
	events, errs := e.Events(ctx, engine.EventFilter{Type: "container", Labels: labels})

	id := createContainer(t, e, engine.ContainerSpec{
		Labels: labels,
		Cmd:    []string{"sleep", "1h"},
		Healthcheck: &engine.Healthcheck{
			Test:     []string{"CMD", "/app", "out", "probe-ok"},
			Interval: 500 * time.Millisecond, Timeout: 5 * time.Second, Retries: 3,
		},
	})
	if err := e.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	// The engine's action text carries the status: "health_status: healthy".
	waitEvent(t, events, errs, id, "health_status: healthy")
	d, err := e.InspectContainer(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if d.Health != engine.HealthHealthy || len(d.HealthLog) == 0 || d.HealthLog[len(d.HealthLog)-1] != "probe-ok\n" {
		t.Errorf("health = %q log %q", d.Health, d.HealthLog)
	}
	list, err := e.ListContainers(ctx, engine.Filter{Labels: labels})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Health != engine.HealthHealthy {
		t.Errorf("list = %+v", list)
	}
}

func TestExec(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	ctx := testContext(t)
	id := createContainer(t, e, engine.ContainerSpec{Cmd: []string{"sleep", "1h"}})
	if err := e.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}

	var stdout, stderr bytes.Buffer
	var started string
	code, err := e.Exec(ctx, id, engine.ExecSpec{
		Cmd:     []string{"/app", "out", "to-out", "err", "to-err", "exit", "3"},
		OnStart: func(execID string) { started = execID },
	}, engine.Streams{Stdout: &stdout, Stderr: &stderr})
	if err != nil {
		t.Fatal(err)
	}
	if code != 3 || stdout.String() != "to-out\n" || stderr.String() != "to-err\n" || started == "" {
		t.Errorf("exec: code %d stdout %q stderr %q exec id %q", code, stdout.String(), stderr.String(), started)
	}

	stdout.Reset()
	code, err = e.Exec(ctx, id, engine.ExecSpec{Cmd: []string{"/app", "cat"}, Stdin: true},
		engine.Streams{Stdin: strings.NewReader("piped in\n"), Stdout: &stdout})
	if err != nil {
		t.Fatal(err)
	}
	if code != 0 || stdout.String() != "piped in\n" {
		t.Errorf("exec with stdin: code %d stdout %q", code, stdout.String())
	}

	// With a TTY the output is raw: one stream, no frame headers.
	stdout.Reset()
	code, err = e.Exec(ctx, id, engine.ExecSpec{Cmd: []string{"/app", "out", "tty", "err", "also", "exit", "4"}, TTY: true},
		engine.Streams{Stdout: &stdout})
	if err != nil {
		t.Fatal(err)
	}
	if code != 4 || stdout.String() != "tty\r\nalso\r\n" {
		t.Errorf("exec with tty: code %d stdout %q", code, stdout.String())
	}

	code, err = e.Exec(ctx, id, engine.ExecSpec{Cmd: []string{"/app", "sleep", "1s"}, Detach: true}, engine.Streams{})
	if err != nil || code != 0 {
		t.Errorf("detached exec: %d %v", code, err)
	}

	if _, err := e.Exec(ctx, "composer-dockertest-missing", engine.ExecSpec{Cmd: []string{"/app"}}, engine.Streams{}); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("exec in missing container: err = %v, want ErrNotFound", err)
	}
}

func TestAttachAndTTYLogs(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	ctx := testContext(t)
	id := createContainer(t, e, engine.ContainerSpec{
		Cmd:          []string{"cat", "out", "done", "err", "to-err"},
		OpenStdin:    true,
		StdinOnce:    true,
		AttachStdin:  true,
		AttachStdout: true,
		AttachStderr: true,
	})
	var stdout, stderr bytes.Buffer
	wait, err := e.Attach(ctx, id, engine.Streams{Stdin: strings.NewReader("from stdin\n"), Stdout: &stdout, Stderr: &stderr}, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	if stdout.String() != "from stdin\ndone\n" || stderr.String() != "to-err\n" {
		t.Errorf("attach: stdout %q stderr %q", stdout.String(), stderr.String())
	}

	// A TTY container's log is one raw stream, all of it on stdout.
	tty := createContainer(t, e, engine.ContainerSpec{Cmd: []string{"out", "a", "err", "b"}, TTY: true, AttachStdout: true})
	wait, err = e.Attach(ctx, tty, engine.Streams{Stdout: &bytes.Buffer{}}, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.StartContainer(ctx, tty); err != nil {
		t.Fatal(err)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	stderr.Reset()
	if err := e.ContainerLogs(ctx, tty, engine.LogOptions{Follow: true}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if stdout.String() != "a\r\nb\r\n" || stderr.Len() != 0 {
		t.Errorf("tty logs: stdout %q stderr %q", stdout.String(), stderr.String())
	}
}

func TestNotFoundAndPull(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	ctx := testContext(t)
	missing := "composer-dockertest-missing"
	if _, err := e.InspectContainer(ctx, missing); !errors.Is(err, engine.ErrNotFound) || !strings.Contains(err.Error(), missing) {
		t.Errorf("inspect container: %v", err)
	}
	if _, err := e.InspectNetwork(ctx, missing); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("inspect network: %v", err)
	}
	if _, err := e.InspectImage(ctx, missing+":latest"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("inspect image: %v", err)
	}
	// The engine's message, marked with the sentinel; the caller adds the
	// operation, so the adapter must not.
	if err := e.StartContainer(ctx, missing); !errors.Is(err, engine.ErrNotFound) || !strings.HasPrefix(err.Error(), "not found: ") || strings.Contains(err.Error(), "starting") {
		t.Errorf("start: %v, want the engine's message after \"not found: \"", err)
	}
	if err := e.ContainerLogs(ctx, missing, engine.LogOptions{}, nil, nil); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("logs: %v", err)
	}
	// No registry is reachable here: a pull must fail with an error, not hang
	// or report success.
	pullCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := e.PullImage(pullCtx, "localhost:1/composer-dockertest/none:latest", "", nil); err == nil {
		t.Error("pull from an unreachable registry succeeded")
	}
}

// Before API 1.44 the adapter connects every network but the first after
// the create. When that fails, the error says which network, and the
// container is removed: no caller sees a container on fewer networks than
// asked. (A missing network does not make the connect fail: the engine
// records it for a created container and refuses the start.)
func TestCreateContainerFailedConnect(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	if e.atLeast(apiMultiNetworkCreate) {
		t.Skipf("API %s creates a container on all its networks at once", e.APIVersion())
	}
	ctx := testContext(t)
	name := uniqueName(t)
	nets := []string{name + "_first", name + "_second"}
	for _, n := range nets {
		id, err := e.CreateNetwork(ctx, engine.NetworkSpec{Name: n})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = e.RemoveNetwork(context.Background(), id) })
	}
	t.Cleanup(func() {
		_ = e.RemoveContainer(context.Background(), name, engine.RemoveOptions{Force: true, RemoveVolumes: true})
	})
	// The engine takes a fixed address only on a network with a subnet of
	// its own, which the second network lacks.
	_, err := e.CreateContainer(ctx, engine.ContainerSpec{
		Name:     name,
		Image:    testImage(t, e),
		Networks: []engine.EndpointSpec{{Network: nets[0]}, {Network: nets[1], IPv4Address: "10.99.0.5"}},
	})
	if err == nil || !strings.HasPrefix(err.Error(), "connecting network "+nets[1]+": ") {
		t.Errorf("err = %v, want one naming the network it failed to connect", err)
	}
	if _, err := e.InspectContainer(ctx, name); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("inspect after the failed create: err = %v, want ErrNotFound", err)
	}
}

func TestEventsEndWithContext(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	ctx, cancel := context.WithCancel(context.Background())
	events, errs := e.Events(ctx, engine.EventFilter{Since: time.Now()})
	cancel()
	for range events {
	}
	if err, ok := <-errs; ok && err != nil {
		t.Errorf("err = %v, want the channel closed without error", err)
	}
}

// TestInspectConfigOfSharedAndLegacySettings checks, against the engine,
// the parts of Config that depend on the API version or on other
// containers and that the shared suite leaves out: a bind that creates its
// host path (a Binds string before API 1.42), volumes taken from another
// container, a network stack shared with one, legacy links, devices, and
// what the engine adds for a privileged container.
func TestInspectConfigOfSharedAndLegacySettings(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	ctx := testContext(t)
	hostPath := filepath.Join(t.TempDir(), "made") // the engine creates it
	src := uniqueName(t)
	srcID := createContainer(t, e, engine.ContainerSpec{
		Name: src,
		Cmd:  []string{"sleep", "1h"},
		Mounts: []engine.Mount{
			{Type: engine.MountVolume, Target: "/data"},
			{Type: engine.MountBind, Source: hostPath, Target: "/made", CreateHostPath: true},
		},
		Devices:    []engine.Device{{PathOnHost: "/dev/null", PathInContainer: "/dev/xnull"}},
		Privileged: true,
	})
	d, err := e.InspectContainer(ctx, srcID)
	if err != nil {
		t.Fatal(err)
	}
	c := d.Config
	if len(c.Mounts) != 2 || c.Mounts[0].Target != "/data" || len(c.Mounts[0].Source) != 64 {
		t.Fatalf("Mounts = %+v, want the anonymous volume on /data first", c.Mounts)
	}
	anon := c.Mounts[0].Source
	if want := (engine.Mount{Type: engine.MountBind, Source: hostPath, Target: "/made", Propagation: "rprivate", CreateHostPath: true}); !reflect.DeepEqual(c.Mounts[1], want) {
		t.Errorf("bind mount = %+v, want %+v (API %s)", c.Mounts[1], want, e.APIVersion())
	}
	if want := []engine.Device{{PathOnHost: "/dev/null", PathInContainer: "/dev/xnull", CgroupPermissions: "rwm"}}; !reflect.DeepEqual(c.Devices, want) {
		t.Errorf("Devices = %+v, want %+v", c.Devices, want)
	}
	if !c.Privileged || !slices.Contains(c.SecurityOpt, "label=disable") {
		t.Errorf("Privileged %v SecurityOpt %q, want privileged with the engine's label=disable", c.Privileged, c.SecurityOpt)
	}
	if c.NetworkMode != "default" && c.NetworkMode != "bridge" {
		t.Errorf("NetworkMode = %q, want the default bridge", c.NetworkMode)
	}

	shared := uniqueName(t)
	d, err = e.InspectContainer(ctx, createContainer(t, e, engine.ContainerSpec{
		Name: shared, Cmd: []string{"sleep", "1h"},
		NetworkMode: "container:" + src, VolumesFrom: []string{src + ":ro"},
	}))
	if err != nil {
		t.Fatal(err)
	}
	c = d.Config
	if c.NetworkMode != "container:"+srcID || c.Networks != nil {
		t.Errorf("NetworkMode %q Networks %+v, want the source's stack by id and no endpoints", c.NetworkMode, c.Networks)
	}
	if !slices.Equal(c.VolumesFrom, []string{src + ":ro"}) {
		t.Errorf("VolumesFrom = %q", c.VolumesFrom)
	}
	wantMounts := []engine.Mount{
		{Type: engine.MountVolume, Source: anon, Target: "/data", ReadOnly: true},
		{Type: engine.MountBind, Source: hostPath, Target: "/made", ReadOnly: true, Propagation: "rprivate"},
	}
	if !reflect.DeepEqual(c.Mounts, wantMounts) {
		t.Errorf("Mounts = %+v, want the source's, read-only: %+v", c.Mounts, wantMounts)
	}

	d, err = e.InspectContainer(ctx, createContainer(t, e, engine.ContainerSpec{
		Name: uniqueName(t), Cmd: []string{"sleep", "1h"}, NetworkMode: "bridge", Links: []string{src + ":db", src},
	}))
	if err != nil {
		t.Fatal(err)
	}
	// The engine reads links back in no set order.
	if want, got := []string{src + ":" + src, src + ":db"}, slices.Sorted(slices.Values(d.Config.Links)); !slices.Equal(got, want) {
		t.Errorf("Links = %q, want %q in any order", d.Config.Links, want)
	}
	if d.Config.NetworkMode != "bridge" || len(d.Config.Networks) != 1 || d.Config.Networks[0].Network != "bridge" {
		t.Errorf("NetworkMode %q Networks %+v, want the bridge", d.Config.NetworkMode, d.Config.Networks)
	}
}
