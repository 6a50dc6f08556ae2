package project

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/sirupsen/logrus"
)

// writeFiles creates files (path relative to dir: content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		files map[string]string
		// wd is the working directory relative to the temporary root.
		wd           string
		opts         Options
		wantName     string
		wantImage    map[string]string // service -> image
		wantEnv      map[string]string // "service.VAR" -> value
		wantServices string            // enabled services, sorted
	}{
		{
			name: "default files with override, found upwards",
			files: map[string]string{
				"My.App/compose.yaml":          "services:\n  web:\n    image: nginx\n    environment: {A: base, B: base}\n",
				"My.App/compose.override.yaml": "services:\n  web:\n    environment: {B: override}\n",
			},
			wd:           "My.App/src/deep",
			wantName:     "myapp",
			wantImage:    map[string]string{"web": "nginx"},
			wantEnv:      map[string]string{"web.A": "base", "web.B": "override"},
			wantServices: "web",
		},
		{
			name: "docker-compose.yml is found too",
			files: map[string]string{
				"proj/docker-compose.yml": "services:\n  web: {image: httpd}\n",
			},
			wd:        "proj",
			wantName:  "proj",
			wantImage: map[string]string{"web": "httpd"},
		},
		{
			name: "several -f files merge in order",
			files: map[string]string{
				"d/a.yaml": "services:\n  web: {image: one, environment: {X: a, Y: a}}\n",
				"d/b.yaml": "services:\n  web: {image: two, environment: {Y: b}}\n  db: {image: postgres}\n",
			},
			wd:           "d",
			opts:         Options{Files: []string{"a.yaml", "b.yaml"}, Name: "merged"},
			wantName:     "merged",
			wantImage:    map[string]string{"web": "two", "db": "postgres"},
			wantEnv:      map[string]string{"web.X": "a", "web.Y": "b"},
			wantServices: "db web",
		},
		{
			name: "the name: in the file",
			files: map[string]string{
				"d/compose.yaml": "name: fromfile\nservices:\n  web: {image: nginx}\n",
			},
			wd:       "d",
			wantName: "fromfile",
		},
		{
			name: "COMPOSE_PROJECT_NAME",
			files: map[string]string{
				"d/compose.yaml": "name: fromfile\nservices:\n  web: {image: nginx}\n",
			},
			wd:       "d",
			opts:     Options{Env: []string{"COMPOSE_PROJECT_NAME=fromenv"}},
			wantName: "fromenv",
		},
		{
			name: "-p wins over COMPOSE_PROJECT_NAME",
			files: map[string]string{
				"d/compose.yaml": "services:\n  web: {image: nginx}\n",
			},
			wd:       "d",
			opts:     Options{Name: "flag", Env: []string{"COMPOSE_PROJECT_NAME=fromenv"}},
			wantName: "flag",
		},
		{
			name: ".env interpolation, the environment wins",
			files: map[string]string{
				"d/compose.yaml": "services:\n  web:\n    image: nginx:${TAG}\n    environment: {MODE: \"${MODE:-dev}\", LEVEL: \"${LEVEL}\"}\n",
				"d/.env":         "TAG=1.27\nMODE=prod\nLEVEL=low\n",
			},
			wd:        "d",
			opts:      Options{Files: []string{"compose.yaml"}, Env: []string{"LEVEL=high"}},
			wantName:  "d",
			wantImage: map[string]string{"web": "nginx:1.27"},
			wantEnv:   map[string]string{"web.MODE": "prod", "web.LEVEL": "high"},
		},
		{
			name: "--env-file replaces .env",
			files: map[string]string{
				"d/compose.yaml": "services:\n  web:\n    image: nginx:${TAG:-latest}\n",
				"d/.env":         "TAG=from-dotenv\n",
				"d/custom.env":   "TAG=from-custom\n",
			},
			wd:        "d",
			opts:      Options{Files: []string{"compose.yaml"}, EnvFiles: []string{"custom.env"}},
			wantImage: map[string]string{"web": "nginx:from-custom"},
		},
		{
			name: "profiles: inactive services are disabled",
			files: map[string]string{
				"d/compose.yaml": "services:\n  web: {image: nginx}\n  debug: {image: busybox, profiles: [debug]}\n",
			},
			wd:           "d",
			wantServices: "web",
		},
		{
			name: "profiles from COMPOSE_PROFILES",
			files: map[string]string{
				"d/compose.yaml": "services:\n  web: {image: nginx}\n  debug: {image: busybox, profiles: [debug]}\n  tools: {image: alpine, profiles: [tools]}\n",
			},
			wd:           "d",
			opts:         Options{Env: []string{"COMPOSE_PROFILES=debug"}},
			wantServices: "debug web",
		},
		{
			name: "--profile flags",
			files: map[string]string{
				"d/compose.yaml": "services:\n  web: {image: nginx}\n  debug: {image: busybox, profiles: [debug]}\n  tools: {image: alpine, profiles: [tools]}\n",
			},
			wd:           "d",
			opts:         Options{Profiles: []string{"debug", "tools"}},
			wantServices: "debug tools web",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			writeFiles(t, root, tt.files)
			wd := filepath.Join(root, tt.wd)
			if err := os.MkdirAll(wd, 0o755); err != nil {
				t.Fatal(err)
			}
			opts := tt.opts
			opts.WorkingDir = wd
			if opts.Env == nil {
				opts.Env = []string{}
			}
			// Env files are given absolute: the -f files are the ones
			// resolved against WorkingDir.
			opts.EnvFiles = nil
			for _, f := range tt.opts.EnvFiles {
				opts.EnvFiles = append(opts.EnvFiles, filepath.Join(wd, f))
			}
			p, err := Load(context.Background(), opts)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if tt.wantName != "" && p.Name != tt.wantName {
				t.Errorf("name = %q, want %q", p.Name, tt.wantName)
			}
			for svc, img := range tt.wantImage {
				if got := p.Services[svc].Image; got != img {
					t.Errorf("%s image = %q, want %q", svc, got, img)
				}
			}
			for key, want := range tt.wantEnv {
				svc, name, _ := strings.Cut(key, ".")
				v := p.Services[svc].Environment[name]
				if v == nil || *v != want {
					t.Errorf("%s = %v, want %q", key, v, want)
				}
			}
			if tt.wantServices != "" {
				if got := strings.Join(p.ServiceNames(), " "); got != tt.wantServices {
					t.Errorf("services = %q, want %q", got, tt.wantServices)
				}
			}
		})
	}
}

