package stack

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/swarm"
)

// containerSpec is the task's container: what `up` would give the
// service's containers, as far as a swarm container spec has room.
func (c *converter) containerSpec(s types.ServiceConfig, image string, n *notes, e *fieldErrors) *swarm.ContainerSpec {
	cs := &swarm.ContainerSpec{
		Image:           specImage(image),
		Labels:          c.containerLabels(s, n),
		Command:         specCommand(s.Entrypoint, "entrypoint", n),
		Args:            specCommand(s.Command, "command", n),
		Hostname:        s.Hostname,
		Env:             specEnv(s.Environment),
		Dir:             s.WorkingDir,
		User:            s.User,
		Groups:          cloneList(s.GroupAdd),
		Init:            cloneBool(s.Init),
		StopSignal:      s.StopSignal,
		TTY:             s.Tty,
		OpenStdin:       s.StdinOpen,
		ReadOnly:        s.ReadOnly,
		Mounts:          c.mounts(s, n, e),
		StopGracePeriod: durationPtr(s.StopGracePeriod),
		Healthcheck:     c.healthcheck(s.HealthCheck, n),
		Hosts:           specHosts(s.ExtraHosts),
		DNSConfig:       specDNS(s, e),
		Isolation:       specIsolation(s.Isolation),
	}
	cs.Configs, cs.Secrets = c.fileRefs(s, e)
	cs.Privileges = c.privileges(s, cs, n, e)
	if len(s.Sysctls) > 0 && c.needs(n, "sysctls", apiSysctls) {
		cs.Sysctls = cloneMap(s.Sysctls)
	}
	if len(s.CapAdd) > 0 && c.needs(n, "cap_add", apiCapabilities) {
		cs.CapabilityAdd = cloneList(s.CapAdd)
	}
	if len(s.CapDrop) > 0 && c.needs(n, "cap_drop", apiCapabilities) {
		cs.CapabilityDrop = cloneList(s.CapDrop)
	}
	if len(s.Ulimits) > 0 && c.needs(n, "ulimits", apiUlimits) {
		cs.Ulimits = specUlimits(s.Ulimits)
	}
	if s.OomScoreAdj != 0 && c.needs(n, "oom_score_adj", apiOomScoreAdj) {
		cs.OomScoreAdj = s.OomScoreAdj
	}
	return cs
}

// specImage is the image reference as the engine reads it back: the
// client sends a reference without tag or digest with ":latest", in its
// short form (nginx, not docker.io/library/nginx), and deploy would see a
// change between the two.
func specImage(ref string) string {
	if name, ok := strings.CutPrefix(ref, "docker.io/"); ok {
		ref = strings.TrimPrefix(name, "library/")
	}
	if strings.Contains(ref, "@") {
		return ref
	}
	if last := ref[strings.LastIndexByte(ref, '/')+1:]; !strings.Contains(last, ":") {
		ref += ":latest"
	}
	return ref
}

// specIsolation is the container's isolation, "default" when unset: the
// engine reports an unset isolation as "default", and deploy would see a
// change where there is none.
func specIsolation(i string) container.Isolation {
	if i == "" {
		return container.IsolationDefault
	}
	return container.Isolation(i)
}

// specCommand is an entrypoint or command as the spec's list. An explicitly
// empty one clears the image's in compose; Swarm has no way to say that
// (an empty list is an absent one), so the image's stays.
func specCommand(cmd types.ShellCommand, field string, n *notes) []string {
	if cmd != nil && len(cmd) == 0 {
		n.approximate(field, "an empty "+field+" cannot clear the image's in Swarm: the image's is used")
	}
	return cloneList(cmd)
}

// specEnv is the resolved environment as sorted KEY=value lines. The
// loader has folded env_file in and resolved variables from the project's
// environment; a variable left without a value is unset, as under `up`.
func specEnv(env types.MappingWithEquals) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(env)) {
		if v := env[k]; v != nil {
			out = append(out, k+"="+*v)
		}
	}
	return out
}

