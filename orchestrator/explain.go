package orchestrator

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"golang.org/x/sync/errgroup"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/labels"
)

// Reasons decide gives before explain has looked at the containers.
const (
	reasonConfig = "config changed"
	reasonImage  = "image changed"
)

// explain replaces the plan's "config changed" and "image changed" with
// what changed: it compares the spec up would create for each container
// it recreates with the configuration the engine reports for the
// container there now. Working from the engine's report rather than from
// anything composer stored, it explains containers other tools created as
// well. One inspect per recreated container and one per image they run;
// nothing for a container kept. A container it cannot read keeps the
// plain reason: the explanation never stops an up.
func (o *Orchestrator) explain(ctx context.Context, p *types.Project, plan Plan, want Desired, st State, opts UpOptions) {
	containerOf := func(service string) (string, error) {
		for _, c := range st.ServiceContainers(service) {
			return c.ID, nil
		}
		return "", fmt.Errorf("no container found for service %q", service)
	}
	var eg errgroup.Group
	for _, name := range p.ServiceNames() {
		for i, a := range plan.Services[name] {
			if a.Kind != ActRecreate || a.Reason != reasonConfig && a.Reason != reasonImage {
				continue
			}
			eg.Go(func() error {
				in := specInput{project: p, service: p.Services[name], name: a.Name, number: a.Number,
					hash: want.Hash[name], imageID: want.ImageID[name], containerOf: containerOf}
				if !opts.RenewAnonVolumes {
					in.inherit = a.Existing
				}
				spec, err := containerSpec(in)
				if err != nil {
					return nil
				}
				have, err := o.eng.InspectContainer(ctx, a.Existing.ID)
				if err != nil {
					return nil
				}
				// The image the container was made from says which of its
				// settings are defaults rather than asked for.
				img, _ := o.eng.InspectImage(ctx, have.ImageID)
				var why []string
				if a.Reason == reasonConfig {
					why = diffSpec(spec, have, img.Config)
				}
				if spec.Image == have.Config.Image && want.ImageID[name] != "" && a.Existing.Labels[labels.Image] != want.ImageID[name] {
					why = append(why, "image "+spec.Image+" points at a new image")
				}
				if len(why) == 0 {
					why = []string{"config hash changed, in a setting that is not compared"}
				}
				// Each action is written by one goroutine only.
				plan.Services[name][i].Reason = strings.Join(why, "; ")
				return nil
			})
		}
	}
	_ = eg.Wait() // the goroutines report nothing: a reason is a nicety
}

