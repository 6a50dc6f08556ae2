package enginetest

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/composer-orchestrator/composer/engine"
)

// The transfer suite checks engine.Transfer: copies in and out of a
// container through the archive API, stat, export, commit, stats and
// push. It pins the engine's answers the commands rely on: which errors
// are ErrNotFound, how an archive's root is named, what a stat of a link
// says. No registry is needed: the push only checks that an unreachable
// one fails.

// RunTransfer runs the transfer behaviour suite, with the same arguments
// as Run. It is apart from Run so that an engine without engine.Transfer
// could still run the rest.
func RunTransfer(t *testing.T, newEngine func(t *testing.T) engine.Engine, image string) {
	tests := []struct {
		name string
		fn   func(t *testing.T, h *harness)
	}{
		{"CopyRoundTrip", testCopyRoundTrip},
		{"CopyErrors", testCopyErrors},
		{"CopyOverwrite", testCopyOverwrite},
		{"Export", testExport},
		{"Commit", testCommit},
		{"Stats", testStats},
		{"Push", testPush},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newHarness(t, newEngine(t), image))
		})
	}
}

// mtime is the modification time of the files the suite copies in: whole
// seconds, which every tar format keeps.
var mtime = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// entry is one entry of an archive the suite writes or reads.
type entry struct {
	name string
	mode int64
	data string // a file's content, or a link's target
	typ  byte
}

// tree is the archive the suite copies in: a directory holding a file, a
// subdirectory with a file, and a relative symbolic link to the first file.
var tree = []entry{
	{"tree/", 0o755, "", tar.TypeDir},
	{"tree/f.txt", 0o640, "hello\n", tar.TypeReg},
	{"tree/sub/", 0o750, "", tar.TypeDir},
	{"tree/sub/g.txt", 0o644, "inner\n", tar.TypeReg},
	{"tree/link", 0o777, "f.txt", tar.TypeSymlink},
}

func archive(t *testing.T, entries []entry) *bytes.Reader {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Mode: e.mode, ModTime: mtime, Typeflag: e.typ}
		switch e.typ {
		case tar.TypeReg:
			hdr.Size = int64(len(e.data))
		case tar.TypeSymlink:
			hdr.Linkname = e.data
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatalf("writing an archive: %v", err)
		}
		if e.typ == tar.TypeReg {
			if _, err := tw.Write([]byte(e.data)); err != nil {
				t.Fatalf("writing an archive: %v", err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatalf("writing an archive: %v", err)
	}
	return bytes.NewReader(buf.Bytes())
}

// readArchive reads an archive the engine gave, closing it, and returns
// its entries by name.
func readArchive(t *testing.T, rc io.ReadCloser) map[string]entry {
	t.Helper()
	defer rc.Close()
	out := map[string]entry{}
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("reading the engine's archive: %v", err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("reading the engine's archive: %v", err)
		}
		e := entry{name: hdr.Name, mode: hdr.Mode & 0o7777, data: string(data), typ: hdr.Typeflag}
		if hdr.Typeflag == tar.TypeSymlink {
			e.data = hdr.Linkname
		}
		out[hdr.Name] = e
	}
}

// copyTree copies tree into "/" of the container id.
func (h *harness) copyTree(t *testing.T, id string) {
	t.Helper()
	if err := h.e.CopyToContainer(h.ctx, id, "/", archive(t, tree), engine.CopyOptions{}); err != nil {
		t.Fatalf("CopyToContainer: %v", err)
	}
}

func (h *harness) stat(t *testing.T, id, path string) engine.PathStat {
	t.Helper()
	st, err := h.e.StatPath(h.ctx, id, path)
	if err != nil {
		t.Fatalf("StatPath(%s): %v", path, err)
	}
	return st
}

