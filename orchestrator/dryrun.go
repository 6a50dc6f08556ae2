package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/composer-orchestrator/composer/engine"
)

// ErrDryRun is returned by a dry run for what it cannot pretend: an exec
// or an attach runs a process, which is a change in itself.
var ErrDryRun = errors.New("not possible in a dry run")

// WithDryRun makes every operation a dry run: the engine is read (lists,
// inspects, events) but sent no request that changes anything. Each
// change is played on an overlay of the engine's state instead, so that
// the operation runs its usual course, in its usual order, reporting its
// usual progress, and what it reads back afterwards (a re-observe, the
// containers a later step acts on) reflects what it would have done.
// Waiting for a dependency's condition does not wait: nothing runs.
func WithDryRun() Option {
	return func(o *options) { o.dryRun = true }
}

// dryRunEngine is the engine of a dry run: reads go to the real engine
// and come back with the run's pretended changes applied on top; changes
// go nowhere but the overlay.
//
// It implements every method of engine.Engine itself rather than embedding
// the real engine, so that a method added to the interface later cannot
// reach the engine unnoticed: it does not compile until it is decided
// here.
type dryRunEngine struct {
	real engine.Engine
	// mu guards everything below: the operation calls the engine from
	// many goroutines, and one pretended change often reads and writes
	// several of these maps (a rename checks the names, a remove drops a
	// container and its state).
	mu  sync.Mutex
	seq int
	// made are the containers the run created, by pretended id.
	made map[string]*engine.ContainerDetails
	// state, names and gone overlay real containers, by id.
	state map[string]engine.ContainerState
	names map[string]string
	gone  map[string]bool
	// Networks and volumes the run created, by name; removed ones by id
	// or name.
	nets     map[string]engine.Network
	goneNets map[string]bool
	vols     map[string]engine.Volume
	goneVols map[string]bool
	// Images pulled or built, by reference; removed ones by reference.
	images     map[string]engine.Image
	goneImages map[string]bool
}

func newDryRunEngine(real engine.Engine) *dryRunEngine {
	return &dryRunEngine{
		real: real, made: map[string]*engine.ContainerDetails{},
		state: map[string]engine.ContainerState{}, names: map[string]string{}, gone: map[string]bool{},
		nets: map[string]engine.Network{}, goneNets: map[string]bool{},
		vols: map[string]engine.Volume{}, goneVols: map[string]bool{},
		images: map[string]engine.Image{}, goneImages: map[string]bool{},
	}
}

// newID makes an id for a pretended resource: 64 characters like the
// engine's, so that everything that shortens ids works, and plainly not
// a real one.
func (d *dryRunEngine) newID(kind string) string {
	d.seq++
	id := fmt.Sprintf("dryrun%s%d", kind, d.seq)
	return id + strings.Repeat("0", 64-len(id))
}

// overlay applies the run's changes to a real container; false when the
// run removed it.
func (d *dryRunEngine) overlay(c *engine.Container) bool {
	if d.gone[c.ID] {
		return false
	}
	if s, ok := d.state[c.ID]; ok {
		c.State, c.Status = s, "dry run: "+string(s)
		if s != engine.StateRunning {
			c.Health = engine.HealthNone
		}
	}
	if n, ok := d.names[c.ID]; ok {
		c.Name = n
	}
	return true
}

