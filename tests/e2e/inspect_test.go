package e2e

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"
)

// Label keys as docker compose writes them. The scenarios spell them out
// instead of importing composer's constants, so a typo there is caught here.
const (
	projectLabel     = "com.docker.compose.project"
	serviceLabel     = "com.docker.compose.service"
	numberLabel      = "com.docker.compose.container-number"
	oneoffLabel      = "com.docker.compose.oneoff"
	configHashLabel  = "com.docker.compose.config-hash"
	dependsOnLabel   = "com.docker.compose.depends_on"
	imageLabel       = "com.docker.compose.image"
	workingDirLabel  = "com.docker.compose.project.working_dir"
	configFilesLabel = "com.docker.compose.project.config_files"
	versionLabel     = "com.docker.compose.version"
	networkLabel     = "com.docker.compose.network"
	volumeLabel      = "com.docker.compose.volume"
)

// Container is the part of `docker inspect` the scenarios look at.
type Container struct {
	ID      string
	Name    string // without the leading slash
	Image   string // image ID
	Created time.Time
	State   struct {
		Status     string
		Running    bool
		ExitCode   int
		StartedAt  time.Time
		FinishedAt time.Time
		Health     *struct {
			Status string
		}
	}
	Config struct {
		Hostname    string
		User        string
		Env         []string
		Cmd         []string
		Entrypoint  []string
		Image       string
		WorkingDir  string
		Labels      map[string]string
		StopSignal  string
		Tty         bool
		OpenStdin   bool
		Healthcheck *struct {
			Test        []string
			Interval    time.Duration
			Timeout     time.Duration
			Retries     int
			StartPeriod time.Duration
		}
	}
	HostConfig struct {
		Binds         []string
		NetworkMode   string
		PortBindings  map[string][]struct{ HostIp, HostPort string }
		RestartPolicy struct {
			Name              string
			MaximumRetryCount int
		}
		Init           *bool
		ExtraHosts     []string
		CapAdd         []string
		CapDrop        []string
		Privileged     bool
		ReadonlyRootfs bool
		Dns            []string
		Sysctls        map[string]string
		ShmSize        int64
		Memory         int64
		NanoCpus       int64
		Tmpfs          map[string]string
		Ulimits        []struct {
			Name string
			Soft int64
			Hard int64
		}
		Mounts []struct {
			Type   string
			Source string
			Target string
		}
	}
	Mounts []struct {
		Type        string
		Name        string
		Source      string
		Destination string
		RW          bool
	}
	NetworkSettings struct {
		Networks map[string]struct {
			Aliases   []string
			IPAddress string
		}
	}
}

// Service is the container's service label.
func (c Container) Service() string { return c.Config.Labels[serviceLabel] }

// HasEnv reports whether the container's environment holds kv (KEY=VALUE).
func (c Container) HasEnv(kv string) bool { return contains(c.Config.Env, kv) }

// Mount returns the mount at destination, if any.
func (c Container) Mount(destination string) (typ, name, source string, ok bool) {
	for _, m := range c.Mounts {
		if m.Destination == destination {
			return m.Type, m.Name, m.Source, true
		}
	}
	return "", "", "", false
}

// Network is the part of `docker network inspect` the scenarios look at.
type Network struct {
	ID     string
	Name   string
	Driver string
	Labels map[string]string
}

// Volume is the part of `docker volume inspect` the scenarios look at.
type Volume struct {
	Name   string
	Driver string
	Labels map[string]string
}

// ProjectContainers returns every container (running or not) labelled with
// the project, sorted by name.
func ProjectContainers(t *testing.T, project string) []Container {
	t.Helper()
	ids := strings.Fields(Docker(t, "ps", "-aq", "--filter", "label="+projectLabel+"="+project))
	if len(ids) == 0 {
		return nil
	}
	var cs []Container
	inspect(t, &cs, append([]string{"container", "inspect"}, ids...)...)
	for i := range cs {
		cs[i].Name = strings.TrimPrefix(cs[i].Name, "/")
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].Name < cs[j].Name })
	return cs
}

// ContainerNames returns the names of the project's containers, sorted.
func ContainerNames(t *testing.T, project string) []string {
	t.Helper()
	var names []string
	for _, c := range ProjectContainers(t, project) {
		names = append(names, c.Name)
	}
	return names
}