// specHosts are extra_hosts in the "IP host" form swarm writes to /etc/hosts,
// sorted by host, each host's addresses in the file's order.
func specHosts(h types.HostsList) []string {
	var out []string
	for _, host := range slices.Sorted(maps.Keys(h)) {
		for _, ip := range h[host] {
			out = append(out, ip+" "+host)
		}
	}
	return out
}

func specDNS(s types.ServiceConfig, e *fieldErrors) *swarm.DNSConfig {
	if len(s.DNS) == 0 && len(s.DNSSearch) == 0 && len(s.DNSOpts) == 0 {
		return nil
	}
	cfg := &swarm.DNSConfig{Search: cloneList(s.DNSSearch), Options: cloneList(s.DNSOpts)}
	for _, d := range s.DNS {
		addr, err := netip.ParseAddr(d)
		if err != nil {
			e.add("dns", fmt.Errorf("%q is not an IP address", d))
			continue
		}
		cfg.Nameservers = append(cfg.Nameservers, addr)
	}
	return cfg
}

func specUlimits(u map[string]*types.UlimitsConfig) []*container.Ulimit {
	var out []*container.Ulimit
	for _, name := range slices.Sorted(maps.Keys(u)) {
		l := u[name]
		if l == nil {
			continue
		}
		soft, hard := int64(l.Soft), int64(l.Hard)
		if l.Single != 0 {
			soft, hard = int64(l.Single), int64(l.Single)
		}
		out = append(out, &container.Ulimit{Name: name, Soft: soft, Hard: hard})
	}
	return out
}

// healthcheck is the service's healthcheck; nil leaves the image's. A
// test left out keeps the image's test with the file's timings.
func (c *converter) healthcheck(h *types.HealthCheckConfig, n *notes) *container.HealthConfig {
	if h == nil {
		return nil
	}
	if h.Disable || (len(h.Test) > 0 && h.Test[0] == "NONE") {
		return &container.HealthConfig{Test: []string{"NONE"}}
	}
	hc := &container.HealthConfig{Test: cloneList(h.Test)}
	if h.Interval != nil {
		hc.Interval = time.Duration(*h.Interval)
	}
	if h.Timeout != nil {
		hc.Timeout = time.Duration(*h.Timeout)
	}
	if h.StartPeriod != nil {
		hc.StartPeriod = time.Duration(*h.StartPeriod)
	}
	if h.StartInterval != nil && c.needs(n, "healthcheck.start_interval", apiStartInterval) {
		hc.StartInterval = time.Duration(*h.StartInterval)
	}
	if h.Retries != nil {
		hc.Retries = int(min(*h.Retries, math.MaxInt32))
	}
	return hc
}

// specLogDriver is logging (or the legacy log_driver and log_opt, which
// logging overrides).
func specLogDriver(s types.ServiceConfig) *swarm.Driver {
	driver := s.LogDriver
	opts := map[string]string{}
	maps.Copy(opts, s.LogOpt)
	if s.Logging != nil {
		if s.Logging.Driver != "" {
			driver = s.Logging.Driver
		}
		maps.Copy(opts, s.Logging.Options)
	}
	if driver == "" && len(opts) == 0 {
		return nil
	}
	return &swarm.Driver{Name: driver, Options: cloneMap(opts)}
}

