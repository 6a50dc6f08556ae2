package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"golang.org/x/sync/errgroup"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/labels"
)

// The read operations: ps, ls, top, port and images. Each costs one list
// call, plus one call per container where the list does not carry what
// is asked (processes, image sizes).

// ContainerSummary is one container as ps shows it. The JSON names are
// docker compose's, so scripts written for `docker compose ps --format
// json` read composer's output too.
type ContainerSummary struct {
	ID         string      `json:"ID"`
	Name       string      `json:"Name"`
	Names      string      `json:"Names"`
	Image      string      `json:"Image"`
	Command    string      `json:"Command"`
	Project    string      `json:"Project"`
	Service    string      `json:"Service"`
	Created    int64       `json:"Created"`
	CreatedAt  string      `json:"CreatedAt"`
	RunningFor string      `json:"RunningFor"`
	State      string      `json:"State"`
	Status     string      `json:"Status"`
	Health     string      `json:"Health"`
	ExitCode   int         `json:"ExitCode"`
	Ports      string      `json:"Ports"`
	Publishers []Publisher `json:"Publishers"`
	// ReadyByProbe is when composer's own health probe found the
	// container healthy before the engine did (see WithoutHealthProbe),
	// for the command line to fill in; empty otherwise.
	ReadyByProbe string `json:"ReadyByProbe,omitempty"`
}

// Publisher is one port of a container, published or only exposed.
type Publisher struct {
	URL           string `json:"URL"`
	TargetPort    uint16 `json:"TargetPort"`
	PublishedPort uint16 `json:"PublishedPort"`
	Protocol      string `json:"Protocol"`
}

// PsOptions select the containers ps lists.
type PsOptions struct {
	// All includes stopped containers; otherwise only running, restarting
	// and paused ones are listed (unless Status asks for others).
	All bool
	// Status keeps only containers in one of these states.
	Status []string
	// NoOrphans leaves out containers of services that Project does not
	// define; it needs Project.
	NoOrphans bool
	Project   *types.Project
}

// ErrNeedsProject reports an option that needs a compose file when none
// was found.
var ErrNeedsProject = errors.New("needs a compose file")

// Ps lists the target's containers, one-off ones included.
func (o *Orchestrator) Ps(ctx context.Context, t Target, opts PsOptions) ([]ContainerSummary, error) {
	if opts.NoOrphans && opts.Project == nil {
		return nil, fmt.Errorf("leaving out orphans %w", ErrNeedsProject)
	}
	cs, err := o.containers(ctx, t, true)
	if err != nil {
		return nil, err
	}
	out := []ContainerSummary{}
	for _, c := range cs {
		if !psSelects(c, opts) {
			continue
		}
		out = append(out, summarize(c, time.Now()))
	}
	return out, nil
}

func psSelects(c engine.Container, opts PsOptions) bool {
	if opts.NoOrphans && c.Labels[labels.Oneoff] != labels.True {
		svc := c.Labels[labels.Service]
		_, defined := opts.Project.Services[svc]
		_, disabled := opts.Project.DisabledServices[svc]
		if !defined && !disabled {
			return false
		}
	}
	if len(opts.Status) > 0 {
		return slices.Contains(opts.Status, string(c.State))
	}
	return opts.All || c.State == engine.StateRunning || c.State == engine.StateRestarting || c.State == engine.StatePaused
}

// exitedStatus finds the exit code in the engine's status text.
var exitedStatus = regexp.MustCompile(`^Exited \((-?\d+)\)`)

func summarize(c engine.Container, now time.Time) ContainerSummary {
	s := ContainerSummary{
		ID: c.ID, Name: c.Name, Names: c.Name, Image: c.Image, Command: c.Command,
		Project: c.Labels[labels.Project], Service: c.Labels[labels.Service],
		Created: c.Created.Unix(), CreatedAt: c.Created.Format("2006-01-02 15:04:05 -0700 MST"),
		RunningFor: humanDuration(now.Sub(c.Created)) + " ago",
		State:      string(c.State), Status: c.Status, Health: string(c.Health),
	}
	// The list call's status text carries the exit code; reading it there
	// keeps ps to a single engine call.
	if m := exitedStatus.FindStringSubmatch(c.Status); m != nil {
		s.ExitCode, _ = strconv.Atoi(m[1])
	}
	var ports []string
	for _, p := range c.Ports {
		s.Publishers = append(s.Publishers, Publisher{URL: p.IP, TargetPort: p.PrivatePort, PublishedPort: p.PublicPort, Protocol: p.Protocol})
		if p.PublicPort != 0 {
			ports = append(ports, fmt.Sprintf("%s:%d->%d/%s", p.IP, p.PublicPort, p.PrivatePort, p.Protocol))
		} else {
			ports = append(ports, fmt.Sprintf("%d/%s", p.PrivatePort, p.Protocol))
		}
	}
	sort.Strings(ports)
	s.Ports = strings.Join(ports, ", ")
	return s
}

func humanDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d seconds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d minutes", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}

// ProjectSummary is one project as ls shows it.
type ProjectSummary struct {
	Name string `json:"Name"`
	// Status counts containers by state: "running(2), exited(1)".
	Status      string `json:"Status"`
	ConfigFiles string `json:"ConfigFiles"`
}

