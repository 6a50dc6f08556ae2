package fake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/composer-orchestrator/composer/engine"
)

type network struct {
	id, name   string
	spec       engine.NetworkSpec
	created    time.Time
	predefined bool
	subnet     int
	nextHost   int
}

func (n *network) summary() engine.Network {
	return engine.Network{
		ID:       n.id,
		Name:     n.name,
		Driver:   n.spec.Driver,
		Labels:   copyLabels(n.spec.Labels),
		Internal: n.spec.Internal,
		Created:  n.created,
	}
}

// addNetwork creates a network; predefined ones publish no event. The
// caller holds e.mu.
func (e *Engine) addNetwork(spec engine.NetworkSpec, predefined bool) *network {
	if spec.Driver == "" {
		spec.Driver = "bridge"
	}
	spec.Labels = copyLabels(spec.Labels)
	e.nextSubnet++
	n := &network{id: randomID(), name: spec.Name, spec: spec, created: time.Now(), predefined: predefined, subnet: e.nextSubnet}
	e.networks[n.id] = n
	if !predefined {
		e.publish("network", "create", n.id, n.eventAttrs())
	}
	return n
}

func (n *network) eventAttrs() map[string]string {
	a := copyLabels(n.spec.Labels)
	a["name"] = n.name
	a["type"] = n.spec.Driver
	return a
}

// lookupNetwork finds a network by exact name or id. The caller holds e.mu.
func (e *Engine) lookupNetwork(nameOrID string) (*network, error) {
	if n, ok := e.networks[nameOrID]; ok {
		return n, nil
	}
	for _, n := range e.networks {
		if n.name == nameOrID {
			return n, nil
		}
	}
	return nil, notFound("network", nameOrID)
}

// assignIPs gives c an address on each of its networks that lacks one.
// The caller holds e.mu.
func (e *Engine) assignIPs(c *container) {
	for netID, ep := range c.endpoints {
		n, ok := e.networks[netID]
		if !ok || ep.ip != "" || n.spec.Driver == "host" || n.spec.Driver == "null" {
			continue
		}
		n.nextHost++
		h := n.nextHost + 1 // .1 is the gateway
		ep.ip = fmt.Sprintf("10.%d.%d.%d", n.subnet%256, h/256%256, h%256)
	}
}

