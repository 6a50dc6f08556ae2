package project

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
)

// settle waits until files just written are older than the racy window,
// so that a load that reads them may be stored.
func settle() { time.Sleep(racyWindow + 10*time.Millisecond) }

// cachedLoad loads o and says what the cache did: "hit", "store", or the
// events it reported.
func cachedLoad(t *testing.T, o Options) (*types.Project, string, []string) {
	t.Helper()
	var events []string
	o.cacheTrace = func(e string) { events = append(events, e) }
	var warnings []string
	o.Warn = func(m string) { warnings = append(warnings, m) }
	p, err := Load(context.Background(), o)
	if err != nil {
		t.Fatalf("Load: %v (cache: %q)", err, events)
	}
	switch {
	case slices.Contains(events, "hit"):
		return p, "hit", warnings
	case slices.Contains(events, "store"):
		return p, "store", warnings
	}
	return p, strings.Join(events, "; "), warnings
}

// freshLoad loads o without the cache.
func freshLoad(t *testing.T, o Options) (*types.Project, []string) {
	t.Helper()
	o.NoCache = true
	var warnings []string
	o.Warn = func(m string) { warnings = append(warnings, m) }
	p, err := Load(context.Background(), o)
	if err != nil {
		t.Fatalf("Load without cache: %v", err)
	}
	return p, warnings
}

// sameProject fails unless got and want are deeply equal, naming what
// differs.
func sameProject(t *testing.T, what string, got, want *types.Project) {
	t.Helper()
	if reflect.DeepEqual(got, want) {
		return
	}
	gv, wv := reflect.ValueOf(got).Elem(), reflect.ValueOf(want).Elem()
	for i := range gv.NumField() {
		name := gv.Type().Field(i).Name
		if reflect.DeepEqual(gv.Field(i).Interface(), wv.Field(i).Interface()) {
			continue
		}
		if name == "Services" || name == "DisabledServices" {
			gs, ws := gv.Field(i).Interface().(types.Services), wv.Field(i).Interface().(types.Services)
			for _, n := range sortedKeys(ws) {
				if !reflect.DeepEqual(gs[n], ws[n]) {
					t.Errorf("%s: %s[%s] = %+v\nwant %+v", what, name, n, gs[n], ws[n])
				}
			}
			if len(gs) != len(ws) {
				t.Errorf("%s: %s has %v, want %v", what, name, sortedKeys(gs), sortedKeys(ws))
			}
			continue
		}
		t.Errorf("%s: %s = %#v\nwant %#v", what, name, gv.Field(i).Interface(), wv.Field(i).Interface())
	}
}

func env(p *types.Project, svc, name string) string {
	v := p.Services[svc].Environment[name]
	if v == nil {
		return "<nil>"
	}
	return *v
}

// cacheFixture is a project using every kind of input: an override, an
// include (with its own .env), a service extending one in another file
// (which extends one in a third), an env_file, a label_file, .env, a
// variable of the environment, and one looked up by a name that is
// written nowhere: CHOSEN, made by interpolating ${WHICH_A}${WHICH_B}.
var cacheFixture = map[string]string{
	"proj/compose.yaml": `
include:
  - inc/compose.yaml
services:
  web:
    image: "web:${TAG}"
    env_file: web.env
    label_file: web.labels
    environment:
      FROM_ENV: "${FROM_ENV:-unset}"
  api:
    extends: {file: base/common.yaml, service: base}
  computed:
    image: computed
    environment: ["${WHICH_A}${WHICH_B}"]
  debug:
    image: debug
    profiles: [debug]
  tools:
    image: tools
    profiles: [tools]
`,
	"proj/compose.override.yaml": "services:\n  web:\n    environment: {OVERRIDE: one}\n",
	"proj/.env":                  "TAG=1\nWHICH_A=CHO\nWHICH_B=SEN\n",
	"proj/custom.env":            "TAG=custom\n",
	"proj/web.env":               "FROM_FILE=1\n",
	"proj/web.labels":            "label.one=1\n",
	"proj/inc/compose.yaml":      "services:\n  inc:\n    image: \"inc:${INC_TAG}\"\n",
	"proj/inc/.env":              "INC_TAG=1\n",
	"proj/base/common.yaml":      "services:\n  base:\n    extends: {file: ../deeper/root.yaml, service: root}\n    environment: {BASE: one}\n",
	"proj/deeper/root.yaml":      "services:\n  root:\n    image: root:1\n    environment: {ROOT: one}\n",
}

// includeFixture includes a project with its own directory and env file,
// whose service extends one in a file of that directory, and a file that
// includes another in turn, chosen by a variable of .env.
var includeFixture = map[string]string{
	"main/compose.yaml": `
include:
  - path: ../shared/compose.yaml
    project_directory: ../shared
    env_file: [../shared/vars.env]
  - ${NESTED_DIR:-nested}/compose.yaml
services:
  top: {image: top}
`,
	"main/.env":                      "NESTED_DIR=nested\n",
	"shared/compose.yaml":            "services:\n  shared:\n    image: \"shared:${SHARED_TAG}\"\n    extends: {file: ext/base.yaml, service: b}\n",
	"shared/vars.env":                "SHARED_TAG=1\n",
	"shared/ext/base.yaml":           "services:\n  b: {environment: {B: one}}\n",
	"main/nested/compose.yaml":       "include: [inner/compose.yaml]\nservices:\n  nested: {image: nested}\n",
	"main/nested/inner/compose.yaml": "services:\n  inner: {image: \"inner:${INNER:-0}\"}\n",
	"main/other/compose.yaml":        "services:\n  other: {image: other}\n",
}

