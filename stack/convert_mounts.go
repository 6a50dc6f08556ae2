package stack

import (
	"cmp"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/mount"
)

// mounts are the service's volumes and tmpfs, sorted by target.
func (c *converter) mounts(s types.ServiceConfig, n *notes, e *fieldErrors) []mount.Mount {
	var out []mount.Mount
	driverUsed := false
	for _, v := range s.Volumes {
		m, ok := c.mount(s, v, n, e, &driverUsed)
		if ok {
			out = append(out, m)
		}
	}
	for _, t := range s.Tmpfs {
		if m, ok := c.tmpfsMount(t, n, e); ok {
			out = append(out, m)
		}
	}
	if s.VolumeDriver != "" {
		if driverUsed {
			n.approximate("volume_driver", "as the driver of the service's volumes that name none")
		} else {
			n.ignore("volume_driver", "no volume of the service takes a driver from it")
		}
	}
	slices.SortStableFunc(out, func(a, b mount.Mount) int { return cmp.Compare(a.Target, b.Target) })
	return out
}

// mount converts one entry of volumes; ok is false when it has no swarm
// mount.
func (c *converter) mount(s types.ServiceConfig, v types.ServiceVolumeConfig, n *notes, e *fieldErrors, driverUsed *bool) (mount.Mount, bool) {
	m := mount.Mount{Type: mount.Type(v.Type), Source: v.Source, Target: v.Target, ReadOnly: v.ReadOnly}
	if v.Consistency != "" {
		// The engine does not pass consistency on to Swarm.
		n.ignore("volumes.consistency", "")
	}
	switch v.Type {
	case types.VolumeTypeVolume, "":
		m.Type = mount.TypeVolume
		if err := c.volumeMount(s, v, &m, n, driverUsed); err != nil {
			e.add("volumes", err)
			return m, false
		}
	case types.VolumeTypeBind:
		if v.Source == "" {
			e.add("volumes", fmt.Errorf("bind mount at %s has no source", v.Target))
			return m, false
		}
		m.BindOptions = bindOptions(v, n)
		// compose creates a missing host directory; the swarm refuses
		// to start a task whose bind source is missing on its node.
		n.approximate("volumes", "bind mounts need their host path on each node that runs a task: Swarm does not create it")
	case types.VolumeTypeTmpfs:
		if v.Tmpfs != nil && (v.Tmpfs.Size != 0 || v.Tmpfs.Mode != 0) {
			m.TmpfsOptions = &mount.TmpfsOptions{SizeBytes: int64(v.Tmpfs.Size), Mode: os.FileMode(v.Tmpfs.Mode)}
		}
	case types.VolumeTypeNamedPipe:
	case types.VolumeTypeCluster:
		if def, ok := c.p.Volumes[v.Source]; ok {
			m.Source = cmp.Or(def.Name, c.ns+"_"+v.Source)
		}
		m.ClusterOptions = &mount.ClusterOptions{}
	default:
		n.ignore("volumes.type", fmt.Sprintf("%s mount at %s", v.Type, v.Target))
		return m, false
	}
	return m, true
}

// volumeMount fills a volume mount: an anonymous volume, one of the
// project's (created by each node's engine when a task first mounts it,
// with the driver, options and labels given here), or an external one.
func (c *converter) volumeMount(s types.ServiceConfig, v types.ServiceVolumeConfig, m *mount.Mount, n *notes, driverUsed *bool) error {
	var opts mount.VolumeOptions
	labels := map[string]string{}
	if v.Volume != nil {
		opts.NoCopy = v.Volume.NoCopy
		if v.Volume.Subpath != "" && c.needs(n, "volumes.volume.subpath", apiSubpath) {
			opts.Subpath = v.Volume.Subpath
		}
		maps.Copy(labels, v.Volume.Labels)
	}
	driver, driverOpts := "", map[string]string(nil)
	external := false
	if v.Source != "" {
		def, ok := c.p.Volumes[v.Source]
		if !ok {
			return fmt.Errorf("volume %s is not declared in the top-level volumes", v.Source)
		}
		if def.External {
			m.Source = cmp.Or(def.Name, v.Source)
			external = true
		} else {
			m.Source = cmp.Or(def.Name, c.ns+"_"+v.Source)
			driver, driverOpts = def.Driver, cloneMap(def.DriverOpts)
			labels = mergeLabels(def.Labels, labels)
		}
	}
	if !external {
		if driver == "" && s.VolumeDriver != "" {
			driver = s.VolumeDriver
			*driverUsed = true
		}
		if driver != "" || driverOpts != nil {
			opts.DriverConfig = &mount.Driver{Name: driver, Options: driverOpts}
		}
		// The namespace label lets undeploy find the volumes the stack's
		// tasks made, anonymous ones included.
		labels[LabelNamespace] = c.ns
		opts.Labels = labels
	}
	if opts.NoCopy || opts.Subpath != "" || opts.Labels != nil || opts.DriverConfig != nil {
		m.VolumeOptions = &opts
	}
	return nil
}

