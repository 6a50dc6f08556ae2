package examples_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/composer-orchestrator/composer/tests/testimage"
)

// The Airflow components: each merges x-airflow-common.
var airflowServices = []string{
	"airflow-init", "airflow-apiserver", "airflow-scheduler",
	"airflow-dag-processor", "airflow-worker", "airflow-triggerer",
}

// The long-running Airflow components, which wait for airflow-init.
var airflowAfterInit = airflowServices[1:]

// loadConfig runs `composer config` and decodes its YAML.
func loadConfig(t *testing.T, p *project, global ...string) map[string]any {
	t.Helper()
	out := p.must(append(global, "config")...)
	var cfg map[string]any
	if err := yaml.Unmarshal([]byte(out), &cfg); err != nil {
		t.Fatalf("composer config printed no YAML: %v\n%s", err, out)
	}
	return cfg
}

func services(t *testing.T, cfg map[string]any) map[string]map[string]any {
	t.Helper()
	raw, ok := cfg["services"].(map[string]any)
	if !ok {
		t.Fatalf("config has no services map: %v", cfg)
	}
	svcs := map[string]map[string]any{}
	for name, s := range raw {
		m, ok := s.(map[string]any)
		if !ok {
			t.Fatalf("service %s is a %T", name, s)
		}
		svcs[name] = m
	}
	return svcs
}

// environment reads a service's environment in map or list form.
func environment(svc map[string]any) map[string]string {
	env := map[string]string{}
	switch e := svc["environment"].(type) {
	case map[string]any:
		for k, v := range e {
			if v == nil {
				env[k] = ""
			} else {
				env[k] = fmt.Sprint(v)
			}
		}
	case []any:
		for _, kv := range e {
			k, v, _ := strings.Cut(fmt.Sprint(kv), "=")
			env[k] = v
		}
	}
	return env
}

// conditions reads a service's depends_on as dependency -> condition.
func conditions(svc map[string]any) map[string]string {
	deps := map[string]string{}
	switch d := svc["depends_on"].(type) {
	case map[string]any:
		for k, v := range d {
			c, _ := v.(map[string]any)
			cond, _ := c["condition"].(string)
			deps[k] = cond
		}
	case []any:
		for _, k := range d {
			deps[fmt.Sprint(k)] = "service_started"
		}
	}
	return deps
}

// mountTargets lists where a service's volumes are mounted.
func mountTargets(svc map[string]any) []string {
	var targets []string
	vols, _ := svc["volumes"].([]any)
	for _, v := range vols {
		switch v := v.(type) {
		case map[string]any:
			targets = append(targets, fmt.Sprint(v["target"]))
		case string:
			parts := strings.Split(v, ":")
			if len(parts) > 1 {
				targets = append(targets, parts[1])
			}
		}
	}
	sort.Strings(targets)
	return targets
}

