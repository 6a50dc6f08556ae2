// Package engine defines the narrow view of a container engine that composer
// needs, in composer's own types. The orchestrator depends only on this
// package; engine/docker implements it over the Docker Engine API and
// engine/fake implements it in memory for unit tests.
//
// The view is split in two. Core is what every operation needs: managing
// containers, networks, volumes and images and watching the engine's
// events. Interactive is the terminal part (exec, attach, top, resizing a
// TTY) that only exec, run, attach and top use. Keeping it apart lets a
// backend that has no interactive access to containers, such as a Swarm
// backend later, implement Core alone. Engine is both, what the
// orchestrator and the commands are given today.
package engine

import (
	"context"
	"errors"
	"io"
	"time"
)

// Sentinel errors every implementation maps its failures to, so callers can
// decide with errors.Is without knowing the engine. Implementations return
// the engine's own message wrapped with a sentinel and add no words saying
// which operation failed: the caller knows that and says it once.
var (
	// ErrNotFound: the named container, network, volume or image does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a resource with that name exists already, or the resource
	// is in a state that forbids the operation (removing a running container).
	ErrConflict = errors.New("conflict")
)

// Engine is everything composer asks of a container engine.
type Engine interface {
	Core
	Interactive
	Transfer
}

// Core is what every operation needs, grouped by role. Each method maps to
// about one engine call.
type Core interface {
	Containers
	Networks
	Volumes
	Images
	Events
}

// Containers manages containers.
type Containers interface {
	// ListContainers returns the containers carrying every label in filter
	// (a value of "" matches any value), running or not.
	ListContainers(ctx context.Context, filter Filter) ([]Container, error)
	// InspectContainer returns the full state of one container by id or name.
	InspectContainer(ctx context.Context, id string) (ContainerDetails, error)
	// CreateContainer creates a container and returns its id. It is attached
	// to every network in spec.Networks before it can start; a create that
	// fails leaves no container behind.
	CreateContainer(ctx context.Context, spec ContainerSpec) (string, error)
	StartContainer(ctx context.Context, id string) error
	// StopContainer sends the stop signal and kills after timeout; nil means
	// the container's own stop timeout.
	StopContainer(ctx context.Context, id string, timeout *time.Duration) error
	KillContainer(ctx context.Context, id string, signal string) error
	// RemoveContainer removes a container; NotFound counts as success for
	// callers that only want it gone (they check errors.Is).
	RemoveContainer(ctx context.Context, id string, opts RemoveOptions) error
	RenameContainer(ctx context.Context, id, newName string) error
	PauseContainer(ctx context.Context, id string) error
	UnpauseContainer(ctx context.Context, id string) error
	// ContainerLogs writes the container's log to stdout and stderr (kept
	// apart) until the log ends or, with Follow, until ctx is done or the
	// container stops.
	ContainerLogs(ctx context.Context, id string, opts LogOptions, stdout, stderr io.Writer) error
}

// Networks manages networks. A container joins its networks when it is
// created (CreateContainer attaches all of spec.Networks), so there is no
// call to connect one later.
type Networks interface {
	ListNetworks(ctx context.Context, filter Filter) ([]Network, error)
	// InspectNetwork finds a network by name or id.
	InspectNetwork(ctx context.Context, name string) (Network, error)
	CreateNetwork(ctx context.Context, spec NetworkSpec) (string, error)
	RemoveNetwork(ctx context.Context, id string) error
}

// Volumes manages volumes.
type Volumes interface {
	ListVolumes(ctx context.Context, filter Filter) ([]Volume, error)
	InspectVolume(ctx context.Context, name string) (Volume, error)
	CreateVolume(ctx context.Context, spec VolumeSpec) (Volume, error)
	RemoveVolume(ctx context.Context, name string, force bool) error
}

// Images manages images.
type Images interface {
	// InspectImage finds an image by reference or id.
	InspectImage(ctx context.Context, ref string) (Image, error)
	// PullImage pulls ref, reporting progress lines to progress (may be nil).
	PullImage(ctx context.Context, ref string, platform string, progress func(ProgressLine)) error
	// BuildImage builds an image from a tar of the build context.
	BuildImage(ctx context.Context, context io.Reader, spec BuildSpec, progress func(ProgressLine)) (string, error)
	RemoveImage(ctx context.Context, ref string, force bool) error
}

