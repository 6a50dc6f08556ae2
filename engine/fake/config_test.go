package fake_test

import (
	"archive/tar"
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/engine/fake"
)

const path = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

func TestContainerConfigEngineDefaults(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	id := mustCreate(t, e, engine.ContainerSpec{Name: "plain", Labels: map[string]string{"a": "b"}})
	got := mustInspect(t, e, id).Config
	want := engine.ContainerSpec{
		Name: "plain", Image: img, Labels: map[string]string{"a": "b"},
		Hostname: id[:12], Restart: engine.RestartPolicy{Name: "no"},
		LogDriver: "json-file", ShmSize: 64 << 20, IpcMode: "private", Runtime: "runc",
		NetworkMode: "default", Networks: []engine.EndpointSpec{{Network: "bridge"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Config =\n%+v\nwant\n%+v", got, want)
	}
}

func TestContainerConfigAsTheEngineRecordsIt(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	ctx := t.Context()
	for _, n := range []string{"front", "back"} {
		if _, err := e.CreateNetwork(ctx, engine.NetworkSpec{Name: n}); err != nil {
			t.Fatal(err)
		}
	}
	spec := engine.ContainerSpec{
		Name:         "web",
		Hostname:     "web",
		ExposedPorts: []string{"9000-9001/udp"},
		Ports: []engine.PortBinding{
			{ContainerPort: 80, HostPort: "0", HostIP: "[::1]"},
			{ContainerPort: 53, Protocol: "UDP", HostPort: "5353"},
		},
		Privileged: true,
		CapAdd:     []string{"net_admin", "ALL"},
		CapDrop:    []string{"CAP_MKNOD"},
		Devices:    []engine.Device{{PathOnHost: "/dev/fuse"}},
		Links:      []string{"db", "cache:c"},
		Resources:  engine.Resources{Memory: 1 << 20, OomKillDisable: new(false), PidsLimit: new(int64(0)), MemSwappiness: new(int64(-1))},
		MacAddress: "02:42:ac:11:00:02",
		Networks: []engine.EndpointSpec{
			{Network: "front", Aliases: []string{"www"}, IPv6Address: "fd00:0::5", MacAddress: "02:42:ac:11:00:03"},
			{Network: "back"},
		},
	}
	id := mustCreate(t, e, spec)
	c := mustInspect(t, e, id).Config
	check := func(field string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Config.%s = %+v, want %+v", field, got, want)
		}
	}
	check("ExposedPorts", c.ExposedPorts, []string{"53/udp", "80/tcp", "9000/udp", "9001/udp"})
	check("Ports", c.Ports, []engine.PortBinding{
		{ContainerPort: 53, Protocol: "udp", HostPort: "5353"},
		{ContainerPort: 80, Protocol: "tcp", HostIP: "::1"},
	})
	check("CapAdd", c.CapAdd, []string{"CAP_NET_ADMIN", "ALL"})
	check("CapDrop", c.CapDrop, []string{"CAP_MKNOD"})
	check("SecurityOpt", c.SecurityOpt, []string{"label=disable"})
	check("Devices", c.Devices, []engine.Device{{PathOnHost: "/dev/fuse", PathInContainer: "/dev/fuse", CgroupPermissions: "rwm"}})
	check("Links", c.Links, []string{"db:db", "cache:c"})
	check("Resources", c.Resources, engine.Resources{Memory: 1 << 20, MemorySwap: 2 << 20})
	check("MacAddress", c.MacAddress, "")
	check("NetworkMode", c.NetworkMode, "front")
	check("Networks", c.Networks, []engine.EndpointSpec{
		{Network: "front", Aliases: []string{"www"}, IPv6Address: "fd00::5"},
		{Network: "back"},
	})
	// What the orchestrator asked for is unchanged.
	if s, _ := e.Spec(id); !reflect.DeepEqual(s.CapAdd, spec.CapAdd) || s.MacAddress != spec.MacAddress {
		t.Errorf("Spec = %+v, want the spec as created", s)
	}

	// A shared namespace names the container by id; volumes-from brings
	// its mounts, read-only with ":ro", under the container's own.
	src := mustCreate(t, e, engine.ContainerSpec{Name: "src", Mounts: []engine.Mount{
		{Type: engine.MountVolume, Target: "/data", NoCopy: true},
		{Type: engine.MountBind, Source: "/h", Target: "/h", Propagation: "rshared"},
		{Type: engine.MountBind, Source: "/made", Target: "/made", CreateHostPath: true},
	}})
	srcMounts := mustInspect(t, e, src).Config.Mounts
	shared := mustCreate(t, e, engine.ContainerSpec{
		Name: "shared", NetworkMode: "container:src", PidMode: "container:src", IpcMode: "container:missing",
		VolumesFrom: []string{"src:ro", "missing"},
		Mounts:      []engine.Mount{{Type: engine.MountTmpfs, Source: "ignored", Target: "/h"}},
	})
	d := mustInspect(t, e, shared)
	check("NetworkMode", d.Config.NetworkMode, "container:"+src)
	check("PidMode", d.Config.PidMode, "container:"+src)
	check("IpcMode", d.Config.IpcMode, "container:missing")
	check("Networks", d.Config.Networks, []engine.EndpointSpec(nil))
	check("Mounts", d.Config.Mounts, []engine.Mount{
		{Type: engine.MountVolume, Source: srcMounts[0].Source, Target: "/data", ReadOnly: true},
		{Type: engine.MountTmpfs, Target: "/h"},
		{Type: engine.MountBind, Source: "/made", Target: "/made", ReadOnly: true, Propagation: "rprivate"},
	})
	// The source's volume is in use by both containers.
	if err := e.RemoveContainer(ctx, src, engine.RemoveOptions{RemoveVolumes: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.InspectVolume(ctx, srcMounts[0].Source); err != nil {
		t.Errorf("the volume another container mounts went with its first container: %v", err)
	}

	// Inspect returns copies.
	d.Config.Mounts[0].Source = "changed"
	d.Config.Labels = map[string]string{"x": "y"}
	if again := mustInspect(t, e, shared); again.Config.Mounts[0].Source == "changed" || again.Config.Labels["x"] == "y" {
		t.Errorf("changing an inspect's Config changed the container: %+v", again.Config)
	}
}

// richImage is an image with a default for everything.
var richImage = engine.ImageConfig{
	Env:          []string{path, "B=2"},
	Cmd:          []string{"exit", "3"},
	Entrypoint:   []string{"/app"},
	WorkingDir:   "/srv",
	User:         "app",
	StopSignal:   "SIGUSR1",
	Labels:       map[string]string{"from.image": "yes", "shared": "image"},
	ExposedPorts: []string{"7000/tcp"},
	Volumes:      []string{"/vol"},
	Healthcheck:  &engine.Healthcheck{Test: []string{"CMD", "/app", "exit", "1"}, Interval: time.Second, Retries: 2},
}

func TestContainerConfigImageDefaults(t *testing.T) {
	t.Parallel()
	e := fake.New()
	ctx := t.Context()
	imgID := e.AddImageWithConfig("rich:1", richImage)
	got, err := e.InspectImage(ctx, "rich:1")
	if err != nil || got.ID != imgID || !reflect.DeepEqual(got.Config, richImage) || !reflect.DeepEqual(got.Labels, richImage.Labels) {
		t.Fatalf("InspectImage = %+v, %v; want the image with its config", got, err)
	}
	got.Config.Env[0] = "changed"
	if again, _ := e.InspectImage(ctx, "rich:1"); again.Config.Env[0] != path {
		t.Errorf("changing an inspect's Config changed the image")
	}

	id := mustCreate(t, e, engine.ContainerSpec{
		Name: "cc", Image: "rich:1", Env: []string{"A=1", "B=mine"}, Labels: map[string]string{"shared": "spec"},
		Healthcheck: &engine.Healthcheck{Timeout: 5 * time.Second},
	})
	d := mustInspect(t, e, id)
	c := d.Config
	if want := []string{"A=1", "B=mine", path}; !reflect.DeepEqual(c.Env, want) || !reflect.DeepEqual(d.Env, want) {
		t.Errorf("Env = %q (details %q), want %q", c.Env, d.Env, want)
	}
	if want := map[string]string{"from.image": "yes", "shared": "spec"}; !reflect.DeepEqual(c.Labels, want) || !reflect.DeepEqual(d.Labels, want) {
		t.Errorf("Labels = %v (details %v), want %v", c.Labels, d.Labels, want)
	}
	if !reflect.DeepEqual(c.Cmd, richImage.Cmd) || !reflect.DeepEqual(c.Entrypoint, richImage.Entrypoint) || d.Command != "/app exit 3" {
		t.Errorf("Cmd %q Entrypoint %q Command %q, want the image's", c.Cmd, c.Entrypoint, d.Command)
	}
	if c.WorkingDir != "/srv" || c.User != "app" || c.StopSignal != "SIGUSR1" || d.User != "app" || d.WorkingDir != "/srv" {
		t.Errorf("WorkingDir %q User %q StopSignal %q, want the image's", c.WorkingDir, c.User, c.StopSignal)
	}
	if want := (&engine.Healthcheck{Test: richImage.Healthcheck.Test, Interval: time.Second, Timeout: 5 * time.Second, Retries: 2}); !reflect.DeepEqual(c.Healthcheck, want) {
		t.Errorf("Healthcheck = %+v, want the spec's timeout over the image's", c.Healthcheck)
	}
	if !reflect.DeepEqual(c.ExposedPorts, []string{"7000/tcp"}) {
		t.Errorf("ExposedPorts = %v", c.ExposedPorts)
	}
	if len(c.Mounts) != 1 || c.Mounts[0].Target != "/vol" || len(c.Mounts[0].Source) != 64 || d.Mounts[0].Name != c.Mounts[0].Source {
		t.Fatalf("Mounts = %+v (details %+v), want an anonymous volume on /vol", c.Mounts, d.Mounts)
	}
	if cs, _ := e.ListContainers(ctx, engine.Filter{Labels: map[string]string{"from.image": ""}}); len(cs) != 1 {
		t.Errorf("listing by an image's label found %d containers, want 1", len(cs))
	}

	// The image's command and healthcheck are what runs.
	if err := e.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	if d := mustInspect(t, e, id); d.State != engine.StateExited || d.ExitCode != 3 {
		t.Errorf("state %s exit code %d, want exited with the image's command's 3", d.State, d.ExitCode)
	}
	// The image's VOLUME goes with the container's anonymous volumes.
	if err := e.RemoveContainer(ctx, id, engine.RemoveOptions{RemoveVolumes: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.InspectVolume(ctx, c.Mounts[0].Source); err == nil {
		t.Errorf("the image's anonymous volume outlived its container")
	}

	// An entrypoint in the spec drops the image's command; a mount on the
	// image's VOLUME replaces it.
	id = mustCreate(t, e, engine.ContainerSpec{
		Name: "dd", Image: "rich:1", Entrypoint: []string{"/other"},
		Mounts: []engine.Mount{{Type: engine.MountVolume, Source: "named", Target: "/vol"}},
	})
	c = mustInspect(t, e, id).Config
	if c.Cmd != nil || !reflect.DeepEqual(c.Entrypoint, []string{"/other"}) {
		t.Errorf("Cmd %q Entrypoint %q, want no command with the spec's entrypoint", c.Cmd, c.Entrypoint)
	}
	if want := []engine.Mount{{Type: engine.MountVolume, Source: "named", Target: "/vol"}}; !reflect.DeepEqual(c.Mounts, want) {
		t.Errorf("Mounts = %+v, want %+v", c.Mounts, want)
	}
	if err := e.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the image's failing healthcheck", func() bool { return mustInspect(t, e, id).Health == engine.HealthUnhealthy })
}

func contextWith(t *testing.T, files map[string]string) *bytes.Reader {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, data := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(buf.Bytes())
}

func TestBuildImageReadsTheDockerfile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		files   map[string]string
		spec    engine.BuildSpec
		want    engine.ImageConfig
		wantErr string
	}{
		{
			name: "every instruction with defaults",
			files: map[string]string{"Dockerfile": `# a comment
FROM scratch
COPY app /app
ENV A=1 B="two words" \
    C=3
ENV LEGACY value with spaces
LABEL com.example.a=b "quoted key"='single $A'
WORKDIR /srv
WORKDIR app
USER 1000:1000
EXPOSE 80 53/udp 9000-9001
VOLUME /data /logs
VOLUME ["/more"]
STOPSIGNAL SIGINT
HEALTHCHECK --interval=5s --timeout=2s --start-period=1s --start-interval=500ms --retries=4 CMD curl -f localhost || exit 1
ENTRYPOINT ["/app"]
CMD ["serve", "--port", "80"]
`},
			spec: engine.BuildSpec{Labels: map[string]string{"build": "label", "com.example.a": "overridden"}},
			want: engine.ImageConfig{
				Env:          []string{path, "A=1", "B=two words", "C=3", "LEGACY=value with spaces"},
				Cmd:          []string{"serve", "--port", "80"},
				Entrypoint:   []string{"/app"},
				WorkingDir:   "/srv/app",
				User:         "1000:1000",
				StopSignal:   "SIGINT",
				Labels:       map[string]string{"com.example.a": "overridden", "quoted key": "single $A", "build": "label"},
				ExposedPorts: []string{"53/udp", "80/tcp", "9000/tcp", "9001/tcp"},
				Volumes:      []string{"/data", "/logs", "/more"},
				Healthcheck: &engine.Healthcheck{
					Test:     []string{"CMD-SHELL", "curl -f localhost || exit 1"},
					Interval: 5 * time.Second, Timeout: 2 * time.Second, StartPeriod: time.Second, StartInterval: 500 * time.Millisecond, Retries: 4,
				},
			},
		},
		{
			name: "from an image, variables, an entrypoint dropping the inherited command",
			files: map[string]string{"build/Containerfile": `ARG BASE=base:1
FROM ${BASE}
ARG VERSION=0.1
ARG UNSET
ENV VERSION=$VERSION HOME=/home/${USER:-nobody} EMPTY=${UNSET:-fallback}
WORKDIR $HOME
ENTRYPOINT exec /run.sh
HEALTHCHECK NONE
`},
			spec: engine.BuildSpec{Dockerfile: "./build/Containerfile", Args: map[string]*string{"VERSION": new("2.0"), "UNSET": nil}},
			want: engine.ImageConfig{
				Env:         []string{"PATH=/bin", "USER=base", "VERSION=2.0", "HOME=/home/base", "EMPTY=fallback"},
				Entrypoint:  []string{"/bin/sh", "-c", "exec /run.sh"},
				WorkingDir:  "/home/base",
				User:        "base",
				Labels:      map[string]string{"from": "base"},
				Volumes:     []string{"/base"},
				Healthcheck: &engine.Healthcheck{Test: []string{"NONE"}},
			},
		},
		{
			name:  "the target stage of several",
			files: map[string]string{"Dockerfile": "# escape=`\nFROM scratch AS build\nENV STAGE=build `\n  MORE=yes\nCMD [\"make\"]\n\nFROM build AS test\nSHELL [\"/bin/bash\", \"-c\"]\nCMD go test\n\nFROM scratch\nCMD [\"final\"]\n"},
			spec:  engine.BuildSpec{Target: "TEST"},
			want: engine.ImageConfig{
				Env: []string{path, "STAGE=build", "MORE=yes"},
				Cmd: []string{"/bin/bash", "-c", "go test"},
			},
		},
		{
			name:    "a missing target",
			files:   map[string]string{"Dockerfile": "FROM scratch\n"},
			spec:    engine.BuildSpec{Target: "nope"},
			wantErr: "failed to reach build target nope",
		},
		{
			name:  "no Dockerfile: no defaults",
			files: map[string]string{"other": "FROM scratch\nCMD [\"x\"]\n"},
			spec:  engine.BuildSpec{Labels: map[string]string{"k": "v"}},
			want:  engine.ImageConfig{Labels: map[string]string{"k": "v"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := fake.New()
			e.AddImageWithConfig("base:1", engine.ImageConfig{
				Env: []string{"PATH=/bin", "USER=base"}, Cmd: []string{"inherited"}, User: "base",
				Labels: map[string]string{"from": "base"}, Volumes: []string{"/base"},
				Healthcheck: &engine.Healthcheck{Test: []string{"CMD", "true"}},
			})
			spec := tc.spec
			spec.Tags = []string{"built:1"}
			id, err := e.BuildImage(t.Context(), contextWith(t, tc.files), spec, nil)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("BuildImage err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("BuildImage: %v", err)
			}
			got, err := e.InspectImage(t.Context(), "built:1")
			if err != nil || got.ID != id {
				t.Fatalf("InspectImage = %+v, %v", got, err)
			}
			if !reflect.DeepEqual(got.Config, tc.want) {
				t.Errorf("Config =\n%+v\nwant\n%+v", got.Config, tc.want)
			}
			if !reflect.DeepEqual(got.Labels, tc.want.Labels) && (len(got.Labels) != 0 || len(tc.want.Labels) != 0) {
				t.Errorf("Labels = %v, want the config's %v", got.Labels, tc.want.Labels)
			}
		})
	}
}
