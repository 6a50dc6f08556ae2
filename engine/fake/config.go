package fake

import (
	"cmp"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/composer-orchestrator/composer/engine"
)

// The engine's defaults for what a create leaves empty, as a Docker engine
// with its stock configuration fills them in.
const (
	defaultLogDriver = "json-file"
	defaultShmSize   = 64 << 20
	defaultIpcMode   = "private"
	defaultRuntime   = "runc"
	// defaultNetworkMode is what the engine records for a container created
	// without a network mode: it joins the default bridge.
	defaultNetworkMode = "default"
	// defaultPropagation is how a bind mount propagates unless told.
	defaultPropagation = "rprivate"
	// defaultPath is the PATH the engine's builder gives an image built
	// FROM scratch.
	defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
)

// containerConfig is the configuration the engine records for a container
// created from spec and image img (nil: an image without defaults), with
// id: the spec with the image's defaults merged in the way the engine
// merges them and the engine's own defaults filled in, normalised the way
// the Docker adapter reads an inspect back. Mounts and Networks are left
// to the caller, which resolves volumes and networks. The caller holds
// e.mu.
func (e *Engine) containerConfig(id string, spec engine.ContainerSpec, img *engine.Image) engine.ContainerSpec {
	cfg := cloneSpec(spec)
	cfg.Name = ""
	if img != nil {
		mergeImageConfig(&cfg, img.Config)
	}
	// The engine names a container after its short id; on the host's
	// network stack it takes the host's name, which the fake leaves empty.
	if cfg.Hostname == "" && cfg.NetworkMode != "host" {
		cfg.Hostname = id[:12]
	}
	cfg.Restart.Name = cmp.Or(cfg.Restart.Name, "no")
	cfg.LogDriver = cmp.Or(cfg.LogDriver, defaultLogDriver)
	cfg.IpcMode = cmp.Or(cfg.IpcMode, defaultIpcMode)
	cfg.Runtime = cmp.Or(cfg.Runtime, defaultRuntime)
	if cfg.ShmSize == 0 {
		cfg.ShmSize = defaultShmSize
	}
	switch {
	case cfg.NetworkMode != "":
	case len(cfg.Networks) > 0:
		cfg.NetworkMode = cfg.Networks[0].Network
	default:
		cfg.NetworkMode = defaultNetworkMode
	}
	// A namespace shared with another container names it by id.
	cfg.NetworkMode = e.resolveContainerMode(cfg.NetworkMode)
	cfg.IpcMode = e.resolveContainerMode(cfg.IpcMode)
	cfg.PidMode = e.resolveContainerMode(cfg.PidMode)
	cfg.CapAdd = normalizeCaps(cfg.CapAdd)
	cfg.CapDrop = normalizeCaps(cfg.CapDrop)
	if (cfg.Privileged || cfg.IpcMode == "host" || cfg.PidMode == "host") && !slices.Contains(cfg.SecurityOpt, "label=disable") {
		cfg.SecurityOpt = append(cfg.SecurityOpt, "label=disable")
	}
	r := &cfg.Resources
	if r.Memory > 0 && r.MemorySwap == 0 {
		r.MemorySwap = 2 * r.Memory
	}
	// The values meaning "unset" read back as unset, as in the adapter.
	if r.MemSwappiness != nil && *r.MemSwappiness == -1 {
		r.MemSwappiness = nil
	}
	if r.PidsLimit != nil && *r.PidsLimit == 0 {
		r.PidsLimit = nil
	}
	if r.OomKillDisable != nil && !*r.OomKillDisable {
		r.OomKillDisable = nil
	}
	for i, d := range cfg.Devices {
		cfg.Devices[i].PathInContainer = cmp.Or(d.PathInContainer, d.PathOnHost)
		cfg.Devices[i].CgroupPermissions = cmp.Or(d.CgroupPermissions, "rwm")
	}
	for i, l := range cfg.Links {
		if !strings.Contains(l, ":") {
			cfg.Links[i] = l + ":" + l
		}
	}
	cfg.Ports, cfg.ExposedPorts = normalizePorts(cfg.Ports, cfg.ExposedPorts)
	// Like the adapter: a MAC address read back is the generated one once
	// the container runs, so none is reported.
	cfg.MacAddress = ""
	cfg.Mounts, cfg.Networks = nil, nil // the caller's, once resolved
	return normalizeEmpty(cfg)
}