// CreateNetwork implements engine.Networks. A taken name is ErrConflict.
func (e *Engine) CreateNetwork(ctx context.Context, spec engine.NetworkSpec) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.enter(ctx, "CreateNetwork", spec.Name); err != nil {
		return "", err
	}
	if spec.Name == "" {
		return "", errors.New("network name is empty")
	}
	var id string
	err := e.apply(ctx, "CreateNetwork", func() error {
		if _, err := e.lookupNetwork(spec.Name); err == nil {
			return conflict("network with name %s already exists", spec.Name)
		}
		id = e.addNetwork(spec, false).id
		return nil
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

// InspectNetwork implements engine.Networks.
func (e *Engine) InspectNetwork(ctx context.Context, name string) (engine.Network, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.enter(ctx, "InspectNetwork", name); err != nil {
		return engine.Network{}, err
	}
	n, err := e.lookupNetwork(name)
	if err != nil {
		return engine.Network{}, err
	}
	return n.summary(), nil
}

// ListNetworks implements engine.Networks, sorted by name.
func (e *Engine) ListNetworks(ctx context.Context, filter engine.Filter) ([]engine.Network, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.enter(ctx, "ListNetworks"); err != nil {
		return nil, err
	}
	out := []engine.Network{}
	for _, n := range e.networks {
		if filter.Matches(n.spec.Labels) && strings.Contains(n.name, filter.Name) {
			out = append(out, n.summary())
		}
	}
	slices.SortFunc(out, func(a, b engine.Network) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// RemoveNetwork implements engine.Networks. As in the engine, only running
// (or paused) containers hold endpoints and make the removal a conflict;
// a stopped container keeps referring to the network and fails to start
// later.
func (e *Engine) RemoveNetwork(ctx context.Context, id string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	n, lookupErr := e.lookupNetwork(id)
	names := []string{id}
	if n != nil {
		names = append(names, n.name, n.id)
	}
	if err := e.enter(ctx, "RemoveNetwork", names...); err != nil {
		return err
	}
	if lookupErr != nil {
		return lookupErr
	}
	if n.predefined {
		return fmt.Errorf("%s is a predefined network and cannot be removed", n.name)
	}
	return e.apply(ctx, "RemoveNetwork", func() error {
		if _, ok := e.networks[n.id]; !ok {
			return notFound("network", id) // removed meanwhile
		}
		for _, c := range e.containers {
			if _, ok := c.endpoints[n.id]; ok && c.running() {
				return conflict("network %s has active endpoints (%s)", n.name, c.name)
			}
		}
		delete(e.networks, n.id)
		e.publish("network", "destroy", n.id, n.eventAttrs())
		return nil
	})
}

// addVolume creates a volume, with a random name if spec has none. The
// caller holds e.mu.
func (e *Engine) addVolume(spec engine.VolumeSpec) *engine.Volume {
	if spec.Name == "" {
		spec.Name = randomID()
	}
	if spec.Driver == "" {
		spec.Driver = "local"
	}
	v := &engine.Volume{
		Name:       spec.Name,
		Driver:     spec.Driver,
		Labels:     copyLabels(spec.Labels),
		Mountpoint: "/var/lib/docker/volumes/" + spec.Name + "/_data",
		CreatedAt:  time.Now(),
	}
	e.volumes[v.Name] = v
	e.publish("volume", "create", v.Name, volumeAttrs(v))
	return v
}

func (e *Engine) deleteVolume(v *engine.Volume) {
	delete(e.volumes, v.Name)
	e.publish("volume", "destroy", v.Name, volumeAttrs(v))
}

func volumeAttrs(v *engine.Volume) map[string]string {
	a := copyLabels(v.Labels)
	a["name"] = v.Name
	a["driver"] = v.Driver
	return a
}

func copyVolume(v *engine.Volume) engine.Volume {
	c := *v
	c.Labels = copyLabels(v.Labels)
	return c
}

// volumeInUse reports whether any container, running or not, mounts the
// volume. The caller holds e.mu.
func (e *Engine) volumeInUse(name string) bool {
	for _, c := range e.containers {
		for _, m := range c.mounts {
			if m.Type == string(engine.MountVolume) && m.Name == name {
				return true
			}
		}
	}
	return false
}

// CreateVolume implements engine.Volumes. As in the engine, creating a
// volume that exists returns it unchanged.
func (e *Engine) CreateVolume(ctx context.Context, spec engine.VolumeSpec) (engine.Volume, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.enter(ctx, "CreateVolume", spec.Name); err != nil {
		return engine.Volume{}, err
	}
	var v engine.Volume
	err := e.apply(ctx, "CreateVolume", func() error {
		if old, ok := e.volumes[spec.Name]; ok {
			if spec.Driver != "" && spec.Driver != old.Driver {
				return conflict("volume %s exists with driver %s", old.Name, old.Driver)
			}
			v = copyVolume(old)
			return nil
		}
		v = copyVolume(e.addVolume(spec))
		return nil
	})
	if err != nil {
		return engine.Volume{}, err
	}
	return v, nil
}

// InspectVolume implements engine.Volumes.
func (e *Engine) InspectVolume(ctx context.Context, name string) (engine.Volume, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.enter(ctx, "InspectVolume", name); err != nil {
		return engine.Volume{}, err
	}
	v, ok := e.volumes[name]
	if !ok {
		return engine.Volume{}, notFound("volume", name)
	}
	return copyVolume(v), nil
}

// ListVolumes implements engine.Volumes, sorted by name.
func (e *Engine) ListVolumes(ctx context.Context, filter engine.Filter) ([]engine.Volume, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.enter(ctx, "ListVolumes"); err != nil {
		return nil, err
	}
	out := []engine.Volume{}
	for _, v := range e.volumes {
		if filter.Matches(v.Labels) && strings.Contains(v.Name, filter.Name) {
			out = append(out, copyVolume(v))
		}
	}
	slices.SortFunc(out, func(a, b engine.Volume) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// RemoveVolume implements engine.Volumes. A volume any container mounts is
// a conflict even with force; force only makes a missing volume no error,
// as in the engine.
func (e *Engine) RemoveVolume(ctx context.Context, name string, force bool) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.enter(ctx, "RemoveVolume", name); err != nil {
		return err
	}
	return e.apply(ctx, "RemoveVolume", func() error {
		v, ok := e.volumes[name]
		if !ok {
			if force {
				return nil
			}
			return notFound("volume", name)
		}
		if e.volumeInUse(name) {
			return conflict("volume %s is in use", name)
		}
		e.deleteVolume(v)
		return nil
	})
}

// normalizeRef turns an image reference into the form images are tagged
// with: the default registry prefix dropped and ":latest" added when no
// tag or digest is given.
func normalizeRef(ref string) string {
	ref = strings.TrimPrefix(ref, "docker.io/")
	ref = strings.TrimPrefix(ref, "library/")
	if strings.Contains(ref, "@") {
		return ref
	}
	if i := strings.LastIndexByte(ref, '/'); !strings.Contains(ref[i+1:], ":") {
		ref += ":latest"
	}
	return ref
}

// AddImage makes an image with the reference ref exist, as if pulled, and
// returns its id. Adding a reference that exists does nothing. The image
// has no defaults: a container made from it runs what its spec says.
func (e *Engine) AddImage(ref string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.tagImage(nil, ref).ID
}

// AddImageWithConfig is AddImage for an image with defaults: containers
// created from it later get cfg's Env, Cmd, Entrypoint, WorkingDir, User,
// StopSignal, Labels, ExposedPorts, Volumes (as anonymous volumes) and
// Healthcheck where their spec leaves them empty, by the engine's rules,
// and InspectImage reports cfg, and cfg.Labels as the image's labels. An
// existing ref gets cfg as its defaults instead of the ones it had.
func (e *Engine) AddImageWithConfig(ref string, cfg engine.ImageConfig) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	img := e.tagImage(nil, ref)
	img.Config = cloneImageConfig(cfg)
	img.Labels = copyLabels(cfg.Labels)
	return img.ID
}

// tagImage points ref at img (a new image if nil), moving the tag off any
// other image as the engine does; an image left without tags stays,
// dangling. It returns the image ref now names. The caller holds e.mu.
func (e *Engine) tagImage(img *engine.Image, ref string) *engine.Image {
	ref = normalizeRef(ref)
	for _, o := range e.images {
		if slices.Contains(o.RepoTags, ref) {
			if img == nil || o == img {
				return o
			}
			o.RepoTags = slices.DeleteFunc(o.RepoTags, func(t string) bool { return t == ref })
		}
	}
	if img == nil {
		img = &engine.Image{ID: "sha256:" + randomID(), Labels: map[string]string{}, Size: 1 << 20, Created: time.Now()}
		e.images[img.ID] = img
	}
	img.RepoTags = append(img.RepoTags, ref)
	e.publish("image", "tag", img.ID, map[string]string{"name": ref})
	return img
}

// lookupImage finds an image by reference or id. The caller holds e.mu.
func (e *Engine) lookupImage(ref string) (*engine.Image, error) {
	if img, ok := e.images[ref]; ok {
		return img, nil
	}
	if img, ok := e.images["sha256:"+ref]; ok {
		return img, nil
	}
	norm := normalizeRef(ref)
	for _, img := range e.images {
		if slices.Contains(img.RepoTags, norm) {
			return img, nil
		}
	}
	return nil, notFound("image", ref)
}

func copyImage(img *engine.Image) engine.Image {
	c := *img
	c.RepoTags = slices.Clone(img.RepoTags)
	c.Labels = copyLabels(img.Labels)
	c.Config = cloneImageConfig(img.Config)
	return c
}

// InspectImage implements engine.Images.
func (e *Engine) InspectImage(ctx context.Context, ref string) (engine.Image, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.enter(ctx, "InspectImage", ref); err != nil {
		return engine.Image{}, err
	}
	img, err := e.lookupImage(ref)
	if err != nil {
		return engine.Image{}, err
	}
	return copyImage(img), nil
}

// PullImage implements engine.Images: unless a fault is injected for it,
// ref exists afterwards.
func (e *Engine) PullImage(ctx context.Context, ref string, platform string, progress func(engine.ProgressLine)) error {
	e.mu.Lock()
	if err := e.enter(ctx, "PullImage", ref, normalizeRef(ref)); err != nil {
		e.mu.Unlock()
		return err
	}
	img := e.tagImage(nil, ref)
	e.publish("image", "pull", img.ID, map[string]string{"name": normalizeRef(ref)})
	e.mu.Unlock()

	// progress is the caller's code; it runs without e.mu so it may call
	// back into the engine.
	if progress != nil {
		_, tag, _ := strings.Cut(normalizeRef(ref), ":")
		progress(engine.ProgressLine{ID: tag, Status: "Pulling from " + ref})
		progress(engine.ProgressLine{ID: img.ID[7:19], Status: "Pull complete"})
		progress(engine.ProgressLine{Status: "Status: Downloaded newer image for " + ref})
	}
	return nil
}

// BuildImage implements engine.Images: it reads the context to its end and
// makes a new image carrying every tag of spec and its labels. Faults
// match the tags. When the context is a tar holding the Dockerfile, the
// image gets the defaults the Dockerfile gives it (see parseDockerfile;
// file system instructions are not run) and a Dockerfile the fake cannot
// read fails the build; any other context builds an image without
// defaults.
func (e *Engine) BuildImage(ctx context.Context, buildContext io.Reader, spec engine.BuildSpec, progress func(engine.ProgressLine)) (string, error) {
	e.mu.Lock()
	err := e.enter(ctx, "BuildImage", spec.Tags...)
	e.mu.Unlock()
	if err != nil {
		return "", err
	}
	var data []byte
	if buildContext != nil {
		if data, err = io.ReadAll(buildContext); err != nil {
			return "", fmt.Errorf("reading the build context: %w", err)
		}
	}
	dockerfile, haveDockerfile := dockerfileFromContext(data, spec.Dockerfile)

	e.mu.Lock()
	var cfg engine.ImageConfig
	if haveDockerfile {
		cfg, err = parseDockerfile(dockerfile, spec.Args, spec.Target, func(ref string) (engine.ImageConfig, bool) {
			base, err := e.lookupImage(ref)
			if err != nil {
				return engine.ImageConfig{}, false
			}
			return base.Config, true
		})
		if err != nil {
			e.mu.Unlock()
			return "", err
		}
	}
	for k, v := range spec.Labels {
		if cfg.Labels == nil {
			cfg.Labels = map[string]string{}
		}
		cfg.Labels[k] = v
	}
	img := &engine.Image{ID: "sha256:" + randomID(), Labels: copyLabels(cfg.Labels), Size: 1 << 20, Created: time.Now(), Config: cfg}
	e.images[img.ID] = img
	for _, t := range spec.Tags {
		e.tagImage(img, t)
	}
	e.mu.Unlock()

	if progress != nil {
		progress(engine.ProgressLine{Stream: "Step 1/1 : FROM scratch\n"})
		progress(engine.ProgressLine{Stream: "Successfully built " + img.ID[7:19] + "\n"})
	}
	return img.ID, nil
}

// RemoveImage implements engine.Images. Removing a tag of an image with
// several tags only untags it; an image used by a container is a conflict
// unless force.
func (e *Engine) RemoveImage(ctx context.Context, ref string, force bool) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.enter(ctx, "RemoveImage", ref); err != nil {
		return err
	}
	img, err := e.lookupImage(ref)
	if err != nil {
		return err
	}
	norm := normalizeRef(ref)
	if len(img.RepoTags) > 1 && slices.Contains(img.RepoTags, norm) {
		img.RepoTags = slices.DeleteFunc(img.RepoTags, func(t string) bool { return t == norm })
		e.publish("image", "untag", img.ID, map[string]string{"name": norm})
		return nil
	}
	if !force {
		for _, c := range e.containers {
			if c.imageID == img.ID {
				return conflict("image %s is used by container %s", ref, c.name)
			}
		}
	}
	delete(e.images, img.ID)
	e.publish("image", "delete", img.ID, map[string]string{"name": norm})
	return nil
}
