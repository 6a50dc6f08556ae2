package orchestrator

import (
	"context"
	"strings"
	"testing"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/engine/fake"
	"github.com/composer-orchestrator/composer/labels"
)

const downYAML = `
services:
  db:
    image: postgres
    volumes: [data:/var/lib/postgresql/data, /scratch]
  api:
    image: nginx
    depends_on: [db]
    networks: [default, back]
  web:
    image: nginx
    depends_on:
      api: {condition: service_started}
networks:
  back: {}
volumes:
  data: {}
`

// upForDown brings up downYAML as project name and, on the same engine,
// resources that down must leave alone: another project's and unlabelled
// ones.
func upForDown(t *testing.T, name string) (*fake.Engine, *Orchestrator, func() (containers, networks, volumes []string)) {
	t.Helper()
	eng, o, _ := newFake("postgres", "nginx")
	ctx := testCtx(t)
	mustUp(t, o, loadYAML(t, name, downYAML), UpOptions{})
	mustUp(t, o, loadYAML(t, name+"other", downYAML), UpOptions{})
	if _, err := eng.CreateNetwork(ctx, engine.NetworkSpec{Name: name + "_manual"}); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.CreateVolume(ctx, engine.VolumeSpec{Name: name + "_manual"}); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.CreateContainer(ctx, engine.ContainerSpec{Name: name + "-manual-1", Image: "nginx"}); err != nil {
		t.Fatal(err)
	}
	list := func() (cs, ns, vs []string) {
		all, err := eng.ListContainers(context.Background(), engine.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range all {
			cs = append(cs, c.Name)
		}
		nets, _ := eng.ListNetworks(context.Background(), engine.Filter{})
		for _, n := range nets {
			ns = append(ns, n.Name)
		}
		vols, _ := eng.ListVolumes(context.Background(), engine.Filter{})
		for _, v := range vols {
			if !strings.HasPrefix(v.Name, name) {
				continue // anonymous volumes have random names
			}
			vs = append(vs, v.Name)
		}
		return sortStrings(cs), ns, vs
	}
	return eng, o, list
}

func sortStrings(s []string) []string {
	m := map[string]bool{}
	for _, x := range s {
		m[x] = true
	}
	return names(m)
}

func TestDown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		withProject bool
		volumes     bool
		wantVolumes string
	}{
		{"with project", true, false, "p_data p_manual pother_data"},
		{"with project and volumes", true, true, "p_manual pother_data"},
		{"from labels only", false, false, "p_data p_manual pother_data"},
		{"from labels only, with volumes", false, true, "p_manual pother_data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			eng, o, list := upForDown(t, "p")
			p := loadYAML(t, "p", downYAML)
			if !tt.withProject {
				p = nil
			}
			if err := o.Down(testCtx(t), "p", p, DownOptions{Volumes: tt.volumes}); err != nil {
				t.Fatalf("Down: %v", err)
			}
			cs, ns, vs := list()
			if got, want := strings.Join(cs, " "), "p-manual-1 pother-api-1 pother-db-1 pother-web-1"; got != want {
				t.Errorf("containers left = %s, want %s", got, want)
			}
			if got, want := strings.Join(ns, " "), "bridge host none p_manual pother_back pother_default"; got != want {
				t.Errorf("networks left = %s, want %s", got, want)
			}
			if got := strings.Join(vs, " "); got != tt.wantVolumes {
				t.Errorf("volumes left = %s, want %s", got, tt.wantVolumes)
			}

			// Dependents stop before their dependencies.
			evs := eng.Published()
			order := [][2]string{{"p-web-1", "p-api-1"}, {"p-api-1", "p-db-1"}}
			for _, pair := range order {
				dependent, dep := eventIndex(evs, "stop", pair[0]), eventIndex(evs, "stop", pair[1])
				if dependent < 0 || dep < 0 || dependent > dep {
					t.Errorf("%s stopped at %d, its dependency %s at %d: want the dependent first", pair[0], dependent, pair[1], dep)
				}
			}

			// Down again finds nothing to do and does not fail.
			if err := o.Down(testCtx(t), "p", p, DownOptions{Volumes: tt.volumes}); err != nil {
				t.Errorf("second Down: %v", err)
			}
		})
	}
}

