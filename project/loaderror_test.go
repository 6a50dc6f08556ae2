package project

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/template"
)

// wantPos is one LoadError a test expects.
type wantPos struct {
	file      string // relative to the project directory
	line, col int
	path      string
	msg       string // a part of Message
	hint      string // a part of Hint; "-" for none
}

// loadErrors lists the LoadErrors err holds, in order.
func loadErrors(err error) []*LoadError {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []*LoadError
		for _, e := range j.Unwrap() {
			out = append(out, loadErrors(e)...)
		}
		return out
	}
	var le *LoadError
	if errors.As(err, &le) {
		return []*LoadError{le}
	}
	return nil
}

// TestLoadErrorPositions checks that each kind of problem in a compose
// file is reported at its file, line and column, with its path, what was
// expected, and never the value of a variable.
func TestLoadErrorPositions(t *testing.T) {
	t.Parallel()
	const svc = "services:\n  web:\n    image: nginx\n"
	tests := []struct {
		name  string
		files map[string]string
		opts  Options
		want  []wantPos
		// never must appear nowhere: not in Error, Snippet nor Err.
		never []string
	}{
		// YAML syntax.
		{
			name:  "yaml syntax",
			files: map[string]string{"compose.yaml": svc + "    command: x: y\n"},
			want:  []wantPos{{file: "compose.yaml", line: 4, col: 15, msg: "invalid YAML: mapping values are not allowed", hint: "quote"}},
		},
		{
			name: "yaml syntax in the override",
			files: map[string]string{
				"compose.yaml":          svc,
				"compose.override.yaml": "services:\n  web:\n    image: [x\n  db:\n    image: y\n",
			},
			want: []wantPos{{file: "compose.override.yaml", line: 4, col: 5, msg: "did not find expected ',' or ']' (while parsing a flow sequence at line 3, column 12)"}},
		},
		{
			name:  "yaml syntax with a project name",
			files: map[string]string{"compose.yaml": svc + "    command: x: y\n"},
			opts:  Options{Name: "p"},
			want:  []wantPos{{file: "compose.yaml", line: 4, col: 15, msg: "mapping values"}},
		},
		{
			name:  "tab indentation",
			files: map[string]string{"compose.yaml": "services:\n  web:\n\timage: x\n"},
			want:  []wantPos{{file: "compose.yaml", line: 3, col: 1, msg: "cannot start any token", hint: "tabs"}},
		},
		{
			name:  "duplicate key",
			files: map[string]string{"compose.yaml": svc + "    image: x\n"},
			want:  []wantPos{{file: "compose.yaml", line: 4, col: 5, msg: "duplicate key `image`, already set at line 3"}},
		},
		{
			name:  "top level not a mapping",
			files: map[string]string{"compose.yaml": "- a\n- b\n"},
			want:  []wantPos{{file: "compose.yaml", line: 1, col: 1, msg: "must be a mapping"}},
		},

		// Schema.
		{
			name:  "unknown key",
			files: map[string]string{"compose.yaml": svc + "    restrat: always\n"},
			want:  []wantPos{{file: "compose.yaml", line: 4, col: 5, path: "services.web.restrat", msg: "unknown key", hint: "did you mean `restart`?"}},
		},
		{
			name: "unknown key in the override",
			files: map[string]string{
				"compose.yaml":          svc,
				"compose.override.yaml": "services:\n  web:\n    environment: {A: b}\n    helthcheck:\n      test: [CMD, x]\n",
			},
			want: []wantPos{{file: "compose.override.yaml", line: 4, col: 5, path: "services.web.helthcheck", msg: "unknown key", hint: "`healthcheck`"}},
		},
		{
			name:  "unknown top-level key",
			files: map[string]string{"compose.yaml": "servics:\n  web: {image: x}\n"},
			want:  []wantPos{{file: "compose.yaml", line: 1, col: 1, path: "servics", msg: "unknown key", hint: "`services`"}},
		},
		{
			name:  "unknown key far from any",
			files: map[string]string{"compose.yaml": svc + "    zzzzzzzz: 1\n"},
			want:  []wantPos{{file: "compose.yaml", line: 4, col: 5, path: "services.web.zzzzzzzz", msg: "unknown key", hint: "-"}},
		},
		{
			name:  "unknown nested key",
			files: map[string]string{"compose.yaml": svc + "    deploy:\n      resources:\n        limits: {memry: 1g}\n"},
			want:  []wantPos{{file: "compose.yaml", line: 6, col: 18, path: "services.web.deploy.resources.limits.memry", msg: "unknown key", hint: "`memory`"}},
		},
		{
			name:  "unknown key merged from an anchor",
			files: map[string]string{"compose.yaml": "x-common: &c\n  restrat: always\nservices:\n  web:\n    <<: *c\n    image: nginx\n"},
			want:  []wantPos{{file: "compose.yaml", line: 2, col: 3, path: "services.web.restrat", msg: "unknown key", hint: "`restart`"}},
		},
		{
			name:  "wrong type",
			files: map[string]string{"compose.yaml": svc + "    ports: 80\n"},
			want:  []wantPos{{file: "compose.yaml", line: 4, col: 12, path: "services.web.ports", msg: "wrong type: got a number, want a list"}},
		},
		{
			name: "wrong type in the override",
			files: map[string]string{
				"compose.yaml":          svc + "    ports: [\"80:80\"]\n",
				"compose.override.yaml": "services:\n  web:\n    ports: {a: b}\n",
			},
			want: []wantPos{{file: "compose.override.yaml", line: 3, col: 12, path: "services.web.ports", msg: "cannot override a list with a mapping"}},
		},
		{
			name:  "wrong type for a number",
			files: map[string]string{"compose.yaml": svc + "    scale: x\n"},
			want:  []wantPos{{file: "compose.yaml", line: 4, col: 12, path: "services.web.scale", msg: "wrong type: got `x`, want an integer"}},
		},
		{
			name:  "value not among those allowed",
			files: map[string]string{"compose.yaml": svc + "    depends_on:\n      db:\n        condition: service_bogus\n  db:\n    image: pg\n"},
			want: []wantPos{{file: "compose.yaml", line: 6, col: 20, path: "services.web.depends_on.db.condition",
				msg: "invalid value `service_bogus`, want one of service_started, service_healthy, service_completed_successfully"}},
		},

		// Decoding.
		{
			name:  "bad duration",
			files: map[string]string{"compose.yaml": svc + "    healthcheck:\n      test: [CMD, x]\n      timeout: 5 seconds\n"},
			want: []wantPos{{file: "compose.yaml", line: 6, col: 16, path: "services.web.healthcheck.timeout",
				msg: "invalid duration `5 seconds`, want a number with a unit such as 30s"}},
		},
		{
			name: "bad duration in base and override: the override's",
			files: map[string]string{
				"compose.yaml":          svc + "    stop_grace_period: 5 seconds\n",
				"compose.override.yaml": "services:\n  web:\n    stop_grace_period: 6 seconds\n",
			},
			want: []wantPos{{file: "compose.override.yaml", line: 3, col: 24, path: "services.web.stop_grace_period", msg: "`6 seconds`"}},
		},
		{
			name: "bad duration in the base only",
			files: map[string]string{
				"compose.yaml":          svc + "    stop_grace_period: 5 seconds\n",
				"compose.override.yaml": "services:\n  web:\n    image: other\n",
			},
			want: []wantPos{{file: "compose.yaml", line: 4, col: 24, path: "services.web.stop_grace_period", msg: "`5 seconds`"}},
		},
		{
			name:  "bad port",
			files: map[string]string{"compose.yaml": svc + "    ports: [\"8080:80\", \"80:abc\"]\n"},
			want: []wantPos{{file: "compose.yaml", line: 4, col: 24, path: "services.web.ports[1]",
				msg: "invalid port `80:abc` (invalid containerPort: abc), want [[IP:]HOST:]CONTAINER[/PROTOCOL]"}},
		},
		{
			name: "bad port in an override's list",
			files: map[string]string{
				"compose.yaml":          svc + "    ports: [\"80:80\", \"81:81\"]\n",
				"compose.override.yaml": "services:\n  web:\n    ports:\n      - \"82:x\"\n",
			},
			want: []wantPos{{file: "compose.override.yaml", line: 4, col: 9, path: "services.web.ports[0]", msg: "invalid port `82:x`"}},
		},
		{
			name:  "bad sizes",
			files: map[string]string{"compose.yaml": svc + "    mem_limit: 12zz\n    shm_size: 1 gig\n"},
			want: []wantPos{
				{file: "compose.yaml", line: 4, col: 16, path: "services.web.mem_limit", msg: "invalid size `12zz`, want a number of bytes with an optional unit"},
				{file: "compose.yaml", line: 5, col: 15, path: "services.web.shm_size", msg: "invalid size `1 gig`"},
			},
		},

		// Interpolation: never the value.
		{
			name:  "unterminated interpolation",
			files: map[string]string{"compose.yaml": svc + "    environment:\n      PASSWORD: \"hunter2-${oops\"\n"},
			want: []wantPos{{file: "compose.yaml", line: 5, col: 17, path: "services.web.environment.PASSWORD",
				msg: "invalid interpolation: unterminated `${`", hint: "`$$`"}},
			never: []string{"hunter2"},
		},
		{
			name: "unterminated interpolation in a list in the override",
			files: map[string]string{
				"compose.yaml":          svc,
				"compose.override.yaml": "services:\n  web:\n    command: [\"run\", \"--token=s3cr3t-${oops\"]\n",
			},
			want:  []wantPos{{file: "compose.override.yaml", line: 3, col: 22, path: "services.web.command[1]", msg: "unterminated `${`"}},
			never: []string{"s3cr3t"},
		},
		{
			name:  "required variable",
			files: map[string]string{"compose.yaml": svc + "    environment:\n      PASSWORD: \"${DB_PASSWORD:?must be set}\"\n"},
			want: []wantPos{{file: "compose.yaml", line: 5, col: 17, path: "services.web.environment.PASSWORD",
				msg: "required variable DB_PASSWORD is missing a value: must be set", hint: "set DB_PASSWORD"}},
		},
		{
			name:  "required variable whose reason interpolates",
			files: map[string]string{"compose.yaml": svc + "    environment:\n      A: \"${NEEDED:?${LEAKY}}\"\n"},
			opts:  Options{Env: []string{"LEAKY=s3cr3t-value"}},
			want:  []wantPos{{file: "compose.yaml", line: 5, col: 10, path: "services.web.environment.A", msg: "required variable NEEDED is missing a value"}},
			never: []string{"s3cr3t-value"},
		},
		{
			name:  "interpolated number",
			files: map[string]string{"compose.yaml": svc + "    cpus: ${CPUS}\n"},
			opts:  Options{Env: []string{"CPUS=s3cr3t-value"}},
			want: []wantPos{{file: "compose.yaml", line: 4, col: 11, path: "services.web.cpus",
				msg: "the interpolated value (from ${CPUS}) is not a number", hint: "CPUS is set in the environment"}},
			never: []string{"s3cr3t-value"},
		},
		{
			name:  "interpolated duration",
			files: map[string]string{"compose.yaml": svc + "    healthcheck:\n      test: [CMD, x]\n      timeout: ${TIMEOUT}\n"},
			opts:  Options{Env: []string{"TIMEOUT=s3cr3t-value"}},
			want: []wantPos{{file: "compose.yaml", line: 6, col: 16, path: "services.web.healthcheck.timeout",
				msg: "invalid duration (from ${TIMEOUT})", hint: "TIMEOUT is set in the environment"}},
			never: []string{"s3cr3t-value"},
		},
		{
			name: "interpolated port from the .env file",
			files: map[string]string{
				"compose.yaml": svc + "    ports: [\"${PORT}\"]\n",
				".env":         "A=1\nPORT=80:s3cr3t-value\n",
			},
			opts:  Options{Files: []string{"compose.yaml"}},
			want:  []wantPos{{file: "compose.yaml", line: 4, col: 13, path: "services.web.ports[0]", msg: "invalid port (from ${PORT})", hint: ".env:2"}},
			never: []string{"s3cr3t-value"},
		},
		{
			name:  "interpolated value against a pattern",
			files: map[string]string{"compose.yaml": svc + "    pull_policy: ${POLICY}\n"},
			opts:  Options{Env: []string{"POLICY=s3cr3t-value"}},
			want:  []wantPos{{file: "compose.yaml", line: 4, col: 18, path: "services.web.pull_policy", msg: "invalid value (from ${POLICY})"}},
			never: []string{"s3cr3t-value"},
		},

		// References.
		{
			name:  "undefined service in depends_on",
			files: map[string]string{"compose.yaml": svc + "    depends_on: [ghost]\n"},
			want:  []wantPos{{file: "compose.yaml", line: 4, col: 18, path: "services.web.depends_on[0]", msg: "depends on undefined service `ghost`"}},
		},
		{
			name: "undefined service in the override's depends_on",
			files: map[string]string{
				"compose.yaml":          svc + "  db:\n    image: pg\n",
				"compose.override.yaml": "services:\n  web:\n    depends_on:\n      dbb:\n        condition: service_started\n",
			},
			want: []wantPos{{file: "compose.override.yaml", line: 4, col: 7, path: "services.web.depends_on.dbb", msg: "undefined service `dbb`", hint: "did you mean `db`?"}},
		},
		{
			name:  "undefined network",
			files: map[string]string{"compose.yaml": svc + "    networks: [fronend]\nnetworks:\n  frontend: {}\n"},
			want:  []wantPos{{file: "compose.yaml", line: 4, col: 16, path: "services.web.networks[0]", msg: "undefined network `fronend`", hint: "`frontend`"}},
		},
		{
			name:  "undefined network from a variable",
			files: map[string]string{"compose.yaml": svc + "    networks: [\"${NET}\"]\n"},
			opts:  Options{Env: []string{"NET=s3cr3t-value"}},
			want:  []wantPos{{file: "compose.yaml", line: 4, col: 16, path: "services.web.networks[0]", msg: "undefined network name (from ${NET})", hint: "NET is set in the environment"}},
			never: []string{"s3cr3t-value"},
		},
		{
			name:  "undefined volume",
			files: map[string]string{"compose.yaml": svc + "    volumes:\n      - data:/data\n"},
			want:  []wantPos{{file: "compose.yaml", line: 5, col: 9, path: "services.web.volumes[0]", msg: "undefined volume `data`", hint: "top-level `volumes`"}},
		},
		{
			name:  "undefined volume, long syntax",
			files: map[string]string{"compose.yaml": svc + "    volumes:\n      - {type: volume, source: dta, target: /d}\nvolumes:\n  data: {}\n"},
			want:  []wantPos{{file: "compose.yaml", line: 5, col: 9, path: "services.web.volumes[0]", msg: "undefined volume `dta`", hint: "`data`"}},
		},
		{
			name:  "undefined secret",
			files: map[string]string{"compose.yaml": svc + "    secrets:\n      - source: pw\n"},
			want:  []wantPos{{file: "compose.yaml", line: 5, col: 9, path: "services.web.secrets[0]", msg: "undefined secret `pw`"}},
		},
		{
			name:  "undefined config",
			files: map[string]string{"compose.yaml": svc + "    configs: [cf]\n"},
			want:  []wantPos{{file: "compose.yaml", line: 4, col: 15, path: "services.web.configs[0]", msg: "undefined config `cf`"}},
		},
		{
			name:  "dependency cycle",
			files: map[string]string{"compose.yaml": "services:\n  a:\n    image: a\n    depends_on: [b]\n  b:\n    image: b\n    depends_on: [a]\n"},
			want:  []wantPos{{file: "compose.yaml", line: 4, col: 18, path: "services.a.depends_on[0]", msg: "dependency cycle: a -> b -> a"}},
		},
		{
			name: "dependency cycle closed by the override",
			files: map[string]string{
				"compose.yaml":          "services:\n  a:\n    image: a\n  b:\n    image: b\n    depends_on: [a]\n",
				"compose.override.yaml": "services:\n  a:\n    depends_on:\n      - b\n",
			},
			want: []wantPos{{file: "compose.override.yaml", line: 4, col: 9, path: "services.a.depends_on[0]", msg: "dependency cycle: a -> b -> a"}},
		},
		{
			name:  "container_name with replicas",
			files: map[string]string{"compose.yaml": "services:\n  web: {image: nginx, container_name: one, scale: 2}\n"},
			want:  []wantPos{{file: "compose.yaml", line: 2, col: 23, path: "services.web.container_name", msg: "container_name cannot be used"}},
		},

		// Included and extended files.
		{
			name: "problem in an included file",
			files: map[string]string{
				"compose.yaml":     "include:\n  - sub/compose.yaml\n" + svc,
				"sub/compose.yaml": "services:\n  db:\n    image: pg\n    restrat: always\n",
			},
			want: []wantPos{{file: "sub/compose.yaml", line: 4, col: 5, path: "services.db.restrat", msg: "unknown key", hint: "`restart`"}},
		},
		{
			name: "interpolation in an included file, with its own .env",
			files: map[string]string{
				"compose.yaml":     "include:\n  - sub/compose.yaml\n" + svc,
				"sub/compose.yaml": "services:\n  db:\n    image: pg\n    cpus: ${CPUS}\n",
				"sub/.env":         "CPUS=s3cr3t-value\n",
			},
			want:  []wantPos{{file: "sub/compose.yaml", line: 4, col: 11, path: "services.db.cpus", msg: "(from ${CPUS}) is not a number"}},
			never: []string{"s3cr3t-value"},
		},
		{
			name: "problem in an extended file",
			files: map[string]string{
				"compose.yaml": "services:\n  web:\n    extends: {file: base.yaml, service: base}\n",
				"base.yaml":    "services:\n  base:\n    image: nginx\n    healthcheck:\n      interval: 5 sec\n",
			},
			want: []wantPos{{file: "base.yaml", line: 5, col: 17, path: "services.base.healthcheck.interval", msg: "invalid duration `5 sec`"}},
		},
		{
			name: "unknown key in an extended file",
			files: map[string]string{
				"compose.yaml": "services:\n  web:\n    extends:\n      file: base.yaml\n      service: base\n",
				"base.yaml":    "services:\n  base:\n    image: nginx\n    restrat: always\n",
			},
			want: []wantPos{{file: "base.yaml", line: 4, col: 5, path: "services.base.restrat", msg: "unknown key", hint: "`restart`"}},
		},
		{
			name:  "extends an undefined service",
			files: map[string]string{"compose.yaml": svc + "    extends: nope\n"},
			want:  []wantPos{{file: "compose.yaml", line: 4, col: 14, path: "services.web.extends", msg: "extends undefined service `nope`"}},
		},

		// Env files: never the value.
		{
			name: ".env line that does not parse",
			files: map[string]string{
				"compose.yaml": svc,
				".env":         "A=1\nB=\"s3cr3t-value\n",
			},
			opts:  Options{Files: []string{"compose.yaml"}},
			want:  []wantPos{{file: ".env", line: 2, col: 3, msg: "invalid env file: unterminated quoted value"}},
			never: []string{"s3cr3t-value"},
		},
		{
			name: "env_file line that does not parse",
			files: map[string]string{
				"compose.yaml": svc + "    env_file: app.env\n",
				"app.env":      "A=1\nP@SS=s3cr3t-value\n",
			},
			want:  []wantPos{{file: "app.env", line: 2, col: 1, msg: "unexpected character \"@\""}},
			never: []string{"s3cr3t-value"},
		},
		{
			name:  "env_file that does not exist",
			files: map[string]string{"compose.yaml": svc + "    env_file: [missing.env]\n"},
			want:  []wantPos{{file: "compose.yaml", line: 4, col: 16, path: "services.web.env_file", msg: "missing.env not found"}},
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
			got := loadErrors(err)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d LoadErrors, want %d:\n%v", len(got), len(tt.want), err)
			}
			for i, w := range tt.want {
				g := got[i]
				if want := filepath.Join(dir, w.file); g.File != want || g.Line != w.line || g.Column != w.col {
					t.Errorf("at %s:%d:%d, want %s:%d:%d\n%v", g.File, g.Line, g.Column, want, w.line, w.col, g)
				}
				if g.Path != w.path {
					t.Errorf("path %q, want %q", g.Path, w.path)
				}
				if !strings.Contains(g.Message, w.msg) {
					t.Errorf("message %q, want it to contain %q", g.Message, w.msg)
				}
				switch {
				case w.hint == "-" && g.Hint != "":
					t.Errorf("hint %q, want none", g.Hint)
				case w.hint != "-" && !strings.Contains(g.Hint, w.hint):
					t.Errorf("hint %q, want it to contain %q", g.Hint, w.hint)
				}
				if g.Message != strings.TrimSpace(g.Message) || g.Message == "" || strings.ToLower(g.Message[:1]) != g.Message[:1] {
					t.Errorf("message %q is not lower case and trimmed", g.Message)
				}
				if g.Source == "" || g.Snippet() == "" {
					t.Errorf("no source line for %v", g)
				}
				if !strings.HasPrefix(g.Error(), g.File+":") {
					t.Errorf("Error() = %q, want it to start with the file", g.Error())
				}
				for _, secret := range tt.never {
					for _, text := range []string{g.Error(), g.Snippet(), g.Err.Error()} {
						if strings.Contains(text, secret) {
							t.Errorf("%q shows %q", text, secret)
						}
					}
				}
			}
			for _, secret := range tt.never {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q shows %q", err, secret)
				}
			}
		})
	}
}

