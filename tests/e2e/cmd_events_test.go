package e2e

import (
	"encoding/json"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

const eventsCmdProject = `
services:
  web:
    image: IMAGE
  db:
    image: IMAGE
`

// TestEventsCmdJSONFollows checks that events --json streams what happens
// to the project's containers, one object a line with docker compose's
// keys, until Ctrl-C, which ends it with 130.
func TestEventsCmdJSONFollows(t *testing.T) {
	t.Parallel()
	p := NewProject(t, eventsCmdProject)
	p.Up()
	// --since a moment ago: the engine answers an events request before
	// it listens; the replay covers what falls in between.
	since := strconv.FormatInt(time.Now().Add(-time.Second).Unix(), 10)
	ev := p.StartCompose("events", "--json", "--since", since, "web")
	p.Compose("stop", "web").Success(t)
	ev.WaitFor(30*time.Second, `"action":"stop"`)
	ev.Signal(os.Interrupt)
	r := ev.Wait(30 * time.Second)
	if r.ExitCode != 130 {
		t.Errorf("exit code %d after Ctrl-C, want 130 as docker compose:\n%s", r.ExitCode, r)
	}
	id := inspectField(p.ContainerName("web", 1), "{{.Id}}")
	var actions []string
	for _, line := range nonEmptyLines(r.Stdout) {
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("line %q is not JSON: %v", line, err)
		}
		if e["type"] != "container" || e["service"] != "web" || e["id"] != id {
			t.Errorf("event %v: want type container, service web, id %s", e, id)
		}
		attrs, _ := e["attributes"].(map[string]any)
		if attrs["name"] != p.ContainerName("web", 1) || attrs["image"] == nil {
			t.Errorf("event %v lacks the engine's name and image attributes", e)
		}
		for k := range attrs {
			if strings.HasPrefix(k, "com.docker.compose.") {
				t.Errorf("attribute %s shown: compose leaves its labels out", k)
			}
		}
		if _, err := time.Parse(time.RFC3339Nano, e["time"].(string)); err != nil {
			t.Errorf("time: %v", err)
		}
		actions = append(actions, e["action"].(string))
	}
	for _, want := range []string{"kill", "die", "stop"} {
		if !strings.Contains(" "+strings.Join(actions, " ")+" ", " "+want+" ") {
			t.Errorf("actions %v lack %s", actions, want)
		}
	}
}

var eventsText = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} container (\S+(?: \S+)?) ([0-9a-f]{64}) \((.*)\)$`)

// TestEventsCmdTextBounded checks the text form, and that --since and
// --until replay a past stretch and end by themselves.
func TestEventsCmdTextBounded(t *testing.T) {
	t.Parallel()
	p := NewProject(t, eventsCmdProject)
	since := strconv.FormatInt(time.Now().Add(-time.Second).Unix(), 10)
	p.Up()
	p.Compose("restart", "db").Success(t)
	until := strconv.FormatInt(time.Now().Add(time.Second).Unix(), 10)
	r := p.Compose("events", "--since", since, "--until", until).Success(t)
	ids := map[string]string{
		inspectField(p.ContainerName("web", 1), "{{.Id}}"): "web",
		inspectField(p.ContainerName("db", 1), "{{.Id}}"):  "db",
	}
	seen := map[string]int{}
	for _, line := range nonEmptyLines(r.Stdout) {
		m := eventsText.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("line %q is not in docker compose's text form", line)
			continue
		}
		svc, ok := ids[m[2]]
		if !ok {
			t.Errorf("line %q is about another container", line)
		}
		if !strings.Contains(m[3], "name="+p.ContainerName(svc, 1)) || strings.Contains(m[3], "com.docker.compose.") {
			t.Errorf("attributes %q", m[3])
		}
		seen[svc+" "+m[1]]++
	}
	// composer restarts as docker compose does, with the engine's restart:
	// the engine reports it as a kill, die, stop and start (and, on newer
	// engines, restart).
	for _, want := range []string{"web create", "web start", "db start", "db die", "db stop"} {
		if seen[want] == 0 {
			t.Errorf("no %q event in:\n%s", want, r.Stdout)
		}
	}
}
