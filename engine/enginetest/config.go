package enginetest

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/composer-orchestrator/composer/engine"
)

// The configuration tests check the property the orchestrator relies on to
// say why a container differs from what it would create now: inspecting a
// container gives back, in ContainerDetails.Config, the spec it was created
// from, with the image's defaults where the spec left a field empty.

// derivedDockerfile builds, FROM the suite's image, an image with a
// default for every field of engine.ImageConfig. It copies nothing, so
// its build context is the Dockerfile alone.
const derivedDockerfile = `FROM %s
ENV B=2 C="three words"
WORKDIR /srv
WORKDIR app
USER 123:456
LABEL com.example.x=y
EXPOSE 7001/udp 7000
VOLUME ["/vol", "/vol2"]
STOPSIGNAL SIGUSR1
HEALTHCHECK --interval=5s --timeout=2s --start-period=1s --retries=4 CMD ["/testimage", "exit", "0"]
CMD ["sleep", "ready"]
`

// buildDerived builds the image of derivedDockerfile and returns its
// reference. Cleanup removes it after the subtest's containers.
func (h *harness) buildDerived(t *testing.T) string {
	t.Helper()
	ref := h.name("derived") + ":v1"
	ctx := DockerfileContext(t, fmt.Sprintf(derivedDockerfile, h.image))
	if _, err := h.e.BuildImage(h.ctx, ctx, engine.BuildSpec{Tags: []string{ref}, Labels: h.labels()}, nil); err != nil {
		t.Fatalf("BuildImage(%s): %v", ref, err)
	}
	t.Cleanup(func() {
		h.cleanup(t) // its containers first: they hold the image
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := h.e.RemoveImage(ctx, ref, true); err != nil {
			t.Errorf("cleanup: removing %s: %v", ref, err)
		}
	})
	return ref
}

// derivedConfig is what InspectImage reports for the image of
// derivedDockerfile built by buildDerived.
func (h *harness) derivedConfig() engine.ImageConfig {
	return engine.ImageConfig{
		Env:          []string{defaultPath, "B=2", "C=three words"},
		Cmd:          []string{"sleep", "ready"},
		Entrypoint:   []string{"/testimage"},
		WorkingDir:   "/srv/app",
		User:         "123:456",
		StopSignal:   "SIGUSR1",
		Labels:       map[string]string{"com.example.x": "y", TestLabel: h.id},
		ExposedPorts: []string{"7000/tcp", "7001/udp"},
		Volumes:      []string{"/vol", "/vol2"},
		Healthcheck: &engine.Healthcheck{
			Test:     []string{"CMD", "/testimage", "exit", "0"},
			Interval: 5 * time.Second, Timeout: 2 * time.Second, StartPeriod: time.Second, Retries: 4,
		},
	}
}

// defaultPath is the PATH the engine's builder gives an image FROM scratch.
const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// testImageConfig checks that InspectImage reports an image's defaults:
// those of the suite's image, and those of an image built FROM it that
// sets every field, where the base's entrypoint is inherited.
func testImageConfig(t *testing.T, h *harness) {
	base, err := h.e.InspectImage(h.ctx, h.image)
	if err != nil {
		t.Fatalf("InspectImage(%s): %v", h.image, err)
	}
	want := engine.ImageConfig{Env: []string{defaultPath}, Cmd: []string{"sleep"}, Entrypoint: []string{"/testimage"}}
	if !reflect.DeepEqual(base.Config, want) {
		t.Errorf("InspectImage(%s).Config =\n%s\nwant\n%s", h.image, show(base.Config), show(want))
	}

	ref := h.buildDerived(t)
	img, err := h.e.InspectImage(h.ctx, ref)
	if err != nil {
		t.Fatalf("InspectImage(%s): %v", ref, err)
	}
	if want := h.derivedConfig(); !reflect.DeepEqual(img.Config, want) {
		t.Errorf("InspectImage(%s).Config =\n%s\nwant\n%s", ref, show(img.Config), show(want))
	}
	if !reflect.DeepEqual(img.Labels, img.Config.Labels) {
		t.Errorf("image labels %v, want those of its config %v", img.Labels, img.Config.Labels)
	}
}

