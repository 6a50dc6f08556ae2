package main

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v4"

	"github.com/composer-orchestrator/composer/project"
)

// escapesFixture holds every way a compose file writes a literal $.
const escapesFixture = "testdata/escapes/compose.yaml"

// escapesEnv is the environment the fixture is loaded with: VAR holds a $,
// which interpolation puts in the model as a literal one; TAG is unset.
var escapesEnv = []string{`VAR=a$b`}

// configRoundTrip prints the config of files, loads the printed output
// from a file again with the same environment and prints it again: both
// prints must be byte-identical and both loads the same project. It
// returns the first print.
func configRoundTrip(t *testing.T, c *cli, files []string, args ...string) string {
	t.Helper()
	var fileArgs []string
	for _, f := range files {
		fileArgs = append(fileArgs, "-f", f)
	}
	first := c.must(slices.Concat(fileArgs, []string{"config"}, args)...)

	ext := ".yaml"
	if slices.Contains(args, "json") {
		ext = ".json"
	}
	printed := filepath.Join(t.TempDir(), "printed"+ext)
	if err := os.WriteFile(printed, []byte(first.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	second := c.must(slices.Concat([]string{"-f", printed, "config"}, args)...)
	if first.stdout != second.stdout {
		t.Errorf("config of the printed config differs from the first print:\n--- first\n%s--- second\n%s", first.stdout, second.stdout)
	}

	noInterpolate := slices.Contains(args, "--no-interpolate")
	sameProject(t, loadForTest(t, c, noInterpolate, files...), loadForTest(t, c, noInterpolate, printed))
	return first.stdout
}

// loadForTest loads files as c's command lines do.
func loadForTest(t *testing.T, c *cli, noInterpolate bool, files ...string) *types.Project {
	t.Helper()
	env := slices.Concat([]string{"HOME=" + c.dir, "COMPOSE_PROJECT_NAME=proj"}, c.env)
	p, err := project.Load(context.Background(), project.Options{Files: files, Env: env, WorkingDir: c.dir, NoInterpolate: noInterpolate})
	if err != nil {
		t.Fatalf("loading %v: %v", files, err)
	}
	return p
}

// sameProject fails unless a and b are the same model: services (but for
// the labels naming the compose files), networks, volumes, extensions, and
// the whole project as compose-go marshals it.
func sameProject(t *testing.T, a, b *types.Project) {
	t.Helper()
	strip := func(s types.Services) types.Services {
		out := types.Services{}
		for n, svc := range s {
			svc.CustomLabels = nil
			out[n] = svc
		}
		return out
	}
	if !reflect.DeepEqual(strip(a.Services), strip(b.Services)) {
		for _, n := range a.ServiceNames() {
			sa, sb := a.Services[n], b.Services[n]
			sa.CustomLabels, sb.CustomLabels = nil, nil
			if !reflect.DeepEqual(sa, sb) {
				t.Errorf("service %s differs once loaded again:\nfirst:  %#v\nsecond: %#v", n, sa, sb)
			}
		}
		if !slices.Equal(a.ServiceNames(), b.ServiceNames()) {
			t.Errorf("services differ: %v, loaded again %v", a.ServiceNames(), b.ServiceNames())
		}
	}
	if !reflect.DeepEqual(a.Networks, b.Networks) || !reflect.DeepEqual(a.Volumes, b.Volumes) {
		t.Errorf("networks or volumes differ once loaded again:\n%#v %#v\n%#v %#v", a.Networks, a.Volumes, b.Networks, b.Volumes)
	}
	if !reflect.DeepEqual(a.Extensions, b.Extensions) {
		t.Errorf("extensions differ once loaded again:\n%#v\n%#v", a.Extensions, b.Extensions)
	}
	ya, err := a.MarshalYAML()
	if err != nil {
		t.Fatal(err)
	}
	yb, err := b.MarshalYAML()
	if err != nil {
		t.Fatal(err)
	}
	if string(ya) != string(yb) {
		t.Errorf("the project marshals differently once loaded again:\n--- first\n%s--- second\n%s", ya, yb)
	}
}

var dollarRun = regexp.MustCompile(`\$+`)

// valuesEscaped fails for each string value of the YAML (or JSON) document
// out holding an odd run of $, that is a $ the loader would interpolate.
// Mapping keys are not interpolated and not checked.
func valuesEscaped(t *testing.T, out string) {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("config printed no YAML: %v\n%s", err, out)
	}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		switch n.Kind {
		case yaml.DocumentNode, yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c)
			}
		case yaml.MappingNode:
			for i := 1; i < len(n.Content); i += 2 {
				walk(n.Content[i])
			}
		case yaml.ScalarNode:
			for _, run := range dollarRun.FindAllString(n.Value, -1) {
				if len(run)%2 != 0 {
					t.Errorf("line %d: value %q holds an unescaped $", n.Line, n.Value)
					break
				}
			}
		}
	}
	walk(&doc)
}