func TestCacheSeesEachInput(t *testing.T) {
	t.Parallel()
	write := func(path, content string) func(t *testing.T, root string, o *Options) {
		return func(t *testing.T, root string, o *Options) {
			writeFiles(t, root, map[string]string{path: content})
		}
	}
	remove := func(path string) func(t *testing.T, root string, o *Options) {
		return func(t *testing.T, root string, o *Options) {
			if err := os.Remove(filepath.Join(root, path)); err != nil {
				t.Fatal(err)
			}
		}
	}
	setEnv := func(kv ...string) func(t *testing.T, root string, o *Options) {
		return func(t *testing.T, root string, o *Options) {
			for _, e := range kv {
				name, _, _ := strings.Cut(e, "=")
				o.Env = slices.DeleteFunc(o.Env, func(x string) bool { return strings.HasPrefix(x, name+"=") })
				if strings.Contains(e, "=") {
					o.Env = append(o.Env, e)
				}
			}
		}
	}
	tests := []struct {
		name string
		// fixture is cacheFixture unless set.
		fixture map[string]string
		// setup changes the fixture or the options before the first load.
		setup  func(t *testing.T, root string, o *Options)
		change func(t *testing.T, root string, o *Options)
		// check looks at the project loaded after the change.
		check func(t *testing.T, p *types.Project, warnings []string)
	}{
		{
			name:   "main file content",
			change: write("proj/compose.yaml", strings.Replace(cacheFixture["proj/compose.yaml"], `"web:${TAG}"`, `"web2:${TAG}"`, 1)),
			check:  func(t *testing.T, p *types.Project, _ []string) { wantImage(t, p, "web", "web2:1") },
		},
		{
			name:   "override created",
			setup:  remove("proj/compose.override.yaml"),
			change: write("proj/compose.override.yaml", "services:\n  web:\n    image: from-override\n"),
			check:  func(t *testing.T, p *types.Project, _ []string) { wantImage(t, p, "web", "from-override") },
		},
		{
			name:   "override changed",
			change: write("proj/compose.override.yaml", "services:\n  web:\n    environment: {OVERRIDE: two}\n"),
			check:  func(t *testing.T, p *types.Project, _ []string) { wantEnv(t, p, "web", "OVERRIDE", "two") },
		},
		{
			name:   "override deleted",
			change: remove("proj/compose.override.yaml"),
			check:  func(t *testing.T, p *types.Project, _ []string) { wantEnv(t, p, "web", "OVERRIDE", "<nil>") },
		},
		{
			name:   "override with another candidate name created",
			change: write("proj/docker-compose.override.yml", "services:\n  web:\n    environment: {OVERRIDE: other}\n"),
			check: func(t *testing.T, p *types.Project, w []string) {
				if !slices.ContainsFunc(w, func(m string) bool { return strings.Contains(m, "multiple override files") }) {
					t.Errorf("warnings = %q, want one about several override files", w)
				}
			},
		},
		{
			name:   "included file changed",
			change: write("proj/inc/compose.yaml", "services:\n  inc:\n    image: \"inc2:${INC_TAG}\"\n"),
			check:  func(t *testing.T, p *types.Project, _ []string) { wantImage(t, p, "inc", "inc2:1") },
		},
		{
			name:   "included project's .env changed",
			change: write("proj/inc/.env", "INC_TAG=2\n"),
			check:  func(t *testing.T, p *types.Project, _ []string) { wantImage(t, p, "inc", "inc:2") },
		},
		{
			name:   "included project's .env created",
			setup:  remove("proj/inc/.env"),
			change: write("proj/inc/.env", "INC_TAG=3\n"),
			check:  func(t *testing.T, p *types.Project, _ []string) { wantImage(t, p, "inc", "inc:3") },
		},
		{
			name:   "extended file changed",
			change: write("proj/base/common.yaml", "services:\n  base:\n    extends: {file: ../deeper/root.yaml, service: root}\n    environment: {BASE: two}\n"),
			check:  func(t *testing.T, p *types.Project, _ []string) { wantEnv(t, p, "api", "BASE", "two") },
		},
		{
			name:   "file the extended file extends changed",
			change: write("proj/deeper/root.yaml", "services:\n  root:\n    image: root:2\n"),
			check:  func(t *testing.T, p *types.Project, _ []string) { wantImage(t, p, "api", "root:2") },
		},
		{
			name:   ".env changed",
			change: write("proj/.env", "TAG=2\nWHICH_A=CHO\nWHICH_B=SEN\n"),
			check:  func(t *testing.T, p *types.Project, _ []string) { wantImage(t, p, "web", "web:2") },
		},
		{
			name: ".env created",
			setup: func(t *testing.T, root string, o *Options) {
				remove("proj/.env")(t, root, o)
				setEnv("TAG=env", "WHICH_A=CHO", "WHICH_B=SEN")(t, root, o)
			},
			change: write("proj/.env", "TAG=dotenv\nFROM_ENV=dotenv\n"),
			check:  func(t *testing.T, p *types.Project, _ []string) { wantEnv(t, p, "web", "FROM_ENV", "dotenv") },
		},
		{
			name: "--env-file changed",
			setup: func(t *testing.T, root string, o *Options) {
				o.EnvFiles = []string{"custom.env"}
			},
			change: write("proj/custom.env", "TAG=custom2\n"),
			check:  func(t *testing.T, p *types.Project, _ []string) { wantImage(t, p, "web", "web:custom2") },
		},
		{
			name:   "--env-file given",
			change: func(t *testing.T, root string, o *Options) { o.EnvFiles = []string{"custom.env"} },
			check:  func(t *testing.T, p *types.Project, _ []string) { wantImage(t, p, "web", "web:custom") },
		},
		{
			name:   "env_file changed",
			change: write("proj/web.env", "FROM_FILE=2\n"),
			check:  func(t *testing.T, p *types.Project, _ []string) { wantEnv(t, p, "web", "FROM_FILE", "2") },
		},
		{
			name:   "label_file changed",
			change: write("proj/web.labels", "label.one=2\n"),
			check: func(t *testing.T, p *types.Project, _ []string) {
				if got := p.Services["web"].Labels["label.one"]; got != "2" {
					t.Errorf("label = %q, want 2", got)
				}
			},
		},
		{
			name:   "variable used in interpolation changed",
			setup:  setEnv("FROM_ENV=one"),
			change: setEnv("FROM_ENV=two"),
			check:  func(t *testing.T, p *types.Project, _ []string) { wantEnv(t, p, "web", "FROM_ENV", "two") },
		},
		{
			name:   "variable used in interpolation unset",
			setup:  setEnv("FROM_ENV=one"),
			change: setEnv("FROM_ENV"),
			check:  func(t *testing.T, p *types.Project, _ []string) { wantEnv(t, p, "web", "FROM_ENV", "unset") },
		},
		{
			name:   "variable used in interpolation set",
			change: setEnv("FROM_ENV=set"),
			check:  func(t *testing.T, p *types.Project, _ []string) { wantEnv(t, p, "web", "FROM_ENV", "set") },
		},
		{
			name:   "variable the process environment overrides .env with",
			change: setEnv("TAG=process"),
			check:  func(t *testing.T, p *types.Project, _ []string) { wantImage(t, p, "web", "web:process") },
		},
		{
			name:   "variable named by an interpolated value set",
			change: setEnv("CHOSEN=now"),
			check:  func(t *testing.T, p *types.Project, _ []string) { wantEnv(t, p, "computed", "CHOSEN", "now") },
		},
		{
			name:   "variable named by an interpolated value changed",
			setup:  setEnv("CHOSEN=one"),
			change: setEnv("CHOSEN=two"),
			check:  func(t *testing.T, p *types.Project, _ []string) { wantEnv(t, p, "computed", "CHOSEN", "two") },
		},
		{
			name:   "variable an env_file takes from the environment set",
			setup:  write("proj/web.env", "FROM_FILE=1\nPASSED\n"),
			change: setEnv("PASSED=yes"),
			check:  func(t *testing.T, p *types.Project, _ []string) { wantEnv(t, p, "web", "PASSED", "yes") },
		},
		{
			name:   "COMPOSE_PROFILES changed",
			change: setEnv("COMPOSE_PROFILES=debug"),
			check:  func(t *testing.T, p *types.Project, _ []string) { wantServices(t, p, "api computed debug inc web") },
		},
		{
			name:   "COMPOSE_PROFILES from .env",
			change: write("proj/.env", "TAG=1\nWHICH_A=CHO\nWHICH_B=SEN\nCOMPOSE_PROFILES=tools\n"),
			check:  func(t *testing.T, p *types.Project, _ []string) { wantServices(t, p, "api computed inc tools web") },
		},
		{
			name:   "profile flag",
			change: func(t *testing.T, root string, o *Options) { o.Profiles = []string{"tools"} },
			check:  func(t *testing.T, p *types.Project, _ []string) { wantServices(t, p, "api computed inc tools web") },
		},
		{
			name:   "project name flag",
			change: func(t *testing.T, root string, o *Options) { o.Name = "other" },
			check: func(t *testing.T, p *types.Project, _ []string) {
				if p.Name != "other" || p.Environment["COMPOSE_PROJECT_NAME"] != "other" {
					t.Errorf("name = %q (COMPOSE_PROJECT_NAME %q), want other", p.Name, p.Environment["COMPOSE_PROJECT_NAME"])
				}
			},
		},
		{
			name:   "COMPOSE_PROJECT_NAME",
			change: setEnv("COMPOSE_PROJECT_NAME=fromenv"),
			check: func(t *testing.T, p *types.Project, _ []string) {
				if p.Name != "fromenv" {
					t.Errorf("name = %q, want fromenv", p.Name)
				}
			},
		},
		{
			name: "working dir",
			change: func(t *testing.T, root string, o *Options) {
				writeFiles(t, root, map[string]string{"elsewhere/compose.yaml": "services:\n  else: {image: else}\n"})
				o.ProjectDirectory = ""
				o.WorkingDir = filepath.Join(root, "elsewhere")
			},
			check: func(t *testing.T, p *types.Project, _ []string) { wantServices(t, p, "else") },
		},
		{
			name: "project directory",
			change: func(t *testing.T, root string, o *Options) {
				// The same files elsewhere, but for .env and web.env.
				for name, content := range cacheFixture {
					if rel, ok := strings.CutPrefix(name, "proj/"); ok && !strings.HasPrefix(rel, "compose.") {
						writeFiles(t, root, map[string]string{"pd/" + rel: content})
					}
				}
				writeFiles(t, root, map[string]string{"pd/.env": "TAG=pd\nWHICH_A=CHO\nWHICH_B=SEN\n", "pd/web.env": "FROM_FILE=pd\n"})
				o.ProjectDirectory = filepath.Join(root, "pd")
				o.Files = []string{"compose.yaml"}
			},
			check: func(t *testing.T, p *types.Project, _ []string) {
				wantImage(t, p, "web", "web:pd")
				wantEnv(t, p, "web", "FROM_FILE", "pd")
			},
		},
		{
			name:   "NoInterpolate",
			change: func(t *testing.T, root string, o *Options) { o.NoInterpolate = true },
			check:  func(t *testing.T, p *types.Project, _ []string) { wantImage(t, p, "web", "web:${TAG}") },
		},
		{
			name:   "NoNormalize",
			change: func(t *testing.T, root string, o *Options) { o.NoNormalize = true },
			check: func(t *testing.T, p *types.Project, _ []string) {
				if _, ok := p.Networks["default"]; ok {
					t.Errorf("networks = %v, want no default network without normalization", p.Networks)
				}
			},
		},
		{
			name: "NoConsistency",
			setup: write("proj/compose.override.yaml",
				"services:\n  web:\n    environment: {OVERRIDE: one}\n  ghost:\n    image: g\n    profiles: [never]\n    networks: [nonet]\n"),
			change: func(t *testing.T, root string, o *Options) { o.NoConsistency = true },
			check:  func(t *testing.T, p *types.Project, _ []string) {},
		},
		{
			name:   "KeepEnvFiles",
			change: func(t *testing.T, root string, o *Options) { o.KeepEnvFiles = true },
			check: func(t *testing.T, p *types.Project, _ []string) {
				if len(p.Services["web"].EnvFiles) != 1 {
					t.Errorf("env files = %v, want web.env", p.Services["web"].EnvFiles)
				}
			},
		},
		{
			name: "NoPathResolution",
			// Relative env and label files are then read from the process's
			// directory.
			setup: write("proj/compose.override.yaml", "services:\n  web:\n    volumes: [./data:/data]\n"),
			change: func(t *testing.T, root string, o *Options) {
				o.NoPathResolution = true
				writeFiles(t, root, map[string]string{"proj/compose.yaml": strings.NewReplacer(
					"env_file: web.env", "env_file: "+filepath.Join(root, "proj", "web.env"),
					"label_file: web.labels", "label_file: "+filepath.Join(root, "proj", "web.labels"),
				).Replace(cacheFixture["proj/compose.yaml"])})
			},
			check: func(t *testing.T, p *types.Project, _ []string) {
				if got := p.Services["web"].Volumes; len(got) != 1 || got[0].Source != "./data" {
					t.Errorf("volumes = %v, want ./data as written", got)
				}
			},
		},
		{
			name: "order of -f files",
			setup: func(t *testing.T, root string, o *Options) {
				writeFiles(t, root, map[string]string{"proj/a.yaml": "services:\n  web: {image: a}\n", "proj/b.yaml": "services:\n  web: {image: b}\n"})
				o.Files = []string{"a.yaml", "b.yaml"}
			},
			change: func(t *testing.T, root string, o *Options) { o.Files = []string{"b.yaml", "a.yaml"} },
			check:  func(t *testing.T, p *types.Project, _ []string) { wantImage(t, p, "web", "a") },
		},
		{
			name:  "COMPOSE_FILE",
			setup: write("proj/c.yaml", "services:\n  web: {image: c}\n"),
			change: func(t *testing.T, root string, o *Options) {
				setEnv("COMPOSE_FILE="+filepath.Join(root, "proj", "c.yaml"))(t, root, o)
			},
			check: func(t *testing.T, p *types.Project, _ []string) { wantServices(t, p, "web") },
		},
		{
			name: "default-name file created higher up the search",
			setup: func(t *testing.T, root string, o *Options) {
				// Without --project-directory, .env is the process
				// directory's.
				o.ProjectDirectory = ""
				o.WorkingDir = filepath.Join(root, "proj", "sub", "deeper")
				if err := os.MkdirAll(o.WorkingDir, 0o755); err != nil {
					t.Fatal(err)
				}
			},
			change: write("proj/sub/docker-compose.yaml", "services:\n  nearer: {image: nearer}\n"),
			check:  func(t *testing.T, p *types.Project, _ []string) { wantServices(t, p, "nearer") },
		},
		{
			name:   "another candidate name beside the compose file",
			change: write("proj/compose.yml", "services:\n  other: {image: other}\n"),
			check: func(t *testing.T, p *types.Project, w []string) {
				if !slices.ContainsFunc(w, func(m string) bool { return strings.Contains(m, "multiple config files") }) {
					t.Errorf("warnings = %q, want one about several config files", w)
				}
			},
		},
		{
			name:    "include with project_directory: its env_file changed",
			fixture: includeFixture,
			change:  write("shared/vars.env", "SHARED_TAG=2\n"),
			check:   func(t *testing.T, p *types.Project, _ []string) { wantImage(t, p, "shared", "shared:2") },
		},
		{
			name:    "include with project_directory: the file its service extends changed",
			fixture: includeFixture,
			change:  write("shared/ext/base.yaml", "services:\n  b: {environment: {B: two}}\n"),
			check:   func(t *testing.T, p *types.Project, _ []string) { wantEnv(t, p, "shared", "B", "two") },
		},
		{
			name:    "include with project_directory: its .env created",
			fixture: includeFixture,
			setup: write("main/compose.yaml", strings.Replace(includeFixture["main/compose.yaml"],
				"    env_file: [../shared/vars.env]\n", "", 1)),
			change: write("shared/.env", "SHARED_TAG=dotenv\n"),
			check:  func(t *testing.T, p *types.Project, _ []string) { wantImage(t, p, "shared", "shared:dotenv") },
		},
		{
			name:    "nested include: inner file changed",
			fixture: includeFixture,
			change:  write("main/nested/inner/compose.yaml", "services:\n  inner: {image: \"inner2:${INNER:-0}\"}\n"),
			check:   func(t *testing.T, p *types.Project, _ []string) { wantImage(t, p, "inner", "inner2:0") },
		},
		{
			name:    "nested include: inner project's .env created",
			fixture: includeFixture,
			change:  write("main/nested/inner/.env", "INNER=5\n"),
			check:   func(t *testing.T, p *types.Project, _ []string) { wantImage(t, p, "inner", "inner:5") },
		},
		{
			name:    "nested include: middle file changed",
			fixture: includeFixture,
			change:  write("main/nested/compose.yaml", "include: [inner/compose.yaml]\nservices:\n  nested: {image: nested2}\n"),
			check:   func(t *testing.T, p *types.Project, _ []string) { wantImage(t, p, "nested", "nested2") },
		},
		{
			name:    "include path from a variable of .env",
			fixture: includeFixture,
			change:  write("main/.env", "NESTED_DIR=other\n"),
			check:   func(t *testing.T, p *types.Project, _ []string) { wantServices(t, p, "other shared top") },
		},
		{
			name:    "include path from a variable of the environment",
			fixture: includeFixture,
			change: func(t *testing.T, root string, o *Options) {
				o.Env = append(o.Env, "NESTED_DIR=other")
			},
			check: func(t *testing.T, p *types.Project, _ []string) { wantServices(t, p, "other shared top") },
		},
		{
			name:    "file included by an absolute path changed",
			fixture: includeFixture,
			setup: func(t *testing.T, root string, o *Options) {
				writeFiles(t, root, map[string]string{"main/compose.override.yaml": "include: [" + filepath.Join(root, "abs", "compose.yaml") + "]\n",
					"abs/compose.yaml": "services:\n  abs: {image: abs}\n"})
			},
			change: write("abs/compose.yaml", "services:\n  abs: {image: abs2}\n"),
			check:  func(t *testing.T, p *types.Project, _ []string) { wantImage(t, p, "abs", "abs2") },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			fixture, dir := cacheFixture, "proj"
			if tt.fixture != nil {
				fixture, dir = tt.fixture, "main"
			}
			writeFiles(t, root, fixture)
			// The project directory, as -f or --project-directory give:
			// otherwise compose-go reads the .env of the process's
			// directory, not WorkingDir's.
			o := Options{
				WorkingDir:       filepath.Join(root, dir),
				ProjectDirectory: filepath.Join(root, dir),
				Env:              []string{"UNRELATED=1"},
				CacheDir:         filepath.Join(root, "cache"),
			}
			if tt.setup != nil {
				tt.setup(t, root, &o)
			}
			settle()

			_, got, _ := cachedLoad(t, o)
			if got != "store" {
				t.Fatalf("first load: %s, want store", got)
			}
			p, got, _ := cachedLoad(t, o)
			if got != "hit" {
				t.Fatalf("second load: %s, want hit", got)
			}
			want, _ := freshLoad(t, o)
			sameProject(t, "hit", p, want)

			// Variables no file names change nothing.
			o2 := o
			o2.Env = append(slices.Clone(o.Env), "OLDPWD=/somewhere", "_=/usr/bin/composer", "SHLVL=3")
			p, got, _ = cachedLoad(t, o2)
			if got != "hit" {
				t.Fatalf("load with other unrelated variables: %s, want hit", got)
			}
			// Its Environment holds them all the same.
			want2, _ := freshLoad(t, o2)
			sameProject(t, "hit with unrelated variables", p, want2)

			tt.change(t, root, &o)
			settle()
			p, got, warnings := cachedLoad(t, o)
			if got == "hit" {
				t.Fatal("load after the change hit the cache")
			}
			want, wantWarnings := freshLoad(t, o)
			sameProject(t, "after the change", p, want)
			// compose-go warns about unset variables in map order.
			if !sameWarnings(warnings, wantWarnings) {
				t.Errorf("warnings = %q, want %q", warnings, wantWarnings)
			}
			tt.check(t, p, warnings)

			p, got, warnings = cachedLoad(t, o)
			if got != "hit" {
				t.Fatalf("load after that: %s, want hit", got)
			}
			sameProject(t, "hit after the change", p, want)
			if !sameWarnings(warnings, wantWarnings) {
				t.Errorf("replayed warnings = %q, want %q", warnings, wantWarnings)
			}
		})
	}
}

