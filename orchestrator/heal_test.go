package orchestrator

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/engine/fake"
)

// render writes actions as one line each, for comparing.
func render(as []healAction) string {
	var out []string
	for _, a := range as {
		switch a.Kind {
		case healRestart:
			out = append(out, fmt.Sprintf("restart %s after %s (%s)", a.Name, a.After, a.Reason))
		case healGiveUp:
			out = append(out, "give up "+a.Name)
		case healCascade:
			var steps []string
			for _, s := range a.Cascade {
				var waits []string
				for _, w := range s.Waits {
					waits = append(waits, w.Dependency+":"+w.Condition)
				}
				steps = append(steps, s.Service+"["+strings.Join(waits, ",")+"]")
			}
			out = append(out, "cascade from "+a.Cause+": "+strings.Join(steps, " "))
		}
	}
	return strings.Join(out, "; ")
}

// stack is db, api restarting on db (healthy), web restarting on api and
// db, and worker depending on db without restart.
func stack() healRules {
	return healRules{
		Autoheal: map[string]bool{"db": true},
		RestartOn: map[string][]restartOn{
			"api":    {{Dependency: "db", Condition: "service_healthy"}},
			"web":    {{Dependency: "api", Condition: "service_started"}, {Dependency: "db", Condition: "service_healthy"}},
			"worker": nil,
		},
		Backoff: 2 * time.Second, Window: time.Minute, MaxRestarts: 3,
	}
}

func TestHealerDecisions(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1000, 0)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	db := func(k observed, s int) observation {
		return observation{Kind: k, ID: "db1", Name: "p-db-1", Service: "db", Time: at(s), Checks: 3}
	}
	steps := []struct {
		name string
		rule func(*healRules)
		obs  []observation
		want []string // one rendering per observation
	}{
		{"an opted-in service is restarted at once", nil,
			[]observation{db(seenRunning, 0), db(seenUnhealthy, 10)},
			[]string{"", "restart p-db-1 after 0s (unhealthy for 3 checks)"}},
		{"a service not opted in is left alone", func(r *healRules) { r.Autoheal = nil },
			[]observation{db(seenRunning, 0), db(seenUnhealthy, 10)},
			[]string{"", ""}},
		{"a restart cascades to restart: true dependents, in order, each once", nil,
			[]observation{db(seenRunning, 0), db(seenStart, 5)},
			[]string{"", "cascade from db: api[db:service_healthy] web[api:service_started,db:service_healthy]"}},
		{"a first start restarts nothing", nil,
			[]observation{db(seenStart, 0)},
			[]string{""}},
		{"back-off, then give up until healthy", nil,
			[]observation{db(seenRunning, 0), db(seenUnhealthy, 10), db(seenUnhealthy, 20), db(seenUnhealthy, 30), db(seenUnhealthy, 40), db(seenUnhealthy, 50), db(seenUnhealthy, 55), db(seenHealthy, 60), db(seenUnhealthy, 70)},
			[]string{"", "restart p-db-1 after 0s (unhealthy for 3 checks)",
				"restart p-db-1 after 2s (unhealthy for 3 checks; restart 2 in a row, after 2s)",
				"restart p-db-1 after 4s (unhealthy for 3 checks; restart 3 in a row, after 4s)",
				"restart p-db-1 after 8s (unhealthy for 3 checks; restart 4 in a row, after 8s)",
				"give up p-db-1", "", "",
				"restart p-db-1 after 0s (unhealthy for 3 checks)"}},
		{"healthy long enough starts the count again", nil,
			[]observation{db(seenRunning, 0), db(seenUnhealthy, 10), db(seenUnhealthy, 20), db(seenUnhealthy, 200)},
			[]string{"", "restart p-db-1 after 0s (unhealthy for 3 checks)",
				"restart p-db-1 after 2s (unhealthy for 3 checks; restart 2 in a row, after 2s)",
				"restart p-db-1 after 0s (unhealthy for 3 checks)"}},
		{"only the selected services are restarted", func(r *healRules) { r.Acts = map[string]bool{"web": true} },
			[]observation{db(seenRunning, 0), db(seenUnhealthy, 1), db(seenStart, 5)},
			[]string{"", "", "cascade from db: web[api:service_started,db:service_healthy]"}},
	}
	for _, tc := range steps {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rules := stack()
			if tc.rule != nil {
				tc.rule(&rules)
			}
			h := newHealer(rules)
			for i, o := range tc.obs {
				if got := render(h.observe(o)); got != tc.want[i] {
					t.Errorf("observation %d (%v at %ds): got %q, want %q", i, o.Kind, int(o.Time.Sub(t0).Seconds()), got, tc.want[i])
				}
			}
		})
	}
}

