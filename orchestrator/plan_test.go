package orchestrator

import (
	"strconv"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/labels"
	"github.com/composer-orchestrator/composer/project"
)

const planYAML = `
services:
  web:
    image: nginx
    depends_on: [db]
  db:
    image: postgres
    volumes: [data:/var/lib/postgresql/data]
volumes:
  data: {}
`

// desiredOf computes the hashes the project wants, with a fixed image id
// per service.
func desiredOf(t *testing.T, p *types.Project) Desired {
	t.Helper()
	want := Desired{Hash: map[string]string{}, ImageID: map[string]string{}}
	for _, name := range p.ServiceNames() {
		h, err := ServiceHash(p.Services[name])
		if err != nil {
			t.Fatal(err)
		}
		want.Hash[name] = h
		want.ImageID[name] = "sha256:" + name
	}
	return want
}

// existing is a container of the project as a previous up left it.
func existing(proj, service string, n int, hash, imageID string, state engine.ContainerState) engine.Container {
	name := proj + "-" + service + "-" + strconv.Itoa(n)
	return engine.Container{
		ID:    "id-" + name,
		Name:  name,
		State: state,
		Labels: map[string]string{
			labels.Project:    proj,
			labels.Service:    service,
			labels.Number:     strconv.Itoa(n),
			labels.Oneoff:     labels.False,
			labels.ConfigHash: hash,
			labels.Image:      imageID,
		},
	}
}

// upToDate is the state a successful up of p leaves, every service scaled
// to n containers.
func upToDate(p *types.Project, want Desired, n int) State {
	st := State{}
	for _, key := range sortedKeys(p.Networks) {
		st.Networks = append(st.Networks, engine.Network{ID: "net-" + key, Name: p.Networks[key].Name})
	}
	for _, key := range sortedKeys(p.Volumes) {
		st.Volumes = append(st.Volumes, engine.Volume{Name: p.Volumes[key].Name})
	}
	for _, svc := range p.ServiceNames() {
		for i := 1; i <= n; i++ {
			st.Containers = append(st.Containers, existing(p.Name, svc, i, want.Hash[svc], want.ImageID[svc], engine.StateRunning))
		}
	}
	sortContainers(st.Containers)
	return st
}

