package swarm

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"
)

// stackFile is the judged project: a health-checked database, a web
// service that waits for it to be healthy, and a one-shot init an app
// waits for. The routing mesh's virtual IPs need IPVS, which this kernel
// lacks: services use dnsrr and host-mode ports.
const stackFile = `
services:
  db:
    image: IMAGE
    command: ["healthy-after", "3s"]
    volumes:
      - data:/data
    healthcheck:
      test: ["CMD", "/app", "check", "/tmp/healthy"]
      interval: 1s
      retries: 60
    deploy:
      endpoint_mode: dnsrr
  web:
    image: IMAGE
    command: ["serve", "8080"]
    environment:
      LOG_LEVEL: info
    depends_on:
      db: {condition: service_healthy}
    ports:
      - target: 8080
        published: PORT
        mode: host
    configs:
      - source: site
        target: /etc/site.conf
    secrets:
      - token
    deploy:
      endpoint_mode: dnsrr
  init:
    image: IMAGE
    command: ["exit", "0", "2s"]
    deploy:
      endpoint_mode: dnsrr
  app:
    image: IMAGE
    privileged: true
    depends_on:
      init: {condition: service_completed_successfully}
    deploy:
      endpoint_mode: dnsrr
configs:
  site:
    file: ./site.conf
secrets:
  token:
    environment: TOKEN
volumes:
  data:
`

// serviceInfo is what a test reads of a service with docker service
// inspect.
type serviceInfo struct {
	Version   struct{ Index uint64 }
	CreatedAt time.Time
	UpdatedAt time.Time
}

func inspectServices(t *testing.T, names ...string) map[string]serviceInfo {
	t.Helper()
	out := dockerCLI(t, append([]string{"service", "inspect"}, names...)...)
	var infos []struct {
		serviceInfo
		Spec struct{ Name string }
	}
	if err := json.Unmarshal([]byte(out), &infos); err != nil {
		t.Fatalf("docker service inspect: %v", err)
	}
	m := map[string]serviceInfo{}
	for _, i := range infos {
		m[i.Spec.Name] = i.serviceInfo
	}
	return m
}

