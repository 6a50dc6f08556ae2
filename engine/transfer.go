package engine

import (
	"context"
	"io"
	"os"
	"time"
)

// Transfer moves files and whole filesystems in and out of containers,
// and images out of the engine: cp, watch's sync, commit, export, stats
// and push. Only those commands use it.
type Transfer interface {
	// StatPath describes a path in a container; ErrNotFound when it does
	// not exist.
	StatPath(ctx context.Context, id, path string) (PathStat, error)
	// CopyToContainer extracts a tar archive into dir, a directory in the
	// container, through the engine's archive API: the image needs no
	// shell or tar of its own. A dir that does not exist is ErrNotFound;
	// one that is a file is another error. content is closed if it is an
	// io.Closer (the HTTP client does so), and may be left unread when the
	// engine refuses the copy first.
	CopyToContainer(ctx context.Context, id, dir string, content io.Reader, opts CopyOptions) error
	// CopyFromContainer returns a tar archive of path in the container
	// (its last element at the archive's root) and the path's stat.
	// The caller closes the archive.
	CopyFromContainer(ctx context.Context, id, path string) (io.ReadCloser, PathStat, error)
	// ExportContainer returns a tar archive of the container's whole
	// filesystem. The caller closes it.
	ExportContainer(ctx context.Context, id string) (io.ReadCloser, error)
	// CommitContainer makes an image of the container and returns its id.
	CommitContainer(ctx context.Context, id string, opts CommitOptions) (string, error)
	// ContainerStats calls each with the container's resource usage: once
	// unless stream (a reading that carries the previous one, a second
	// earlier, as docker stats --no-stream shows), else every second or so until ctx is done (the
	// error is then ctx's) or the container stops. A container that is not
	// running, or stops, gives a zero sample (a zero Read), its last.
	ContainerStats(ctx context.Context, id string, stream bool, each func(StatsSample)) error
	// PushImage pushes ref to its registry, reporting progress lines to
	// progress (may be nil). A tag the engine does not have is
	// ErrNotFound.
	PushImage(ctx context.Context, ref string, progress func(ProgressLine)) error
}

// PathStat describes a file in a container.
type PathStat struct {
	Name  string
	Size  int64
	Mode  os.FileMode
	Mtime time.Time
	// LinkTarget is where a symbolic link points, as the engine reports
	// it: an absolute path in the container, every link on the way
	// followed: "/app/v2" for a link /app/current -> v2.
	LinkTarget string
}

// CopyOptions tune CopyToContainer.
type CopyOptions struct {
	// AllowOverwriteDirWithFile lets a file replace a directory of the
	// same name.
	AllowOverwriteDirWithFile bool
	// CopyUIDGID makes the copied files belong to the container's USER
	// (cp -a); without it they keep the archive's owners. The engine
	// resolves the USER (Docker 20.10 in the host's user database), and a
	// USER it cannot resolve fails the copy; with no USER it changes
	// nothing.
	CopyUIDGID bool
}

// CommitOptions tune CommitContainer.
type CommitOptions struct {
	// Reference names the new image (repository[:tag]); empty leaves it
	// untagged.
	Reference string
	Comment   string
	Author    string
	// Changes are Dockerfile instructions applied to the image's config.
	Changes []string
	// Pause pauses the container during the commit.
	Pause bool
}

// StatsSample is one reading of a container's resource usage, as raw
// counters; the caller computes rates and percentages from two readings
// (the engine gives the previous CPU reading with each reading but the
// first of a stream).
type StatsSample struct {
	Read time.Time
	// CPU usage in nanoseconds: the container's total and the system's,
	// now and at the previous reading, and how many CPUs are online.
	CPUTotal, PreCPUTotal    uint64
	SystemCPU, PreSystemCPU  uint64
	OnlineCPUs               uint32
	MemoryUsage, MemoryLimit uint64
	// MemoryCache is the page cache counted in MemoryUsage, which docker
	// stats leaves out of the usage it shows.
	MemoryCache           uint64
	NetRx, NetTx          uint64
	BlockRead, BlockWrite uint64
	PIDs                  uint64
}