// Events watches the engine.
type Events interface {
	// Events streams engine events matching filter until ctx is done. The
	// error channel receives at most one error and is then closed.
	Events(ctx context.Context, filter EventFilter) (<-chan Event, <-chan error)
}

// Interactive connects a terminal or a program to processes in running
// containers. Only exec, run, attach and top need it.
type Interactive interface {
	// Exec runs a command in a running container and returns its exit code.
	Exec(ctx context.Context, id string, spec ExecSpec, streams Streams) (int, error)
	// Attach connects streams to a created container's main process; it
	// returns once attached, and the returned function waits for the
	// streams to end.
	Attach(ctx context.Context, id string, streams Streams, tty bool) (wait func() error, err error)
	// Top lists the processes of a running container.
	Top(ctx context.Context, id string) (Processes, error)
	// ResizeTTY tells the engine the size of the terminal attached to a
	// container (exec id when exec is true).
	ResizeTTY(ctx context.Context, id string, height, width uint, exec bool) error
}

// Filter selects resources by label. A label with an empty value matches
// any value of that label.
type Filter struct {
	Labels map[string]string
	// Name, if set, matches resources whose name contains it (engine semantics).
	Name string
}

// Matches reports whether labels satisfy the filter's label part.
func (f Filter) Matches(labels map[string]string) bool {
	for k, v := range f.Labels {
		got, ok := labels[k]
		if !ok || (v != "" && got != v) {
			return false
		}
	}
	return true
}

// RemoveOptions tune container removal.
type RemoveOptions struct {
	Force bool // kill a running container first
	// RemoveVolumes removes the container's anonymous volumes with it.
	RemoveVolumes bool
}

// ContainerState is the engine's lifecycle state of a container.
type ContainerState string

const (
	StateCreated    ContainerState = "created"
	StateRunning    ContainerState = "running"
	StatePaused     ContainerState = "paused"
	StateRestarting ContainerState = "restarting"
	StateExited     ContainerState = "exited"
	StateRemoving   ContainerState = "removing"
	StateDead       ContainerState = "dead"
)

// Health is a container's health status; empty when it has no healthcheck.
type Health string

const (
	HealthNone      Health = ""
	HealthStarting  Health = "starting"
	HealthHealthy   Health = "healthy"
	HealthUnhealthy Health = "unhealthy"
)

// Container is what a list call tells about a container.
type Container struct {
	ID      string
	Name    string // without the leading slash
	Image   string // the reference it was created from
	ImageID string
	Labels  map[string]string
	State   ContainerState
	// Status is the engine's human text ("Up 3 seconds (healthy)").
	Status   string
	Health   Health
	Created  time.Time
	Command  string
	Ports    []PortSummary
	Networks []string
	Mounts   []MountPoint
}

// PortSummary is one published or exposed port of a container.
type PortSummary struct {
	IP          string
	PrivatePort uint16
	PublicPort  uint16
	Protocol    string
}

// ContainerDetails is what an inspect call tells about a container.
type ContainerDetails struct {
	Container
	ExitCode   int
	OOMKilled  bool
	Error      string
	StartedAt  time.Time
	FinishedAt time.Time
	// HealthLog holds the output of the last health probes, newest last.
	HealthLog    []string
	RestartCount int
	Pid          int
	TTY          bool
	Env          []string
	User         string
	WorkingDir   string
	// NetworkIPs maps network name to the container's IPv4 address there.
	NetworkIPs map[string]string
	// Config is the container's configuration as the engine reports it,
	// in the form it was created from: what a ContainerSpec asked for,
	// with the engine's and the image's defaults filled in where the
	// spec left a field empty. Comparing it with the spec composer would
	// create now says why a container differs, whoever created it.
	// Mounts are the container's mounts as it has them (anonymous
	// volumes by their generated names, the image's VOLUMEs included),
	// and Networks the networks it is attached to, with their aliases.
	Config ContainerSpec
}

// MountPoint is a mount as the engine reports it.
type MountPoint struct {
	Type        string // volume, bind, tmpfs
	Name        string // volume name, for volumes
	Source      string
	Destination string
	ReadOnly    bool
}

