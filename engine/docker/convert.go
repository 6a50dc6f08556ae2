package docker

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/api/types/volume"
	"github.com/moby/moby/client"
	"github.com/moby/moby/client/pkg/versions"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/composer-orchestrator/composer/engine"
)

// API versions at which the engine's behaviour changes in ways we depend on.
const (
	// apiMultiNetworkCreate: from 1.44 the engine accepts several networks
	// in NetworkingConfig at create, and honours an endpoint's MacAddress.
	apiMultiNetworkCreate = "1.44"
	// apiCreateMountpoint: from 1.42 a bind mount in Mounts can ask the
	// engine to create a missing host path.
	apiCreateMountpoint = "1.42"
	// apiVolumeSubpath: from 1.45 volume mounts accept a subpath.
	apiVolumeSubpath = "1.45"
)

// toCreateOptions converts a ContainerSpec to the engine's create request
// for an engine speaking apiVersion. It is pure. Before API 1.44 the engine
// takes only one network at create: the first is passed then and the others
// are returned in connect, to be connected before the container starts.
func toCreateOptions(spec engine.ContainerSpec, apiVersion string) (opts client.ContainerCreateOptions, connect []engine.EndpointSpec, err error) {
	cfg := toConfig(spec)
	host, errs := toHostConfig(spec, apiVersion)
	errs = append(errs, addPorts(cfg, host, spec)...)
	var platform *ocispec.Platform
	if spec.Platform != "" {
		p, err := parsePlatform(spec.Platform)
		if err != nil {
			errs = append(errs, err)
		}
		platform = p
	}
	netCfg, connect, netErrs := toNetworking(spec, host, apiVersion)
	errs = append(errs, netErrs...)
	if err := errors.Join(errs...); err != nil {
		return client.ContainerCreateOptions{}, nil, fmt.Errorf("invalid container spec: %w", err)
	}
	return client.ContainerCreateOptions{
		Name:             spec.Name,
		Config:           cfg,
		HostConfig:       host,
		NetworkingConfig: netCfg,
		Platform:         platform,
	}, connect, nil
}

// toConfig is the part of the create request about the process.
func toConfig(spec engine.ContainerSpec) *container.Config {
	cfg := &container.Config{
		Hostname:     spec.Hostname,
		Domainname:   spec.Domainname,
		User:         spec.User,
		AttachStdin:  spec.AttachStdin,
		AttachStdout: spec.AttachStdout,
		AttachStderr: spec.AttachStderr,
		Tty:          spec.TTY,
		OpenStdin:    spec.OpenStdin,
		StdinOnce:    spec.StdinOnce,
		Env:          spec.Env,
		Cmd:          spec.Cmd,
		Image:        spec.Image,
		WorkingDir:   spec.WorkingDir,
		Entrypoint:   spec.Entrypoint,
		Labels:       spec.Labels,
		StopSignal:   spec.StopSignal,
		StopTimeout:  spec.StopTimeout,
	}
	if hc := spec.Healthcheck; hc != nil {
		cfg.Healthcheck = &container.HealthConfig{
			Test:          hc.Test,
			Interval:      hc.Interval,
			Timeout:       hc.Timeout,
			StartPeriod:   hc.StartPeriod,
			StartInterval: hc.StartInterval,
			Retries:       hc.Retries,
		}
	}

	return cfg
}

