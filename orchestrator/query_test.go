package orchestrator

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/engine/fake"
)

const queryYAML = `
services:
  web:
    image: nginx
    ports: ["8080:80", "9090:90/udp"]
    expose: ["3000"]
  job:
    image: alpine
    command: ["exit", "1"]
  old:
    image: alpine
`

// upForQuery brings up queryYAML as project proj (web running, job and
// old exited) plus a one-off container of web, created and not started.
func upForQuery(t *testing.T) (*fake.Engine, *Orchestrator) {
	t.Helper()
	eng, o, _ := newFake("nginx", "alpine")
	p := loadYAML(t, "proj", queryYAML)
	mustUp(t, o, p, UpOptions{})
	if err := eng.Exit("proj-old-1", 0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := o.RunPrepare(testCtx(t), p, RunOptions{Service: "web", Name: "proj-web-run", NoDeps: true}); err != nil {
		t.Fatalf("RunPrepare: %v", err)
	}
	return eng, o
}

func TestPs(t *testing.T) {
	t.Parallel()
	_, o := upForQuery(t)
	withoutOld := loadYAML(t, "proj", `
services:
  web: {image: nginx}
  job: {image: alpine}
`)
	oldDisabled := loadYAML(t, "proj", `
services:
  web: {image: nginx}
  job: {image: alpine}
  old: {image: alpine, profiles: [debug]}
`)
	tests := []struct {
		name    string
		t       Target
		opts    PsOptions
		want    []string // container names, sorted
		wantErr error
	}{
		{name: "running by default", want: []string{"proj-web-1"}},
		{name: "all", opts: PsOptions{All: true}, want: []string{"proj-job-1", "proj-old-1", "proj-web-1", "proj-web-run"}},
		{name: "status exited", opts: PsOptions{Status: []string{"exited"}}, want: []string{"proj-job-1", "proj-old-1"}},
		{name: "status created", opts: PsOptions{Status: []string{"created"}}, want: []string{"proj-web-run"}},
		{name: "one service", t: Target{Services: []string{"web"}}, opts: PsOptions{All: true}, want: []string{"proj-web-1", "proj-web-run"}},
		{name: "orphans left out, one-offs kept", opts: PsOptions{All: true, NoOrphans: true, Project: withoutOld}, want: []string{"proj-job-1", "proj-web-1", "proj-web-run"}},
		{name: "a disabled service is no orphan", opts: PsOptions{All: true, NoOrphans: true, Project: oldDisabled}, want: []string{"proj-job-1", "proj-old-1", "proj-web-1", "proj-web-run"}},
		{name: "no orphans needs a project", opts: PsOptions{NoOrphans: true}, wantErr: ErrNeedsProject},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.t.Project = "proj"
			got, err := o.Ps(testCtx(t), tt.t, tt.opts)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, s := range got {
				names = append(names, s.Name)
			}
			slices.Sort(names)
			if !slices.Equal(names, tt.want) {
				t.Errorf("containers = %v, want %v", names, tt.want)
			}
		})
	}
}

func TestPsSummary(t *testing.T) {
	t.Parallel()
	_, o := upForQuery(t)
	got, err := o.Ps(testCtx(t), Target{Project: "proj"}, PsOptions{All: true})
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]ContainerSummary{}
	for _, s := range got {
		by[s.Name] = s
	}
	web, job := by["proj-web-1"], by["proj-job-1"]
	if web.Project != "proj" || web.Service != "web" || web.State != "running" || web.Image != "nginx" || web.ExitCode != 0 {
		t.Errorf("web = %+v, want project proj, service web, running nginx, exit code 0", web)
	}
	if want := "0.0.0.0:8080->80/tcp, 0.0.0.0:9090->90/udp"; web.Ports != want {
		t.Errorf("web ports = %q, want %q", web.Ports, want)
	}
	if len(web.Publishers) != 2 {
		t.Errorf("web publishers = %+v, want the two published ports", web.Publishers)
	}
	// The exit code is read from the list call's status text.
	if job.State != "exited" || job.ExitCode != 1 || !strings.HasPrefix(job.Status, "Exited (1)") {
		t.Errorf("job = %+v, want exited with code 1", job)
	}
	if job.Ports != "" {
		t.Errorf("job ports = %q, want none (not running)", job.Ports)
	}
}

