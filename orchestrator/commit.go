package orchestrator

import (
	"context"
	"fmt"
	"io"

	"github.com/composer-orchestrator/composer/engine"
)

// CommitOptions describe a commit of a service's container.
type CommitOptions struct {
	Service string
	// Index picks the replica; 0 means the first running one.
	Index int
	// Reference names the image (REPOSITORY[:TAG]); empty leaves it
	// untagged.
	Reference string
	Comment   string
	Author    string
	// Changes are Dockerfile instructions applied to the image's config.
	Changes []string
	// Pause pauses the container while it is committed.
	Pause bool
}

// Commit makes an image of a running container of the service and
// returns the image's id; the progress reports it too, as docker
// compose's does. A dry run's overlay pretends the commit.
func (o *Orchestrator) Commit(ctx context.Context, project string, opts CommitOptions) (string, error) {
	c, err := o.runningContainer(ctx, project, opts.Service, opts.Index)
	if err != nil {
		return "", err
	}
	o.emit(KindContainer, c.Name, Committing, false, "")
	id, err := o.eng.CommitContainer(ctx, c.ID, engine.CommitOptions{
		Reference: opts.Reference, Comment: opts.Comment, Author: opts.Author,
		Changes: opts.Changes, Pause: opts.Pause,
	})
	if err != nil {
		o.fail(KindContainer, c.Name, err)
		return "", fmt.Errorf("committing %s: %w", c.Name, err)
	}
	o.emit(KindContainer, c.Name, Committed, true, "as "+id)
	return id, nil
}

// ExportOptions describe an export of a service container's filesystem.
type ExportOptions struct {
	Service string
	// Index picks the replica; 0 means the first running one.
	Index int
	// Open gives the writer the archive goes to, once the container is
	// known (so that a bad service leaves no empty file behind), and
	// commit, called once the whole archive is written, makes it final.
	Open func() (w io.Writer, commit func() error, err error)
}

// Export writes a tar archive of a running container's whole filesystem.
// A dry run finds the container and writes nothing.
func (o *Orchestrator) Export(ctx context.Context, project string, opts ExportOptions) error {
	c, err := o.runningContainer(ctx, project, opts.Service, opts.Index)
	if err != nil {
		return err
	}
	o.emit(KindContainer, c.Name, Exporting, false, "")
	if o.dryRun {
		o.emit(KindContainer, c.Name, Exported, true, "")
		return nil
	}
	if err := o.export(ctx, c, opts); err != nil {
		o.fail(KindContainer, c.Name, err)
		return err
	}
	o.emit(KindContainer, c.Name, Exported, true, "")
	return nil
}

func (o *Orchestrator) export(ctx context.Context, c engine.Container, opts ExportOptions) error {
	rc, err := o.eng.ExportContainer(ctx, c.ID)
	if err != nil {
		return fmt.Errorf("exporting %s: %w", c.Name, err)
	}
	defer rc.Close()
	w, commit, err := opts.Open()
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, rc); err != nil {
		return fmt.Errorf("exporting %s: %w", c.Name, err)
	}
	return commit()
}