// toHostConfig is the part of the create request about the host: limits,
// namespaces, devices and mounts.
func toHostConfig(spec engine.ContainerSpec, apiVersion string) (*container.HostConfig, []error) {
	var errs []error
	host := &container.HostConfig{
		NetworkMode:    container.NetworkMode(spec.NetworkMode),
		RestartPolicy:  container.RestartPolicy{Name: container.RestartPolicyMode(spec.Restart.Name), MaximumRetryCount: spec.Restart.MaxRetries},
		VolumesFrom:    spec.VolumesFrom,
		CapAdd:         spec.CapAdd,
		CapDrop:        spec.CapDrop,
		DNSOptions:     spec.DNSOptions,
		DNSSearch:      spec.DNSSearch,
		ExtraHosts:     spec.ExtraHosts,
		GroupAdd:       spec.GroupAdd,
		IpcMode:        container.IpcMode(spec.IpcMode),
		Links:          spec.Links,
		OomScoreAdj:    spec.OomScoreAdj,
		PidMode:        container.PidMode(spec.PidMode),
		Privileged:     spec.Privileged,
		ReadonlyRootfs: spec.ReadOnly,
		SecurityOpt:    spec.SecurityOpt,
		Tmpfs:          spec.Tmpfs,
		UsernsMode:     container.UsernsMode(spec.UsernsMode),
		ShmSize:        spec.ShmSize,
		Sysctls:        spec.Sysctls,
		Runtime:        spec.Runtime,
		Init:           spec.Init,
		Resources: container.Resources{
			CPUShares:         spec.Resources.CPUShares,
			Memory:            spec.Resources.Memory,
			NanoCPUs:          spec.Resources.NanoCPUs,
			CgroupParent:      spec.CgroupParent,
			CPUPeriod:         spec.Resources.CPUPeriod,
			CPUQuota:          spec.Resources.CPUQuota,
			CpusetCpus:        spec.Resources.CPUSet,
			MemoryReservation: spec.Resources.MemoryReservation,
			MemorySwap:        spec.Resources.MemorySwap,
			MemorySwappiness:  spec.Resources.MemSwappiness,
			OomKillDisable:    spec.Resources.OomKillDisable,
			PidsLimit:         spec.Resources.PidsLimit,
		},
	}
	if spec.LogDriver != "" || len(spec.LogOpts) > 0 {
		host.LogConfig = container.LogConfig{Type: spec.LogDriver, Config: spec.LogOpts}
	}
	for _, s := range spec.DNS {
		a, err := netip.ParseAddr(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("dns server %q: %w", s, err))
			continue
		}
		host.DNS = append(host.DNS, a)
	}
	for _, u := range spec.Ulimits {
		host.Ulimits = append(host.Ulimits, &container.Ulimit{Name: u.Name, Soft: u.Soft, Hard: u.Hard})
	}
	for _, d := range spec.Devices {
		perms := d.CgroupPermissions
		if perms == "" {
			perms = "rwm" // what the docker CLI sends for a bare --device
		}
		target := d.PathInContainer
		if target == "" {
			target = d.PathOnHost
		}
		host.Devices = append(host.Devices, container.DeviceMapping{PathOnHost: d.PathOnHost, PathInContainer: target, CgroupPermissions: perms})
	}

	for _, m := range spec.Mounts {
		bind, mnt, err := toMount(m, apiVersion)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if bind != "" {
			host.Binds = append(host.Binds, bind)
		} else {
			host.Mounts = append(host.Mounts, mnt)
		}
	}

	return host, errs
}

// addPorts exposes and publishes the spec's ports.
func addPorts(cfg *container.Config, host *container.HostConfig, spec engine.ContainerSpec) []error {
	var errs []error
	// Ports: every published port is also exposed, as the docker CLI does,
	// so that the engine's view (and `ps`) lists it.
	for _, s := range spec.ExposedPorts {
		pr, err := network.ParsePortRange(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("exposed port %q: %w", s, err))
			continue
		}
		for p := range pr.All() {
			if cfg.ExposedPorts == nil {
				cfg.ExposedPorts = network.PortSet{}
			}
			cfg.ExposedPorts[p] = struct{}{}
		}
	}
	for _, pb := range spec.Ports {
		proto := pb.Protocol
		if proto == "" {
			proto = "tcp"
		}
		p, ok := network.PortFrom(pb.ContainerPort, network.IPProtocol(strings.ToLower(proto)))
		if !ok || pb.ContainerPort == 0 {
			errs = append(errs, fmt.Errorf("published port %d/%s: invalid container port", pb.ContainerPort, proto))
			continue
		}
		binding := network.PortBinding{HostPort: pb.HostPort}
		if binding.HostPort == "0" {
			binding.HostPort = "" // the engine picks a free port for ""
		}
		if pb.HostIP != "" {
			a, err := netip.ParseAddr(strings.Trim(pb.HostIP, "[]"))
			if err != nil {
				errs = append(errs, fmt.Errorf("published port %d/%s: host ip %q: %w", pb.ContainerPort, proto, pb.HostIP, err))
				continue
			}
			binding.HostIP = a
		}
		if cfg.ExposedPorts == nil {
			cfg.ExposedPorts = network.PortSet{}
		}
		cfg.ExposedPorts[p] = struct{}{}
		if host.PortBindings == nil {
			host.PortBindings = network.PortMap{}
		}
		host.PortBindings[p] = append(host.PortBindings[p], binding)
	}

	return errs
}