// privileges are the credential spec and what security_opt can say in a
// swarm spec; nil when there is neither. A credential spec's config is
// named by its swarm name: deploy swaps it for the config's id, as it
// does for the config references.
func (c *converter) privileges(s types.ServiceConfig, cs *swarm.ContainerSpec, n *notes, e *fieldErrors) *swarm.Privileges {
	var p swarm.Privileges
	if cred := s.CredentialSpec; cred != nil {
		set := 0
		for _, v := range []string{cred.Config, cred.File, cred.Registry} {
			if v != "" {
				set++
			}
		}
		switch {
		case set > 1:
			e.add("credential_spec", errors.New("set only one of config, file and registry"))
		case cred.Config != "" && c.needs(n, "credential_spec.config", apiCredentialConf):
			name, err := c.object(kindConfig, cred.Config)
			if err != nil {
				e.add("credential_spec", err)
				break
			}
			p.CredentialSpec = &swarm.CredentialSpec{Config: name}
			// A runtime reference gives the task the config without
			// mounting it.
			cs.Configs = append(cs.Configs, &swarm.ConfigReference{ConfigName: name, Runtime: &swarm.ConfigReferenceRuntimeTarget{}})
			sortConfigRefs(cs.Configs)
		case cred.File != "" || cred.Registry != "":
			p.CredentialSpec = &swarm.CredentialSpec{File: cred.File, Registry: cred.Registry}
		}
	}
	c.securityOpts(s, &p, n, e)
	if p == (swarm.Privileges{}) {
		return nil
	}
	return &p
}

// securityOpts puts the security options a swarm spec has into p and
// warns about the others.
func (c *converter) securityOpts(s types.ServiceConfig, p *swarm.Privileges, n *notes, e *fieldErrors) {
	if len(s.SecurityOpt) == 0 || !c.needs(n, "security_opt", apiSecurity) {
		return
	}
	var ignored []string
	for _, opt := range s.SecurityOpt {
		// docker accepts both key=value and the older key:value.
		key, value, _ := strings.Cut(opt, "=")
		if k, v, ok := strings.Cut(opt, ":"); ok && !strings.Contains(k, "=") {
			key, value = k, v
		}
		switch key {
		case "no-new-privileges":
			on, err := strconv.ParseBool(cmp.Or(value, "true"))
			if err != nil {
				e.add("security_opt", fmt.Errorf("%q: no-new-privileges takes true or false", opt))
			}
			p.NoNewPrivileges = on
		case "seccomp":
			p.Seccomp = c.seccomp(value, e)
		case "apparmor":
			if value != "unconfined" {
				// Swarm can only keep or disable the default profile.
				ignored = append(ignored, opt)
				continue
			}
			p.AppArmor = &swarm.AppArmorOpts{Mode: swarm.AppArmorModeDisabled}
		case "label":
			if !selinuxLabel(p, value) {
				ignored = append(ignored, opt)
			}
		default:
			ignored = append(ignored, opt)
		}
	}
	if len(ignored) > 0 {
		n.ignore("security_opt", strings.Join(ignored, " and ")+" cannot be said in a swarm spec")
	}
}

// seccomp is a seccomp option's profile: unconfined, or a profile file
// (relative to the project directory) whose content goes in the spec.
func (c *converter) seccomp(value string, e *fieldErrors) *swarm.SeccompOpts {
	switch value {
	case "unconfined":
		return &swarm.SeccompOpts{Mode: swarm.SeccompModeUnconfined}
	case "", "default", "builtin":
		return &swarm.SeccompOpts{Mode: swarm.SeccompModeDefault}
	}
	path := value
	if !filepath.IsAbs(path) {
		path = filepath.Join(c.p.WorkingDir, path)
	}
	profile, err := os.ReadFile(path)
	if err != nil {
		e.add("security_opt", fmt.Errorf("read the seccomp profile: %w", err))
		return nil
	}
	return &swarm.SeccompOpts{Mode: swarm.SeccompModeCustom, Profile: profile}
}

// selinuxLabel puts a label= option into p; false for one a swarm spec
// has no field for.
func selinuxLabel(p *swarm.Privileges, value string) bool {
	ctx := swarm.SELinuxContext{}
	if p.SELinuxContext != nil {
		ctx = *p.SELinuxContext
	}
	k, v, _ := strings.Cut(value, ":")
	switch {
	case value == "disable":
		ctx.Disable = true
	case k == "user":
		ctx.User = v
	case k == "role":
		ctx.Role = v
	case k == "type":
		ctx.Type = v
	case k == "level":
		ctx.Level = v
	default:
		return false
	}
	p.SELinuxContext = &ctx
	return true
}