// diffSpec names the settings in which the container the engine reports
// differs from the spec composer would create, in compose's terms, one
// entry per setting, in a fixed order. A setting the spec leaves empty
// counts as the engine's or the image's default.
//
// Values are shown only for settings that cannot hold a secret (image,
// ports, volumes, networks, restart, user, ...). Environment variables
// and labels are named, never shown; commands, health checks, logging
// options and the like are said to have changed.
func diffSpec(want engine.ContainerSpec, have engine.ContainerDetails, img engine.ImageConfig) []string {
	h := have.Config
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	if want.Image != h.Image {
		add("image: %s → %s", h.Image, want.Image)
	}
	if d := diffKeys(kv(want.Env), kv(h.Env), kv(img.Env)); d != "" {
		add("environment: %s", d)
	}
	if d := diffKeys(userLabels(want.Labels), userLabels(h.Labels), img.Labels); d != "" {
		add("labels: %s", d)
	}
	// Docker applies the image's entrypoint when the create gives none,
	// and its command only when the create gives neither.
	wantEntry := want.Entrypoint
	if wantEntry == nil {
		wantEntry = img.Entrypoint
	}
	wantCmd := want.Cmd
	if wantCmd == nil && want.Entrypoint == nil {
		wantCmd = img.Cmd
	}
	if !sameList(wantEntry, h.Entrypoint) {
		out = append(out, "entrypoint changed")
	}
	if !sameList(wantCmd, h.Cmd) {
		out = append(out, "command changed")
	}
	if d := diffPorts(want.Ports, h.Ports); d != "" {
		add("ports: %s", d)
	}
	if d := diffMounts(want.Mounts, h.Mounts, img.Volumes); d != "" {
		add("volumes: %s", d)
	}
	if d := diffNetworks(want.Networks, h.Networks); d != "" {
		add("networks: %s", d)
	}
	if namedMode(want.NetworkMode) && namedMode(h.NetworkMode) && orDefault(want.NetworkMode) != orDefault(h.NetworkMode) && len(want.Networks) == 0 {
		add("network_mode: %s → %s", orDefault(h.NetworkMode), orDefault(want.NetworkMode))
	}
	if r := restartName(want.Restart); r != restartName(h.Restart) || want.Restart.MaxRetries != h.Restart.MaxRetries {
		add("restart: %s → %s", restartName(h.Restart), r)
	}
	wantHC := want.Healthcheck
	if wantHC == nil {
		wantHC = img.Healthcheck
	}
	if !sameHealthcheck(wantHC, h.Healthcheck) {
		out = append(out, "healthcheck changed")
	}
	scalar := func(key, want, have, def string) {
		if want == "" {
			want = def
		}
		if want != have {
			add("%s: %s → %s", key, orNone(have), orNone(want))
		}
	}
	scalar("user", want.User, h.User, img.User)
	scalar("working_dir", want.WorkingDir, h.WorkingDir, img.WorkingDir)
	if want.StopSignal != "" || img.StopSignal != "" || h.StopSignal != "" {
		scalar("stop_signal", want.StopSignal, h.StopSignal, img.StopSignal)
	}
	// An unset hostname is the container's short id, except where the
	// container shares the host's or another container's network stack
	// and takes that one's name.
	sharedNet := want.NetworkMode == "host" || !namedMode(want.NetworkMode)
	if want.Hostname != "" || !sharedNet && h.Hostname != shortID(have.ID) {
		scalar("hostname", want.Hostname, h.Hostname, shortID(have.ID))
	}
	if want.Domainname != h.Domainname {
		add("domainname: %s → %s", orNone(h.Domainname), orNone(want.Domainname))
	}
	flag := func(key string, want, have bool) {
		if want != have {
			add("%s: %t → %t", key, have, want)
		}
	}
	flag("privileged", want.Privileged, h.Privileged)
	flag("read_only", want.ReadOnly, h.ReadOnly)
	flag("tty", want.TTY, h.TTY)
	flag("stdin_open", want.OpenStdin, h.OpenStdin)
	flag("init", want.Init != nil && *want.Init, h.Init != nil && *h.Init)
	if !samePtr(want.StopTimeout, h.StopTimeout) {
		out = append(out, "stop_grace_period changed")
	}
	// The engine spells capabilities CAP_X, and adds label=disable to a
	// privileged container's security options.
	haveSecurity := h.SecurityOpt
	if h.Privileged {
		haveSecurity = slices.DeleteFunc(slices.Clone(haveSecurity), func(o string) bool { return o == "label=disable" && !slices.Contains(want.SecurityOpt, o) })
	}
	sets := []struct {
		key        string
		want, have []string
	}{
		{"cap_add", capNames(want.CapAdd), capNames(h.CapAdd)},
		{"cap_drop", capNames(want.CapDrop), capNames(h.CapDrop)},
		{"dns", want.DNS, h.DNS},
		{"dns_search", want.DNSSearch, h.DNSSearch},
		{"dns_opt", want.DNSOptions, h.DNSOptions},
		{"extra_hosts", want.ExtraHosts, h.ExtraHosts},
		{"group_add", want.GroupAdd, h.GroupAdd},
		{"security_opt", want.SecurityOpt, haveSecurity},
	}
	for _, s := range sets {
		if d := diffSet(s.want, s.have); d != "" {
			add("%s: %s", s.key, d)
		}
	}
	changed := func(key string, same bool) {
		if !same {
			out = append(out, key+" changed")
		}
	}
	changed("sysctls", maps.Equal(want.Sysctls, h.Sysctls))
	changed("tmpfs", maps.Equal(want.Tmpfs, h.Tmpfs))
	changed("ulimits", sameUnordered(want.Ulimits, h.Ulimits))
	changed("devices", sameUnordered(want.Devices, h.Devices))
	changed("resources", reflect.DeepEqual(normalResources(want.Resources), normalResources(h.Resources)))
	// The engine adds its own default log options; only the ones asked
	// for count.
	if want.LogDriver != "" {
		changed("logging", want.LogDriver == h.LogDriver && subsetMap(want.LogOpts, h.LogOpts))
	}
	if want.ShmSize != 0 {
		changed("shm_size", want.ShmSize == h.ShmSize)
	}
	if want.Runtime != "" {
		scalar("runtime", want.Runtime, h.Runtime, "")
	}
	for _, m := range []struct{ key, want, have string }{{"ipc", want.IpcMode, h.IpcMode}, {"pid", want.PidMode, h.PidMode}} {
		if namedMode(m.want) && m.want != "" && m.want != m.have {
			add("%s: %s → %s", m.key, orNone(m.have), m.want)
		}
	}
	if want.MacAddress != "" {
		scalar("mac_address", want.MacAddress, h.MacAddress, "")
	}
	if want.CgroupParent != "" {
		scalar("cgroup_parent", want.CgroupParent, h.CgroupParent, "")
	}
	if want.UsernsMode != "" {
		scalar("userns_mode", want.UsernsMode, h.UsernsMode, "")
	}
	if want.OomScoreAdj != h.OomScoreAdj {
		add("oom_score_adj: %d → %d", h.OomScoreAdj, want.OomScoreAdj)
	}
	return out
}

