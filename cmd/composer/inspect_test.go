package main

import (
	"encoding/json"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/composer-orchestrator/composer/engine"
)

const twoServicesYAML = `services:
  web:
    image: web-img
  db:
    image: db-img
`

// TestPsFormats checks ps's output formats and selections over a project
// with a running service, a stopped one and an orphan.
func TestPsFormats(t *testing.T) {
	t.Parallel()
	const yaml = `services:
  web:
    image: img
  job:
    image: img
    command: [exit, "0"]
`
	tests := []struct {
		name  string
		args  []string
		check func(t *testing.T, c *cli, out string)
	}{
		{name: "--format json", args: []string{"ps", "--format", "json"}, check: func(t *testing.T, c *cli, out string) {
			objs := jsonObjects(t, out)
			var names []string
			for _, o := range objs {
				names = append(names, o["Name"].(string))
				if o["Name"] == "proj-web-1" && (o["Service"] != "web" || o["State"] != "running" || o["Project"] != "proj") {
					t.Errorf("proj-web-1 is %v", o)
				}
			}
			slices.Sort(names)
			if want := []string{"proj-old-1", "proj-web-1"}; !slices.Equal(names, want) {
				t.Errorf("listed %v, want the running ones %v", names, want)
			}
		}},
		{name: "--all --format json", args: []string{"ps", "-a", "--format", "json"}, check: func(t *testing.T, c *cli, out string) {
			states := map[string]string{}
			for _, o := range jsonObjects(t, out) {
				states[o["Name"].(string)] = o["State"].(string)
				if o["Name"] == "proj-job-1" && o["ExitCode"] != 0.0 {
					t.Errorf("job's exit code %v, want 0", o["ExitCode"])
				}
			}
			want := map[string]string{"proj-web-1": "running", "proj-job-1": "exited", "proj-old-1": "running"}
			if !maps.Equal(states, want) {
				t.Errorf("states %v, want %v", states, want)
			}
		}},
		{name: "--orphans=false", args: []string{"ps", "--orphans=false", "--format", "json"}, check: func(t *testing.T, c *cli, out string) {
			for _, o := range jsonObjects(t, out) {
				if o["Service"] == "old" {
					t.Errorf("orphan listed: %v", o)
				}
			}
			if !strings.Contains(out, `"proj-web-1"`) {
				t.Errorf("proj-web-1 not listed:\n%s", out)
			}
		}},
		{name: "--status exited", args: []string{"ps", "--status", "exited", "--format", "json"}, check: func(t *testing.T, c *cli, out string) {
			objs := jsonObjects(t, out)
			if len(objs) != 1 || objs[0]["Name"] != "proj-job-1" {
				t.Errorf("listed %v, want only proj-job-1", objs)
			}
		}},
		{name: "--filter status=exited", args: []string{"ps", "--filter", "status=exited", "--format", "json"}, check: func(t *testing.T, c *cli, out string) {
			objs := jsonObjects(t, out)
			if len(objs) != 1 || objs[0]["Name"] != "proj-job-1" {
				t.Errorf("listed %v, want only proj-job-1", objs)
			}
		}},
		{name: "-q", args: []string{"ps", "-q"}, check: func(t *testing.T, c *cli, out string) {
			var want []string
			for _, ct := range c.containers("proj") {
				if ct.State == engine.StateRunning {
					want = append(want, ct.ID)
				}
			}
			got := strings.Fields(out)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("ids %v, want %v", got, want)
			}
		}},
		{name: "-q a service", args: []string{"ps", "-q", "web"}, check: func(t *testing.T, c *cli, out string) {
			d, _ := c.inspect("proj-web-1")
			if out != d.ID+"\n" {
				t.Errorf("output %q, want web's id %s", out, d.ID)
			}
		}},
		{name: "--services", args: []string{"ps", "--services"}, check: func(t *testing.T, c *cli, out string) {
			got := strings.Fields(out)
			slices.Sort(got)
			if want := []string{"old", "web"}; !slices.Equal(got, want) {
				t.Errorf("services %v, want %v", got, want)
			}
		}},
		{name: "--services -a", args: []string{"ps", "--services", "-a"}, check: func(t *testing.T, c *cli, out string) {
			got := strings.Fields(out)
			slices.Sort(got)
			if want := []string{"job", "old", "web"}; !slices.Equal(got, want) {
				t.Errorf("services %v, want %v", got, want)
			}
		}},
		{name: "table", args: []string{"ps"}, check: func(t *testing.T, c *cli, out string) {
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != 3 || !strings.HasPrefix(lines[0], "NAME") || !strings.Contains(lines[0], "SERVICE") {
				t.Fatalf("want a header and two rows:\n%s", out)
			}
			if !strings.Contains(out, "proj-web-1") || strings.Contains(out, "proj-job-1") {
				t.Errorf("want proj-web-1 and not the exited job:\n%s", out)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newCLI(t, yaml+"  old:\n    image: img\n")
			c.eng.AddImage("img")
			c.must("up", "-d")
			c.write("compose.yaml", yaml) // old is now an orphan
			r := c.must(tt.args...)
			tt.check(t, c, r.stdout)
		})
	}
}