func TestLoadComposeFileVariable(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"a.yaml":       "services:\n  web: {image: one}\n",
		"b.yaml":       "services:\n  web: {image: two}\n",
		"compose.yaml": "services:\n  web: {image: default}\n",
	})
	files := filepath.Join(root, "a.yaml") + string(os.PathListSeparator) + filepath.Join(root, "b.yaml")
	p, err := Load(context.Background(), Options{WorkingDir: root, Env: []string{"COMPOSE_FILE=" + files}})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Services["web"].Image; got != "two" {
		t.Errorf("image = %q, want two (from COMPOSE_FILE, merged in order)", got)
	}
	if len(p.ComposeFiles) != 2 {
		t.Errorf("ComposeFiles = %v, want a.yaml and b.yaml", p.ComposeFiles)
	}

	// -f wins over COMPOSE_FILE.
	p, err = Load(context.Background(), Options{WorkingDir: root, Files: []string{"compose.yaml"}, Env: []string{"COMPOSE_FILE=" + files}})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Services["web"].Image; got != "default" {
		t.Errorf("with -f: image = %q, want default", got)
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		files   map[string]string
		opts    Options
		wantErr []string
		// once is said exactly once.
		once string
		is   error
	}{
		{
			name:    "invalid explicit project name",
			files:   map[string]string{"compose.yaml": "services:\n  web: {image: nginx}\n"},
			opts:    Options{Name: "My Project"},
			wantErr: []string{"invalid project name", `"My Project"`},
		},
		{
			name:    "invalid COMPOSE_PROJECT_NAME",
			files:   map[string]string{"compose.yaml": "services:\n  web: {image: nginx}\n"},
			opts:    Options{Env: []string{"COMPOSE_PROJECT_NAME=Bad!"}},
			wantErr: []string{"Bad!"},
		},
		{
			name:    "YAML syntax error names file and line",
			files:   map[string]string{"compose.yaml": "services:\n  web:\n    image: nginx\n    command: x: y\n"},
			wantErr: []string{"compose.yaml:4:15: invalid YAML: mapping values are not allowed"},
		},
		{
			name:    "YAML syntax error with -p names the file once",
			files:   map[string]string{"compose.yaml": "services:\n  web:\n    image: nginx\n    command: x: y\n"},
			opts:    Options{Name: "named"},
			wantErr: []string{"compose.yaml:4:15: invalid YAML"},
			once:    "compose.yaml",
		},
		{
			name: "YAML syntax error in the second -f file names that file",
			files: map[string]string{
				"a.yaml": "services:\n  web: {image: nginx}\n",
				"b.yaml": "services:\n  web:\n    image: [nginx\n",
			},
			opts:    Options{Files: []string{"a.yaml", "b.yaml"}},
			wantErr: []string{"b.yaml:3:18: invalid YAML"},
		},
		{
			name:    "unknown service in depends_on",
			files:   map[string]string{"compose.yaml": "services:\n  web:\n    image: nginx\n    depends_on: [ghost]\n"},
			wantErr: []string{"web", "ghost"},
		},
		{
			name:    "missing -f file",
			files:   map[string]string{},
			opts:    Options{Files: []string{"nope.yaml"}},
			wantErr: []string{"nope.yaml", "no such file"},
		},
		{
			name:  "no compose file at all",
			files: map[string]string{},
			is:    ErrNoConfig,
		},
		{
			name:    "container_name with replicas",
			files:   map[string]string{"compose.yaml": "services:\n  web: {image: nginx, container_name: one, scale: 2}\n"},
			wantErr: []string{"web", "container_name"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeFiles(t, dir, tt.files)
			opts := tt.opts
			opts.WorkingDir = dir
			if opts.Env == nil {
				opts.Env = []string{}
			}
			_, err := Load(context.Background(), opts)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if tt.once != "" && strings.Count(err.Error(), tt.once) != 1 {
				t.Errorf("error %q does not mention %q exactly once", err, tt.once)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
		})
	}
}

func TestResolveWithoutFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// Without a compose file the name still comes from -p or the variable.
	if got, p, err := Resolve(context.Background(), Options{WorkingDir: dir, Name: "given", Env: []string{}}); err != nil || got != "given" || p != nil {
		t.Errorf("Resolve(-p given) = %q, %v", got, err)
	}
	if got, _, err := Resolve(context.Background(), Options{WorkingDir: dir, Env: []string{"COMPOSE_PROJECT_NAME=env"}}); err != nil || got != "env" {
		t.Errorf("Resolve(COMPOSE_PROJECT_NAME=env) = %q, %v", got, err)
	}
	if _, _, err := Resolve(context.Background(), Options{WorkingDir: dir, Name: "UPPER", Env: []string{}}); err == nil {
		t.Error("Resolve accepted an invalid explicit name")
	}
}

func TestValidateAndNormalizeName(t *testing.T) {
	t.Parallel()
	for name, valid := range map[string]bool{"a": true, "0a_b-c": true, "-a": false, "_a": false, "A": false, "a.b": false, "": false} {
		if err := ValidateName(name); (err == nil) != valid {
			t.Errorf("ValidateName(%q) = %v, want valid %t", name, err, valid)
		}
	}
	for in, want := range map[string]string{"My.App": "myapp", "hello world": "helloworld", "__x": "x"} {
		if got := NormalizeName(in); got != want {
			t.Errorf("NormalizeName(%q) = %q, want %q", in, got, want)
		}
	}
}