// testContainerConfig creates a container from a spec setting nearly
// every field and checks that Config gives each one back, before and
// after the container starts.
func testContainerConfig(t *testing.T, h *harness) {
	first, second := h.name("first"), h.name("second")
	h.createNetwork(t, "first")
	h.createNetwork(t, "second")
	vol := h.name("vol")
	if _, err := h.e.CreateVolume(h.ctx, engine.VolumeSpec{Name: vol, Labels: h.labels()}); err != nil {
		t.Fatalf("CreateVolume: %v", err)
	}
	var b [2]byte
	_, _ = rand.Read(b[:])
	hostPort := fmt.Sprint(20000 + int(binary.BigEndian.Uint16(b[:]))%20000) // bound only while it runs
	spec := engine.ContainerSpec{
		Name:        h.name("c"),
		Image:       h.image,
		Labels:      h.labels("role", "web"),
		Env:         []string{"A=1", "B=two words"},
		Cmd:         []string{"sleep", "ready"},
		Entrypoint:  []string{"/testimage"},
		WorkingDir:  "/work",
		User:        "1000:1000",
		Hostname:    "web",
		Domainname:  "example.com",
		StopSignal:  "SIGINT",
		StopTimeout: new(7),
		Healthcheck: &engine.Healthcheck{
			Test:     []string{"CMD", "/testimage", "exit", "0"},
			Interval: 2 * time.Second, Timeout: time.Second, StartPeriod: 3 * time.Second, Retries: 3,
		},
		ExposedPorts: []string{"9000"},
		Ports: []engine.PortBinding{
			{ContainerPort: 80, Protocol: "tcp", HostIP: "127.0.0.1", HostPort: hostPort},
			{ContainerPort: 53, Protocol: "udp", HostIP: "127.0.0.1"},
			{ContainerPort: 81, HostIP: "127.0.0.1", HostPort: "0"},
		},
		Mounts: []engine.Mount{
			{Type: engine.MountVolume, Source: vol, Target: "/data", ReadOnly: true},
			// /tmp exists on every engine host; mounted read-only, and
			// the container never writes anyway.
			{Type: engine.MountBind, Source: "/tmp", Target: "/host-tmp", ReadOnly: true},
			{Type: engine.MountVolume, Target: "/anon", VolumeLabels: h.labels()},
			{Type: engine.MountTmpfs, Target: "/scratch", TmpfsSize: 1 << 20, TmpfsMode: 0o1777},
		},
		Tmpfs:       map[string]string{"/run": "size=64k"},
		Restart:     engine.RestartPolicy{Name: "on-failure", MaxRetries: 3},
		Init:        new(true),
		ReadOnly:    true,
		CapAdd:      []string{"NET_ADMIN"},
		CapDrop:     []string{"MKNOD"},
		SecurityOpt: []string{"no-new-privileges:true"},
		DNS:         []string{"10.0.0.53"},
		DNSSearch:   []string{"example.com"},
		DNSOptions:  []string{"ndots:2"},
		ExtraHosts:  []string{"somehost:10.0.0.1"},
		GroupAdd:    []string{"1234"},
		Ulimits:     []engine.Ulimit{{Name: "nofile", Soft: 1024, Hard: 2048}},
		Sysctls:     map[string]string{"net.core.somaxconn": "1024"},
		LogDriver:   "json-file",
		LogOpts:     map[string]string{"max-size": "1m"},
		ShmSize:     32 << 20,
		Resources:   engine.Resources{Memory: 64 << 20, NanoCPUs: 500_000_000},
		IpcMode:     "shareable",
		OomScoreAdj: 100,
		Networks: []engine.EndpointSpec{
			{Network: first, Aliases: []string{"web", "www"}},
			{Network: second, Aliases: []string{"web-b"}},
		},
	}
	id := h.create(t, spec)

	created := h.inspect(t, id)
	checkConfig(t, "after create", created, spec)

	h.startReady(t, id)
	started := h.inspect(t, id)
	checkConfig(t, "after start", started, spec)
	if !reflect.DeepEqual(started.Config, created.Config) {
		t.Errorf("Config changed with the start:\ncreated %s\nstarted %s", show(created.Config), show(started.Config))
	}
}