// kv turns KEY=VALUE entries into a map.
func kv(entries []string) map[string]string {
	m := make(map[string]string, len(entries))
	for _, e := range entries {
		k, v, _ := strings.Cut(e, "=")
		m[k] = v
	}
	return m
}

// userLabels drops compose's own labels, which say what composer set
// (the config hash among them), not what the file asks for.
func userLabels(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if !strings.HasPrefix(k, "com.docker.compose.") {
			out[k] = v
		}
	}
	return out
}

// diffKeys names the keys added, changed or removed between what the
// container has and what is wanted, never their values. A key the
// container has but the spec does not ask for counts as removed unless
// the image sets it.
func diffKeys(want, have, image map[string]string) string {
	var added, changed, removed []string
	for k, v := range want {
		old, ok := have[k]
		switch {
		case !ok:
			added = append(added, k)
		case old != v:
			changed = append(changed, k)
		}
	}
	for k, v := range have {
		if _, ok := want[k]; ok {
			continue
		}
		if iv, ok := image[k]; ok && iv == v {
			continue
		}
		removed = append(removed, k)
	}
	return phrases(added, changed, removed)
}

// phrases renders names grouped by what happened to them:
// "A, B changed; C added; D removed".
func phrases(added, changed, removed []string) string {
	var parts []string
	for _, g := range []struct {
		names []string
		verb  string
	}{{changed, "changed"}, {added, "added"}, {removed, "removed"}} {
		if len(g.names) > 0 {
			slices.Sort(g.names)
			parts = append(parts, strings.Join(g.names, ", ")+" "+g.verb)
		}
	}
	return strings.Join(parts, "; ")
}

func portString(p engine.PortBinding) string {
	s := fmt.Sprint(p.ContainerPort)
	if p.HostPort != "" && p.HostPort != "0" {
		s = p.HostPort + ":" + s
	} else if p.HostIP != "" {
		s = ":" + s
	}
	if p.HostIP != "" {
		s = p.HostIP + ":" + s
	}
	if p.Protocol != "" && p.Protocol != "tcp" {
		s += "/" + p.Protocol
	}
	return s
}

func diffPorts(want, have []engine.PortBinding) string {
	w, h := map[string]bool{}, map[string]bool{}
	for _, p := range want {
		w[portString(p)] = true
	}
	for _, p := range have {
		h[portString(p)] = true
	}
	var added, removed []string
	for p := range w {
		if !h[p] {
			added = append(added, p)
		}
	}
	for p := range h {
		if !w[p] {
			removed = append(removed, p)
		}
	}
	return phrases(added, nil, removed)
}

// mountSource says in words where a mount comes from.
func mountSource(m engine.Mount, anonymous bool) string {
	switch {
	case m.Type == engine.MountBind:
		return "bind mount " + m.Source
	case m.Type == engine.MountTmpfs:
		return "tmpfs"
	case anonymous:
		return "anonymous volume"
	default:
		return "named volume " + m.Source
	}
}