// ContainerSpec is everything needed to create a container.
type ContainerSpec struct {
	Name       string
	Image      string
	Labels     map[string]string
	Env        []string // KEY=VALUE
	Cmd        []string // nil: the image's default
	Entrypoint []string // nil: the image's default
	WorkingDir string
	User       string
	Hostname   string
	Domainname string
	TTY        bool
	OpenStdin  bool
	StdinOnce  bool
	// AttachStdout etc. ask the engine to keep streams for an attach.
	AttachStdin, AttachStdout, AttachStderr bool
	StopSignal                              string
	StopTimeout                             *int // seconds
	Healthcheck                             *Healthcheck
	ExposedPorts                            []string // "80/tcp"
	Ports                                   []PortBinding
	Mounts                                  []Mount
	Restart                                 RestartPolicy
	Init                                    *bool
	Privileged                              bool
	ReadOnly                                bool
	CapAdd                                  []string
	CapDrop                                 []string
	SecurityOpt                             []string
	DNS                                     []string
	DNSSearch                               []string
	DNSOptions                              []string
	ExtraHosts                              []string // "host:ip"
	GroupAdd                                []string
	Ulimits                                 []Ulimit
	Sysctls                                 map[string]string
	LogDriver                               string
	LogOpts                                 map[string]string
	ShmSize                                 int64
	Devices                                 []Device
	Resources                               Resources
	// NetworkMode is "", "none", "host", "bridge", "container:<id>" or the
	// name of the first network.
	NetworkMode string
	IpcMode     string
	PidMode     string
	VolumesFrom []string
	Links       []string
	Platform    string
	Runtime     string
	// Networks are the networks to attach, the first one at create time.
	Networks     []EndpointSpec
	Tmpfs        map[string]string
	MacAddress   string
	CgroupParent string
	OomScoreAdj  int
	UsernsMode   string
}

// Healthcheck describes a container health probe.
type Healthcheck struct {
	Test          []string // as the engine wants it: ["CMD", ...], ["CMD-SHELL", "..."] or ["NONE"]
	Interval      time.Duration
	Timeout       time.Duration
	StartPeriod   time.Duration
	StartInterval time.Duration
	Retries       int
}

// PortBinding publishes a container port on the host.
type PortBinding struct {
	ContainerPort uint16
	Protocol      string // tcp, udp, sctp
	HostIP        string
	HostPort      string // "" or "0": any free port; may be a range "8000-8010"
}

// MountType is the kind of a mount.
type MountType string

const (
	MountVolume MountType = "volume"
	MountBind   MountType = "bind"
	MountTmpfs  MountType = "tmpfs"
)

// Mount is one filesystem mount of a container.
type Mount struct {
	Type     MountType
	Source   string // volume name ("" for anonymous) or host path
	Target   string
	ReadOnly bool
	// Consistency, Propagation, NoCopy and CreateHostPath refine the mount.
	Propagation    string
	NoCopy         bool
	CreateHostPath bool
	Subpath        string
	TmpfsSize      int64
	TmpfsMode      uint32
	// Labels are set on a volume the engine creates for this mount.
	VolumeLabels map[string]string
}

// RestartPolicy is the engine's restart policy.
type RestartPolicy struct {
	Name       string // "", "no", "always", "on-failure", "unless-stopped"
	MaxRetries int
}

// Ulimit is one resource limit.
type Ulimit struct {
	Name string
	Soft int64
	Hard int64
}

// Device maps a host device into the container.
type Device struct {
	PathOnHost        string
	PathInContainer   string
	CgroupPermissions string
}

// Resources are cgroup limits. Zero means unset.
type Resources struct {
	Memory            int64
	MemoryReservation int64
	MemorySwap        int64
	MemSwappiness     *int64
	NanoCPUs          int64
	CPUShares         int64
	CPUQuota          int64
	CPUPeriod         int64
	CPUSet            string
	PidsLimit         *int64
	OomKillDisable    *bool
}

// EndpointSpec attaches a container to one network.
type EndpointSpec struct {
	Network     string // the network's engine name
	Aliases     []string
	IPv4Address string
	IPv6Address string
	Links       []string
	MacAddress  string
	Priority    int
}

// Network is a network as the engine reports it.
type Network struct {
	ID       string
	Name     string
	Driver   string
	Labels   map[string]string
	Internal bool
	Created  time.Time
}