const selectYAML = `
services:
  web: {image: nginx, depends_on: [api], networks: [front]}
  api: {image: app, depends_on: [db], networks: [front, back]}
  db: {image: postgres, networks: [back], volumes: [data:/data]}
  other: {image: redis}
  debug: {image: busybox, profiles: [debug]}
networks:
  front: {}
  back: {}
volumes:
  data: {}
`

func loadSelect(t *testing.T) *types.Project {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"compose.yaml": selectYAML})
	p, err := Load(context.Background(), Options{WorkingDir: dir, Name: "p", Env: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSelect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		services []string
		noDeps   bool
		want     string
		wantNets string
		wantErr  string
	}{
		{services: nil, want: "api db other web", wantNets: "back default front"},
		{services: []string{"web"}, want: "api db web", wantNets: "back front"},
		{services: []string{"web"}, noDeps: true, want: "web", wantNets: "front"},
		{services: []string{"db"}, want: "db", wantNets: "back"},
		{services: []string{"debug"}, want: "debug", wantNets: "default"},
		{services: []string{"ghost"}, wantErr: "no such service: ghost"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.services, ",")+map[bool]string{true: " no-deps"}[tt.noDeps], func(t *testing.T) {
			t.Parallel()
			orig := loadSelect(t)
			origServices := strings.Join(orig.ServiceNames(), " ")
			p, err := Select(orig, tt.services, tt.noDeps)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Select error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(p.ServiceNames(), " "); got != tt.want {
				t.Errorf("services = %q, want %q", got, tt.want)
			}
			if got := strings.Join(slices.Sorted(maps.Keys(p.Networks)), " "); got != tt.wantNets {
				t.Errorf("networks = %q, want %q", got, tt.wantNets)
			}
			if got := strings.Join(orig.ServiceNames(), " "); got != origServices {
				t.Errorf("Select changed its argument: services %q, were %q", got, origServices)
			}
		})
	}
}

func TestParseScale(t *testing.T) {
	t.Parallel()
	got, err := ParseScale([]string{"web=3", "db=0", "web=2"})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int{"web": 2, "db": 0}; !reflect.DeepEqual(got, want) {
		t.Errorf("ParseScale = %v, want %v", got, want)
	}
	for _, bad := range []string{"web", "web=", "=3", "web=-1", "web=x", "web=1.5"} {
		if _, err := ParseScale([]string{bad}); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("ParseScale(%q) error = %v, want one quoting the value", bad, err)
		}
	}
}