func TestProjects(t *testing.T) {
	t.Parallel()
	eng, o, _ := newFake("nginx", "alpine")
	for name, yaml := range map[string]string{
		"alpha": "services:\n  web: {image: nginx}\n",
		"beta":  "services:\n  job: {image: alpine, command: [exit, \"1\"]}\n",
		"gamma": "services:\n  web: {image: nginx}\n  job: {image: alpine, command: [exit, \"1\"]}\n  w2: {image: nginx}\n",
	} {
		mustUp(t, o, loadYAML(t, name, yaml), UpOptions{})
	}
	// A container of no project is not listed.
	if _, err := eng.CreateContainer(context.Background(), engine.ContainerSpec{Name: "loose", Image: "nginx"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts ProjectsOptions
		want []string // "name status"
	}{
		{name: "with a running container", want: []string{"alpha running(1)", "gamma exited(1), running(2)"}},
		{name: "all", opts: ProjectsOptions{All: true}, want: []string{"alpha running(1)", "beta exited(1)", "gamma exited(1), running(2)"}},
		{name: "by name", opts: ProjectsOptions{All: true, Names: []string{"beta", "nope"}}, want: []string{"beta exited(1)"}},
		{name: "by name, not running", opts: ProjectsOptions{Names: []string{"beta"}}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := o.Projects(testCtx(t), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			var lines []string
			for _, p := range got {
				lines = append(lines, p.Name+" "+p.Status)
				if !strings.HasSuffix(p.ConfigFiles, "compose.yaml") {
					t.Errorf("%s config files = %q, want its compose.yaml", p.Name, p.ConfigFiles)
				}
			}
			if !slices.Equal(lines, tt.want) {
				t.Errorf("projects = %q, want %q", lines, tt.want)
			}
		})
	}
}

func TestProcesses(t *testing.T) {
	t.Parallel()
	eng, o := upForQuery(t)
	got, err := o.Processes(testCtx(t), Target{Project: "proj"})
	if err != nil {
		t.Fatal(err)
	}
	// Only running containers have processes; one-offs are not listed.
	if len(got) != 1 || got[0].Container != "proj-web-1" {
		t.Fatalf("processes = %+v, want those of proj-web-1 only", got)
	}
	if len(got[0].Titles) == 0 || len(got[0].Processes) != 1 || len(got[0].Processes[0]) != len(got[0].Titles) {
		t.Errorf("processes of web = %+v, want one row under the titles", got[0])
	}

	eng.Fail("Top", "proj-web-1", nil)
	if _, err := o.Processes(testCtx(t), Target{Project: "proj"}); err == nil || !strings.Contains(err.Error(), "proj-web-1") {
		t.Errorf("error = %v, want one naming proj-web-1", err)
	}
}

func TestPort(t *testing.T) {
	t.Parallel()
	_, o := upForQuery(t)
	tests := []struct {
		name     string
		t        Target
		port     uint16
		protocol string
		want     string
		wantErr  string
	}{
		{name: "tcp", t: Target{Services: []string{"web"}}, port: 80, protocol: "tcp", want: "0.0.0.0:8080"},
		{name: "udp", t: Target{Services: []string{"web"}, Index: 1}, port: 90, protocol: "udp", want: "0.0.0.0:9090"},
		{name: "wrong protocol", t: Target{Services: []string{"web"}}, port: 80, protocol: "udp", wantErr: "no port 80/udp published for proj-web-1"},
		{name: "only exposed", t: Target{Services: []string{"web"}}, port: 3000, protocol: "tcp", wantErr: "no port 3000/tcp published"},
		{name: "no such replica", t: Target{Services: []string{"web"}, Index: 2}, port: 80, protocol: "tcp", wantErr: `service "web" has no container number 2`},
		{name: "no such service", t: Target{Services: []string{"nope"}}, port: 80, protocol: "tcp", wantErr: `service "nope" has no container`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.t.Project = "proj"
			got, err := o.Port(testCtx(t), tt.t, tt.port, tt.protocol)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("Port = %q, %v; want an error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Port = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestImages(t *testing.T) {
	t.Parallel()
	eng, o, _ := newFake()
	ids := map[string]string{}
	for _, ref := range []string{"nginx:1.25", "alpine", "localhost:5000/team/app"} {
		ids[ref] = eng.AddImage(ref)
	}
	mustUp(t, o, loadYAML(t, "proj", `
services:
  web: {image: "nginx:1.25"}
  job: {image: alpine}
  app: {image: "localhost:5000/team/app"}
`), UpOptions{})
	got, err := o.Images(testCtx(t), Target{Project: "proj"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]ImageSummary{
		"proj-web-1": {ContainerName: "proj-web-1", Repository: "nginx", Tag: "1.25", ID: ids["nginx:1.25"], Size: 1 << 20},
		"proj-job-1": {ContainerName: "proj-job-1", Repository: "alpine", Tag: "latest", ID: ids["alpine"], Size: 1 << 20},
		"proj-app-1": {ContainerName: "proj-app-1", Repository: "localhost:5000/team/app", Tag: "latest", ID: ids["localhost:5000/team/app"], Size: 1 << 20},
	}
	if len(got) != len(want) {
		t.Errorf("images = %+v, want one per container", got)
	}
	for _, g := range got {
		if g != want[g.ContainerName] {
			t.Errorf("image of %s = %+v, want %+v", g.ContainerName, g, want[g.ContainerName])
		}
	}

	// A container whose image is gone is left out.
	if err := eng.RemoveImage(context.Background(), "alpine", true); err != nil {
		t.Fatal(err)
	}
	got, err = o.Images(testCtx(t), Target{Project: "proj", Services: []string{"web", "job"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ContainerName != "proj-web-1" {
		t.Errorf("images = %+v, want only that of proj-web-1", got)
	}
}
