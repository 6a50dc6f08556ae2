package watch

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// Work is what one service has to do after a batch of changes, in the
// order it is done: rebuild, sync (deletions and copies), restart, exec.
type Work struct {
	Service string
	Rebuild bool
	// Sync lists the paths to copy or delete, by container path, without
	// paths under a directory deleted in the same batch.
	Sync []Change
	// Restart is set for restart and sync+restart, unless the same batch
	// rebuilds the service: its container is new then.
	Restart bool
	// Exec are the sync+exec hooks to run, once each.
	Exec []types.ServiceHook
}

// Change is a path to sync: copied when it exists on the host, deleted
// in the container when it does not.
type Change struct {
	Mapping
	Deleted bool
}

// empty reports whether there is nothing to do.
func (w Work) empty() bool {
	return !w.Rebuild && len(w.Sync) == 0 && !w.Restart && len(w.Exec) == 0
}

// String describes the work for tests and debugging.
func (w Work) String() string {
	var parts []string
	if w.Rebuild {
		parts = append(parts, "rebuild")
	}
	for _, c := range w.Sync {
		op := "copy"
		if c.Deleted {
			op = "delete"
		}
		parts = append(parts, fmt.Sprintf("%s %s", op, c.ContainerPath))
	}
	if w.Restart {
		parts = append(parts, "restart")
	}
	for _, h := range w.Exec {
		parts = append(parts, "exec "+strings.Join(h.Command, " "))
	}
	return w.Service + ": " + strings.Join(parts, "; ")
}

// plan decides what a service does about the changed host paths: pure
// but for exists, which says whether a host path is there now.
func plan(service string, rules []Rule, paths []string, exists func(string) bool) Work {
	w := Work{Service: service}
	sync := map[string]Change{}
	var hooks []int
	restart := false
	for _, p := range paths {
		for _, r := range rules {
			if r.Service != service {
				continue
			}
			m, ok := r.Match(p)
			if !ok {
				continue
			}
			switch r.Trigger.Action {
			case types.WatchActionRebuild:
				w.Rebuild = true
			case types.WatchActionRestart:
				restart = true
			case types.WatchActionSync, types.WatchActionSyncRestart, types.WatchActionSyncExec:
				sync[m.ContainerPath] = Change{Mapping: m, Deleted: !exists(p)}
				if r.Trigger.Action == types.WatchActionSyncRestart {
					restart = true
				}
				if r.Trigger.Action == types.WatchActionSyncExec && !slices.Contains(hooks, r.Index) {
					hooks = append(hooks, r.Index)
				}
			}
		}
	}
	w.Restart = restart && !w.Rebuild
	w.Sync = pruneDeleted(sync)
	sort.Ints(hooks)
	for _, i := range hooks {
		for _, r := range rules {
			if r.Service == service && r.Index == i {
				w.Exec = append(w.Exec, r.Trigger.Exec)
				break
			}
		}
	}
	return w
}

// pruneDeleted sorts the changes and drops those under a directory that
// is deleted anyway.
func pruneDeleted(m map[string]Change) []Change {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []Change
	var deleted []string
	for _, k := range keys {
		under := false
		for _, d := range deleted {
			if strings.HasPrefix(k, strings.TrimSuffix(d, "/")+"/") {
				under = true
				break
			}
		}
		if under {
			continue
		}
		c := m[k]
		if c.Deleted {
			deleted = append(deleted, k)
		}
		out = append(out, c)
	}
	return out
}