func sameWarnings(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}

func wantImage(t *testing.T, p *types.Project, svc, image string) {
	t.Helper()
	if got := p.Services[svc].Image; got != image {
		t.Errorf("%s image = %q, want %q", svc, got, image)
	}
}

func wantEnv(t *testing.T, p *types.Project, svc, name, value string) {
	t.Helper()
	if got := env(p, svc, name); got != value {
		t.Errorf("%s %s = %q, want %q", svc, name, got, value)
	}
}

func wantServices(t *testing.T, p *types.Project, names string) {
	t.Helper()
	if got := strings.Join(p.ServiceNames(), " "); got != names {
		t.Errorf("services = %q, want %q", got, names)
	}
}

// TestCacheRoundTrip checks that a project comes back from the cache as
// it was loaded: the examples, and a project with a bit of everything.
func TestCacheRoundTrip(t *testing.T) {
	t.Parallel()
	rich := map[string]string{
		"compose.yaml": `
name: rich
x-top: {list: [1, 2.5, "three", true, null, {nested: [a, {deeper: 1}]}], big: 18446744073709551615, neg: -3}
services:
  web:
    image: nginx
    build:
      context: ./app
      args: [A=1, B]
      x-build-ext: yes
    command: ["sh", "-c", "echo $$HOME"]
    entrypoint: ""
    environment: {EMPTY: "", NOVALUE: null, SET: value}
    healthcheck:
      test: ["CMD", "true"]
      interval: 2s
      timeout: 1s
      retries: 3
      start_period: 0s
    deploy:
      resources: {limits: {cpus: "0.5", memory: 64M}}
      replicas: 1
    ports: ["8080:80", "127.0.0.1:9000-9001:9000-9001/udp"]
    volumes:
      - ./data:/data:ro
      - type: volume
        source: named
        target: /named
        volume: {nocopy: true}
    networks:
      front: {aliases: [w], priority: 1}
      back: null
    depends_on:
      db: {condition: service_healthy, restart: true}
    labels: {a: "1"}
    ulimits: {nofile: {soft: 1, hard: 2}}
    sysctls: {net.core.somaxconn: 1024}
    tmpfs: [/tmp]
    cap_add: []
    dns: []
    develop:
      watch:
        - {path: ./app, action: sync, target: /app, ignore: [x]}
    pre_start:
      - image: busybox
        command: [echo, hi]
        environment: {HOOK: 1}
    post_start:
      - command: [echo, started]
    x-service-ext:
      map: {k: v}
      list: [1, 2]
      float: 1.5
      zero: 0
      negzero: -0.0
  db:
    image: postgres
    healthcheck: {test: ["CMD", "pg_isready"]}
    secrets: [s]
    configs: [{source: c, target: /c}]
  off:
    image: off
    profiles: [never]
    env_file: [{path: missing.env, required: false}]
networks:
  front: {driver: bridge, x-net: 1}
  back: {internal: true, ipam: {config: [{subnet: 10.0.0.0/24}]}}
volumes:
  named: {labels: {x: y}}
secrets:
  s: {file: ./secret.txt}
configs:
  c: {content: "hello $${X}"}
`,
		"secret.txt": "s\n",
	}
	tests := []struct {
		name  string
		dir   string
		files map[string]string
		opts  Options
	}{
		{name: "flask-redis-nginx", dir: "../examples/flask-redis-nginx", opts: Options{Files: []string{"compose.yaml", "compose.local.yaml"}}},
		{name: "flask-redis-nginx default", dir: "../examples/flask-redis-nginx"},
		{name: "airflow with flower", dir: "../examples/airflow", opts: Options{Files: []string{"compose.yaml", "compose.standin.yaml"}, Profiles: []string{"flower"}}},
		{name: "airflow", dir: "../examples/airflow"},
		{name: "rich", files: rich},
		{name: "rich, kept env files", files: rich, opts: Options{KeepEnvFiles: true}},
		{name: "rich, not normalized", files: rich, opts: Options{NoNormalize: true, NoInterpolate: true, NoPathResolution: true}},
		{name: "rich, all profiles", files: rich, opts: Options{Profiles: []string{"*"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := tt.opts
			if tt.dir != "" {
				dir, err := filepath.Abs(tt.dir)
				if err != nil {
					t.Fatal(err)
				}
				o.WorkingDir = dir
			} else {
				o.WorkingDir = t.TempDir()
				writeFiles(t, o.WorkingDir, tt.files)
				settle()
			}
			o.Env = []string{"PATH=/bin"}
			o.CacheDir = t.TempDir()
			want, wantWarnings := freshLoad(t, o)
			first, got, _ := cachedLoad(t, o)
			if got != "store" {
				t.Fatalf("first load: %s, want store", got)
			}
			sameProject(t, "stored", first, want)
			p, got, warnings := cachedLoad(t, o)
			if got != "hit" {
				t.Fatalf("second load: %s, want hit", got)
			}
			sameProject(t, "hit", p, want)
			if !sameWarnings(warnings, wantWarnings) {
				t.Errorf("warnings = %q, want %q", warnings, wantWarnings)
			}
			// What downstream reads: the config as YAML and JSON.
			for _, format := range []string{"yaml", "json"} {
				var a, b []byte
				var err1, err2 error
				if format == "yaml" {
					a, err1 = p.MarshalYAML()
					b, err2 = want.MarshalYAML()
				} else {
					a, err1 = p.MarshalJSON()
					b, err2 = want.MarshalJSON()
				}
				if err1 != nil || err2 != nil || string(a) != string(b) {
					t.Errorf("%s differs (%v, %v)", format, err1, err2)
				}
			}
			// The JSON of each service is what its config hash hashes.
			for _, name := range want.ServiceNames() {
				h1, err1 := json.Marshal(p.Services[name])
				h2, err2 := json.Marshal(want.Services[name])
				if err1 != nil || err2 != nil || string(h1) != string(h2) {
					t.Errorf("service %s JSON %s, want %s (%v, %v)", name, h1, h2, err1, err2)
				}
			}
		})
	}
}

func TestCacheWarningsReplayed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"compose.yaml": "version: '3'\nservices:\n  web: {image: \"nginx:${UNSET_VAR}\"}\n"})
	settle()
	o := Options{WorkingDir: dir, Env: []string{}, CacheDir: t.TempDir()}
	_, got, first := cachedLoad(t, o)
	if got != "store" || len(first) != 2 {
		t.Fatalf("first load: %s, warnings %q; want store and two warnings", got, first)
	}
	for range 2 {
		_, got, again := cachedLoad(t, o)
		if got != "hit" || !slices.Equal(again, first) {
			t.Errorf("load: %s, warnings %q; want hit and %q", got, again, first)
		}
	}
	// Setting the variable changes the warnings.
	o.Env = []string{"UNSET_VAR=1"}
	if _, got, w := cachedLoad(t, o); got == "hit" || len(w) != 0 {
		t.Errorf("with the variable set: %s, warnings %q; want a miss and none (version warned once per process)", got, w)
	}
}

