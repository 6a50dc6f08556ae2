package orchestrator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"

	"golang.org/x/sync/errgroup"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/internal/archive"
	"github.com/composer-orchestrator/composer/labels"
)

// cp, commit and export: a service's container by its files. The copies
// go through the engine's archive API, so the image needs no shell or
// tar of its own; the host's half of the archive work is
// internal/archive's.

const (
	Copying    Status = "Copying"
	Copied     Status = "Copied"
	Committing Status = "Committing"
	Committed  Status = "Committed"
	Exporting  Status = "Exporting"
	Exported   Status = "Exported"
)

// CopyOptions describe one cp between the host and a service's
// containers.
type CopyOptions struct {
	// Service is the service whose container(s) the copy reads or writes.
	Service string
	// ContainerPath is the path in the container.
	ContainerPath string
	// HostPath is the path on the host, or "-" for a tar archive on Stdin
	// (copying in) or Stdout (copying out).
	HostPath string
	// ToContainer copies from the host into the containers; otherwise
	// from the (first) container to the host.
	ToContainer bool
	// Index picks one replica; 0 means every replica copying in and the
	// first copying out, as docker compose does.
	Index int
	// FollowLink follows a symbolic link at the source path (cp -L).
	FollowLink bool
	// CopyUIDGID keeps the archive's owners in the container (cp -a).
	CopyUIDGID bool
	// Stdin and Stdout carry the archive when HostPath is "-".
	Stdin  io.Reader
	Stdout io.Writer
}

// Copy copies between the host and the service's containers with docker
// cp's rules for where the copy lands. A dry run reads what it needs and
// writes nothing: the overlay pretends the copy into a container, and a
// copy out writes nothing on the host.
func (o *Orchestrator) Copy(ctx context.Context, project string, opts CopyOptions) error {
	cs, err := o.copyTargets(ctx, project, opts)
	if err != nil {
		return err
	}
	if !opts.ToContainer {
		return o.copyFrom(ctx, cs[0], opts)
	}
	hostPath := opts.HostPath
	var stdin []byte
	if hostPath == "-" && len(cs) > 1 {
		// Each container gets the whole archive: read it once.
		if stdin, err = io.ReadAll(opts.Stdin); err != nil {
			return fmt.Errorf("reading the archive from standard input: %w", err)
		}
	} else if hostPath != "-" {
		abs, err := filepath.Abs(hostPath)
		if err != nil {
			return err
		}
		hostPath = archive.PreserveTrailingDotOrSeparator(abs, hostPath)
	}
	eg, ectx := errgroup.WithContext(ctx)
	for _, c := range cs {
		eg.Go(func() error {
			in := opts.Stdin
			if stdin != nil {
				in = bytes.NewReader(stdin)
			}
			return o.copyTo(ectx, c, hostPath, in, opts)
		})
	}
	return eg.Wait()
}

// copyTargets lists the containers a copy touches: stopped ones too, but
// no one-off containers.
func (o *Orchestrator) copyTargets(ctx context.Context, project string, opts CopyOptions) ([]engine.Container, error) {
	cs, err := o.containers(ctx, Target{Project: project, Services: []string{opts.Service}, Index: opts.Index}, false)
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		if opts.Index > 0 {
			return nil, fmt.Errorf("service %q is not running container #%d", opts.Service, opts.Index)
		}
		return nil, fmt.Errorf("no container found for service %q", opts.Service)
	}
	return cs, nil
}

func (o *Orchestrator) copyTo(ctx context.Context, c engine.Container, src string, stdin io.Reader, opts CopyOptions) error {
	msg := fmt.Sprintf("%s to %s:%s", opts.HostPath, c.Name, opts.ContainerPath)
	o.emit(KindContainer, c.Name, Copying, false, msg)
	err := o.copyToOne(ctx, c, src, stdin, opts)
	if err != nil {
		o.fail(KindContainer, c.Name, err)
		return err
	}
	o.emit(KindContainer, c.Name, Copied, true, msg)
	return nil
}

func (o *Orchestrator) copyToOne(ctx context.Context, c engine.Container, src string, stdin io.Reader, opts CopyOptions) error {
	dst := archive.Info{Path: opts.ContainerPath}
	st, err := o.eng.StatPath(ctx, c.ID, opts.ContainerPath)
	if err == nil && st.Mode&os.ModeSymlink != 0 {
		// The copy goes where the link points, not over the link.
		target := st.LinkTarget
		if !path.IsAbs(target) {
			parent, _ := archive.SplitPathDirEntry(opts.ContainerPath)
			target = path.Join(parent, target)
		}
		dst.Path = target
		st, err = o.eng.StatPath(ctx, c.ID, target)
	}
	switch {
	case err == nil:
		if !st.Mode.IsDir() && !st.Mode.IsRegular() {
			return fmt.Errorf("destination %q must be a directory or a regular file", c.Name+":"+opts.ContainerPath)
		}
		dst.Exists, dst.IsDir = true, st.Mode.IsDir()
	case errors.Is(err, engine.ErrNotFound):
		// The copy may still create it, if its parent exists: the
		// engine says so when extracting.
	default:
		return fmt.Errorf("looking at %s in %s: %w", opts.ContainerPath, c.Name, err)
	}
	var dir string
	var content io.Reader
	if src == "-" {
		if !dst.IsDir {
			return fmt.Errorf("destination %q must be a directory", c.Name+":"+opts.ContainerPath)
		}
		dir, content = dst.Path, stdin
	} else {
		srcInfo, err := archive.SourceInfo(src, opts.FollowLink)
		if err != nil {
			return err
		}
		tarball := archive.Tar(srcInfo)
		defer tarball.Close()
		if dir, content, err = archive.Prepare(tarball, srcInfo, dst); err != nil {
			return err
		}
	}
	err = o.eng.CopyToContainer(ctx, c.ID, dir, content, engine.CopyOptions{CopyUIDGID: opts.CopyUIDGID})
	if err != nil {
		return fmt.Errorf("copying to %s:%s: %w", c.Name, dir, err)
	}
	return nil
}

