package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

// TestVersion checks version's formats: the build's version and commit,
// the Go version and the engine's version and API.
func TestVersion(t *testing.T) {
	t.Parallel()
	want := buildVersion()
	pretty := "composer version " + want.Version + "\n"
	if want.Commit != "" {
		pretty += " commit:  " + want.Commit + "\n"
	}
	pretty += " go:      " + runtime.Version() + "\n" + " engine:  fake (API 1.41)\n"
	checkJSON := func(t *testing.T, out string) {
		var got versionInfo
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("output %q is not JSON: %v", out, err)
		}
		w := want
		w.Engine = &engineInfo{Version: "fake", APIVersion: "1.41"}
		if got.Version != w.Version || got.Commit != w.Commit || got.Go != w.Go || got.Engine == nil || *got.Engine != *w.Engine {
			t.Errorf("version JSON = %s, want %+v with engine %+v", out, w, *w.Engine)
		}
	}
	tests := []struct {
		args  []string
		check func(t *testing.T, out string)
	}{
		{args: []string{"version"}, check: func(t *testing.T, out string) {
			if out != pretty {
				t.Errorf("output %q, want %q", out, pretty)
			}
		}},
		{args: []string{"version", "--format", "pretty"}, check: func(t *testing.T, out string) {
			if out != pretty {
				t.Errorf("output %q, want %q", out, pretty)
			}
		}},
		{args: []string{"version", "--short"}, check: func(t *testing.T, out string) {
			if out != want.Version+"\n" {
				t.Errorf("output %q, want %q", out, want.Version+"\n")
			}
		}},
		{args: []string{"version", "--format", "json"}, check: checkJSON},
		{args: []string{"version", "-f", "json"}, check: checkJSON},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			c := newCLI(t, "")
			r := c.must(tt.args...)
			tt.check(t, r.stdout)
			if r.stderr != "" {
				t.Errorf("stderr = %q, want nothing", r.stderr)
			}
		})
	}
}

// TestVersionWithoutEngine checks that version works when no engine
// answers, and says so: it is how one diagnoses exactly that.
func TestVersionWithoutEngine(t *testing.T) {
	t.Parallel()
	down := func(context.Context, string) (connection, error) { return connection{}, errors.New("cannot connect") }
	for _, tt := range []struct {
		format string
		check  func(t *testing.T, out string)
	}{
		{format: "pretty", check: func(t *testing.T, out string) {
			if !strings.HasSuffix(out, " engine:  not reachable\n") || !strings.HasPrefix(out, "composer version ") {
				t.Errorf("output %q, want the version and 'engine:  not reachable'", out)
			}
		}},
		{format: "json", check: func(t *testing.T, out string) {
			var got map[string]any
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("output %q is not JSON: %v", out, err)
			}
			if _, ok := got["engine"]; ok {
				t.Errorf("version JSON %s has an engine, want none", out)
			}
			if got["version"] == "" || got["go"] != runtime.Version() {
				t.Errorf("version JSON = %s", out)
			}
		}},
	} {
		t.Run(tt.format, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var out, errb bytes.Buffer
			streams := Streams{In: strings.NewReader(""), Out: &out, Err: &errb, Env: []string{"HOME=" + t.TempDir()}}
			if code := runWith(ctx, []string{"version", "--format", tt.format}, streams, down); code != 0 {
				t.Fatalf("exit code %d, want 0; stderr:\n%s", code, errb.String())
			}
			tt.check(t, out.String())
			if errb.Len() != 0 {
				t.Errorf("stderr = %q, want nothing", errb.String())
			}
		})
	}
}

// TestResolveVersion checks where the version and commit come from: what
// the build stamped, then the Go build info, then "dev".
func TestResolveVersion(t *testing.T) {
	t.Parallel()
	info := func(module string, settings ...string) *debug.BuildInfo {
		bi := &debug.BuildInfo{Main: debug.Module{Path: "github.com/composer-orchestrator/composer", Version: module}}
		for i := 0; i+1 < len(settings); i += 2 {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
		}
		return bi
	}
	tests := []struct {
		name            string
		version, commit string
		info            *debug.BuildInfo
		wantVersion     string
		wantCommit      string
	}{
		{
			name: "stamped version and commit win over the build info", version: "v1.2.3-4-gabc", commit: "abc123",
			info:        info("v9.9.9", "vcs.revision", "def456", "vcs.modified", "true"),
			wantVersion: "v1.2.3-4-gabc", wantCommit: "abc123",
		},
		{
			name: "stamped version, commit from the VCS data", version: "v1.2.3",
			info:        info("", "vcs.revision", "def456", "vcs.modified", "false"),
			wantVersion: "v1.2.3", wantCommit: "def456",
		},
		{
			name:        "module version and modified VCS data (go install)",
			info:        info("v1.0.0", "vcs.revision", "def456", "vcs.modified", "true"),
			wantVersion: "v1.0.0", wantCommit: "def456-dirty",
		},
		{
			name:        "a development build is dev",
			info:        info("(devel)", "vcs.revision", "def456"),
			wantVersion: "dev", wantCommit: "def456",
		},
		{name: "no VCS data", info: info(""), wantVersion: "dev"},
		{name: "no build info", wantVersion: "dev"},
		{name: "no build info, stamped", version: "v2.0.0", commit: "abc", wantVersion: "v2.0.0", wantCommit: "abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := resolveVersion(tt.version, tt.commit, tt.info)
			if got.Version != tt.wantVersion || got.Commit != tt.wantCommit || got.Go != runtime.Version() {
				t.Errorf("resolveVersion = %+v, want version %q, commit %q, go %q", got, tt.wantVersion, tt.wantCommit, runtime.Version())
			}
		})
	}
}