// resources are deploy.resources, completed by the service-level cpus,
// mem_limit, mem_reservation and pids_limit where deploy says nothing:
// the same limits, but applied by Swarm, which also schedules by the
// reservations. nil when nothing is set.
func (c *converter) resources(s types.ServiceConfig, n *notes) *swarm.ResourceRequirements {
	var lim, res types.Resource
	if s.Deploy != nil {
		if l := s.Deploy.Resources.Limits; l != nil {
			lim = *l
		}
		if r := s.Deploy.Resources.Reservations; r != nil {
			res = *r
		}
	}
	fallback := func(field string, set bool, deploySet bool, deployField string) bool {
		if !set {
			return false
		}
		if deploySet {
			n.ignore(field, deployField+" takes precedence")
			return false
		}
		n.approximate(field, "as "+deployField)
		return true
	}
	if fallback("cpus", s.CPUS != 0, lim.NanoCPUs != 0, "deploy.resources.limits.cpus") {
		lim.NanoCPUs = types.NanoCPUs(s.CPUS)
	}
	if fallback("mem_limit", s.MemLimit != 0, lim.MemoryBytes != 0, "deploy.resources.limits.memory") {
		lim.MemoryBytes = s.MemLimit
	}
	pidsField := "deploy.resources.limits.pids"
	if fallback("pids_limit", s.PidsLimit != 0, lim.Pids != 0, pidsField) {
		lim.Pids, pidsField = s.PidsLimit, "pids_limit"
	}
	if fallback("mem_reservation", s.MemReservation != 0, res.MemoryBytes != 0, "deploy.resources.reservations.memory") {
		res.MemoryBytes = s.MemReservation
	}
	if len(lim.Devices) > 0 {
		n.ignore("deploy.resources.limits.devices", "Swarm limits no devices")
	}
	if len(lim.GenericResources) > 0 {
		n.ignore("deploy.resources.limits.generic_resources", "Swarm only reserves generic resources")
	}
	if len(res.Devices) > 0 {
		n.ignore("deploy.resources.reservations.devices", "Swarm reserves devices only as generic_resources the nodes advertise")
	}
	if res.Pids != 0 {
		n.ignore("deploy.resources.reservations.pids", "Swarm reserves no pids")
	}

	r := &swarm.ResourceRequirements{}
	if lim.Pids != 0 && !c.needs(n, pidsField, apiPids) {
		lim.Pids = 0
	}
	if l := (swarm.Limit{NanoCPUs: nanoCPUs(lim.NanoCPUs), MemoryBytes: int64(lim.MemoryBytes), Pids: lim.Pids}); l != (swarm.Limit{}) {
		r.Limits = &l
	}
	reserved := swarm.Resources{NanoCPUs: nanoCPUs(res.NanoCPUs), MemoryBytes: int64(res.MemoryBytes), GenericResources: specGenericResources(res.GenericResources)}
	if reserved.NanoCPUs != 0 || reserved.MemoryBytes != 0 || reserved.GenericResources != nil {
		r.Reservations = &reserved
	}
	c.swap(s, r, int64(lim.MemoryBytes), n)
	if *r == (swarm.ResourceRequirements{}) {
		return nil
	}
	return r
}

// swap sets memswap_limit and mem_swappiness. Swarm's SwapBytes is the
// swap alone, where memswap_limit is memory and swap together.
func (c *converter) swap(s types.ServiceConfig, r *swarm.ResourceRequirements, memLimit int64, n *notes) {
	if s.MemSwapLimit != 0 && c.needs(n, "memswap_limit", apiSwap) {
		switch {
		case s.MemSwapLimit == -1:
			r.SwapBytes = ptrTo(int64(-1))
			n.approximate("memswap_limit", "-1 as unlimited swap")
		case memLimit == 0:
			n.ignore("memswap_limit", "Swarm sets swap only with a memory limit")
		case int64(s.MemSwapLimit) < memLimit:
			n.ignore("memswap_limit", "it is below the memory limit")
		default:
			r.SwapBytes = ptrTo(int64(s.MemSwapLimit) - memLimit)
			n.approximate("memswap_limit", "as SwapBytes, the swap beyond the memory limit")
		}
	}
	if s.MemSwappiness != 0 && c.needs(n, "mem_swappiness", apiSwap) {
		r.MemorySwappiness = ptrTo(int64(s.MemSwappiness))
	}
}

