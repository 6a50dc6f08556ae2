package stack

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/api/types/swarm"

	"github.com/composer-orchestrator/composer/engine"
)

// defaultNetwork is the network a service without networks joins, as
// under up: <project>_default.
const defaultNetwork = "default"

// overlayDriver is the driver of the networks the stack creates: a service's
// network must reach every node its tasks may run on.
const overlayDriver = "overlay"

// predefinedNetworks are networks every engine has, which a service can
// join by name. They take no aliases.
var predefinedNetworks = map[string]bool{"host": true, "bridge": true, "none": true}

// attachments are the networks the service's tasks join, sorted by
// target. The stack's networks are created as needed.
func (c *converter) attachments(s types.ServiceConfig, n *notes) []swarm.NetworkAttachmentConfig {
	switch mode := s.NetworkMode; {
	case mode == "host":
		return []swarm.NetworkAttachmentConfig{{Target: mode}}
	case mode == "bridge":
		n.approximate("network_mode", "bridge: the tasks join each node's bridge network, where other services cannot reach them by name")
		return []swarm.NetworkAttachmentConfig{{Target: mode}}
	case mode == "none":
		n.approximate("network_mode", "none: the service joins no stack network; Swarm cannot attach a service to the none network")
		return nil
	case mode != "":
		n.ignore("network_mode", mode+": Swarm cannot share another container's network; the service joins the stack's default network")
	}
	nets := s.Networks
	if len(nets) == 0 {
		nets = map[string]*types.ServiceNetworkConfig{defaultNetwork: nil}
	}
	var out []swarm.NetworkAttachmentConfig
	for _, key := range slices.Sorted(maps.Keys(nets)) {
		cfg := nets[key]
		target := c.networkTarget(key)
		att := swarm.NetworkAttachmentConfig{Target: target}
		if cfg != nil {
			att.DriverOpts = cloneMap(cfg.DriverOpts)
			checkAttachment(key, cfg, n)
		}
		if !predefinedNetworks[target] {
			att.Aliases = networkAliases(s.Name, cfg)
		}
		out = append(out, att)
	}
	slices.SortFunc(out, func(a, b swarm.NetworkAttachmentConfig) int { return cmp.Compare(a.Target, b.Target) })
	return out
}