// TestCacheVersionWarningOnce: compose-go warns about a file's version
// once per process, so a second load that misses the cache cannot tell
// it, and must not be stored without it.
func TestCacheVersionWarningOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"compose.yaml": "version: '3'\nservices:\n  web: {image: nginx}\n"})
	settle()
	o := Options{WorkingDir: dir, Env: []string{}}
	if _, w := freshLoad(t, o); len(w) != 1 {
		t.Fatalf("warnings = %q, want the version one", w)
	}
	o.CacheDir = t.TempDir()
	if _, got, _ := cachedLoad(t, o); !strings.Contains(got, "skip: the version warning") {
		t.Errorf("load: %s, want it not stored", got)
	}
}

func TestCacheCorruptEntry(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"compose.yaml": "services:\n  web: {image: nginx}\n"})
	settle()
	o := Options{WorkingDir: dir, Env: []string{}, CacheDir: t.TempDir()}
	want, _ := freshLoad(t, o)
	if _, got, _ := cachedLoad(t, o); got != "store" {
		t.Fatalf("first load: %s", got)
	}
	entries, _ := filepath.Glob(filepath.Join(o.CacheDir, "projects", "*"+entrySuffix))
	if len(entries) != 1 {
		t.Fatalf("entries = %v, want one", entries)
	}
	good, err := os.ReadFile(entries[0])
	if err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string][]byte{
		"empty":       nil,
		"truncated":   good[:len(good)/2],
		"flipped bit": func() []byte { b := slices.Clone(good); b[len(b)-3] ^= 1; return b }(),
		"garbage":     []byte(strings.Repeat("\xff", 100)),
		// A valid checksum over a body that does not decode.
		"bad body": func() []byte {
			body := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}
			b := append([]byte(entryMagic), 0, 0, 0, 0)
			sum := crc32.Checksum(body, crcTable)
			b[len(entryMagic)], b[len(entryMagic)+1], b[len(entryMagic)+2], b[len(entryMagic)+3] = byte(sum), byte(sum>>8), byte(sum>>16), byte(sum>>24)
			return append(b, body...)
		}(),
	} {
		if err := os.WriteFile(entries[0], bad, 0o600); err != nil {
			t.Fatal(err)
		}
		p, got, _ := cachedLoad(t, o)
		if got != "store" {
			t.Errorf("%s entry: %s, want a miss and a store", name, got)
		}
		sameProject(t, name, p, want)
	}
	// An entry others may write is not trusted.
	if err := os.Chmod(entries[0], 0o666); err != nil {
		t.Fatal(err)
	}
	if _, got, _ := cachedLoad(t, o); got != "store" {
		t.Errorf("entry writable by others: %s, want a miss and a store", got)
	}
	if _, got, _ := cachedLoad(t, o); got != "hit" {
		t.Errorf("entry stored again: %s, want a hit", got)
	}
}

