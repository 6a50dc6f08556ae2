package orchestrator

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/engine/fake"
	"github.com/composer-orchestrator/composer/labels"
)

// readCalls are the engine methods a dry run may call: reads and waits.
var readCalls = []string{
	"ListContainers", "InspectContainer", "ListNetworks", "InspectNetwork",
	"ListVolumes", "InspectVolume", "InspectImage", "Events", "ContainerLogs", "Top",
}

// onlyReads fails the test if the engine was called with anything but a
// read since its counts were last reset.
func onlyReads(t *testing.T, eng *fake.Engine) {
	t.Helper()
	for method, n := range eng.CallCounts() {
		if n > 0 && !slices.Contains(readCalls, method) {
			t.Errorf("a dry run called %s %d times", method, n)
		}
	}
}

// snapshot is everything the engine holds, inspected, for comparing an
// engine's state before and after.
func snapshot(t *testing.T, eng *fake.Engine) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	cs, err := eng.ListContainers(ctx, engine.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		d, err := eng.InspectContainer(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		// Rendered as JSON: %+v would print the addresses of the fresh
		// copies each inspect returns.
		j, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(j)
		b.WriteString("\n")
	}
	ns, _ := eng.ListNetworks(ctx, engine.Filter{})
	vs, _ := eng.ListVolumes(ctx, engine.Filter{})
	fmt.Fprintf(&b, "%+v\n%+v\n", ns, vs)
	return b.String()
}

// lines renders the events of kind container, network and volume as
// "Kind name Status detail", in the order they came.
func lines(evs []Event) []string {
	var out []string
	for _, e := range evs {
		if e.Kind == KindProject {
			continue
		}
		out = append(out, strings.TrimSpace(fmt.Sprintf("%s %s %s %s", e.Kind, e.Name, e.Status, e.Detail)))
	}
	return out
}

func indexOf(ls []string, prefix string) int {
	for i, l := range ls {
		if strings.HasPrefix(l, prefix) {
			return i
		}
	}
	return -1
}

const dryRunYAML = `
services:
  db:
    image: db:1
    environment:
      PASSWORD: hunter2
    healthcheck:
      test: ["CMD", "true"]
      interval: 1s
  api:
    image: api:1
    environment:
      LOG_LEVEL: info
    depends_on:
      db:
        condition: service_healthy
  web:
    image: web:1
    ports: ["8080:80"]
    depends_on: [api]
volumes:
  data: {}
`

func TestDryRunUpFromNothingChangesNothing(t *testing.T) {
	t.Parallel()
	eng, _, _ := newFake("db:1", "api:1", "web:1")
	p := loadYAML(t, "dry", dryRunYAML)
	before := snapshot(t, eng)
	eng.ResetCalls()
	rec := &recorder{}
	if err := New(eng, rec, WithDryRun()).Up(testCtx(t), p, UpOptions{Wait: true}); err != nil {
		t.Fatalf("dry run: %v", err)
	}
	onlyReads(t, eng)
	if after := snapshot(t, eng); after != before {
		t.Errorf("the engine changed:\n%s\nbecame\n%s", before, after)
	}
	ls := lines(rec.all())
	for _, want := range []string{"Network dry_default Created", "Volume dry_data Created", "Container dry-db-1 Created", "Container dry-api-1 Created", "Container dry-web-1 Created", "Container dry-db-1 Started", "Container dry-api-1 Started", "Container dry-web-1 Started"} {
		if indexOf(ls, want) < 0 {
			t.Errorf("no %q in\n%s", want, strings.Join(ls, "\n"))
		}
	}
	// The order is up's: each service starts after its dependencies.
	if !(indexOf(ls, "Container dry-db-1 Started") < indexOf(ls, "Container dry-api-1 Started") &&
		indexOf(ls, "Container dry-api-1 Started") < indexOf(ls, "Container dry-web-1 Started")) {
		t.Errorf("starts out of dependency order:\n%s", strings.Join(ls, "\n"))
	}
}

