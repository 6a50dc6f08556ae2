package orchestrator

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/composer-orchestrator/composer/engine"
)

// SyncFile is one path of a sync: a host file or directory copied to
// ContainerPath in every running container of a service, or, when
// Deleted, removed there.
type SyncFile struct {
	HostPath      string
	ContainerPath string // absolute, slash separated
	Deleted       bool
}

// maxRewrite bounds the directory a deletion rewrites when the image has
// no rm (see deleteByRewrite).
const maxRewrite = 64 << 20

// Sync brings the changed paths of a service into its running containers:
// deletions first, then one archive of every copied path, extracted at
// the containers' root through the engine's archive API, so that the
// image needs no shell or tar. A directory is copied as itself, not with
// its content: each file under it is a change of its own.
//
// Deletions are what the archive API cannot do. As docker compose does,
// they exec rm -rf in the container; where the image has no rm (FROM
// scratch, distroless), the deleted paths' directory is rewritten
// without them (deleteByRewrite).
//
// The engine requests of one sync run to their end once begun: an
// interrupt does not leave a container with half the files.
func (o *Orchestrator) Sync(ctx context.Context, project, service string, files []SyncFile) error {
	cs, err := o.runningContainers(ctx, project, service)
	if err != nil {
		return err
	}
	var deleted []string
	var copies []SyncFile
	for _, f := range files {
		if f.Deleted {
			deleted = append(deleted, f.ContainerPath)
		} else {
			copies = append(copies, f)
		}
	}
	archive, gone, err := syncArchive(copies)
	if err != nil {
		return fmt.Errorf("service %q: %w", service, err)
	}
	// A path removed between the change and the archive is a deletion.
	deleted = append(deleted, gone...)
	wctx, done := o.whole(ctx)
	defer done()
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// No fail-fast: one container failing does not leave the
			// others behind.
			if err := o.syncOne(wctx, c, deleted, archive); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// runningContainers are a service's running containers; none is an error
// wrapping ErrNoContainers.
func (o *Orchestrator) runningContainers(ctx context.Context, project, service string) ([]engine.Container, error) {
	cs, err := o.containers(ctx, Target{Project: project, Services: []string{service}}, false)
	if err != nil {
		return nil, err
	}
	var out []engine.Container
	for _, c := range cs {
		if c.State == engine.StateRunning {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, noContainersError(fmt.Sprintf("service %q has no running container", service))
	}
	return out, nil
}

func (o *Orchestrator) syncOne(ctx context.Context, c engine.Container, deleted []string, archive []byte) error {
	if len(deleted) > 0 {
		if err := o.deletePaths(ctx, c, deleted); err != nil {
			return err
		}
	}
	if archive == nil {
		return nil
	}
	err := o.eng.CopyToContainer(ctx, c.ID, "/", bytes.NewReader(archive), engine.CopyOptions{CopyUIDGID: true})
	if err != nil {
		return fmt.Errorf("copying files into %s: %w", c.Name, err)
	}
	return nil
}

// syncArchive makes one tar of the copied paths, named by their container
// paths relative to /, in memory: the same bytes go to every container.
// Paths no longer on the host come back in gone. The copy asks the
// engine (CopyUIDGID) to give the files to the container's user, as
// docker compose does, so that a service running as a non-root user can
// change what it gets.
func syncArchive(copies []SyncFile) (archive []byte, gone []string, err error) {
	if len(copies) == 0 {
		return nil, nil, nil
	}
	sort.Slice(copies, func(i, j int) bool { return copies[i].ContainerPath < copies[j].ContainerPath })
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	n := 0
	for _, f := range copies {
		fi, err := os.Lstat(f.HostPath)
		if errors.Is(err, os.ErrNotExist) {
			gone = append(gone, f.ContainerPath)
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("reading %s: %w", f.HostPath, err)
		}
		link := ""
		if fi.Mode()&os.ModeSymlink != 0 {
			if link, err = os.Readlink(f.HostPath); err != nil {
				return nil, nil, fmt.Errorf("reading %s: %w", f.HostPath, err)
			}
		}
		var content []byte
		if fi.Mode().IsRegular() {
			// Read before the header: the file may change size meanwhile,
			// and the header must say what is written.
			if content, err = os.ReadFile(f.HostPath); errors.Is(err, os.ErrNotExist) {
				gone = append(gone, f.ContainerPath)
				continue
			} else if err != nil {
				return nil, nil, fmt.Errorf("reading %s: %w", f.HostPath, err)
			}
		} else if !fi.IsDir() && link == "" {
			continue // sockets, pipes, devices: nothing to copy
		}
		hdr, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return nil, nil, fmt.Errorf("reading %s: %w", f.HostPath, err)
		}
		hdr.Name = strings.TrimPrefix(path.Clean(f.ContainerPath), "/")
		if fi.IsDir() {
			hdr.Name += "/"
		}
		hdr.Size = int64(len(content))
		hdr.Uname, hdr.Gname = "", ""
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, nil, err
		}
		if _, err := tw.Write(content); err != nil {
			return nil, nil, err
		}
		n++
	}
	if err := tw.Close(); err != nil {
		return nil, nil, err
	}
	if n == 0 {
		return nil, gone, nil
	}
	return buf.Bytes(), gone, nil
}

