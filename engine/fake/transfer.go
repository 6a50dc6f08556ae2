package fake

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/composer-orchestrator/composer/engine"
)

// The fake's engine.Transfer. Every container has an in-memory file
// system: empty at create (just "/") unless its image was made by
// CommitContainer, in which case it starts with the committed container's
// files. Copies, exports and commits read and write it by the engine's
// rules, as observed on Docker 20.10:
//
//   - CopyToContainer into a directory that does not exist is ErrNotFound
//     ("Could not find the file /x in container c"); into a path that is
//     a file it is a plain error ("extraction point is not a directory").
//     The archive's parent directories are created as needed (0755), its
//     names are clamped to the container ("../../x" lands in "/x"), and
//     unless AllowOverwriteDirWithFile a file replacing a directory, or a
//     directory replacing a file, fails the copy. Entries extracted before
//     a failing one stay, as in the engine. Files keep the archive's owners;
//     with CopyUIDGID they belong to the container's user instead (only a
//     numeric USER is understood: the fake has no /etc/passwd). A container
//     with a read-only root file system refuses the copy.
//   - CopyFromContainer names the archive's root after the last element of
//     the path as given ("/a/b" gives "b", "b/..."; "/a/b/." gives "./...";
//     "/" gives "/", "/x", ...), does not follow a final symbolic link (the
//     archive holds the link), and its stat is StatPath's.
//   - StatPath reports a directory's size as 4096, a link's as the length
//     of its target, and a link's LinkTarget resolved to an absolute path
//     in the container (every link on the way followed).
//   - ExportContainer's archive names entries relative to the root ("etc/",
//     "etc/hostname"), without an entry for the root itself.
//
// Volumes and other mounts are not modelled: a copy into a mount point
// lands in the container's own files. The files the engine adds to every
// container (/etc/hosts, /dev, /proc, ...) are not there either.
//
// The fake publishes the engine's events for these calls: "extract-to-dir"
// for a copy in, "archive-path" for a copy out, "export", "commit" (with
// "pause" and "unpause" around it when Pause stops a running container)
// and the image's "tag", and an image's "push".

// transferState is the fake's state for engine.Transfer. The Engine's mu
// guards it like the rest.
type transferState struct {
	// files holds each container's file system, by container id, made from
	// its image's files the first time the container's files are used.
	// Images never change their files, so that late copy is the copy the
	// engine makes at create. Entries of removed containers are dropped
	// when another container's files are first used.
	files map[string]fileSystem
	// imageFiles holds the files of committed images, by image id. They
	// stay after the image is removed: a container made from it still has
	// them, as a container keeps its image's layers in the engine.
	imageFiles map[string]fileSystem
	// registries are the hosts a push reaches; see AddRegistry.
	registries map[string]bool
	pushed     []string
	// statsEvery is how often a stats stream samples; see SetStatsInterval.
	statsEvery time.Duration
}

func newTransferState() transferState {
	return transferState{
		files:      map[string]fileSystem{},
		imageFiles: map[string]fileSystem{},
		registries: map[string]bool{},
		statsEvery: time.Second,
	}
}

// fileEntry is one file, directory or symbolic link of a container. Entries
// are values and their data is never written to after it is stored, so a
// file system is copied by cloning its map.
type fileEntry struct {
	mode     fs.FileMode // type bits and permissions
	data     []byte
	link     string // a symbolic link's target, as written
	mtime    time.Time
	uid, gid int
}

func (f fileEntry) isDir() bool     { return f.mode.IsDir() }
func (f fileEntry) isLink() bool    { return f.mode&fs.ModeSymlink != 0 }
func (f fileEntry) isRegular() bool { return f.mode.IsRegular() }

// size is what the engine's stat reports: the content's length for a file,
// the target's for a link, and a directory's block.
func (f fileEntry) size() int64 {
	switch {
	case f.isDir():
		return 4096
	case f.isLink():
		return int64(len(f.link))
	}
	return int64(len(f.data))
}

// fileSystem maps clean absolute paths to entries; "/" is always there.
type fileSystem map[string]fileEntry

// maxLinks bounds how many symbolic links one path resolution follows, as
// the kernel's ELOOP does.
const maxLinks = 40