// diffMounts compares mounts by their target. A wanted anonymous volume
// matches any volume the container has there (recreating carries it
// over); an anonymous volume the container has for a VOLUME of its image
// is not one the file asked for.
func diffMounts(want, have []engine.Mount, imageVolumes []string) string {
	byTarget := map[string]engine.Mount{}
	for _, m := range have {
		byTarget[m.Target] = m
	}
	var added, changed []string
	seen := map[string]bool{}
	for _, m := range want {
		seen[m.Target] = true
		old, ok := byTarget[m.Target]
		wantAnon := m.Type == engine.MountVolume && (m.Source == "" || old.Type == engine.MountVolume && old.Source == m.Source && isGeneratedName(m.Source))
		switch {
		case !ok:
			added = append(added, m.Target)
		case m.Type != old.Type || !wantAnon && m.Source != old.Source:
			changed = append(changed, fmt.Sprintf("%s now from %s", m.Target, mountSource(m, wantAnon)))
		case m.ReadOnly != old.ReadOnly:
			changed = append(changed, fmt.Sprintf("%s now read-only: %t", m.Target, m.ReadOnly))
		}
	}
	var removed []string
	for _, m := range have {
		if seen[m.Target] {
			continue
		}
		if m.Type == engine.MountVolume && isGeneratedName(m.Source) && slices.Contains(imageVolumes, m.Target) {
			continue
		}
		removed = append(removed, m.Target)
	}
	var parts []string
	slices.Sort(changed)
	parts = append(parts, changed...)
	if s := phrases(added, nil, removed); s != "" {
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

// isGeneratedName reports whether a volume name is one the engine made up
// for an anonymous volume: 64 hexadecimal digits.
func isGeneratedName(name string) bool {
	if len(name) != 64 {
		return false
	}
	for _, r := range name {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return false
		}
	}
	return true
}

func diffNetworks(want, have []engine.EndpointSpec) string {
	h := map[string]engine.EndpointSpec{}
	for _, e := range have {
		h[e.Network] = e
	}
	w := map[string]bool{}
	var added, changed, removed []string
	for _, e := range want {
		w[e.Network] = true
		old, ok := h[e.Network]
		switch {
		case !ok:
			added = append(added, e.Network)
		case !subset(e.Aliases, old.Aliases):
			changed = append(changed, e.Network+" aliases")
		case e.IPv4Address != "" && e.IPv4Address != old.IPv4Address:
			changed = append(changed, e.Network+" address")
		}
	}
	for _, e := range have {
		if !w[e.Network] {
			removed = append(removed, e.Network)
		}
	}
	return phrases(added, changed, removed)
}

// namedMode reports whether a network, ipc or pid mode names something
// stable; "container:<id>" points at a container being replaced and is
// explained by the plan ("network_mode service:db, db is recreated").
func namedMode(mode string) bool { return !strings.HasPrefix(mode, "container:") }

func orDefault(mode string) string {
	if mode == "" {
		return "default"
	}
	return mode
}

func orNone(s string) string {
	if s == "" {
		return `""`
	}
	return s
}

func restartName(r engine.RestartPolicy) string {
	if r.Name == "" {
		return "no"
	}
	return r.Name
}

func sameList(a, b []string) bool { return slices.Equal(a, b) }

// capNames spells capabilities as the engine reports them: CAP_X.
func capNames(caps []string) []string {
	out := make([]string, len(caps))
	for i, c := range caps {
		c = strings.ToUpper(c)
		if c != "ALL" && !strings.HasPrefix(c, "CAP_") {
			c = "CAP_" + c
		}
		out[i] = c
	}
	return out
}

func subsetMap(a, b map[string]string) bool {
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

func subset(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

func diffSet(want, have []string) string {
	var added, removed []string
	for _, x := range want {
		if !slices.Contains(have, x) {
			added = append(added, x)
		}
	}
	for _, x := range have {
		if !slices.Contains(want, x) {
			removed = append(removed, x)
		}
	}
	return phrases(added, nil, removed)
}

func sameUnordered[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

func samePtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// sameHealthcheck compares what a health check does. An engine too old
// to know start_interval reports none, so it counts only when both say.
func sameHealthcheck(a, b *engine.Healthcheck) bool {
	if a == nil || isNone(a.Test) && len(a.Test) == 1 {
		a = nil
	}
	if b == nil || isNone(b.Test) && len(b.Test) == 1 {
		b = nil
	}
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	if a.StartInterval != 0 && b.StartInterval != 0 && a.StartInterval != b.StartInterval {
		return false
	}
	return slices.Equal(a.Test, b.Test) && a.Interval == b.Interval && a.Timeout == b.Timeout &&
		a.StartPeriod == b.StartPeriod && a.Retries == b.Retries
}

// normalResources makes unset and zero pointers alike: the engine reports
// some limits as 0 where the create left them out.
func normalResources(r engine.Resources) engine.Resources {
	zero := func(p *int64) *int64 {
		if p != nil && *p == 0 {
			return nil
		}
		return p
	}
	r.PidsLimit = zero(r.PidsLimit)
	r.MemSwappiness = zero(r.MemSwappiness)
	if r.OomKillDisable != nil && !*r.OomKillDisable {
		r.OomKillDisable = nil
	}
	return r
}
