package e2e

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestServiceFieldsReachTheContainer checks that what a service declares ends
// up in the container the engine runs, as docker compose would set it.
func TestServiceFieldsReachTheContainer(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	p := NewProject(t, fmt.Sprintf(`
services:
  app:
    image: IMAGE
    entrypoint: ["/app", "serve"]
    command: ["8080", "published"]
    environment:
      FROM_MAP: map-value
      EMPTY: ""
    env_file: [app.env]
    working_dir: /work
    user: "1234:5678"
    hostname: apphost
    labels:
      com.example.team: e2e
    ports:
      - "127.0.0.1:%d:8080"
    healthcheck:
      test: ["CMD", "/app", "http-get", "http://localhost:8080/health"]
      interval: 2s
      timeout: 3s
      retries: 4
      start_period: 1s
    restart: unless-stopped
    init: false
    extra_hosts:
      - "myhost:10.1.2.3"
    cap_add: [NET_ADMIN]
    cap_drop: [MKNOD]
    read_only: true
    ulimits:
      nofile:
        soft: 1024
        hard: 2048
    sysctls:
      net.core.somaxconn: "1024"
    shm_size: 64m
    mem_limit: 256m
    stop_signal: SIGINT
    dns: [10.0.0.53]
  withinit:
    image: IMAGE
    init: true
    restart: on-failure:3
    deploy:
      resources:
        limits:
          memory: 128m
          cpus: "0.5"
`, port))
	p.WriteFile("app.env", "FROM_FILE=file-value\n# a comment\nOVERRIDDEN=file\n")
	p.Up()

	c := InspectContainer(t, p.ContainerName("app", 1))
	check := func(field string, ok bool, got any) {
		t.Helper()
		if !ok {
			t.Errorf("%s: got %v", field, got)
		}
	}
	check("entrypoint", strings.Join(c.Config.Entrypoint, " ") == "/app serve", c.Config.Entrypoint)
	check("command", strings.Join(c.Config.Cmd, " ") == "8080 published", c.Config.Cmd)
	check("environment map", c.HasEnv("FROM_MAP=map-value") && c.HasEnv("EMPTY="), c.Config.Env)
	check("env_file", c.HasEnv("FROM_FILE=file-value") && c.HasEnv("OVERRIDDEN=file"), c.Config.Env)
	check("working_dir", c.Config.WorkingDir == "/work", c.Config.WorkingDir)
	check("user", c.Config.User == "1234:5678", c.Config.User)
	check("hostname", c.Config.Hostname == "apphost", c.Config.Hostname)
	check("labels", c.Config.Labels["com.example.team"] == "e2e", c.Config.Labels)
	check("ports", len(c.HostConfig.PortBindings["8080/tcp"]) == 1 &&
		c.HostConfig.PortBindings["8080/tcp"][0].HostIp == "127.0.0.1" &&
		c.HostConfig.PortBindings["8080/tcp"][0].HostPort == fmt.Sprint(port), c.HostConfig.PortBindings)
	hc := c.Config.Healthcheck
	check("healthcheck", hc != nil && strings.Join(hc.Test, " ") == "CMD /app http-get http://localhost:8080/health" &&
		hc.Interval == 2*time.Second && hc.Timeout == 3*time.Second && hc.Retries == 4 && hc.StartPeriod == time.Second, hc)
	check("restart", c.HostConfig.RestartPolicy.Name == "unless-stopped", c.HostConfig.RestartPolicy)
	check("extra_hosts", contains(c.HostConfig.ExtraHosts, "myhost:10.1.2.3"), c.HostConfig.ExtraHosts)
	check("cap_add", contains(c.HostConfig.CapAdd, "NET_ADMIN") || contains(c.HostConfig.CapAdd, "CAP_NET_ADMIN"), c.HostConfig.CapAdd)
	check("cap_drop", contains(c.HostConfig.CapDrop, "MKNOD") || contains(c.HostConfig.CapDrop, "CAP_MKNOD"), c.HostConfig.CapDrop)
	check("read_only", c.HostConfig.ReadonlyRootfs, c.HostConfig.ReadonlyRootfs)
	check("ulimits", len(c.HostConfig.Ulimits) == 1 && c.HostConfig.Ulimits[0].Name == "nofile" &&
		c.HostConfig.Ulimits[0].Soft == 1024 && c.HostConfig.Ulimits[0].Hard == 2048, c.HostConfig.Ulimits)
	check("sysctls", c.HostConfig.Sysctls["net.core.somaxconn"] == "1024", c.HostConfig.Sysctls)
	check("shm_size", c.HostConfig.ShmSize == 64<<20, c.HostConfig.ShmSize)
	check("mem_limit", c.HostConfig.Memory == 256<<20, c.HostConfig.Memory)
	check("stop_signal", c.Config.StopSignal == "SIGINT", c.Config.StopSignal)
	check("dns", contains(c.HostConfig.Dns, "10.0.0.53"), c.HostConfig.Dns)
	check("init false", c.HostConfig.Init == nil || !*c.HostConfig.Init, c.HostConfig.Init)

	w := InspectContainer(t, p.ContainerName("withinit", 1))
	check("init", w.HostConfig.Init != nil && *w.HostConfig.Init, w.HostConfig.Init)
	check("restart on-failure", w.HostConfig.RestartPolicy.Name == "on-failure" && w.HostConfig.RestartPolicy.MaximumRetryCount == 3, w.HostConfig.RestartPolicy)
	check("deploy memory", w.HostConfig.Memory == 128<<20, w.HostConfig.Memory)
	check("deploy cpus", w.HostConfig.NanoCpus == 5e8, w.HostConfig.NanoCpus)

	// The environment really reaches the process.
	env, ok := Exec(c.Name, "env")
	check("process environment", ok && strings.Contains(env, "FROM_FILE=file-value") && strings.Contains(env, "HOSTNAME=apphost"), env)

	// The published port answers on the host.
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	var body string
	Eventually(t, 20*time.Second, func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return resp.StatusCode == 200
	}, "published port "+url)
	check("published port body", body == "published", body)

	// And the healthcheck runs.
	Eventually(t, 30*time.Second, func() bool {
		h := InspectContainer(t, c.Name).State.Health
		return h != nil && h.Status == "healthy"
	}, "app to become healthy")
}

func TestEnvironmentOverridesEnvFile(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  app:
    image: IMAGE
    env_file: [a.env, b.env]
    environment:
      - SET_IN_BOTH=environment
`)
	p.WriteFile("a.env", "SET_IN_BOTH=a\nFROM_A=a\nLATER=a\n")
	p.WriteFile("b.env", "LATER=b\n")
	p.Up()
	c := InspectContainer(t, p.ContainerName("app", 1))
	for _, kv := range []string{"SET_IN_BOTH=environment", "FROM_A=a", "LATER=b"} {
		if !c.HasEnv(kv) {
			t.Errorf("env lacks %s: %v", kv, c.Config.Env)
		}
	}
}
