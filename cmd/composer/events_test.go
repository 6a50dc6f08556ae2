package main

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/composer-orchestrator/composer/engine/fake"
)

// eventsCLI brings a project up and stops web, and returns the time
// before it all, to replay the events from with --since.
func eventsCLI(t *testing.T) (*cli, string) {
	t.Helper()
	c := newCLI(t, twoServicesYAML)
	c.eng.AddImage("web-img")
	c.eng.AddImage("db-img")
	since := strconv.FormatFloat(float64(time.Now().Add(-time.Second).UnixNano())/1e9, 'f', 6, 64)
	c.must("up", "-d")
	c.must("stop", "web")
	return c, since
}

// TestEventsJSON checks --json: one object a line with docker compose's
// keys, composer's labels left out of the attributes.
func TestEventsJSON(t *testing.T) {
	t.Parallel()
	c, since := eventsCLI(t)
	until := strconv.FormatInt(time.Now().Add(time.Second).Unix(), 10)
	r := c.must("events", "--json", "--since", since, "--until", until)
	objs := jsonObjects(t, r.stdout)
	web, _ := c.inspect("proj-web-1")
	actions := map[string][]string{}
	for _, o := range objs {
		for _, k := range []string{"time", "type", "action", "id", "service", "attributes"} {
			if _, ok := o[k]; !ok {
				t.Errorf("event %v has no %q", o, k)
			}
		}
		if len(o) != 6 {
			t.Errorf("event %v has keys beyond docker compose's six", o)
		}
		if o["type"] != "container" {
			t.Errorf("event %v is not of type container", o)
		}
		attrs := o["attributes"].(map[string]any)
		for k := range attrs {
			if strings.HasPrefix(k, "com.docker.compose.") {
				t.Errorf("attribute %s shown: compose leaves its labels out", k)
			}
		}
		if _, err := time.Parse(time.RFC3339Nano, o["time"].(string)); err != nil {
			t.Errorf("time %v: %v", o["time"], err)
		}
		svc := o["service"].(string)
		actions[svc] = append(actions[svc], o["action"].(string))
		if svc == "web" && (o["id"] != web.ID || attrs["name"] != "proj-web-1") {
			t.Errorf("web's event %v names another container", o)
		}
	}
	for _, want := range []string{"create", "start", "die", "stop"} {
		if !strings.Contains(" "+strings.Join(actions["web"], " ")+" ", " "+want+" ") {
			t.Errorf("web's actions %v lack %q", actions["web"], want)
		}
	}
	if len(actions["db"]) == 0 {
		t.Errorf("no event of db: %v", actions)
	}
}

var eventText = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} container ([a-z_:]+(?: [a-z]+)?) ([0-9a-f]{64}) \((.*)\)$`)

// TestEventsText checks the text form and the service filter.
func TestEventsText(t *testing.T) {
	t.Parallel()
	c, since := eventsCLI(t)
	until := strconv.FormatInt(time.Now().Add(time.Second).Unix(), 10)
	r := c.must("events", "--since", since, "--until", until, "web")
	web, _ := c.inspect("proj-web-1")
	lines := nonEmpty(r.stdout)
	if len(lines) == 0 {
		t.Fatalf("no events:\n%s", r)
	}
	for _, l := range lines {
		m := eventText.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("line %q is not in docker compose's form", l)
			continue
		}
		if m[2] != web.ID {
			t.Errorf("line %q is not about web, the only service asked for", l)
		}
		if !strings.Contains(m[3], "name=proj-web-1") || strings.Contains(m[3], "com.docker.compose.") {
			t.Errorf("attributes %q: want name=proj-web-1 and no compose labels", m[3])
		}
	}
}

// TestEventsLeaveOutOneOffs checks that run's containers make no events,
// as in docker compose.
func TestEventsLeaveOutOneOffs(t *testing.T) {
	t.Parallel()
	c := newCLI(t, "services:\n  job:\n    image: img\n    command: [exit, \"0\"]\n")
	c.eng.AddImage("img")
	since := strconv.FormatInt(time.Now().Add(-time.Second).Unix(), 10)
	c.must("run", "--rm", "job")
	until := strconv.FormatInt(time.Now().Add(time.Second).Unix(), 10)
	if r := c.must("events", "--since", since, "--until", until); strings.TrimSpace(r.stdout) != "" {
		t.Errorf("events of a one-off container shown:\n%s", r)
	}
}

// TestEventsFollowUntilInterrupted checks that events follows what
// happens and ends with 130 on Ctrl-C, as docker compose does.
func TestEventsFollowUntilInterrupted(t *testing.T) {
	t.Parallel()
	c := newCLI(t, twoServicesYAML)
	c.eng.AddImage("web-img")
	c.eng.AddImage("db-img")
	c.eng.OnStart("web-img", fake.Behaviour{})
	c.must("up", "-d")
	c.eng.ResetCalls()
	interrupts := make(chan os.Signal, 1)
	done := make(chan result, 1)
	go func() { done <- c.runWithInterrupts(interrupts, "events", "--json") }()
	c.eventually("events subscribes", func() bool { return c.eng.Calls("Events") > 0 })
	if err := c.eng.Exit("proj-web-1", 4); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	interrupts <- os.Interrupt
	r := waitResult(t, done)
	if r.code != 130 {
		t.Errorf("exit code %d, want 130:\n%s", r.code, r)
	}
	objs := jsonObjects(t, r.stdout)
	if len(objs) != 1 || objs[0]["action"] != "die" || objs[0]["attributes"].(map[string]any)["exitCode"] != "4" {
		t.Errorf("want web's die with exitCode 4, got %v", objs)
	}
}

func TestEventsBadTimes(t *testing.T) {
	t.Parallel()
	c := newCLI(t, twoServicesYAML)
	for _, args := range [][]string{{"events", "--since", "yesterday"}, {"events", "--until", "soon"}} {
		if r := c.run(args...); r.code != 1 || !strings.Contains(r.stderr, "invalid --") || !strings.Contains(r.stderr, "See 'composer events --help'.") {
			t.Errorf("want a usage error:\n%s", r)
		}
	}
}

func TestEventTime(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
	}{
		{"", time.Time{}},
		{"10m", now.Add(-10 * time.Minute)},
		{"1700000000", time.Unix(1700000000, 0)},
		{"1700000000.25", time.Unix(1700000000, 250000000)},
		{"2024-01-02T03:04:05Z", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)},
		{"2024-01-02T03:04:05+02:00", time.Date(2024, 1, 2, 1, 4, 5, 0, time.UTC)},
		{"2024-01-02", time.Date(2024, 1, 2, 0, 0, 0, 0, time.Local)},
	}
	for _, tt := range tests {
		got, err := eventTime(tt.in, now)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("eventTime(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	if _, err := eventTime("bogus", now); err == nil {
		t.Error("eventTime(bogus) did not fail")
	}
}
