package graph

import (
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// FromProject builds the service graph of a project. Besides depends_on,
// a service depends on the services it links to, shares a network, IPC or
// PID namespace with (`service:x`), or takes volumes from, because the
// engine needs those containers to exist before it can create this one.
//
// A depends_on entry with `required: false` on a service that is not part
// of the project (disabled by a profile, say) is dropped rather than being
// an error, as docker compose does.
func FromProject(p *types.Project) (*Graph, error) {
	var nodes []string
	deps := map[string][]string{}
	for name, s := range p.Services {
		nodes = append(nodes, name)
		deps[name] = ServiceDeps(s, func(dep string) bool {
			_, ok := p.Services[dep]
			return ok
		})
	}
	return New(nodes, deps)
}

// ServiceDeps lists the services s needs, from every kind of reference.
// exists tells whether a service is part of the project; optional
// dependencies on absent services are left out.
func ServiceDeps(s types.ServiceConfig, exists func(string) bool) []string {
	var out []string
	for dep, cfg := range s.DependsOn {
		if !cfg.Required && !exists(dep) {
			continue
		}
		out = append(out, dep)
	}
	for _, l := range s.Links {
		name, _, _ := strings.Cut(l, ":")
		out = append(out, name)
	}
	return append(out, NamespaceDeps(s)...)
}

// NamespaceDeps are the services whose containers s's container refers to
// by id, so they must exist before it is created: network_mode, ipc and
// pid `service:x`, and volumes_from.
func NamespaceDeps(s types.ServiceConfig) []string {
	var out []string
	for _, mode := range []string{s.NetworkMode, s.Ipc, s.Pid} {
		if svc, ok := ServiceRef(mode); ok {
			out = append(out, svc)
		}
	}
	for _, vf := range s.VolumesFrom {
		if svc, _, ok := VolumesFromService(vf); ok {
			out = append(out, svc)
		}
	}
	return out
}

// NamespaceRef names the setting by which s shares a namespace or the
// volumes of service dep, as the file writes it: "network_mode
// service:db", "volumes_from db". Empty when s does not refer to dep.
func NamespaceRef(s types.ServiceConfig, dep string) string {
	for _, m := range []struct{ key, mode string }{{"network_mode", s.NetworkMode}, {"ipc", s.Ipc}, {"pid", s.Pid}} {
		if svc, ok := ServiceRef(m.mode); ok && svc == dep {
			return m.key + " " + m.mode
		}
	}
	for _, vf := range s.VolumesFrom {
		if svc, _, ok := VolumesFromService(vf); ok && svc == dep {
			return "volumes_from " + vf
		}
	}
	return ""
}

// ServiceRef returns the service a network_mode, ipc or pid value of the
// form `service:x` names. It is the one place that reads that syntax, so
// that the graph and the container spec cannot disagree on it.
func ServiceRef(mode string) (service string, ok bool) {
	service, ok = strings.CutPrefix(mode, "service:")
	if !ok {
		return "", false
	}
	return service, true
}

// VolumesFromService splits a volumes_from entry naming a service
// (`svc` or `svc:ro`) into the service and the access mode; ok is false
// for a `container:x` entry, which names no service.
func VolumesFromService(entry string) (service, mode string, ok bool) {
	if strings.HasPrefix(entry, "container:") {
		return "", "", false
	}
	service, mode, _ = strings.Cut(entry, ":")
	return service, mode, true
}