func TestLoadErrorFormat(t *testing.T) {
	t.Parallel()
	e := &LoadError{
		File: "/p/compose.yaml", Line: 4, Column: 5,
		Path: "services.web.restrat", Message: "unknown key", Hint: "did you mean `restart`?",
		Source: "\t  restrat: always",
	}
	if got, want := e.Error(), "/p/compose.yaml:4:5: services.web.restrat: unknown key; did you mean `restart`?"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got, want := e.Snippet(), "\t  restrat: always\n\t   ^"; got != want {
		t.Errorf("Snippet() = %q, want %q", got, want)
	}
	for _, tt := range []struct {
		e    LoadError
		want string
	}{
		{LoadError{File: "/p/c.yaml", Message: "empty compose file"}, "/p/c.yaml: empty compose file"},
		{LoadError{File: "/p/c.yaml", Line: 3, Message: "m"}, "/p/c.yaml:3: m"},
		{LoadError{Path: "services.web", Message: "m"}, "services.web: m"},
	} {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
		if got := tt.e.Snippet(); got != "" {
			t.Errorf("Snippet() = %q, want none without a line", got)
		}
	}
}

// TestLoadErrorUnwrap checks that errors.Is and errors.As still reach
// what the loader reported, without its text where that held a value.
func TestLoadErrorUnwrap(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"compose.yaml": "services:\n  web:\n    image: nginx\n    environment: {A: \"${NEEDED:?s3cr3t}\"}\n"})
	_, err := Load(context.Background(), Options{WorkingDir: dir, Env: []string{}})
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("error %v is not a LoadError", err)
	}
	var mre *template.MissingRequiredError
	if !errors.As(err, &mre) || mre.Variable != "NEEDED" {
		t.Fatalf("error %v does not unwrap to the missing variable", err)
	}
	if strings.Contains(mre.Error(), "s3cr3t") {
		t.Errorf("the unwrapped error %q holds the reason, which could be a value", mre)
	}
}