func TestCacheUnwritable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"compose.yaml": "services:\n  web: {image: nginx}\n", "not-a-dir": "x"})
	settle()
	// A file where the cache directory should be: nothing can be written
	// below it, even by root.
	o := Options{WorkingDir: dir, Env: []string{}, CacheDir: filepath.Join(dir, "not-a-dir")}
	for range 2 {
		p, got, _ := cachedLoad(t, o)
		if !strings.Contains(got, "store failed") {
			t.Errorf("load: %s, want a failed store", got)
		}
		wantImage(t, p, "web", "nginx")
	}
}

func TestCacheConcurrent(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeFiles(t, root, cacheFixture)
	settle()
	o := Options{WorkingDir: filepath.Join(root, "proj"), Env: []string{"FROM_ENV=x"}, CacheDir: filepath.Join(root, "cache")}
	want, _ := freshLoad(t, o)
	const n = 16
	var wg sync.WaitGroup
	results := make([]*types.Project, n)
	for i := range n {
		wg.Go(func() {
			p, err := Load(context.Background(), o)
			if err != nil {
				t.Errorf("Load %d: %v", i, err)
			}
			results[i] = p
		})
	}
	wg.Wait()
	for i, p := range results {
		if p != nil {
			sameProject(t, fmt.Sprintf("load %d", i), p, want)
		}
	}
	if _, got, _ := cachedLoad(t, o); got != "hit" {
		t.Errorf("load after: %s, want hit", got)
	}
}

