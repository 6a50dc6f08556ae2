package fake

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/composer-orchestrator/composer/engine"
)

type container struct {
	id, name string
	spec     engine.ContainerSpec
	// config is the configuration the engine recorded at create: spec with
	// the image's and the engine's defaults, its mounts (anonymous volumes
	// named) and its networks. InspectContainer reports it, under the
	// container's current name.
	config  engine.ContainerSpec
	imageID string
	seq     int

	state                      engine.ContainerState
	exitCode                   int
	health                     engine.Health
	healthLog                  []string
	created, started, finished time.Time
	pid                        int
	removed                    bool

	mounts []engine.MountPoint
	// anonymous names the volumes created for this container's anonymous
	// mounts; only those go with RemoveOptions.RemoveVolumes, as in the
	// engine, where a volume mounted by name is never removed with it.
	anonymous []string
	endpoints map[string]*endpoint // by network id
	ports     []engine.PortSummary

	behaviour Behaviour // chosen at the latest start
	// run counts starts; a timer set for one run does nothing in a later one.
	run int
	log []logLine
	// changed is closed and replaced on every state change, waking the
	// goroutines of Attach and followed logs that wait for one.
	changed chan struct{}
}

type endpoint struct {
	spec engine.EndpointSpec
	name string // the network's name when the container joined it
	ip   string
}

type logLine struct {
	stderr bool
	text   string
	time   time.Time
}

func (c *container) notify() {
	close(c.changed)
	c.changed = make(chan struct{})
}

func (c *container) running() bool {
	return c.state == engine.StateRunning || c.state == engine.StatePaused
}

func (c *container) hasHealthcheck() bool {
	h := c.config.Healthcheck
	return h != nil && len(h.Test) > 0 && h.Test[0] != "NONE"
}

// lookupContainer finds a container the way the engine does: by full id,
// by name (with or without the leading slash), or by a unique id prefix.
// The caller holds e.mu.
func (e *Engine) lookupContainer(idOrName string) (*container, error) {
	if c, ok := e.containers[idOrName]; ok {
		return c, nil
	}
	name := strings.TrimPrefix(idOrName, "/")
	var byPrefix []*container
	for _, c := range e.containers {
		if c.name == name {
			return c, nil
		}
		if idOrName != "" && strings.HasPrefix(c.id, idOrName) {
			byPrefix = append(byPrefix, c)
		}
	}
	if len(byPrefix) == 1 {
		return byPrefix[0], nil
	}
	return nil, notFound("container", idOrName)
}

// enterContainer records a call of op on a container and finds it. Faults
// match the argument as given and the container's name and id.
func (e *Engine) enterContainer(ctx context.Context, op, idOrName string) (*container, error) {
	c, lookupErr := e.lookupContainer(idOrName)
	names := []string{idOrName}
	if c != nil {
		names = append(names, c.name, c.id)
	}
	if err := e.enter(ctx, op, names...); err != nil {
		return nil, err
	}
	return c, lookupErr
}