func testCopyRoundTrip(t *testing.T, h *harness) {
	id := h.create(t, h.spec("c", "sleep", "ready"))
	h.startReady(t, id)
	h.copyTree(t, id)

	if st := h.stat(t, id, "/tree/f.txt"); st.Name != "f.txt" || st.Size != 6 || st.Mode != 0o640 || !st.Mtime.Equal(mtime) || st.LinkTarget != "" {
		t.Errorf("StatPath(file) = %+v, want f.txt, 6 bytes, mode 0640, mtime %v", st, mtime)
	}
	if st := h.stat(t, id, "/tree/sub"); st.Name != "sub" || !st.Mode.IsDir() || st.Mode.Perm() != 0o750 {
		t.Errorf("StatPath(dir) = %+v, want directory sub with mode 0750", st)
	}
	// The engine says where a link leads, resolved in the container, not
	// what the link says; its size is that of what it says.
	if st := h.stat(t, id, "/tree/link"); st.Name != "link" || st.Mode&fs.ModeSymlink == 0 || st.LinkTarget != "/tree/f.txt" || st.Size != int64(len("f.txt")) {
		t.Errorf("StatPath(link) = %+v, want a symbolic link to /tree/f.txt", st)
	}
	// A relative path is read from the root.
	if st := h.stat(t, id, "tree/f.txt"); st.Name != "f.txt" || st.Size != 6 {
		t.Errorf("StatPath(relative) = %+v, want f.txt", st)
	}
	_, err := h.e.StatPath(h.ctx, id, "/tree/missing")
	wantErr(t, "StatPath of a missing path", err, engine.ErrNotFound)
	// A trailing slash wants a directory.
	if _, err := h.e.StatPath(h.ctx, id, "/tree/f.txt/"); err == nil || errors.Is(err, engine.ErrNotFound) {
		t.Errorf("StatPath of a file with a trailing slash: got %v, want an error other than ErrNotFound", err)
	}
	if st := h.stat(t, id, "/tree/sub/"); st.Name != "sub" || !st.Mode.IsDir() {
		t.Errorf("StatPath(dir/) = %+v, want directory sub", st)
	}

	tests := []struct {
		path     string
		wantStat string // the stat's name
		want     map[string]entry
	}{
		{"/tree", "tree", map[string]entry{
			"tree/":          tree[0],
			"tree/f.txt":     tree[1],
			"tree/sub/":      tree[2],
			"tree/sub/g.txt": tree[3],
			"tree/link":      tree[4],
		}},
		{"/tree/sub/g.txt", "g.txt", map[string]entry{"g.txt": {"g.txt", 0o644, "inner\n", tar.TypeReg}}},
		// "dir/." is the directory's content: the root is ".".
		{"/tree/sub/.", ".", map[string]entry{
			"./":      {"./", 0o750, "", tar.TypeDir},
			"./g.txt": {"./g.txt", 0o644, "inner\n", tar.TypeReg},
		}},
		// A final link is not followed: the archive holds the link.
		{"/tree/link", "link", map[string]entry{"link": {"link", 0o777, "f.txt", tar.TypeSymlink}}},
	}
	for _, tc := range tests {
		rc, st, err := h.e.CopyFromContainer(h.ctx, id, tc.path)
		if err != nil {
			t.Errorf("CopyFromContainer(%s): %v", tc.path, err)
			continue
		}
		got := readArchive(t, rc)
		for name, e := range tc.want {
			e.name = name
			tc.want[name] = e
		}
		if !maps.Equal(got, tc.want) {
			t.Errorf("CopyFromContainer(%s) = %v, want %v", tc.path, got, tc.want)
		}
		if st.Name != tc.wantStat {
			t.Errorf("CopyFromContainer(%s) stat = %+v, want name %q", tc.path, st, tc.wantStat)
		}
	}
	_, _, err = h.e.CopyFromContainer(h.ctx, id, "/tree/missing")
	wantErr(t, "CopyFromContainer of a missing path", err, engine.ErrNotFound)
}