func TestCacheOff(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"compose.yaml": "services:\n  web: {image: nginx}\n"})
	settle()
	for name, o := range map[string]Options{
		"NoCache":               {NoCache: true, CacheDir: t.TempDir()},
		"COMPOSER_NO_CACHE":     {Env: []string{"COMPOSER_NO_CACHE=1"}, CacheDir: t.TempDir()},
		"no cache directory":    {Env: []string{}},
		"relative XDG, no HOME": {Env: []string{"XDG_CACHE_HOME=rel"}},
	} {
		o.WorkingDir = dir
		if o.Env == nil {
			o.Env = []string{}
		}
		for range 2 {
			if _, got, _ := cachedLoad(t, o); !strings.HasPrefix(got, "off: ") {
				t.Errorf("%s: %s, want the cache off", name, got)
			}
		}
	}
	// Where it lives.
	for _, tt := range []struct {
		env  []string
		want string
	}{
		{[]string{"COMPOSER_CACHE_DIR=/c", "XDG_CACHE_HOME=/x", "HOME=/h"}, "/c"},
		{[]string{"XDG_CACHE_HOME=/x", "HOME=/h"}, "/x/composer"},
		{[]string{"HOME=/h"}, "/h/.cache/composer"},
		{[]string{"COMPOSER_NO_CACHE=0", "HOME=/h"}, "/h/.cache/composer"},
	} {
		o := Options{Env: tt.env}
		if got := o.cacheDir(); got != tt.want {
			t.Errorf("cacheDir with %q = %q, want %q", tt.env, got, tt.want)
		}
		if o.cache() == nil {
			t.Errorf("cache with %q is off", tt.env)
		}
	}
}

