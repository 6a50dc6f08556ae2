package orchestrator

import (
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/graph"
	"github.com/composer-orchestrator/composer/labels"
)

// specInput is what turning a service into a container spec needs beyond
// the service itself.
type specInput struct {
	project *types.Project
	service types.ServiceConfig
	name    string
	number  int
	hash    string
	imageID string
	oneOff  bool
	// inherit is the container being replaced; its anonymous volumes are
	// mounted again so that recreating keeps their data.
	inherit *engine.Container
	// replaces, if set, is written in the replace label.
	replaces string
	// containerOf resolves `service:x` references to a container id.
	containerOf func(service string) (string, error)
}

// containerSpec turns a service into the engine's container spec. It is
// pure: the same input gives the same spec.
func containerSpec(in specInput) (engine.ContainerSpec, error) {
	s := in.service
	p := in.project
	spec := engine.ContainerSpec{
		Name:         in.name,
		Image:        ImageName(p, s),
		Labels:       containerLabels(in),
		Env:          environment(s.Environment),
		Cmd:          nilIfEmpty(s.Command),
		Entrypoint:   nilIfEmpty(s.Entrypoint),
		WorkingDir:   s.WorkingDir,
		User:         s.User,
		Hostname:     s.Hostname,
		Domainname:   s.DomainName,
		TTY:          s.Tty,
		OpenStdin:    s.StdinOpen,
		StopSignal:   s.StopSignal,
		Init:         s.Init,
		Privileged:   s.Privileged,
		ReadOnly:     s.ReadOnly,
		CapAdd:       s.CapAdd,
		CapDrop:      s.CapDrop,
		SecurityOpt:  s.SecurityOpt,
		DNS:          s.DNS,
		DNSSearch:    s.DNSSearch,
		DNSOptions:   s.DNSOpts,
		ExtraHosts:   s.ExtraHosts.AsList(":"),
		GroupAdd:     s.GroupAdd,
		Sysctls:      map[string]string(s.Sysctls),
		ShmSize:      int64(s.ShmSize),
		Platform:     s.Platform,
		Runtime:      s.Runtime,
		MacAddress:   s.MacAddress,
		CgroupParent: s.CgroupParent,
		OomScoreAdj:  int(s.OomScoreAdj),
		UsernsMode:   s.UserNSMode,
		Restart:      restartPolicy(s),
		Healthcheck:  healthcheck(s.HealthCheck),
		Resources:    resources(s),
		Links:        links(s),
	}
	if len(spec.Sysctls) == 0 {
		spec.Sysctls = nil
	}
	if s.StopGracePeriod != nil {
		secs := int(time.Duration(*s.StopGracePeriod).Seconds())
		spec.StopTimeout = &secs
	}
	if s.Logging != nil {
		spec.LogDriver = s.Logging.Driver
		spec.LogOpts = map[string]string(s.Logging.Options)
	}
	spec.Ulimits = ulimits(s)
	spec.Devices = devices(s)
	spec.Tmpfs = tmpfs(s)
	spec.ExposedPorts, spec.Ports = ports(s)

	var err error
	if spec.Mounts, err = mounts(p, s, in.inherit); err != nil {
		return spec, err
	}
	if err := namespaces(&spec, s, in.containerOf); err != nil {
		return spec, err
	}
	if spec.NetworkMode == "" {
		spec.Networks = endpoints(p, s, in.oneOff)
		if len(spec.Networks) > 0 {
			spec.NetworkMode = spec.Networks[0].Network
		}
	}
	return spec, nil
}