func TestDryRunUpSaysWhyItRecreates(t *testing.T) {
	t.Parallel()
	eng, o, _ := newFake("db:1", "api:1", "web:1", "web:2")
	mustUp(t, o, loadYAML(t, "why", dryRunYAML), UpOptions{})
	changed := strings.Replace(strings.Replace(dryRunYAML, "LOG_LEVEL: info", "LOG_LEVEL: debug", 1), "image: web:1", "image: web:2", 1)
	p := loadYAML(t, "why", changed)
	before := snapshot(t, eng)
	eng.ResetCalls()
	rec := &recorder{}
	if err := New(eng, rec, WithDryRun()).Up(testCtx(t), p, UpOptions{}); err != nil {
		t.Fatalf("dry run: %v", err)
	}
	onlyReads(t, eng)
	if after := snapshot(t, eng); after != before {
		t.Errorf("the engine changed:\n%s\nbecame\n%s", before, after)
	}
	dry := lines(rec.all())
	for _, want := range []string{
		"Container why-api-1 Recreate (environment: LOG_LEVEL changed)",
		"Container why-web-1 Recreate (image: web:1 → web:2)",
	} {
		if indexOf(dry, want) < 0 {
			t.Errorf("no %q in\n%s", want, strings.Join(dry, "\n"))
		}
	}
	for _, l := range dry {
		if strings.Contains(l, "why-db-1 Recreate") {
			t.Errorf("an unchanged service is recreated: %s", l)
		}
		if strings.Contains(l, "debug") || strings.Contains(l, "info") || strings.Contains(l, "hunter2") {
			t.Errorf("a value is shown: %s", l)
		}
	}

	// The real up says the same.
	rec = &recorder{}
	if err := New(eng, rec).Up(testCtx(t), p, UpOptions{}); err != nil {
		t.Fatal(err)
	}
	real := lines(rec.all())
	for _, want := range []string{
		"Container why-api-1 Recreate (environment: LOG_LEVEL changed)",
		"Container why-web-1 Recreated (image: web:1 → web:2)",
	} {
		if indexOf(real, want) < 0 {
			t.Errorf("no %q in\n%s", want, strings.Join(real, "\n"))
		}
	}
	if got := containersOf(t, eng, "why")["why-web-1"].Image; got != "web:2" {
		t.Errorf("after the real up web runs %q", got)
	}
}

func TestDryRunRecreateReasons(t *testing.T) {
	t.Parallel()
	base := `
services:
  db:
    image: db:1
  app:
    image: app:1
    environment: {A: "1", TOKEN: s3cret}
    ports: ["8080:80"]
    volumes: ["/data"]
    network_mode: "service:db"
volumes:
  data: {}
`
	cases := []struct {
		name, from, to string
		opts           UpOptions
		want           string
	}{
		{"env", `TOKEN: s3cret`, `TOKEN: other`, UpOptions{}, "Container r-app-1 Recreate (environment: TOKEN changed)"},
		{"env added", `A: "1",`, `A: "1", B: "2",`, UpOptions{}, "Container r-app-1 Recreate (environment: B added)"},
		{"ports", `["8080:80"]`, `["8080:80", "9090:90"]`, UpOptions{}, "Container r-app-1 Recreate (ports: 9090:90 added)"},
		{"volume", `["/data"]`, `["data:/data"]`, UpOptions{}, "Container r-app-1 Recreate (volumes: /data now from named volume r_data)"},
		{"forced", ``, ``, UpOptions{Recreate: RecreateForce}, "Container r-app-1 Recreate (--force-recreate)"},
		{"namespace", `image: db:1`, "image: db:1\n    user: nobody", UpOptions{}, "Container r-app-1 Recreate (network_mode service:db, db is recreated)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			eng, o, _ := newFake("db:1", "app:1")
			mustUp(t, o, loadYAML(t, "r", base), UpOptions{})
			p := loadYAML(t, "r", strings.Replace(base, tc.from, tc.to, 1))
			eng.ResetCalls()
			rec := &recorder{}
			if err := New(eng, rec, WithDryRun()).Up(testCtx(t), p, tc.opts); err != nil {
				t.Fatal(err)
			}
			onlyReads(t, eng)
			ls := lines(rec.all())
			if indexOf(ls, tc.want) < 0 {
				t.Errorf("no %q in\n%s", tc.want, strings.Join(ls, "\n"))
			}
			for _, l := range ls {
				if strings.Contains(l, "s3cret") || strings.Contains(l, "other") {
					t.Errorf("a secret is shown: %s", l)
				}
			}
		})
	}
}

func TestDryRunImagePointsAtANewImage(t *testing.T) {
	t.Parallel()
	eng, o, _ := newFake("api:1")
	p := loadYAML(t, "img", "services:\n  api:\n    image: api:1\n")
	mustUp(t, o, p, UpOptions{})
	// The tag now names another image.
	if _, err := eng.BuildImage(context.Background(), nil, engine.BuildSpec{Tags: []string{"api:1"}}, nil); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	if err := New(eng, rec, WithDryRun()).Up(testCtx(t), p, UpOptions{}); err != nil {
		t.Fatal(err)
	}
	want := "Container img-api-1 Recreate (image api:1 points at a new image)"
	if ls := lines(rec.all()); indexOf(ls, want) < 0 {
		t.Errorf("no %q in\n%s", want, strings.Join(ls, "\n"))
	}
}