// TestCacheEnvSpelledOtherwise: a variable's name that the file's
// identifiers do not show makes every variable count.
func TestCacheEnvSpelledOtherwise(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"compose.yaml": "services:\n  web:\n    image: nginx\n    env_file: web.env\n",
		// \0106 is F: FOO's value, looked up by a name written in octal.
		"web.env": "X=\"${\\0106OO}\"\n",
	})
	settle()
	o := Options{WorkingDir: dir, Env: []string{"FOO=1"}, CacheDir: t.TempDir()}
	if _, got, _ := cachedLoad(t, o); got != "store" {
		t.Fatalf("first load: %s", got)
	}
	if _, got, _ := cachedLoad(t, o); got != "hit" {
		t.Fatalf("second load: %s", got)
	}
	o.Env = []string{"FOO=2"}
	p, got, _ := cachedLoad(t, o)
	if got == "hit" {
		t.Error("load with FOO changed hit the cache")
	}
	want, _ := freshLoad(t, o)
	sameProject(t, "after", p, want)
	o.Env = []string{"FOO=2", "OTHER=1"}
	if _, got, _ := cachedLoad(t, o); got == "hit" {
		t.Error("load with another variable hit the cache")
	}
}

// TestCacheYAMLEscapes: a name spelled with YAML escapes counts as the
// name it decodes to.
func TestCacheYAMLEscapes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"compose.yaml": "services:\n  web:\n    image: \"nginx:${\\x46OO}-${BA\\\n      R}\"\n",
	})
	settle()
	o := Options{WorkingDir: dir, Env: []string{"FOO=1", "BAR=1"}, CacheDir: t.TempDir()}
	if p, got, _ := cachedLoad(t, o); got != "store" || p.Services["web"].Image != "nginx:1-1" {
		t.Fatalf("first load: %s, image %q", got, p.Services["web"].Image)
	}
	for _, e := range [][]string{{"FOO=2", "BAR=1"}, {"FOO=1", "BAR=2"}} {
		o.Env = e
		p, got, _ := cachedLoad(t, o)
		if got == "hit" {
			t.Errorf("load with %q hit the cache", e)
		}
		want, _ := freshLoad(t, o)
		sameProject(t, "after", p, want)
	}
}

