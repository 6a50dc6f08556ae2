package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/composer-orchestrator/composer/engine"
)

// StatPath describes a path in a container with the archive API's HEAD
// request: the engine answers with the stat in a header and no body, so
// an error carries only the status, and the client's message for it
// gives advice about API versions that does not apply. A 404 means that
// either the container or the path is missing; a 500, mostly, a path
// ending in "/" that is not a directory. The messages say so instead.
func (e *Engine) StatPath(ctx context.Context, id, path string) (engine.PathStat, error) {
	res, err := e.cli.ContainerStatPath(ctx, id, client.ContainerStatPathOptions{Path: path})
	switch {
	case cerrdefs.IsNotFound(err):
		return engine.PathStat{}, fmt.Errorf("%w: no such container or path: %s:%s", engine.ErrNotFound, id, path)
	case cerrdefs.IsInternal(err) || cerrdefs.IsUnknown(err):
		return engine.PathStat{}, fmt.Errorf("%s:%s: not a directory, or the engine could not read it", id, path)
	case err != nil:
		return engine.PathStat{}, translate(err)
	}
	return fromPathStat(res.Stat), nil
}

// CopyToContainer extracts a tar archive into dir. The engine answers 404
// ("Could not find the file /x in container c") for a dir that does not
// exist, and 500 ("extraction point is not a directory") for one that is
// a file; the first becomes engine.ErrNotFound. The HTTP client closes
// content when it is an io.Closer.
func (e *Engine) CopyToContainer(ctx context.Context, id, dir string, content io.Reader, opts engine.CopyOptions) error {
	_, err := e.cli.CopyToContainer(ctx, id, client.CopyToContainerOptions{
		DestinationPath:           dir,
		Content:                   content,
		AllowOverwriteDirWithFile: opts.AllowOverwriteDirWithFile,
		CopyUIDGID:                opts.CopyUIDGID,
	})
	return translate(err)
}

// CopyFromContainer returns a tar archive of path; the engine names its
// root after the path's last element as given ("/a/b" gives "b/...",
// "/a/b/." gives "./...") and does not follow a final symbolic link. The
// stat comes in a header of the same response.
func (e *Engine) CopyFromContainer(ctx context.Context, id, path string) (io.ReadCloser, engine.PathStat, error) {
	res, err := e.cli.CopyFromContainer(ctx, id, client.CopyFromContainerOptions{SourcePath: path})
	if err != nil {
		return nil, engine.PathStat{}, translate(err)
	}
	return res.Content, fromPathStat(res.Stat), nil
}

// ExportContainer returns a tar archive of the container's file system,
// its entries named from the root without a leading slash.
func (e *Engine) ExportContainer(ctx context.Context, id string) (io.ReadCloser, error) {
	rc, err := e.cli.ContainerExport(ctx, id, client.ContainerExportOptions{})
	if err != nil {
		return nil, translate(err)
	}
	return rc, nil
}

// CommitContainer makes an image of a container. The engine refuses a
// change it does not apply to a config ("run is not a valid change
// command"); Docker 20.10 also refuses STOPSIGNAL, which later engines
// take.
func (e *Engine) CommitContainer(ctx context.Context, id string, opts engine.CommitOptions) (string, error) {
	res, err := e.cli.ContainerCommit(ctx, id, client.ContainerCommitOptions{
		Reference: opts.Reference,
		Comment:   opts.Comment,
		Author:    opts.Author,
		Changes:   opts.Changes,
		NoPause:   !opts.Pause,
	})
	if err != nil {
		return "", translate(err)
	}
	return res.ID, nil
}

