package stack

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// fieldClass says what becomes of a compose service field in Swarm.
type fieldClass string

const (
	// fieldCarried fields map to the swarm spec with their meaning.
	fieldCarried fieldClass = "carried"
	// fieldApproximated fields map to something close; a warning says how
	// when a service sets one.
	fieldApproximated fieldClass = "approximated"
	// fieldWarned fields have no place in a swarm service; a warning
	// names them when a service sets one.
	fieldWarned fieldClass = "warned"
	// fieldMoot fields need nothing: the loader has applied them, or they
	// mean nothing to Swarm (expose: swarm networks are open).
	fieldMoot fieldClass = "n/a"
)

// serviceField classifies one field of types.ServiceConfig.
type serviceField struct {
	// key is the field's yaml name; its Go name for fields without one.
	key   string
	class fieldClass
	// set reports whether a service sets the field. Every warned field
	// has one: the warning about warned fields is driven by this table.
	// Carried and approximated fields whose handling depends on the value
	// are checked where they are converted.
	set func(s *types.ServiceConfig) bool
	// note says how the field is carried or approximated, or why Swarm
	// ignores it; warnings about warned fields repeat it.
	note string
}

// serviceFields classifies every field of types.ServiceConfig (a test
// checks that none is missing, so a field compose-go adds cannot go
// unnoticed). Conditional warnings about carried fields (an option of
// security_opt Swarm lacks, ipv4_address on a network, ...) are given
// where the field is converted.
var serviceFields = []serviceField{
	// ServiceConfig's own fields.
	{key: "name", class: fieldCarried, note: "the swarm service is <project>_<name>; the name is also an alias on each network"},
	{key: "profiles", class: fieldMoot, note: "the loader has dropped the services of inactive profiles"},
	{key: "deploy", class: fieldCarried, note: "mode, replicas, labels, resources, restart_policy, update_config, rollback_config, placement, endpoint_mode; reservations.devices and limits.devices are warned"},
	{key: "develop", class: fieldWarned, set: func(s *types.ServiceConfig) bool { return s.Develop != nil }, note: "watch is a local development feature"},
	{key: "restart", class: fieldCarried, note: "without deploy.restart_policy: no -> none, always -> any, on-failure[:N] -> on-failure with max_attempts N; unless-stopped -> any is noted"},
	{key: "scale", class: fieldCarried, note: "replicas, when deploy.replicas is not set"},
	{key: "attach", class: fieldWarned, set: func(s *types.ServiceConfig) bool { return s.Attach != nil }, note: "deploy attaches to no logs"},
	{key: "container_name", class: fieldWarned, set: func(s *types.ServiceConfig) bool { return s.ContainerName != "" }, note: "Swarm names the task containers"},
	{key: "provider", class: fieldWarned, set: func(s *types.ServiceConfig) bool { return s.Provider != nil }, note: "a provider service runs no container: it is not deployed"},
	{key: "extends", class: fieldMoot, note: "the loader has merged the extended service"},
	{key: "external_links", class: fieldWarned, set: func(s *types.ServiceConfig) bool { return len(s.ExternalLinks) > 0 }, note: "use a shared external network"},
	{key: "links", class: fieldWarned, set: func(s *types.ServiceConfig) bool { return len(s.Links) > 0 }, note: "services reach each other by name on their networks"},
	{key: "net", class: fieldWarned, set: func(s *types.ServiceConfig) bool { return s.Net != "" }},
	{key: "pre_start", class: fieldWarned, set: func(s *types.ServiceConfig) bool { return len(s.PreStart) > 0 }, note: "Swarm runs no hooks"},
	{key: "post_start", class: fieldWarned, set: func(s *types.ServiceConfig) bool { return len(s.PostStart) > 0 }, note: "Swarm runs no hooks"},
	{key: "pre_stop", class: fieldWarned, set: func(s *types.ServiceConfig) bool { return len(s.PreStop) > 0 }, note: "Swarm runs no hooks"},
	{key: "#extensions", class: fieldMoot, note: "x-* extensions are the user's"},

	// ContainerSpec.
	{key: "annotations", class: fieldWarned, set: func(s *types.ServiceConfig) bool { return len(s.Annotations) > 0 }},
	{key: "blkio_config", class: fieldWarned, set: func(s *types.ServiceConfig) bool { return s.BlkioConfig != nil }},
	{key: "cap_add", class: fieldCarried, note: "CapabilityAdd (API 1.41)"},
	{key: "cap_drop", class: fieldCarried, note: "CapabilityDrop (API 1.41)"},
	{key: "cgroup_parent", class: fieldWarned, set: func(s *types.ServiceConfig) bool { return s.CgroupParent != "" }},
	{key: "cgroup", class: fieldWarned, set: func(s *types.ServiceConfig) bool { return s.Cgroup != "" }},
	{key: "cpu_count", class: fieldWarned, set: func(s *types.ServiceConfig) bool { return s.CPUCount != 0 }, note: "use deploy.resources"},
	{key: "cpu_percent", class: fieldWarned, set: func(s *types.ServiceConfig) bool { return s.CPUPercent != 0 }, note: "use deploy.resources"},
	{key: "cpu_period", class: fieldWarned, set: func(s *types.ServiceConfig) bool { return s.CPUPeriod != 0 }, note: "use deploy.resources"},
	{key: "cpu_quota", class: fieldWarned, set: func(s *types.ServiceConfig) bool { return s.CPUQuota != 0 }, note: "use deploy.resources"},
	{key: "cpu_rt_period", class: fieldWarned, set: func(s *types.ServiceConfig) bool { return s.CPURTPeriod != 0 }},
	{key: "cpu_rt_runtime", class: fieldWarned, set: func(s *types.ServiceConfig) bool { return s.CPURTRuntime != 0 }},
	{key: "cpus", class: fieldApproximated, set: func(s *types.ServiceConfig) bool { return s.CPUS != 0 }, note: "as deploy.resources.limits.cpus when that is not set"},
	{key: "cpuset", class: fieldWarned, set: func(s *types.ServiceConfig) bool { return s.CPUSet != "" }},
	{key: "cpu_shares", class: fieldWarned, set: func(s *types.ServiceConfig) bool { return s.CPUShares != 0 }, note: "use deploy.resources"},
	{key: "command", class: fieldCarried, note: "Args; an empty command (clearing the image's) cannot be said and is noted"},
	{key: "configs", class: fieldCarried, note: "config references with target, uid, gid (default 0) and mode (default 0444)"},
	{key: "credential_spec", class: fieldCarried, note: "Privileges.CredentialSpec; config: adds a runtime config reference (API 1.40)"},
	{key: "device_cgroup_rules", class: fieldWarned, set: func(s *types.ServiceConfig) bool { return len(s.DeviceCgroupRules) > 0 }},
	{key: "devices", class: fieldWarned, set: func(s *types.ServiceConfig) bool { return len(s.Devices) > 0 }, note: "a swarm container spec has no devices"},
	{key: "dns", class: fieldCarried, note: "DNSConfig.Nameservers"},
	{key: "dns_opt", class: fieldCarried, note: "DNSConfig.Options"},
	{key: "dns_search", class: fieldCarried, note: "DNSConfig.Search"},
	{key: "domainname", class: fieldWarned, set: func(s *types.ServiceConfig) bool { return s.DomainName != "" }},
	{key: "entrypoint", class: fieldCarried, note: "Command; an empty entrypoint (clearing the image's) cannot be said and is noted"},
	{key: "environment", class: fieldCarried, note: "Env, sorted KEY=value; variables without a value are left out"},
	{key: "env_file", class: fieldMoot, note: "the loader has folded the files into environment"},
	{key: "extra_hosts", class: fieldCarried, note: "Hosts, as \"IP host\" lines sorted by host"},
	{key: "group_add", class: fieldCarried, note: "Groups"},
	{key: "gpus", class: fieldWarned, set: func(s *types.ServiceConfig) bool { return len(s.Gpus) > 0 }, note: "Swarm reserves devices only as generic resources the nodes advertise"},
	{key: "hostname", class: fieldCarried, note: "Hostname"},
	{key: "image", class: fieldCarried, note: "Image; without one, the name composer builds: <project>-<service>"},
	{key: "init", class: fieldCarried, note: "Init"},
	{key: "ipc", class: fieldWarned, set: func(s *types.ServiceConfig) bool { return s.Ipc != "" }},
	{key: "isolation", class: fieldCarried, note: "Isolation; \"default\" when unset, as the engine reports it"},
	{key: "labels", class: fieldCarried, note: "container labels, with com.docker.stack.namespace; com.docker.compose.* labels are left off and noted"},
	{key: "label_file", class: fieldMoot, note: "the loader has folded the files into labels"},
	{key: "CustomLabels", class: fieldMoot, note: "set by docker compose itself, never by the loader"},
	{key: "logging", class: fieldCarried, note: "TaskTemplate.LogDriver"},
	{key: "log_driver", class: fieldCarried, note: "TaskTemplate.LogDriver, when logging.driver is not set"},
	{key: "log_opt", class: fieldCarried, note: "TaskTemplate.LogDriver options, under logging.options"},
	{key: "mem_limit", class: fieldApproximated, set: func(s *types.ServiceConfig) bool { return s.MemLimit != 0 }, note: "as deploy.resources.limits.memory when that is not set"},
	{key: "mem_reservation", class: fieldApproximated, set: func(s *types.ServiceConfig) bool { return s.MemReservation != 0 }, note: "as deploy.resources.reservations.memory when that is not set"},
	{key: "memswap_limit", class: fieldApproximated, set: func(s *types.ServiceConfig) bool { return s.MemSwapLimit != 0 }, note: "as SwapBytes, the swap beyond the memory limit (API 1.52; needs a memory limit)"},
	{key: "mem_swappiness", class: fieldCarried, note: "MemorySwappiness (API 1.52)"},
	{key: "mac_address", class: fieldWarned, set: func(s *types.ServiceConfig) bool { return s.MacAddress != "" }},
	{key: "models", class: fieldWarned, set: func(s *types.ServiceConfig) bool { return len(s.Models) > 0 }, note: "Swarm runs no model runner"},
	{key: "network_mode", class: fieldApproximated, set: func(s *types.ServiceConfig) bool { return s.NetworkMode != "" }, note: "host and bridge attach to the swarm's predefined network; none attaches to no stack network; service: and container: are warned"},
	{key: "networks", class: fieldCarried, note: "network attachments with aliases (and the service name) and driver_opts; addresses, mac_address, interface_name and priorities are warned"},
	{key: "oom_kill_disable", class: fieldWarned, set: func(s *types.ServiceConfig) bool { return s.OomKillDisable }},
	{key: "oom_score_adj", class: fieldCarried, note: "OomScoreAdj (API 1.46)"},
	{key: "pid", class: fieldWarned, set: func(s *types.ServiceConfig) bool { return s.Pid != "" }},
	{key: "pids_limit", class: fieldApproximated, set: func(s *types.ServiceConfig) bool { return s.PidsLimit != 0 }, note: "as deploy.resources.limits.pids when that is not set (API 1.41)"},
	{key: "platform", class: fieldApproximated, set: func(s *types.ServiceConfig) bool { return s.Platform != "" }, note: "as placement on nodes of that OS and architecture; each node pulls the image for its own platform"},
	{key: "privileged", class: fieldWarned, set: func(s *types.ServiceConfig) bool { return s.Privileged }, note: "Swarm runs no privileged containers"},
	{key: "pull_policy", class: fieldWarned, set: func(s *types.ServiceConfig) bool { return s.PullPolicy != "" }, note: "each node pulls the image when it starts a task"},
	{key: "pull_refresh_after", class: fieldWarned, set: func(s *types.ServiceConfig) bool { return s.PullRefreshAfter != "" }},
	{key: "read_only", class: fieldCarried, note: "ReadOnly"},
	{key: "runtime", class: fieldWarned, set: func(s *types.ServiceConfig) bool { return s.Runtime != "" }},
	{key: "secrets", class: fieldCarried, note: "secret references with target, uid, gid (default 0) and mode (default 0444)"},
	{key: "security_opt", class: fieldCarried, note: "no-new-privileges, seccomp, apparmor=unconfined and label= as Privileges (API 1.44); other options are warned"},
	{key: "shm_size", class: fieldWarned, set: func(s *types.ServiceConfig) bool { return s.ShmSize != 0 }, note: "mount a tmpfs at /dev/shm instead"},
	{key: "stop_grace_period", class: fieldCarried, note: "StopGracePeriod"},
	{key: "stop_signal", class: fieldCarried, note: "StopSignal"},
	{key: "storage_opt", class: fieldWarned, set: func(s *types.ServiceConfig) bool { return len(s.StorageOpt) > 0 }},
	{key: "sysctls", class: fieldCarried, note: "Sysctls (API 1.40)"},
	{key: "tmpfs", class: fieldCarried, note: "tmpfs mounts with size and mode; other options need API 1.46"},
	{key: "ulimits", class: fieldCarried, note: "Ulimits (API 1.41), sorted by name"},
	{key: "umask", class: fieldWarned, set: func(s *types.ServiceConfig) bool { return s.Umask != nil }},
	{key: "use_api_socket", class: fieldWarned, set: func(s *types.ServiceConfig) bool { return s.UseAPISocket }},
	{key: "user", class: fieldCarried, note: "User"},
	{key: "userns_mode", class: fieldWarned, set: func(s *types.ServiceConfig) bool { return s.UserNSMode != "" }},
	{key: "uts", class: fieldWarned, set: func(s *types.ServiceConfig) bool { return s.Uts != "" }},
	{key: "volume_driver", class: fieldApproximated, set: func(s *types.ServiceConfig) bool { return s.VolumeDriver != "" }, note: "as the driver of the service's volumes that name none"},
	{key: "volumes", class: fieldCarried, note: "mounts sorted by target: bind (propagation, recursive: disabled), named (driver, driver_opts, labels, nocopy, subpath), anonymous, external, tmpfs (size, mode), npipe, cluster; image mounts, consistency, bind selinux and read-only recursion are warned; bind mounts are noted (the host path must exist on each node)"},
	{key: "volumes_from", class: fieldWarned, set: func(s *types.ServiceConfig) bool { return len(s.VolumesFrom) > 0 }, note: "declare the shared volume in each service"},
	{key: "working_dir", class: fieldCarried, note: "Dir"},

	// WorkloadSpec.
	{key: "build", class: fieldWarned, set: func(s *types.ServiceConfig) bool { return s.Build != nil }, note: "deploy does not build: the nodes pull the image from a registry"},
	{key: "depends_on", class: fieldCarried, note: "the plan's DependsOn: deploy orders services by it and waits for conditions; restart: true is warned"},
	{key: "dockerfile", class: fieldWarned, set: func(s *types.ServiceConfig) bool { return s.Dockerfile != "" }, note: "deploy does not build"},
	{key: "expose", class: fieldMoot, note: "services on a swarm network reach every port of each other"},
	{key: "healthcheck", class: fieldCarried, note: "Healthcheck; disable -> NONE; start_interval needs API 1.44"},
	{key: "ports", class: fieldCarried, note: "EndpointSpec ports sorted by target, mode ingress or host; host_ip, app_protocol and published ranges are warned"},
	{key: "stdin_open", class: fieldCarried, note: "OpenStdin"},
	{key: "tty", class: fieldCarried, note: "TTY"},
}