// InspectContainer returns the container called name, failing the test if
// there is none.
func InspectContainer(t *testing.T, name string) Container {
	t.Helper()
	var cs []Container
	inspect(t, &cs, "container", "inspect", name)
	cs[0].Name = strings.TrimPrefix(cs[0].Name, "/")
	return cs[0]
}

// ContainerExists reports whether a container called name exists.
func ContainerExists(name string) bool {
	_, err := docker("container", "inspect", "--format", "{{.ID}}", name)
	return err == nil
}

// ProjectNetworks returns the networks labelled with the project, sorted by name.
func ProjectNetworks(t *testing.T, project string) []Network {
	t.Helper()
	ids := strings.Fields(Docker(t, "network", "ls", "-q", "--filter", "label="+projectLabel+"="+project))
	if len(ids) == 0 {
		return nil
	}
	var ns []Network
	inspect(t, &ns, append([]string{"network", "inspect"}, ids...)...)
	sort.Slice(ns, func(i, j int) bool { return ns[i].Name < ns[j].Name })
	return ns
}

// NetworkExists reports whether a network called name exists.
func NetworkExists(name string) bool {
	_, err := docker("network", "inspect", "--format", "{{.ID}}", name)
	return err == nil
}

// ProjectVolumes returns the volumes labelled with the project, sorted by name.
func ProjectVolumes(t *testing.T, project string) []Volume {
	t.Helper()
	names := strings.Fields(Docker(t, "volume", "ls", "-q", "--filter", "label="+projectLabel+"="+project))
	if len(names) == 0 {
		return nil
	}
	var vs []Volume
	inspect(t, &vs, append([]string{"volume", "inspect"}, names...)...)
	sort.Slice(vs, func(i, j int) bool { return vs[i].Name < vs[j].Name })
	return vs
}

// VolumeExists reports whether a volume called name exists.
func VolumeExists(name string) bool {
	_, err := docker("volume", "inspect", "--format", "{{.Name}}", name)
	return err == nil
}

// ImageID returns the ID of the image ref.
func ImageID(t *testing.T, ref string) string {
	t.Helper()
	return Docker(t, "image", "inspect", "--format", "{{.ID}}", ref)
}

// Exec runs the test program inside a running container and returns its
// output and whether it exited 0.
func Exec(name string, args ...string) (string, bool) {
	out, err := docker(append([]string{"exec", name, "/app"}, args...)...)
	return out, err == nil
}

// AssertNothingCreated fails the test if the engine holds any resource
// labelled with the project.
func AssertNothingCreated(t *testing.T, project string) {
	t.Helper()
	if cs := ContainerNames(t, project); len(cs) > 0 {
		t.Errorf("containers were created: %v", cs)
	}
	if ns := ProjectNetworks(t, project); len(ns) > 0 {
		t.Errorf("networks were created: %v", ns)
	}
	if vs := ProjectVolumes(t, project); len(vs) > 0 {
		t.Errorf("volumes were created: %v", vs)
	}
}

func inspect(t *testing.T, into any, args ...string) {
	t.Helper()
	out := Docker(t, args...)
	if err := json.Unmarshal([]byte(out), into); err != nil {
		t.Fatalf("parsing docker %s: %v", strings.Join(args, " "), err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// IDs returns the ID of each of the project's containers by name, for "was it recreated" checks.
func IDs(t *testing.T, project string) map[string]string {
	t.Helper()
	ids := map[string]string{}
	for _, c := range ProjectContainers(t, project) {
		ids[c.Name] = c.ID
	}
	return ids
}

// Ready reports a container's health as a wait for it sees it: "healthy"
// when the engine says so, and also while the engine's first check is
// still to come ("starting") if the container's own health check passes
// when run now, as composer's probe runs it. Anything else is returned as
// the engine reports it.
func Ready(t *testing.T, name string) string {
	t.Helper()
	h := inspectField(name, "{{.State.Health.Status}}")
	if h != "starting" {
		return h
	}
	var test []string
	if err := json.Unmarshal([]byte(inspectField(name, "{{json .Config.Healthcheck.Test}}")), &test); err != nil || len(test) < 2 || test[0] != "CMD" {
		return h
	}
	if _, err := docker(append([]string{"exec", name}, test[1:]...)...); err != nil {
		return h
	}
	return "healthy"
}