func testCopyErrors(t *testing.T, h *harness) {
	// The archive API works on a container that has not started.
	id := h.create(t, h.spec("c"))
	h.copyTree(t, id)

	err := h.e.CopyToContainer(h.ctx, id, "/missing/dir", archive(t, tree), engine.CopyOptions{})
	wantErr(t, "CopyToContainer into a missing directory", err, engine.ErrNotFound)
	// A file is no place to extract into, but it exists: not NotFound.
	err = h.e.CopyToContainer(h.ctx, id, "/tree/f.txt", archive(t, tree), engine.CopyOptions{})
	if err == nil || errors.Is(err, engine.ErrNotFound) {
		t.Errorf("CopyToContainer into a file: got %v, want an error other than ErrNotFound", err)
	}
	// The archive's parents are made as needed.
	deep := []entry{{"a/b/c.txt", 0o644, "c", tar.TypeReg}}
	if err := h.e.CopyToContainer(h.ctx, id, "/tree/sub", archive(t, deep), engine.CopyOptions{}); err != nil {
		t.Fatalf("CopyToContainer without parent entries: %v", err)
	}
	if st := h.stat(t, id, "/tree/sub/a/b"); !st.Mode.IsDir() {
		t.Errorf("StatPath(made parent) = %+v, want a directory", st)
	}

	missing := h.name("missing")
	err = h.e.CopyToContainer(h.ctx, missing, "/", archive(t, tree), engine.CopyOptions{})
	wantErr(t, "CopyToContainer into a missing container", err, engine.ErrNotFound)
	_, err = h.e.StatPath(h.ctx, missing, "/")
	wantErr(t, "StatPath in a missing container", err, engine.ErrNotFound)
	_, _, err = h.e.CopyFromContainer(h.ctx, missing, "/")
	wantErr(t, "CopyFromContainer of a missing container", err, engine.ErrNotFound)
	_, err = h.e.ExportContainer(h.ctx, missing)
	wantErr(t, "ExportContainer of a missing container", err, engine.ErrNotFound)
	_, err = h.e.CommitContainer(h.ctx, missing, engine.CommitOptions{})
	wantErr(t, "CommitContainer of a missing container", err, engine.ErrNotFound)
	err = h.e.ContainerStats(h.ctx, missing, false, func(engine.StatsSample) {})
	wantErr(t, "ContainerStats of a missing container", err, engine.ErrNotFound)
}

func testCopyOverwrite(t *testing.T, h *harness) {
	id := h.create(t, h.spec("c"))
	h.copyTree(t, id)
	fileOverDir := []entry{{"tree/sub", 0o644, "now a file", tar.TypeReg}}
	if err := h.e.CopyToContainer(h.ctx, id, "/", archive(t, fileOverDir), engine.CopyOptions{}); err == nil {
		t.Error("CopyToContainer of a file over a directory succeeded, want an error")
	}
	if st := h.stat(t, id, "/tree/sub"); !st.Mode.IsDir() {
		t.Errorf("after a refused overwrite, StatPath = %+v, want the directory still", st)
	}
	if err := h.e.CopyToContainer(h.ctx, id, "/", archive(t, fileOverDir), engine.CopyOptions{AllowOverwriteDirWithFile: true}); err != nil {
		t.Fatalf("CopyToContainer of a file over a directory, allowed: %v", err)
	}
	if st := h.stat(t, id, "/tree/sub"); !st.Mode.IsRegular() || st.Size != int64(len("now a file")) {
		t.Errorf("after an allowed overwrite, StatPath = %+v, want the file", st)
	}
	// A file over a file is always fine.
	again := []entry{{"tree/f.txt", 0o600, "bye\n", tar.TypeReg}}
	if err := h.e.CopyToContainer(h.ctx, id, "/tree/..", archive(t, again), engine.CopyOptions{}); err != nil {
		t.Fatalf("CopyToContainer over a file: %v", err)
	}
	rc, _, err := h.e.CopyFromContainer(h.ctx, id, "/tree/f.txt")
	if err != nil {
		t.Fatalf("CopyFromContainer: %v", err)
	}
	if got := readArchive(t, rc)["f.txt"]; got.data != "bye\n" || got.mode != 0o600 {
		t.Errorf("the file read back is %+v, want the new content and mode", got)
	}
}