// ContainerStats reads the engine's stats. A single reading asks the
// engine for the previous sample too (no one-shot), so it answers after
// about a second with the Pre* fields filled. A stream gives one sample a
// second.
//
// How the engine treats a container that is not running decides the
// shape of this method. A single reading answers with an empty sample
// (a zero "read" time). A stream of a container that was not running when
// it began sends nothing at all until the container runs again, so a
// stream first inspects the container and, if it is not running, gives
// the one empty sample and ends. A stream of a container that stops goes
// on with empty samples every second; the first one ends it here. A
// container that stops between the inspect and the stream's start leaves
// the stream silent until ctx is done: the window is a few milliseconds.
func (e *Engine) ContainerStats(ctx context.Context, id string, stream bool, each func(engine.StatsSample)) error {
	if stream {
		res, err := e.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
		if err != nil {
			return translate(err)
		}
		if st := res.Container.State; st == nil || !st.Running {
			each(engine.StatsSample{})
			return nil
		}
	}
	// A single reading asks for the previous one too, a second earlier, so
	// that it has a CPU rate: docker stats --no-stream does the same.
	res, err := e.cli.ContainerStats(ctx, id, client.ContainerStatsOptions{Stream: stream, IncludePreviousSample: !stream})
	if err != nil {
		return translate(err)
	}
	defer res.Body.Close()
	dec := json.NewDecoder(res.Body)
	for {
		var s container.StatsResponse
		if err := dec.Decode(&s); err != nil {
			// The client closes the body when ctx ends; that is the
			// caller ending the stream, not a failure to read.
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, io.EOF) {
				return nil // the container is gone
			}
			return fmt.Errorf("reading the engine's stats: %w", err)
		}
		sample := fromStats(s)
		each(sample)
		if !stream || sample.Read.IsZero() {
			return nil
		}
	}
}

// fromStats converts the engine's stats to a sample. Memory cache is what
// docker stats subtracts from the usage: the inactive page cache (cgroup
// v1's total_inactive_file, v2's inactive_file), or nothing when that is
// not below the usage.
func fromStats(s container.StatsResponse) engine.StatsSample {
	out := engine.StatsSample{
		Read:         s.Read,
		CPUTotal:     s.CPUStats.CPUUsage.TotalUsage,
		PreCPUTotal:  s.PreCPUStats.CPUUsage.TotalUsage,
		SystemCPU:    s.CPUStats.SystemUsage,
		PreSystemCPU: s.PreCPUStats.SystemUsage,
		OnlineCPUs:   s.CPUStats.OnlineCPUs,
		MemoryUsage:  s.MemoryStats.Usage,
		MemoryLimit:  s.MemoryStats.Limit,
		PIDs:         s.PidsStats.Current,
	}
	if out.OnlineCPUs == 0 {
		// Engines before API 1.27 report only the per-CPU usage.
		out.OnlineCPUs = uint32(len(s.CPUStats.CPUUsage.PercpuUsage))
	}
	cache, v1 := s.MemoryStats.Stats["total_inactive_file"]
	if !v1 {
		cache = s.MemoryStats.Stats["inactive_file"]
	}
	if cache < out.MemoryUsage {
		out.MemoryCache = cache
	}
	for _, n := range s.Networks {
		out.NetRx += n.RxBytes
		out.NetTx += n.TxBytes
	}
	// cgroup v1 names the operations "Read" and "Write", v2 "read" and
	// "write".
	for _, b := range s.BlkioStats.IoServiceBytesRecursive {
		switch strings.ToLower(b.Op) {
		case "read":
			out.BlockRead += b.Value
		case "write":
			out.BlockWrite += b.Value
		}
	}
	return out
}

func fromPathStat(s container.PathStat) engine.PathStat {
	return engine.PathStat{Name: s.Name, Size: s.Size, Mode: s.Mode, Mtime: s.Mtime, LinkTarget: s.LinkTarget}
}

// PushImage pushes ref, with the credentials docker login stored for its
// registry (see registryAuth). Like a pull, the engine
// answers 200 at once and reports a failure, such as an unreachable
// registry, as an error message in the progress stream. A tag the engine
// does not have is such a failure too ("An image does not exist locally
// with the tag: x"), reported as engine.ErrNotFound.
func (e *Engine) PushImage(ctx context.Context, ref string, progress func(engine.ProgressLine)) error {
	auth, err := registryAuth(ctx, ref)
	if err != nil {
		return err
	}
	rc, err := e.cli.ImagePush(ctx, ref, client.ImagePushOptions{RegistryAuth: auth})
	if err != nil {
		return translate(err)
	}
	defer rc.Close()
	if err := decodeProgress(rc, progress, nil); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if strings.Contains(err.Error(), "does not exist locally") {
			return fmt.Errorf("%w: %s", engine.ErrNotFound, err.Error())
		}
		return err
	}
	return nil
}