func keys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// `composer config` resolves the x-airflow-common anchor into every Airflow
// service, applies the defaults and overrides of the variables, keeps the
// depends_on conditions and hides flower until its profile is asked for.
func TestAirflowConfig(t *testing.T) {
	t.Parallel()
	p := newProject(t, "airflow", "airflow-config", "compose.yaml")

	svcs := services(t, loadConfig(t, p))
	want := append([]string{"postgres", "redis"}, airflowServices...)
	sort.Strings(want)
	if got := keys(svcs); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("services = %v; want %v (flower only with its profile)", got, want)
	}

	wantMounts := "/opt/airflow/config /opt/airflow/dags /opt/airflow/logs /opt/airflow/plugins"
	for _, name := range airflowServices {
		svc := svcs[name]
		if svc["image"] != "apache/airflow:3.0.2" {
			t.Errorf("%s: image = %v; want the default apache/airflow:3.0.2", name, svc["image"])
		}
		env := environment(svc)
		if env["AIRFLOW__CORE__EXECUTOR"] != "CeleryExecutor" ||
			env["AIRFLOW__CELERY__BROKER_URL"] != "redis://redis:6379/0" ||
			!strings.Contains(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"], "@postgres/airflow") {
			t.Errorf("%s: the common environment is not merged in: %v", name, env)
		}
		if got := strings.Join(mountTargets(svc), " "); got != wantMounts {
			t.Errorf("%s: mounts = %s; want %s", name, got, wantMounts)
		}
		wantUser := "50000:0"
		if name == "airflow-init" {
			wantUser = "0:0"
		}
		if svc["user"] != wantUser {
			t.Errorf("%s: user = %v; want %s", name, svc["user"], wantUser)
		}
	}
	if env := environment(svcs["airflow-worker"]); env["DUMB_INIT_SETSID"] != "0" || env["AIRFLOW__CORE__EXECUTOR"] != "CeleryExecutor" {
		t.Errorf("airflow-worker: its own environment must add to the common one: %v", env)
	}
	if env := environment(svcs["airflow-init"]); env["_AIRFLOW_DB_MIGRATE"] != "true" {
		t.Errorf("airflow-init: _AIRFLOW_DB_MIGRATE missing: %v", env)
	}

	healthy := map[string]string{"postgres": "service_healthy", "redis": "service_healthy"}
	if got := conditions(svcs["airflow-init"]); fmt.Sprint(got) != fmt.Sprint(healthy) {
		t.Errorf("airflow-init depends_on = %v; want %v", got, healthy)
	}
	for _, name := range airflowAfterInit {
		want := map[string]string{
			"postgres":     "service_healthy",
			"redis":        "service_healthy",
			"airflow-init": "service_completed_successfully",
		}
		if name == "airflow-worker" {
			want["airflow-apiserver"] = "service_healthy"
		}
		if got := conditions(svcs[name]); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s depends_on = %v; want %v", name, got, want)
		}
	}
	for _, name := range []string{"postgres", "redis"} {
		if _, ok := svcs[name]["healthcheck"]; !ok {
			t.Errorf("%s has no healthcheck", name)
		}
	}
	if got := mountTargets(svcs["postgres"]); len(got) != 1 || got[0] != "/var/lib/postgresql/data" {
		t.Errorf("postgres mounts = %v", got)
	}

	// Variables override the defaults.
	p.env = []string{"AIRFLOW_IMAGE_NAME=example.test/airflow:custom", "AIRFLOW_UID=1234"}
	svcs = services(t, loadConfig(t, p, "--profile", "flower"))
	flower, ok := svcs["flower"]
	if !ok {
		t.Fatalf("--profile flower: no flower service in %v", keys(svcs))
	}
	for _, name := range append([]string{"flower"}, airflowAfterInit...) {
		if svcs[name]["image"] != "example.test/airflow:custom" || svcs[name]["user"] != "1234:0" {
			t.Errorf("%s: image %v user %v; want the values from AIRFLOW_IMAGE_NAME and AIRFLOW_UID",
				name, svcs[name]["image"], svcs[name]["user"])
		}
	}
	if environment(flower)["AIRFLOW__CORE__EXECUTOR"] != "CeleryExecutor" {
		t.Errorf("flower: common environment missing")
	}
	if conditions(flower)["airflow-init"] != "service_completed_successfully" {
		t.Errorf("flower depends_on = %v", conditions(flower))
	}
}

// event is one line of `docker events --format '{{json .}}'`.
type event struct {
	Type   string
	Action string
	Actor  struct {
		ID         string
		Attributes map[string]string
	}
	TimeNano int64 `json:"timeNano"`
}

// eventLog collects the engine's container events for one project.
type eventLog struct {
	mu     sync.Mutex // guards events: appended by the reader goroutine, read by the test
	events []event
}

// watchEvents streams the project's container events from now until the
// test ends. --since replays what happened between the call and the
// subscription, so no event is missed however late the stream connects.
func watchEvents(t *testing.T, project string) *eventLog {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	now := time.Now()
	cmd := exec.CommandContext(ctx, "docker", "events",
		"--since", fmt.Sprintf("%d.%09d", now.Unix(), now.Nanosecond()),
		"--filter", "type=container",
		"--filter", "label="+projectLabel+"="+project,
		"--format", "{{json .}}")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("docker events: %v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("docker events: %v", err)
	}
	l := &eventLog{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var e event
			if json.Unmarshal(sc.Bytes(), &e) == nil {
				l.mu.Lock()
				l.events = append(l.events, e)
				l.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		_ = cmd.Wait()
	})
	return l
}

// first returns the time of the service's first event with the action.
func (l *eventLog) first(service, action string) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.events {
		if e.Action == action && e.Actor.Attributes["com.docker.compose.service"] == service {
			return time.Unix(0, e.TimeNano), true
		}
	}
	return time.Time{}, false
}