// deletePaths removes paths in a container: rm -rf when the image has
// rm, else by rewriting their directories.
func (o *Orchestrator) deletePaths(ctx context.Context, c engine.Container, paths []string) error {
	var stderr bytes.Buffer
	code, err := o.eng.Exec(ctx, c.ID, engine.ExecSpec{Cmd: append([]string{"rm", "-rf", "--"}, paths...)}, engine.Streams{Stdout: io.Discard, Stderr: &stderr})
	switch {
	case err == nil && code == 0:
		return nil
	case noExecutable(code, err, stderr.String()):
		return o.deleteByRewrite(ctx, c, paths)
	case err != nil:
		return fmt.Errorf("deleting %s in %s: %w", strings.Join(paths, ", "), c.Name, err)
	}
	return fmt.Errorf("deleting %s in %s: rm exited with code %d: %s", strings.Join(paths, ", "), c.Name, code, strings.TrimSpace(stderr.String()))
}

// noExecutable reports whether an exec failed because the command is not
// in the image: the engine says so in the exec's error or output, with
// exit code 126 or 127.
func noExecutable(code int, err error, output string) bool {
	text := output
	if err != nil {
		text += err.Error()
	}
	return code == 127 || code == 126 || strings.Contains(text, "executable file not found") || strings.Contains(text, "no such file or directory")
}

