package docker

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/composer-orchestrator/composer/engine"
)

func ptr[T any](v T) *T { return &v }

func TestToCreateOptions(t *testing.T) {
	t.Parallel()
	base := func() engine.ContainerSpec {
		return engine.ContainerSpec{Name: "p-web-1", Image: "alpine:3"}
	}
	tests := []struct {
		name    string
		api     string
		spec    func(s *engine.ContainerSpec)
		check   func(t *testing.T, o client.ContainerCreateOptions, connect []engine.EndpointSpec)
		wantErr string
	}{
		{
			name: "basics",
			spec: func(s *engine.ContainerSpec) {
				s.Labels = map[string]string{"com.docker.compose.project": "p"}
				s.Env = []string{"A=1"}
				s.Cmd = []string{"run"}
				s.Entrypoint = []string{"/bin/app"}
				s.WorkingDir, s.User, s.Hostname, s.Domainname = "/w", "1000", "web", "example.com"
				s.TTY, s.OpenStdin, s.StdinOnce = true, true, true
				s.AttachStdout, s.AttachStderr = true, true
				s.StopSignal, s.StopTimeout = "SIGINT", ptr(7)
			},
			check: func(t *testing.T, o client.ContainerCreateOptions, _ []engine.EndpointSpec) {
				c := o.Config
				if o.Name != "p-web-1" || c.Image != "alpine:3" || c.Labels["com.docker.compose.project"] != "p" {
					t.Errorf("name/image/labels: %q %q %v", o.Name, c.Image, c.Labels)
				}
				if !reflect.DeepEqual(c.Env, []string{"A=1"}) || !reflect.DeepEqual(c.Cmd, []string{"run"}) || !reflect.DeepEqual(c.Entrypoint, []string{"/bin/app"}) {
					t.Errorf("env/cmd/entrypoint: %v %v %v", c.Env, c.Cmd, c.Entrypoint)
				}
				if c.WorkingDir != "/w" || c.User != "1000" || c.Hostname != "web" || c.Domainname != "example.com" {
					t.Errorf("workdir/user/hostname: %+v", c)
				}
				if !c.Tty || !c.OpenStdin || !c.StdinOnce || !c.AttachStdout || !c.AttachStderr || c.AttachStdin {
					t.Errorf("tty/stdin/attach: %+v", c)
				}
				if c.StopSignal != "SIGINT" || c.StopTimeout == nil || *c.StopTimeout != 7 {
					t.Errorf("stop: %q %v", c.StopSignal, c.StopTimeout)
				}
				if o.NetworkingConfig != nil || o.HostConfig.NetworkMode != "" {
					t.Errorf("no networks expected: %v %q", o.NetworkingConfig, o.HostConfig.NetworkMode)
				}
			},
		},
		{
			name: "healthcheck",
			spec: func(s *engine.ContainerSpec) {
				s.Healthcheck = &engine.Healthcheck{
					Test:     []string{"CMD-SHELL", "curl -f localhost"},
					Interval: 2 * time.Second, Timeout: time.Second, StartPeriod: 5 * time.Second, StartInterval: 500 * time.Millisecond,
					Retries: 3,
				}
			},
			check: func(t *testing.T, o client.ContainerCreateOptions, _ []engine.EndpointSpec) {
				want := &container.HealthConfig{
					Test:     []string{"CMD-SHELL", "curl -f localhost"},
					Interval: 2 * time.Second, Timeout: time.Second, StartPeriod: 5 * time.Second, StartInterval: 500 * time.Millisecond,
					Retries: 3,
				}
				if !reflect.DeepEqual(o.Config.Healthcheck, want) {
					t.Errorf("healthcheck = %+v, want %+v", o.Config.Healthcheck, want)
				}
			},
		},
		{
			name: "disabled healthcheck",
			spec: func(s *engine.ContainerSpec) { s.Healthcheck = &engine.Healthcheck{Test: []string{"NONE"}} },
			check: func(t *testing.T, o client.ContainerCreateOptions, _ []engine.EndpointSpec) {
				if o.Config.Healthcheck == nil || !reflect.DeepEqual(o.Config.Healthcheck.Test, []string{"NONE"}) {
					t.Errorf("healthcheck = %+v", o.Config.Healthcheck)
				}
			},
		},
		{
			name: "ports with ranges, host ips and protocols",
			spec: func(s *engine.ContainerSpec) {
				s.ExposedPorts = []string{"9000", "9100-9101/udp"}
				s.Ports = []engine.PortBinding{
					{ContainerPort: 80, HostPort: "8080"},
					{ContainerPort: 80, HostIP: "127.0.0.1", HostPort: "8081"},
					{ContainerPort: 53, Protocol: "udp", HostPort: "0"},
					{ContainerPort: 443, HostIP: "::1", HostPort: "8000-8010"},
					{ContainerPort: 3000, Protocol: "TCP", HostIP: "[::]"},
				}
			},
			check: func(t *testing.T, o client.ContainerCreateOptions, _ []engine.EndpointSpec) {
				p := network.MustParsePort
				wantExposed := network.PortSet{
					p("9000/tcp"): {}, p("9100/udp"): {}, p("9101/udp"): {},
					p("80/tcp"): {}, p("53/udp"): {}, p("443/tcp"): {}, p("3000/tcp"): {},
				}
				if !reflect.DeepEqual(o.Config.ExposedPorts, wantExposed) {
					t.Errorf("exposed = %v, want %v", o.Config.ExposedPorts, wantExposed)
				}
				wantBindings := network.PortMap{
					p("80/tcp"): {
						{HostPort: "8080"},
						{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: "8081"},
					},
					p("53/udp"):   {{HostPort: ""}},
					p("443/tcp"):  {{HostIP: netip.MustParseAddr("::1"), HostPort: "8000-8010"}},
					p("3000/tcp"): {{HostIP: netip.MustParseAddr("::")}},
				}
				if !reflect.DeepEqual(o.HostConfig.PortBindings, wantBindings) {
					t.Errorf("bindings = %v, want %v", o.HostConfig.PortBindings, wantBindings)
				}
			},
		},
		{
			name: "mounts of every type",
			api:  "1.44",
			spec: func(s *engine.ContainerSpec) {
				s.Mounts = []engine.Mount{
					{Type: engine.MountVolume, Source: "p_data", Target: "/data", ReadOnly: true, NoCopy: true, VolumeLabels: map[string]string{"k": "v"}},
					{Type: engine.MountVolume, Target: "/anon"},
					{Type: engine.MountBind, Source: "/host", Target: "/in", Propagation: "rshared", CreateHostPath: true},
					{Type: engine.MountBind, Source: "/etc/hosts", Target: "/h"},
					{Type: engine.MountTmpfs, Target: "/tmp", TmpfsSize: 1 << 20, TmpfsMode: 0o1777},
				}
				s.Tmpfs = map[string]string{"/run": "size=64m"}
			},
			check: func(t *testing.T, o client.ContainerCreateOptions, _ []engine.EndpointSpec) {
				want := []mount.Mount{
					{Type: mount.TypeVolume, Source: "p_data", Target: "/data", ReadOnly: true, VolumeOptions: &mount.VolumeOptions{NoCopy: true, Labels: map[string]string{"k": "v"}}},
					{Type: mount.TypeVolume, Source: "", Target: "/anon"},
					{Type: mount.TypeBind, Source: "/host", Target: "/in", BindOptions: &mount.BindOptions{Propagation: mount.PropagationRShared, CreateMountpoint: true}},
					{Type: mount.TypeBind, Source: "/etc/hosts", Target: "/h"},
					{Type: mount.TypeTmpfs, Target: "/tmp", TmpfsOptions: &mount.TmpfsOptions{SizeBytes: 1 << 20, Mode: 0o1777}},
				}
				if !reflect.DeepEqual(o.HostConfig.Mounts, want) {
					t.Errorf("mounts =\n%+v\nwant\n%+v", o.HostConfig.Mounts, want)
				}
				if len(o.HostConfig.Binds) != 0 {
					t.Errorf("binds = %v, want none", o.HostConfig.Binds)
				}
				if o.HostConfig.Tmpfs["/run"] != "size=64m" {
					t.Errorf("tmpfs = %v", o.HostConfig.Tmpfs)
				}
			},
		},
		{
			name: "bind creating its host path on an old engine uses Binds",
			api:  "1.41",
			spec: func(s *engine.ContainerSpec) {
				s.Mounts = []engine.Mount{
					{Type: engine.MountBind, Source: "/host", Target: "/in", ReadOnly: true, Propagation: "rslave", CreateHostPath: true},
					{Type: engine.MountBind, Source: "/src", Target: "/src", CreateHostPath: true},
				}
			},
			check: func(t *testing.T, o client.ContainerCreateOptions, _ []engine.EndpointSpec) {
				want := []string{"/host:/in:ro,rslave", "/src:/src"}
				if !reflect.DeepEqual(o.HostConfig.Binds, want) || len(o.HostConfig.Mounts) != 0 {
					t.Errorf("binds = %v mounts = %v, want %v", o.HostConfig.Binds, o.HostConfig.Mounts, want)
				}
			},
		},
		{
			name: "volume subpath needs 1.45",
			api:  "1.41",
			spec: func(s *engine.ContainerSpec) {
				s.Mounts = []engine.Mount{{Type: engine.MountVolume, Source: "v", Target: "/v", Subpath: "sub"}}
			},
			wantErr: "subpath needs API 1.45",
		},
		{
			name: "restart, ulimits, devices, resources",
			spec: func(s *engine.ContainerSpec) {
				s.Restart = engine.RestartPolicy{Name: "on-failure", MaxRetries: 3}
				s.Ulimits = []engine.Ulimit{{Name: "nofile", Soft: 1024, Hard: 2048}}
				s.Devices = []engine.Device{{PathOnHost: "/dev/fuse"}, {PathOnHost: "/dev/sda", PathInContainer: "/dev/xvda", CgroupPermissions: "r"}}
				s.CgroupParent = "/parent"
				s.Resources = engine.Resources{
					Memory: 1 << 30, MemoryReservation: 1 << 29, MemorySwap: 2 << 30, MemSwappiness: ptr(int64(10)),
					NanoCPUs: 1_500_000_000, CPUShares: 512, CPUQuota: 50000, CPUPeriod: 100000, CPUSet: "0-1",
					PidsLimit: ptr(int64(100)), OomKillDisable: ptr(true),
				}
			},
			check: func(t *testing.T, o client.ContainerCreateOptions, _ []engine.EndpointSpec) {
				h := o.HostConfig
				if h.RestartPolicy != (container.RestartPolicy{Name: container.RestartPolicyOnFailure, MaximumRetryCount: 3}) {
					t.Errorf("restart = %+v", h.RestartPolicy)
				}
				if len(h.Ulimits) != 1 || *h.Ulimits[0] != (container.Ulimit{Name: "nofile", Soft: 1024, Hard: 2048}) {
					t.Errorf("ulimits = %v", h.Ulimits)
				}
				wantDev := []container.DeviceMapping{
					{PathOnHost: "/dev/fuse", PathInContainer: "/dev/fuse", CgroupPermissions: "rwm"},
					{PathOnHost: "/dev/sda", PathInContainer: "/dev/xvda", CgroupPermissions: "r"},
				}
				if !reflect.DeepEqual(h.Devices, wantDev) {
					t.Errorf("devices = %+v", h.Devices)
				}
				r := h.Resources
				if r.Memory != 1<<30 || r.MemoryReservation != 1<<29 || r.MemorySwap != 2<<30 || *r.MemorySwappiness != 10 ||
					r.NanoCPUs != 1_500_000_000 || r.CPUShares != 512 || r.CPUQuota != 50000 || r.CPUPeriod != 100000 ||
					r.CpusetCpus != "0-1" || *r.PidsLimit != 100 || !*r.OomKillDisable || r.CgroupParent != "/parent" {
					t.Errorf("resources = %+v", r)
				}
			},
		},
		{
			name: "host settings",
			spec: func(s *engine.ContainerSpec) {
				s.Init = ptr(true)
				s.Privileged, s.ReadOnly = true, true
				s.CapAdd, s.CapDrop = []string{"NET_ADMIN"}, []string{"ALL"}
				s.SecurityOpt = []string{"no-new-privileges"}
				s.DNS, s.DNSSearch, s.DNSOptions = []string{"1.1.1.1", "2606:4700::1111"}, []string{"example.com"}, []string{"ndots:2"}
				s.ExtraHosts = []string{"db:10.0.0.2"}
				s.GroupAdd = []string{"audio"}
				s.Sysctls = map[string]string{"net.core.somaxconn": "1024"}
				s.LogDriver, s.LogOpts = "json-file", map[string]string{"max-size": "1m"}
				s.ShmSize = 64 << 20
				s.IpcMode, s.PidMode, s.UsernsMode = "shareable", "host", "host"
				s.VolumesFrom, s.Links = []string{"other:ro"}, []string{"db:database"}
				s.Runtime, s.OomScoreAdj = "runc", 100
				s.Platform = "linux/arm64/v8"
				s.NetworkMode = "host"
			},
			check: func(t *testing.T, o client.ContainerCreateOptions, _ []engine.EndpointSpec) {
				h := o.HostConfig
				if h.Init == nil || !*h.Init || !h.Privileged || !h.ReadonlyRootfs {
					t.Errorf("init/privileged/readonly: %+v", h)
				}
				if !reflect.DeepEqual(h.CapAdd, []string{"NET_ADMIN"}) || !reflect.DeepEqual(h.CapDrop, []string{"ALL"}) || !reflect.DeepEqual(h.SecurityOpt, []string{"no-new-privileges"}) {
					t.Errorf("caps/security: %v %v %v", h.CapAdd, h.CapDrop, h.SecurityOpt)
				}
				if !reflect.DeepEqual(h.DNS, []netip.Addr{netip.MustParseAddr("1.1.1.1"), netip.MustParseAddr("2606:4700::1111")}) ||
					!reflect.DeepEqual(h.DNSSearch, []string{"example.com"}) || !reflect.DeepEqual(h.DNSOptions, []string{"ndots:2"}) {
					t.Errorf("dns: %v %v %v", h.DNS, h.DNSSearch, h.DNSOptions)
				}
				if !reflect.DeepEqual(h.ExtraHosts, []string{"db:10.0.0.2"}) || !reflect.DeepEqual(h.GroupAdd, []string{"audio"}) || h.Sysctls["net.core.somaxconn"] != "1024" {
					t.Errorf("hosts/groups/sysctls: %v %v %v", h.ExtraHosts, h.GroupAdd, h.Sysctls)
				}
				if h.LogConfig.Type != "json-file" || h.LogConfig.Config["max-size"] != "1m" || h.ShmSize != 64<<20 {
					t.Errorf("log/shm: %+v %d", h.LogConfig, h.ShmSize)
				}
				if h.IpcMode != "shareable" || h.PidMode != "host" || h.UsernsMode != "host" || h.Runtime != "runc" || h.OomScoreAdj != 100 {
					t.Errorf("modes: %+v", h)
				}
				if !reflect.DeepEqual(h.VolumesFrom, []string{"other:ro"}) || !reflect.DeepEqual(h.Links, []string{"db:database"}) {
					t.Errorf("volumes from/links: %v %v", h.VolumesFrom, h.Links)
				}
				if o.Platform == nil || o.Platform.OS != "linux" || o.Platform.Architecture != "arm64" || o.Platform.Variant != "v8" {
					t.Errorf("platform = %+v", o.Platform)
				}
				if h.NetworkMode != "host" || o.NetworkingConfig != nil {
					t.Errorf("network mode %q config %v", h.NetworkMode, o.NetworkingConfig)
				}
			},
		},
		{
			name: "several networks on API 1.41: first at create, others to connect",
			api:  "1.41",
			spec: func(s *engine.ContainerSpec) {
				s.Networks = []engine.EndpointSpec{
					{Network: "p_front", Aliases: []string{"web", "www"}, IPv4Address: "172.30.0.5"},
					{Network: "p_back", Aliases: []string{"web"}},
					{Network: "p_db"},
				}
			},
			check: func(t *testing.T, o client.ContainerCreateOptions, connect []engine.EndpointSpec) {
				if o.HostConfig.NetworkMode != "p_front" {
					t.Errorf("network mode = %q", o.HostConfig.NetworkMode)
				}
				eps := o.NetworkingConfig.EndpointsConfig
				if len(eps) != 1 || eps["p_front"] == nil {
					t.Fatalf("endpoints = %v, want only p_front", eps)
				}
				if !reflect.DeepEqual(eps["p_front"].Aliases, []string{"web", "www"}) || eps["p_front"].IPAMConfig.IPv4Address != netip.MustParseAddr("172.30.0.5") {
					t.Errorf("p_front endpoint = %+v", eps["p_front"])
				}
				if len(connect) != 2 || connect[0].Network != "p_back" || connect[1].Network != "p_db" || !reflect.DeepEqual(connect[0].Aliases, []string{"web"}) {
					t.Errorf("connect = %+v", connect)
				}
			},
		},
		{
			name: "several networks on API 1.44: all at create",
			api:  "1.44",
			spec: func(s *engine.ContainerSpec) {
				s.MacAddress = "02:42:ac:11:00:02"
				s.Networks = []engine.EndpointSpec{
					{Network: "p_front", Aliases: []string{"web"}, Priority: 10},
					{Network: "p_back", IPv6Address: "fd00::5", MacAddress: "02:42:ac:11:00:03"},
				}
			},
			check: func(t *testing.T, o client.ContainerCreateOptions, connect []engine.EndpointSpec) {
				eps := o.NetworkingConfig.EndpointsConfig
				if o.HostConfig.NetworkMode != "p_front" || len(eps) != 2 || len(connect) != 0 {
					t.Fatalf("mode %q endpoints %v connect %v", o.HostConfig.NetworkMode, eps, connect)
				}
				if eps["p_front"].GwPriority != 10 || eps["p_front"].MacAddress.String() != "02:42:ac:11:00:02" {
					t.Errorf("p_front = %+v", eps["p_front"])
				}
				if eps["p_back"].IPAMConfig.IPv6Address != netip.MustParseAddr("fd00::5") || eps["p_back"].MacAddress.String() != "02:42:ac:11:00:03" {
					t.Errorf("p_back = %+v", eps["p_back"])
				}
			},
		},
		{
			name: "mac address needs API 1.44",
			api:  "1.41",
			spec: func(s *engine.ContainerSpec) {
				s.MacAddress = "02:42:ac:11:00:02"
				s.Networks = []engine.EndpointSpec{{Network: "n"}}
			},
			wantErr: "mac_address needs API 1.44",
		},
		{
			name: "invalid values are collected",
			spec: func(s *engine.ContainerSpec) {
				s.DNS = []string{"not-an-ip"}
				s.Ports = []engine.PortBinding{{ContainerPort: 80, HostIP: "bad"}}
				s.Platform = "linux//"
			},
			wantErr: `dns server "not-an-ip"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			spec := base()
			tt.spec(&spec)
			api := tt.api
			if api == "" {
				api = "1.41"
			}
			o, connect, err := toCreateOptions(spec, api)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, o, connect)
			// The request must serialise: the client sends it as JSON.
			if _, err := json.Marshal(container.CreateRequest{Config: o.Config, HostConfig: o.HostConfig, NetworkingConfig: o.NetworkingConfig}); err != nil {
				t.Errorf("marshal: %v", err)
			}
		})
	}
}

func TestInvalidValuesAreAllReported(t *testing.T) {
	t.Parallel()
	spec := engine.ContainerSpec{
		Name: "x", Image: "i",
		DNS:      []string{"not-an-ip"},
		Ports:    []engine.PortBinding{{ContainerPort: 80, HostIP: "bad"}},
		Platform: "linux//",
	}
	_, _, err := toCreateOptions(spec, "1.41")
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"dns server", "host ip \"bad\"", "platform \"linux//\""} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestHealthFromStatus(t *testing.T) {
	t.Parallel()
	tests := map[string]engine.Health{
		"Up 3 seconds (healthy)":           engine.HealthHealthy,
		"Up 1 minute (unhealthy)":          engine.HealthUnhealthy,
		"Up 2 seconds (health: starting)":  engine.HealthStarting,
		"Up 5 hours":                       engine.HealthNone,
		"Exited (0) 3 seconds ago":         engine.HealthNone,
		"Up 3 seconds (Paused)":            engine.HealthNone,
		"Restarting (1) 2 seconds ago":     engine.HealthNone,
		"Up 10 seconds (healthy) (Paused)": engine.HealthHealthy,
	}
	for status, want := range tests {
		if got := healthFromStatus(status); got != want {
			t.Errorf("healthFromStatus(%q) = %q, want %q", status, got, want)
		}
	}
}

func TestFromSummary(t *testing.T) {
	t.Parallel()
	s := container.Summary{
		ID:      "abc",
		Names:   []string{"/other/alias", "/p-db-1"},
		Image:   "postgres",
		State:   container.StateRunning,
		Status:  "Up 3 seconds (health: starting)",
		Created: 1700000000,
		Labels:  map[string]string{"a": "b"},
		Ports:   []container.PortSummary{{IP: netip.MustParseAddr("0.0.0.0"), PrivatePort: 5432, PublicPort: 15432, Type: "tcp"}, {PrivatePort: 9, Type: "udp"}},
		NetworkSettings: &container.NetworkSettingsSummary{Networks: map[string]*network.EndpointSettings{
			"p_z": {}, "p_a": {},
		}},
		Mounts: []container.MountPoint{{Type: mount.TypeVolume, Name: "p_data", Source: "/var/lib/docker/volumes/p_data/_data", Destination: "/data", RW: false}},
	}
	c := fromSummary(s)
	want := engine.Container{
		ID: "abc", Name: "p-db-1", Image: "postgres", Labels: map[string]string{"a": "b"},
		State: engine.StateRunning, Status: "Up 3 seconds (health: starting)", Health: engine.HealthStarting,
		Created: time.Unix(1700000000, 0),
		Ports: []engine.PortSummary{
			{IP: "0.0.0.0", PrivatePort: 5432, PublicPort: 15432, Protocol: "tcp"},
			{PrivatePort: 9, Protocol: "udp"},
		},
		Networks: []string{"p_a", "p_z"},
		Mounts:   []engine.MountPoint{{Type: "volume", Name: "p_data", Source: "/var/lib/docker/volumes/p_data/_data", Destination: "/data", ReadOnly: true}},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("fromSummary =\n%+v\nwant\n%+v", c, want)
	}
}

func TestFromInspect(t *testing.T) {
	t.Parallel()
	r := container.InspectResponse{
		ID:      "abc",
		Name:    "/p-web-1",
		Image:   "sha256:img",
		Created: "2024-01-02T03:04:05.123456789Z",
		Path:    "/app",
		Args:    []string{"-v"},
		State: &container.State{
			Status: container.StateExited, ExitCode: 3, OOMKilled: true, Error: "boom", Pid: 0,
			StartedAt: "2024-01-02T03:04:06Z", FinishedAt: "2024-01-02T03:04:07Z",
			Health: &container.Health{Status: container.Unhealthy, Log: []*container.HealthcheckResult{{Output: "one"}, {Output: "two"}}},
		},
		RestartCount: 2,
		Config:       &container.Config{Image: "web:latest", Tty: true, Env: []string{"A=1"}, User: "app", WorkingDir: "/w", Labels: map[string]string{"k": "v"}},
		Mounts:       []container.MountPoint{{Type: mount.TypeBind, Source: "/h", Destination: "/c", RW: true}},
		NetworkSettings: &container.NetworkSettings{
			Ports: network.PortMap{
				network.MustParsePort("80/tcp"): {{HostIP: netip.MustParseAddr("0.0.0.0"), HostPort: "8080"}},
				network.MustParsePort("53/udp"): nil,
			},
			Networks: map[string]*network.EndpointSettings{"p_default": {IPAddress: netip.MustParseAddr("172.18.0.2")}},
		},
	}
	d := fromInspect(r)
	if d.Name != "p-web-1" || d.Image != "web:latest" || d.ImageID != "sha256:img" || d.Labels["k"] != "v" || d.Command != "/app -v" {
		t.Errorf("identity: %+v", d.Container)
	}
	if d.State != engine.StateExited || d.ExitCode != 3 || !d.OOMKilled || d.Error != "boom" || d.RestartCount != 2 {
		t.Errorf("state: %+v", d)
	}
	if !d.StartedAt.Equal(time.Date(2024, 1, 2, 3, 4, 6, 0, time.UTC)) || !d.FinishedAt.Equal(time.Date(2024, 1, 2, 3, 4, 7, 0, time.UTC)) ||
		!d.Created.Equal(time.Date(2024, 1, 2, 3, 4, 5, 123456789, time.UTC)) {
		t.Errorf("times: %v %v %v", d.Created, d.StartedAt, d.FinishedAt)
	}
	if d.Health != engine.HealthUnhealthy || !reflect.DeepEqual(d.HealthLog, []string{"one", "two"}) {
		t.Errorf("health: %q %v", d.Health, d.HealthLog)
	}
	if !d.TTY || d.User != "app" || d.WorkingDir != "/w" || !reflect.DeepEqual(d.Env, []string{"A=1"}) {
		t.Errorf("config: %+v", d)
	}
	if !reflect.DeepEqual(d.Mounts, []engine.MountPoint{{Type: "bind", Source: "/h", Destination: "/c"}}) {
		t.Errorf("mounts: %+v", d.Mounts)
	}
	wantPorts := []engine.PortSummary{{PrivatePort: 53, Protocol: "udp"}, {IP: "0.0.0.0", PrivatePort: 80, PublicPort: 8080, Protocol: "tcp"}}
	if !reflect.DeepEqual(d.Ports, wantPorts) {
		t.Errorf("ports: %+v", d.Ports)
	}
	if !reflect.DeepEqual(d.Networks, []string{"p_default"}) || d.NetworkIPs["p_default"] != "172.18.0.2" {
		t.Errorf("networks: %v %v", d.Networks, d.NetworkIPs)
	}
	// A never-started container reports the zero time as 0001-01-01.
	if got := parseTime("0001-01-01T00:00:00Z"); !got.IsZero() {
		t.Errorf("zero time parsed as %v", got)
	}
}

func TestToNetworkCreate(t *testing.T) {
	t.Parallel()
	spec := engine.NetworkSpec{
		Name: "p_net", Driver: "bridge", DriverOpts: map[string]string{"o": "1"}, Labels: map[string]string{"l": "v"},
		Internal: true, Attachable: true, EnableIPv6: ptr(true),
		IPAM: engine.IPAM{Driver: "default", Options: map[string]string{"x": "y"}, Configs: []engine.IPAMConfig{
			{Subnet: "172.30.0.0/16", IPRange: "172.30.5.0/24", Gateway: "172.30.0.1", AuxAddress: map[string]string{"host1": "172.30.1.5"}},
		}},
	}
	o, err := toNetworkCreate(spec)
	if err != nil {
		t.Fatal(err)
	}
	want := client.NetworkCreateOptions{
		Driver: "bridge", Options: map[string]string{"o": "1"}, Labels: map[string]string{"l": "v"},
		Internal: true, Attachable: true, EnableIPv6: ptr(true),
		IPAM: &network.IPAM{Driver: "default", Options: map[string]string{"x": "y"}, Config: []network.IPAMConfig{{
			Subnet: netip.MustParsePrefix("172.30.0.0/16"), IPRange: netip.MustParsePrefix("172.30.5.0/24"),
			Gateway: netip.MustParseAddr("172.30.0.1"), AuxAddress: map[string]netip.Addr{"host1": netip.MustParseAddr("172.30.1.5")},
		}}},
	}
	if !reflect.DeepEqual(o, want) {
		t.Errorf("toNetworkCreate =\n%+v\nwant\n%+v", o, want)
	}
	if o, err := toNetworkCreate(engine.NetworkSpec{Name: "plain"}); err != nil || o.IPAM != nil {
		t.Errorf("plain network: %+v %v", o, err)
	}
	if _, err := toNetworkCreate(engine.NetworkSpec{Name: "bad", IPAM: engine.IPAM{Configs: []engine.IPAMConfig{{Subnet: "nope"}}}}); err == nil {
		t.Error("want an error for a bad subnet")
	}
}

func TestDecodeProgress(t *testing.T) {
	t.Parallel()
	stream := `{"status":"Pulling from library/alpine","id":"3"}
{"status":"Downloading","progressDetail":{"current":10,"total":100},"id":"abc"}
{"stream":"Step 1/2 : FROM scratch\n"}
{"aux":{"ID":"sha256:deadbeef"}}
{"errorDetail":{"message":"no space left"},"error":"no space left"}
{"status":"never read"}
`
	var lines []engine.ProgressLine
	var aux []string
	err := decodeProgress(strings.NewReader(stream), func(l engine.ProgressLine) { lines = append(lines, l) }, func(m json.RawMessage) { aux = append(aux, string(m)) })
	if err == nil || err.Error() != "no space left" {
		t.Fatalf("err = %v, want the stream's error", err)
	}
	want := []engine.ProgressLine{
		{ID: "3", Status: "Pulling from library/alpine"},
		{ID: "abc", Status: "Downloading", Current: 10, Total: 100},
		{Stream: "Step 1/2 : FROM scratch\n"},
		{Error: "no space left"},
	}
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("lines =\n%+v\nwant\n%+v", lines, want)
	}
	if !reflect.DeepEqual(aux, []string{`{"ID":"sha256:deadbeef"}`}) {
		t.Errorf("aux = %v", aux)
	}
	// An "error" text without errorDetail is an error too; a clean stream is not.
	if err := decodeProgress(strings.NewReader(`{"error":"denied"}`), nil, nil); err == nil || err.Error() != "denied" {
		t.Errorf("err = %v, want denied", err)
	}
	if err := decodeProgress(strings.NewReader(`{"status":"done"}`), nil, nil); err != nil {
		t.Errorf("err = %v", err)
	}
}

func TestParsePlatform(t *testing.T) {
	t.Parallel()
	for in, ok := range map[string]bool{"linux": true, "linux/amd64": true, "linux/arm/v7": true, "": false, "/amd64": false, "a/b/c/d": false, "linux/": false} {
		_, err := parsePlatform(in)
		if (err == nil) != ok {
			t.Errorf("parsePlatform(%q) err = %v, want ok=%v", in, err, ok)
		}
	}
}

func TestContainerName(t *testing.T) {
	t.Parallel()
	if got := containerName([]string{"/a/b", "/web"}); got != "web" {
		t.Errorf("got %q", got)
	}
	if got := containerName(nil); got != "" {
		t.Errorf("got %q", got)
	}
}

// inspect20_10 is how Docker 20.10 (API 1.41) answers the inspect of a
// container composer created with a rich spec on two user networks and
// started: the image's labels and PATH merged in, capabilities prefixed,
// the engine's defaults (log options, ShmSize, IpcMode, Runtime,
// MemorySwap) filled in, the bind that had to create its host path sent as
// a Binds string, the tmpfs of HostConfig.Tmpfs absent from Mounts, and
// the short id and the hostname appended to each endpoint's aliases.
const inspect20_10 = `{
  "Id": "b4a1089384bed6ed9d13f4f69382697394893eaa281fd7c1cbd48b30be8d6c7f",
  "Name": "/p-web-1",
  "HostConfig": {
    "Binds": ["/srv/created:/created"],
    "LogConfig": {"Type": "json-file", "Config": {"max-file": "3", "max-size": "1m"}},
    "NetworkMode": "p_front",
    "PortBindings": {
      "81/tcp": [{"HostIp": "", "HostPort": ""}],
      "53/udp": [{"HostIp": "", "HostPort": ""}],
      "80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "18080"}, {"HostIp": "::1", "HostPort": "18081"}]
    },
    "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 3},
    "VolumesFrom": null,
    "CapAdd": ["CAP_NET_ADMIN"],
    "CapDrop": ["CAP_MKNOD"],
    "Dns": ["8.8.8.8"],
    "DnsOptions": ["ndots:2"],
    "DnsSearch": ["example.com"],
    "ExtraHosts": ["somehost:10.0.0.1"],
    "GroupAdd": null,
    "IpcMode": "private",
    "Links": null,
    "OomScoreAdj": 0,
    "PidMode": "",
    "Privileged": false,
    "ReadonlyRootfs": true,
    "SecurityOpt": null,
    "Tmpfs": {"/run": "size=64k"},
    "UsernsMode": "",
    "ShmSize": 67108864,
    "Sysctls": {"net.ipv4.ip_forward": "1"},
    "Runtime": "runc",
    "CpuShares": 0,
    "Memory": 67108864,
    "NanoCpus": 500000000,
    "CgroupParent": "",
    "Devices": null,
    "MemorySwap": 134217728,
    "MemorySwappiness": null,
    "OomKillDisable": false,
    "PidsLimit": null,
    "Ulimits": [{"Name": "nofile", "Hard": 2048, "Soft": 1024}],
    "Mounts": [
      {"Type": "volume", "Source": "p_data", "Target": "/data", "ReadOnly": true},
      {"Type": "volume", "Target": "/anon"},
      {"Type": "bind", "Source": "/srv/in", "Target": "/in", "ReadOnly": true},
      {"Type": "tmpfs", "Target": "/tmpm", "TmpfsOptions": {"SizeBytes": 1048576, "Mode": 1023}}
    ],
    "Init": true
  },
  "Mounts": [
    {"Type": "volume", "Name": "af240286c57bc36252234f725b734b80447823ada73e5eaeec09cdab039f12f9", "Source": "/var/lib/docker/volumes/af240286c57bc36252234f725b734b80447823ada73e5eaeec09cdab039f12f9/_data", "Destination": "/anon", "Driver": "local", "Mode": "z", "RW": true, "Propagation": ""},
    {"Type": "bind", "Source": "/srv/in", "Destination": "/in", "Mode": "", "RW": false, "Propagation": "rprivate"},
    {"Type": "tmpfs", "Source": "", "Destination": "/tmpm", "Mode": "", "RW": true, "Propagation": ""},
    {"Type": "bind", "Source": "/srv/created", "Destination": "/created", "Mode": "", "RW": true, "Propagation": "rprivate"},
    {"Type": "volume", "Name": "p_data", "Source": "/var/lib/docker/volumes/p_data/_data", "Destination": "/data", "Driver": "local", "Mode": "z", "RW": false, "Propagation": ""},
    {"Type": "volume", "Name": "3717c4b45540", "Source": "/var/lib/docker/volumes/3717c4b45540/_data", "Destination": "/vol", "Driver": "local", "Mode": "", "RW": true, "Propagation": ""}
  ],
  "Config": {
    "Hostname": "hh",
    "Domainname": "ex.com",
    "User": "1000:1000",
    "AttachStdin": false,
    "AttachStdout": true,
    "AttachStderr": true,
    "ExposedPorts": {"9000/tcp": {}, "53/udp": {}, "80/tcp": {}, "81/tcp": {}, "7000/tcp": {}},
    "Tty": false,
    "OpenStdin": false,
    "StdinOnce": false,
    "Env": ["A=1", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
    "Cmd": ["sleep", "1h"],
    "Healthcheck": {"Test": ["CMD", "/app", "exit", "0"], "Interval": 2000000000, "Timeout": 1000000000, "StartPeriod": 3000000000, "Retries": 3},
    "Image": "web:latest",
    "Volumes": {"/vol": {}},
    "WorkingDir": "/w",
    "Entrypoint": ["/app"],
    "OnBuild": null,
    "Labels": {"a": "b", "from.image": "yes"},
    "StopSignal": "SIGINT",
    "StopTimeout": 7
  },
  "NetworkSettings": {
    "Ports": {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "18080"}], "81/tcp": [{"HostIp": "0.0.0.0", "HostPort": "32768"}]},
    "Networks": {
      "p_back": {"IPAMConfig": null, "Links": ["p-db-1:db"], "Aliases": ["web", "b4a1089384be", "hh"], "IPAddress": "172.19.0.2", "MacAddress": "02:42:ac:13:00:02"},
      "p_front": {"IPAMConfig": {"IPv4Address": "172.18.0.9"}, "Links": null, "Aliases": ["web", "hh", "www", "b4a1089384be"], "IPAddress": "172.18.0.9", "MacAddress": "02:42:ac:12:00:02"}
    }
  }
}`

func TestFromInspectConfig(t *testing.T) {
	t.Parallel()
	var r container.InspectResponse
	if err := json.Unmarshal([]byte(inspect20_10), &r); err != nil {
		t.Fatal(err)
	}
	got := fromInspect(r).Config
	want := engine.ContainerSpec{
		Name:         "p-web-1",
		Image:        "web:latest",
		Labels:       map[string]string{"a": "b", "from.image": "yes"},
		Env:          []string{"A=1", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		Cmd:          []string{"sleep", "1h"},
		Entrypoint:   []string{"/app"},
		WorkingDir:   "/w",
		User:         "1000:1000",
		Hostname:     "hh",
		Domainname:   "ex.com",
		AttachStdout: true, AttachStderr: true,
		StopSignal:  "SIGINT",
		StopTimeout: ptr(7),
		Healthcheck: &engine.Healthcheck{Test: []string{"CMD", "/app", "exit", "0"}, Interval: 2 * time.Second, Timeout: time.Second, StartPeriod: 3 * time.Second, Retries: 3},
		// Sorted by number; the published ports and the image's are exposed too.
		ExposedPorts: []string{"53/udp", "80/tcp", "81/tcp", "7000/tcp", "9000/tcp"},
		// What was asked, not what is bound: "" is any port on every address.
		Ports: []engine.PortBinding{
			{ContainerPort: 53, Protocol: "udp"},
			{ContainerPort: 80, Protocol: "tcp", HostIP: "127.0.0.1", HostPort: "18080"},
			{ContainerPort: 80, Protocol: "tcp", HostIP: "::1", HostPort: "18081"},
			{ContainerPort: 81, Protocol: "tcp"},
		},
		Mounts: []engine.Mount{
			{Type: engine.MountVolume, Source: "af240286c57bc36252234f725b734b80447823ada73e5eaeec09cdab039f12f9", Target: "/anon"},
			{Type: engine.MountBind, Source: "/srv/created", Target: "/created", Propagation: "rprivate", CreateHostPath: true},
			{Type: engine.MountVolume, Source: "p_data", Target: "/data", ReadOnly: true},
			{Type: engine.MountBind, Source: "/srv/in", Target: "/in", ReadOnly: true, Propagation: "rprivate"},
			{Type: engine.MountTmpfs, Target: "/tmpm", TmpfsSize: 1 << 20, TmpfsMode: 0o1777},
			{Type: engine.MountVolume, Source: "3717c4b45540", Target: "/vol"}, // the image's VOLUME
		},
		Restart:     engine.RestartPolicy{Name: "on-failure", MaxRetries: 3},
		Init:        ptr(true),
		ReadOnly:    true,
		CapAdd:      []string{"CAP_NET_ADMIN"},
		CapDrop:     []string{"CAP_MKNOD"},
		DNS:         []string{"8.8.8.8"},
		DNSSearch:   []string{"example.com"},
		DNSOptions:  []string{"ndots:2"},
		ExtraHosts:  []string{"somehost:10.0.0.1"},
		Ulimits:     []engine.Ulimit{{Name: "nofile", Soft: 1024, Hard: 2048}},
		Sysctls:     map[string]string{"net.ipv4.ip_forward": "1"},
		LogDriver:   "json-file",
		LogOpts:     map[string]string{"max-file": "3", "max-size": "1m"},
		ShmSize:     64 << 20,
		Resources:   engine.Resources{Memory: 64 << 20, MemorySwap: 128 << 20, NanoCPUs: 500_000_000},
		NetworkMode: "p_front",
		IpcMode:     "private",
		Runtime:     "runc",
		Networks: []engine.EndpointSpec{
			// The network the mode names comes first. "hh" before the short
			// id was asked for; the engine's additions follow the short id.
			{Network: "p_front", Aliases: []string{"web", "hh", "www"}, IPv4Address: "172.18.0.9"},
			{Network: "p_back", Aliases: []string{"web"}, Links: []string{"p-db-1:db"}},
		},
		Tmpfs: map[string]string{"/run": "size=64k"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Config =\n%+v\nwant\n%+v", got, want)
	}
}

func TestFromInspectConfigDetails(t *testing.T) {
	t.Parallel()
	const id = "0796d263d4360473f734175140c88f391544657c1436783422deaab435d526f2"
	tests := []struct {
		name  string
		r     container.InspectResponse
		check func(t *testing.T, c engine.ContainerSpec)
	}{
		{
			name: "nothing set: the engine's defaults, no endpoints of a shared stack",
			r: container.InspectResponse{ID: id, Name: "/c", HostConfig: &container.HostConfig{
				NetworkMode: "container:" + id, PidMode: container.PidMode("container:" + id),
				Resources: container.Resources{OomKillDisable: ptr(false), PidsLimit: ptr(int64(0)), MemorySwappiness: ptr(int64(-1))},
				LogConfig: container.LogConfig{Type: "none", Config: map[string]string{}},
			}, Config: &container.Config{Hostname: id[:12], Labels: map[string]string{}, Env: []string{}}, NetworkSettings: &container.NetworkSettings{}},
			check: func(t *testing.T, c engine.ContainerSpec) {
				want := engine.ContainerSpec{
					Name: "c", Hostname: id[:12], Restart: engine.RestartPolicy{Name: "no"},
					NetworkMode: "container:" + id, PidMode: "container:" + id, LogDriver: "none",
				}
				if !reflect.DeepEqual(c, want) {
					t.Errorf("Config =\n%+v\nwant\n%+v", c, want)
				}
			},
		},
		{
			name: "limits set to their unset values stay set",
			r: container.InspectResponse{HostConfig: &container.HostConfig{Resources: container.Resources{
				OomKillDisable: ptr(true), PidsLimit: ptr(int64(-1)), MemorySwappiness: ptr(int64(0)),
				Devices: []container.DeviceMapping{{PathOnHost: "/dev/null", PathInContainer: "/dev/xnull", CgroupPermissions: "rwm"}},
			}}},
			check: func(t *testing.T, c engine.ContainerSpec) {
				r := c.Resources
				if r.OomKillDisable == nil || !*r.OomKillDisable || r.PidsLimit == nil || *r.PidsLimit != -1 || r.MemSwappiness == nil || *r.MemSwappiness != 0 {
					t.Errorf("resources = %+v", r)
				}
				if want := []engine.Device{{PathOnHost: "/dev/null", PathInContainer: "/dev/xnull", CgroupPermissions: "rwm"}}; !reflect.DeepEqual(c.Devices, want) {
					t.Errorf("devices = %+v", c.Devices)
				}
			},
		},
		{
			name: "legacy links read back as name:alias",
			r: container.InspectResponse{HostConfig: &container.HostConfig{
				Links: []string{"/p-db-1:/p-web-1/db", "/p-cache-1:/p-web-1/p-cache-1", "odd"},
			}},
			check: func(t *testing.T, c engine.ContainerSpec) {
				if want := []string{"p-db-1:db", "p-cache-1:p-cache-1", "odd"}; !reflect.DeepEqual(c.Links, want) {
					t.Errorf("links = %v, want %v", c.Links, want)
				}
			},
		},
		{
			name: "the same bind mount from Mounts with create-host-path, and volume options",
			r: container.InspectResponse{
				HostConfig: &container.HostConfig{Mounts: []mount.Mount{
					{Type: mount.TypeBind, Source: "/h", Target: "/in", BindOptions: &mount.BindOptions{Propagation: mount.PropagationRShared, CreateMountpoint: true}},
					{Type: mount.TypeVolume, Source: "v", Target: "/v", VolumeOptions: &mount.VolumeOptions{NoCopy: true, Subpath: "sub", Labels: map[string]string{"k": "v"}}},
					// A target reused by another type does not lend its options.
					{Type: mount.TypeTmpfs, Target: "/t", TmpfsOptions: &mount.TmpfsOptions{SizeBytes: 1}},
				}},
				Mounts: []container.MountPoint{
					{Type: mount.TypeVolume, Name: "v", Source: "/var/lib/docker/volumes/v/_data", Destination: "/v", RW: true},
					{Type: mount.TypeBind, Source: "/h", Destination: "/in", RW: true, Propagation: mount.PropagationRShared},
					{Type: mount.TypeVolume, Name: "w", Destination: "/t", RW: true},
				},
			},
			check: func(t *testing.T, c engine.ContainerSpec) {
				want := []engine.Mount{
					{Type: engine.MountBind, Source: "/h", Target: "/in", Propagation: "rshared", CreateHostPath: true},
					{Type: engine.MountVolume, Source: "w", Target: "/t"},
					{Type: engine.MountVolume, Source: "v", Target: "/v", NoCopy: true, Subpath: "sub", VolumeLabels: map[string]string{"k": "v"}},
				}
				if !reflect.DeepEqual(c.Mounts, want) {
					t.Errorf("mounts =\n%+v\nwant\n%+v", c.Mounts, want)
				}
			},
		},
		{
			name: "endpoints of engines from API 1.45 keep every alias, with priority and addresses",
			r: container.InspectResponse{
				ID: id, HostConfig: &container.HostConfig{NetworkMode: "b"}, Config: &container.Config{Hostname: "web"},
				NetworkSettings: &container.NetworkSettings{Networks: map[string]*network.EndpointSettings{
					"c": nil,
					"b": {Aliases: []string{"web", "x"}, GwPriority: 5, IPAMConfig: &network.EndpointIPAMConfig{IPv6Address: netip.MustParseAddr("fd00::5")}, DNSNames: []string{"web", id[:12]}},
					"a": {Aliases: []string{}},
				}},
			},
			check: func(t *testing.T, c engine.ContainerSpec) {
				want := []engine.EndpointSpec{
					{Network: "b", Aliases: []string{"web", "x"}, Priority: 5, IPv6Address: "fd00::5"},
					{Network: "a"},
					{Network: "c"},
				}
				if !reflect.DeepEqual(c.Networks, want) {
					t.Errorf("networks =\n%+v\nwant\n%+v", c.Networks, want)
				}
			},
		},
		{
			name: "platform from the image's manifest descriptor",
			r:    container.InspectResponse{Platform: "linux", ImageManifestDescriptor: &ocispec.Descriptor{Platform: &ocispec.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}}},
			check: func(t *testing.T, c engine.ContainerSpec) {
				if c.Platform != "linux/arm64/v8" {
					t.Errorf("platform = %q", c.Platform)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.check(t, fromInspectConfig(tt.r))
		})
	}
}

func TestUserAliases(t *testing.T) {
	t.Parallel()
	const short = "b4a1089384be"
	tests := []struct {
		aliases []string
		want    []string
	}{
		{nil, nil},
		{[]string{short}, nil},
		{[]string{"web", short}, []string{"web"}},
		{[]string{"web", short, "hh"}, []string{"web"}},
		{[]string{"hh", short}, []string{"hh"}},        // asked for, before the short id
		{[]string{"web", "hh"}, []string{"web", "hh"}}, // API 1.45: nothing added
		{[]string{"web", short, "other"}, []string{"web", "other"}},
	}
	for _, tt := range tests {
		if got := userAliases(tt.aliases, short, "hh"); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("userAliases(%v) = %v, want %v", tt.aliases, got, tt.want)
		}
	}
}

// TestInspectInvertsCreate sends specs through toCreateOptions, stores the
// request the way the engine does (its JSON; anonymous volumes named; the
// short id appended to the aliases of connected networks, as API 1.41
// does) and reads it back with fromInspect: what comes back is the spec,
// normalised (protocols and defaults spelled out, published ports
// exposed, mounts by target).
func TestInspectInvertsCreate(t *testing.T) {
	t.Parallel()
	const id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	spec := engine.ContainerSpec{
		Name: "p-web-1", Image: "web:1", Labels: map[string]string{"l": "v"}, Env: []string{"A=1"},
		Cmd: []string{"run"}, Entrypoint: []string{"/app"}, WorkingDir: "/w", User: "app", Hostname: "web", Domainname: "ex.com",
		TTY: true, OpenStdin: true, AttachStdin: true, AttachStdout: true,
		StopSignal: "SIGINT", StopTimeout: ptr(3),
		Healthcheck:  &engine.Healthcheck{Test: []string{"CMD-SHELL", "true"}, Interval: time.Second, Timeout: 2 * time.Second, StartPeriod: 3 * time.Second, StartInterval: 4 * time.Second, Retries: 5},
		ExposedPorts: []string{"9000", "9100-9101/udp"},
		Ports: []engine.PortBinding{
			{ContainerPort: 80, HostPort: "8080"},
			{ContainerPort: 80, HostIP: "127.0.0.1", HostPort: "8081"},
			{ContainerPort: 53, Protocol: "UDP", HostPort: "0"},
			{ContainerPort: 443, HostIP: "[::1]", HostPort: "8000-8010"},
		},
		Mounts: []engine.Mount{
			{Type: engine.MountVolume, Source: "data", Target: "/data", ReadOnly: true, NoCopy: true, VolumeLabels: map[string]string{"k": "v"}},
			{Type: engine.MountVolume, Target: "/anon"},
			{Type: engine.MountBind, Source: "/host", Target: "/in", ReadOnly: true, Propagation: "rshared", CreateHostPath: true},
			{Type: engine.MountBind, Source: "/etc/hosts", Target: "/h", Propagation: "rprivate"},
			{Type: engine.MountTmpfs, Target: "/tmp", TmpfsSize: 1 << 20, TmpfsMode: 0o1777},
		},
		Restart: engine.RestartPolicy{Name: "on-failure", MaxRetries: 2},
		Init:    ptr(false), Privileged: true, ReadOnly: true,
		CapAdd: []string{"CAP_NET_ADMIN"}, CapDrop: []string{"ALL"}, SecurityOpt: []string{"no-new-privileges"},
		DNS: []string{"1.1.1.1", "2606:4700::1111"}, DNSSearch: []string{"ex.com"}, DNSOptions: []string{"ndots:2"},
		ExtraHosts: []string{"db:10.0.0.2"}, GroupAdd: []string{"audio"},
		Ulimits:   []engine.Ulimit{{Name: "nofile", Soft: 1, Hard: 2}},
		Sysctls:   map[string]string{"net.core.somaxconn": "1024"},
		LogDriver: "json-file", LogOpts: map[string]string{"max-size": "1m"},
		ShmSize: 1 << 26,
		Devices: []engine.Device{{PathOnHost: "/dev/fuse", PathInContainer: "/dev/fuse", CgroupPermissions: "rwm"}},
		Resources: engine.Resources{
			Memory: 1 << 30, MemoryReservation: 1 << 29, MemorySwap: 2 << 30, MemSwappiness: ptr(int64(10)),
			NanoCPUs: 1_500_000_000, CPUShares: 512, CPUQuota: 50000, CPUPeriod: 100000, CPUSet: "0-1",
			PidsLimit: ptr(int64(100)), OomKillDisable: ptr(true),
		},
		IpcMode: "shareable", PidMode: "host", UsernsMode: "host",
		VolumesFrom: []string{"other:ro"}, Links: []string{"db:database"},
		Runtime: "runc", CgroupParent: "/parent", OomScoreAdj: 100,
		Networks: []engine.EndpointSpec{
			{Network: "p_front", Aliases: []string{"web", "www"}, IPv4Address: "172.30.0.5", Links: []string{"p-db-1:db"}},
			{Network: "p_back", Aliases: []string{"web"}, IPv6Address: "fd00::5"},
			{Network: "p_db"},
		},
		Tmpfs: map[string]string{"/run": "size=64m"},
	}
	want := spec
	want.ExposedPorts = []string{"53/udp", "80/tcp", "443/tcp", "9000/tcp", "9100/udp", "9101/udp"}
	want.Ports = []engine.PortBinding{
		{ContainerPort: 53, Protocol: "udp"},
		{ContainerPort: 80, Protocol: "tcp", HostPort: "8080"},
		{ContainerPort: 80, Protocol: "tcp", HostIP: "127.0.0.1", HostPort: "8081"},
		{ContainerPort: 443, Protocol: "tcp", HostIP: "::1", HostPort: "8000-8010"},
	}
	want.NetworkMode = "p_front"
	want.Mounts = []engine.Mount{
		{Type: engine.MountVolume, Source: "anon-0", Target: "/anon"},
		{Type: engine.MountVolume, Source: "data", Target: "/data", ReadOnly: true, NoCopy: true, VolumeLabels: map[string]string{"k": "v"}},
		{Type: engine.MountBind, Source: "/etc/hosts", Target: "/h", Propagation: "rprivate"},
		{Type: engine.MountBind, Source: "/host", Target: "/in", ReadOnly: true, Propagation: "rshared", CreateHostPath: true},
		{Type: engine.MountTmpfs, Target: "/tmp", TmpfsSize: 1 << 20, TmpfsMode: 0o1777},
	}
	// The mode's network first, then by name.
	spec.Networks[1], spec.Networks[2] = spec.Networks[2], spec.Networks[1]
	want.Networks = []engine.EndpointSpec{spec.Networks[0], spec.Networks[2], spec.Networks[1]}

	for _, api := range []string{"1.41", "1.44"} {
		t.Run(api, func(t *testing.T) {
			t.Parallel()
			opts, connect, err := toCreateOptions(spec, api)
			if err != nil {
				t.Fatal(err)
			}
			r := storeAsEngine(t, id, opts, connect)
			if got := fromInspect(r).Config; !reflect.DeepEqual(got, want) {
				t.Errorf("Config =\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

// storeAsEngine is what an engine at API 1.41 answers to an inspect of the
// container created with opts and then connected to connect.
func storeAsEngine(t *testing.T, id string, opts client.ContainerCreateOptions, connect []engine.EndpointSpec) container.InspectResponse {
	t.Helper()
	r := container.InspectResponse{
		ID: id, Name: "/" + opts.Name, Config: opts.Config, HostConfig: opts.HostConfig,
		NetworkSettings: &container.NetworkSettings{Networks: map[string]*network.EndpointSettings{}},
	}
	if opts.NetworkingConfig != nil {
		for name, es := range opts.NetworkingConfig.EndpointsConfig {
			r.NetworkSettings.Networks[name] = es
		}
	}
	for _, ep := range connect {
		es, err := toEndpointSettings(ep)
		if err != nil {
			t.Fatal(err)
		}
		es.Aliases = append(es.Aliases, id[:12], opts.Config.Hostname)
		r.NetworkSettings.Networks[ep.Network] = es
	}
	anon := 0
	for _, m := range opts.HostConfig.Mounts {
		p := container.MountPoint{Type: m.Type, Source: m.Source, Destination: m.Target, RW: !m.ReadOnly}
		switch m.Type {
		case mount.TypeVolume:
			p.Name = m.Source
			if p.Name == "" {
				p.Name = fmt.Sprintf("anon-%d", anon)
				anon++
			}
			p.Source = "/var/lib/docker/volumes/" + p.Name + "/_data"
		case mount.TypeBind:
			p.Propagation = mount.PropagationRPrivate
			if m.BindOptions != nil && m.BindOptions.Propagation != "" {
				p.Propagation = m.BindOptions.Propagation
			}
		}
		r.Mounts = append(r.Mounts, p)
	}
	for _, b := range opts.HostConfig.Binds {
		parts := strings.Split(b, ":")
		p := container.MountPoint{Type: mount.TypeBind, Source: parts[0], Destination: parts[1], RW: true, Propagation: mount.PropagationRPrivate}
		if len(parts) > 2 {
			for _, o := range strings.Split(parts[2], ",") {
				switch o {
				case "ro":
					p.RW = false
				default:
					p.Propagation = mount.Propagation(o)
				}
			}
		}
		r.Mounts = append(r.Mounts, p)
	}
	// Through JSON, as the answer arrives.
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var out container.InspectResponse
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestFromImageInspect(t *testing.T) {
	t.Parallel()
	const answer = `{
	  "Id": "sha256:92a1",
	  "RepoTags": ["app:v"],
	  "Created": "2024-01-02T03:04:05Z",
	  "Size": 42,
	  "Config": {
	    "User": "123",
	    "ExposedPorts": {"7001/udp": {}, "7000/tcp": {}, "443/tcp": {}},
	    "Env": ["PATH=/usr/bin", "B=2"],
	    "Cmd": ["sleep", "1h"],
	    "Healthcheck": {"Test": ["CMD", "/app", "exit", "0"], "Interval": 5000000000, "Timeout": 2000000000, "StartPeriod": 1000000000, "Retries": 4},
	    "Volumes": {"/vol2": {}, "/vol": {}},
	    "WorkingDir": "/srv",
	    "Entrypoint": ["/app"],
	    "OnBuild": null,
	    "Labels": {"x": "y"},
	    "StopSignal": "SIGUSR1"
	  }
	}`
	var r image.InspectResponse
	if err := json.Unmarshal([]byte(answer), &r); err != nil {
		t.Fatal(err)
	}
	got := fromImageInspect(r)
	want := engine.Image{
		ID: "sha256:92a1", RepoTags: []string{"app:v"}, Labels: map[string]string{"x": "y"}, Size: 42,
		Created: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
		Config: engine.ImageConfig{
			Env: []string{"PATH=/usr/bin", "B=2"}, Cmd: []string{"sleep", "1h"}, Entrypoint: []string{"/app"},
			WorkingDir: "/srv", User: "123", StopSignal: "SIGUSR1", Labels: map[string]string{"x": "y"},
			ExposedPorts: []string{"443/tcp", "7000/tcp", "7001/udp"},
			Volumes:      []string{"/vol", "/vol2"},
			Healthcheck:  &engine.Healthcheck{Test: []string{"CMD", "/app", "exit", "0"}, Interval: 5 * time.Second, Timeout: 2 * time.Second, StartPeriod: time.Second, Retries: 4},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fromImageInspect =\n%+v\nwant\n%+v", got, want)
	}
	if img := fromImageInspect(image.InspectResponse{ID: "x"}); !reflect.DeepEqual(img.Config, engine.ImageConfig{}) {
		t.Errorf("no config: %+v", img.Config)
	}
}