// ProjectsOptions select the projects ls lists.
type ProjectsOptions struct {
	// All includes projects with no running container.
	All bool
	// Names keeps only projects with one of these names (ls --filter
	// name=...); empty keeps all.
	Names []string
}

// Projects lists the projects that have containers, from their labels.
func (o *Orchestrator) Projects(ctx context.Context, opts ProjectsOptions) ([]ProjectSummary, error) {
	cs, err := o.eng.ListContainers(ctx, engine.Filter{Labels: map[string]string{labels.Project: ""}})
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	return groupProjects(cs, opts), nil
}

// groupProjects counts each project's containers by state.
func groupProjects(cs []engine.Container, opts ProjectsOptions) []ProjectSummary {
	type project struct {
		states map[string]int
		files  string
	}
	projects := map[string]*project{}
	for _, c := range cs {
		name := c.Labels[labels.Project]
		if len(opts.Names) > 0 && !slices.Contains(opts.Names, name) {
			continue
		}
		p := projects[name]
		if p == nil {
			p = &project{states: map[string]int{}}
			projects[name] = p
		}
		p.states[string(c.State)]++
		if p.files == "" {
			p.files = c.Labels[labels.ConfigFiles]
		}
	}
	out := []ProjectSummary{}
	for _, name := range sortedKeys(projects) {
		p := projects[name]
		if !opts.All && p.states[string(engine.StateRunning)] == 0 {
			continue
		}
		var parts []string
		for _, st := range sortedKeys(p.states) {
			parts = append(parts, fmt.Sprintf("%s(%d)", st, p.states[st]))
		}
		out = append(out, ProjectSummary{Name: name, Status: strings.Join(parts, ", "), ConfigFiles: p.files})
	}
	return out
}

// ContainerProcesses are the processes of one container, as top shows.
type ContainerProcesses struct {
	Container string
	Titles    []string
	Processes [][]string
}

// Processes lists the processes of the target's running containers.
func (o *Orchestrator) Processes(ctx context.Context, t Target) ([]ContainerProcesses, error) {
	cs, err := o.containers(ctx, t, false)
	if err != nil {
		return nil, err
	}
	var out []ContainerProcesses
	for _, c := range cs {
		if c.State != engine.StateRunning {
			continue
		}
		procs, err := o.eng.Top(ctx, c.ID)
		if err != nil {
			return nil, fmt.Errorf("listing processes of %s: %w", c.Name, err)
		}
		out = append(out, ContainerProcesses{Container: c.Name, Titles: procs.Titles, Processes: procs.Processes})
	}
	return out, nil
}

// Port finds the host address where a container publishes a port. The
// target names one service and one replica (Index 0 means the first).
func (o *Orchestrator) Port(ctx context.Context, t Target, port uint16, protocol string) (string, error) {
	if t.Index == 0 {
		t.Index = 1
	}
	cs, err := o.containers(ctx, t, false)
	if err != nil {
		return "", err
	}
	if len(cs) == 0 {
		return "", fmt.Errorf("service %q has no container number %d", strings.Join(t.Services, ","), t.Index)
	}
	for _, p := range cs[0].Ports {
		if p.PrivatePort == port && p.Protocol == protocol && p.PublicPort != 0 {
			return fmt.Sprintf("%s:%d", p.IP, p.PublicPort), nil
		}
	}
	return "", fmt.Errorf("no port %d/%s published for %s", port, protocol, cs[0].Name)
}

// ImageSummary is the image one container runs, as images shows it.
type ImageSummary struct {
	ContainerName string `json:"ContainerName"`
	Repository    string `json:"Repository"`
	Tag           string `json:"Tag"`
	ID            string `json:"ID"`
	Size          int64  `json:"Size"`
}

// Images lists the images of the target's containers. A container whose
// image is gone is left out.
func (o *Orchestrator) Images(ctx context.Context, t Target) ([]ImageSummary, error) {
	cs, err := o.containers(ctx, t, false)
	if err != nil {
		return nil, err
	}
	// One inspect per image, not per container: a project's containers
	// mostly share a few images.
	var images syncMap[string, engine.Image]
	eg, ectx := errgroup.WithContext(ctx)
	seen := map[string]bool{}
	for _, c := range cs {
		if seen[c.ImageID] {
			continue
		}
		seen[c.ImageID] = true
		eg.Go(func() error {
			img, err := o.eng.InspectImage(ectx, c.ImageID)
			if errors.Is(err, engine.ErrNotFound) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("inspecting the image of %s: %w", c.Name, err)
			}
			images.Store(c.ImageID, img)
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	out := []ImageSummary{}
	for _, c := range cs {
		img, ok := images.Load(c.ImageID)
		if !ok {
			continue // gone since the container was made
		}
		repo, tag := c.Image, "latest"
		if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
			repo, tag = repo[:i], repo[i+1:]
		}
		out = append(out, ImageSummary{ContainerName: c.Name, Repository: repo, Tag: tag, ID: img.ID, Size: img.Size})
	}
	return out, nil
}