// resolve returns p (absolute and clean) with every symbolic link on the
// way replaced by what it points at, as seen inside the container: a link
// cannot lead out of "/". The last element is followed only if followLast.
// Elements that do not exist are kept as they are; one that exists and is
// not a directory, with more path after it, is an error.
func (fsys fileSystem) resolve(p string, followLast bool) (string, error) {
	parts := splitPath(p)
	cur := "/"
	links := 0
	for i := 0; i < len(parts); i++ {
		next := path.Join(cur, parts[i])
		f, ok := fsys[next]
		if !ok {
			return path.Join(append([]string{next}, parts[i+1:]...)...), nil
		}
		last := i == len(parts)-1
		if f.isLink() && (!last || followLast) {
			if links++; links > maxLinks {
				return "", fmt.Errorf("%s: too many levels of symbolic links", p)
			}
			target := f.link
			if !path.IsAbs(target) {
				target = path.Join(cur, target)
			}
			parts = append(splitPath(target), parts[i+1:]...)
			cur, i = "/", -1
			continue
		}
		if !last && !f.isDir() {
			return "", fmt.Errorf("lstat %s: not a directory", p)
		}
		cur = next
	}
	return cur, nil
}

// splitPath returns the elements of p, read from "/".
func splitPath(p string) []string {
	p = path.Clean("/" + p)
	if p == "/" {
		return nil
	}
	return strings.Split(p[1:], "/")
}