// toNetworking is the create request's network part, and the endpoints to
// connect after create on engines that take one network at create.
func toNetworking(spec engine.ContainerSpec, host *container.HostConfig, apiVersion string) (netCfg *network.NetworkingConfig, connect []engine.EndpointSpec, errs []error) {
	multiNetwork := versions.GreaterThanOrEqualTo(apiVersion, apiMultiNetworkCreate)
	// Networks. A mode other than a network name (host, none, container:x)
	// leaves no endpoints to configure.
	if len(spec.Networks) > 0 {
		if host.NetworkMode == "" {
			host.NetworkMode = container.NetworkMode(spec.Networks[0].Network)
		}
		first := spec.Networks[:1]
		if multiNetwork {
			first = spec.Networks
		} else {
			connect = slices.Clone(spec.Networks[1:])
			// Converted again when connected; checked now so that a bad
			// address fails the create before a container exists.
			for _, ep := range connect {
				if _, err := toEndpointSettings(ep); err != nil {
					errs = append(errs, err)
				}
			}
		}
		netCfg = &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{}}
		for i, ep := range first {
			es, err := toEndpointSettings(ep)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if i == 0 && spec.MacAddress != "" && len(es.MacAddress) == 0 {
				// API 1.44 moved the container's MAC address to the
				// endpoint; the first network is where it used to apply.
				hw, err := parseMAC(spec.MacAddress)
				if err != nil {
					errs = append(errs, err)
				}
				es.MacAddress = hw
			}
			netCfg.EndpointsConfig[ep.Network] = es
		}
	}
	if spec.MacAddress != "" && !multiNetwork {
		// Older engines only read the MAC address from the container
		// config, a field the current API types no longer carry.
		errs = append(errs, fmt.Errorf("mac_address needs API %s or later, the engine speaks %s", apiMultiNetworkCreate, apiVersion))
	}
	for _, ep := range spec.Networks {
		if ep.MacAddress != "" && !multiNetwork {
			errs = append(errs, fmt.Errorf("network %s: mac_address needs API %s or later, the engine speaks %s", ep.Network, apiMultiNetworkCreate, apiVersion))
		}
	}

	return netCfg, connect, errs
}

// toMount converts one mount. A bind mount that must create its host path is
// returned as a legacy "src:dst[:opts]" bind string on engines older than
// 1.42: the Mounts API there refuses a missing source, while Binds creates it.
func toMount(m engine.Mount, apiVersion string) (bind string, mnt mount.Mount, err error) {
	mnt = mount.Mount{Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly}
	if m.Target == "" {
		return "", mnt, fmt.Errorf("%s mount of %q: empty target", m.Type, m.Source)
	}
	switch m.Type {
	case engine.MountVolume:
		mnt.Type = mount.TypeVolume
		if m.Subpath != "" && versions.LessThan(apiVersion, apiVolumeSubpath) {
			return "", mnt, fmt.Errorf("volume mount %s: subpath needs API %s or later, the engine speaks %s", m.Target, apiVolumeSubpath, apiVersion)
		}
		if m.NoCopy || m.Subpath != "" || len(m.VolumeLabels) > 0 {
			mnt.VolumeOptions = &mount.VolumeOptions{NoCopy: m.NoCopy, Subpath: m.Subpath, Labels: m.VolumeLabels}
		}
	case engine.MountBind:
		if m.Source == "" {
			return "", mnt, fmt.Errorf("bind mount %s: empty source", m.Target)
		}
		mnt.Type = mount.TypeBind
		if m.CreateHostPath && versions.LessThan(apiVersion, apiCreateMountpoint) {
			bind = m.Source + ":" + m.Target
			var opts []string
			if m.ReadOnly {
				opts = append(opts, "ro")
			}
			if m.Propagation != "" {
				opts = append(opts, m.Propagation)
			}
			if len(opts) > 0 {
				bind += ":" + strings.Join(opts, ",")
			}
			return bind, mount.Mount{}, nil
		}
		if m.Propagation != "" || m.CreateHostPath {
			mnt.BindOptions = &mount.BindOptions{Propagation: mount.Propagation(m.Propagation), CreateMountpoint: m.CreateHostPath}
		}
	case engine.MountTmpfs:
		mnt.Type = mount.TypeTmpfs
		mnt.Source = ""
		if m.TmpfsSize != 0 || m.TmpfsMode != 0 {
			mnt.TmpfsOptions = &mount.TmpfsOptions{SizeBytes: m.TmpfsSize, Mode: os.FileMode(m.TmpfsMode)}
		}
	default:
		return "", mnt, fmt.Errorf("mount %s: unknown type %q", m.Target, m.Type)
	}
	return "", mnt, nil
}

// toEndpointSettings converts one network attachment.
func toEndpointSettings(ep engine.EndpointSpec) (*network.EndpointSettings, error) {
	es := &network.EndpointSettings{
		Aliases:    ep.Aliases,
		Links:      ep.Links,
		GwPriority: ep.Priority,
	}
	var errs []error
	if ep.IPv4Address != "" || ep.IPv6Address != "" {
		es.IPAMConfig = &network.EndpointIPAMConfig{}
		if ep.IPv4Address != "" {
			a, err := netip.ParseAddr(ep.IPv4Address)
			if err != nil {
				errs = append(errs, fmt.Errorf("network %s: ipv4_address: %w", ep.Network, err))
			}
			es.IPAMConfig.IPv4Address = a
		}
		if ep.IPv6Address != "" {
			a, err := netip.ParseAddr(ep.IPv6Address)
			if err != nil {
				errs = append(errs, fmt.Errorf("network %s: ipv6_address: %w", ep.Network, err))
			}
			es.IPAMConfig.IPv6Address = a
		}
	}
	if ep.MacAddress != "" {
		hw, err := parseMAC(ep.MacAddress)
		if err != nil {
			errs = append(errs, fmt.Errorf("network %s: %w", ep.Network, err))
		}
		es.MacAddress = hw
	}
	return es, errors.Join(errs...)
}