// nanoCPUs converts a number of CPUs through its decimal form, so 0.1 is
// 100000000 and not the float32's 100000001.
func nanoCPUs(cpus types.NanoCPUs) int64 {
	if cpus == 0 {
		return 0
	}
	f, _ := strconv.ParseFloat(strconv.FormatFloat(float64(cpus), 'g', -1, 32), 64)
	return int64(math.Round(f * 1e9))
}

func specGenericResources(in []types.GenericResource) []swarm.GenericResource {
	var out []swarm.GenericResource
	for _, g := range in {
		if d := g.DiscreteResourceSpec; d != nil {
			out = append(out, swarm.GenericResource{DiscreteResourceSpec: &swarm.DiscreteGenericResource{Kind: d.Kind, Value: d.Value}})
		}
	}
	return out
}

// Restart policy conditions compose's deploy.restart_policy accepts.
var restartConditions = map[string]swarm.RestartPolicyCondition{
	"none":       swarm.RestartPolicyConditionNone,
	"on-failure": swarm.RestartPolicyConditionOnFailure,
	"any":        swarm.RestartPolicyConditionAny,
}

// restartPolicy is deploy.restart_policy, or else restart. Without
// either a service keeps Swarm's default (restart on any exit), and a
// job runs once, as compose's default "no" does.
//
// The condition is always explicit: the engine stores an empty one as
// "any" and deploy would then see a change.
func (c *converter) restartPolicy(s types.ServiceConfig, job bool, n *notes, e *fieldErrors) *swarm.RestartPolicy {
	var rp *swarm.RestartPolicy
	field := "restart"
	if s.Deploy != nil && s.Deploy.RestartPolicy != nil {
		field = "deploy.restart_policy"
		d := s.Deploy.RestartPolicy
		cond, ok := restartConditions[cmp.Or(d.Condition, "any")]
		if !ok {
			e.add("deploy.restart_policy.condition", fmt.Errorf("unknown condition %q: want none, on-failure or any", d.Condition))
			return nil
		}
		rp = &swarm.RestartPolicy{Condition: cond, Delay: durationPtr(d.Delay), MaxAttempts: cloneUint(d.MaxAttempts), Window: durationPtr(d.Window)}
		if s.Restart != "" {
			n.ignore("restart", "deploy.restart_policy takes precedence")
		}
	} else {
		rp = restartFromCompose(s.Restart, n, e)
	}
	if job {
		if rp == nil {
			rp = &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionNone}
		}
		if rp.Condition == swarm.RestartPolicyConditionAny {
			// A completed job must not start again.
			rp.Condition = swarm.RestartPolicyConditionOnFailure
			n.approximate(field, "a job is restarted on failure only")
		}
	}
	return rp
}

// restartFromCompose maps restart: no, always, unless-stopped,
// on-failure[:N].
func restartFromCompose(restart string, n *notes, e *fieldErrors) *swarm.RestartPolicy {
	policy, arg, hasArg := strings.Cut(restart, ":")
	switch {
	case restart == "":
		return nil
	case restart == types.RestartPolicyNo:
		return &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionNone}
	case restart == types.RestartPolicyAlways:
		return &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionAny}
	case restart == types.RestartPolicyUnlessStopped:
		n.approximate("restart", "unless-stopped as any: a swarm service is stopped by scaling it to 0")
		return &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionAny}
	case policy == types.RestartPolicyOnFailure:
		rp := &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionOnFailure}
		if hasArg {
			attempts, err := strconv.ParseUint(arg, 10, 64)
			if err != nil {
				e.add("restart", fmt.Errorf("%q: the number of attempts is not a number", restart))
				return nil
			}
			if attempts > 0 {
				rp.MaxAttempts = &attempts
			}
		}
		return rp
	}
	e.add("restart", fmt.Errorf("unknown policy %q: want no, always, unless-stopped or on-failure[:N]", restart))
	return nil
}