// TestConfigEscapesDollars prints the fixture as YAML and as JSON: every $
// the loader left in a value comes out as $$, keys as they were loaded, and
// the output loads back to the same project and prints the same again.
func TestConfigEscapesDollars(t *testing.T) {
	fixture, err := filepath.Abs(escapesFixture)
	if err != nil {
		t.Fatal(err)
	}
	// What the loader makes of the fixture: every $$ unescaped, ${VAR}
	// replaced by a value holding a literal $.
	c := newCLI(t, "")
	c.env = escapesEnv
	p := loadForTest(t, c, false, fixture)
	list, str := p.Services["list"], p.Services["string"]
	checks := []struct {
		what      string
		got, want any
	}{
		{"list command", []string(list.Command), []string{"echo", "$HOME", "${NOT_A_VAR}", "end$", "four$$", "a$b", "5$ each"}},
		{"list entrypoint", []string(list.Entrypoint), []string{"/bin/sh", "-c", `echo $0 "$@"`, "sh"}},
		{"list working_dir", list.WorkingDir, "/home/$USER"},
		{"list image", list.Image, "busybox:1"},
		{"list MIXED", *list.Environment["MIXED"], "a$b-$HOME-1"},
		{"list DOUBLE", *list.Environment["DOUBLE"], "$$"},
		{"list map key", list.Environment["M$$K"] != nil, true},
		{"list label", list.Labels["com.example.var"], "pre-a$b"},
		{"list healthcheck", []string(list.HealthCheck.Test), []string{"CMD-SHELL", `test -n "$HOSTNAME" && test "${PATH}" != ''`}},
		{"list volume", list.Volumes[0].Source + " " + list.Volumes[0].Target, "/srv/d$ir /data$"},
		{"string command", []string(str.Command), []string{"echo", "$HOME", "and", "${NOT_A_VAR}", "end$"}},
		{"string entrypoint", []string(str.Entrypoint), []string{"/bin/sh", "-c", `echo "$1"`, "--"}},
		{"string list key", str.Environment["L$K"] != nil, true},
		{"string label key", str.Labels["list.k$ey"], "list label key with a dollar"},
		{"x-foo", p.Extensions["x-foo"], map[string]any{"note": "costs $5", "list": []any{"$HOME", "plain"}, "k$$ey": "value"}},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("loaded fixture: %s = %#v, want %#v", ch.what, ch.got, ch.want)
		}
	}

	for _, tc := range []struct {
		format string
		lines  []string // each must be a line of the output, spaces trimmed
	}{
		{"yaml", []string{
			"- $$HOME", "- $${NOT_A_VAR}", "- end$$", "- four$$$$", "- a$$b", "- 5$$ each",
			`- echo $$0 "$$@"`, "working_dir: /home/$$USER", "image: busybox:1",
			"HOME_REF: $$HOME", "BRACED: $${NOT_A_VAR}", "TRAILING: price$$", "DOUBLE: $$$$",
			"FROM_VAR: a$$b", "MIXED: a$$b-$$HOME-1", "LONE: 5$$ each", "LIST_VAR: a$$b",
			"com.example.home: $$HOME", "com.example.var: pre-a$$b", "list.label: $$HOME",
			`- test -n "$$HOSTNAME" && test "$${PATH}" != ''`, `- echo "$$HOSTNAME"`,
			"source: /srv/d$$ir", "target: /data$$", "note: costs $$5",
			// Keys print as loaded: the loader never interpolates them.
			"M$$K: map key with dollars", "L$K: list key with a dollar",
			"list.k$ey: list label key with a dollar", "k$$ey: value",
		}},
		{"json", []string{
			`"$$HOME",`, `"$${NOT_A_VAR}",`, `"end$$",`, `"four$$$$",`, `"a$$b",`, `"5$$ each"`,
			`"working_dir": "/home/$$USER",`, `"HOME_REF": "$$HOME",`, `"FROM_VAR": "a$$b",`,
			`"MIXED": "a$$b-$$HOME-1",`, `"com.example.var": "pre-a$$b"`, `"note": "costs $$5"`,
			`"M$$K": "map key with dollars",`, `"L$K": "list key with a dollar",`, `"k$$ey": "value",`,
		}},
	} {
		t.Run(tc.format, func(t *testing.T) {
			c := newCLI(t, "")
			c.env = escapesEnv
			out := configRoundTrip(t, c, []string{fixture}, "--format", tc.format)
			lines := map[string]bool{}
			for _, l := range strings.Split(out, "\n") {
				lines[strings.TrimSpace(l)] = true
			}
			for _, want := range tc.lines {
				if !lines[want] {
					t.Errorf("config --format %s: no line %q in:\n%s", tc.format, want, out)
				}
			}
			if regexp.MustCompile(`(^|[^$])\$(HOME|\{NOT_A_VAR\}|HOSTNAME|USER)`).MatchString(out) {
				t.Errorf("config --format %s: a bare $ before a variable name:\n%s", tc.format, out)
			}
			valuesEscaped(t, out)

			// -o writes what standard output shows.
			file := filepath.Join(t.TempDir(), "out")
			c.must("-f", fixture, "config", "--format", tc.format, "-o", file)
			if b, err := os.ReadFile(file); err != nil || string(b) != out {
				t.Errorf("config -o wrote %q (%v), stdout was:\n%s", b, err, out)
			}
		})
	}
}