// checkConfig checks that d.Config gives back every field spec set. Where
// the engine adds to what was asked (labels and environment of the image,
// log options of its own) the asked part must be there; where it spells a
// value its own way (capabilities) the spellings are compared.
func checkConfig(t *testing.T, when string, d engine.ContainerDetails, spec engine.ContainerSpec) {
	t.Helper()
	c := d.Config
	eq := func(field string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: Config.%s = %s, want %s", when, field, show(got), show(want))
		}
	}
	eq("Name", c.Name, spec.Name)
	eq("Image", c.Image, spec.Image)
	for k, v := range spec.Labels {
		if c.Labels[k] != v {
			t.Errorf("%s: Config.Labels = %v, want %s=%s among them", when, c.Labels, k, v)
		}
	}
	if len(c.Env) < len(spec.Env) || !slices.Equal(c.Env[:len(spec.Env)], spec.Env) {
		t.Errorf("%s: Config.Env = %q, want it to start with %q", when, c.Env, spec.Env)
	}
	eq("Cmd", c.Cmd, spec.Cmd)
	eq("Entrypoint", c.Entrypoint, spec.Entrypoint)
	eq("WorkingDir", c.WorkingDir, spec.WorkingDir)
	eq("User", c.User, spec.User)
	eq("Hostname", c.Hostname, spec.Hostname)
	eq("Domainname", c.Domainname, spec.Domainname)
	eq("StopSignal", c.StopSignal, spec.StopSignal)
	eq("StopTimeout", c.StopTimeout, spec.StopTimeout)
	eq("Healthcheck", c.Healthcheck, spec.Healthcheck)
	// Published ports are exposed too; protocols are spelled out, and "0"
	// (any port) reads back as "".
	eq("ExposedPorts", c.ExposedPorts, []string{"53/udp", "80/tcp", "81/tcp", "9000/tcp"})
	eq("Ports", c.Ports, []engine.PortBinding{
		{ContainerPort: 53, Protocol: "udp", HostIP: "127.0.0.1"},
		spec.Ports[0],
		{ContainerPort: 81, Protocol: "tcp", HostIP: "127.0.0.1"},
	})
	// Mounts by target; the anonymous volume by the name the engine gave
	// it, the one the container's mount list shows.
	var anon string
	for _, m := range d.Mounts {
		if m.Destination == "/anon" {
			anon = m.Name
		}
	}
	if anon == "" {
		t.Errorf("%s: Mounts = %+v, want an anonymous volume on /anon", when, d.Mounts)
	}
	eq("Mounts", c.Mounts, []engine.Mount{
		{Type: engine.MountVolume, Source: anon, Target: "/anon", VolumeLabels: spec.Mounts[2].VolumeLabels},
		spec.Mounts[0],
		// Propagation reads back as the engine's default.
		{Type: engine.MountBind, Source: "/tmp", Target: "/host-tmp", ReadOnly: true, Propagation: "rprivate"},
		spec.Mounts[3],
	})
	eq("Tmpfs", c.Tmpfs, spec.Tmpfs)
	eq("Restart", c.Restart, spec.Restart)
	eq("Init", c.Init, spec.Init)
	eq("ReadOnly", c.ReadOnly, spec.ReadOnly)
	eq("CapAdd", capNames(c.CapAdd), capNames(spec.CapAdd))
	eq("CapDrop", capNames(c.CapDrop), capNames(spec.CapDrop))
	if !slices.Contains(c.SecurityOpt, spec.SecurityOpt[0]) {
		t.Errorf("%s: Config.SecurityOpt = %q, want %q among them", when, c.SecurityOpt, spec.SecurityOpt[0])
	}
	eq("DNS", c.DNS, spec.DNS)
	eq("DNSSearch", c.DNSSearch, spec.DNSSearch)
	eq("DNSOptions", c.DNSOptions, spec.DNSOptions)
	eq("ExtraHosts", c.ExtraHosts, spec.ExtraHosts)
	eq("GroupAdd", c.GroupAdd, spec.GroupAdd)
	eq("Ulimits", c.Ulimits, spec.Ulimits)
	eq("Sysctls", c.Sysctls, spec.Sysctls)
	eq("LogDriver", c.LogDriver, spec.LogDriver)
	for k, v := range spec.LogOpts {
		if c.LogOpts[k] != v {
			t.Errorf("%s: Config.LogOpts = %v, want %s=%s among them", when, c.LogOpts, k, v)
		}
	}
	eq("ShmSize", c.ShmSize, spec.ShmSize)
	eq("Resources.Memory", c.Resources.Memory, spec.Resources.Memory)
	eq("Resources.NanoCPUs", c.Resources.NanoCPUs, spec.Resources.NanoCPUs)
	eq("IpcMode", c.IpcMode, spec.IpcMode)
	eq("OomScoreAdj", c.OomScoreAdj, spec.OomScoreAdj)
	// The first network is the network mode; the aliases are those asked
	// for, whatever the engine adds for itself.
	eq("NetworkMode", c.NetworkMode, spec.Networks[0].Network)
	eq("Networks", c.Networks, spec.Networks)
}