// firstHealthy is when the container of the service's task first passed
// its health check, from the engine's health log.
func firstHealthy(t *testing.T, service string) time.Time {
	t.Helper()
	id := dockerCLI(t, "ps", "-aq", "--filter", "label=com.docker.swarm.service.name="+service)
	if id == "" {
		t.Fatalf("service %s has no container", service)
	}
	id = strings.Fields(id)[0]
	var states []struct {
		State struct {
			Health struct {
				Log []struct {
					Start    time.Time
					ExitCode int
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(dockerCLI(t, "inspect", id)), &states); err != nil {
		t.Fatal(err)
	}
	for _, l := range states[0].State.Health.Log {
		if l.ExitCode == 0 {
			return l.Start
		}
	}
	t.Fatalf("service %s: no passing health check in the log", service)
	return time.Time{}
}

// finished is when the (stopped) container of a job's task ended.
func finished(t *testing.T, service string) time.Time {
	t.Helper()
	id := strings.Fields(dockerCLI(t, "ps", "-aq", "--filter", "label=com.docker.swarm.service.name="+service))
	if len(id) == 0 {
		t.Fatalf("service %s has no container", service)
	}
	var states []struct {
		State struct {
			ExitCode   int
			FinishedAt time.Time
		}
	}
	if err := json.Unmarshal([]byte(dockerCLI(t, "inspect", id[0])), &states); err != nil {
		t.Fatal(err)
	}
	if states[0].State.ExitCode != 0 {
		t.Fatalf("job %s exited %d", service, states[0].State.ExitCode)
	}
	return states[0].State.FinishedAt
}

func TestDeployInOrderRedeployAndUndeploy(t *testing.T) {
	port := 20000 + rand.IntN(20000)
	p := newProject(t, strings.ReplaceAll(stackFile, "PORT", fmt.Sprint(port)))
	p.write("site.conf", "greeting=hello\n")
	p.write(".env", "TOKEN=s3cret-value\n")
	p.cleanup()
	ns := p.name
	svc := func(s string) string { return ns + "_" + s }

	// Deploy: in order, with the warning.
	r := p.composer("deploy").success(t).mentions(t, "privileged", "app")
	if strings.Contains(r.stdout+r.stderr, "s3cret-value") {
		t.Errorf("the secret's value is printed:\n%s", r)
	}
	infos := inspectServices(t, svc("db"), svc("web"), svc("init"), svc("app"))
	if len(infos) != 4 {
		t.Fatalf("want 4 services, got %v", infos)
	}
	if healthy := firstHealthy(t, svc("db")); !infos[svc("web")].CreatedAt.After(healthy) {
		t.Errorf("web was created at %s, before db was first healthy at %s", infos[svc("web")].CreatedAt, healthy)
	}
	if done := finished(t, svc("init")); !infos[svc("app")].CreatedAt.After(done) {
		t.Errorf("app was created at %s, before init completed at %s", infos[svc("app")].CreatedAt, done)
	}

	// docker stack sees the stack.
	services := dockerCLI(t, "stack", "services", "--format", "{{.Name}}", ns)
	for _, s := range []string{"db", "web", "init", "app"} {
		if !strings.Contains(services, svc(s)) {
			t.Errorf("docker stack services %s does not list %s:\n%s", ns, svc(s), services)
		}
	}
	if stacks := dockerCLI(t, "stack", "ls", "--format", "{{.Name}}"); !strings.Contains(stacks, ns) {
		t.Errorf("docker stack ls does not list %s:\n%s", ns, stacks)
	}

	// The config and secret are mounted in web's task, and web answers on
	// its host-mode port.
	eventually(t, time.Minute, func() bool {
		return dockerCLIOK("ps", "-q", "--filter", "label=com.docker.swarm.service.name="+svc("web"), "--filter", "status=running") != ""
	}, "web's task running")
	webID := strings.Fields(dockerCLI(t, "ps", "-q", "--filter", "label=com.docker.swarm.service.name="+svc("web")))[0]
	if got := dockerCLI(t, "exec", webID, "/app", "read", "/etc/site.conf"); got != "greeting=hello" {
		t.Errorf("config in web: %q", got)
	}
	if got := dockerCLI(t, "exec", webID, "/app", "read", "/run/secrets/token"); got != "s3cret-value" {
		t.Errorf("secret in web: %q", got)
	}
	eventually(t, 30*time.Second, func() bool {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/health", port))
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, "web answering on its host-mode port")

	// Redeploy: nothing is updated.
	p.composer("deploy").success(t).mentions(t, "Unchanged")
	again := inspectServices(t, svc("db"), svc("web"), svc("init"), svc("app"))
	for name, i := range infos {
		if again[name].Version.Index != i.Version.Index {
			t.Errorf("a no-op deploy updated %s: version %d → %d", name, i.Version.Index, again[name].Version.Index)
		}
	}

	// One service's environment changes: that service alone is updated,
	// and the deploy says why. A dry run first changes nothing.
	p.write("compose.yaml", strings.ReplaceAll(strings.ReplaceAll(stackFile, "PORT", fmt.Sprint(port)), "LOG_LEVEL: info", "LOG_LEVEL: debug"))
	p.composer("--dry-run", "deploy").success(t).mentions(t, "DRY-RUN MODE", svc("web"), "environment: LOG_LEVEL changed", "privileged")
	for name, i := range inspectServices(t, svc("db"), svc("web"), svc("init"), svc("app")) {
		if i.Version.Index != infos[name].Version.Index {
			t.Errorf("a dry run updated %s", name)
		}
	}
	r = p.composer("deploy").success(t).mentions(t, "environment: LOG_LEVEL changed")
	if strings.Contains(r.stdout+r.stderr, "debug") {
		t.Errorf("the variable's value is printed:\n%s", r)
	}
	after := inspectServices(t, svc("db"), svc("web"), svc("init"), svc("app"))
	for name, i := range infos {
		changed := after[name].Version.Index != i.Version.Index
		if changed != (name == svc("web")) {
			t.Errorf("%s updated: %v, want %v", name, changed, name == svc("web"))
		}
	}

	// Undeploy leaves nothing of the stack but its volume, which -v
	// removes too.
	p.composer("undeploy").success(t)
	if left := leftovers(t, ns, true); len(left) > 0 {
		t.Errorf("undeploy left %v", left)
	}
	volume := "label=com.docker.stack.namespace=" + ns
	if vols := dockerCLI(t, "volume", "ls", "-q", "--filter", volume); vols != ns+"_data" {
		t.Errorf("after undeploy the stack's volumes are %q, want %s_data kept", vols, ns)
	}
	p.composer("undeploy", "-v").success(t).mentions(t, "Volume "+ns+"_data  Removed")
	if vols := dockerCLI(t, "volume", "ls", "-q", "--filter", volume); vols != "" {
		t.Errorf("undeploy -v left volumes %q", vols)
	}
}

// dockerCLIOK runs the docker CLI and returns its output, or "" if it
// failed.
func dockerCLIOK(args ...string) string {
	out, err := runDocker(args...)
	if err != nil {
		return ""
	}
	return out
}

// A job that fails stops the deploy before what waits for it, with the
// job's exit code; docker stack services and docker stack rm manage what
// composer deployed.
func TestDeployStopsAtAFailedJobAndDockerStackRemoves(t *testing.T) {
	p := newProject(t, `
services:
  migrate:
    image: IMAGE
    command: ["exit", "3"]
    deploy:
      endpoint_mode: dnsrr
  api:
    image: IMAGE
    depends_on:
      migrate: {condition: service_completed_successfully}
    deploy:
      endpoint_mode: dnsrr
  cache:
    image: IMAGE
    deploy:
      endpoint_mode: dnsrr
`)
	p.cleanup()
	r := p.composer("deploy")
	if r.exitCode == 0 {
		t.Fatalf("deploy succeeded with a failing job:\n%s", r)
	}
	r.mentions(t, "migrate did not complete successfully", "exit code 3")
	services := dockerCLI(t, "stack", "services", "--format", "{{.Name}}", p.name)
	if strings.Contains(services, p.name+"_api") {
		t.Errorf("api was created although the job it waits for failed:\n%s", services)
	}
	if !strings.Contains(services, p.name+"_cache") || !strings.Contains(services, p.name+"_migrate") {
		t.Errorf("docker stack services lists %q, want migrate and cache", services)
	}

	// docker stack rm removes it, but for the stopped container of the
	// job's task, which the node keeps; undeploy removes that too.
	dockerCLI(t, "stack", "rm", p.name)
	eventually(t, time.Minute, func() bool { return len(leftovers(t, p.name, false)) == 0 }, "docker stack rm removing the stack")
	p.composer("undeploy").success(t)
	if left := leftovers(t, p.name, true); len(left) > 0 {
		t.Errorf("undeploy after docker stack rm left %v", left)
	}
	p.composer("undeploy").success(t).mentions(t, "nothing to remove")
}
