package stack

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/moby/moby/api/types/swarm"
)

// Differences says why a service's current spec is not the one the deploy
// wants, in compose's words, one reason per setting; nil when they are the
// same. The comparison is field by field on the specs as JSON, where an
// absent field and its zero value are the same: the engine stores a spec as
// it was sent but fills a few empty structures (resources, placement) that
// the converter leaves out, and those must not count as a change.
//
// Values are shown only for settings that hold no secrets (image, mode,
// replicas); for the others the reason names what changed (the variables
// of environment, the labels), never their values.
func Differences(current, want swarm.ServiceSpec) []string {
	cur, wnt := normalize(current), normalize(want)
	var reasons []string
	seen := map[string]bool{}
	add := func(r string) {
		if !seen[r] {
			seen[r] = true
			reasons = append(reasons, r)
		}
	}
	for _, path := range diffPaths(cur, wnt, "") {
		add(describe(path, current, want))
	}
	// A global service and a global job both have an empty mode, which
	// pruning cannot tell apart.
	if modeText(current.Mode) != modeText(want.Mode) {
		add(describe("Mode", current, want))
	}
	return reasons
}

// normalize turns a spec into plain JSON values with every empty value
// (null, "", 0, false, empty list or object) removed.
func normalize(spec swarm.ServiceSpec) any {
	b, err := json.Marshal(spec)
	if err != nil {
		// A ServiceSpec holds only plain data; it always marshals.
		panic(fmt.Sprintf("marshal service spec: %v", err))
	}
	var v any
	_ = json.Unmarshal(b, &v)
	return prune(v)
}