func (o *Orchestrator) copyFrom(ctx context.Context, c engine.Container, opts CopyOptions) error {
	msg := fmt.Sprintf("%s:%s to %s", c.Name, opts.ContainerPath, opts.HostPath)
	o.emit(KindContainer, c.Name, Copying, false, msg)
	if err := o.copyFromOne(ctx, c, opts); err != nil {
		o.fail(KindContainer, c.Name, err)
		return err
	}
	o.emit(KindContainer, c.Name, Copied, true, msg)
	return nil
}

func (o *Orchestrator) copyFromOne(ctx context.Context, c engine.Container, opts CopyOptions) error {
	dst := opts.HostPath
	if dst != "-" {
		abs, err := filepath.Abs(dst)
		if err != nil {
			return err
		}
		dst = archive.PreserveTrailingDotOrSeparator(abs, dst)
		if err := validateOutputPath(dst); err != nil {
			return err
		}
	}
	src := opts.ContainerPath
	var rebaseName string
	if opts.FollowLink {
		st, err := o.eng.StatPath(ctx, c.ID, src)
		if err == nil && st.Mode&os.ModeSymlink != 0 {
			target := st.LinkTarget
			if !path.IsAbs(target) {
				parent, _ := archive.SplitPathDirEntry(src)
				target = path.Join(parent, target)
			}
			src, rebaseName = archive.RebaseName(src, target)
		}
	}
	if o.dryRun {
		// Nothing is written on the host: only check the source exists.
		if _, err := o.eng.StatPath(ctx, c.ID, src); err != nil {
			return fmt.Errorf("copying %s from %s: %w", src, c.Name, err)
		}
		return nil
	}
	rc, st, err := o.eng.CopyFromContainer(ctx, c.ID, src)
	if err != nil {
		return fmt.Errorf("copying %s from %s: %w", src, c.Name, err)
	}
	defer rc.Close()
	if dst == "-" {
		_, err := io.Copy(opts.Stdout, rc)
		return err
	}
	var content io.Reader = rc
	if rebaseName != "" {
		_, base := archive.SplitPathDirEntry(src)
		content = archive.Rebase(rc, base, rebaseName)
	}
	info := archive.Info{Path: src, Exists: true, IsDir: st.Mode.IsDir(), RebaseName: rebaseName}
	if err := archive.CopyTo(content, info, dst); err != nil {
		return fmt.Errorf("copying %s from %s to %s: %w", src, c.Name, opts.HostPath, err)
	}
	return nil
}

// validateOutputPath checks a host destination as docker cp does: its
// parent directory exists, and it is a directory or a regular file if it
// exists.
func validateOutputPath(p string) error {
	dir := filepath.Dir(filepath.Clean(p))
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("invalid output path: directory %q does not exist", dir)
	}
	fi, err := os.Stat(p)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return err
	case fi.IsDir(), fi.Mode().IsRegular():
		return nil
	}
	return fmt.Errorf("invalid output path: %q must be a directory or a regular file", p)
}

// runningContainer picks the container commit and export act on: a
// running one of the service, one-off containers included but after the
// service's own, the replica Index when given, else the first.
func (o *Orchestrator) runningContainer(ctx context.Context, project, service string, index int) (engine.Container, error) {
	cs, err := o.containers(ctx, Target{Project: project, Services: []string{service}, Index: index}, true)
	if err != nil {
		return engine.Container{}, err
	}
	var running []engine.Container
	for _, c := range cs {
		if c.State == engine.StateRunning {
			running = append(running, c)
		}
	}
	if len(running) == 0 {
		if index > 0 {
			return engine.Container{}, fmt.Errorf("service %q is not running container #%d", service, index)
		}
		return engine.Container{}, fmt.Errorf("service %q is not running", service)
	}
	sort.SliceStable(running, func(i, j int) bool {
		oi, oj := running[i].Labels[labels.Oneoff] == labels.True, running[j].Labels[labels.Oneoff] == labels.True
		return !oi && oj
	})
	return running[0], nil
}