// mergeLabels returns base overridden by over, in a new map.
func mergeLabels(base, over map[string]string) map[string]string {
	out := map[string]string{}
	maps.Copy(out, base)
	maps.Copy(out, over)
	return out
}

// bindOptions are a bind mount's propagation and recursion. The engine
// passes only these on to Swarm: the read-only recursion options and
// selinux have no place in a swarm mount.
func bindOptions(v types.ServiceVolumeConfig, n *notes) *mount.BindOptions {
	b := v.Bind
	if b == nil {
		return nil
	}
	opts := mount.BindOptions{Propagation: mount.Propagation(b.Propagation)}
	switch b.Recursive {
	case "", "enabled":
	case "disabled":
		opts.NonRecursive = true
	default:
		n.ignore("volumes.bind.recursive", b.Recursive+": Swarm mounts read-only binds as the engine does by default")
	}
	if b.SELinux != "" {
		n.ignore("volumes.bind.selinux", "relabel the host path on each node instead")
	}
	if opts == (mount.BindOptions{}) {
		return nil
	}
	if opts.Propagation == "" {
		// The engine reports options without a propagation as rprivate.
		opts.Propagation = mount.PropagationRPrivate
	}
	return &opts
}

// tmpfsMount converts an entry of tmpfs: path[:options], where size and
// mode are options of the mount and the others need API 1.46.
func (c *converter) tmpfsMount(entry string, n *notes, e *fieldErrors) (mount.Mount, bool) {
	target, options, _ := strings.Cut(entry, ":")
	m := mount.Mount{Type: mount.TypeTmpfs, Target: target}
	var opts mount.TmpfsOptions
	var other [][]string
	for _, o := range strings.Split(options, ",") {
		if o == "" {
			continue
		}
		k, v, _ := strings.Cut(o, "=")
		switch k {
		case "size":
			size, err := byteSize(v)
			if err != nil {
				e.add("tmpfs", fmt.Errorf("%s: %w", entry, err))
				return m, false
			}
			opts.SizeBytes = size
		case "mode":
			mode, err := strconv.ParseUint(v, 8, 32)
			if err != nil {
				e.add("tmpfs", fmt.Errorf("%s: mode %q is not octal", entry, v))
				return m, false
			}
			opts.Mode = os.FileMode(mode)
		default:
			if v == "" {
				other = append(other, []string{k})
			} else {
				other = append(other, []string{k, v})
			}
		}
	}
	if other != nil && c.needs(n, "tmpfs options", apiTmpfsOptions) {
		opts.Options = other
	}
	if opts.SizeBytes != 0 || opts.Mode != 0 || opts.Options != nil {
		m.TmpfsOptions = &opts
	}
	return m, true
}

// byteSize parses a size as docker does: a number with an optional unit
// k, m or g (powers of 1024), optionally followed by b.
func byteSize(s string) (int64, error) {
	num := strings.TrimSuffix(strings.ToLower(s), "b")
	mult := 1.0
	if len(num) > 0 {
		if m, ok := map[byte]float64{'k': 1 << 10, 'm': 1 << 20, 'g': 1 << 30}[num[len(num)-1]]; ok {
			mult, num = m, num[:len(num)-1]
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("size %q is not a size (a number with k, m or g)", s)
	}
	return int64(v * mult), nil
}