// ulimits lists the service's limits, sorted by name.
func ulimits(s types.ServiceConfig) []engine.Ulimit {
	var out []engine.Ulimit
	for name, u := range s.Ulimits {
		soft, hard := int64(u.Soft), int64(u.Hard)
		if u.Single != 0 {
			soft, hard = int64(u.Single), int64(u.Single)
		}
		out = append(out, engine.Ulimit{Name: name, Soft: soft, Hard: hard})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// devices maps the service's devices, with docker's defaults for a
// missing target (the source) and permissions (rwm).
func devices(s types.ServiceConfig) []engine.Device {
	var out []engine.Device
	for _, d := range s.Devices {
		perms := d.Permissions
		if perms == "" {
			perms = "rwm"
		}
		target := d.Target
		if target == "" {
			target = d.Source
		}
		out = append(out, engine.Device{PathOnHost: d.Source, PathInContainer: target, CgroupPermissions: perms})
	}
	return out
}

// tmpfs maps each tmpfs target to its mount options; nil when none.
func tmpfs(s types.ServiceConfig) map[string]string {
	if len(s.Tmpfs) == 0 {
		return nil
	}
	out := map[string]string{}
	for _, t := range s.Tmpfs {
		target, opts, _ := strings.Cut(t, ":")
		out[target] = opts
	}
	return out
}

// ImageName is the image a service runs: its image, or the name docker
// compose gives a built image when only build is set.
func ImageName(p *types.Project, s types.ServiceConfig) string {
	if s.Image != "" {
		return s.Image
	}
	return p.Name + "-" + s.Name
}

func containerLabels(in specInput) map[string]string {
	s := in.service
	out := map[string]string{}
	for k, v := range s.Labels {
		out[k] = v
	}
	oneoff := labels.False
	if in.oneOff {
		oneoff = labels.True
	}
	out[labels.Project] = in.project.Name
	out[labels.Service] = s.Name
	out[labels.Number] = strconv.Itoa(in.number)
	out[labels.Oneoff] = oneoff
	out[labels.ConfigHash] = in.hash
	out[labels.Image] = in.imageID
	out[labels.WorkingDir] = in.project.WorkingDir
	out[labels.ConfigFiles] = strings.Join(in.project.ComposeFiles, ",")
	out[labels.Version] = labels.ComposeVersion
	out[labels.DependsOn] = dependsOnLabel(s)
	if in.replaces != "" {
		out[labels.Replace] = in.replaces
	}
	return out
}

// dependsOnLabel records the service's dependencies, sorted, as
// "service:condition:restart", so that down can order containers without
// a compose file.
func dependsOnLabel(s types.ServiceConfig) string {
	deps := make([]labels.Dependency, 0, len(s.DependsOn))
	for name, d := range s.DependsOn {
		deps = append(deps, labels.Dependency{Service: name, Condition: d.Condition, Restart: d.Restart})
	}
	return labels.EncodeDependsOn(deps)
}

func environment(env types.MappingWithEquals) []string {
	out := make([]string, 0, len(env))
	for k, v := range env {
		if v == nil {
			// An unset variable with no value is passed as a bare name,
			// which the engine drops: as in docker compose.
			out = append(out, k)
			continue
		}
		out = append(out, k+"="+*v)
	}
	sort.Strings(out)
	return out
}

func nilIfEmpty(c types.ShellCommand) []string {
	if c == nil {
		return nil
	}
	return []string(c)
}

func restartPolicy(s types.ServiceConfig) engine.RestartPolicy {
	name := s.Restart
	if name == "" && s.Deploy != nil && s.Deploy.RestartPolicy != nil {
		switch s.Deploy.RestartPolicy.Condition {
		case "any":
			name = "always"
		case "on-failure":
			name = "on-failure"
		case "none":
			name = "no"
		}
		if s.Deploy.RestartPolicy.MaxAttempts != nil {
			return engine.RestartPolicy{Name: name, MaxRetries: int(*s.Deploy.RestartPolicy.MaxAttempts)}
		}
	}
	if n, max, ok := strings.Cut(name, ":"); ok {
		m, _ := strconv.Atoi(max)
		return engine.RestartPolicy{Name: n, MaxRetries: m}
	}
	return engine.RestartPolicy{Name: name}
}

func healthcheck(h *types.HealthCheckConfig) *engine.Healthcheck {
	if h == nil {
		return nil
	}
	if h.Disable {
		return &engine.Healthcheck{Test: []string{"NONE"}}
	}
	out := &engine.Healthcheck{Test: []string(h.Test)}
	d := func(p *types.Duration) time.Duration {
		if p == nil {
			return 0
		}
		return time.Duration(*p)
	}
	out.Interval, out.Timeout = d(h.Interval), d(h.Timeout)
	out.StartPeriod, out.StartInterval = d(h.StartPeriod), d(h.StartInterval)
	if h.Retries != nil {
		out.Retries = int(*h.Retries)
	}
	return out
}

func resources(s types.ServiceConfig) engine.Resources {
	r := engine.Resources{
		Memory:            int64(s.MemLimit),
		MemoryReservation: int64(s.MemReservation),
		MemorySwap:        int64(s.MemSwapLimit),
		NanoCPUs:          int64(s.CPUS * 1e9),
		CPUShares:         s.CPUShares,
		CPUQuota:          s.CPUQuota,
		CPUPeriod:         s.CPUPeriod,
		CPUSet:            s.CPUSet,
	}
	if s.PidsLimit != 0 {
		pl := s.PidsLimit
		r.PidsLimit = &pl
	}
	if s.OomKillDisable {
		t := true
		r.OomKillDisable = &t
	}
	if s.MemSwappiness != 0 {
		sw := int64(s.MemSwappiness)
		r.MemSwappiness = &sw
	}
	if s.Deploy != nil {
		if l := s.Deploy.Resources.Limits; l != nil {
			if r.Memory == 0 {
				r.Memory = int64(l.MemoryBytes)
			}
			if r.NanoCPUs == 0 {
				r.NanoCPUs = int64(l.NanoCPUs.Value() * 1e9)
			}
			if r.PidsLimit == nil && l.Pids != 0 {
				pl := l.Pids
				r.PidsLimit = &pl
			}
		}
		if rs := s.Deploy.Resources.Reservations; rs != nil && r.MemoryReservation == 0 {
			r.MemoryReservation = int64(rs.MemoryBytes)
		}
	}
	return r
}

func links(s types.ServiceConfig) []string {
	var out []string
	for _, l := range append(append([]string{}, s.Links...), s.ExternalLinks...) {
		name, alias, ok := strings.Cut(l, ":")
		if !ok {
			alias = name
		}
		out = append(out, name+":"+alias)
	}
	return out
}

func ports(s types.ServiceConfig) ([]string, []engine.PortBinding) {
	exposed := map[string]bool{}
	var bindings []engine.PortBinding
	for _, e := range s.Expose {
		port, proto, ok := strings.Cut(e, "/")
		if !ok {
			proto = "tcp"
		}
		exposed[port+"/"+proto] = true
	}
	for _, pc := range s.Ports {
		proto := pc.Protocol
		if proto == "" {
			proto = "tcp"
		}
		exposed[fmt.Sprintf("%d/%s", pc.Target, proto)] = true
		bindings = append(bindings, engine.PortBinding{
			ContainerPort: uint16(pc.Target),
			Protocol:      proto,
			HostIP:        pc.HostIP,
			HostPort:      pc.Published,
		})
	}
	out := make([]string, 0, len(exposed))
	for e := range exposed {
		out = append(out, e)
	}
	sort.Strings(out)
	if len(out) == 0 {
		out = nil
	}
	return out, bindings
}

func mounts(p *types.Project, s types.ServiceConfig, inherit *engine.Container) ([]engine.Mount, error) {
	inherited := map[string]string{} // target -> anonymous volume name of the old container
	if inherit != nil {
		for _, m := range inherit.Mounts {
			if m.Type == "volume" && m.Name != "" {
				inherited[m.Destination] = m.Name
			}
		}
	}
	var out []engine.Mount
	for _, v := range s.Volumes {
		m := engine.Mount{Target: v.Target, ReadOnly: v.ReadOnly}
		switch v.Type {
		case types.VolumeTypeVolume:
			m.Type = engine.MountVolume
			if v.Source == "" {
				m.Source = inherited[v.Target]
			} else {
				vol, ok := p.Volumes[v.Source]
				if !ok {
					return nil, fmt.Errorf("service %q refers to undefined volume %q", s.Name, v.Source)
				}
				m.Source = vol.Name
			}
			if v.Volume != nil {
				m.NoCopy = v.Volume.NoCopy
				m.Subpath = v.Volume.Subpath
			}
		case types.VolumeTypeBind:
			m.Type = engine.MountBind
			m.Source = v.Source
			m.CreateHostPath = true
			if v.Bind != nil {
				m.Propagation = v.Bind.Propagation
				m.CreateHostPath = bool(v.Bind.CreateHostPath)
			}
		case types.VolumeTypeTmpfs:
			m.Type = engine.MountTmpfs
			if v.Tmpfs != nil {
				m.TmpfsSize = int64(v.Tmpfs.Size)
				m.TmpfsMode = v.Tmpfs.Mode
			}
		default:
			return nil, fmt.Errorf("service %q: volume type %q is not supported", s.Name, v.Type)
		}
		out = append(out, m)
	}
	// Secrets and configs from files are bind-mounted read-only, as docker
	// compose does outside swarm.
	for _, sec := range s.Secrets {
		def, ok := p.Secrets[sec.Source]
		if !ok || def.File == "" {
			continue
		}
		target := sec.Target
		if target == "" {
			target = "/run/secrets/" + sec.Source
		} else if !path.IsAbs(target) {
			target = "/run/secrets/" + target
		}
		out = append(out, engine.Mount{Type: engine.MountBind, Source: def.File, Target: target, ReadOnly: true})
	}
	for _, cfg := range s.Configs {
		def, ok := p.Configs[cfg.Source]
		if !ok || def.File == "" {
			continue
		}
		target := cfg.Target
		if target == "" {
			target = "/" + cfg.Source
		}
		out = append(out, engine.Mount{Type: engine.MountBind, Source: def.File, Target: target, ReadOnly: true})
	}
	return out, nil
}

// namespaces resolves network_mode, ipc, pid and volumes_from, which may
// point at another service's container.
func namespaces(spec *engine.ContainerSpec, s types.ServiceConfig, containerOf func(string) (string, error)) error {
	containerID := func(svc string) (string, error) {
		if containerOf == nil {
			return "", fmt.Errorf("service %q: no container for service %q", s.Name, svc)
		}
		return containerOf(svc)
	}
	resolve := func(mode string) (string, error) {
		svc, ok := graph.ServiceRef(mode)
		if !ok {
			return mode, nil
		}
		id, err := containerID(svc)
		if err != nil {
			return "", err
		}
		return "container:" + id, nil
	}
	var err error
	if spec.NetworkMode, err = resolve(s.NetworkMode); err != nil {
		return err
	}
	if spec.IpcMode, err = resolve(s.Ipc); err != nil {
		return err
	}
	if spec.PidMode, err = resolve(s.Pid); err != nil {
		return err
	}
	for _, vf := range s.VolumesFrom {
		svc, mode, ok := graph.VolumesFromService(vf)
		if !ok {
			spec.VolumesFrom = append(spec.VolumesFrom, strings.TrimPrefix(vf, "container:"))
			continue
		}
		id, err := containerID(svc)
		if err != nil {
			return err
		}
		if mode != "" {
			id += ":" + mode
		}
		spec.VolumesFrom = append(spec.VolumesFrom, id)
	}
	return nil
}

// endpoints lists the service's networks, highest priority first (ties by
// name), each with the service name as an alias so that others can reach
// it by name. One-off containers get no alias unless asked, as in docker
// compose, so that `run` does not take part in load balancing.
func endpoints(p *types.Project, s types.ServiceConfig, oneOff bool) []engine.EndpointSpec {
	keys := make([]string, 0, len(s.Networks))
	for k := range s.Networks {
		keys = append(keys, k)
	}
	prio := func(k string) int {
		if c := s.Networks[k]; c != nil {
			return c.Priority
		}
		return 0
	}
	sort.Slice(keys, func(i, j int) bool {
		if prio(keys[i]) != prio(keys[j]) {
			return prio(keys[i]) > prio(keys[j])
		}
		return keys[i] < keys[j]
	})
	var out []engine.EndpointSpec
	for _, k := range keys {
		ep := engine.EndpointSpec{Network: p.Networks[k].Name}
		if !oneOff {
			ep.Aliases = []string{s.Name}
		}
		if c := s.Networks[k]; c != nil {
			if !oneOff {
				ep.Aliases = append(ep.Aliases, c.Aliases...)
			}
			ep.IPv4Address = c.Ipv4Address
			ep.IPv6Address = c.Ipv6Address
			ep.MacAddress = c.MacAddress
			ep.Priority = c.Priority
		}
		out = append(out, ep)
	}
	return out
}

// unsupported names the fields of a service that composer does not turn
// into anything yet, so that nothing is dropped silently.
func unsupported(s types.ServiceConfig) []string {
	var out []string
	check := func(set bool, field string) {
		if set {
			out = append(out, field)
		}
	}
	check(s.BlkioConfig != nil, "blkio_config")
	check(s.CPUCount != 0, "cpu_count")
	check(s.CPUPercent != 0, "cpu_percent")
	check(s.CPURTPeriod != 0 || s.CPURTRuntime != 0, "cpu_rt_period/cpu_rt_runtime")
	check(s.CredentialSpec != nil, "credential_spec")
	check(len(s.DeviceCgroupRules) > 0, "device_cgroup_rules")
	check(len(s.Gpus) > 0, "gpus")
	check(s.Isolation != "", "isolation")
	check(s.Cgroup != "", "cgroup")
	check(len(s.StorageOpt) > 0, "storage_opt")
	check(s.Uts != "", "uts")
	check(len(s.Models) > 0, "models")
	check(s.Provider != nil, "provider")
	check(len(s.PostStart) > 0 || len(s.PreStop) > 0, "post_start/pre_stop")
	check(s.UseAPISocket, "use_api_socket")
	check(s.Umask != nil, "umask")
	check(s.VolumeDriver != "", "volume_driver")
	for _, v := range s.Volumes {
		check(v.Type == types.VolumeTypeImage, "volumes (type image)")
	}
	if s.Deploy != nil {
		check(s.Deploy.Resources.Reservations != nil && len(s.Deploy.Resources.Reservations.Devices) > 0, "deploy.resources.reservations.devices")
	}
	return out
}

// resolveEnv completes bare KEY entries from environ, dropping those it
// does not know, as docker compose exec -e does.
func resolveEnv(env []string, environ func(string) (string, bool)) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if !strings.Contains(kv, "=") {
			v, ok := "", false
			if environ != nil {
				v, ok = environ(kv)
			}
			if !ok {
				continue
			}
			kv += "=" + v
		}
		out = append(out, kv)
	}
	return out
}