// TestConfigNoInterpolateKeepsDollars: with --no-interpolate the loader
// neither interpolates nor unescapes, so config prints ${VAR} and $$ as
// written, and loading that output (with interpolation) gives the project
// the fixture gives.
func TestConfigNoInterpolateKeepsDollars(t *testing.T) {
	fixture, err := filepath.Abs(escapesFixture)
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"yaml", "json"} {
		t.Run(format, func(t *testing.T) {
			c := newCLI(t, "")
			c.env = escapesEnv
			out := configRoundTrip(t, c, []string{fixture}, "--no-interpolate", "--format", format)
			for _, want := range []string{"$$HOME", "$${NOT_A_VAR}", "end$$", "four$$$$", "${VAR}", "busybox:${TAG:-1}", "${VAR}-$$HOME-${TAG:-1}", "/home/$$USER", "costs $$5", "5$ each"} {
				if !strings.Contains(out, want) {
					t.Errorf("config --no-interpolate: %q missing:\n%s", want, out)
				}
			}
			if strings.Contains(out, "a$b") || strings.Contains(out, "$$$$$$") {
				t.Errorf("config --no-interpolate interpolated or escaped again:\n%s", out)
			}

			printed := filepath.Join(t.TempDir(), "printed."+format)
			if err := os.WriteFile(printed, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
			want, got := loadForTest(t, c, false, fixture), loadForTest(t, c, false, printed)
			// The one difference: a key written in list form (L$$K=...)
			// is unescaped by interpolation with its value; printed
			// uninterpolated as a mapping key it keeps its $$, and keys
			// are not interpolated. No output could give both loads the
			// same key.
			if got.Services["string"].Environment["L$$K"] == nil || got.Services["string"].Labels["list.k$$ey"] == "" {
				t.Errorf("list-form keys: loaded again, environment %v, labels %v", got.Services["string"].Environment, got.Services["string"].Labels)
			}
			for _, p := range []*types.Project{want, got} {
				s := p.Services["string"]
				delete(s.Environment, "L$K")
				delete(s.Environment, "L$$K")
				delete(s.Labels, "list.k$ey")
				delete(s.Labels, "list.k$$ey")
			}
			sameProject(t, want, got)
		})
	}
}