// networkAliases are a service's aliases on one network, with the compose
// service's name unless the file says not to: services find each other
// by their compose names, as under up, and not only by their swarm names.
func networkAliases(service string, cfg *types.ServiceNetworkConfig) []string {
	var out []string
	if cfg != nil {
		out = append(out, cfg.Aliases...)
	}
	if cfg.ServiceNameAliasEnabled() {
		out = append(out, service)
	}
	if len(out) == 0 {
		return nil
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// checkAttachment warns about what a swarm network attachment cannot
// hold: tasks get their addresses from the network's IPAM.
func checkAttachment(key string, cfg *types.ServiceNetworkConfig, n *notes) {
	field := "networks." + key + "."
	check := func(set bool, name string) {
		if set {
			n.ignore(field+name, "")
		}
	}
	check(cfg.Ipv4Address != "", "ipv4_address")
	check(cfg.Ipv6Address != "", "ipv6_address")
	check(len(cfg.LinkLocalIPs) > 0, "link_local_ips")
	check(cfg.MacAddress != "", "mac_address")
	check(cfg.InterfaceName != "", "interface_name")
	check(cfg.GatewayPriority != 0, "gw_priority")
	check(cfg.Priority != 0, "priority")
}

// networkTarget is the swarm name of the project's network key, which
// the stack creates unless it is external.
func (c *converter) networkTarget(key string) string {
	def := c.p.Networks[key]
	if def.External {
		name := cmp.Or(def.Name, key)
		c.externalNetworks[name] = true
		return name
	}
	name := cmp.Or(def.Name, c.ns+"_"+key)
	if _, ok := c.networks[name]; !ok {
		c.networks[name] = c.networkSpec(key, name, def)
	}
	return name
}

// networkSpec is the overlay network the stack creates for key. It is
// attachable, so one-off containers (composer run) can join it.
func (c *converter) networkSpec(key, name string, def types.NetworkConfig) engine.NetworkSpec {
	driver := def.Driver
	switch driver {
	case "":
		driver = overlayDriver
	case "bridge":
		// A bridge network is local to one engine; compose files name
		// it for up, where it is the default anyway.
		c.warn("network %s: Swarm approximates driver bridge with overlay: a service's network spans the swarm", key)
		driver = overlayDriver
	}
	if def.EnableIPv4 != nil && !*def.EnableIPv4 {
		c.warn("network %s: Swarm ignores enable_ipv4: false", key)
	}
	labels := map[string]string{}
	maps.Copy(labels, def.Labels)
	labels[LabelNamespace] = c.ns
	return engine.NetworkSpec{
		Name:       name,
		Driver:     driver,
		DriverOpts: cloneMap(def.DriverOpts),
		Labels:     labels,
		Internal:   def.Internal,
		Attachable: true,
		EnableIPv6: cloneBool(def.EnableIPv6),
		IPAM:       networkIPAM(def.Ipam),
	}
}

func networkIPAM(in types.IPAMConfig) engine.IPAM {
	out := engine.IPAM{Driver: in.Driver, Options: cloneMap(in.Options)}
	for _, pool := range in.Config {
		if pool == nil {
			continue
		}
		out.Configs = append(out.Configs, engine.IPAMConfig{
			Subnet:     pool.Subnet,
			IPRange:    pool.IPRange,
			Gateway:    pool.Gateway,
			AuxAddress: cloneMap(pool.AuxiliaryAddresses),
		})
	}
	return out
}

// endpoint is the service's ports and endpoint_mode; nil when it has
// neither. The mode is explicit: the engine reports an empty one as vip.
func (c *converter) endpoint(s types.ServiceConfig, n *notes, e *fieldErrors) *swarm.EndpointSpec {
	mode := ""
	if s.Deploy != nil {
		mode = s.Deploy.EndpointMode
	}
	resolution := swarm.ResolutionModeVIP
	switch mode {
	case "", string(swarm.ResolutionModeVIP):
	case string(swarm.ResolutionModeDNSRR):
		resolution = swarm.ResolutionModeDNSRR
	default:
		e.add("deploy.endpoint_mode", fmt.Errorf("unknown mode %q: want vip or dnsrr", mode))
	}
	ports := endpointPorts(s, n, e)
	if s.NetworkMode == "host" && len(ports) > 0 {
		n.ignore("ports", "a service on the host network listens on the node's ports directly")
		ports = nil
	}
	if resolution == swarm.ResolutionModeDNSRR {
		for _, p := range ports {
			if p.PublishMode == swarm.PortConfigPublishModeIngress {
				e.add("ports", fmt.Errorf("port %d is published in ingress mode, which Swarm refuses with endpoint_mode dnsrr: publish it with mode: host", p.TargetPort))
				break
			}
		}
	}
	if len(ports) == 0 && mode == "" {
		return nil
	}
	return &swarm.EndpointSpec{Mode: resolution, Ports: ports}
}

// endpointPorts are the service's ports, sorted by target, each once. Protocol
// and publish mode are explicit, as the engine reports them.
func endpointPorts(s types.ServiceConfig, n *notes, e *fieldErrors) []swarm.PortConfig {
	var out []swarm.PortConfig
	for _, p := range s.Ports {
		if p.Target == 0 {
			e.add("ports", fmt.Errorf("a port without a target: %+v", p))
			continue
		}
		proto := network.IPProtocol(strings.ToLower(cmp.Or(p.Protocol, string(network.TCP))))
		if proto != network.TCP && proto != network.UDP && proto != network.SCTP {
			e.add("ports", fmt.Errorf("port %d: unknown protocol %q: want tcp, udp or sctp", p.Target, p.Protocol))
			continue
		}
		mode := swarm.PortConfigPublishMode(cmp.Or(p.Mode, string(swarm.PortConfigPublishModeIngress)))
		if mode != swarm.PortConfigPublishModeIngress && mode != swarm.PortConfigPublishModeHost {
			e.add("ports", fmt.Errorf("port %d: unknown mode %q: want ingress or host", p.Target, p.Mode))
			continue
		}
		published, err := publishedPort(p.Published, n)
		if err != nil {
			e.add("ports", fmt.Errorf("port %d: %w", p.Target, err))
			continue
		}
		if p.HostIP != "" {
			n.ignore("ports.host_ip", "Swarm publishes on every address of the node")
		}
		if p.AppProtocol != "" {
			n.ignore("ports.app_protocol", "")
		}
		pc := swarm.PortConfig{Name: p.Name, Protocol: proto, TargetPort: p.Target, PublishedPort: published, PublishMode: mode}
		if !slices.Contains(out, pc) {
			out = append(out, pc)
		}
	}
	slices.SortFunc(out, func(a, b swarm.PortConfig) int {
		return cmp.Or(
			cmp.Compare(a.TargetPort, b.TargetPort),
			cmp.Compare(a.PublishedPort, b.PublishedPort),
			cmp.Compare(a.Protocol, b.Protocol),
			cmp.Compare(a.PublishMode, b.PublishMode),
			cmp.Compare(a.Name, b.Name),
		)
	})
	return out
}

// publishedPort is a published port; 0 (none) lets Swarm pick one, as
// the engine picks a host port under up. A range, which lets up pick a
// free port in it, becomes its first port.
func publishedPort(published string, n *notes) (uint32, error) {
	if published == "" {
		return 0, nil
	}
	lo, hi, isRange := strings.Cut(published, "-")
	first, err := strconv.ParseUint(lo, 10, 16)
	if err != nil {
		return 0, fmt.Errorf("published port %q is not a port or range", published)
	}
	if isRange {
		last, err := strconv.ParseUint(hi, 10, 16)
		if err != nil || last < first {
			return 0, fmt.Errorf("published port %q is not a port or range", published)
		}
		if last > first {
			n.approximate("ports.published", fmt.Sprintf("range %s as its first port %d", published, first))
		}
	}
	return uint32(first), nil
}