// deleteByRewrite deletes paths in an image without rm: it reads each
// deleted path's directory out of the container (the archive API),
// leaves the deleted entries out, and writes the directory back over
// itself, with the owners it had (no CopyUIDGID). The archive starts
// with a plain file of the directory's name,
// which makes the engine remove the directory whole before the rest of
// the archive recreates it, as it was but for the deleted paths.
//
// It refuses what it cannot do safely: the root directory, a directory
// holding a mount (the removal would reach into the volume), and a
// directory over maxRewrite. A write the container makes to that
// directory between the read and the write back is lost.
func (o *Orchestrator) deleteByRewrite(ctx context.Context, c engine.Container, paths []string) error {
	byDir := map[string][]string{}
	for _, p := range paths {
		p = path.Clean(p)
		byDir[path.Dir(p)] = append(byDir[path.Dir(p)], p)
	}
	dirs := make([]string, 0, len(byDir))
	for d := range byDir {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	for _, dir := range dirs {
		what := strings.Join(byDir[dir], ", ")
		if dir == "/" {
			return fmt.Errorf("deleting %s in %s: the image has no rm, and / cannot be rewritten without it", what, c.Name)
		}
		for _, m := range c.Mounts {
			if m.Destination == dir || strings.HasPrefix(m.Destination, dir+"/") {
				return fmt.Errorf("deleting %s in %s: the image has no rm, and %s holds the mount %s, so it is not rewritten", what, c.Name, dir, m.Destination)
			}
		}
		rc, _, err := o.eng.CopyFromContainer(ctx, c.ID, dir)
		if errors.Is(err, engine.ErrNotFound) {
			continue // gone already
		}
		if err != nil {
			return fmt.Errorf("deleting %s in %s: reading %s: %w", what, c.Name, dir, err)
		}
		archive, err := withoutPaths(rc, path.Base(dir), dir, byDir[dir])
		rc.Close()
		if err != nil {
			return fmt.Errorf("deleting %s in %s: rewriting %s: %w", what, c.Name, dir, err)
		}
		err = o.eng.CopyToContainer(ctx, c.ID, path.Dir(dir), bytes.NewReader(archive), engine.CopyOptions{AllowOverwriteDirWithFile: true})
		if err != nil {
			return fmt.Errorf("deleting %s in %s: rewriting %s: %w", what, c.Name, dir, err)
		}
	}
	return nil
}

// withoutPaths copies the archive of dir (its entries named under base)
// leaving out the deleted paths, after a plain file named base that
// replaces the directory when extracted.
func withoutPaths(r io.Reader, base, dir string, deleted []string) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: base, Typeflag: tar.TypeReg, Mode: 0o600}); err != nil {
		return nil, err
	}
	skip := make([]string, len(deleted))
	for i, d := range deleted {
		skip[i] = base + strings.TrimPrefix(d, dir)
	}
	tr := tar.NewReader(r)
	total := int64(0)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		name := strings.TrimSuffix(hdr.Name, "/")
		if isUnder(name, skip) {
			continue
		}
		if total += hdr.Size; total > maxRewrite {
			return nil, fmt.Errorf("more than %d MiB to rewrite", maxRewrite>>20)
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func isUnder(name string, roots []string) bool {
	for _, r := range roots {
		if name == r || strings.HasPrefix(name, r+"/") {
			return true
		}
	}
	return false
}

// ExecHook runs a sync+exec hook in every running container of a
// service, its output to stdout and stderr; a non-zero exit is an error.
func (o *Orchestrator) ExecHook(ctx context.Context, project, service string, hook types.ServiceHook, stdout, stderr io.Writer) error {
	cs, err := o.runningContainers(ctx, project, service)
	if err != nil {
		return err
	}
	env := make([]string, 0, len(hook.Environment))
	for k, v := range hook.Environment {
		if v != nil {
			env = append(env, k+"="+*v)
		}
	}
	sort.Strings(env)
	spec := engine.ExecSpec{Cmd: hook.Command, Env: env, User: hook.User, WorkingDir: hook.WorkingDir, Privileged: hook.Privileged}
	wctx, done := o.whole(ctx)
	defer done()
	var errs []error
	for _, c := range cs {
		code, err := o.eng.Exec(wctx, c.ID, spec, engine.Streams{Stdout: stdout, Stderr: stderr})
		if err != nil {
			errs = append(errs, fmt.Errorf("running %v in %s: %w", hook.Command, c.Name, err))
		} else if code != 0 {
			errs = append(errs, fmt.Errorf("running %v in %s: exit code %d", hook.Command, c.Name, code))
		}
	}
	return errors.Join(errs...)
}

// RebuildOptions tune Rebuild.
type RebuildOptions struct {
	// Prune removes the images the rebuild replaced, when no tag names
	// them any more and no container uses them.
	Prune bool
}

// Rebuild builds the image of the project's one service (p is narrowed
// to it, without its dependencies) and recreates its containers when the
// image changed, as up --build does for it.
func (o *Orchestrator) Rebuild(ctx context.Context, p *types.Project, service string, opts RebuildOptions) error {
	before, err := o.containers(ctx, Target{Project: p.Name, Services: []string{service}}, false)
	if err != nil {
		return err
	}
	if err := o.Up(ctx, p, UpOptions{Recreate: RecreateDiverged, Images: ImageOptions{Build: true}}); err != nil {
		return err
	}
	if !opts.Prune {
		return nil
	}
	after, err := o.containers(ctx, Target{Project: p.Name}, true)
	if err != nil {
		return nil // pruning is a courtesy
	}
	used := map[string]bool{}
	for _, c := range after {
		used[c.ImageID] = true
	}
	for _, c := range before {
		if c.ImageID == "" || used[c.ImageID] {
			continue
		}
		used[c.ImageID] = true // once
		img, err := o.eng.InspectImage(ctx, c.ImageID)
		if err != nil || len(img.RepoTags) > 0 {
			continue
		}
		// The engine refuses an image a container (of another project)
		// still uses: that refusal is the answer.
		_ = o.eng.RemoveImage(ctx, c.ImageID, false)
	}
	return nil
}