// TestConfigEscapesResolvedValues: values the loader takes from outside
// the file (a bare name in environment, an env_file) are literal too.
func TestConfigEscapesResolvedValues(t *testing.T) {
	c := newCLI(t, `
services:
  app:
    image: busybox
    env_file: app.env
    environment:
      - BARE
`)
	c.write("app.env", "FROM_FILE='p$q'\n")
	c.env = []string{"BARE=x$y"}
	out := configRoundTrip(t, c, []string{filepath.Join(c.dir, "compose.yaml")})
	for _, want := range []string{"BARE: x$$y", "FROM_FILE: p$$q"} {
		if !strings.Contains(out, want) {
			t.Errorf("config: %q missing:\n%s", want, out)
		}
	}
	valuesEscaped(t, out)
}

// TestConfigExamplesRoundTrip: the examples' config loads back to the same
// project, in YAML and JSON. Airflow's healthchecks hold $${HOSTNAME},
// which must stay escaped.
func TestConfigExamplesRoundTrip(t *testing.T) {
	examples, err := filepath.Abs(filepath.Join("..", "..", "examples"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		dir      string
		files    []string
		profiles string // COMPOSE_PROFILES, for the command lines and the loads alike
		escaped  []string
	}{
		{name: "flask-redis-nginx", dir: "flask-redis-nginx", files: []string{"compose.yaml"}},
		{name: "flask-redis-nginx local", dir: "flask-redis-nginx", files: []string{"compose.yaml", "compose.local.yaml"}},
		{name: "airflow", dir: "airflow", files: []string{"compose.yaml"}, profiles: "flower",
			escaped: []string{`--hostname \"$${HOSTNAME}\"`, `celery@$${HOSTNAME}`}},
		{name: "airflow standin", dir: "airflow", files: []string{"compose.yaml", "compose.standin.yaml"}, profiles: "flower"},
	} {
		for _, format := range []string{"yaml", "json"} {
			t.Run(tc.name+" "+format, func(t *testing.T) {
				c := newCLI(t, "")
				var files []string
				for _, f := range tc.files {
					files = append(files, filepath.Join(examples, tc.dir, f))
				}
				c.env = []string{"COMPOSE_PROFILES=" + tc.profiles}
				out := configRoundTrip(t, c, files, "--format", format)
				valuesEscaped(t, out)
				if tc.profiles == "flower" && !strings.Contains(out, "5555") {
					t.Errorf("config: the flower service (profile flower) is missing:\n%s", out)
				}
				for _, want := range tc.escaped {
					if format == "yaml" {
						want = strings.ReplaceAll(want, `\"`, `"`)
					}
					if !strings.Contains(out, want) {
						t.Errorf("config: %q missing:\n%s", want, out)
					}
				}
			})
		}
	}
}

// TestEscapeJSONDollars: string values get $$, object keys stay, however
// the strings are escaped or spaced.
func TestEscapeJSONDollars(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"k$": "v$"}`, `{"k$": "v$$"}`},
		{`{"k$" : "$$", "l$"` + "\n\t:" + ` ["a$", "b\": $x", "\\"], "m": {"n$":"$"}}`,
			`{"k$" : "$$$$", "l$"` + "\n\t:" + ` ["a$$", "b\": $$x", "\\"], "m": {"n$":"$$"}}`},
		{`["\\\"$\\", 1, true, null, "$"]`, `["\\\"$$\\", 1, true, null, "$$"]`},
		{`"$`, `"$$`}, // truncated: no panic
	} {
		if got := string(escapeJSONDollars([]byte(tc.in))); got != tc.want {
			t.Errorf("escapeJSONDollars(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