// mergeImageConfig fills what cfg leaves empty from the image's defaults,
// by the engine's rules: environment variables the spec lacks are added
// after its own, labels it lacks are added, the image's Cmd applies only
// when the spec sets neither Cmd nor Entrypoint, a spec's healthcheck
// takes what it leaves zero from the image's, and the image's exposed
// ports are added.
func mergeImageConfig(cfg *engine.ContainerSpec, img engine.ImageConfig) {
	if len(cfg.Env) == 0 {
		cfg.Env = slices.Clone(img.Env)
	} else {
		for _, kv := range img.Env {
			key, _, _ := strings.Cut(kv, "=")
			if !slices.ContainsFunc(cfg.Env, func(s string) bool { k, _, _ := strings.Cut(s, "="); return k == key }) {
				cfg.Env = append(cfg.Env, kv)
			}
		}
	}
	for k, v := range img.Labels {
		if _, ok := cfg.Labels[k]; !ok {
			if cfg.Labels == nil {
				cfg.Labels = map[string]string{}
			}
			cfg.Labels[k] = v
		}
	}
	if len(cfg.Entrypoint) == 0 {
		if len(cfg.Cmd) == 0 {
			cfg.Cmd = slices.Clone(img.Cmd)
		}
		if cfg.Entrypoint == nil {
			cfg.Entrypoint = slices.Clone(img.Entrypoint)
		}
	}
	cfg.WorkingDir = cmp.Or(cfg.WorkingDir, img.WorkingDir)
	cfg.User = cmp.Or(cfg.User, img.User)
	cfg.StopSignal = cmp.Or(cfg.StopSignal, img.StopSignal)
	if ih := img.Healthcheck; ih != nil {
		if cfg.Healthcheck == nil {
			cfg.Healthcheck = cloneHealthcheck(ih)
		} else {
			h := cfg.Healthcheck
			if len(h.Test) == 0 {
				h.Test = slices.Clone(ih.Test)
			}
			h.Interval = cmp.Or(h.Interval, ih.Interval)
			h.Timeout = cmp.Or(h.Timeout, ih.Timeout)
			h.StartPeriod = cmp.Or(h.StartPeriod, ih.StartPeriod)
			h.StartInterval = cmp.Or(h.StartInterval, ih.StartInterval)
			h.Retries = cmp.Or(h.Retries, ih.Retries)
		}
	}
	cfg.ExposedPorts = append(cfg.ExposedPorts, img.ExposedPorts...)
}

// resolveContainerMode turns "container:<name>" into "container:<id>", as
// the engine records it, when the container exists. The caller holds e.mu.
func (e *Engine) resolveContainerMode(mode string) string {
	ref, ok := strings.CutPrefix(mode, "container:")
	if !ok {
		return mode
	}
	if c, err := e.lookupContainer(ref); err == nil {
		return "container:" + c.id
	}
	return mode
}

// normalizeCaps spells capabilities the way the engine records them:
// upper case with the "CAP_" prefix, except "ALL".
func normalizeCaps(caps []string) []string {
	var out []string
	for _, c := range caps {
		c = strings.ToUpper(c)
		if c != "ALL" && !strings.HasPrefix(c, "CAP_") {
			c = "CAP_" + c
		}
		out = append(out, c)
	}
	return out
}