func TestCacheWatchSymlink(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"compose.yaml": "services:\n  web:\n    image: nginx\n    develop:\n      watch: [{path: ./src/app, action: sync, target: /app}]\n",
		"src/app/x":    "x",
		"real/app/x":   "x",
	})
	settle()
	o := Options{WorkingDir: dir, Env: []string{}, CacheDir: t.TempDir()}
	if _, got, _ := cachedLoad(t, o); got != "store" {
		t.Fatalf("first load: %s", got)
	}
	// src becomes a link: compose-go resolves the watch path through it.
	if err := os.RemoveAll(filepath.Join(dir, "src")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "real"), filepath.Join(dir, "src")); err != nil {
		t.Fatal(err)
	}
	settle()
	p, got, _ := cachedLoad(t, o)
	if got == "hit" {
		t.Fatal("load after the link hit the cache")
	}
	if !strings.Contains(got, "skip: ") {
		t.Errorf("load: %s, want it not stored", got)
	}
	want, _ := freshLoad(t, o)
	sameProject(t, "after", p, want)
	if got := p.Services["web"].Develop.Watch[0].Path; got != filepath.Join(dir, "real", "app") {
		t.Errorf("watch path = %q, want it through the link", got)
	}
}

func TestCachePrune(t *testing.T) {
	t.Parallel()
	c := &projectCache{dir: t.TempDir()}
	old := time.Now().Add(-time.Hour)
	for i := range maxCacheEntries + 5 {
		path := filepath.Join(c.dir, fmt.Sprintf("%03d%s", i, entrySuffix))
		if err := os.WriteFile(path, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		used := old.Add(time.Duration(i) * time.Second)
		if err := os.Chtimes(path, used, used); err != nil {
			t.Fatal(err)
		}
	}
	stale := filepath.Join(c.dir, ".tmp-1")
	if err := os.WriteFile(stale, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(stale, old.Add(-time.Hour), old.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	c.prune()
	left, _ := filepath.Glob(filepath.Join(c.dir, "*"))
	if len(left) != maxCacheEntries {
		t.Fatalf("%d entries left, want %d", len(left), maxCacheEntries)
	}
	// The oldest went.
	for i := range 5 {
		if _, err := os.Stat(filepath.Join(c.dir, fmt.Sprintf("%03d%s", i, entrySuffix))); err == nil {
			t.Errorf("entry %d, among the least recently used, was kept", i)
		}
	}
}

func TestCacheRacy(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// Written just now: it may have changed while the load read it.
	writeFiles(t, dir, map[string]string{"compose.yaml": "services:\n  web: {image: nginx}\n"})
	o := Options{WorkingDir: dir, Env: []string{}, CacheDir: t.TempDir()}
	if _, got, _ := cachedLoad(t, o); !strings.Contains(got, "changed during the load") {
		t.Errorf("load of a file just written: %s, want it not stored", got)
	}
	settle()
	if _, got, _ := cachedLoad(t, o); got != "store" {
		t.Errorf("load once settled: %s, want store", got)
	}
}

func TestResolveWithCache(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"compose.yaml": "name: named\nservices:\n  web: {image: nginx}\n"})
	settle()
	o := Options{WorkingDir: dir, Env: []string{}, CacheDir: t.TempDir()}
	for range 2 {
		name, p, err := Resolve(context.Background(), o)
		if err != nil || name != "named" || p == nil {
			t.Errorf("Resolve = %q, %v, %v", name, p, err)
		}
	}
	empty := t.TempDir()
	o.WorkingDir = empty
	o.Name = "given"
	if name, p, err := Resolve(context.Background(), o); err != nil || name != "given" || p != nil {
		t.Errorf("Resolve without a file = %q, %v, %v", name, p, err)
	}
}
