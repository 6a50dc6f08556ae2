package stack

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/swarm"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/engine/fake"
	"github.com/composer-orchestrator/composer/orchestrator"
)

const deployImage = "app:1"

// judged is the project the issue judges deploy by: a health-checked
// database, a web service waiting for it to be healthy, a one-shot init
// an app waits for, and a field Swarm cannot honour.
const judged = `
name: shop
services:
  db:
    image: app:1
    healthcheck:
      test: ["CMD", "exit", "0"]
      interval: 1s
  web:
    image: app:1
    environment:
      LOG_LEVEL: info
    depends_on:
      db: {condition: service_healthy}
  init:
    image: app:1
    command: ["exit", "0"]
  app:
    image: app:1
    privileged: true
    depends_on:
      init: {condition: service_completed_successfully}
`

// orderedEngine is the fake swarm, checking at every service create that
// the services it depends on meet their conditions at that moment.
type orderedEngine struct {
	*fake.Engine
	t *testing.T
	// deps maps a swarm service name to its dependencies' swarm names and
	// conditions.
	deps map[string]map[string]string
	mu   sync.Mutex
	// created lists the services in the order they were created.
	created []string
}

func (o *orderedEngine) CreateService(ctx context.Context, spec swarm.ServiceSpec) (string, error) {
	for dep, cond := range o.deps[spec.Name] {
		if !o.met(ctx, dep, cond) {
			o.t.Errorf("%s created before %s met %s", spec.Name, dep, cond)
		}
	}
	o.mu.Lock()
	o.created = append(o.created, spec.Name)
	o.mu.Unlock()
	return o.Engine.CreateService(ctx, spec)
}

func (o *orderedEngine) met(ctx context.Context, name, cond string) bool {
	svcs, err := o.Engine.ListServices(ctx, engine.Filter{})
	if err != nil {
		o.t.Fatal(err)
	}
	i := slices.IndexFunc(svcs, func(s engine.Service) bool { return s.Spec.Name == name })
	if i < 0 {
		return false
	}
	tasks, err := o.Engine.ListTasks(ctx, svcs[i].ID)
	if err != nil {
		o.t.Fatal(err)
	}
	for _, t := range tasks {
		switch cond {
		case ConditionCompleted:
			if t.State == engine.TaskComplete {
				return true
			}
		case ConditionHealthy:
			if t.State == engine.TaskRunning && t.ContainerID != "" {
				c, err := o.Engine.InspectContainer(ctx, t.ContainerID)
				if err == nil && c.Health == engine.HealthHealthy {
					return true
				}
			}
		default:
			if t.State == engine.TaskRunning {
				return true
			}
		}
	}
	return false
}

// events collects what deploy reports.
type events struct {
	mu  sync.Mutex
	all []orchestrator.Event
}

func (e *events) Event(ev orchestrator.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.all = append(e.all, ev)
}

// text is every event as one line: kind, name, status, detail.
func (e *events) text() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var b strings.Builder
	for _, ev := range e.all {
		fmt.Fprintf(&b, "%s %s %s %s\n", ev.Kind, ev.Name, ev.Status, ev.Detail)
	}
	return b.String()
}

func newSwarmEngine(t *testing.T) *orderedEngine {
	t.Helper()
	e := fake.New()
	e.AddImage(deployImage)
	e.InitSwarm()
	return &orderedEngine{Engine: e, t: t, deps: map[string]map[string]string{
		"shop_web": {"shop_db": ConditionHealthy},
		"shop_app": {"shop_init": ConditionCompleted},
	}}
}

func deploy(t *testing.T, e Engine, p *types.Project, opts DeployOptions) (*events, error) {
	t.Helper()
	ev := &events{}
	opts.Poll = 10 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := Deploy(ctx, e, p, ev, opts)
	return ev, err
}

func versions(t *testing.T, e Engine) map[string]uint64 {
	t.Helper()
	svcs, err := e.ListServices(context.Background(), engine.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]uint64{}
	for _, s := range svcs {
		m[s.Spec.Name] = s.Version
	}
	return m
}