// TestPsOrphansNeedsAFile checks that --orphans=false without a compose
// file, where every container would count as an orphan, is an error.
func TestPsOrphansNeedsAFile(t *testing.T) {
	t.Parallel()
	c := newCLI(t, "")
	r := c.run("--project-directory", c.dir, "-p", "proj", "ps", "--orphans=false")
	if r.code != 1 || !strings.Contains(r.stderr, "needs a compose file") {
		t.Fatalf("want exit 1 saying a compose file is needed:\n%s", r)
	}
}

// TestLs checks ls's formats and its name filter over two projects.
func TestLs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		args  []string
		check func(t *testing.T, c *cli, out string)
	}{
		{name: "--format json", args: []string{"ls", "--format", "json"}, check: func(t *testing.T, c *cli, out string) {
			var ps []map[string]string
			if err := json.Unmarshal([]byte(out), &ps); err != nil {
				t.Fatalf("output is not a JSON array: %v\n%s", err, out)
			}
			got := map[string]string{}
			for _, p := range ps {
				got[p["Name"]] = p["Status"]
				if p["Name"] == "alpha" && p["ConfigFiles"] != filepath.Join(c.dir, "compose.yaml") {
					t.Errorf("alpha's config files %q, want %s", p["ConfigFiles"], filepath.Join(c.dir, "compose.yaml"))
				}
			}
			if want := map[string]string{"alpha": "running(2)", "beta": "running(2)"}; !maps.Equal(got, want) {
				t.Errorf("projects %v, want %v", got, want)
			}
		}},
		{name: "--filter name=alpha", args: []string{"ls", "--filter", "name=alpha", "-q"}, check: func(t *testing.T, c *cli, out string) {
			if out != "alpha\n" {
				t.Errorf("output %q, want only alpha", out)
			}
		}},
		{name: "--filter name=nosuch", args: []string{"ls", "--filter", "name=nosuch", "-q"}, check: func(t *testing.T, c *cli, out string) {
			if out != "" {
				t.Errorf("output %q, want nothing", out)
			}
		}},
		{name: "--filter twice", args: []string{"ls", "--filter", "name=alpha", "--filter", "name=beta", "-q"}, check: func(t *testing.T, c *cli, out string) {
			got := strings.Fields(out)
			slices.Sort(got)
			if !slices.Equal(got, []string{"alpha", "beta"}) {
				t.Errorf("output %q, want alpha and beta", out)
			}
		}},
		{name: "-q", args: []string{"ls", "-q"}, check: func(t *testing.T, c *cli, out string) {
			got := strings.Fields(out)
			slices.Sort(got)
			if !slices.Equal(got, []string{"alpha", "beta"}) {
				t.Errorf("output %q, want alpha and beta", out)
			}
		}},
		{name: "stopped project needs -a", args: []string{"ls", "-q"}, check: nil},
		{name: "table", args: []string{"ls"}, check: func(t *testing.T, c *cli, out string) {
			if !strings.HasPrefix(out, "NAME") || !strings.Contains(out, "alpha") || !strings.Contains(out, "running(2)") {
				t.Errorf("table:\n%s", out)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newCLI(t, twoServicesYAML)
			c.must("-p", "alpha", "up", "-d")
			c.must("-p", "beta", "up", "-d")
			if tt.check == nil {
				c.must("-p", "beta", "stop")
				if r := c.must("ls", "-q"); r.stdout != "alpha\n" {
					t.Errorf("ls -q = %q, want alpha only", r.stdout)
				}
				if r := c.must("ls", "-q", "-a"); r.stdout != "alpha\nbeta\n" {
					t.Errorf("ls -q -a = %q, want alpha and beta", r.stdout)
				}
				return
			}
			r := c.must(tt.args...)
			tt.check(t, c, r.stdout)
		})
	}
}