func TestHealerCascadeRestartsDoNotCascadeAgain(t *testing.T) {
	t.Parallel()
	h := newHealer(stack())
	for _, id := range []string{"db1", "api1", "web1"} {
		h.observe(observation{Kind: seenRunning, ID: id})
	}
	if got := render(h.observe(observation{Kind: seenStart, ID: "db1", Service: "db"})); !strings.HasPrefix(got, "cascade from db") {
		t.Fatalf("db's restart: %q", got)
	}
	// The cascade restarts api and web; their starts are its own doing.
	h.cascaded("api1")
	h.cascaded("web1")
	for _, o := range []observation{{Kind: seenStart, ID: "api1", Service: "api"}, {Kind: seenStart, ID: "web1", Service: "web"}} {
		if got := render(h.observe(o)); got != "" {
			t.Errorf("%s's start in the cascade: %q, want nothing", o.Service, got)
		}
	}
	// A later restart of api, by someone else, cascades to web.
	if got := render(h.observe(observation{Kind: seenStart, ID: "api1", Service: "api"})); got != "cascade from api: web[api:service_started]" {
		t.Errorf("api's own restart: %q", got)
	}
}

func TestSuperviseRestartsUnhealthyAndDependents(t *testing.T) {
	t.Parallel()
	eng := fake.New()
	for _, img := range []string{"db:1", "api:1", "other:1"} {
		eng.AddImage(img)
	}
	p := loadYAML(t, "sup", `
services:
  db:
    image: db:1
    labels: {autoheal: "true"}
    healthcheck: {test: ["CMD", "true"], interval: 1h}
  api:
    image: api:1
    depends_on:
      db: {condition: service_healthy, restart: true}
  other:
    image: other:1
    depends_on:
      db: {condition: service_healthy}
`)
	eng.OnStart("db:1", fake.Behaviour{HealthAfter: 50 * time.Millisecond, ExecExitCode: 1})
	mustUp(t, New(eng, nil), p, UpOptions{})
	startedAt := func(name string) time.Time {
		d, err := eng.InspectContainer(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		return d.StartedAt
	}
	apiBefore, otherBefore := startedAt("sup-api-1"), startedAt("sup-other-1")

	rec := &recorder{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- New(eng, rec).Supervise(ctx, "sup", SuperviseOptions{Backoff: 10 * time.Millisecond}) }()
	time.Sleep(200 * time.Millisecond) // subscribed and listed
	if err := eng.SetHealth("sup-db-1", engine.HealthUnhealthy); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !startedAt("sup-api-1").After(apiBefore) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Errorf("Supervise ended with %v, want context.Canceled", err)
	}
	if !startedAt("sup-api-1").After(apiBefore) {
		t.Fatal("api was not restarted after db was")
	}
	if !startedAt("sup-api-1").After(startedAt("sup-db-1")) {
		t.Error("api restarted before db")
	}
	if startedAt("sup-other-1") != otherBefore {
		t.Error("other, without restart: true, was restarted")
	}
	var lines []string
	for _, e := range rec.all() {
		if e.Status == Restarted {
			lines = append(lines, e.Name+" "+e.Detail)
		}
	}
	want := []string{"sup-db-1 (unhealthy for 3 checks)", "sup-api-1 (its dependency db restarted)"}
	if strings.Join(lines, "|") != strings.Join(want, "|") {
		t.Errorf("restarts reported: %q, want %q", lines, want)
	}
	for _, name := range []string{"sup-db-1", "sup-api-1", "sup-other-1"} {
		if d, _ := eng.InspectContainer(context.Background(), name); d.State != engine.StateRunning {
			t.Errorf("%s is %s after supervise ended, want running", name, d.State)
		}
	}
}
