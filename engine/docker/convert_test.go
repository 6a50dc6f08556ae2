package docker

import (
	"encoding/json"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

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