func (d *dryRunEngine) ListContainers(ctx context.Context, filter engine.Filter) ([]engine.Container, error) {
	cs, err := d.real.ListContainers(ctx, filter)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []engine.Container
	for _, c := range cs {
		if d.overlay(&c) {
			out = append(out, c)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(d.made)) {
		c := d.made[id].Container
		if matches(filter, c.Labels, c.Name) {
			out = append(out, c)
		}
	}
	return out, nil
}

// matches applies a list filter to a pretended resource, as the engine
// would to a real one.
func matches(f engine.Filter, labels map[string]string, name string) bool {
	return f.Matches(labels) && (f.Name == "" || strings.Contains(name, f.Name))
}

// find returns the pretended container of an id or name.
func (d *dryRunEngine) find(idOrName string) *engine.ContainerDetails {
	if c, ok := d.made[idOrName]; ok {
		return c
	}
	for _, c := range d.made {
		if c.Name == idOrName {
			return c
		}
	}
	return nil
}

func (d *dryRunEngine) InspectContainer(ctx context.Context, id string) (engine.ContainerDetails, error) {
	d.mu.Lock()
	if c := d.find(id); c != nil {
		defer d.mu.Unlock()
		return *c, nil
	}
	d.mu.Unlock()
	c, err := d.real.InspectContainer(ctx, id)
	if err != nil {
		return c, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.overlay(&c.Container) {
		return engine.ContainerDetails{}, fmt.Errorf("container %s: %w", id, engine.ErrNotFound)
	}
	return c, nil
}

// nameTaken reports whether a container holds name, after the run's
// changes. A real container's name is looked up by inspecting it.
func (d *dryRunEngine) nameTaken(ctx context.Context, name string) bool {
	d.mu.Lock()
	if d.find(name) != nil {
		d.mu.Unlock()
		return true
	}
	for id, n := range d.names {
		if n == name && !d.gone[id] {
			d.mu.Unlock()
			return true
		}
	}
	d.mu.Unlock()
	c, err := d.real.InspectContainer(ctx, name)
	if err != nil {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	_, renamed := d.names[c.ID]
	return !d.gone[c.ID] && !renamed
}

func (d *dryRunEngine) CreateContainer(ctx context.Context, spec engine.ContainerSpec) (string, error) {
	if spec.Name != "" && d.nameTaken(ctx, spec.Name) {
		return "", fmt.Errorf("container name %q is already in use: %w", spec.Name, engine.ErrConflict)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	id := d.newID("c")
	name := spec.Name
	if name == "" {
		name = "dryrun-" + id[:12]
	}
	c := &engine.ContainerDetails{
		Container: engine.Container{ID: id, Name: name, Image: spec.Image, Labels: spec.Labels, State: engine.StateCreated, Status: "dry run: created", Created: time.Now()},
		Config:    spec,
	}
	for _, n := range spec.Networks {
		c.Networks = append(c.Networks, n.Network)
	}
	d.made[id] = c
	return id, nil
}

// change applies a state change to a container, pretended or real, if it
// exists.
func (d *dryRunEngine) change(ctx context.Context, id string, fn func(engine.ContainerState) (engine.ContainerState, error)) error {
	d.mu.Lock()
	if c := d.find(id); c != nil {
		defer d.mu.Unlock()
		s, err := fn(c.State)
		if err != nil {
			return err
		}
		c.State, c.Status = s, "dry run: "+string(s)
		if s == engine.StateRunning && c.Config.Healthcheck != nil && !isNone(c.Config.Healthcheck.Test) {
			c.Health = engine.HealthHealthy
		}
		return nil
	}
	d.mu.Unlock()
	real, err := d.real.InspectContainer(ctx, id)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.overlay(&real.Container) {
		return fmt.Errorf("container %s: %w", id, engine.ErrNotFound)
	}
	s, err := fn(real.State)
	if err != nil {
		return err
	}
	d.state[real.ID] = s
	return nil
}

func isNone(test []string) bool { return len(test) > 0 && test[0] == "NONE" }

func to(s engine.ContainerState) func(engine.ContainerState) (engine.ContainerState, error) {
	return func(engine.ContainerState) (engine.ContainerState, error) { return s, nil }
}

func (d *dryRunEngine) StartContainer(ctx context.Context, id string) error {
	return d.change(ctx, id, to(engine.StateRunning))
}

func (d *dryRunEngine) StopContainer(ctx context.Context, id string, _ *time.Duration) error {
	return d.change(ctx, id, func(s engine.ContainerState) (engine.ContainerState, error) {
		if s == engine.StateCreated {
			return s, nil
		}
		return engine.StateExited, nil
	})
}

func (d *dryRunEngine) KillContainer(ctx context.Context, id string, _ string) error {
	return d.change(ctx, id, func(s engine.ContainerState) (engine.ContainerState, error) {
		if !isUp(s) {
			return s, fmt.Errorf("container %s is not running: %w", id, engine.ErrConflict)
		}
		return engine.StateExited, nil
	})
}

func (d *dryRunEngine) PauseContainer(ctx context.Context, id string) error {
	return d.change(ctx, id, to(engine.StatePaused))
}

func (d *dryRunEngine) UnpauseContainer(ctx context.Context, id string) error {
	return d.change(ctx, id, to(engine.StateRunning))
}

func (d *dryRunEngine) RemoveContainer(ctx context.Context, id string, opts engine.RemoveOptions) error {
	err := d.change(ctx, id, func(s engine.ContainerState) (engine.ContainerState, error) {
		if isUp(s) && !opts.Force {
			return s, fmt.Errorf("container %s is running: stop it before removing it: %w", id, engine.ErrConflict)
		}
		return s, nil
	})
	if err != nil {
		return err
	}
	return d.onContainer(ctx, id,
		func(c *engine.ContainerDetails) { delete(d.made, c.ID) },
		func(realID string) { d.gone[realID] = true })
}

// onContainer applies a pretended change under the lock: made to a
// container the run created, real (given its id) to one of the engine's.
// The engine is asked outside the lock, so that other pretended changes do
// not wait for its answer.
func (d *dryRunEngine) onContainer(ctx context.Context, id string, made func(*engine.ContainerDetails), real func(realID string)) error {
	d.mu.Lock()
	if c := d.find(id); c != nil {
		made(c)
		d.mu.Unlock()
		return nil
	}
	d.mu.Unlock()
	c, err := d.real.InspectContainer(ctx, id)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	real(c.ID)
	return nil
}

func (d *dryRunEngine) RenameContainer(ctx context.Context, id, newName string) error {
	if d.nameTaken(ctx, newName) {
		return fmt.Errorf("container name %q is already in use: %w", newName, engine.ErrConflict)
	}
	return d.onContainer(ctx, id,
		func(c *engine.ContainerDetails) { c.Name = newName },
		func(realID string) { d.names[realID] = newName })
}

func (d *dryRunEngine) ContainerLogs(ctx context.Context, id string, opts engine.LogOptions, stdout, stderr io.Writer) error {
	d.mu.Lock()
	made := d.find(id) != nil
	d.mu.Unlock()
	if made {
		return nil // a pretended container has written nothing
	}
	return d.real.ContainerLogs(ctx, id, opts, stdout, stderr)
}

func (d *dryRunEngine) ListNetworks(ctx context.Context, filter engine.Filter) ([]engine.Network, error) {
	ns, err := d.real.ListNetworks(ctx, filter)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []engine.Network
	for _, n := range ns {
		if !d.goneNets[n.ID] && !d.goneNets[n.Name] {
			out = append(out, n)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(d.nets)) {
		if n := d.nets[name]; matches(filter, n.Labels, n.Name) {
			out = append(out, n)
		}
	}
	return out, nil
}

func (d *dryRunEngine) InspectNetwork(ctx context.Context, name string) (engine.Network, error) {
	d.mu.Lock()
	for _, n := range d.nets {
		if n.Name == name || n.ID == name {
			d.mu.Unlock()
			return n, nil
		}
	}
	d.mu.Unlock()
	n, err := d.real.InspectNetwork(ctx, name)
	if err != nil {
		return n, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.goneNets[n.ID] || d.goneNets[n.Name] {
		return engine.Network{}, fmt.Errorf("network %s: %w", name, engine.ErrNotFound)
	}
	return n, nil
}

func (d *dryRunEngine) CreateNetwork(ctx context.Context, spec engine.NetworkSpec) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	id := d.newID("n")
	d.nets[spec.Name] = engine.Network{ID: id, Name: spec.Name, Driver: spec.Driver, Labels: spec.Labels, Internal: spec.Internal, Created: time.Now()}
	return id, nil
}

func (d *dryRunEngine) RemoveNetwork(ctx context.Context, id string) error {
	n, err := d.InspectNetwork(ctx, id)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.nets[n.Name]; ok && d.nets[n.Name].ID == n.ID {
		delete(d.nets, n.Name)
		return nil
	}
	d.goneNets[n.ID] = true
	return nil
}

func (d *dryRunEngine) ListVolumes(ctx context.Context, filter engine.Filter) ([]engine.Volume, error) {
	vs, err := d.real.ListVolumes(ctx, filter)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []engine.Volume
	for _, v := range vs {
		if !d.goneVols[v.Name] {
			out = append(out, v)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(d.vols)) {
		if v := d.vols[name]; matches(filter, v.Labels, v.Name) {
			out = append(out, v)
		}
	}
	return out, nil
}

func (d *dryRunEngine) InspectVolume(ctx context.Context, name string) (engine.Volume, error) {
	d.mu.Lock()
	if v, ok := d.vols[name]; ok {
		d.mu.Unlock()
		return v, nil
	}
	gone := d.goneVols[name]
	d.mu.Unlock()
	if gone {
		return engine.Volume{}, fmt.Errorf("volume %s: %w", name, engine.ErrNotFound)
	}
	return d.real.InspectVolume(ctx, name)
}

func (d *dryRunEngine) CreateVolume(ctx context.Context, spec engine.VolumeSpec) (engine.Volume, error) {
	if v, err := d.InspectVolume(ctx, spec.Name); err == nil {
		return v, nil // creating a volume that exists changes nothing
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	v := engine.Volume{Name: spec.Name, Driver: spec.Driver, Labels: spec.Labels, CreatedAt: time.Now()}
	d.vols[spec.Name] = v
	return v, nil
}

func (d *dryRunEngine) RemoveVolume(ctx context.Context, name string, _ bool) error {
	if _, err := d.InspectVolume(ctx, name); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.vols, name)
	d.goneVols[name] = true
	return nil
}

func (d *dryRunEngine) InspectImage(ctx context.Context, ref string) (engine.Image, error) {
	d.mu.Lock()
	img, made := d.images[ref]
	gone := d.goneImages[ref]
	d.mu.Unlock()
	switch {
	case made:
		return img, nil
	case gone:
		return engine.Image{}, fmt.Errorf("image %s: %w", ref, engine.ErrNotFound)
	}
	return d.real.InspectImage(ctx, ref)
}

// PullImage pretends the pull: a dry run cannot ask the registry what it
// holds without pulling, so it assumes the image is there.
func (d *dryRunEngine) PullImage(ctx context.Context, ref, _ string, _ func(engine.ProgressLine)) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.images[ref] = engine.Image{ID: "sha256:" + d.newID("i"), RepoTags: []string{ref}}
	delete(d.goneImages, ref)
	return nil
}

// BuildImage reads the build context to its end, so that whoever writes
// it is not left blocked, and pretends the build.
func (d *dryRunEngine) BuildImage(ctx context.Context, buildContext io.Reader, spec engine.BuildSpec, _ func(engine.ProgressLine)) (string, error) {
	if _, err := io.Copy(io.Discard, buildContext); err != nil {
		return "", fmt.Errorf("reading the build context: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	id := "sha256:" + d.newID("i")
	for _, tag := range spec.Tags {
		d.images[tag] = engine.Image{ID: id, RepoTags: spec.Tags, Labels: spec.Labels}
		delete(d.goneImages, tag)
	}
	return id, nil
}

func (d *dryRunEngine) RemoveImage(ctx context.Context, ref string, _ bool) error {
	if _, err := d.InspectImage(ctx, ref); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.images, ref)
	d.goneImages[ref] = true
	return nil
}

// Events are the real engine's: the run's pretended changes make none.
func (d *dryRunEngine) Events(ctx context.Context, filter engine.EventFilter) (<-chan engine.Event, <-chan error) {
	return d.real.Events(ctx, filter)
}

func (d *dryRunEngine) Exec(context.Context, string, engine.ExecSpec, engine.Streams) (int, error) {
	return 0, fmt.Errorf("exec: %w", ErrDryRun)
}

func (d *dryRunEngine) Attach(context.Context, string, engine.Streams, bool) (func() error, error) {
	return nil, fmt.Errorf("attach: %w", ErrDryRun)
}

func (d *dryRunEngine) Top(ctx context.Context, id string) (engine.Processes, error) {
	return d.real.Top(ctx, id)
}

func (d *dryRunEngine) ResizeTTY(context.Context, string, uint, uint, bool) error { return nil }