func TestPlanUp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		yaml     string
		scale    map[string]int
		state    func(p *types.Project, want Desired) State
		recreate string
		want     string
	}{
		{
			name:  "fresh project",
			state: func(*types.Project, Desired) State { return State{} },
			want: `network proj_default: create
volume proj_data: create
container proj-db-1: create
container proj-web-1: create
`,
		},
		{
			name:  "everything up to date",
			state: func(p *types.Project, want Desired) State { return upToDate(p, want, 1) },
			want: `network proj_default: exists
volume proj_data: exists
container proj-db-1: keep
container proj-web-1: keep
`,
		},
		{
			name: "one service's config changed",
			state: func(p *types.Project, want Desired) State {
				st := upToDate(p, want, 1)
				for i, c := range st.Containers {
					if c.Labels[labels.Service] == "web" {
						st.Containers[i].Labels[labels.ConfigHash] = "stale"
					}
				}
				return st
			},
			want: `network proj_default: exists
volume proj_data: exists
container proj-db-1: keep
container proj-web-1: recreate (config changed)
`,
		},
		{
			name: "one service's image changed",
			state: func(p *types.Project, want Desired) State {
				st := upToDate(p, want, 1)
				for i, c := range st.Containers {
					if c.Labels[labels.Service] == "db" {
						st.Containers[i].Labels[labels.Image] = "sha256:old"
					}
				}
				return st
			},
			want: `network proj_default: exists
volume proj_data: exists
container proj-db-1: recreate (image changed)
container proj-web-1: keep
`,
		},
		{
			name: "stopped container is started",
			state: func(p *types.Project, want Desired) State {
				st := upToDate(p, want, 1)
				for i, c := range st.Containers {
					if c.Labels[labels.Service] == "db" {
						st.Containers[i].State = engine.StateExited
					}
				}
				return st
			},
			want: `network proj_default: exists
volume proj_data: exists
container proj-db-1: start
container proj-web-1: keep
`,
		},
		{
			name:  "scale up from 1 to 3",
			scale: map[string]int{"web": 3},
			state: func(p *types.Project, want Desired) State { return upToDate(p, want, 1) },
			want: `network proj_default: exists
volume proj_data: exists
container proj-db-1: keep
container proj-web-1: keep
container proj-web-2: create
container proj-web-3: create
`,
		},
		{
			name:  "scale down from 3 to 1 removes the highest numbers",
			state: func(p *types.Project, want Desired) State { return upToDate(p, want, 3) },
			want: `network proj_default: exists
volume proj_data: exists
container proj-db-1: keep
container proj-db-2: remove (scale)
container proj-db-3: remove (scale)
container proj-web-1: keep
container proj-web-2: remove (scale)
container proj-web-3: remove (scale)
`,
		},
		{
			name: "scale fills the gaps in numbering first",
			state: func(p *types.Project, want Desired) State {
				st := upToDate(p, want, 0)
				st.Containers = append(st.Containers,
					existing("proj", "db", 2, want.Hash["db"], want.ImageID["db"], engine.StateRunning),
					existing("proj", "web", 1, want.Hash["web"], want.ImageID["web"], engine.StateRunning))
				sortContainers(st.Containers)
				return st
			},
			want: `network proj_default: exists
volume proj_data: exists
container proj-db-2: keep
container proj-web-1: keep
`,
		},
		{
			name: "an interrupted recreate's replacement beside the old container goes",
			state: func(p *types.Project, want Desired) State {
				st := upToDate(p, want, 1)
				// The replacement sorts first by name; the old container
				// under the service's name is the one kept.
				tmp := existing("proj", "web", 1, want.Hash["web"], want.ImageID["web"], engine.StateCreated)
				tmp.ID, tmp.Name = "id-tmp", "0123456789ab_proj-web-1"
				st.Containers = append(st.Containers, tmp)
				sortContainers(st.Containers)
				return st
			},
			want: `network proj_default: exists
volume proj_data: exists
container proj-db-1: keep
container proj-web-1: keep
container 0123456789ab_proj-web-1: remove (duplicate)
`,
		},
		{
			name: "a replacement left under its temporary name alone is recreated",
			state: func(p *types.Project, want Desired) State {
				st := upToDate(p, want, 1)
				for i, c := range st.Containers {
					if c.Labels[labels.Service] == "web" {
						st.Containers[i].Name = "0123456789ab_proj-web-1"
					}
				}
				return st
			},
			want: `network proj_default: exists
volume proj_data: exists
container proj-db-1: keep
container proj-web-1: recreate (left under a temporary name by an interrupted run)
`,
		},
		{
			name: "orphans are listed, one-offs are not",
			state: func(p *types.Project, want Desired) State {
				st := upToDate(p, want, 1)
				st.Containers = append(st.Containers, existing("proj", "old", 1, "x", "y", engine.StateRunning))
				run := existing("proj", "web", 9, "x", "y", engine.StateRunning)
				run.Name = "proj-web-run-abc"
				run.Labels[labels.Oneoff] = labels.True
				st.Containers = append(st.Containers, run)
				sortContainers(st.Containers)
				return st
			},
			want: `network proj_default: exists
volume proj_data: exists
container proj-db-1: keep
container proj-web-1: keep
orphan proj-old-1
`,
		},
		{
			name: "external network and volume",
			yaml: `
services:
  app:
    image: alpine
    networks: [front, shared]
    volumes: [cache:/cache, store:/store]
networks:
  front: {}
  shared:
    external: true
    name: the-shared-net
volumes:
  cache: {}
  store:
    external: true
`,
			state: func(*types.Project, Desired) State {
				return State{Networks: []engine.Network{{Name: "proj_front"}}}
			},
			want: `network proj_front: exists
network the-shared-net: external
volume proj_cache: create
volume store: external
container proj-app-1: create
`,
		},
		{
			name:     "recreate force",
			state:    func(p *types.Project, want Desired) State { return upToDate(p, want, 1) },
			recreate: RecreateForce,
			want: `network proj_default: exists
volume proj_data: exists
container proj-db-1: recreate (--force-recreate)
container proj-web-1: recreate (--force-recreate)
`,
		},
		{
			name: "recreate never keeps diverged containers",
			state: func(p *types.Project, want Desired) State {
				st := upToDate(p, want, 1)
				for i, c := range st.Containers {
					st.Containers[i].Labels[labels.ConfigHash] = "stale"
					if c.Labels[labels.Service] == "web" {
						st.Containers[i].State = engine.StateExited
					}
				}
				return st
			},
			recreate: RecreateNever,
			want: `network proj_default: exists
volume proj_data: exists
container proj-db-1: keep
container proj-web-1: start
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			yaml := tt.yaml
			if yaml == "" {
				yaml = planYAML
			}
			p := loadYAML(t, "proj", yaml)
			want := desiredOf(t, p)
			st := tt.state(p, want)
			if tt.scale != nil {
				var err error
				if p, err = project.WithScale(p, tt.scale); err != nil {
					t.Fatal(err)
				}
				// Scale does not enter the hash, so want stays valid.
				if w2 := desiredOf(t, p); w2.Hash["web"] != want.Hash["web"] || w2.Hash["db"] != want.Hash["db"] {
					t.Fatalf("scaling changed the config hash")
				}
			}
			got := PlanUp(p, st, want, tt.recreate).String()
			if got != tt.want {
				t.Errorf("PlanUp().String() =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// A plan is a pure function of its inputs: computing it twice gives the
// same text, whatever the map iteration order.
func TestPlanUpDeterministic(t *testing.T) {
	t.Parallel()
	p := loadYAML(t, "proj", planYAML)
	want := desiredOf(t, p)
	st := upToDate(p, want, 2)
	first := PlanUp(p, st, want, RecreateForce).String()
	for range 20 {
		if got := PlanUp(p, st, want, RecreateForce).String(); got != first {
			t.Fatalf("PlanUp is not deterministic:\n%s\nvs\n%s", got, first)
		}
	}
}