// children returns the paths under dir, sorted, so that a directory comes
// before what it holds.
func (fsys fileSystem) children(dir string) []string {
	prefix := strings.TrimSuffix(dir, "/") + "/"
	var out []string
	for p := range fsys {
		if p != dir && strings.HasPrefix(p, prefix) {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// remove deletes p and, for a directory, everything under it.
func (fsys fileSystem) remove(p string) {
	if fsys[p].isDir() {
		for _, c := range fsys.children(p) {
			delete(fsys, c)
		}
	}
	delete(fsys, p)
}

// put stores f at p, whose parent exists, and marks the parent modified
// when p is new to it, as the kernel does.
func (fsys fileSystem) put(p string, f fileEntry, now time.Time) {
	if _, ok := fsys[p]; !ok && p != "/" {
		parent := fsys[path.Dir(p)]
		parent.mtime = now
		fsys[path.Dir(p)] = parent
	}
	fsys[p] = f
}

// mkdirAll makes sure dir (resolved, with symbolic links followed) exists
// as a directory, creating what is missing the way the engine's
// extraction does, and returns it resolved.
func (fsys fileSystem) mkdirAll(dir string, now time.Time) (string, error) {
	dir, err := fsys.resolve(dir, true)
	if err != nil {
		return "", err
	}
	cur := "/"
	for _, part := range splitPath(dir) {
		cur = path.Join(cur, part)
		f, ok := fsys[cur]
		switch {
		case !ok:
			fsys.put(cur, fileEntry{mode: fs.ModeDir | 0o755, mtime: now}, now)
		case !f.isDir():
			return "", fmt.Errorf("mkdir %s: not a directory", cur)
		}
	}
	return dir, nil
}

// containerPath reads a path argument the way the engine does: relative to
// the root, and wanting a directory when it ends in "/" or "/.".
func containerPath(p string) (clean string, wantDir bool) {
	wantDir = strings.HasSuffix(p, "/") || strings.HasSuffix(p, "/.") || p == "."
	return path.Clean("/" + p), wantDir
}

// baseName is the name the engine gives the path p: its last element as
// written ("." for "/a/."), or "/" for the root.
func baseName(p string) string {
	if p == "" {
		return "/"
	}
	return path.Base(p)
}

// filesOf returns c's file system, made from its image's files on first
// use. The caller holds e.mu.
func (e *Engine) filesOf(c *container) fileSystem {
	if fsys, ok := e.transfer.files[c.id]; ok {
		return fsys
	}
	for id := range e.transfer.files {
		if _, ok := e.containers[id]; !ok {
			delete(e.transfer.files, id)
		}
	}
	fsys := maps.Clone(e.transfer.imageFiles[c.imageID])
	if fsys == nil {
		fsys = fileSystem{}
	}
	if _, ok := fsys["/"]; !ok {
		fsys["/"] = fileEntry{mode: fs.ModeDir | 0o755, mtime: c.created}
	}
	e.transfer.files[c.id] = fsys
	return fsys
}

// lookupPath finds the entry of p in c, as the engine's stat of the archive
// API does: the last element not followed unless p ends in a slash. It
// returns the resolved path too. The caller holds e.mu.
func (e *Engine) lookupPath(c *container, idOrName, p string) (string, fileEntry, error) {
	clean, wantDir := containerPath(p)
	fsys := e.filesOf(c)
	resolved, err := fsys.resolve(clean, wantDir)
	if err != nil {
		return "", fileEntry{}, err
	}
	f, ok := fsys[resolved]
	if !ok {
		return "", fileEntry{}, fileNotFound(clean, idOrName)
	}
	if wantDir && !f.isDir() {
		return "", fileEntry{}, fmt.Errorf("lstat %s: not a directory", p)
	}
	return resolved, f, nil
}

// fileNotFound is the engine's answer for a path missing in a container.
func fileNotFound(p, idOrName string) error {
	return fmt.Errorf("%w: Could not find the file %s in container %s", engine.ErrNotFound, p, idOrName)
}

// stat describes f, found at resolved for the path p as asked. The caller
// holds e.mu.
func (fsys fileSystem) stat(p, resolved string, f fileEntry) engine.PathStat {
	st := engine.PathStat{Name: baseName(p), Size: f.size(), Mode: f.mode, Mtime: f.mtime}
	if f.isLink() {
		// The engine reports where the link leads, not what it says.
		st.LinkTarget, _ = fsys.resolve(resolved, true)
	}
	return st
}

// StatPath implements engine.Transfer.
func (e *Engine) StatPath(ctx context.Context, id, p string) (engine.PathStat, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, err := e.enterContainer(ctx, "StatPath", id)
	if err != nil {
		return engine.PathStat{}, err
	}
	resolved, f, err := e.lookupPath(c, id, p)
	if err != nil {
		return engine.PathStat{}, err
	}
	return e.filesOf(c).stat(p, resolved, f), nil
}

// CopyFromContainer implements engine.Transfer. The archive is made when
// the call is made: what changes afterwards is not in it.
func (e *Engine) CopyFromContainer(ctx context.Context, id, p string) (io.ReadCloser, engine.PathStat, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, err := e.enterContainer(ctx, "CopyFromContainer", id)
	if err != nil {
		return nil, engine.PathStat{}, err
	}
	resolved, f, err := e.lookupPath(c, id, p)
	if err != nil {
		return nil, engine.PathStat{}, err
	}
	fsys := e.filesOf(c)
	root := baseName(p)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	err = writeEntry(tw, root, f)
	if f.isDir() {
		prefix := strings.TrimSuffix(root, "/") + "/"
		for _, child := range fsys.children(resolved) {
			rel := strings.TrimPrefix(child, strings.TrimSuffix(resolved, "/")+"/")
			err = errors.Join(err, writeEntry(tw, prefix+rel, fsys[child]))
		}
	}
	if err = errors.Join(err, tw.Close()); err != nil {
		return nil, engine.PathStat{}, fmt.Errorf("writing the archive: %w", err)
	}
	e.containerEvent(c, "archive-path")
	return io.NopCloser(&buf), fsys.stat(p, resolved, f), nil
}

// writeEntry writes one entry of an archive; a directory's name gets the
// trailing slash tar readers expect.
func writeEntry(tw *tar.Writer, name string, f fileEntry) error {
	hdr := &tar.Header{
		Name:    name,
		Mode:    int64(f.mode.Perm()),
		ModTime: f.mtime,
		Uid:     f.uid,
		Gid:     f.gid,
		Format:  tar.FormatPAX, // keeps the modification time's fraction
	}
	switch {
	case f.isDir():
		hdr.Typeflag = tar.TypeDir
		if !strings.HasSuffix(hdr.Name, "/") {
			hdr.Name += "/"
		}
	case f.isLink():
		hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, f.link
	default:
		hdr.Typeflag, hdr.Size = tar.TypeReg, int64(len(f.data))
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	_, err := tw.Write(f.data)
	return err
}

// ExportContainer implements engine.Transfer.
func (e *Engine) ExportContainer(ctx context.Context, id string) (io.ReadCloser, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, err := e.enterContainer(ctx, "ExportContainer", id)
	if err != nil {
		return nil, err
	}
	fsys := e.filesOf(c)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, p := range fsys.children("/") {
		err = errors.Join(err, writeEntry(tw, p[1:], fsys[p]))
	}
	if err = errors.Join(err, tw.Close()); err != nil {
		return nil, fmt.Errorf("writing the archive: %w", err)
	}
	e.containerEvent(c, "export")
	return io.NopCloser(&buf), nil
}

// archiveEntry is one entry of an archive being copied in.
type archiveEntry struct {
	hdr  *tar.Header
	data []byte
}

// readArchive reads a whole tar archive; nil is an empty one.
func readArchive(r io.Reader) ([]archiveEntry, error) {
	var out []archiveEntry
	if r == nil {
		return nil, nil
	}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, err
		}
		out = append(out, archiveEntry{hdr: hdr, data: data})
	}
}

// CopyToContainer implements engine.Transfer (see the rules at the top of
// this file). As in the engine, a call refused before the copy (a missing
// container, an injected fault) leaves content unread; it is closed in
// any case if it is an io.Closer, as the Docker adapter's HTTP client
// closes a request's body.
func (e *Engine) CopyToContainer(ctx context.Context, id, dir string, content io.Reader, opts engine.CopyOptions) error {
	if cl, ok := content.(io.Closer); ok {
		defer cl.Close()
	}
	e.mu.Lock()
	c, err := e.enterContainer(ctx, "CopyToContainer", id)
	e.mu.Unlock()
	if err != nil {
		return err
	}
	// Read without e.mu: the content may come from a pipe whose writer
	// calls the engine.
	entries, err := readArchive(content)
	if err != nil {
		return fmt.Errorf("error processing tar file: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.apply(ctx, "CopyToContainer", func() error {
		if c.removed {
			return notFound("container", id)
		}
		if err := e.extract(c, id, dir, entries, opts); err != nil {
			return err
		}
		e.containerEvent(c, "extract-to-dir")
		return nil
	})
}

// extract writes entries into dir of c. The caller holds e.mu.
func (e *Engine) extract(c *container, idOrName, dir string, entries []archiveEntry, opts engine.CopyOptions) error {
	if c.config.ReadOnly {
		return errors.New("container rootfs is marked read-only")
	}
	owner := func(h *tar.Header) (int, int) { return h.Uid, h.Gid }
	if opts.CopyUIDGID && c.config.User != "" {
		uid, gid, err := numericUser(c.config.User)
		if err != nil {
			return err
		}
		owner = func(*tar.Header) (int, int) { return uid, gid }
	}
	fsys := e.filesOf(c)
	clean, _ := containerPath(dir)
	dest, err := fsys.resolve(clean, true)
	if err != nil {
		return err
	}
	if f, ok := fsys[dest]; !ok {
		return fileNotFound(clean, idOrName)
	} else if !f.isDir() {
		return errors.New("extraction point is not a directory")
	}

	now := time.Now()
	// The engine sets the archive's directories' times last, so that
	// creating their content does not change them; so does the fake.
	dirTimes := map[string]time.Time{}
	for _, en := range entries {
		rel := path.Clean("/" + en.hdr.Name) // "../x" cannot leave dest
		if rel == "/" {
			continue // dest itself
		}
		parent, err := fsys.mkdirAll(path.Join(dest, path.Dir(rel)), now)
		if err != nil {
			return err
		}
		target := path.Join(parent, path.Base(rel))
		uid, gid := owner(en.hdr)
		f := fileEntry{mode: en.hdr.FileInfo().Mode(), mtime: en.hdr.ModTime, uid: uid, gid: gid}
		switch en.hdr.Typeflag {
		case tar.TypeDir:
		case tar.TypeReg: // the reader reports the old TypeRegA as TypeReg
			f.data = en.data
		case tar.TypeSymlink:
			// Links are always 0777 on Linux, whatever the archive says.
			f.mode, f.link = fs.ModeSymlink|0o777, en.hdr.Linkname
		case tar.TypeLink:
			src, ok := fsys[path.Join(dest, path.Clean("/"+en.hdr.Linkname))]
			if !ok || !src.isRegular() {
				return fmt.Errorf("hard link %s: target %s not found", en.hdr.Name, en.hdr.Linkname)
			}
			f = src
		default:
			continue // devices and pipes: nothing a test copies
		}
		if old, ok := fsys[target]; ok {
			if old.isDir() != f.isDir() {
				if !opts.AllowOverwriteDirWithFile {
					if old.isDir() {
						return fmt.Errorf("cannot overwrite directory %q with non-directory %q", target, target)
					}
					return fmt.Errorf("cannot overwrite non-directory %q with directory %q", target, target)
				}
				fsys.remove(target)
			}
		}
		if f.isDir() {
			dirTimes[target] = f.mtime
		}
		fsys.put(target, f, now)
	}
	for p, t := range dirTimes {
		f := fsys[p]
		f.mtime = t
		fsys[p] = f
	}
	return nil
}

// numericUser reads a USER of the form uid[:gid]. The engine looks names
// up in the container's /etc/passwd and /etc/group, which the fake does
// not have.
func numericUser(user string) (int, int, error) {
	u, g, hasGroup := strings.Cut(user, ":")
	uid, err := strconv.Atoi(u)
	if err != nil {
		return 0, 0, fmt.Errorf("getent unable to find entry %q in passwd database", u)
	}
	gid := uid
	if hasGroup {
		if gid, err = strconv.Atoi(g); err != nil {
			return 0, 0, fmt.Errorf("getent unable to find entry %q in group database", g)
		}
	}
	return uid, gid, nil
}

// CommitContainer implements engine.Transfer: the new image has the
// container's files and its configuration (environment, command,
// entrypoint, working directory, user, stop signal, labels, exposed
// ports, healthcheck, and its image's volumes) as defaults, with
// opts.Changes applied: ENV, LABEL, CMD, ENTRYPOINT, WORKDIR, USER,
// EXPOSE, VOLUME, STOPSIGNAL and HEALTHCHECK change them, ONBUILD is
// accepted and ignored, anything else fails the commit as in the engine.
// A container made from the image starts with those files. Faults match
// the container's names.
func (e *Engine) CommitContainer(ctx context.Context, id string, opts engine.CommitOptions) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, err := e.enterContainer(ctx, "CommitContainer", id)
	if err != nil {
		return "", err
	}
	if opts.Reference != "" {
		if err := checkReference(opts.Reference); err != nil {
			return "", err
		}
	}
	var imgID string
	err = e.apply(ctx, "CommitContainer", func() error {
		if c.removed {
			return notFound("container", id)
		}
		cfg := engine.ImageConfig{
			Env:          slices.Clone(c.config.Env),
			Cmd:          slices.Clone(c.config.Cmd),
			Entrypoint:   slices.Clone(c.config.Entrypoint),
			WorkingDir:   c.config.WorkingDir,
			User:         c.config.User,
			StopSignal:   c.config.StopSignal,
			Labels:       copyLabels(c.config.Labels),
			ExposedPorts: slices.Clone(c.config.ExposedPorts),
			Healthcheck:  cloneHealthcheck(c.config.Healthcheck),
		}
		if base, ok := e.images[c.imageID]; ok {
			cfg.Volumes = slices.Clone(base.Config.Volumes)
		}
		if err := applyChanges(&cfg, opts.Changes); err != nil {
			return err
		}
		pause := opts.Pause && c.state == engine.StateRunning
		if pause {
			e.containerEvent(c, "pause")
		}
		files := maps.Clone(e.filesOf(c))
		var size int64
		for _, f := range files {
			size += int64(len(f.data))
		}
		img := &engine.Image{ID: "sha256:" + randomID(), Labels: copyLabels(cfg.Labels), Size: 1<<20 + size, Created: time.Now(), Config: cfg}
		e.images[img.ID] = img
		e.transfer.imageFiles[img.ID] = files
		if opts.Reference != "" {
			e.tagImage(img, opts.Reference)
		}
		e.containerEvent(c, "commit", "comment", opts.Comment, "imageID", img.ID, "imageRef", opts.Reference)
		if pause {
			e.containerEvent(c, "unpause")
		}
		imgID = img.ID
		return nil
	})
	if err != nil {
		return "", err
	}
	return imgID, nil
}

// applyChanges applies commit changes, Dockerfile instructions, to cfg the
// way the engine's commit does. Variables are substituted from cfg's
// environment.
func applyChanges(cfg *engine.ImageConfig, changes []string) error {
	const escape = '\\'
	cmdSet := false
	shell := []string{"/bin/sh", "-c"}
	var errs []error
	for _, ins := range joinLines(changes, escape) {
		word, rest, _ := strings.Cut(ins, " ")
		rest = strings.TrimSpace(rest)
		lookup := func(name string) (string, bool) {
			for _, kv := range slices.Backward(cfg.Env) {
				if k, v, _ := strings.Cut(kv, "="); k == name {
					return v, true
				}
			}
			return "", false
		}
		expand := func(w string) string { return processWord(w, lookup, escape) }
		switch strings.ToUpper(word) {
		case "ENV":
			for _, kv := range keyValues(rest, escape, expand) {
				cfg.Env = setEnv(cfg.Env, kv[0], kv[1])
			}
		case "LABEL":
			for _, kv := range keyValues(rest, escape, expand) {
				if cfg.Labels == nil {
					cfg.Labels = map[string]string{}
				}
				cfg.Labels[kv[0]] = kv[1]
			}
		case "CMD":
			cfg.Cmd, cmdSet = commandForm(rest, shell), true
		case "ENTRYPOINT":
			cfg.Entrypoint = commandForm(rest, shell)
			if !cmdSet {
				cfg.Cmd = nil // as in a Dockerfile: an entrypoint drops the old command
			}
		case "WORKDIR":
			dir := expand(rest)
			if !path.IsAbs(dir) {
				dir = path.Join("/", cfg.WorkingDir, dir)
			}
			cfg.WorkingDir = path.Clean(dir)
		case "USER":
			cfg.User = expand(rest)
		case "STOPSIGNAL":
			// Docker 20.10 refuses it in a commit; later engines take it.
			cfg.StopSignal = expand(rest)
		case "EXPOSE":
			for _, w := range splitWords(rest, escape) {
				cfg.ExposedPorts = append(cfg.ExposedPorts, expand(w))
			}
			_, cfg.ExposedPorts = normalizePorts(nil, cfg.ExposedPorts)
		case "VOLUME":
			var vols []string
			if json.Unmarshal([]byte(rest), &vols) != nil {
				vols = nil
				for _, w := range splitWords(rest, escape) {
					vols = append(vols, expand(w))
				}
			}
			for _, v := range vols {
				if !slices.Contains(cfg.Volumes, v) {
					cfg.Volumes = append(cfg.Volumes, v)
				}
			}
			slices.Sort(cfg.Volumes)
		case "HEALTHCHECK":
			hc, err := parseHealthcheck(rest, escape)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			cfg.Healthcheck = hc
		case "ONBUILD":
			// The engine records it for images built FROM this one; the
			// fake's builder runs no instruction that would use it.
		default:
			errs = append(errs, fmt.Errorf("%s is not a valid change command", strings.ToLower(word)))
		}
	}
	return errors.Join(errs...)
}

// checkReference refuses what the engine refuses as an image reference to
// tag or push: a repository with upper-case letters, and a digest.
func checkReference(ref string) error {
	if strings.Contains(ref, "@") {
		return errors.New("refusing to create a tag with a digest reference")
	}
	repo := ref
	if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
		repo = ref[:i]
	}
	// The registry host may have capitals; the path may not.
	if i := strings.IndexByte(repo, '/'); i >= 0 && isRegistryHost(repo[:i]) {
		repo = repo[i+1:]
	}
	if repo == "" || strings.ToLower(repo) != repo {
		return errors.New("invalid reference format: repository name must be lowercase")
	}
	return nil
}