// With every image swapped for the test image, the stack comes up in the
// order its conditions ask for, flower joins with its profile, and down -v
// removes everything.
func TestAirflowStandin(t *testing.T) {
	t.Parallel()
	requireEngine(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := testimage.Build(ctx, ""); err != nil {
		t.Fatalf("building the test image: %v", err)
	}

	p := newProject(t, "airflow", "airflow", "compose.yaml", "compose.standin.yaml")
	apiPort, flowerPort := freePort(t), freePort(t)
	p.env = []string{fmt.Sprintf("AIRFLOW_API_PORT=%d", apiPort), fmt.Sprintf("FLOWER_PORT=%d", flowerPort)}
	p.cleanupAfter("--profile", "flower")
	events := watchEvents(t, p.name)

	p.must("up", "-d", "--wait")
	cs := inspectProject(t, p.name)
	want := append([]string{"postgres", "redis"}, airflowServices...)
	sort.Strings(want)
	if got := keys(cs); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("containers after up = %v; want %v", got, want)
	}
	initC := cs["airflow-init"]
	if initC.State.Status != "exited" || initC.State.ExitCode != 0 {
		t.Fatalf("airflow-init: status %s, exit code %d; want exited 0", initC.State.Status, initC.State.ExitCode)
	}
	for _, name := range append([]string{"postgres", "redis"}, airflowAfterInit...) {
		if c := cs[name]; !c.State.Running || c.State.Health == nil || c.State.Health.Status == "unhealthy" {
			t.Errorf("%s after up --wait: running %v, health %+v", name, c.State.Running, c.State.Health)
		}
	}

	// up --wait returns once composer's own probe of each health check
	// passes, which may be before the engine's first check; the engine
	// then agrees within its interval, with an event (the project's events
	// are streamed from before up started).
	for _, name := range []string{"postgres", "redis", "airflow-apiserver"} {
		eventually(t, 10*time.Second, name+"'s health_status: healthy event", func() bool {
			_, ok := events.first(name, "health_status: healthy")
			return ok
		})
	}
	// A stand-in is ready (its check can pass) only once it has written
	// its file: 2 s after postgres starts, 1 s after redis does (see
	// compose.standin.yaml). Whoever said healthy, a dependent must not
	// start before that.
	readyAt := map[string]time.Time{
		"postgres":          cs["postgres"].State.StartedAt.Add(2 * time.Second),
		"redis":             cs["redis"].State.StartedAt.Add(time.Second),
		"airflow-apiserver": cs["airflow-apiserver"].State.StartedAt,
	}
	for _, dep := range []string{"postgres", "redis"} {
		if !initC.State.StartedAt.After(readyAt[dep]) {
			t.Errorf("airflow-init started at %s, before %s was ready at %s",
				initC.State.StartedAt.Format(time.RFC3339Nano), dep, readyAt[dep].Format(time.RFC3339Nano))
		}
	}
	for _, name := range airflowAfterInit {
		started := cs[name].State.StartedAt
		if !started.After(initC.State.FinishedAt) {
			t.Errorf("%s started at %s, before airflow-init finished at %s",
				name, started.Format(time.RFC3339Nano), initC.State.FinishedAt.Format(time.RFC3339Nano))
		}
	}
	if w := cs["airflow-worker"].State.StartedAt; !w.After(readyAt["airflow-apiserver"]) {
		t.Errorf("airflow-worker started at %s, before airflow-apiserver started at %s",
			w.Format(time.RFC3339Nano), readyAt["airflow-apiserver"].Format(time.RFC3339Nano))
	}
	t.Logf("postgres ready %s, redis ready %s, init %s..%s",
		readyAt["postgres"].Format(time.StampMicro), readyAt["redis"].Format(time.StampMicro),
		initC.State.StartedAt.Format(time.StampMicro), initC.State.FinishedAt.Format(time.StampMicro))

	// The API server's published port answers.
	status, body, err := get(&http.Client{Timeout: 5 * time.Second}, fmt.Sprintf("http://127.0.0.1:%d/", apiPort))
	if err != nil || status != http.StatusOK || !strings.Contains(body, "api-server") {
		t.Errorf("GET the API server's port: status %d, body %q, error %v", status, body, err)
	}

	// The profile adds flower and leaves the running services alone.
	p.must("--profile", "flower", "up", "-d", "--wait")
	after := inspectProject(t, p.name)
	fl, ok := after["flower"]
	if !ok || !fl.State.Running {
		t.Fatalf("--profile flower up: flower is not running (%v)", keys(after))
	}
	for _, name := range append([]string{"postgres", "redis"}, airflowAfterInit...) {
		if after[name].ID != cs[name].ID {
			t.Errorf("%s was recreated by the flower profile's up", name)
		}
	}
	if !fl.State.StartedAt.After(initC.State.FinishedAt) {
		t.Errorf("flower started before airflow-init finished")
	}
	status, body, err = get(&http.Client{Timeout: 5 * time.Second}, fmt.Sprintf("http://127.0.0.1:%d/", flowerPort))
	if err != nil || status != http.StatusOK || !strings.Contains(body, "flower") {
		t.Errorf("GET flower's port: status %d, body %q, error %v", status, body, err)
	}

	p.must("--profile", "flower", "down", "-v")
	if c, n, v := resources(t, p.name); len(c)+len(n)+len(v) != 0 {
		t.Fatalf("left after down -v: containers %v, networks %v, volumes %v", c, n, v)
	}
}