func prune(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			if p := prune(e); p != nil {
				out[k] = p
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case []any:
		var out []any
		for _, e := range x {
			p := prune(e)
			if p == nil {
				// Keep the position: a list's elements are compared in
				// order, and an empty element is still an element.
				p = map[string]any{}
			}
			out = append(out, p)
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case string:
		if x == "" {
			return nil
		}
	case float64:
		if x == 0 {
			return nil
		}
	case bool:
		if !x {
			return nil
		}
	}
	return v
}

// diffPaths lists the dotted paths (down to the settings describe knows,
// or to the leaves) where a and b differ, sorted.
func diffPaths(a, b any, path string) []string {
	if reflect.DeepEqual(a, b) {
		return nil
	}
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if !aok || !bok || settingOf(path) != "" {
		return []string{path}
	}
	var keys []string
	for k := range am {
		keys = append(keys, k)
	}
	for k := range bm {
		if _, ok := am[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []string
	for _, k := range keys {
		p := k
		if path != "" {
			p = path + "." + k
		}
		out = append(out, diffPaths(am[k], bm[k], p)...)
	}
	return out
}

// settings maps paths of the spec (as JSON) to the compose setting they
// come from. A difference below one of them is reported as that setting.
var settings = map[string]string{
	"Labels":                                     "deploy.labels",
	"Mode":                                       "deploy.mode",
	"UpdateConfig":                               "deploy.update_config",
	"RollbackConfig":                             "deploy.rollback_config",
	"EndpointSpec.Mode":                          "deploy.endpoint_mode",
	"EndpointSpec.Ports":                         "ports",
	"TaskTemplate.Resources":                     "deploy.resources",
	"TaskTemplate.RestartPolicy":                 "restart policy",
	"TaskTemplate.Placement":                     "deploy.placement",
	"TaskTemplate.Networks":                      "networks",
	"TaskTemplate.LogDriver":                     "logging",
	"TaskTemplate.ContainerSpec.Image":           "image",
	"TaskTemplate.ContainerSpec.Labels":          "labels",
	"TaskTemplate.ContainerSpec.Command":         "entrypoint",
	"TaskTemplate.ContainerSpec.Args":            "command",
	"TaskTemplate.ContainerSpec.Hostname":        "hostname",
	"TaskTemplate.ContainerSpec.Env":             "environment",
	"TaskTemplate.ContainerSpec.Dir":             "working_dir",
	"TaskTemplate.ContainerSpec.User":            "user",
	"TaskTemplate.ContainerSpec.Groups":          "group_add",
	"TaskTemplate.ContainerSpec.Privileges":      "credential_spec",
	"TaskTemplate.ContainerSpec.Init":            "init",
	"TaskTemplate.ContainerSpec.StopSignal":      "stop_signal",
	"TaskTemplate.ContainerSpec.TTY":             "tty",
	"TaskTemplate.ContainerSpec.OpenStdin":       "stdin_open",
	"TaskTemplate.ContainerSpec.ReadOnly":        "read_only",
	"TaskTemplate.ContainerSpec.Mounts":          "volumes",
	"TaskTemplate.ContainerSpec.StopGracePeriod": "stop_grace_period",
	"TaskTemplate.ContainerSpec.Healthcheck":     "healthcheck",
	"TaskTemplate.ContainerSpec.Hosts":           "extra_hosts",
	"TaskTemplate.ContainerSpec.DNSConfig":       "dns",
	"TaskTemplate.ContainerSpec.Secrets":         "secrets",
	"TaskTemplate.ContainerSpec.Configs":         "configs",
	"TaskTemplate.ContainerSpec.Isolation":       "isolation",
	"TaskTemplate.ContainerSpec.Sysctls":         "sysctls",
	"TaskTemplate.ContainerSpec.CapabilityAdd":   "cap_add",
	"TaskTemplate.ContainerSpec.CapabilityDrop":  "cap_drop",
	"TaskTemplate.ContainerSpec.Ulimits":         "ulimits",
	"TaskTemplate.ContainerSpec.OomScoreAdj":     "oom_score_adj",
}

func settingOf(path string) string { return settings[path] }

// describe says what changed at path, naming the compose setting.
func describe(path string, current, want swarm.ServiceSpec) string {
	name := settingOf(path)
	if name == "" {
		// A field no compose setting maps to: name it as the API does.
		return path + " changed"
	}
	cc, wc := current.TaskTemplate.ContainerSpec, want.TaskTemplate.ContainerSpec
	if cc == nil {
		cc = &swarm.ContainerSpec{}
	}
	if wc == nil {
		wc = &swarm.ContainerSpec{}
	}
	switch name {
	case "image":
		return fmt.Sprintf("image: %s → %s", cc.Image, wc.Image)
	case "environment":
		return "environment: " + changedKeys(envMap(cc.Env), envMap(wc.Env))
	case "labels":
		return "labels: " + changedKeys(cc.Labels, wc.Labels)
	case "deploy.labels":
		return "deploy.labels: " + changedKeys(current.Labels, want.Labels)
	case "deploy.mode":
		return "deploy: " + modeText(current.Mode) + " → " + modeText(want.Mode)
	case "secrets":
		return "secrets: " + changedRefs(secretNames(cc.Secrets), secretNames(wc.Secrets))
	case "configs":
		return "configs: " + changedRefs(configNames(cc.Configs), configNames(wc.Configs))
	}
	return name + " changed"
}

func envMap(env []string) map[string]string {
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

// changedKeys names the keys added, removed and changed between two maps,
// without their values.
func changedKeys(old, new map[string]string) string {
	var changed, added, removed []string
	for k, v := range new {
		ov, ok := old[k]
		switch {
		case !ok:
			added = append(added, k)
		case ov != v:
			changed = append(changed, k)
		}
	}
	for k := range old {
		if _, ok := new[k]; !ok {
			removed = append(removed, k)
		}
	}
	var parts []string
	for _, g := range []struct {
		keys []string
		verb string
	}{{changed, "changed"}, {added, "added"}, {removed, "removed"}} {
		if len(g.keys) > 0 {
			slices.Sort(g.keys)
			parts = append(parts, strings.Join(g.keys, ", ")+" "+g.verb)
		}
	}
	if len(parts) == 0 {
		return "changed"
	}
	return strings.Join(parts, "; ")
}

// changedRefs names the configs or secrets a service no longer mounts and
// the new ones; a changed content shows as one of each, as the hashed
// name changes with it.
func changedRefs(old, new []string) string {
	var parts []string
	for _, n := range new {
		if !slices.Contains(old, n) {
			parts = append(parts, n+" added")
		}
	}
	for _, o := range old {
		if !slices.Contains(new, o) {
			parts = append(parts, o+" removed")
		}
	}
	if len(parts) == 0 {
		return "changed"
	}
	return strings.Join(parts, "; ")
}

func secretNames(refs []*swarm.SecretReference) []string {
	var out []string
	for _, r := range refs {
		out = append(out, r.SecretName)
	}
	return out
}

func configNames(refs []*swarm.ConfigReference) []string {
	var out []string
	for _, r := range refs {
		out = append(out, r.ConfigName)
	}
	return out
}

func modeText(m swarm.ServiceMode) string {
	switch {
	case m.Replicated != nil && m.Replicated.Replicas != nil:
		return fmt.Sprintf("%d replicas", *m.Replicated.Replicas)
	case m.Global != nil:
		return "global"
	case m.ReplicatedJob != nil:
		return "job"
	case m.GlobalJob != nil:
		return "global job"
	}
	return "replicated"
}
