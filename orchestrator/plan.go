package orchestrator

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/graph"
	"github.com/composer-orchestrator/composer/labels"
)

// Recreate policies for containers that already exist.
const (
	RecreateDiverged = "diverged" // only when config or image changed
	RecreateForce    = "force"
	RecreateNever    = "never"
)

// ActionKind is what happens to one container or resource.
type ActionKind string

const (
	ActCreate   ActionKind = "create"
	ActRecreate ActionKind = "recreate"
	ActStart    ActionKind = "start"
	ActKeep     ActionKind = "keep"
	ActRemove   ActionKind = "remove"
	ActExists   ActionKind = "exists"
	ActExternal ActionKind = "external"
)

// ContainerAction is the decision for one container of a service.
type ContainerAction struct {
	Kind    ActionKind
	Service string
	Number  int
	Name    string
	// Existing is the container acted on, for all but create.
	Existing *engine.Container
	Reason   string
}

// ResourceAction is the decision for one network or volume.
type ResourceAction struct {
	Kind ActionKind
	Key  string // the key in the compose file
	Name string // the engine name
}

// Plan is what up will do. It is a value: computing it touches no engine.
type Plan struct {
	Networks []ResourceAction
	Volumes  []ResourceAction
	// Services maps each service to its containers' actions, by number.
	Services map[string][]ContainerAction
	Orphans  []engine.Container
}

// String renders the plan, one line per decision, in a fixed order.
func (p Plan) String() string {
	var b strings.Builder
	for _, n := range p.Networks {
		fmt.Fprintf(&b, "network %s: %s\n", n.Name, n.Kind)
	}
	for _, v := range p.Volumes {
		fmt.Fprintf(&b, "volume %s: %s\n", v.Name, v.Kind)
	}
	names := make([]string, 0, len(p.Services))
	for s := range p.Services {
		names = append(names, s)
	}
	sort.Strings(names)
	for _, s := range names {
		for _, a := range p.Services[s] {
			fmt.Fprintf(&b, "container %s: %s", a.Name, a.Kind)
			if a.Reason != "" {
				fmt.Fprintf(&b, " (%s)", a.Reason)
			}
			b.WriteString("\n")
		}
	}
	for _, c := range p.Orphans {
		fmt.Fprintf(&b, "orphan %s\n", c.Name)
	}
	return b.String()
}

// Desired is what the project wants of each service, computed before
// planning: the config hash and the id of the image it runs.
type Desired struct {
	Hash map[string]string
	// AltHash is the same configuration hashed as newer docker compose
	// releases do; a container carrying it is up to date too.
	AltHash map[string]string
	ImageID map[string]string
}

// PlanUp decides, for every network, volume and container of the project,
// what up must do given what the engine holds.
func PlanUp(p *types.Project, st State, want Desired, recreate string) Plan {
	plan := Plan{Services: map[string][]ContainerAction{}}
	haveNet := map[string]bool{}
	for _, n := range st.Networks {
		haveNet[n.Name] = true
	}
	for _, key := range sortedKeys(p.Networks) {
		n := p.Networks[key]
		plan.Networks = append(plan.Networks, ResourceAction{Kind: resourceKind(bool(n.External), haveNet[n.Name]), Key: key, Name: n.Name})
	}
	haveVol := map[string]bool{}
	for _, v := range st.Volumes {
		haveVol[v.Name] = true
	}
	for _, key := range sortedKeys(p.Volumes) {
		v := p.Volumes[key]
		plan.Volumes = append(plan.Volumes, ResourceAction{Kind: resourceKind(bool(v.External), haveVol[v.Name]), Key: key, Name: v.Name})
	}
	for _, name := range p.ServiceNames() {
		plan.Services[name] = planService(p, p.Services[name], st.ServiceContainers(name), want, recreate)
	}
	recreateNamespaceUsers(p, plan)
	plan.Orphans = orphans(p, st)
	return plan
}

func resourceKind(external, exists bool) ActionKind {
	switch {
	case external:
		return ActExternal
	case exists:
		return ActExists
	default:
		return ActCreate
	}
}