// TestImages checks images' formats.
func TestImages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		args  []string
		check func(t *testing.T, c *cli, out string)
	}{
		{name: "--format json", args: []string{"images", "--format", "json"}, check: func(t *testing.T, c *cli, out string) {
			var imgs []map[string]any
			if err := json.Unmarshal([]byte(out), &imgs); err != nil {
				t.Fatalf("output is not a JSON array: %v\n%s", err, out)
			}
			got := map[string]string{}
			for _, img := range imgs {
				got[img["ContainerName"].(string)] = img["Repository"].(string) + ":" + img["Tag"].(string)
			}
			if want := map[string]string{"proj-web-1": "web-img:latest", "proj-db-1": "db-img:latest"}; !maps.Equal(got, want) {
				t.Errorf("images %v, want %v", got, want)
			}
		}},
		{name: "a service", args: []string{"images", "--format", "json", "db"}, check: func(t *testing.T, c *cli, out string) {
			var imgs []map[string]any
			if err := json.Unmarshal([]byte(out), &imgs); err != nil {
				t.Fatalf("output is not a JSON array: %v\n%s", err, out)
			}
			if len(imgs) != 1 || imgs[0]["ContainerName"] != "proj-db-1" {
				t.Errorf("images %v, want db's only", imgs)
			}
		}},
		{name: "-q", args: []string{"images", "-q"}, check: func(t *testing.T, c *cli, out string) {
			d, _ := c.inspect("proj-web-1")
			if !strings.Contains(out, d.ImageID) || len(strings.Fields(out)) != 2 {
				t.Errorf("output %q, want two ids including %s", out, d.ImageID)
			}
		}},
		{name: "table", args: []string{"images"}, check: func(t *testing.T, c *cli, out string) {
			if !strings.HasPrefix(out, "CONTAINER") || !strings.Contains(out, "web-img") {
				t.Errorf("table:\n%s", out)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newCLI(t, twoServicesYAML)
			c.must("up", "-d")
			r := c.must(tt.args...)
			tt.check(t, c, r.stdout)
		})
	}
}

// TestConfig checks config's listings and the loader switches it passes on.
func TestConfig(t *testing.T) {
	t.Parallel()
	const yaml = `services:
  web:
    image: web-img
    volumes:
      - ./data:/data
      - cache:/cache
    networks: [front]
    profiles: [web]
  db:
    image: db-img
networks:
  front: {}
volumes:
  cache: {}
`
	const inconsistent = `services:
  web:
    image: web-img
    networks: [undeclared]
`
	tests := []struct {
		name     string
		yaml     string
		args     []string
		code     int
		want     string // exact stdout, when set
		contains []string
		lacks    []string
	}{
		{name: "--services", args: []string{"--profile", "web", "config", "--services"}, want: "db\nweb\n"},
		{name: "--services without the profile", args: []string{"config", "--services"}, want: "db\n"},
		{name: "--volumes", args: []string{"--profile", "web", "config", "--volumes"}, want: "cache\n"},
		{name: "--networks", args: []string{"--profile", "web", "config", "--networks"}, want: "default\nfront\n"},
		{name: "--images", args: []string{"--profile", "web", "config", "--images"}, want: "db-img\nweb-img\n"},
		{name: "--profiles", args: []string{"config", "--profiles"}, want: "web\n"},
		{name: "-q", args: []string{"config", "-q"}, want: ""},
		{name: "resolved paths", args: []string{"--profile", "web", "config"}, contains: []string{"source: " + "DIR/data"}},
		{name: "--no-path-resolution", args: []string{"--profile", "web", "config", "--no-path-resolution"}, contains: []string{"source: ./data"}, lacks: []string{"DIR/data"}},
		{name: "--format json", args: []string{"config", "--format", "json"}, contains: []string{`"db"`, `"image": "db-img"`}},
		{name: "inconsistent", yaml: inconsistent, args: []string{"config"}, code: 1},
		{name: "--no-consistency", yaml: inconsistent, args: []string{"config", "--no-consistency"}, contains: []string{"undeclared"}},
		{name: "--resolve-image-digests", args: []string{"config", "--resolve-image-digests"}, code: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			y := yaml
			if tt.yaml != "" {
				y = tt.yaml
			}
			c := newCLI(t, y)
			r := c.run(tt.args...)
			if r.code != tt.code {
				t.Fatalf("exit code %d, want %d:\n%s", r.code, tt.code, r)
			}
			if tt.code != 0 {
				if r.stdout != "" {
					t.Errorf("stdout = %q, want nothing", r.stdout)
				}
				return
			}
			if tt.want != "" || len(tt.contains) == 0 {
				if r.stdout != tt.want {
					t.Errorf("stdout = %q, want %q", r.stdout, tt.want)
				}
			}
			for _, s := range tt.contains {
				s = strings.ReplaceAll(s, "DIR", c.dir)
				if !strings.Contains(r.stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, r.stdout)
				}
			}
			for _, s := range tt.lacks {
				s = strings.ReplaceAll(s, "DIR", c.dir)
				if strings.Contains(r.stdout, s) {
					t.Errorf("stdout has %q:\n%s", s, r.stdout)
				}
			}
		})
	}
}