// normalizePorts reads published and exposed ports back the way the
// adapter does: protocols spelled out, "0" as "", host addresses in their
// canonical form, every published port exposed, ranges expanded, sorted by
// port and protocol.
func normalizePorts(bindings []engine.PortBinding, exposed []string) ([]engine.PortBinding, []string) {
	type port struct {
		num   uint16
		proto string
	}
	set := map[port]bool{}
	for _, s := range exposed {
		rng, proto, _ := strings.Cut(s, "/")
		proto = strings.ToLower(cmp.Or(proto, "tcp"))
		lo, hi, isRange := strings.Cut(rng, "-")
		start, err1 := strconv.ParseUint(lo, 10, 16)
		end := start
		var err2 error
		if isRange {
			end, err2 = strconv.ParseUint(hi, 10, 16)
		}
		if err1 != nil || err2 != nil {
			continue // the engine refuses it; the fake keeps what it can read
		}
		for n := start; n <= end; n++ {
			set[port{uint16(n), proto}] = true
		}
	}
	var out []engine.PortBinding
	for _, b := range bindings {
		b.Protocol = strings.ToLower(cmp.Or(b.Protocol, "tcp"))
		if b.HostPort == "0" {
			b.HostPort = ""
		}
		if a, err := netip.ParseAddr(strings.Trim(b.HostIP, "[]")); err == nil {
			b.HostIP = a.String()
		}
		set[port{b.ContainerPort, b.Protocol}] = true
		out = append(out, b)
	}
	slices.SortStableFunc(out, func(a, b engine.PortBinding) int {
		return cmp.Or(cmp.Compare(a.ContainerPort, b.ContainerPort), strings.Compare(a.Protocol, b.Protocol))
	})
	ports := slices.SortedFunc(maps.Keys(set), func(a, b port) int {
		return cmp.Or(cmp.Compare(a.num, b.num), strings.Compare(a.proto, b.proto))
	})
	var names []string
	for _, p := range ports {
		names = append(names, fmt.Sprintf("%d/%s", p.num, p.proto))
	}
	return out, names
}