// The anonymous volumes of the containers go with Volumes, and only then.
func TestDownAnonymousVolumes(t *testing.T) {
	t.Parallel()
	for _, volumes := range []bool{false, true} {
		eng, o, _ := newFake("postgres", "nginx")
		mustUp(t, o, loadYAML(t, "p", downYAML), UpOptions{})
		anon := volumeAt(t, eng, containersOf(t, eng, "p")["p-db-1"].ID, "/scratch")
		if err := o.Down(testCtx(t), "p", nil, DownOptions{Volumes: volumes}); err != nil {
			t.Fatal(err)
		}
		_, err := eng.InspectVolume(context.Background(), anon)
		if gone := err != nil; gone != volumes {
			t.Errorf("Volumes=%t: anonymous volume removed = %t", volumes, gone)
		}
	}
}

func TestDownKeepsExternalVolumes(t *testing.T) {
	t.Parallel()
	eng, o, _ := newFake("nginx")
	ctx := testCtx(t)
	// An external volume that carries the project label (made by an
	// earlier version of the file, say) is still never removed.
	if _, err := eng.CreateVolume(ctx, engine.VolumeSpec{Name: "shared", Labels: map[string]string{labels.Project: "p"}}); err != nil {
		t.Fatal(err)
	}
	p := loadYAML(t, "p", `
services:
  web: {image: nginx, volumes: [shared:/s]}
volumes:
  shared: {external: true}
`)
	mustUp(t, o, p, UpOptions{})
	if err := o.Down(ctx, "p", p, DownOptions{Volumes: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.InspectVolume(ctx, "shared"); err != nil {
		t.Errorf("external volume removed by down -v: %v", err)
	}
}

func TestDownOrphans(t *testing.T) {
	t.Parallel()
	eng, o, rec := newFake("postgres", "nginx")
	mustUp(t, o, loadYAML(t, "p", downYAML), UpOptions{})
	smaller := loadYAML(t, "p", "services:\n  web: {image: nginx}\n")
	if err := o.Down(testCtx(t), "p", smaller, DownOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(names(containersOf(t, eng, "p")), " "), "p-api-1 p-db-1"; got != want {
		t.Errorf("containers left = %s, want the orphans %s", got, want)
	}
	if w := strings.Join(rec.warnings(), "\n"); !strings.Contains(w, "p-api-1") {
		t.Errorf("warnings %q do not name the orphans", w)
	}
	if err := o.Down(testCtx(t), "p", smaller, DownOptions{RemoveOrphans: true}); err != nil {
		t.Fatal(err)
	}
	if left := containersOf(t, eng, "p"); len(left) != 0 {
		t.Errorf("containers left after RemoveOrphans: %v", names(left))
	}
}

const planDownYAML = `
services:
  db:
    image: postgres
    volumes: [data:/var/lib/postgresql/data, shared:/shared]
  api:
    build: .
    depends_on: [db]
  web:
    image: nginx
    depends_on:
      api: {condition: service_started}
volumes:
  data: {}
  shared: {external: true}
`

// downState is what an up of planDownYAML leaves in project p: one
// container per service carrying its depends_on label and image, the
// default network, and the named volumes (the external one carrying the
// project label too, as if an earlier file had made it).
func downState(t *testing.T, extra ...engine.Container) State {
	t.Helper()
	p := loadYAML(t, "p", planDownYAML)
	st := State{
		Networks: []engine.Network{{ID: "net-default", Name: "p_default"}},
		Volumes:  []engine.Volume{{Name: "p_data"}, {Name: "shared"}},
	}
	for _, svc := range p.ServiceNames() {
		c := existing("p", svc, 1, "hash", "sha256:"+svc, engine.StateRunning)
		c.Labels[labels.DependsOn] = dependsOnLabel(p.Services[svc])
		c.Image = ImageName(p, p.Services[svc])
		st.Containers = append(st.Containers, c)
	}
	st.Containers = append(st.Containers, extra...)
	sortContainers(st.Containers)
	return st
}

// recreated is a container that replaced another and took over its
// anonymous volume.
func recreated() engine.Container {
	c := existing("p", "db", 2, "hash", "sha256:db", engine.StateRunning)
	c.Image = "postgres"
	c.Labels[labels.Replace] = "id-old"
	c.Mounts = []engine.MountPoint{
		{Type: "volume", Name: strings.Repeat("ab", 32), Destination: "/scratch"},
		{Type: "volume", Name: "p_data", Destination: "/var/lib/postgresql/data"},
	}
	return c
}

func TestPlanDown(t *testing.T) {
	t.Parallel()
	orphan := existing("p", "old", 1, "x", "y", engine.StateRunning)
	orphan.Image = "busybox"
	tests := []struct {
		name      string
		noProject bool
		extra     []engine.Container
		opts      DownOptions
		want      string
	}{
		{
			name: "with a project",
			want: `container p-web-1: remove
container p-api-1: remove
container p-db-1: remove
network p_default: remove
`,
		},
		{
			name:      "without a project, from labels",
			noProject: true,
			want: `container p-web-1: remove
container p-api-1: remove
container p-db-1: remove
network p_default: remove
`,
		},
		{
			name:  "orphans kept without RemoveOrphans",
			extra: []engine.Container{orphan},
			want: `container p-web-1: remove
container p-api-1: remove
container p-db-1: remove
orphan p-old-1: keep
network p_default: remove
`,
		},
		{
			name:  "orphans removed with RemoveOrphans",
			extra: []engine.Container{orphan},
			opts:  DownOptions{RemoveOrphans: true},
			want: `container p-web-1: remove
container p-old-1: remove
container p-api-1: remove
container p-db-1: remove
network p_default: remove
`,
		},
		{
			name:      "without a project there are no orphans",
			noProject: true,
			extra:     []engine.Container{orphan},
			want: `container p-web-1: remove
container p-old-1: remove
container p-api-1: remove
container p-db-1: remove
network p_default: remove
`,
		},
		{
			name:  "volumes, never external ones",
			extra: []engine.Container{recreated()},
			opts:  DownOptions{Volumes: true},
			want: `container p-web-1: remove (with anonymous volumes)
container p-api-1: remove (with anonymous volumes)
container p-db-1: remove (with anonymous volumes)
container p-db-2: remove (with anonymous volumes)
volume abababababababababababababababababababababababababababababababab: remove (inherited anonymous volume)
network p_default: remove
volume p_data: remove
`,
		},
		{
			name:      "volumes without a project: every labelled one",
			noProject: true,
			opts:      DownOptions{Volumes: true},
			want: `container p-web-1: remove (with anonymous volumes)
container p-api-1: remove (with anonymous volumes)
container p-db-1: remove (with anonymous volumes)
network p_default: remove
volume p_data: remove
volume shared: remove
`,
		},
		{
			name: "rmi local: images built without a name",
			opts: DownOptions{RemoveImages: "local"},
			want: `container p-web-1: remove
container p-api-1: remove
container p-db-1: remove
network p_default: remove
image p-api: remove
`,
		},
		{
			name: "rmi all",
			opts: DownOptions{RemoveImages: "all"},
			want: `container p-web-1: remove
container p-api-1: remove
container p-db-1: remove
network p_default: remove
image p-api: remove
image postgres: remove
image nginx: remove
`,
		},
		{
			name:      "rmi local without a project, from the containers",
			noProject: true,
			opts:      DownOptions{RemoveImages: "local"},
			want: `container p-web-1: remove
container p-api-1: remove
container p-db-1: remove
network p_default: remove
image p-api: remove
`,
		},
		{
			name:      "rmi all without a project, from the containers",
			noProject: true,
			extra:     []engine.Container{orphan},
			opts:      DownOptions{RemoveImages: "all"},
			want: `container p-web-1: remove
container p-old-1: remove
container p-api-1: remove
container p-db-1: remove
network p_default: remove
image busybox: remove
image nginx: remove
image p-api: remove
image postgres: remove
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := loadYAML(t, "p", planDownYAML)
			if tt.noProject {
				p = nil
			}
			got := PlanDown("p", p, downState(t, tt.extra...), tt.opts).String()
			if got != tt.want {
				t.Errorf("PlanDown().String() =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// Planning down is a pure function of its inputs.
func TestPlanDownDeterministic(t *testing.T) {
	t.Parallel()
	p := loadYAML(t, "p", planDownYAML)
	st := downState(t, recreated())
	opts := DownOptions{Volumes: true, RemoveImages: "all"}
	first := PlanDown("p", p, st, opts).String()
	for range 20 {
		if got := PlanDown("p", p, st, opts).String(); got != first {
			t.Fatalf("PlanDown is not deterministic:\n%s\nvs\n%s", got, first)
		}
	}
}