func testExport(t *testing.T, h *harness) {
	id := h.create(t, h.spec("c"))
	h.copyTree(t, id)
	rc, err := h.e.ExportContainer(h.ctx, id)
	if err != nil {
		t.Fatalf("ExportContainer: %v", err)
	}
	got := readArchive(t, rc)
	// Entries are named from the root, without a leading slash.
	if f := got["tree/f.txt"]; f.data != "hello\n" || f.typ != tar.TypeReg {
		t.Errorf("the export's tree/f.txt is %+v, want the copied file; entries: %v", f, slices.Sorted(maps.Keys(got)))
	}
	if l := got["tree/link"]; l.typ != tar.TypeSymlink || l.data != "f.txt" {
		t.Errorf("the export's tree/link is %+v, want the link", l)
	}
}

func testCommit(t *testing.T, h *harness) {
	id := h.create(t, h.spec("c", "sleep", "ready"))
	h.startReady(t, id)
	h.copyTree(t, id)
	ref := h.name("commit") + ":v1"
	t.Cleanup(func() { h.removeImage(t, ref) })

	_, err := h.e.CommitContainer(h.ctx, id, engine.CommitOptions{Reference: ref, Changes: []string{"RUN true"}})
	if err == nil {
		t.Error("CommitContainer with a RUN change succeeded, want an error")
	}
	imgID, err := h.e.CommitContainer(h.ctx, id, engine.CommitOptions{
		Reference: ref,
		Comment:   "enginetest",
		Changes:   []string{"ENV COMMITTED=yes", `CMD ["echo", "committed"]`},
		Pause:     true,
	})
	if err != nil {
		t.Fatalf("CommitContainer: %v", err)
	}
	img, err := h.e.InspectImage(h.ctx, ref)
	if err != nil {
		t.Fatalf("InspectImage(%s): %v", ref, err)
	}
	if img.ID != imgID || !slices.Contains(img.Config.Env, "COMMITTED=yes") || img.Config.Labels[TestLabel] != h.id {
		t.Errorf("InspectImage(%s) = %+v, want id %s, the ENV change and the container's labels", ref, img, imgID)
	}
	if d := h.inspect(t, id); d.State != engine.StateRunning {
		t.Errorf("after a pausing commit the container is %s, want running", d.State)
	}

	// A container made from the image has the committed files.
	spec := h.spec("from-commit")
	spec.Image = ref
	made := h.create(t, spec)
	rc, _, err := h.e.CopyFromContainer(h.ctx, made, "/tree/sub/g.txt")
	if err != nil {
		t.Fatalf("CopyFromContainer in a container of the committed image: %v", err)
	}
	if got := readArchive(t, rc)["g.txt"]; got.data != "inner\n" {
		t.Errorf("the committed file reads %q, want %q", got.data, "inner\n")
	}
	if d := h.inspect(t, made); !slices.Equal(d.Config.Cmd, []string{"echo", "committed"}) {
		t.Errorf("a container of the committed image has Cmd %q, want the CMD change", d.Config.Cmd)
	}
}

// removeImage removes ref and the containers made from it, at cleanup.
func (h *harness) removeImage(t *testing.T, ref string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cs, err := h.e.ListContainers(ctx, h.filter())
	if err == nil {
		for _, c := range cs {
			if c.Image == ref {
				_ = h.e.RemoveContainer(ctx, c.ID, engine.RemoveOptions{Force: true, RemoveVolumes: true})
			}
		}
	}
	if err := h.e.RemoveImage(ctx, ref, true); err != nil && !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("cleanup: removing image %s: %v", ref, err)
	}
}

