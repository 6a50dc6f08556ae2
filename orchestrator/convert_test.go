package orchestrator

import (
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/labels"
)

const convertYAML = `
services:
  app:
    image: example/app:1.0
    command: ["serve", "--port", "8080"]
    entrypoint: ["/bin/entry"]
    working_dir: /srv
    user: "1000:1000"
    hostname: apphost
    environment:
      ZED: last
      ALPHA: first
      MIDDLE: "2"
    labels:
      team: core
    ports:
      - "8080:8080"
      - "127.0.0.1:9000:9000/udp"
      - "5000"
    expose: ["7000", "7001/udp"]
    volumes:
      - data:/data
      - ./conf:/etc/app:ro
      - /cache
      - type: tmpfs
        target: /scratch
        tmpfs:
          size: 1048576
    healthcheck:
      test: ["CMD", "curl", "-f", "http://localhost:8080"]
      interval: 5s
      timeout: 2s
      retries: 4
      start_period: 10s
    restart: on-failure:3
    ulimits:
      nofile:
        soft: 1024
        hard: 2048
      nproc: 512
    networks:
      back:
        aliases: [api]
        priority: 10
      front:
        priority: 100
        aliases: [www]
      other: {}
    depends_on:
      db:
        condition: service_healthy
      cache:
        condition: service_started
        restart: true
    stop_grace_period: 1m30s
    stop_signal: SIGINT
    cap_add: [NET_ADMIN]
    extra_hosts: ["somehost:162.242.195.82"]
    tmpfs: ["/run:size=64k"]
  db:
    image: postgres
  cache:
    image: redis
  sidecar:
    image: busybox
    network_mode: service:app
    volumes_from: [app:ro]
volumes:
  data: {}
networks:
  front: {}
  back: {}
  other: {}
`

func TestContainerSpec(t *testing.T) {
	t.Parallel()
	p := loadYAML(t, "proj", convertYAML)
	spec, err := containerSpec(specInput{
		project: p, service: p.Services["app"], name: "proj-app-1", number: 1,
		hash: "h4sh", imageID: "sha256:img",
	})
	if err != nil {
		t.Fatalf("containerSpec: %v", err)
	}
	grace := 90
	checks := []struct {
		field     string
		got, want any
	}{
		{"Name", spec.Name, "proj-app-1"},
		{"Image", spec.Image, "example/app:1.0"},
		{"Cmd", spec.Cmd, []string{"serve", "--port", "8080"}},
		{"Entrypoint", spec.Entrypoint, []string{"/bin/entry"}},
		{"WorkingDir", spec.WorkingDir, "/srv"},
		{"User", spec.User, "1000:1000"},
		{"Hostname", spec.Hostname, "apphost"},
		{"Env", spec.Env, []string{"ALPHA=first", "MIDDLE=2", "ZED=last"}},
		{"ExposedPorts", spec.ExposedPorts, []string{"5000/tcp", "7000/tcp", "7001/udp", "8080/tcp", "9000/udp"}},
		{"Ports", spec.Ports, []engine.PortBinding{
			{ContainerPort: 8080, Protocol: "tcp", HostPort: "8080"},
			{ContainerPort: 9000, Protocol: "udp", HostIP: "127.0.0.1", HostPort: "9000"},
			{ContainerPort: 5000, Protocol: "tcp"},
		}},
		{"Restart", spec.Restart, engine.RestartPolicy{Name: "on-failure", MaxRetries: 3}},
		{"Ulimits", spec.Ulimits, []engine.Ulimit{{Name: "nofile", Soft: 1024, Hard: 2048}, {Name: "nproc", Soft: 512, Hard: 512}}},
		{"Healthcheck", spec.Healthcheck, &engine.Healthcheck{
			Test: []string{"CMD", "curl", "-f", "http://localhost:8080"}, Interval: 5 * time.Second,
			Timeout: 2 * time.Second, StartPeriod: 10 * time.Second, Retries: 4,
		}},
		{"StopTimeout", spec.StopTimeout, &grace},
		{"StopSignal", spec.StopSignal, "SIGINT"},
		{"CapAdd", spec.CapAdd, []string{"NET_ADMIN"}},
		{"ExtraHosts", spec.ExtraHosts, []string{"somehost:162.242.195.82"}},
		{"Tmpfs", spec.Tmpfs, map[string]string{"/run": "size=64k"}},
		{"NetworkMode", spec.NetworkMode, "proj_front"},
		{"Networks", spec.Networks, []engine.EndpointSpec{
			{Network: "proj_front", Aliases: []string{"app", "www"}, Priority: 100},
			{Network: "proj_back", Aliases: []string{"app", "api"}, Priority: 10},
			{Network: "proj_other", Aliases: []string{"app"}},
		}},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.field, c.got, c.want)
		}
	}

	wantMounts := []engine.Mount{
		{Type: engine.MountVolume, Source: "proj_data", Target: "/data"},
		{Type: engine.MountBind, Source: filepath.Join(p.WorkingDir, "conf"), Target: "/etc/app", ReadOnly: true, CreateHostPath: true},
		{Type: engine.MountVolume, Source: "", Target: "/cache"},
		{Type: engine.MountTmpfs, Target: "/scratch", TmpfsSize: 1 << 20},
	}
	if len(spec.Mounts) != len(wantMounts) {
		t.Fatalf("Mounts = %+v, want %+v", spec.Mounts, wantMounts)
	}
	for i, want := range wantMounts {
		got := spec.Mounts[i]
		got.VolumeLabels = nil
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Mounts[%d] = %+v, want %+v", i, got, want)
		}
	}

	wantLabels := map[string]string{
		"team":             "core",
		labels.Project:     "proj",
		labels.Service:     "app",
		labels.Number:      "1",
		labels.Oneoff:      labels.False,
		labels.ConfigHash:  "h4sh",
		labels.Image:       "sha256:img",
		labels.WorkingDir:  p.WorkingDir,
		labels.ConfigFiles: filepath.Join(p.WorkingDir, "compose.yaml"),
		labels.Version:     labels.ComposeVersion,
		labels.DependsOn:   "cache:service_started:true,db:service_healthy:false",
	}
	if !reflect.DeepEqual(spec.Labels, wantLabels) {
		t.Errorf("Labels =\n%v\nwant\n%v", spec.Labels, wantLabels)
	}
}