func TestDryRunOperationsChangeNothing(t *testing.T) {
	t.Parallel()
	ops := []struct {
		name string
		run  func(context.Context, *Orchestrator, Target) error
		want []string
	}{
		{"down", func(ctx context.Context, o *Orchestrator, _ Target) error {
			return o.Down(ctx, "ops", nil, DownOptions{Volumes: true})
		}, []string{"Container ops-web-1 Removed", "Container ops-db-1 Removed", "Network ops_default Removed", "Volume ops_data Removed"}},
		{"stop", func(ctx context.Context, o *Orchestrator, t Target) error { return o.Stop(ctx, t, nil) },
			[]string{"Container ops-web-1 Stopped", "Container ops-db-1 Stopped"}},
		{"kill", func(ctx context.Context, o *Orchestrator, t Target) error { return o.Kill(ctx, t, KillOptions{}) },
			[]string{"Container ops-web-1 Killed"}},
		{"restart", func(ctx context.Context, o *Orchestrator, t Target) error { return o.Restart(ctx, t, RestartOptions{}) },
			[]string{"Container ops-web-1 Restarted"}},
		{"pause", func(ctx context.Context, o *Orchestrator, t Target) error { return o.Pause(ctx, t, false) },
			[]string{"Container ops-web-1 Paused"}},
		{"rm", func(ctx context.Context, o *Orchestrator, t Target) error {
			return o.Remove(ctx, t, RemoveOptions{Stop: true})
		}, []string{"Container ops-web-1 Removed"}},
	}
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			t.Parallel()
			eng, o, _ := newFake("db:1", "web:1")
			p := loadYAML(t, "ops", "services:\n  db:\n    image: db:1\n    volumes: [data:/d]\n  web:\n    image: web:1\n    depends_on: [db]\nvolumes:\n  data: {}\n")
			mustUp(t, o, p, UpOptions{})
			before := snapshot(t, eng)
			eng.ResetCalls()
			rec := &recorder{}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := op.run(ctx, New(eng, rec, WithDryRun()), Target{Project: "ops"}); err != nil {
				t.Fatalf("dry run: %v", err)
			}
			onlyReads(t, eng)
			if after := snapshot(t, eng); after != before {
				t.Errorf("the engine changed:\n%s\nbecame\n%s", before, after)
			}
			ls := lines(rec.all())
			for _, w := range op.want {
				if indexOf(ls, w) < 0 {
					t.Errorf("no %q in\n%s", w, strings.Join(ls, "\n"))
				}
			}
		})
	}
}

func TestDryRunFailsWhereTheRunWould(t *testing.T) {
	t.Parallel()
	eng, _, _ := newFake("web:1")
	// A container of another project holds the name.
	if _, err := eng.CreateContainer(context.Background(), engine.ContainerSpec{Name: "taken", Image: "web:1", Labels: map[string]string{labels.Project: "other"}}); err != nil {
		t.Fatal(err)
	}
	p := loadYAML(t, "bad", "services:\n  web:\n    image: web:1\n    container_name: taken\n")
	eng.ResetCalls()
	err := New(eng, nil, WithDryRun()).Up(testCtx(t), p, UpOptions{})
	if err == nil || !strings.Contains(err.Error(), "already in use") {
		t.Errorf("dry run error = %v, want the name conflict", err)
	}
	onlyReads(t, eng)
}

func TestDryRunRefusesExec(t *testing.T) {
	t.Parallel()
	d := newDryRunEngine(fake.New())
	if _, err := d.Exec(context.Background(), "x", engine.ExecSpec{}, engine.Streams{}); err == nil {
		t.Error("exec in a dry run did not fail")
	}
	// Every method of the interface is decided by the dry run itself.
	typ := reflect.TypeOf(d)
	iface := reflect.TypeOf((*engine.Engine)(nil)).Elem()
	for i := range iface.NumMethod() {
		m, ok := typ.MethodByName(iface.Method(i).Name)
		if !ok || m.Type.In(0) != typ {
			t.Errorf("%s is not the dry run's own", iface.Method(i).Name)
		}
	}
}