var validName = regexp.MustCompile(`^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

// CreateContainer implements engine.Containers. As in the engine, a
// missing image or network is ErrNotFound, a taken name ErrConflict, a
// named volume that does not exist yet is created, and an anonymous volume
// mount, like each VOLUME of the image left unmounted, gets a new volume
// with a random name. The container's configuration is recorded as the
// engine records it (see containerConfig and addMounts).
func (e *Engine) CreateContainer(ctx context.Context, spec engine.ContainerSpec) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.enter(ctx, "CreateContainer", spec.Name); err != nil {
		return "", err
	}
	name := strings.TrimPrefix(spec.Name, "/")
	if name == "" {
		name = "fake_" + randomID()[:12]
	} else if !validName.MatchString(name) {
		return "", fmt.Errorf("invalid container name %q", spec.Name)
	}
	if owner, taken := e.nameOwner(name); taken {
		return "", conflict("container name %q is already in use by %s", name, owner)
	}
	// The engine reserves the name first, so a create that is still under
	// way already makes another create with that name a conflict.
	id := randomID()
	e.reserved[name] = id
	err := e.apply(ctx, "CreateContainer", func() error {
		delete(e.reserved, name)
		return e.addContainer(id, name, spec)
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

// nameOwner returns the id of the container that has or is being created
// with name. The caller holds e.mu.
func (e *Engine) nameOwner(name string) (string, bool) {
	if id, ok := e.reserved[name]; ok {
		return id, true
	}
	for _, c := range e.containers {
		if c.name == name {
			return c.id, true
		}
	}
	return "", false
}

// addContainer creates the container a create call asked for. The caller
// holds e.mu.
func (e *Engine) addContainer(id, name string, spec engine.ContainerSpec) error {
	img, err := e.lookupImage(spec.Image)
	if err != nil {
		return err
	}
	// Resolve every network before changing anything, so a failed create
	// leaves no trace.
	eps, err := e.initialEndpoints(spec)
	if err != nil {
		return err
	}

	spec.Name = name
	spec.Labels = copyLabels(spec.Labels)
	e.seq++
	c := &container{
		id:        id,
		name:      name,
		spec:      spec,
		config:    e.containerConfig(id, spec, img),
		imageID:   img.ID,
		seq:       e.seq,
		state:     engine.StateCreated,
		created:   time.Now(),
		endpoints: map[string]*endpoint{},
		changed:   make(chan struct{}),
	}
	for _, ep := range eps {
		c.endpoints[ep.netID] = &endpoint{spec: ep.spec, name: ep.name}
		c.config.Networks = append(c.config.Networks, endpointConfig(ep))
	}
	c.config.Networks = orderEndpoints(c.config.Networks, c.config.NetworkMode)
	e.addMounts(c, img)
	for _, p := range spec.Ports {
		c.ports = append(c.ports, e.portSummary(p))
	}
	e.containers[c.id] = c
	e.containerEvent(c, "create")
	return nil
}

// addMounts gives c its mounts the way the engine does: those of the
// containers of spec.VolumesFrom ("name[:ro|:rw]"; a missing one is
// skipped), then the spec's own, which replace any on the same target, then
// a new anonymous volume for each of the image's VOLUMEs left unmounted.
// A named volume that does not exist is created; an anonymous one gets a
// random name. The caller holds e.mu.
func (e *Engine) addMounts(c *container, img *engine.Image) {
	byTarget := map[string]engine.Mount{}
	for _, from := range c.spec.VolumesFrom {
		ref, mode, _ := strings.Cut(from, ":")
		src, err := e.lookupContainer(ref)
		if err != nil {
			continue
		}
		for _, m := range src.config.Mounts {
			// What the mount is, not how the source's create asked for
			// it: those options are not this container's request.
			byTarget[m.Target] = engine.Mount{Type: m.Type, Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly || mode == "ro", Propagation: m.Propagation}
		}
	}
	for _, m := range c.spec.Mounts {
		m.VolumeLabels = maps.Clone(m.VolumeLabels)
		switch m.Type {
		case engine.MountVolume:
			v, ok := e.volumes[m.Source]
			if !ok {
				v = e.addVolume(engine.VolumeSpec{Name: m.Source, Labels: m.VolumeLabels})
				if m.Source == "" {
					c.anonymous = append(c.anonymous, v.Name)
				}
			}
			m.Source = v.Name
		case engine.MountBind:
			if m.Propagation == "" {
				m.Propagation = defaultPropagation
			}
		case engine.MountTmpfs:
			m.Source = ""
		}
		byTarget[m.Target] = m
	}
	if img != nil {
		for _, target := range img.Config.Volumes {
			if _, ok := byTarget[target]; ok {
				continue
			}
			v := e.addVolume(engine.VolumeSpec{})
			c.anonymous = append(c.anonymous, v.Name)
			byTarget[target] = engine.Mount{Type: engine.MountVolume, Source: v.Name, Target: target}
		}
	}
	c.config.Mounts = slices.SortedFunc(maps.Values(byTarget), func(a, b engine.Mount) int { return strings.Compare(a.Target, b.Target) })
	for _, m := range c.config.Mounts {
		mp := engine.MountPoint{Type: string(m.Type), Source: m.Source, Destination: m.Target, ReadOnly: m.ReadOnly}
		if m.Type == engine.MountVolume {
			mp.Name = m.Source
			if v, ok := e.volumes[m.Source]; ok {
				mp.Source = v.Mountpoint
			}
		}
		c.mounts = append(c.mounts, mp)
	}
	c.config = normalizeEmpty(c.config)
}

// endpointConfig is how an endpoint reads back in a container's Config:
// what was asked for, under the network's name, addresses in their
// canonical form and no MAC address (see containerConfig).
func endpointConfig(ep resolvedEndpoint) engine.EndpointSpec {
	s := ep.spec
	s.Network = ep.name
	s.Aliases = slices.Clone(s.Aliases)
	s.Links = slices.Clone(s.Links)
	s.MacAddress = ""
	for _, a := range []*string{&s.IPv4Address, &s.IPv6Address} {
		if ip, err := netip.ParseAddr(*a); err == nil {
			*a = ip.String()
		}
	}
	return s
}

type resolvedEndpoint struct {
	netID string
	name  string
	spec  engine.EndpointSpec
}

// initialEndpoints resolves the networks a new container joins: those of
// spec.Networks, else the one its network mode names, "bridge" by default.
func (e *Engine) initialEndpoints(spec engine.ContainerSpec) ([]resolvedEndpoint, error) {
	eps := spec.Networks
	if len(eps) == 0 {
		switch mode := spec.NetworkMode; {
		case mode == "" || mode == "default":
			eps = []engine.EndpointSpec{{Network: "bridge"}}
		case strings.HasPrefix(mode, "container:"), strings.HasPrefix(mode, "service:"):
			// Shares another container's network stack: no endpoint of its own.
		default:
			eps = []engine.EndpointSpec{{Network: mode}}
		}
	}
	var out []resolvedEndpoint
	for _, ep := range eps {
		n, err := e.lookupNetwork(ep.Network)
		if err != nil {
			return nil, err
		}
		if slices.ContainsFunc(out, func(r resolvedEndpoint) bool { return r.netID == n.id }) {
			continue
		}
		out = append(out, resolvedEndpoint{netID: n.id, name: n.name, spec: ep})
	}
	return out, nil
}

func (e *Engine) portSummary(p engine.PortBinding) engine.PortSummary {
	proto := p.Protocol
	if proto == "" {
		proto = "tcp"
	}
	ip := p.HostIP
	if ip == "" {
		ip = "0.0.0.0"
	}
	host, _, _ := strings.Cut(p.HostPort, "-")
	public, err := strconv.ParseUint(host, 10, 16)
	if err != nil || public == 0 {
		public = uint64(e.nextPort)
		e.nextPort++
	}
	return engine.PortSummary{IP: ip, PrivatePort: p.ContainerPort, PublicPort: uint16(public), Protocol: proto}
}

// StartContainer implements engine.Containers. Starting a running
// container does nothing and starting a paused one or one being removed is
// a conflict, as in the engine; starting an exited one runs it again.
func (e *Engine) StartContainer(ctx context.Context, id string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, err := e.enterContainer(ctx, "StartContainer", id)
	if err != nil {
		return err
	}
	return e.apply(ctx, "StartContainer", func() error {
		switch {
		case c.removed:
			return notFound("container", id)
		case c.state == engine.StateRunning:
			return nil
		case c.state == engine.StatePaused:
			return conflict("container %s is paused, unpause it instead", c.name)
		case c.state == engine.StateRemoving:
			return conflict("container %s is marked for removal and cannot be started", c.name)
		}
		// A network removed since the create makes the start fail, as in
		// the engine, which only allocates endpoints when a container
		// starts.
		for netID := range c.endpoints {
			if _, ok := e.networks[netID]; !ok {
				return notFound("network", netID)
			}
		}
		e.start(c)
		return nil
	})
}

// start runs c with the behaviour scripted for it now. The caller holds e.mu.
func (e *Engine) start(c *container) {
	b := e.behaviourFor(c)
	c.behaviour = b
	c.run++
	c.state = engine.StateRunning
	c.exitCode = 0
	c.started = time.Now()
	c.finished = time.Time{}
	e.nextPid++
	c.pid = e.nextPid
	for _, ep := range c.endpoints {
		ep.ip = "" // addresses are handed out afresh on every start
	}
	e.assignIPs(c)
	for _, l := range splitLines(b.Stdout) {
		c.log = append(c.log, logLine{text: l, time: c.started})
	}
	for _, l := range splitLines(b.Stderr) {
		c.log = append(c.log, logLine{stderr: true, text: l, time: c.started})
	}
	c.health, c.healthLog = engine.HealthNone, nil
	if c.hasHealthcheck() {
		c.health = engine.HealthStarting
	}
	e.containerEvent(c, "start")
	c.notify()

	run := c.run
	if c.hasHealthcheck() && b.Health != engine.HealthStarting {
		target := b.Health
		if target == "" {
			target = engine.HealthHealthy
		}
		e.after(b.HealthAfter, c, run, func() { e.setHealth(c, target) })
	}
	if b.Exit {
		if b.ExitAfter <= 0 {
			e.exit(c, b.ExitCode)
		} else {
			e.after(b.ExitAfter, c, run, func() { e.exit(c, b.ExitCode) })
		}
	}
}

// after runs fn under e.mu after d, if c is then still in the same run
// and running (a paused process neither exits nor is probed).
func (e *Engine) after(d time.Duration, c *container, run int, fn func()) {
	time.AfterFunc(d, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if c.removed || c.run != run || c.state != engine.StateRunning {
			return
		}
		fn()
	})
}

func (e *Engine) setHealth(c *container, h engine.Health) {
	if c.health == h {
		return
	}
	c.health = h
	c.healthLog = append(c.healthLog, string(h))
	e.containerEvent(c, "health_status: "+string(h))
	c.notify()
}

// exit ends c's main process with code and publishes "die". The caller
// holds e.mu.
func (e *Engine) exit(c *container, code int) {
	c.state = engine.StateExited
	c.exitCode = code
	c.finished = time.Now()
	c.pid = 0
	e.containerEvent(c, "die", "exitCode", strconv.Itoa(code))
	c.notify()
}

// StopContainer implements engine.Containers. The fake's processes stop
// when the call's latency (none by default) has passed, so timeout only
// matters to the real engine. Stopping a container that is not running
// does nothing, as in the engine; the events are those the engine
// publishes: kill, die, stop.
func (e *Engine) StopContainer(ctx context.Context, id string, timeout *time.Duration) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, err := e.enterContainer(ctx, "StopContainer", id)
	if err != nil {
		return err
	}
	if !c.running() {
		return nil
	}
	sig := c.config.StopSignal
	if sig == "" {
		sig = "SIGTERM"
	}
	// The engine signals the process as soon as the request arrives and
	// publishes "kill" then; "die" and "stop" follow once the process has
	// ended, so a stop under way shows as a kill with no die yet.
	e.containerEvent(c, "kill", "signal", strconv.Itoa(signalNumber(sig)))
	run := c.run
	return e.apply(ctx, "StopContainer", func() error {
		if c.removed {
			return nil // removed with force meanwhile: nothing is left to stop
		}
		// The process may have ended meanwhile (a kill, its own exit);
		// its die is published then, and the stop completes all the same.
		if c.run == run && c.running() {
			e.exit(c, c.behaviour.StopExitCode)
		}
		e.containerEvent(c, "stop")
		return nil
	})
}

// KillContainer implements engine.Containers. Killing a container that is
// not running is a conflict, as in the engine. SIGKILL (the default) ends
// the process with 137; the stop signal, SIGTERM or SIGINT with the
// behaviour's StopExitCode; any other signal with 128 + its number.
func (e *Engine) KillContainer(ctx context.Context, id string, signal string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, err := e.enterContainer(ctx, "KillContainer", id)
	if err != nil {
		return err
	}
	return e.apply(ctx, "KillContainer", func() error {
		if c.removed {
			return notFound("container", id)
		}
		if !c.running() {
			return conflict("container %s is not running", c.name)
		}
		e.kill(c, signal)
		return nil
	})
}

func (e *Engine) kill(c *container, signal string) {
	n := signalNumber(signal)
	code := 128 + n
	if n == 15 || n == 2 || (c.config.StopSignal != "" && n == signalNumber(c.config.StopSignal)) {
		code = c.behaviour.StopExitCode
	}
	e.containerEvent(c, "kill", "signal", strconv.Itoa(n))
	e.exit(c, code)
}

// signalNumber parses "SIGTERM", "TERM" or "15"; "" is SIGKILL.
func signalNumber(s string) int {
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	switch strings.TrimPrefix(strings.ToUpper(s), "SIG") {
	case "HUP":
		return 1
	case "INT":
		return 2
	case "QUIT":
		return 3
	case "USR1":
		return 10
	case "USR2":
		return 12
	case "TERM":
		return 15
	default:
		return 9
	}
}

// RemoveContainer implements engine.Containers. A running or paused
// container is a conflict unless opts.Force, which kills it first. The
// container is in StateRemoving until it is gone; removing it again
// meanwhile is no error, as the Docker adapter reports the engine's
// "already in progress".
func (e *Engine) RemoveContainer(ctx context.Context, id string, opts engine.RemoveOptions) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, err := e.enterContainer(ctx, "RemoveContainer", id)
	if err != nil {
		return err
	}
	if c.state == engine.StateRemoving {
		return nil
	}
	if c.running() {
		if !opts.Force {
			return conflict("container %s is %s, stop it or force the removal", c.name, c.state)
		}
		e.kill(c, "SIGKILL")
	}
	c.state = engine.StateRemoving
	c.notify()
	return e.apply(ctx, "RemoveContainer", func() error {
		e.deleteContainer(c, opts.RemoveVolumes)
		return nil
	})
}

// deleteContainer removes c, and its anonymous volumes if removeVolumes
// and no other container mounts them. The caller holds e.mu.
func (e *Engine) deleteContainer(c *container, removeVolumes bool) {
	if c.removed {
		return
	}
	c.removed = true
	delete(e.containers, c.id)
	if removeVolumes {
		for _, name := range c.anonymous {
			if v, ok := e.volumes[name]; ok && !e.volumeInUse(name) {
				e.deleteVolume(v)
			}
		}
	}
	e.containerEvent(c, "destroy")
	c.notify()
}

// RenameContainer implements engine.Containers.
func (e *Engine) RenameContainer(ctx context.Context, id, newName string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, err := e.enterContainer(ctx, "RenameContainer", id)
	if err != nil {
		return err
	}
	newName = strings.TrimPrefix(newName, "/")
	if !validName.MatchString(newName) {
		return fmt.Errorf("invalid container name %q", newName)
	}
	return e.apply(ctx, "RenameContainer", func() error {
		if c.removed {
			return notFound("container", id)
		}
		if owner, taken := e.nameOwner(newName); taken {
			return conflict("container name %q is already in use by %s", newName, owner)
		}
		old := c.name
		c.name = newName
		c.spec.Name = newName
		e.containerEvent(c, "rename", "oldName", "/"+old)
		return nil
	})
}

// PauseContainer implements engine.Containers.
func (e *Engine) PauseContainer(ctx context.Context, id string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, err := e.enterContainer(ctx, "PauseContainer", id)
	if err != nil {
		return err
	}
	if c.state != engine.StateRunning {
		return conflict("container %s is not running", c.name)
	}
	c.state = engine.StatePaused
	e.containerEvent(c, "pause")
	c.notify()
	return nil
}

// UnpauseContainer implements engine.Containers.
func (e *Engine) UnpauseContainer(ctx context.Context, id string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, err := e.enterContainer(ctx, "UnpauseContainer", id)
	if err != nil {
		return err
	}
	if c.state != engine.StatePaused {
		return conflict("container %s is not paused", c.name)
	}
	c.state = engine.StateRunning
	e.containerEvent(c, "unpause")
	c.notify()
	return nil
}

// ListContainers implements engine.Containers, newest first as the engine
// lists them.
func (e *Engine) ListContainers(ctx context.Context, filter engine.Filter) ([]engine.Container, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.enter(ctx, "ListContainers"); err != nil {
		return nil, err
	}
	var cs []*container
	for _, c := range e.containers {
		if filter.Matches(c.config.Labels) && strings.Contains(c.name, filter.Name) {
			cs = append(cs, c)
		}
	}
	slices.SortFunc(cs, func(a, b *container) int { return b.seq - a.seq })
	out := make([]engine.Container, 0, len(cs))
	for _, c := range cs {
		out = append(out, e.summary(c))
	}
	return out, nil
}

// InspectContainer implements engine.Containers.
func (e *Engine) InspectContainer(ctx context.Context, id string) (engine.ContainerDetails, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, err := e.enterContainer(ctx, "InspectContainer", id)
	if err != nil {
		return engine.ContainerDetails{}, err
	}
	d := engine.ContainerDetails{
		Container:  e.summary(c),
		ExitCode:   c.exitCode,
		StartedAt:  c.started,
		FinishedAt: c.finished,
		HealthLog:  slices.Clone(c.healthLog),
		Pid:        c.pid,
		TTY:        c.config.TTY,
		Env:        slices.Clone(c.config.Env),
		User:       c.config.User,
		WorkingDir: c.config.WorkingDir,
		NetworkIPs: map[string]string{},
		Config:     cloneSpec(c.config),
	}
	d.Config.Name = c.name
	for netID, ep := range c.endpoints {
		if n, ok := e.networks[netID]; ok {
			d.NetworkIPs[n.name] = ep.ip
		}
	}
	return d, nil
}

// summary is what a list call reports about c. The caller holds e.mu.
func (e *Engine) summary(c *container) engine.Container {
	s := engine.Container{
		ID:      c.id,
		Name:    c.name,
		Image:   c.spec.Image,
		ImageID: c.imageID,
		Labels:  copyLabels(c.config.Labels),
		State:   c.state,
		Status:  c.status(),
		Health:  c.health,
		Created: c.created,
		Command: strings.Join(slices.Concat(c.config.Entrypoint, c.config.Cmd), " "),
		Mounts:  slices.Clone(c.mounts),
	}
	if c.running() {
		// The engine reports published ports only while they are bound.
		s.Ports = slices.Clone(c.ports)
	}
	for netID := range c.endpoints {
		if n, ok := e.networks[netID]; ok {
			s.Networks = append(s.Networks, n.name)
		}
	}
	slices.Sort(s.Networks)
	return s
}

func (c *container) status() string {
	switch c.state {
	case engine.StateCreated:
		return "Created"
	case engine.StateExited:
		return fmt.Sprintf("Exited (%d) %s ago", c.exitCode, humanDuration(time.Since(c.finished)))
	case engine.StatePaused:
		return "Up " + humanDuration(time.Since(c.started)) + " (Paused)"
	case engine.StateRemoving:
		return "Removal In Progress"
	case engine.StateRunning:
		s := "Up " + humanDuration(time.Since(c.started))
		switch c.health {
		case engine.HealthStarting:
			s += " (health: starting)"
		case engine.HealthHealthy, engine.HealthUnhealthy:
			s += " (" + string(c.health) + ")"
		}
		return s
	default:
		return string(c.state)
	}
}

// ContainerLogs implements engine.Containers. It writes the output every
// start so far added to the log (opts.Tail and opts.Timestamps apply;
// Since and Until are ignored) and, with opts.Follow on a running
// container, then waits until that run ends or ctx is done.
func (e *Engine) ContainerLogs(ctx context.Context, id string, opts engine.LogOptions, stdout, stderr io.Writer) error {
	e.mu.Lock()
	c, err := e.enterContainer(ctx, "ContainerLogs", id)
	if err != nil {
		e.mu.Unlock()
		return err
	}
	lines := slices.Clone(c.log)
	run, follow, tty := c.run, opts.Follow && c.running(), c.config.TTY
	e.mu.Unlock()

	if n, err := strconv.Atoi(opts.Tail); err == nil && n >= 0 && n < len(lines) {
		lines = lines[len(lines)-n:]
	}
	// Writers may block (pipes), so they are written to without e.mu.
	for _, l := range lines {
		w := stdout
		if l.stderr && !tty { // a TTY merges the streams
			w = stderr
		}
		if w == nil {
			continue
		}
		text := l.text
		if opts.Timestamps {
			text = l.time.UTC().Format(time.RFC3339Nano) + " " + text
		}
		if _, err := io.WriteString(w, text); err != nil {
			return fmt.Errorf("writing the log: %w", err)
		}
	}
	if !follow {
		return nil
	}
	return e.waitFor(ctx, c, func(c *container) bool { return c.run != run || !c.running() })
}

// waitFor blocks until cond holds for c or c is removed, or ctx is done.
func (e *Engine) waitFor(ctx context.Context, c *container, cond func(*container) bool) error {
	for {
		e.mu.Lock()
		if c.removed || cond(c) {
			e.mu.Unlock()
			return nil
		}
		ch := c.changed
		e.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// splitLines splits s after each newline, keeping the newlines.
func splitLines(s string) []string {
	var out []string
	for s != "" {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			out = append(out, s)
			break
		}
		out = append(out, s[:i+1])
		s = s[i+1:]
	}
	return out
}

// Exec implements engine.Containers: in a running container it writes the
// behaviour's ExecStdout and returns its ExecExitCode.
func (e *Engine) Exec(ctx context.Context, id string, spec engine.ExecSpec, streams engine.Streams) (int, error) {
	e.mu.Lock()
	c, err := e.enterContainer(ctx, "Exec", id)
	if err != nil {
		e.mu.Unlock()
		return 0, err
	}
	if c.state != engine.StateRunning {
		e.mu.Unlock()
		return 0, conflict("container %s is not running", c.name)
	}
	e.nextExec++
	execID := fmt.Sprintf("exec-%d", e.nextExec)
	b := c.behaviour
	e.mu.Unlock()

	if spec.OnStart != nil {
		spec.OnStart(execID)
	}
	if spec.Detach {
		return 0, nil
	}
	if streams.Stdout != nil && b.ExecStdout != "" {
		if _, err := io.WriteString(streams.Stdout, b.ExecStdout); err != nil {
			return 0, fmt.Errorf("writing the exec's output: %w", err)
		}
	}
	return b.ExecExitCode, nil
}

// Attach implements engine.Containers. It attaches to a created or running
// container; wait copies the output of the run in progress, or of the
// next one, once it starts, and returns when that run ends.
func (e *Engine) Attach(ctx context.Context, id string, streams engine.Streams, tty bool) (func() error, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, err := e.enterContainer(ctx, "Attach", id)
	if err != nil {
		return nil, err
	}
	if c.state != engine.StateCreated && !c.running() {
		return nil, conflict("container %s is not running, start it first", c.name)
	}
	run := c.run
	if !c.running() {
		run++
	}
	wait := func() error {
		if err := e.waitFor(ctx, c, func(c *container) bool { return c.run >= run }); err != nil {
			return err
		}
		e.mu.Lock()
		b := c.behaviour
		e.mu.Unlock()
		stderr := streams.Stderr
		if tty {
			stderr = streams.Stdout // a TTY merges the streams
		}
		for _, o := range []struct {
			w    io.Writer
			text string
		}{{streams.Stdout, b.Stdout}, {stderr, b.Stderr}} {
			if o.w != nil && o.text != "" {
				if _, err := io.WriteString(o.w, o.text); err != nil {
					return fmt.Errorf("writing the container's output: %w", err)
				}
			}
		}
		return e.waitFor(ctx, c, func(c *container) bool { return c.run != run || !c.running() })
	}
	return wait, nil
}

// Top implements engine.Containers.
func (e *Engine) Top(ctx context.Context, id string) (engine.Processes, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, err := e.enterContainer(ctx, "Top", id)
	if err != nil {
		return engine.Processes{}, err
	}
	if !c.running() {
		return engine.Processes{}, conflict("container %s is not running", c.name)
	}
	cmd := strings.Join(slices.Concat(c.config.Entrypoint, c.config.Cmd), " ")
	return engine.Processes{
		Titles:    []string{"UID", "PID", "PPID", "CMD"},
		Processes: [][]string{{"root", strconv.Itoa(c.pid), "0", cmd}},
	}, nil
}

// ResizeTTY implements engine.Containers.
func (e *Engine) ResizeTTY(ctx context.Context, id string, height, width uint, exec bool) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if exec {
		return e.enter(ctx, "ResizeTTY", id)
	}
	_, err := e.enterContainer(ctx, "ResizeTTY", id)
	return err
}

// Spec returns the spec a container was created with (under its current
// name), so tests can check what the orchestrator asked for. It is not
// counted as a call.
func (e *Engine) Spec(idOrName string) (engine.ContainerSpec, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, err := e.lookupContainer(idOrName)
	if err != nil {
		return engine.ContainerSpec{}, false
	}
	s := c.spec
	s.Labels = maps.Clone(c.spec.Labels)
	return s, true
}

// Exit makes a running container's process end with code now, as a crash
// would. It is not counted as a call.
func (e *Engine) Exit(idOrName string, code int) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, err := e.lookupContainer(idOrName)
	if err != nil {
		return err
	}
	if !c.running() {
		return conflict("container %s is not running", c.name)
	}
	e.exit(c, code)
	return nil
}

// SetHealth sets a running container's health status now, publishing the
// health_status event if it changes. It is not counted as a call.
func (e *Engine) SetHealth(idOrName string, h engine.Health) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, err := e.lookupContainer(idOrName)
	if err != nil {
		return err
	}
	if !c.running() {
		return conflict("container %s is not running", c.name)
	}
	e.setHealth(c, h)
	return nil
}