func TestWithScale(t *testing.T) {
	t.Parallel()
	p := loadSelect(t)
	scaled, err := WithScale(p, map[string]int{"web": 3, "db": 0})
	if err != nil {
		t.Fatal(err)
	}
	scale := func(p *types.Project, svc string) int { s := p.Services[svc]; return s.GetScale() }
	if got := scale(scaled, "web"); got != 3 {
		t.Errorf("web scale = %d, want 3", got)
	}
	if got := scale(scaled, "db"); got != 0 {
		t.Errorf("db scale = %d, want 0", got)
	}
	if got := scale(p, "web"); got != 1 {
		t.Errorf("WithScale changed its argument: web scale %d", got)
	}
	if _, err := WithScale(p, map[string]int{"ghost": 2}); err == nil || !strings.Contains(err.Error(), "ghost") {
		t.Errorf("WithScale(ghost) error = %v, want one naming ghost", err)
	}

	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"compose.yaml": "services:\n  web: {image: nginx, container_name: fixed}\n"})
	named, err := Load(context.Background(), Options{WorkingDir: dir, Env: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := WithScale(named, map[string]int{"web": 1}); err != nil {
		t.Errorf("WithScale(web=1) with container_name: %v", err)
	}
	if _, err := WithScale(named, map[string]int{"web": 2}); err == nil || !strings.Contains(err.Error(), "fixed") {
		t.Errorf("WithScale(web=2) with container_name error = %v, want one naming the container name", err)
	}
}

// TestLoadWarnings is not parallel: it swaps os.Stderr and logrus's output
// to see that nothing but Warn receives the loader's warnings, and parallel
// tests only start once it is done.
func TestLoadWarnings(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"compose.yaml": "services:\n  web:\n    image: nginx:${UNSET_VAR}\n"})

	// As if something had configured logrus to print, as the command line
	// once did.
	var logged bytes.Buffer
	logrus.SetOutput(&logged)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := os.Stderr
	os.Stderr = w
	defer func() { os.Stderr = stderr }()

	var warnings []string
	_, err = Load(context.Background(), Options{WorkingDir: dir, Env: []string{}, Warn: func(m string) { warnings = append(warnings, m) }})
	os.Stderr = stderr
	w.Close()
	written, rerr := io.ReadAll(r)
	if rerr != nil {
		t.Fatal(rerr)
	}
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(warnings) != 1 {
		t.Fatalf("warnings = %q, want one", warnings)
	}
	want := `The "UNSET_VAR" variable is not set. Defaulting to a blank string.`
	if warnings[0] != want {
		t.Errorf("warning = %q, want %q", warnings[0], want)
	}
	if len(written) != 0 {
		t.Errorf("standard error got %q, want nothing", written)
	}
	if logged.Len() != 0 {
		t.Errorf("logrus wrote %q, want nothing", logged.String())
	}

	// Without Warn the warning goes nowhere.
	if _, err := Load(context.Background(), Options{WorkingDir: dir, Env: []string{}}); err != nil {
		t.Fatalf("Load without Warn: %v", err)
	}
}

// TestLoadWarningsConcurrent checks that each of several loads running at
// once gets its own warnings and no one else's.
func TestLoadWarningsConcurrent(t *testing.T) {
	t.Parallel()
	const n = 8
	got := make([][]string, n)
	var wg sync.WaitGroup
	for i := range n {
		dir := t.TempDir()
		writeFiles(t, dir, map[string]string{"compose.yaml": fmt.Sprintf("services:\n  web:\n    image: nginx:${UNSET_%d}\n", i)})
		wg.Go(func() {
			_, err := Load(context.Background(), Options{WorkingDir: dir, Env: []string{}, Warn: func(m string) { got[i] = append(got[i], m) }})
			if err != nil {
				t.Errorf("Load %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	for i, msgs := range got {
		if len(msgs) != 1 || !strings.Contains(msgs[0], fmt.Sprintf(`"UNSET_%d"`, i)) {
			t.Errorf("load %d warnings = %q, want one about UNSET_%d", i, msgs, i)
		}
	}
}

// TestLoadWarnWithinWarn checks that Warn runs outside the loader's lock:
// a Warn that loads another project must not deadlock.
func TestLoadWarnWithinWarn(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"compose.yaml": "services:\n  web: {image: \"nginx:${OUTER}\"}\n"})
	inner := t.TempDir()
	writeFiles(t, inner, map[string]string{"compose.yaml": "services:\n  web: {image: \"nginx:${INNER}\"}\n"})
	var msgs []string
	warn := func(m string) { msgs = append(msgs, m) }
	_, err := Load(context.Background(), Options{WorkingDir: dir, Env: []string{}, Warn: func(m string) {
		warn(m)
		if _, err := Load(context.Background(), Options{WorkingDir: inner, Env: []string{}, Warn: warn}); err != nil {
			t.Errorf("inner Load: %v", err)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || !strings.Contains(msgs[0], "OUTER") || !strings.Contains(msgs[1], "INNER") {
		t.Errorf("warnings = %q, want OUTER then INNER", msgs)
	}
}

// TestLoadWarningKinds checks that warnings other than interpolation's
// reach Warn as well, whichever step of the load reports them.
func TestLoadWarningKinds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{
			name:  "obsolete version attribute",
			files: map[string]string{"compose.yaml": "version: '3'\nservices:\n  web: {image: nginx}\n"},
			want:  []string{"compose.yaml: the attribute `version` is obsolete, it will be ignored, please remove it to avoid potential confusion"},
		},
		{
			name: "several default file names",
			files: map[string]string{
				"compose.yaml":       "services:\n  web: {image: nginx}\n",
				"docker-compose.yml": "services:\n  web: {image: httpd}\n",
			},
			want: []string{"Found multiple config files with supported names: ", "Using "},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeFiles(t, dir, tt.files)
			var got []string
			if _, err := Load(context.Background(), Options{WorkingDir: dir, Env: []string{}, Warn: func(m string) { got = append(got, m) }}); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("warnings = %q, want %d", got, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) || strings.Contains(got[i], "level=") {
					t.Errorf("warning %d = %q, want it to contain %q, undecorated", i, got[i], w)
				}
			}
		})
	}
}

func TestLoadNoConsistency(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"compose.yaml": "services:\n  web:\n    image: nginx\n    networks: [ghostnet]\n"})
	_, err := Load(context.Background(), Options{WorkingDir: dir, Env: []string{}})
	if err == nil || !strings.Contains(err.Error(), "services.web") || !strings.Contains(err.Error(), "ghostnet") {
		t.Errorf("Load error = %v, want one naming the service and the network", err)
	}
	p, err := Load(context.Background(), Options{WorkingDir: dir, Env: []string{}, NoConsistency: true})
	if err != nil {
		t.Fatalf("Load with NoConsistency: %v", err)
	}
	if _, ok := p.Services["web"].Networks["ghostnet"]; !ok {
		t.Errorf("web networks = %v, want ghostnet kept", p.Services["web"].Networks)
	}
}