// capNames spells capabilities alike, with or without "CAP_", sorted.
func capNames(caps []string) []string {
	var out []string
	for _, c := range caps {
		out = append(out, strings.TrimPrefix(strings.ToUpper(c), "CAP_"))
	}
	slices.Sort(out)
	return out
}

// testContainerConfigDefaults checks that what a spec leaves empty reads
// back as the image's default, merged by the engine's rules, and as the
// engine's own default where the image has none.
func testContainerConfigDefaults(t *testing.T, h *harness) {
	ref := h.buildDerived(t)
	image := h.derivedConfig()

	spec := engine.ContainerSpec{Name: h.name("plain"), Image: ref, Labels: h.labels("role", "plain"), Env: []string{"A=1", "B=mine"}}
	id := h.create(t, spec)
	d := h.inspect(t, id)
	c := d.Config
	eq := func(field string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Config.%s = %s, want %s", field, show(got), show(want))
		}
	}
	// The spec's variables first, then the image's it does not set.
	eq("Env", c.Env, []string{"A=1", "B=mine", defaultPath, "C=three words"})
	eq("Cmd", c.Cmd, image.Cmd)
	eq("Entrypoint", c.Entrypoint, image.Entrypoint)
	eq("WorkingDir", c.WorkingDir, image.WorkingDir)
	eq("User", c.User, image.User)
	eq("StopSignal", c.StopSignal, image.StopSignal)
	eq("Healthcheck", c.Healthcheck, image.Healthcheck)
	eq("ExposedPorts", c.ExposedPorts, image.ExposedPorts)
	wantLabels := maps.Clone(image.Labels)
	maps.Copy(wantLabels, spec.Labels)
	eq("Labels", c.Labels, wantLabels)
	// The engine's defaults: the short id as hostname, no restart, the
	// default bridge.
	eq("Hostname", c.Hostname, id[:12])
	eq("Restart", c.Restart, engine.RestartPolicy{Name: "no"})
	if c.NetworkMode != "default" && c.NetworkMode != "bridge" {
		t.Errorf("Config.NetworkMode = %q, want default (or bridge)", c.NetworkMode)
	}
	eq("Networks", c.Networks, []engine.EndpointSpec{{Network: "bridge"}})
	if c.Ports != nil {
		t.Errorf("Config.Ports = %+v, want none: exposing is not publishing", c.Ports)
	}
	// The image's VOLUMEs are anonymous volumes with generated names,
	// those of the container's mount list, removed with the container.
	names := map[string]string{}
	for _, m := range d.Mounts {
		names[m.Destination] = m.Name
	}
	var want []engine.Mount
	for _, v := range image.Volumes {
		if names[v] == "" {
			t.Errorf("Mounts = %+v, want an anonymous volume on %s", d.Mounts, v)
		}
		want = append(want, engine.Mount{Type: engine.MountVolume, Source: names[v], Target: v})
	}
	eq("Mounts", c.Mounts, want)
	for _, m := range c.Mounts {
		if _, err := h.e.InspectVolume(h.ctx, m.Source); err != nil {
			t.Errorf("InspectVolume(%s) of the volume on %s: %v", m.Source, m.Target, err)
		}
	}

	// A spec that sets an entrypoint does not get the image's command, and
	// a healthcheck that sets only its test gets the image's timings.
	spec = engine.ContainerSpec{
		Name: h.name("entrypoint"), Image: ref, Labels: h.labels(), Entrypoint: []string{"/testimage"},
		Healthcheck: &engine.Healthcheck{Test: []string{"CMD", "/testimage", "exit", "1"}},
	}
	c = h.inspect(t, h.create(t, spec)).Config
	eq("Cmd with an entrypoint", c.Cmd, []string(nil))
	wantHC := *image.Healthcheck
	wantHC.Test = spec.Healthcheck.Test
	eq("Healthcheck with a test alone", c.Healthcheck, &wantHC)

	// Removing the containers with their volumes removes the image's
	// anonymous volumes too.
	if err := h.e.RemoveContainer(h.ctx, id, engine.RemoveOptions{RemoveVolumes: true}); err != nil {
		t.Fatalf("RemoveContainer: %v", err)
	}
	for _, m := range want {
		_, err := h.e.InspectVolume(h.ctx, m.Source)
		wantErr(t, "InspectVolume of the removed container's volume on "+m.Target, err, engine.ErrNotFound)
	}
}

// show renders a value for a failure message, following pointers.
func show(v any) string {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer && !rv.IsNil() {
		return "&" + show(rv.Elem().Interface())
	}
	return fmt.Sprintf("%+v", v)
}