func TestContainerSpecIsPure(t *testing.T) {
	t.Parallel()
	p := loadYAML(t, "proj", convertYAML)
	in := specInput{project: p, service: p.Services["app"], name: "proj-app-1", number: 1, hash: "h"}
	first, err := containerSpec(in)
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		again, err := containerSpec(in)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(first, again) {
			t.Fatalf("containerSpec differs between calls:\n%+v\n%+v", first, again)
		}
	}
}

func TestContainerSpecServiceReferences(t *testing.T) {
	t.Parallel()
	p := loadYAML(t, "proj", convertYAML)
	lookup := func(svc string) (string, error) {
		if svc == "app" {
			return "appid", nil
		}
		return "", fmt.Errorf("no container found for service %q", svc)
	}
	spec, err := containerSpec(specInput{project: p, service: p.Services["sidecar"], name: "proj-sidecar-1", number: 1, containerOf: lookup})
	if err != nil {
		t.Fatal(err)
	}
	if spec.NetworkMode != "container:appid" {
		t.Errorf("NetworkMode = %q, want container:appid", spec.NetworkMode)
	}
	if len(spec.Networks) != 0 {
		t.Errorf("Networks = %+v, want none for a shared network stack", spec.Networks)
	}
	if want := []string{"appid:ro"}; !reflect.DeepEqual(spec.VolumesFrom, want) {
		t.Errorf("VolumesFrom = %v, want %v", spec.VolumesFrom, want)
	}

	// Without a container to point at, the reference is an error naming
	// the missing service.
	_, err = containerSpec(specInput{project: p, service: p.Services["sidecar"], name: "x", number: 1,
		containerOf: func(string) (string, error) { return "", fmt.Errorf("no container found for service %q", "app") }})
	if err == nil || !strings.Contains(err.Error(), `"app"`) {
		t.Errorf("containerSpec with no app container: err = %v, want one naming \"app\"", err)
	}
}

func TestContainerSpecRecreateInheritsAnonymousVolumes(t *testing.T) {
	t.Parallel()
	p := loadYAML(t, "proj", convertYAML)
	old := &engine.Container{ID: "0123456789abcdef", Mounts: []engine.MountPoint{
		{Type: "volume", Name: "proj_data", Destination: "/data"},
		{Type: "volume", Name: "anon123", Destination: "/cache"},
		{Type: "bind", Source: "/x", Destination: "/etc/app"},
	}}
	spec, err := containerSpec(specInput{project: p, service: p.Services["app"], name: "tmp", number: 1, inherit: old, replaces: old.ID})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, m := range spec.Mounts {
		if m.Type == engine.MountVolume {
			got[m.Target] = m.Source
		}
	}
	if want := map[string]string{"/data": "proj_data", "/cache": "anon123"}; !reflect.DeepEqual(got, want) {
		t.Errorf("volume mounts = %v, want %v", got, want)
	}
	if spec.Labels[labels.Replace] != old.ID {
		t.Errorf("replace label = %q, want %q", spec.Labels[labels.Replace], old.ID)
	}
}

func TestContainerSpecRestartPolicies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		yaml string
		want engine.RestartPolicy
	}{
		{"restart: always", engine.RestartPolicy{Name: "always"}},
		{"restart: unless-stopped", engine.RestartPolicy{Name: "unless-stopped"}},
		{"restart: \"no\"", engine.RestartPolicy{Name: "no"}},
		{"restart: on-failure:5", engine.RestartPolicy{Name: "on-failure", MaxRetries: 5}},
		{"deploy: {restart_policy: {condition: any}}", engine.RestartPolicy{Name: "always"}},
		{"deploy: {restart_policy: {condition: on-failure, max_attempts: 2}}", engine.RestartPolicy{Name: "on-failure", MaxRetries: 2}},
		{"image: alpine", engine.RestartPolicy{}},
	}
	for _, tt := range tests {
		t.Run(tt.yaml, func(t *testing.T) {
			t.Parallel()
			yaml := "services:\n  s:\n    image: alpine\n"
			if tt.yaml != "image: alpine" {
				yaml += "    " + tt.yaml + "\n"
			}
			p := loadYAML(t, "proj", yaml)
			spec, err := containerSpec(specInput{project: p, service: p.Services["s"], name: "n", number: 1})
			if err != nil {
				t.Fatal(err)
			}
			if spec.Restart != tt.want {
				t.Errorf("Restart = %+v, want %+v", spec.Restart, tt.want)
			}
		})
	}
}