func planService(p *types.Project, s types.ServiceConfig, existing []engine.Container, want Desired, recreate string) []ContainerAction {
	scale := s.GetScale()
	// Of two containers with one number (an interrupted recreate leaves
	// the new one beside the old), the one under its proper name stays.
	existing = slices.Clone(existing)
	sort.SliceStable(existing, func(i, j int) bool {
		ni, nj := number(existing[i]), number(existing[j])
		if ni != nj {
			return ni < nj
		}
		return existing[i].Name == ContainerName(p.Name, s, ni) && existing[j].Name != ContainerName(p.Name, s, nj)
	})
	var out []ContainerAction
	used := map[int]bool{}
	kept := 0
	for i := range existing {
		c := existing[i]
		n := number(c)
		if used[n] {
			out = append(out, ContainerAction{Kind: ActRemove, Service: s.Name, Number: n, Name: c.Name, Existing: &c, Reason: "duplicate"})
			continue
		}
		if kept >= scale {
			// Scaling down keeps the lowest numbers, so the highest go.
			out = append(out, ContainerAction{Kind: ActRemove, Service: s.Name, Number: n, Name: c.Name, Existing: &c, Reason: "scale"})
			continue
		}
		kept++
		used[n] = true
		a := ContainerAction{Service: s.Name, Number: n, Name: ContainerName(p.Name, s, n), Existing: &c}
		a.Kind, a.Reason = decide(c, want.Hash[s.Name], want.AltHash[s.Name], want.ImageID[s.Name], recreate)
		if c.Name != a.Name && (a.Kind == ActKeep || a.Kind == ActStart) {
			// A replacement an interrupted recreate left under its
			// temporary name: finish the job.
			a.Kind, a.Reason = ActRecreate, "left under a temporary name by an interrupted run"
		}
		out = append(out, a)
	}
	for n, have := 1, len(used); have < scale; n++ {
		if used[n] {
			continue
		}
		used[n] = true
		have++
		out = append(out, ContainerAction{Kind: ActCreate, Service: s.Name, Number: n, Name: ContainerName(p.Name, s, n)})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Number < out[j].Number })
	return out
}

// recreateNamespaceUsers recreates the containers that share a network,
// IPC or PID namespace or the volumes of a container being replaced: they
// point at the old container's id, which is about to go.
func recreateNamespaceUsers(p *types.Project, plan Plan) {
	replaced := func(svc string) bool {
		for _, a := range plan.Services[svc] {
			if a.Kind == ActRecreate {
				return true
			}
		}
		return false
	}
	for changed := true; changed; {
		changed = false
		for _, name := range p.ServiceNames() {
			s := p.Services[name]
			for _, dep := range graph.NamespaceDeps(s) {
				if !replaced(dep) {
					continue
				}
				for i, a := range plan.Services[name] {
					if a.Kind == ActKeep || a.Kind == ActStart {
						plan.Services[name][i].Kind = ActRecreate
						plan.Services[name][i].Reason = graph.NamespaceRef(s, dep) + ", " + dep + " is recreated"
						changed = true
					}
				}
			}
		}
	}
}

// decide says what to do with an existing container that is kept.
func decide(c engine.Container, hash, altHash, imageID, recreate string) (ActionKind, string) {
	switch recreate {
	case RecreateForce:
		return ActRecreate, "--force-recreate"
	case RecreateNever:
	default:
		if have := c.Labels[labels.ConfigHash]; have != hash && (altHash == "" || have != altHash) {
			return ActRecreate, reasonConfig
		}
		if imageID != "" && c.Labels[labels.Image] != imageID {
			return ActRecreate, reasonImage
		}
	}
	if c.State == engine.StateRunning || c.State == engine.StateRestarting {
		return ActKeep, ""
	}
	return ActStart, ""
}

// orphans are the project's containers of services the project does not
// define at all (a service disabled by a profile is not an orphan).
func orphans(p *types.Project, st State) []engine.Container {
	var out []engine.Container
	for _, c := range st.Containers {
		svc := c.Labels[labels.Service]
		if c.Labels[labels.Oneoff] == labels.True {
			continue
		}
		if _, ok := p.Services[svc]; ok {
			continue
		}
		if _, ok := p.DisabledServices[svc]; ok {
			continue
		}
		out = append(out, c)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