func TestDeployInDependencyOrder(t *testing.T) {
	e := newSwarmEngine(t)
	p := writeProject(t, judged, nil)
	ev, err := deploy(t, e, p, DeployOptions{})
	if err != nil {
		t.Fatalf("deploy: %v\n%s", err, ev.text())
	}
	if len(e.created) != 4 {
		t.Fatalf("created %v, want 4 services", e.created)
	}
	out := ev.text()
	if !strings.Contains(out, "privileged") {
		t.Errorf("no warning names privileged:\n%s", out)
	}
	for _, want := range []string{"Service shop_db Healthy", "Service shop_init Completed", "Network shop_default Created"} {
		if !strings.Contains(out, want) {
			t.Errorf("progress lacks %q:\n%s", want, out)
		}
	}
}

func TestRedeployChangesOnlyWhatChanged(t *testing.T) {
	e := newSwarmEngine(t)
	if ev, err := deploy(t, e, writeProject(t, judged, nil), DeployOptions{}); err != nil {
		t.Fatalf("deploy: %v\n%s", err, ev.text())
	}
	before := versions(t, e)
	creates := e.Calls("CreateService")

	ev, err := deploy(t, e, writeProject(t, judged, nil), DeployOptions{})
	if err != nil {
		t.Fatalf("redeploy: %v\n%s", err, ev.text())
	}
	if n := e.Calls("UpdateService"); n != 0 {
		t.Errorf("a no-op deploy sent %d updates:\n%s", n, ev.text())
	}
	if n := e.Calls("CreateService"); n != creates {
		t.Errorf("a no-op deploy created %d services", n-creates)
	}
	for _, n := range []string{"CreateNetwork", "CreateConfig", "CreateSecret"} {
		if e.Calls(n) > 1 {
			t.Errorf("%s called %d times over two deploys", n, e.Calls(n))
		}
	}
	if got := versions(t, e); fmt.Sprint(got) != fmt.Sprint(before) {
		t.Errorf("versions %v → %v", before, got)
	}

	changed := strings.Replace(judged, "LOG_LEVEL: info", "LOG_LEVEL: debug", 1)
	ev, err = deploy(t, e, writeProject(t, changed, nil), DeployOptions{DryRun: true})
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	if n := e.Calls("UpdateService"); n != 0 {
		t.Errorf("a dry run sent %d updates", n)
	}
	if !strings.Contains(ev.text(), "Service shop_web Updated (environment: LOG_LEVEL changed)") {
		t.Errorf("the dry run does not say web would be updated and why:\n%s", ev.text())
	}

	ev, err = deploy(t, e, writeProject(t, changed, nil), DeployOptions{})
	if err != nil {
		t.Fatalf("deploy after a change: %v\n%s", err, ev.text())
	}
	after := versions(t, e)
	for name, v := range before {
		if (after[name] != v) != (name == "shop_web") {
			t.Errorf("%s: version %d → %d", name, v, after[name])
		}
	}
	if out := ev.text(); strings.Contains(out, "debug") || !strings.Contains(out, "environment: LOG_LEVEL changed") {
		t.Errorf("the reason is missing or shows the value:\n%s", out)
	}
}

func TestDeployStopsAtAFailedJob(t *testing.T) {
	e := newSwarmEngine(t)
	p := writeProject(t, strings.Replace(judged, `command: ["exit", "0"]`, `command: ["exit", "3"]`, 1), nil)
	ev, err := deploy(t, e, p, DeployOptions{})
	if err == nil || !strings.Contains(err.Error(), "init did not complete successfully") || !strings.Contains(err.Error(), "exit code 3") {
		t.Fatalf("deploy error %v, want init's failure with its exit code\n%s", err, ev.text())
	}
	if slices.Contains(e.created, "shop_app") {
		t.Errorf("app was created although init failed")
	}
}

func TestDeployRefusesWhatIsNotAManager(t *testing.T) {
	for _, st := range []engine.SwarmState{
		{NodeState: "inactive"},
		{NodeState: "active", Manager: false},
	} {
		e := fake.New()
		e.AddImage(deployImage)
		e.SetSwarmState(st)
		_, err := deploy(t, e, writeProject(t, judged, nil), DeployOptions{})
		var nm *NotManagerError
		if !errors.As(err, &nm) || !strings.Contains(err.Error(), "docker swarm init") {
			t.Errorf("state %+v: error %v, want a NotManagerError saying how to make a manager", st, err)
		}
		for _, m := range []string{"CreateNetwork", "CreateService", "CreateConfig", "CreateSecret"} {
			if n := e.Calls(m); n != 0 {
				t.Errorf("state %+v: %s called %d times", st, m, n)
			}
		}
	}
}