// isRegistryHost reports whether the first element of a reference names a
// registry rather than a user, by the rule the engine uses.
func isRegistryHost(first string) bool {
	return strings.ContainsAny(first, ".:") || first == "localhost" || strings.ToLower(first) != first
}

// registryOf returns the registry host of an image reference: its first
// element when that names a host, else Docker Hub ("docker.io").
func registryOf(ref string) string {
	first, _, ok := strings.Cut(ref, "/")
	if !ok || !isRegistryHost(first) {
		return "docker.io"
	}
	switch first {
	case "index.docker.io", "registry-1.docker.io":
		return "docker.io"
	}
	return first
}

// AddRegistry makes the registry at host (as it appears in references,
// such as "localhost:5000"; "docker.io" for Docker Hub) reachable: pushes
// to it succeed. A push to any other registry fails the way the engine's
// does when the registry does not answer. It is not counted as a call.
func (e *Engine) AddRegistry(host string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.transfer.registries[registryOf(host+"/x")] = true
}

// Pushed returns the references pushed so far, oldest first, normalized
// the way images are tagged ("app:latest" for "docker.io/library/app").
// It is not counted as a call.
func (e *Engine) Pushed() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.transfer.pushed)
}

// PushImage implements engine.Transfer: ref must name a tag the engine
// has (ErrNotFound otherwise, as the engine answers for a missing tag),
// and its registry must have been added with AddRegistry; a push to any
// other registry reports that the registry cannot be reached, in the
// progress and as the error. Faults match ref as given and normalized.
func (e *Engine) PushImage(ctx context.Context, ref string, progress func(engine.ProgressLine)) error {
	if progress == nil {
		progress = func(engine.ProgressLine) {}
	}
	e.mu.Lock()
	norm := normalizeRef(ref)
	if err := e.enter(ctx, "PushImage", ref, norm); err != nil {
		e.mu.Unlock()
		return err
	}
	if strings.Contains(ref, "@") {
		e.mu.Unlock()
		return errors.New("cannot push a digest reference")
	}
	if err := checkReference(ref); err != nil {
		e.mu.Unlock()
		return err
	}
	repo := norm[:strings.LastIndexByte(norm, ':')]
	host := registryOf(ref)
	var img *engine.Image
	for _, i := range e.images {
		if slices.Contains(i.RepoTags, norm) {
			img = i
		}
	}
	reachable := e.transfer.registries[host]
	if img != nil && reachable {
		e.transfer.pushed = append(e.transfer.pushed, norm)
		e.publish("image", "push", img.ID, map[string]string{"name": norm})
	}
	e.mu.Unlock()

	// progress is the caller's code; it runs without e.mu so it may call
	// back into the engine.
	full := repo
	if host == "docker.io" {
		full = "docker.io/" + repo
		if !strings.Contains(repo, "/") {
			full = "docker.io/library/" + repo
		}
	}
	progress(engine.ProgressLine{Status: "The push refers to repository [" + full + "]"})
	if img == nil {
		msg := "An image does not exist locally with the tag: " + repo
		progress(engine.ProgressLine{Error: msg})
		return fmt.Errorf("%w: %s", engine.ErrNotFound, msg)
	}
	if !reachable {
		url := "https://" + host + "/v2/"
		if host == "docker.io" {
			url = "https://registry-1.docker.io/v2/"
		}
		msg := fmt.Sprintf("Get %q: dial tcp %s: connect: connection refused", url, host)
		progress(engine.ProgressLine{Error: msg})
		return errors.New(msg)
	}
	layer := img.ID[7:19]
	progress(engine.ProgressLine{ID: layer, Status: "Preparing"})
	progress(engine.ProgressLine{ID: layer, Status: "Pushed"})
	progress(engine.ProgressLine{Status: fmt.Sprintf("%s: digest: sha256:%s size: 528", norm[len(repo)+1:], strings.Repeat(layer[:8], 8))})
	return nil
}