func parseMAC(s string) (network.HardwareAddr, error) {
	var hw network.HardwareAddr
	if err := hw.UnmarshalText([]byte(s)); err != nil {
		return nil, fmt.Errorf("mac address %q: %w", s, err)
	}
	return hw, nil
}

// parsePlatform parses "os[/arch[/variant]]".
func parsePlatform(s string) (*ocispec.Platform, error) {
	parts := strings.Split(s, "/")
	if len(parts) > 3 || parts[0] == "" || slices.Contains(parts, "") {
		return nil, fmt.Errorf("platform %q: want os[/arch[/variant]]", s)
	}
	p := &ocispec.Platform{OS: parts[0]}
	if len(parts) > 1 {
		p.Architecture = parts[1]
	}
	if len(parts) > 2 {
		p.Variant = parts[2]
	}
	return p, nil
}

// toNetworkCreate converts a NetworkSpec to the engine's create options.
func toNetworkCreate(spec engine.NetworkSpec) (client.NetworkCreateOptions, error) {
	opts := client.NetworkCreateOptions{
		Driver:     spec.Driver,
		Options:    spec.DriverOpts,
		Labels:     spec.Labels,
		Internal:   spec.Internal,
		Attachable: spec.Attachable,
		EnableIPv6: spec.EnableIPv6,
	}
	ipam := spec.IPAM
	if ipam.Driver == "" && len(ipam.Configs) == 0 && len(ipam.Options) == 0 {
		return opts, nil
	}
	var errs []error
	opts.IPAM = &network.IPAM{Driver: ipam.Driver, Options: ipam.Options}
	for _, c := range ipam.Configs {
		var ic network.IPAMConfig
		var err error
		if c.Subnet != "" {
			if ic.Subnet, err = netip.ParsePrefix(c.Subnet); err != nil {
				errs = append(errs, fmt.Errorf("subnet: %w", err))
			}
		}
		if c.IPRange != "" {
			if ic.IPRange, err = netip.ParsePrefix(c.IPRange); err != nil {
				errs = append(errs, fmt.Errorf("ip_range: %w", err))
			}
		}
		if c.Gateway != "" {
			if ic.Gateway, err = netip.ParseAddr(c.Gateway); err != nil {
				errs = append(errs, fmt.Errorf("gateway: %w", err))
			}
		}
		for k, v := range c.AuxAddress {
			a, err := netip.ParseAddr(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("aux_address %s: %w", k, err))
				continue
			}
			if ic.AuxAddress == nil {
				ic.AuxAddress = map[string]netip.Addr{}
			}
			ic.AuxAddress[k] = a
		}
		opts.IPAM.Config = append(opts.IPAM.Config, ic)
	}
	if err := errors.Join(errs...); err != nil {
		return client.NetworkCreateOptions{}, fmt.Errorf("invalid network spec: %w", err)
	}
	return opts, nil
}

// healthFromStatus reads the health out of the engine's status text, the
// only place a list call reports it on older engines: "Up 3 seconds
// (healthy)", "(unhealthy)", "(health: starting)".
func healthFromStatus(status string) engine.Health {
	switch {
	case strings.Contains(status, "(healthy)"):
		return engine.HealthHealthy
	case strings.Contains(status, "(unhealthy)"):
		return engine.HealthUnhealthy
	case strings.Contains(status, "(health: starting)"):
		return engine.HealthStarting
	}
	return engine.HealthNone
}

func toHealth(s container.HealthStatus) engine.Health {
	switch s {
	case container.Healthy:
		return engine.HealthHealthy
	case container.Unhealthy:
		return engine.HealthUnhealthy
	case container.Starting:
		return engine.HealthStarting
	}
	return engine.HealthNone
}

// containerName picks the container's own name out of a list entry's names;
// older engines also list the names it has through links ("/web/db").
func containerName(names []string) string {
	for _, n := range names {
		n = strings.TrimPrefix(n, "/")
		if !strings.Contains(n, "/") {
			return n
		}
	}
	if len(names) > 0 {
		return strings.TrimPrefix(names[0], "/")
	}
	return ""
}