func testStats(t *testing.T, h *harness) {
	id := h.create(t, h.spec("c", "sleep", "ready"))

	// A container that is not running has no usage: one zero sample, even
	// when streaming.
	for _, stream := range []bool{false, true} {
		var got []engine.StatsSample
		if err := h.e.ContainerStats(h.ctx, id, stream, func(s engine.StatsSample) { got = append(got, s) }); err != nil {
			t.Fatalf("ContainerStats(created, stream %v): %v", stream, err)
		}
		if len(got) != 1 || !got[0].Read.IsZero() {
			t.Errorf("ContainerStats(created, stream %v) = %+v, want one sample with a zero Read", stream, got)
		}
	}

	h.startReady(t, id)
	var got []engine.StatsSample
	if err := h.e.ContainerStats(h.ctx, id, false, func(s engine.StatsSample) { got = append(got, s) }); err != nil {
		t.Fatalf("ContainerStats: %v", err)
	}
	if len(got) != 1 || got[0].Read.IsZero() || got[0].MemoryUsage == 0 || got[0].CPUTotal == 0 || got[0].OnlineCPUs == 0 {
		t.Errorf("ContainerStats = %+v, want one sample with a time, memory and CPU usage and CPUs", got)
	}

	// A stream goes on until the caller's context ends.
	ctx, cancel := context.WithCancel(h.ctx)
	n := 0
	err := h.e.ContainerStats(ctx, id, true, func(s engine.StatsSample) {
		if n++; n == 2 {
			cancel()
		}
	})
	wantErr(t, "ContainerStats stream ended by its context", err, context.Canceled)
	if n != 2 {
		t.Errorf("the stream gave %d samples, want 2", n)
	}

	// It ends by itself when the container stops, with a zero sample.
	errc := make(chan error, 1)
	samples := make(chan engine.StatsSample, 100)
	go func() { errc <- h.e.ContainerStats(h.ctx, id, true, func(s engine.StatsSample) { samples <- s }) }()
	if s := <-samples; s.Read.IsZero() {
		t.Errorf("the first streamed sample %+v has no time", s)
	}
	if err := h.e.StopContainer(h.ctx, id, nil); err != nil {
		t.Fatalf("StopContainer: %v", err)
	}
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("ContainerStats stream of a container that stopped: %v", err)
		}
	case <-h.ctx.Done():
		t.Fatal("the stats stream did not end when the container stopped")
	}
	close(samples)
	var last engine.StatsSample
	for s := range samples {
		last = s
	}
	if !last.Read.IsZero() {
		t.Errorf("the last streamed sample %+v has a time, want the zero sample of a stopped container", last)
	}
}

func testPush(t *testing.T, h *harness) {
	// Nothing listens on port 1.
	ref := "localhost:1/" + h.name("push") + ":1"
	t.Cleanup(func() { h.removeImage(t, ref) })
	if _, err := h.e.BuildImage(h.ctx, DockerfileContext(t, "FROM "+h.image+"\n"), engine.BuildSpec{Tags: []string{ref}, Labels: h.labels()}, nil); err != nil {
		t.Fatalf("BuildImage(%s): %v", ref, err)
	}
	var lines []engine.ProgressLine
	err := h.e.PushImage(h.ctx, ref, func(l engine.ProgressLine) { lines = append(lines, l) })
	if err == nil {
		t.Fatalf("PushImage to an unreachable registry succeeded; progress: %+v", lines)
	}
	if errors.Is(err, engine.ErrNotFound) || !slices.ContainsFunc(lines, func(l engine.ProgressLine) bool { return l.Error != "" }) {
		t.Errorf("PushImage to an unreachable registry: %v, progress %+v; want an error that is not ErrNotFound, reported in the progress too", err, lines)
	}

	err = h.e.PushImage(h.ctx, "localhost:1/"+h.name("missing")+":1", nil)
	wantErr(t, "PushImage of a missing image", err, engine.ErrNotFound)
	if err != nil && !strings.Contains(err.Error(), h.name("missing")) {
		t.Errorf("PushImage of a missing image: %v, want the image named", err)
	}
}