// TestLoadErrorWarnsOnce checks that placing an error, which interpolates
// values again, does not repeat the loader's warnings.
func TestLoadErrorWarnsOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// Finding the bad port parses every port again, interpolated.
	writeFiles(t, dir, map[string]string{"compose.yaml": "services:\n  web:\n    image: nginx\n    ports: [\"80${UNSET_PORT}:80\", \"80:abc\"]\n"})
	var warnings []string
	_, err := Load(context.Background(), Options{WorkingDir: dir, Env: []string{}, Warn: func(m string) { warnings = append(warnings, m) }})
	if le := loadErrors(err); len(le) != 1 || le[0].Path != "services.web.ports[1]" {
		t.Fatalf("error = %v, want one at the second port", err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "UNSET_PORT") {
		t.Errorf("warnings = %q, want one, about UNSET_PORT", warnings)
	}
}

// FuzzLoad checks that Load returns, error or not, whatever the compose
// file holds. `go test` runs the seeds; `go test -fuzz FuzzLoad` explores.
func FuzzLoad(f *testing.F) {
	for _, seed := range []string{
		"services:\n  web:\n    image: nginx\n",
		"services:\n  web:\n    image: nginx\n    command: x: y\n",
		"services:\n  web:\n    image: [x\n",
		"services:\n  web:\n    restrat: always\n",
		"services:\n  web:\n    image: x\n    ports: 80\n",
		"services:\n  web:\n    image: x\n    healthcheck: {timeout: 5 seconds}\n",
		"services:\n  web:\n    image: x\n    environment: {A: \"${oops\"}\n",
		"services:\n  web:\n    image: x\n    depends_on: [web]\n",
		"x: &a [*a]\n",
		"a: &a\n  b: *a\n<<: *a\n",
		"services:\n  web:\n    <<: [*x]\n",
		"include: [compose.yaml]\n",
		"services:\n  web:\n    extends: web\n",
		"services:\n  web:\n    extends: {file: compose.yaml, service: web}\n",
		"- a\n",
		"\"\\xff\"\n",
		"\t",
		"",
		"services: {web: {image: x, labels: {1: 2}}}\n",
		"name: ${A:?${B:?x}}\n",
	} {
		f.Add([]byte(seed))
	}
	// A bug in placing an error must show, not fall back quietly.
	strictLocator.Store(true)
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		p, err := Load(context.Background(), Options{WorkingDir: dir, Env: []string{}})
		if err == nil && p == nil {
			t.Fatal("no project and no error")
		}
		if err != nil {
			for _, le := range loadErrors(err) {
				_ = le.Snippet()
			}
		}
	})
}

func TestSuggest(t *testing.T) {
	t.Parallel()
	keys := schemaKeys([]string{"services", "web"})
	if len(keys) < 50 || !containsString(keys, "restart") || !containsString(keys, "image") {
		t.Fatalf("schemaKeys(services.web) = %q, want the service keys", keys)
	}
	tests := []struct{ word, want string }{
		{"restrat", "restart"},
		{"imgae", "image"},
		{"Image", "image"},
		{"enviroment", "environment"},
		{"conatiner_name", "container_name"},
		{"zzzzzzzz", ""},
		{"x", ""},
		{"restart", ""},
	}
	for _, tt := range tests {
		got := suggest(tt.word, keys)
		if want := map[bool]string{true: "", false: "did you mean `" + tt.want + "`?"}[tt.want == ""]; got != want {
			t.Errorf("suggest(%q) = %q, want %q", tt.word, got, want)
		}
	}
	if d := editDistance("restrat", "restart"); d != 1 {
		t.Errorf("editDistance(restrat, restart) = %d, want 1 (a swap)", d)
	}
}