func fromSummary(s container.Summary) engine.Container {
	c := engine.Container{
		ID:      s.ID,
		Name:    containerName(s.Names),
		Image:   s.Image,
		ImageID: s.ImageID,
		Labels:  s.Labels,
		State:   engine.ContainerState(s.State),
		Status:  s.Status,
		Health:  healthFromStatus(s.Status),
		Created: time.Unix(s.Created, 0),
		Command: s.Command,
	}
	if s.Health != nil && s.Health.Status != "" && s.Health.Status != container.NoHealthcheck {
		c.Health = toHealth(s.Health.Status)
	}
	for _, p := range s.Ports {
		c.Ports = append(c.Ports, engine.PortSummary{IP: addrString(p.IP), PrivatePort: p.PrivatePort, PublicPort: p.PublicPort, Protocol: p.Type})
	}
	if s.NetworkSettings != nil {
		for name := range s.NetworkSettings.Networks {
			c.Networks = append(c.Networks, name)
		}
		slices.Sort(c.Networks)
	}
	for _, m := range s.Mounts {
		c.Mounts = append(c.Mounts, fromMountPoint(m))
	}
	return c
}

func fromMountPoint(m container.MountPoint) engine.MountPoint {
	return engine.MountPoint{Type: string(m.Type), Name: m.Name, Source: m.Source, Destination: m.Destination, ReadOnly: !m.RW}
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// parseTime reads the engine's RFC 3339 timestamps; the engine writes the
// zero time as "0001-01-01T00:00:00Z", which parses to the zero time.
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

func fromInspect(r container.InspectResponse) engine.ContainerDetails {
	d := engine.ContainerDetails{
		Container: engine.Container{
			ID:      r.ID,
			Name:    strings.TrimPrefix(r.Name, "/"),
			ImageID: r.Image,
			Created: parseTime(r.Created),
			Command: strings.TrimSpace(strings.Join(append([]string{r.Path}, r.Args...), " ")),
		},
		RestartCount: r.RestartCount,
	}
	if cfg := r.Config; cfg != nil {
		d.Image = cfg.Image
		d.Labels = cfg.Labels
		d.TTY = cfg.Tty
		d.Env = cfg.Env
		d.User = cfg.User
		d.WorkingDir = cfg.WorkingDir
	}
	if st := r.State; st != nil {
		d.State = engine.ContainerState(st.Status)
		d.Status = string(st.Status)
		d.ExitCode = st.ExitCode
		d.OOMKilled = st.OOMKilled
		d.Error = st.Error
		d.Pid = st.Pid
		d.StartedAt = parseTime(st.StartedAt)
		d.FinishedAt = parseTime(st.FinishedAt)
		if h := st.Health; h != nil {
			d.Health = toHealth(h.Status)
			for _, l := range h.Log {
				if l != nil {
					d.HealthLog = append(d.HealthLog, l.Output)
				}
			}
		}
	}
	for _, m := range r.Mounts {
		d.Mounts = append(d.Mounts, fromMountPoint(m))
	}
	if ns := r.NetworkSettings; ns != nil {
		for p, bindings := range ns.Ports {
			if len(bindings) == 0 {
				d.Ports = append(d.Ports, engine.PortSummary{PrivatePort: p.Num(), Protocol: string(p.Proto())})
			}
			for _, b := range bindings {
				public, _ := strconv.ParseUint(b.HostPort, 10, 16) // "" for an unpublished port
				d.Ports = append(d.Ports, engine.PortSummary{IP: addrString(b.HostIP), PrivatePort: p.Num(), PublicPort: uint16(public), Protocol: string(p.Proto())})
			}
		}
		slices.SortFunc(d.Ports, func(a, b engine.PortSummary) int {
			return strings.Compare(fmt.Sprintf("%05d/%s/%s", a.PrivatePort, a.Protocol, a.IP), fmt.Sprintf("%05d/%s/%s", b.PrivatePort, b.Protocol, b.IP))
		})
		for name, ep := range ns.Networks {
			d.Networks = append(d.Networks, name)
			if d.NetworkIPs == nil {
				d.NetworkIPs = map[string]string{}
			}
			if ep != nil {
				d.NetworkIPs[name] = addrString(ep.IPAddress)
			}
		}
		slices.Sort(d.Networks)
	}
	d.Config = fromInspectConfig(r)
	return d
}

// fromInspectConfig reads a container's configuration back in the form it
// was created from: the inverse of toCreateOptions. What the engine filled
// in is reported as the engine has it: the image's defaults merged into
// Env, Cmd, Entrypoint, Labels, WorkingDir, User, ExposedPorts, StopSignal
// and Healthcheck, and the engine's defaults (a hostname that is the short
// id, NetworkMode "default", the log driver and its options, ShmSize,
// IpcMode, Runtime, "CAP_"-prefixed capabilities, MemorySwap...). A few
// answers are normalised so that equal requests read back equal whatever
// the API version:
//
//   - Ports are what was asked (HostConfig.PortBindings), not the ports
//     bound while running; ExposedPorts are all the exposed ports, the
//     image's and the published ones included.
//   - Mounts come from the inspect Mounts list, the container's mounts as
//     it has them (anonymous volumes by their generated names, the image's
//     VOLUMEs and volumes-from included), whether the create sent them as
//     Binds strings or as Mounts, sorted by target. The options only the
//     request holds (tmpfs size and mode, volume nocopy, subpath and
//     labels, a bind's create-host-path) are added from HostConfig.Mounts
//     and HostConfig.Binds: a bind given as a Binds string creates its host
//     path. HostConfig.Tmpfs stays in Tmpfs.
//   - Networks are the endpoints the container has, the one NetworkMode
//     names first, then by name; MacAddress is left out (after a start it
//     is the generated address, not what was asked). Engines before API
//     1.45 add the container's short id, and after it its hostname, to
//     the aliases of a user-defined network; those two are dropped, so
//     Aliases is what the create asked for.
//   - Links read back as "name:alias" (the engine stores "/name:/self/alias").
//   - Restart.Name is "no" when none was set; unset pointer limits the
//     engine reports as a value meaning "unset" (PidsLimit 0,
//     MemorySwappiness -1, OomKillDisable false) are nil.
//   - Platform is known only from engines reporting the image's manifest
//     descriptor (API 1.48 and later); it is empty otherwise. MacAddress
//     is never reported.
func fromInspectConfig(r container.InspectResponse) engine.ContainerSpec {
	spec := engine.ContainerSpec{Name: strings.TrimPrefix(r.Name, "/")}
	if cfg := r.Config; cfg != nil {
		spec.Image = cfg.Image
		spec.Labels = cloneMap(cfg.Labels)
		spec.Env = cloneSlice(cfg.Env)
		spec.Cmd = cloneSlice(cfg.Cmd)
		spec.Entrypoint = cloneSlice(cfg.Entrypoint)
		spec.WorkingDir = cfg.WorkingDir
		spec.User = cfg.User
		spec.Hostname = cfg.Hostname
		spec.Domainname = cfg.Domainname
		spec.TTY, spec.OpenStdin, spec.StdinOnce = cfg.Tty, cfg.OpenStdin, cfg.StdinOnce
		spec.AttachStdin, spec.AttachStdout, spec.AttachStderr = cfg.AttachStdin, cfg.AttachStdout, cfg.AttachStderr
		spec.StopSignal = cfg.StopSignal
		if cfg.StopTimeout != nil {
			spec.StopTimeout = new(*cfg.StopTimeout)
		}
		spec.Healthcheck = fromHealthConfig(cfg.Healthcheck)
		var exposed []string
		for p := range cfg.ExposedPorts {
			exposed = append(exposed, p.String())
		}
		spec.ExposedPorts = sortedPorts(exposed)
	}
	if host := r.HostConfig; host != nil {
		fromHostConfig(host, &spec)
	}
	spec.Mounts = fromMounts(r.Mounts, r.HostConfig)
	if ns := r.NetworkSettings; ns != nil {
		var shortID string
		if len(r.ID) >= 12 {
			shortID = r.ID[:12]
		}
		spec.Networks = fromEndpoints(ns.Networks, spec.NetworkMode, shortID, spec.Hostname)
	}
	if d := r.ImageManifestDescriptor; d != nil && d.Platform != nil && d.Platform.OS != "" {
		spec.Platform = strings.Join(slices.DeleteFunc([]string{d.Platform.OS, d.Platform.Architecture, d.Platform.Variant}, func(s string) bool { return s == "" }), "/")
	}
	return spec
}

// fromHostConfig is the inverse of toHostConfig and of addPorts' bindings.
func fromHostConfig(host *container.HostConfig, spec *engine.ContainerSpec) {
	spec.NetworkMode = string(host.NetworkMode)
	spec.Restart = engine.RestartPolicy{Name: string(host.RestartPolicy.Name), MaxRetries: host.RestartPolicy.MaximumRetryCount}
	if spec.Restart.Name == "" {
		spec.Restart.Name = string(container.RestartPolicyDisabled)
	}
	spec.VolumesFrom = cloneSlice(host.VolumesFrom)
	spec.CapAdd = cloneSlice(host.CapAdd)
	spec.CapDrop = cloneSlice(host.CapDrop)
	spec.DNSOptions = cloneSlice(host.DNSOptions)
	spec.DNSSearch = cloneSlice(host.DNSSearch)
	spec.ExtraHosts = cloneSlice(host.ExtraHosts)
	spec.GroupAdd = cloneSlice(host.GroupAdd)
	spec.IpcMode = string(host.IpcMode)
	spec.PidMode = string(host.PidMode)
	spec.UsernsMode = string(host.UsernsMode)
	spec.OomScoreAdj = host.OomScoreAdj
	spec.Privileged = host.Privileged
	spec.ReadOnly = host.ReadonlyRootfs
	spec.SecurityOpt = cloneSlice(host.SecurityOpt)
	spec.Tmpfs = cloneMap(host.Tmpfs)
	spec.ShmSize = host.ShmSize
	spec.Sysctls = cloneMap(host.Sysctls)
	spec.Runtime = host.Runtime
	if host.Init != nil {
		spec.Init = new(*host.Init)
	}
	spec.LogDriver = host.LogConfig.Type
	spec.LogOpts = cloneMap(host.LogConfig.Config)
	for _, a := range host.DNS {
		spec.DNS = append(spec.DNS, addrString(a))
	}
	for _, l := range host.Links {
		spec.Links = append(spec.Links, fromLink(l))
	}
	res := host.Resources
	spec.CgroupParent = res.CgroupParent
	spec.Resources = engine.Resources{
		Memory:            res.Memory,
		MemoryReservation: res.MemoryReservation,
		MemorySwap:        res.MemorySwap,
		NanoCPUs:          res.NanoCPUs,
		CPUShares:         res.CPUShares,
		CPUQuota:          res.CPUQuota,
		CPUPeriod:         res.CPUPeriod,
		CPUSet:            res.CpusetCpus,
	}
	if p := res.MemorySwappiness; p != nil && *p != -1 {
		spec.Resources.MemSwappiness = new(*p)
	}
	if p := res.PidsLimit; p != nil && *p != 0 {
		spec.Resources.PidsLimit = new(*p)
	}
	if p := res.OomKillDisable; p != nil && *p {
		spec.Resources.OomKillDisable = new(true)
	}
	for _, u := range res.Ulimits {
		if u != nil {
			spec.Ulimits = append(spec.Ulimits, engine.Ulimit{Name: u.Name, Soft: u.Soft, Hard: u.Hard})
		}
	}
	for _, d := range res.Devices {
		spec.Devices = append(spec.Devices, engine.Device{PathOnHost: d.PathOnHost, PathInContainer: d.PathInContainer, CgroupPermissions: d.CgroupPermissions})
	}
	ports := slices.Collect(maps.Keys(host.PortBindings))
	slices.SortFunc(ports, comparePorts)
	for _, p := range ports {
		for _, b := range host.PortBindings[p] {
			spec.Ports = append(spec.Ports, engine.PortBinding{ContainerPort: p.Num(), Protocol: string(p.Proto()), HostIP: addrString(b.HostIP), HostPort: b.HostPort})
		}
	}
}

// fromLink turns a link as the engine stores it, "/name:/self/alias",
// back into the "name:alias" form a create takes.
func fromLink(l string) string {
	name, alias, ok := strings.Cut(l, ":")
	if !ok || !strings.HasPrefix(name, "/") || !strings.HasPrefix(alias, "/") {
		return l
	}
	return strings.TrimPrefix(name, "/") + ":" + path.Base(alias)
}

func fromHealthConfig(hc *container.HealthConfig) *engine.Healthcheck {
	if hc == nil {
		return nil
	}
	return &engine.Healthcheck{
		Test:          cloneSlice(hc.Test),
		Interval:      hc.Interval,
		Timeout:       hc.Timeout,
		StartPeriod:   hc.StartPeriod,
		StartInterval: hc.StartInterval,
		Retries:       hc.Retries,
	}
}

// fromMounts reports the container's mounts as it has them, with the
// options only the create request holds. See fromInspectConfig.
func fromMounts(points []container.MountPoint, host *container.HostConfig) []engine.Mount {
	asked := map[string]mount.Mount{} // by target
	bindTargets := map[string]bool{}
	var tmpfs map[string]string
	if host != nil {
		for _, m := range host.Mounts {
			asked[m.Target] = m
		}
		for _, b := range host.Binds {
			// "source:target[:options]"; the target is a Linux path.
			if parts := strings.Split(b, ":"); len(parts) >= 2 {
				bindTargets[parts[1]] = true
			}
		}
		tmpfs = host.Tmpfs
	}
	var out []engine.Mount
	for _, p := range points {
		m := engine.Mount{Type: engine.MountType(p.Type), Source: p.Source, Target: p.Destination, ReadOnly: !p.RW}
		a, isAsked := asked[p.Destination]
		isAsked = isAsked && a.Type == p.Type
		switch p.Type {
		case mount.TypeVolume:
			m.Source = p.Name
			if isAsked && a.VolumeOptions != nil {
				m.NoCopy = a.VolumeOptions.NoCopy
				m.Subpath = a.VolumeOptions.Subpath
				m.VolumeLabels = cloneMap(a.VolumeOptions.Labels)
			}
		case mount.TypeBind:
			m.Propagation = string(p.Propagation)
			m.CreateHostPath = bindTargets[p.Destination] || (isAsked && a.BindOptions != nil && a.BindOptions.CreateMountpoint)
		case mount.TypeTmpfs:
			if _, ok := tmpfs[p.Destination]; ok {
				continue // reported in Tmpfs, as it was asked
			}
			m.Source = ""
			if isAsked && a.TmpfsOptions != nil {
				m.TmpfsSize = a.TmpfsOptions.SizeBytes
				m.TmpfsMode = uint32(a.TmpfsOptions.Mode)
			}
		}
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b engine.Mount) int { return strings.Compare(a.Target, b.Target) })
	return out
}