func TestLoadNoPathResolution(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"compose.yaml": "services:\n  web:\n    image: nginx\n    volumes: [\"./data:/data\"]\n"})
	tests := []struct {
		noResolve bool
		want      string
	}{
		{noResolve: false, want: filepath.Join(dir, "data")},
		{noResolve: true, want: "./data"},
	}
	for _, tt := range tests {
		p, err := Load(context.Background(), Options{WorkingDir: dir, Env: []string{}, NoPathResolution: tt.noResolve})
		if err != nil {
			t.Fatalf("Load(NoPathResolution=%t): %v", tt.noResolve, err)
		}
		vols := p.Services["web"].Volumes
		if len(vols) != 1 || vols[0].Source != tt.want {
			t.Errorf("NoPathResolution=%t: volumes = %+v, want source %q", tt.noResolve, vols, tt.want)
		}
	}
}

// TestNameGiven tells a chosen project name from one derived from the
// directory's name, which the collision guard relies on.
func TestNameGiven(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		yaml   string
		dotenv string
		env    []string
		flag   string
		want   bool
	}{
		{name: "derived from the directory", yaml: "services:\n  a: {image: x}\n"},
		{name: "-p", yaml: "services:\n  a: {image: x}\n", flag: "given", want: true},
		{name: "environment", yaml: "services:\n  a: {image: x}\n", env: []string{"COMPOSE_PROJECT_NAME=given"}, want: true},
		{name: "empty environment value", yaml: "services:\n  a: {image: x}\n", env: []string{"COMPOSE_PROJECT_NAME="}},
		{name: "name: in the file", yaml: "name: given\nservices:\n  a: {image: x}\n", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "api")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(tt.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			o := Options{WorkingDir: dir, Name: tt.flag, Env: append([]string{}, tt.env...)}
			p, err := Load(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			if got := NameGiven(o, p); got != tt.want {
				t.Errorf("NameGiven = %v, want %v (project %q)", got, tt.want, p.Name)
			}
		})
	}
}