// TestPluginMetadata checks the Docker CLI plugin protocol's first step:
// called as docker-composer docker-cli-plugin-metadata, composer describes
// itself, without asking the engine anything.
func TestPluginMetadata(t *testing.T) {
	t.Parallel()
	c := newCLI(t, "")
	c.program = pluginBinary
	r := c.must("docker-cli-plugin-metadata")
	var m map[string]string
	if err := json.Unmarshal([]byte(r.stdout), &m); err != nil {
		t.Fatalf("metadata %q is not JSON: %v", r.stdout, err)
	}
	if m["SchemaVersion"] != "0.1.0" {
		t.Errorf("SchemaVersion = %q, want 0.1.0", m["SchemaVersion"])
	}
	if m["Version"] == "" || m["Version"] != buildVersion().Version {
		t.Errorf("Version = %q, want %q", m["Version"], buildVersion().Version)
	}
	for _, k := range []string{"Vendor", "ShortDescription"} {
		if m[k] == "" {
			t.Errorf("%s is empty in %s", k, r.stdout)
		}
	}
	if r.stderr != "" {
		t.Errorf("stderr = %q, want nothing", r.stderr)
	}
	if n := len(c.eng.Published()); n != 0 {
		t.Errorf("the engine saw %d events, want none", n)
	}
}

// TestPluginRunsComposer checks the protocol's second step: docker
// composer ARGS reaches the plugin as composer ARGS, runs them, and help
// and usage errors name the command as the user typed it.
func TestPluginRunsComposer(t *testing.T) {
	t.Parallel()
	c := newCLI(t, webYAML)
	c.program = pluginBinary
	c.must("composer", "up", "-d")
	if got := c.containerNames("proj"); len(got) != 1 || got[0] != "proj-web-1" {
		t.Fatalf("containers = %v, want [proj-web-1]", got)
	}
	if r := c.must("composer", "ps"); !strings.Contains(r.stdout, "proj-web-1") {
		t.Errorf("ps does not list proj-web-1:\n%s", r)
	}
	if r := c.must("composer", "-p", "proj", "ps", "--format", "json"); !strings.Contains(r.stdout, `"proj-web-1"`) {
		t.Errorf("ps with a global flag does not list proj-web-1:\n%s", r)
	}
	if r := c.must("composer", "--help"); !strings.Contains(r.stdout, "docker composer [command]") {
		t.Errorf("help does not say 'docker composer [command]':\n%s", r)
	}
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{args: []string{"composer", "up", "--bogus"}, want: []string{"unknown flag: --bogus", "See 'docker composer up --help'."}},
		{args: []string{"composer", "--bogus", "ps"}, want: []string{"unknown flag: --bogus", "See 'docker composer --help'."}},
		{args: []string{"composer", "bogus"}, want: []string{`unknown command "bogus" for "docker composer"`}},
	} {
		r := c.run(tt.args...)
		if r.code != 1 {
			t.Errorf("exit code %d, want 1:\n%s", r.code, r)
		}
		for _, w := range tt.want {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("stderr does not say %q:\n%s", w, r)
			}
		}
	}
}

// TestProgramName checks that composer installed under another name
// (make install NAME=composer-x) calls itself by that name in help, usage
// errors and completions.
func TestProgramName(t *testing.T) {
	t.Parallel()
	c := newCLI(t, "")
	c.program = "composer-x"
	if r := c.must("--help"); !strings.Contains(r.stdout, "composer-x [command]") {
		t.Errorf("help does not say 'composer-x [command]':\n%s", r)
	}
	if r := c.run("up", "--bogus"); r.code != 1 || !strings.Contains(r.stderr, "See 'composer-x up --help'.") {
		t.Errorf("want exit 1 and 'See 'composer-x up --help'.':\n%s", r)
	}
	if r := c.must("completion", "bash"); !strings.Contains(r.stdout, "composer-x") {
		t.Errorf("the bash completion does not name composer-x:\n%.500s", r.stdout)
	}
	// A name that merely looks like the plugin's is not the plugin.
	if r := c.run("docker-cli-plugin-metadata"); r.code != 1 || !strings.Contains(r.stderr, "unknown command") {
		t.Errorf("want docker-cli-plugin-metadata to be an unknown command for composer-x:\n%s", r)
	}
}

// TestPluginDockerFlags checks the Docker CLI's global flags, which it
// passes to a plugin before the plugin's name: -H names the engine, the
// others are refused rather than ignored.
func TestPluginDockerFlags(t *testing.T) {
	t.Parallel()
	c := newCLI(t, "") // ps -p needs no file, and -f would go first
	c.program = pluginBinary
	c.must("-H", "unix:///run/other.sock", "composer", "-p", "proj", "ps")
	if c.host != "unix:///run/other.sock" {
		t.Errorf("engine host = %q, want the -H value", c.host)
	}
	c.must("composer", "-p", "proj", "ps")
	if c.host != "" {
		t.Errorf("engine host = %q without -H, want DOCKER_HOST's (empty)", c.host)
	}
	for _, args := range [][]string{
		{"--context", "remote", "composer", "ps"},
		{"-c", "remote", "composer", "ps"},
		{"--debug", "composer", "ps"},
		{"--tlsverify", "composer", "ps"},
		{"--config", "/tmp/x", "composer", "ps"},
	} {
		r := c.run(args...)
		if r.code != 1 || !strings.Contains(r.stderr, "is not supported by docker composer") {
			t.Errorf("want exit 1 and a refusal:\n%s", r)
		}
	}
}