func TestDeployRefusesABuildWithoutItsImage(t *testing.T) {
	e := newSwarmEngine(t)
	e.deps = nil
	p := writeProject(t, `
name: shop
services:
  web:
    build: .
`, map[string]string{"Dockerfile": "FROM scratch\n"})
	_, err := deploy(t, e, p, DeployOptions{})
	if err == nil || !strings.Contains(err.Error(), "deploy does not build") || !strings.Contains(err.Error(), "shop-web") {
		t.Fatalf("error %v, want a refusal naming the image and saying why", err)
	}
	if n := e.Calls("CreateNetwork"); n != 0 {
		t.Errorf("a refused deploy created %d networks", n)
	}
	// Built here, the image serves a one-node swarm, and deploy says so.
	e.AddImage("shop-web")
	ev, err := deploy(t, e, p, DeployOptions{})
	if err != nil {
		t.Fatalf("deploy with the image built: %v", err)
	}
	if !strings.Contains(ev.text(), "one-node swarm") {
		t.Errorf("no note on the local image:\n%s", ev.text())
	}
}

func TestUndeployRemovesTheStack(t *testing.T) {
	e := newSwarmEngine(t)
	p := writeProject(t, judged+`
    configs: [site]
configs:
  site:
    content: hello
`, nil)
	if ev, err := deploy(t, e, p, DeployOptions{}); err != nil {
		t.Fatalf("deploy: %v\n%s", err, ev.text())
	}
	ctx := context.Background()
	ev := &events{}
	if err := Undeploy(ctx, e, "shop", ev, UndeployOptions{Poll: 10 * time.Millisecond}); err != nil {
		t.Fatalf("undeploy: %v\n%s", err, ev.text())
	}
	f := engine.Filter{Labels: map[string]string{LabelNamespace: "shop"}}
	svcs, _ := e.ListServices(ctx, f)
	nets, _ := e.ListNetworks(ctx, f)
	cfgs, _ := e.ListConfigs(ctx, f)
	if len(svcs)+len(nets)+len(cfgs) != 0 {
		t.Errorf("left: %d services, %d networks, %d configs", len(svcs), len(nets), len(cfgs))
	}
	ev = &events{}
	if err := Undeploy(ctx, e, "shop", ev, UndeployOptions{}); err != nil || !strings.Contains(ev.text(), "nothing to remove") {
		t.Errorf("second undeploy: %v\n%s", err, ev.text())
	}
}

// An interrupt while a dependency is waited for stops the deploy there:
// what waits is not created, and what was created stays whole.
func TestDeployInterruptedWhileWaiting(t *testing.T) {
	e := newSwarmEngine(t)
	// db's health check never passes: web waits for it.
	e.SetBehaviour(func(s engine.ContainerSpec) bool { return strings.HasPrefix(s.Name, "shop_db.") }, fake.Behaviour{Health: engine.HealthStarting})
	ctx, cancel := context.WithCancel(context.Background())
	ev := &events{}
	done := make(chan error, 1)
	go func() {
		done <- Deploy(ctx, e, writeProject(t, judged, nil), ev, DeployOptions{Poll: 10 * time.Millisecond})
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(ev.text(), "Service shop_db Waiting") {
		if time.Now().After(deadline) {
			t.Fatalf("deploy never waited for db:\n%s", ev.text())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("deploy after the interrupt: %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("deploy did not stop after the interrupt")
	}
	if strings.Contains(ev.text(), "Service shop_db Healthy") {
		t.Fatalf("db became healthy, so the test interrupted nothing:\n%s", ev.text())
	}
	if slices.Contains(e.created, "shop_web") {
		t.Error("web was created after the interrupt")
	}
	if !slices.Contains(e.created, "shop_db") {
		t.Error("db, created before the interrupt, is missing")
	}
}