// SetStatsInterval sets how often a ContainerStats stream samples (a
// second by default, as in the engine), so a test of a stream need not
// wait seconds. A zero or negative d restores the default.
func (e *Engine) SetStatsInterval(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if d <= 0 {
		d = time.Second
	}
	e.transfer.statsEvery = d
}

// ContainerStats implements engine.Transfer. The numbers are plausible
// and deterministic: the n-th sample of a call (from 0) reports a CPU
// time of 50ms + n*100ms against a system time of 1000s + n*2s on 2
// CPUs (the previous sample's values as Pre*, zero for the first, as the
// engine gives), 8 MiB of memory plus the size of the container's files
// (of which 1 MiB is cache) out of the container's memory limit or 8 GiB,
// network and block counters growing by 1 KiB a sample and one process.
// A container that is not running, or stops or goes during a stream,
// gives one zero sample (a zero Read) and ends the call, as the Docker
// adapter does.
func (e *Engine) ContainerStats(ctx context.Context, id string, stream bool, each func(engine.StatsSample)) error {
	e.mu.Lock()
	c, err := e.enterContainer(ctx, "ContainerStats", id)
	every := e.transfer.statsEvery
	e.mu.Unlock()
	if err != nil {
		return err
	}
	for n := uint64(0); ; n++ {
		e.mu.Lock()
		up := !c.removed && c.running()
		var s engine.StatsSample
		if up {
			// A single reading carries the previous one, as the
			// engine's does: it takes two, a second apart.
			first := n
			if !stream {
				first = 1
			}
			s = e.statsSample(c, first)
		}
		e.mu.Unlock()
		// each is the caller's code; it runs without e.mu.
		each(s)
		if !stream || !up {
			return nil
		}
		if err := e.nextSample(ctx, c, every); err != nil {
			return err
		}
	}
}