// NetworkSpec is everything needed to create a network.
type NetworkSpec struct {
	Name       string
	Driver     string
	DriverOpts map[string]string
	Labels     map[string]string
	Internal   bool
	Attachable bool
	EnableIPv6 *bool
	IPAM       IPAM
}

// IPAM configures address management of a network.
type IPAM struct {
	Driver  string
	Configs []IPAMConfig
	Options map[string]string
}

// IPAMConfig is one subnet of a network.
type IPAMConfig struct {
	Subnet     string
	IPRange    string
	Gateway    string
	AuxAddress map[string]string
}

// Volume is a volume as the engine reports it.
type Volume struct {
	Name       string
	Driver     string
	Labels     map[string]string
	Mountpoint string
	CreatedAt  time.Time
}

// VolumeSpec is everything needed to create a volume.
type VolumeSpec struct {
	Name       string
	Driver     string
	DriverOpts map[string]string
	Labels     map[string]string
}

// Image is an image as the engine reports it.
type Image struct {
	ID       string
	RepoTags []string
	Labels   map[string]string
	Size     int64
	Created  time.Time
	// Config holds the defaults a container made from the image gets for
	// what its create leaves empty. Filled by InspectImage only.
	Config ImageConfig
}

// ImageConfig is an image's defaults for its containers.
type ImageConfig struct {
	Env          []string // KEY=VALUE
	Cmd          []string
	Entrypoint   []string
	WorkingDir   string
	User         string
	StopSignal   string
	Labels       map[string]string
	ExposedPorts []string // "80/tcp"
	// Volumes are the paths the image declares as VOLUME.
	Volumes     []string
	Healthcheck *Healthcheck
}

// BuildSpec describes an image build. The context is passed separately as a tar.
type BuildSpec struct {
	Tags       []string
	Dockerfile string // path inside the context
	Args       map[string]*string
	Target     string
	Labels     map[string]string
	NoCache    bool
	Pull       bool
	Platform   string
	Network    string
	ExtraHosts []string
	ShmSize    int64
}

// ProgressLine is one status line of a pull or build.
type ProgressLine struct {
	ID      string // layer or step id, may be empty
	Status  string
	Current int64
	Total   int64
	Stream  string // build output text
	Error   string
}

// LogOptions select which part of a container's log to read.
type LogOptions struct {
	Follow     bool
	Tail       string // "all" or a number
	Since      string
	Until      string
	Timestamps bool
}

// ExecSpec describes a command to run in a running container.
type ExecSpec struct {
	Cmd        []string
	Env        []string
	User       string
	WorkingDir string
	TTY        bool
	Stdin      bool
	Privileged bool
	Detach     bool
	// OnStart, if set, receives the exec id once started (to resize a TTY).
	OnStart func(execID string)
}

// Streams are the standard streams of a process; nil ones are not attached.
type Streams struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// DetachKeys is the key sequence on Stdin that makes the engine end an
	// attach to a TTY (Docker's form, "ctrl-p,ctrl-q"); empty means the
	// engine's default.
	DetachKeys string
}

// Processes is the result of a top call.
type Processes struct {
	Titles    []string
	Processes [][]string
}

// EventFilter selects engine events.
type EventFilter struct {
	Type   string // "container", "network", ...; empty for all
	Labels map[string]string
	// Since, if set, replays the events from that time on before the live
	// ones.
	Since time.Time
	// Until, if set, bounds the stream: it delivers the events from Since
	// (from the oldest the engine keeps when Since is zero) up to Until,
	// waiting for Until if it lies ahead, and then ends: the event channel
	// is closed and the error channel closed without an error. An Until
	// in the past replays history and ends at once. Until before Since is
	// an error.
	Until time.Time
}

// Event is one engine event.
type Event struct {
	Type string // container, network, volume, image
	// Action is the engine's action: create, start, die, stop, destroy,
	// "health_status: healthy", ...
	Action     string
	ID         string
	Attributes map[string]string // includes the labels and "name"
	Time       time.Time
}

// Info describes the engine. It is not part of Engine: only a command that
// shows versions asks for it, of an adapter it holds concretely.
type Info struct {
	APIVersion    string
	ServerVersion string
	Name          string
	OS            string
	Host          string // where the client connects, for messages
}
