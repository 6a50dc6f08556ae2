package orchestrator

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"slices"

	"github.com/composer-orchestrator/composer/engine"
)

// The dry run's engine.Transfer. Reads of files and usage go to the real
// engine, after the run's changes: a container the run removed is
// ErrNotFound, and one it stopped uses nothing. A container the run
// pretended to create is not in the engine, and the overlay knows
// nothing of its files: like its log, which is empty, it holds no file
// (a stat or a copy out is ErrNotFound, an export an empty archive) and
// uses nothing (stats give the one zero sample of a container that is not
// running). Changes are pretended: a copy in reads its content and sends
// nothing, a commit makes an image in the overlay, a push sends nothing.
// Each still fails where the run would for what the overlay can tell: a
// missing container, destination or image.

// reading finds the container a read of its files or usage is about:
// made says the run pretended to create it; state is its state after the
// run's changes. A container the run removed is ErrNotFound, as
// InspectContainer says.
func (d *dryRunEngine) reading(ctx context.Context, id string) (made bool, state engine.ContainerState, err error) {
	d.mu.Lock()
	if c := d.find(id); c != nil {
		defer d.mu.Unlock()
		return true, c.State, nil
	}
	d.mu.Unlock()
	c, err := d.InspectContainer(ctx, id)
	if err != nil {
		return false, "", err
	}
	return false, c.State, nil
}

// noFile is the answer for a path in a container the run made.
func noFile(id, path string) error {
	return fmt.Errorf("%w: no file %s in container %s: it was created by the dry run", engine.ErrNotFound, path, id)
}

func (d *dryRunEngine) StatPath(ctx context.Context, id, path string) (engine.PathStat, error) {
	made, _, err := d.reading(ctx, id)
	switch {
	case err != nil:
		return engine.PathStat{}, err
	case made:
		return engine.PathStat{}, noFile(id, path)
	}
	return d.real.StatPath(ctx, id, path)
}

func (d *dryRunEngine) CopyFromContainer(ctx context.Context, id, path string) (io.ReadCloser, engine.PathStat, error) {
	made, _, err := d.reading(ctx, id)
	switch {
	case err != nil:
		return nil, engine.PathStat{}, err
	case made:
		return nil, engine.PathStat{}, noFile(id, path)
	}
	return d.real.CopyFromContainer(ctx, id, path)
}

// emptyArchive is a tar archive without entries: its end marker alone.
func emptyArchive() io.ReadCloser {
	var buf bytes.Buffer
	_ = tar.NewWriter(&buf).Close() // writing to memory cannot fail
	return io.NopCloser(&buf)
}

func (d *dryRunEngine) ExportContainer(ctx context.Context, id string) (io.ReadCloser, error) {
	made, _, err := d.reading(ctx, id)
	switch {
	case err != nil:
		return nil, err
	case made:
		return emptyArchive(), nil
	}
	return d.real.ExportContainer(ctx, id)
}

func (d *dryRunEngine) ContainerStats(ctx context.Context, id string, stream bool, each func(engine.StatsSample)) error {
	made, state, err := d.reading(ctx, id)
	switch {
	case err != nil:
		return err
	case made || !isUp(state):
		// What the engine gives for a container that is not running.
		each(engine.StatsSample{})
		return nil
	}
	return d.real.ContainerStats(ctx, id, stream, each)
}

// CopyToContainer reads the content to its end, so that whoever writes it
// is not left blocked, and closes it as the Docker adapter's HTTP client
// would. Into a container of the engine's it fails, as the copy would,
// when the destination is missing or is not a directory (a symbolic link
// is taken to lead to one); into one the run made it succeeds.
func (d *dryRunEngine) CopyToContainer(ctx context.Context, id, dir string, content io.Reader, _ engine.CopyOptions) error {
	if c, ok := content.(io.Closer); ok {
		defer c.Close()
	}
	if _, err := io.Copy(io.Discard, content); err != nil {
		return fmt.Errorf("reading the archive: %w", err)
	}
	made, _, err := d.reading(ctx, id)
	if err != nil || made {
		return err
	}
	st, err := d.real.StatPath(ctx, id, dir)
	if err != nil {
		return err
	}
	if !st.Mode.IsDir() && st.Mode&fs.ModeSymlink == 0 {
		return errors.New("extraction point is not a directory")
	}
	return nil
}

// CommitContainer pretends the commit: the image appears in the overlay
// under opts.Reference with the container's configuration as its
// defaults. opts.Changes are not applied: that takes the engine's
// Dockerfile parser.
func (d *dryRunEngine) CommitContainer(ctx context.Context, id string, opts engine.CommitOptions) (string, error) {
	c, err := d.InspectContainer(ctx, id)
	if err != nil {
		return "", err
	}
	cfg := c.Config
	img := engine.Image{
		Labels: maps.Clone(cfg.Labels),
		Config: engine.ImageConfig{
			Env:          slices.Clone(cfg.Env),
			Cmd:          slices.Clone(cfg.Cmd),
			Entrypoint:   slices.Clone(cfg.Entrypoint),
			WorkingDir:   cfg.WorkingDir,
			User:         cfg.User,
			StopSignal:   cfg.StopSignal,
			Labels:       maps.Clone(cfg.Labels),
			ExposedPorts: slices.Clone(cfg.ExposedPorts),
		},
	}
	if hc := cfg.Healthcheck; hc != nil {
		h := *hc
		h.Test = slices.Clone(hc.Test)
		img.Config.Healthcheck = &h
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	img.ID = "sha256:" + d.newID("i")
	if opts.Reference != "" {
		img.RepoTags = []string{opts.Reference}
		d.images[opts.Reference] = img
		delete(d.goneImages, opts.Reference)
	}
	return img.ID, nil
}

// PushImage pretends the push: nothing is sent, so nothing says whether
// the registry would take it; only an image that is missing (or that the
// run removed) fails.
func (d *dryRunEngine) PushImage(ctx context.Context, ref string, _ func(engine.ProgressLine)) error {
	_, err := d.InspectImage(ctx, ref)
	return err
}