// nextSample waits until the next sample of a stats stream is due: every
// has passed, or c has stopped or gone (its zero sample is due at once),
// or ctx is done, which is the error.
func (e *Engine) nextSample(ctx context.Context, c *container, every time.Duration) error {
	timer := time.NewTimer(every)
	defer timer.Stop()
	for {
		e.mu.Lock()
		up := !c.removed && c.running()
		changed := c.changed
		e.mu.Unlock()
		if !up {
			return nil
		}
		select {
		case <-timer.C:
			return nil
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// statsSample is the n-th sample of a stats call on c. The caller holds
// e.mu.
func (e *Engine) statsSample(c *container, n uint64) engine.StatsSample {
	const mib = 1 << 20
	var files uint64
	for _, f := range e.filesOf(c) {
		files += uint64(len(f.data))
	}
	limit := uint64(8 << 30)
	if m := c.config.Resources.Memory; m > 0 {
		limit = uint64(m)
	}
	s := engine.StatsSample{
		Read:        time.Now(),
		CPUTotal:    50e6 + n*100e6,
		SystemCPU:   1000e9 + n*2e9,
		OnlineCPUs:  2,
		MemoryUsage: 8*mib + files,
		MemoryLimit: limit,
		MemoryCache: mib,
		NetRx:       2048 + n*1024,
		NetTx:       1024 + n*1024,
		BlockRead:   4096 + n*1024,
		BlockWrite:  files + n*1024,
		PIDs:        1,
	}
	if n > 0 {
		s.PreCPUTotal, s.PreSystemCPU = s.CPUTotal-100e6, s.SystemCPU-2e9
	}
	return s
}

// ReadFile returns the content of the file at p in a container, following
// symbolic links, as a process in the container would read it. It is
// not counted as a call.
func (e *Engine) ReadFile(idOrName, p string) ([]byte, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, err := e.lookupContainer(idOrName)
	if err != nil {
		return nil, err
	}
	fsys := e.filesOf(c)
	clean, _ := containerPath(p)
	resolved, err := fsys.resolve(clean, true)
	if err != nil {
		return nil, err
	}
	f, ok := fsys[resolved]
	switch {
	case !ok:
		return nil, fileNotFound(clean, idOrName)
	case !f.isRegular():
		return nil, fmt.Errorf("read %s: is a directory", clean)
	}
	return slices.Clone(f.data), nil
}

// WriteFile writes data to the file at p in a container (mode 0644, owned
// by root), creating missing parent directories and following symbolic
// links, as a process in the container would. It publishes no event and
// is not counted as a call.
func (e *Engine) WriteFile(idOrName, p string, data []byte) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, err := e.lookupContainer(idOrName)
	if err != nil {
		return err
	}
	fsys := e.filesOf(c)
	clean, _ := containerPath(p)
	resolved, err := fsys.resolve(clean, true)
	if err != nil {
		return err
	}
	if resolved == "/" || fsys[resolved].isDir() {
		return fmt.Errorf("open %s: is a directory", clean)
	}
	now := time.Now()
	parent, err := fsys.mkdirAll(path.Dir(resolved), now)
	if err != nil {
		return err
	}
	fsys.put(path.Join(parent, path.Base(resolved)), fileEntry{mode: 0o644, data: slices.Clone(data), mtime: now}, now)
	return nil
}