// fromEndpoints reports the networks a container is attached to, the one
// its network mode names first and the others by name, with the aliases
// that were asked for: the short id and hostname the engine adds on old
// API versions are dropped (see userAliases).
func fromEndpoints(eps map[string]*network.EndpointSettings, mode, shortID, hostname string) []engine.EndpointSpec {
	names := slices.Sorted(maps.Keys(eps))
	if i := slices.Index(names, mode); i > 0 {
		names = slices.Insert(slices.Delete(names, i, i+1), 0, mode)
	}
	var out []engine.EndpointSpec
	for _, name := range names {
		ep := engine.EndpointSpec{Network: name}
		if es := eps[name]; es != nil {
			ep.Aliases = userAliases(es.Aliases, shortID, hostname)
			ep.Links = cloneSlice(es.Links)
			ep.Priority = es.GwPriority
			if ipam := es.IPAMConfig; ipam != nil {
				ep.IPv4Address = addrString(ipam.IPv4Address)
				ep.IPv6Address = addrString(ipam.IPv6Address)
			}
		}
		out = append(out, ep)
	}
	return out
}

// userAliases drops from an endpoint's aliases those the engine added
// itself. Before API 1.45 the engine appends the container's short id to
// the aliases on a user-defined network (at connect, or at the first
// start for the network it was created on) and, when the hostname differs
// from the container's name, the hostname after it, unless already there.
// Whatever follows the short id was therefore added by the engine, while
// a hostname the create asked for as an alias comes before it and stays.
func userAliases(aliases []string, shortID, hostname string) []string {
	i := slices.Index(aliases, shortID)
	if shortID == "" || i < 0 {
		return cloneSlice(aliases)
	}
	out := slices.Clone(aliases[:i])
	for _, a := range aliases[i+1:] {
		if a != hostname && a != shortID {
			out = append(out, a)
		}
	}
	return cloneSlice(out)
}