// orderEndpoints puts the endpoint the network mode names first and the
// others by network name, the order the adapter reports them in.
func orderEndpoints(eps []engine.EndpointSpec, mode string) []engine.EndpointSpec {
	slices.SortFunc(eps, func(a, b engine.EndpointSpec) int {
		return cmp.Or(-cmp.Compare(boolInt(a.Network == mode), boolInt(b.Network == mode)), strings.Compare(a.Network, b.Network))
	})
	return eps
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// cloneSpec copies spec deeply enough that neither copy changes the other.
func cloneSpec(s engine.ContainerSpec) engine.ContainerSpec {
	c := s
	c.Labels = maps.Clone(s.Labels)
	c.Env = slices.Clone(s.Env)
	c.Cmd = slices.Clone(s.Cmd)
	c.Entrypoint = slices.Clone(s.Entrypoint)
	c.StopTimeout = clonePtr(s.StopTimeout)
	c.Healthcheck = cloneHealthcheck(s.Healthcheck)
	c.ExposedPorts = slices.Clone(s.ExposedPorts)
	c.Ports = slices.Clone(s.Ports)
	c.Mounts = slices.Clone(s.Mounts)
	for i, m := range c.Mounts {
		c.Mounts[i].VolumeLabels = maps.Clone(m.VolumeLabels)
	}
	c.Init = clonePtr(s.Init)
	c.CapAdd = slices.Clone(s.CapAdd)
	c.CapDrop = slices.Clone(s.CapDrop)
	c.SecurityOpt = slices.Clone(s.SecurityOpt)
	c.DNS = slices.Clone(s.DNS)
	c.DNSSearch = slices.Clone(s.DNSSearch)
	c.DNSOptions = slices.Clone(s.DNSOptions)
	c.ExtraHosts = slices.Clone(s.ExtraHosts)
	c.GroupAdd = slices.Clone(s.GroupAdd)
	c.Ulimits = slices.Clone(s.Ulimits)
	c.Sysctls = maps.Clone(s.Sysctls)
	c.LogOpts = maps.Clone(s.LogOpts)
	c.Devices = slices.Clone(s.Devices)
	c.Resources.MemSwappiness = clonePtr(s.Resources.MemSwappiness)
	c.Resources.PidsLimit = clonePtr(s.Resources.PidsLimit)
	c.Resources.OomKillDisable = clonePtr(s.Resources.OomKillDisable)
	c.VolumesFrom = slices.Clone(s.VolumesFrom)
	c.Links = slices.Clone(s.Links)
	c.Networks = slices.Clone(s.Networks)
	for i, ep := range c.Networks {
		c.Networks[i].Aliases = slices.Clone(ep.Aliases)
		c.Networks[i].Links = slices.Clone(ep.Links)
	}
	c.Tmpfs = maps.Clone(s.Tmpfs)
	return c
}

// normalizeEmpty makes empty lists and maps nil, the way the adapter reads
// them back, so that equal configurations compare equal.
func normalizeEmpty(c engine.ContainerSpec) engine.ContainerSpec {
	c.Labels = nilIfEmptyMap(c.Labels)
	c.Env = nilIfEmpty(c.Env)
	c.Cmd = nilIfEmpty(c.Cmd)
	c.Entrypoint = nilIfEmpty(c.Entrypoint)
	if c.Healthcheck != nil {
		c.Healthcheck.Test = nilIfEmpty(c.Healthcheck.Test)
	}
	c.ExposedPorts = nilIfEmpty(c.ExposedPorts)
	c.Ports = nilIfEmpty(c.Ports)
	c.Mounts = nilIfEmpty(c.Mounts)
	for i, m := range c.Mounts {
		c.Mounts[i].VolumeLabels = nilIfEmptyMap(m.VolumeLabels)
	}
	c.CapAdd = nilIfEmpty(c.CapAdd)
	c.CapDrop = nilIfEmpty(c.CapDrop)
	c.SecurityOpt = nilIfEmpty(c.SecurityOpt)
	c.DNS = nilIfEmpty(c.DNS)
	c.DNSSearch = nilIfEmpty(c.DNSSearch)
	c.DNSOptions = nilIfEmpty(c.DNSOptions)
	c.ExtraHosts = nilIfEmpty(c.ExtraHosts)
	c.GroupAdd = nilIfEmpty(c.GroupAdd)
	c.Ulimits = nilIfEmpty(c.Ulimits)
	c.Sysctls = nilIfEmptyMap(c.Sysctls)
	c.LogOpts = nilIfEmptyMap(c.LogOpts)
	c.Devices = nilIfEmpty(c.Devices)
	c.VolumesFrom = nilIfEmpty(c.VolumesFrom)
	c.Links = nilIfEmpty(c.Links)
	c.Networks = nilIfEmpty(c.Networks)
	for i, ep := range c.Networks {
		c.Networks[i].Aliases = nilIfEmpty(ep.Aliases)
		c.Networks[i].Links = nilIfEmpty(ep.Links)
	}
	c.Tmpfs = nilIfEmptyMap(c.Tmpfs)
	return c
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

func nilIfEmptyMap[K comparable, V any](m map[K]V) map[K]V {
	if len(m) == 0 {
		return nil
	}
	return m
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func cloneHealthcheck(h *engine.Healthcheck) *engine.Healthcheck {
	if h == nil {
		return nil
	}
	c := *h
	c.Test = slices.Clone(h.Test)
	return &c
}

// cloneImageConfig copies an image's defaults.
func cloneImageConfig(c engine.ImageConfig) engine.ImageConfig {
	c.Env = slices.Clone(c.Env)
	c.Cmd = slices.Clone(c.Cmd)
	c.Entrypoint = slices.Clone(c.Entrypoint)
	c.Labels = maps.Clone(c.Labels)
	c.ExposedPorts = slices.Clone(c.ExposedPorts)
	c.Volumes = slices.Clone(c.Volumes)
	c.Healthcheck = cloneHealthcheck(c.Healthcheck)
	return c
}
