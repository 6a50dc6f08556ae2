package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/composer-orchestrator/composer/internal/proxy"
)

// countingEngine puts a proxy that counts API calls between composer and
// the engine, and returns the DOCKER_HOST entry that routes through it.
func countingEngine(t *testing.T) (*proxy.Proxy, string) {
	t.Helper()
	sock := "/var/run/docker.sock"
	if h, ok := os.LookupEnv("DOCKER_HOST"); ok && h != "" {
		s, ok := strings.CutPrefix(h, "unix://")
		if !ok {
			t.Fatalf("counting calls needs a unix socket engine, DOCKER_HOST is %s", h)
		}
		sock = s
	}
	px, err := proxy.Start(filepath.Join(t.TempDir(), "engine.sock"), sock)
	if err != nil {
		t.Fatalf("starting the counting proxy: %v", err)
	}
	t.Cleanup(func() { _ = px.Close() })
	return px, "DOCKER_HOST=" + px.Host()
}

// changesNothing fails the test if any call the proxy counted could change
// the engine's state: everything but GET and HEAD.
func changesNothing(t *testing.T, px *proxy.Proxy, what string) {
	t.Helper()
	total, kinds := px.Take()
	if total == 0 {
		t.Errorf("%s made no engine call at all: the proxy was not used", what)
	}
	for k, n := range kinds {
		if !strings.HasPrefix(k, "GET ") && !strings.HasPrefix(k, "HEAD ") {
			t.Errorf("%s sent %d × %s", what, n, k)
		}
	}
}

// engineState is everything the engine reports of a project, for
// comparing before and after: every container inspected, its networks
// and volumes.
func engineState(t *testing.T, project string) string {
	t.Helper()
	filter := "label=" + projectLabel + "=" + project
	var b strings.Builder
	if ids := fields(docker("ps", "-aq", "--filter", filter)); len(ids) > 0 {
		b.WriteString(Docker(t, append([]string{"inspect"}, ids...)...))
	}
	b.WriteString(Docker(t, "network", "ls", "--no-trunc", "--filter", filter))
	b.WriteString(Docker(t, "volume", "ls", "--filter", filter))
	return b.String()
}

const dryRunProject = `
services:
  db:
    image: IMAGE
    environment:
      PASSWORD: hunter2
  api:
    image: IMAGE
    environment:
      LOG_LEVEL: info
    depends_on: [db]
  web:
    image: IMAGE
    depends_on: [api]
    volumes: [data:/data]
volumes:
  data: {}
`

func TestDryRunExplainsAndChangesNothing(t *testing.T) {
	t.Parallel()
	p := NewProject(t, dryRunProject)
	// A second tag for the test image, so that web's image changes.
	other := "composer-e2e-dryrun:" + randomSuffix()
	Docker(t, "tag", testImage, other)
	t.Cleanup(func() { _, _ = docker("rmi", other) })

	px, host := countingEngine(t)
	compose := func(args ...string) *Result {
		return RunComposer(t, Cmd{Dir: p.Dir, Env: []string{host}, Args: append([]string{"-p", p.Name, "--progress", "plain"}, args...)})
	}

	// From nothing: the whole plan, in order, and nothing made.
	before := engineState(t, p.Name)
	px.Take()
	r := compose("--dry-run", "up", "-d").Success(t)
	changesNothing(t, px, "dry run of up from nothing")
	if after := engineState(t, p.Name); after != before {
		t.Errorf("a dry run changed the engine:\n%s\nbecame\n%s", before, after)
	}
	r.Mentions(t, "DRY-RUN MODE - ", "Network "+p.Name+"_default  Created", "Volume "+p.Name+"_data  Created",
		"Container "+p.ContainerName("db", 1)+"  Created", "Container "+p.ContainerName("web", 1)+"  Started")
	out := r.Stderr
	if !(strings.Index(out, p.ContainerName("db", 1)+"  Started") < strings.Index(out, p.ContainerName("api", 1)+"  Started") &&
		strings.Index(out, p.ContainerName("api", 1)+"  Started") < strings.Index(out, p.ContainerName("web", 1)+"  Started")) {
		t.Errorf("the dry run does not start in dependency order:\n%s", out)
	}

	compose("up", "-d").Success(t)
	// One service's environment and another's image change.
	p.WriteFile("compose.yaml", strings.Replace(strings.Replace(dryRunProject, "LOG_LEVEL: info", "LOG_LEVEL: debug", 1),
		"image: IMAGE\n    depends_on: [api]", "image: "+other+"\n    depends_on: [api]", 1))
	before = engineState(t, p.Name)
	px.Take()
	r = compose("--dry-run", "up", "-d").Success(t)
	changesNothing(t, px, "dry run of a changed up")
	if after := engineState(t, p.Name); after != before {
		t.Errorf("a dry run changed the engine:\n%s\nbecame\n%s", before, after)
	}
	apiWhy := "Container " + p.ContainerName("api", 1) + "  Recreate (environment: LOG_LEVEL changed)"
	webWhy := "Container " + p.ContainerName("web", 1) + "  Recreate (image: " + testImage + " → " + other + ")"
	r.Mentions(t, apiWhy, webWhy)
	for _, unwanted := range []string{p.ContainerName("db", 1) + "  Recreate", "debug", "info", "hunter2"} {
		if strings.Contains(r.Stderr, unwanted) {
			t.Errorf("the dry run shows %q:\n%s", unwanted, r.Stderr)
		}
	}

	// The json progress gives the same plan to machines.
	r = compose("--dry-run", "--progress", "json", "up", "-d").Success(t)
	changesNothing(t, px, "json dry run")
	found := false
	for _, line := range strings.Split(strings.TrimSpace(r.Stderr), "\n") {
		var e struct {
			Name, Status, Text string
			DryRun             bool `json:"dry_run"`
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("not a json line: %q", line)
		}
		if !e.DryRun {
			t.Errorf("json line without dry_run: %s", line)
		}
		if e.Name == p.ContainerName("api", 1) && e.Status == "Recreate" && e.Text == "(environment: LOG_LEVEL changed)" {
			found = true
		}
	}
	if !found {
		t.Errorf("no json event gives api's reason:\n%s", r.Stderr)
	}

	// The real up then says the same.
	compose("up", "-d").Success(t).Mentions(t, apiWhy, webWhy)
	if img := InspectContainer(t, p.ContainerName("web", 1)).Config.Image; img != other {
		t.Errorf("after up, web runs %s, want %s", img, other)
	}

	// Every other changing command, dry: nothing changes.
	before = engineState(t, p.Name)
	for _, args := range [][]string{
		{"stop"}, {"kill"}, {"restart"}, {"pause"}, {"rm", "-fsv"}, {"start"}, {"down", "-v", "--rmi", "all"},
		{"run", "--rm", "api", "echo", "hi"}, {"pull", "--ignore-pull-failures"}, {"build"},
	} {
		px.Take()
		r := compose(append([]string{"--dry-run"}, args...)...)
		if r.ExitCode != 0 {
			t.Errorf("dry run of %s failed:\n%s", args[0], r)
		}
		changesNothing(t, px, "dry run of "+args[0])
	}
	if after := engineState(t, p.Name); after != before {
		t.Errorf("dry runs changed the engine:\n%s\nbecame\n%s", before, after)
	}
	compose("--dry-run", "down").Mentions(t, fmt.Sprintf("Container %s  Removed", p.ContainerName("db", 1)), "Network "+p.Name+"_default  Removed")
	compose("--dry-run", "exec", "api", "true").Failure(t, 1).Mentions(t, "--dry-run is not supported by exec")
}