// checkFields warns about every warned field the service sets.
func (c *converter) checkFields(s types.ServiceConfig, n *notes) {
	for _, f := range serviceFields {
		if f.class == fieldWarned && f.set(&s) {
			n.ignore(f.key, f.note)
		}
	}
}

// notes gathers what one service loses or changes on its way to Swarm,
// to say it in at most two warnings: the fields Swarm ignores, and those
// it approximates. Each field is named once, with the first reason given;
// a field both ignored and approximated is named as ignored.
type notes struct {
	ignored map[string]string
	approx  map[string]string
}

func newNotes() *notes {
	return &notes{ignored: map[string]string{}, approx: map[string]string{}}
}

// ignore says Swarm cannot honour field; why may be empty.
func (n *notes) ignore(field, why string) {
	delete(n.approx, field)
	if prev, ok := n.ignored[field]; !ok || prev == "" {
		n.ignored[field] = why
	}
}

// approximate says Swarm carries field differently, and how.
func (n *notes) approximate(field, how string) {
	if _, ignored := n.ignored[field]; ignored {
		return
	}
	if prev, ok := n.approx[field]; !ok || prev == "" {
		n.approx[field] = how
	}
}

// lines are the service's warnings: fields in name order.
func (n *notes) lines(service string) []string {
	var out []string
	if len(n.ignored) > 0 {
		out = append(out, fmt.Sprintf("service %s: Swarm ignores %s", service, listFields(n.ignored)))
	}
	if len(n.approx) > 0 {
		out = append(out, fmt.Sprintf("service %s: Swarm approximates %s", service, listFields(n.approx)))
	}
	return out
}

func listFields(m map[string]string) string {
	var parts []string
	for _, f := range slices.Sorted(maps.Keys(m)) {
		if m[f] == "" {
			parts = append(parts, f)
		} else {
			parts = append(parts, f+" ("+m[f]+")")
		}
	}
	return strings.Join(parts, ", ")
}
