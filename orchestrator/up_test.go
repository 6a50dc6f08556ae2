package orchestrator

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/engine/fake"
	"github.com/composer-orchestrator/composer/labels"
	"github.com/composer-orchestrator/composer/project"
)

func TestUpCreatesResources(t *testing.T) {
	t.Parallel()
	eng, o, _ := newFake("nginx", "postgres")
	p := loadYAML(t, "shop", `
services:
  web:
    image: nginx
    depends_on: [db]
    networks: [front, back]
  db:
    image: postgres
    volumes: [data:/var/lib/postgresql/data]
    networks: [back]
networks:
  front: {}
  back: {}
volumes:
  data: {}
`)
	mustUp(t, o, p, UpOptions{})
	ctx := testCtx(t)

	cs := containersOf(t, eng, "shop")
	if got, want := states(cs), "shop-db-1=running shop-web-1=running"; got != want {
		t.Errorf("containers = %s, want %s", got, want)
	}
	for name, svc := range map[string]string{"shop-web-1": "web", "shop-db-1": "db"} {
		l := cs[name].Labels
		hash, _ := ServiceHash(p.Services[svc])
		want := map[string]string{
			labels.Project: "shop", labels.Service: svc, labels.Number: "1",
			labels.Oneoff: labels.False, labels.ConfigHash: hash,
		}
		for k, v := range want {
			if l[k] != v {
				t.Errorf("%s: label %s = %q, want %q", name, k, l[k], v)
			}
		}
	}
	if got := cs["shop-web-1"].Networks; strings.Join(got, ",") != "shop_back,shop_front" {
		t.Errorf("web networks = %v, want shop_back and shop_front", got)
	}

	nets, err := eng.ListNetworks(ctx, engine.Filter{Labels: map[string]string{labels.Project: "shop"}})
	if err != nil {
		t.Fatal(err)
	}
	var netNames []string
	for _, n := range nets {
		netNames = append(netNames, n.Name+":"+n.Labels[labels.Network])
	}
	// No service uses the default network, so it is not created.
	if got, want := strings.Join(netNames, " "), "shop_back:back shop_front:front"; got != want {
		t.Errorf("networks = %s, want %s", got, want)
	}
	vols, err := eng.ListVolumes(ctx, engine.Filter{Labels: map[string]string{labels.Project: "shop"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(vols) != 1 || vols[0].Name != "shop_data" || vols[0].Labels[labels.Volume] != "data" {
		t.Errorf("volumes = %+v, want shop_data labelled with its key", vols)
	}
}

func TestUpDefaultNetworkAndAliases(t *testing.T) {
	t.Parallel()
	eng, o, _ := newFake("nginx")
	p := loadYAML(t, "proj", "services:\n  web:\n    image: nginx\n")
	mustUp(t, o, p, UpOptions{})
	spec, ok := eng.Spec("proj-web-1")
	if !ok {
		t.Fatal("proj-web-1 not created")
	}
	if len(spec.Networks) != 1 || spec.Networks[0].Network != "proj_default" || !contains(spec.Networks[0].Aliases, "web") {
		t.Errorf("networks = %+v, want proj_default with alias web", spec.Networks)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Starts follow depends_on as a partial order: each container starts after
// every one it depends on, whatever the order among independent ones.
func TestUpStartOrder(t *testing.T) {
	t.Parallel()
	eng, o, _ := newFake("alpine")
	p := loadYAML(t, "proj", `
services:
  a: {image: alpine}
  b: {image: alpine, depends_on: [a]}
  c: {image: alpine, depends_on: [a]}
  d: {image: alpine, depends_on: [b, c]}
  e: {image: alpine, links: [d]}
  f: {image: alpine}
`)
	mustUp(t, o, p, UpOptions{})
	evs := eng.Published()
	edges := map[string][]string{"b": {"a"}, "c": {"a"}, "d": {"b", "c"}, "e": {"d"}}
	for svc, deps := range edges {
		for _, dep := range deps {
			si, di := eventIndex(evs, "start", "proj-"+svc+"-1"), eventIndex(evs, "start", "proj-"+dep+"-1")
			if si < 0 || di < 0 || di > si {
				t.Errorf("start of %s at %d, of its dependency %s at %d: want the dependency first", svc, si, dep, di)
			}
		}
	}
	if got := len(containersOf(t, eng, "proj")); got != 6 {
		t.Errorf("%d containers, want 6", got)
	}
}

func TestUpServiceHealthy(t *testing.T) {
	t.Parallel()
	const yaml = `
services:
  db:
    image: postgres
    healthcheck: {test: ["CMD", "true"], interval: 1s}
  web:
    image: nginx
    depends_on:
      db: {condition: service_healthy}
`
	eng, o, _ := newFake("postgres", "nginx")
	eng.OnStart("postgres", fake.Behaviour{HealthAfter: 40 * time.Millisecond})
	mustUp(t, o, loadYAML(t, "proj", yaml), UpOptions{})
	evs := eng.Published()
	healthy := eventIndex(evs, "health_status: healthy", "proj-db-1")
	started := eventIndex(evs, "start", "proj-web-1")
	if healthy < 0 || started < healthy {
		t.Errorf("web started at event %d, db healthy at %d: want web after db is healthy", started, healthy)
	}
}

func TestUpDependencyFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		yaml       string
		behave     map[string]fake.Behaviour // by image
		wantErr    []string
		notStarted string // a container that must not have started
	}{
		{
			name: "dependency turns unhealthy",
			yaml: `
services:
  db:
    image: postgres
    healthcheck: {test: ["CMD", "true"]}
  web:
    image: nginx
    depends_on:
      db: {condition: service_healthy}
`,
			behave:     map[string]fake.Behaviour{"postgres": {Health: engine.HealthUnhealthy, HealthAfter: 20 * time.Millisecond}},
			wantErr:    []string{`"web"`, `"db"`, "proj-db-1", "unhealthy"},
			notStarted: "proj-web-1",
		},
		{
			name: "dependency has no healthcheck",
			yaml: `
services:
  db:
    image: postgres
  web:
    image: nginx
    depends_on:
      db: {condition: service_healthy}
`,
			wantErr:    []string{`"db"`, "no healthcheck"},
			notStarted: "proj-web-1",
		},
		{
			name: "dependency exits before healthy",
			yaml: `
services:
  db:
    image: postgres
    healthcheck: {test: ["CMD", "true"]}
  web:
    image: nginx
    depends_on:
      db: {condition: service_healthy}
`,
			behave:     map[string]fake.Behaviour{"postgres": {Health: engine.HealthStarting, Exit: true, ExitCode: 1, ExitAfter: 20 * time.Millisecond}},
			wantErr:    []string{`"db"`, "exited (1)"},
			notStarted: "proj-web-1",
		},
		{
			name: "one-shot dependency fails",
			yaml: `
services:
  migrate:
    image: alpine
    command: ["exit", "3"]
  web:
    image: nginx
    depends_on:
      migrate: {condition: service_completed_successfully}
  front:
    image: nginx
    depends_on: [web]
`,
			wantErr:    []string{`"web"`, `"migrate"`, "exited (3)"},
			notStarted: "proj-web-1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			eng, o, _ := newFake("postgres", "nginx", "alpine")
			for img, b := range tt.behave {
				eng.OnStart(img, b)
			}
			err := o.Up(testCtx(t), loadYAML(t, "proj", tt.yaml), UpOptions{})
			if err == nil {
				t.Fatal("Up succeeded, want an error")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %s", err, w)
				}
			}
			evs := eng.Published()
			for _, name := range []string{tt.notStarted, "proj-front-1"} {
				if i := eventIndex(evs, "start", name); i >= 0 {
					t.Errorf("%s was started although its dependency failed", name)
				}
			}
		})
	}
}

func TestUpCompletedSuccessfully(t *testing.T) {
	t.Parallel()
	eng, o, _ := newFake("alpine", "nginx")
	eng.OnStart("alpine", fake.Behaviour{Exit: true, ExitAfter: 30 * time.Millisecond})
	mustUp(t, o, loadYAML(t, "proj", `
services:
  migrate:
    image: alpine
  web:
    image: nginx
    depends_on:
      migrate: {condition: service_completed_successfully}
`), UpOptions{})
	evs := eng.Published()
	died, started := eventIndex(evs, "die", "proj-migrate-1"), eventIndex(evs, "start", "proj-web-1")
	if died < 0 || started < died {
		t.Errorf("web started at event %d, migrate exited at %d: want web after migrate exits", started, died)
	}
	if got, want := states(containersOf(t, eng, "proj")), "proj-migrate-1=exited proj-web-1=running"; got != want {
		t.Errorf("containers = %s, want %s", got, want)
	}
}

func TestUpOptionalDependencyFailureWarns(t *testing.T) {
	t.Parallel()
	eng, o, rec := newFake("postgres", "nginx")
	eng.OnStart("postgres", fake.Behaviour{Health: engine.HealthUnhealthy, HealthAfter: 20 * time.Millisecond})
	mustUp(t, o, loadYAML(t, "proj", `
services:
  db:
    image: postgres
    healthcheck: {test: ["CMD", "true"]}
  web:
    image: nginx
    depends_on:
      db: {condition: service_healthy, required: false}
`), UpOptions{})
	if got := containersOf(t, eng, "proj")["proj-web-1"].State; got != engine.StateRunning {
		t.Errorf("web is %s, want running", got)
	}
	found := false
	for _, w := range rec.warnings() {
		if strings.Contains(w, `"db"`) && strings.Contains(w, `"web"`) {
			found = true
		}
	}
	if !found {
		t.Errorf("warnings %q: want one naming the optional dependency db of web", rec.warnings())
	}
}

const bigYAML = `
services:
  a: {image: alpine, volumes: [data:/data]}
  b: {image: alpine, depends_on: [a], scale: 2}
  c: {image: alpine, depends_on: [a]}
  d: {image: alpine, depends_on: [b, c], networks: [default, back]}
  e: {image: nginx, volumes: [/cache]}
networks:
  back: {}
volumes:
  data: {}
`

// A second up with nothing changed makes no change: only observing calls,
// a handful whatever the project's size.
func TestUpTwiceIsNoOp(t *testing.T) {
	t.Parallel()
	eng, o, _ := newFake("alpine", "nginx")
	p := loadYAML(t, "proj", bigYAML)
	mustUp(t, o, p, UpOptions{})
	before := containersOf(t, eng, "proj")
	eng.ResetCalls()

	mustUp(t, o, loadYAML(t, "proj", bigYAML), UpOptions{})
	if m := mutations(eng); len(m) != 0 {
		t.Errorf("second up changed things: %v", m)
	}
	total := 0
	for _, n := range eng.CallCounts() {
		total += n
	}
	// One list per kind, one events subscription, one image inspect per
	// distinct image.
	if total > 8 {
		t.Errorf("second up made %d calls (%v), want a handful", total, eng.CallCounts())
	}
	after := containersOf(t, eng, "proj")
	for name, c := range before {
		if after[name].ID != c.ID || after[name].State != engine.StateRunning {
			t.Errorf("%s: was %s, now %+v", name, c.ID, after[name])
		}
	}
	if len(after) != 6 {
		t.Errorf("%d containers, want 6: %v", len(after), names(after))
	}
}

// Changing one service recreates only its container; the replacement
// takes the old container's name and keeps its anonymous volume.
func TestUpRecreatesChangedServiceOnly(t *testing.T) {
	t.Parallel()
	eng, o, _ := newFake("alpine", "nginx")
	mustUp(t, o, loadYAML(t, "proj", bigYAML), UpOptions{})
	before := containersOf(t, eng, "proj")
	oldSpec, _ := eng.Spec("proj-e-1")
	oldCache := volumeAt(t, eng, before["proj-e-1"].ID, "/cache")

	changed := strings.Replace(bigYAML, "e: {image: nginx,", "e: {image: nginx, environment: {X: \"1\"},", 1)
	mustUp(t, o, loadYAML(t, "proj", changed), UpOptions{})
	after := containersOf(t, eng, "proj")
	if got, want := strings.Join(names(after), " "), strings.Join(names(before), " "); got != want {
		t.Fatalf("containers after recreate = %s, want %s", got, want)
	}
	for name, c := range after {
		if name == "proj-e-1" {
			if c.ID == before[name].ID {
				t.Errorf("%s was not recreated", name)
			}
		} else if c.ID != before[name].ID {
			t.Errorf("%s was recreated although its service did not change", name)
		}
		if c.State != engine.StateRunning {
			t.Errorf("%s is %s, want running", name, c.State)
		}
	}
	newSpec, _ := eng.Spec("proj-e-1")
	if !contains(newSpec.Env, "X=1") || contains(oldSpec.Env, "X=1") {
		t.Errorf("env before %v after %v: want X=1 only after", oldSpec.Env, newSpec.Env)
	}
	if got := volumeAt(t, eng, after["proj-e-1"].ID, "/cache"); got != oldCache {
		t.Errorf("anonymous volume at /cache = %q after recreate, want the old %q", got, oldCache)
	}
	var mountSrc string
	for _, m := range newSpec.Mounts {
		if m.Target == "/cache" {
			mountSrc = m.Source
		}
	}
	if mountSrc != oldCache {
		t.Errorf("replacement spec mounts %q at /cache, want %q", mountSrc, oldCache)
	}
	if _, ok := eng.Spec(before["proj-e-1"].ID); ok {
		t.Errorf("the replaced container still exists")
	}
}

// volumeAt is the name of the volume a container mounts at target.
func volumeAt(t *testing.T, eng *fake.Engine, id, target string) string {
	t.Helper()
	d, err := eng.InspectContainer(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range d.Mounts {
		if m.Destination == target {
			return m.Name
		}
	}
	t.Fatalf("container %s mounts nothing at %s", id, target)
	return ""
}

func TestUpScale(t *testing.T) {
	t.Parallel()
	eng, o, _ := newFake("nginx")
	const yaml = "services:\n  web:\n    image: nginx\n"
	scaled := func(n int) {
		t.Helper()
		p, err := project.WithScale(loadYAML(t, "proj", yaml), map[string]int{"web": n})
		if err != nil {
			t.Fatal(err)
		}
		mustUp(t, o, p, UpOptions{})
	}
	scaled(3)
	first := containersOf(t, eng, "proj")
	if got, want := states(first), "proj-web-1=running proj-web-2=running proj-web-3=running"; got != want {
		t.Errorf("after --scale web=3: %s, want %s", got, want)
	}
	scaled(1)
	after := containersOf(t, eng, "proj")
	if got, want := states(after), "proj-web-1=running"; got != want {
		t.Errorf("after --scale web=1: %s, want %s", got, want)
	}
	if after["proj-web-1"].ID != first["proj-web-1"].ID {
		t.Errorf("scaling down recreated proj-web-1")
	}
}

func TestUpOrphans(t *testing.T) {
	t.Parallel()
	eng, o, rec := newFake("nginx", "redis")
	mustUp(t, o, loadYAML(t, "proj", "services:\n  web: {image: nginx}\n  cache: {image: redis}\n"), UpOptions{})
	smaller := "services:\n  web: {image: nginx}\n"

	mustUp(t, o, loadYAML(t, "proj", smaller), UpOptions{})
	if _, ok := containersOf(t, eng, "proj")["proj-cache-1"]; !ok {
		t.Errorf("the orphan was removed without RemoveOrphans")
	}
	warned := false
	for _, w := range rec.warnings() {
		warned = warned || strings.Contains(w, "proj-cache-1")
	}
	if !warned {
		t.Errorf("warnings %q do not name the orphan proj-cache-1", rec.warnings())
	}

	mustUp(t, o, loadYAML(t, "proj", smaller), UpOptions{RemoveOrphans: true})
	if got, want := states(containersOf(t, eng, "proj")), "proj-web-1=running"; got != want {
		t.Errorf("after RemoveOrphans: %s, want %s", got, want)
	}
}

func TestUpCreateFailure(t *testing.T) {
	t.Parallel()
	eng, o, _ := newFake("postgres", "nginx")
	eng.Fail("CreateContainer", "proj-db-1", errors.New("disk full"))
	err := o.Up(testCtx(t), loadYAML(t, "proj", `
services:
  db: {image: postgres}
  web: {image: nginx, depends_on: [db]}
  front: {image: nginx, depends_on: [web]}
`), UpOptions{})
	if err == nil || !strings.Contains(err.Error(), "proj-db-1") || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Up error = %v, want one naming proj-db-1 and the cause", err)
	}
	for name, c := range containersOf(t, eng, "proj") {
		if c.State != engine.StateCreated {
			t.Errorf("%s is %s: nothing depending on the failed db may start", name, c.State)
		}
	}
	if n := eng.Calls("StartContainer"); n != 0 {
		t.Errorf("%d containers started, want none", n)
	}
}

func TestUpPullFailure(t *testing.T) {
	t.Parallel()
	eng, o, _ := newFake("nginx")
	eng.Fail("PullImage", "", errors.New("access denied"))
	err := o.Up(testCtx(t), loadYAML(t, "proj", `
services:
  web: {image: nginx}
  api: {image: example/private:2}
`), UpOptions{})
	if err == nil {
		t.Fatal("Up succeeded with an image that cannot be pulled")
	}
	for _, want := range []string{`"api"`, "example/private:2", "access denied"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	if n := eng.Calls("CreateContainer"); n != 0 {
		t.Errorf("%d containers created before every image was there", n)
	}
}

func TestUpPullsMissingImage(t *testing.T) {
	t.Parallel()
	eng, o, _ := newFake()
	mustUp(t, o, loadYAML(t, "proj", "services:\n  web: {image: nginx}\n  api: {image: nginx}\n"), UpOptions{})
	if n := eng.Calls("PullImage"); n != 1 {
		t.Errorf("%d pulls, want one shared by both services", n)
	}
	img, err := eng.InspectImage(context.Background(), "nginx")
	if err != nil {
		t.Fatal(err)
	}
	if got := containersOf(t, eng, "proj")["proj-web-1"].Labels[labels.Image]; got != img.ID {
		t.Errorf("image label = %q, want the pulled image's id %q", got, img.ID)
	}
}

func TestUpNoStart(t *testing.T) {
	t.Parallel()
	eng, o, _ := newFake("nginx")
	mustUp(t, o, loadYAML(t, "proj", "services:\n  web: {image: nginx}\n"), UpOptions{NoStart: true})
	if got, want := states(containersOf(t, eng, "proj")), "proj-web-1=created"; got != want {
		t.Errorf("containers = %s, want %s", got, want)
	}
}

func TestUpWait(t *testing.T) {
	t.Parallel()
	const yaml = `
services:
  db:
    image: postgres
    healthcheck: {test: ["CMD", "true"]}
  job:
    image: alpine
`
	t.Run("ready", func(t *testing.T) {
		t.Parallel()
		eng, o, _ := newFake("postgres", "alpine")
		eng.OnStart("postgres", fake.Behaviour{HealthAfter: 30 * time.Millisecond})
		// The job has exited by the time its start returns: a job still
		// running counts as ready too, so a delayed exit would make what
		// this test sees depend on timing.
		eng.OnStart("alpine", fake.Behaviour{Exit: true})
		mustUp(t, o, loadYAML(t, "proj", yaml), UpOptions{Wait: true})
		cs := containersOf(t, eng, "proj")
		if cs["proj-db-1"].Health != engine.HealthHealthy || cs["proj-job-1"].State != engine.StateExited {
			t.Errorf("Up returned with db %s and job %s; want healthy and exited", cs["proj-db-1"].Health, cs["proj-job-1"].State)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		eng, o, _ := newFake("postgres", "alpine")
		// The engine never decides, and the check fails when probed.
		eng.OnStart("postgres", fake.Behaviour{Health: engine.HealthStarting, ExecExitCode: 1})
		err := o.Up(testCtx(t), loadYAML(t, "proj", yaml), UpOptions{Wait: true, WaitTimeout: 500 * time.Millisecond})
		if err == nil || !strings.Contains(err.Error(), "proj-db-1 is starting") {
			t.Errorf("Up --wait error = %v, want a timeout naming proj-db-1 as starting", err)
		}
	})
}