// Update failure actions and orders.
var (
	failureActions = map[string]swarm.FailureAction{
		"pause":    swarm.UpdateFailureActionPause,
		"continue": swarm.UpdateFailureActionContinue,
		"rollback": swarm.UpdateFailureActionRollback,
	}
	updateOrders = map[string]swarm.UpdateOrder{
		"stop-first":  swarm.UpdateOrderStopFirst,
		"start-first": swarm.UpdateOrderStartFirst,
	}
)

// specUpdateConfig is update_config or rollback_config. What the file leaves
// out is set to Swarm's default (parallelism 1, pause, stop-first), as
// docker stack does, and so the engine gives back what was sent.
func specUpdateConfig(u *types.UpdateConfig, field string, e *fieldErrors) *swarm.UpdateConfig {
	if u == nil {
		return nil
	}
	action, ok := failureActions[cmp.Or(u.FailureAction, "pause")]
	if !ok {
		e.add(field+".failure_action", fmt.Errorf("unknown action %q: want pause, continue or rollback", u.FailureAction))
	}
	order, ok := updateOrders[cmp.Or(u.Order, "stop-first")]
	if !ok {
		e.add(field+".order", fmt.Errorf("unknown order %q: want stop-first or start-first", u.Order))
	}
	parallelism := uint64(1)
	if u.Parallelism != nil {
		parallelism = *u.Parallelism
	}
	return &swarm.UpdateConfig{
		Parallelism:     parallelism,
		Delay:           time.Duration(u.Delay),
		FailureAction:   action,
		Monitor:         time.Duration(u.Monitor),
		MaxFailureRatio: u.MaxFailureRatio,
		Order:           order,
	}
}

// placement is deploy.placement, with platform as the platforms the
// tasks may run on; nil when nothing is set.
func (c *converter) placement(s types.ServiceConfig, n *notes) *swarm.Placement {
	var p swarm.Placement
	if s.Deploy != nil {
		pl := s.Deploy.Placement
		p.Constraints = cloneList(pl.Constraints)
		for _, pref := range pl.Preferences {
			p.Preferences = append(p.Preferences, swarm.PlacementPreference{Spread: &swarm.SpreadOver{SpreadDescriptor: pref.Spread}})
		}
		if pl.MaxReplicas != 0 && c.needs(n, "deploy.placement.max_replicas_per_node", apiMaxReplicas) {
			p.MaxReplicas = pl.MaxReplicas
		}
	}
	if s.Platform != "" {
		parts := strings.Split(s.Platform, "/")
		platform := swarm.Platform{OS: parts[0]}
		if len(parts) > 1 {
			platform.Architecture = parts[1]
		}
		how := "tasks run only on " + s.Platform + " nodes, which pull the image for their own platform"
		if len(parts) > 2 {
			how += "; Swarm places by OS and architecture, not variant"
		}
		n.approximate("platform", how)
		p.Platforms = []swarm.Platform{platform}
	}
	if p.Constraints == nil && p.Preferences == nil && p.MaxReplicas == 0 && p.Platforms == nil {
		return nil
	}
	return &p
}

func durationPtr(d *types.Duration) *time.Duration {
	if d == nil {
		return nil
	}
	v := time.Duration(*d)
	return &v
}

func cloneBool(b *bool) *bool {
	if b == nil {
		return nil
	}
	return ptrTo(*b)
}

func cloneUint(u *uint64) *uint64 {
	if u == nil {
		return nil
	}
	return ptrTo(*u)
}