// sortedPorts sorts "80/tcp" forms by number, then protocol; what does
// not parse goes last.
func sortedPorts(ports []string) []string {
	var parsed []network.Port
	var other []string
	for _, s := range ports {
		if np, err := network.ParsePort(s); err == nil {
			parsed = append(parsed, np)
		} else {
			other = append(other, s)
		}
	}
	slices.SortFunc(parsed, comparePorts)
	slices.Sort(other)
	var out []string
	for _, p := range parsed {
		out = append(out, p.String())
	}
	return append(out, other...)
}

func comparePorts(a, b network.Port) int {
	if c := cmp.Compare(a.Num(), b.Num()); c != 0 {
		return c
	}
	return strings.Compare(string(a.Proto()), string(b.Proto()))
}

// cloneSlice copies s; empty is nil, so that equal configurations compare
// equal however the engine encoded "none".
func cloneSlice[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}

// cloneMap copies m; empty is nil, as for cloneSlice.
func cloneMap[K comparable, V any](m map[K]V) map[K]V {
	if len(m) == 0 {
		return nil
	}
	return maps.Clone(m)
}

func fromNetwork(n network.Network) engine.Network {
	return engine.Network{ID: n.ID, Name: n.Name, Driver: n.Driver, Labels: n.Labels, Internal: n.Internal, Created: n.Created}
}

func fromVolume(v volume.Volume) engine.Volume {
	return engine.Volume{Name: v.Name, Driver: v.Driver, Labels: v.Labels, Mountpoint: v.Mountpoint, CreatedAt: parseTime(v.CreatedAt)}
}

func fromImageInspect(r image.InspectResponse) engine.Image {
	img := engine.Image{ID: r.ID, RepoTags: r.RepoTags, Size: r.Size, Created: parseTime(r.Created)}
	if c := r.Config; c != nil {
		img.Labels = c.Labels
		img.Config = engine.ImageConfig{
			Env:          cloneSlice(c.Env),
			Cmd:          cloneSlice(c.Cmd),
			Entrypoint:   cloneSlice(c.Entrypoint),
			WorkingDir:   c.WorkingDir,
			User:         c.User,
			StopSignal:   c.StopSignal,
			Labels:       cloneMap(c.Labels),
			ExposedPorts: sortedPorts(slices.Collect(maps.Keys(c.ExposedPorts))),
			Healthcheck:  fromHealthConfig(c.Healthcheck),
		}
		for v := range c.Volumes {
			img.Config.Volumes = append(img.Config.Volumes, v)
		}
		slices.Sort(img.Config.Volumes)
	}
	return img
}
