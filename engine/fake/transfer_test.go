package fake_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/engine/enginetest"
	"github.com/composer-orchestrator/composer/engine/fake"
)

// TestTransferSuite runs the transfer part of the behaviour suite against
// the fake, with stats streams sampling faster than the engine's second.
func TestTransferSuite(t *testing.T) {
	t.Parallel()
	const image = "enginetest:latest"
	enginetest.RunTransfer(t, func(t *testing.T) engine.Engine {
		e := fake.New()
		if _, err := e.BuildImage(t.Context(), enginetest.DockerfileContext(t, enginetest.Dockerfile), engine.BuildSpec{Tags: []string{image}}, nil); err != nil {
			t.Fatalf("building the suite's image: %v", err)
		}
		e.SetStatsInterval(10 * time.Millisecond)
		return e
	}, image)
}

// tarOf makes an archive of files, name to content; a name ending in "/"
// is a directory.
func tarOf(t *testing.T, files ...string) io.Reader {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i := 0; i+1 < len(files); i += 2 {
		hdr := &tar.Header{Name: files[i], Mode: 0o644, Size: int64(len(files[i+1])), Typeflag: tar.TypeReg}
		if strings.HasSuffix(files[i], "/") {
			hdr.Typeflag, hdr.Mode, hdr.Size = tar.TypeDir, 0o755, 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(files[i+1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf
}

func TestReadWriteFile(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	id := mustCreate(t, e, engine.ContainerSpec{Name: "web"})
	e.ResetCalls()

	if err := e.WriteFile("web", "/app/conf/a.txt", []byte("one")); err != nil {
		t.Fatalf("WriteFile: %v", err)
	}
	if got, err := e.ReadFile(id, "/app/conf/a.txt"); err != nil || string(got) != "one" {
		t.Errorf("ReadFile = %q, %v; want what was written", got, err)
	}
	// What a test writes, the engine's calls see.
	st, err := e.StatPath(t.Context(), "web", "/app/conf")
	if err != nil || !st.Mode.IsDir() {
		t.Errorf("StatPath(made parent) = %+v, %v; want a directory", st, err)
	}
	if err := e.CopyToContainer(t.Context(), "web", "/app", tarOf(t, "conf/b.txt", "two"), engine.CopyOptions{}); err != nil {
		t.Fatalf("CopyToContainer: %v", err)
	}
	if got, err := e.ReadFile("web", "app/conf/b.txt"); err != nil || string(got) != "two" {
		t.Errorf("ReadFile(copied) = %q, %v; want the copied content", got, err)
	}

	if _, err := e.ReadFile("web", "/nope"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("ReadFile(missing) = %v, want ErrNotFound", err)
	}
	if _, err := e.ReadFile("web", "/app"); err == nil {
		t.Error("ReadFile(directory) succeeded")
	}
	if _, err := e.ReadFile("ghost", "/x"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("ReadFile(missing container) = %v, want ErrNotFound", err)
	}
	if err := e.WriteFile("web", "/app/conf/a.txt/x", nil); err == nil {
		t.Error("WriteFile under a file succeeded")
	}
	if n := e.Calls("StatPath") + e.Calls("CopyToContainer"); n != 2 {
		t.Errorf("the engine counted %d calls, want the 2 the test made (helpers are not calls)", n)
	}
}

func TestCopyFollowsLinks(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	mustCreate(t, e, engine.ContainerSpec{Name: "web"})
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range []*tar.Header{
		{Name: "data/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "current", Typeflag: tar.TypeSymlink, Linkname: "data"},
		{Name: "up", Typeflag: tar.TypeSymlink, Linkname: "../../.."},
	} {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.CopyToContainer(t.Context(), "web", "/", &buf, engine.CopyOptions{}); err != nil {
		t.Fatal(err)
	}
	// A destination through a link lands where the link leads.
	if err := e.CopyToContainer(t.Context(), "web", "/current", tarOf(t, "x.txt", "x"), engine.CopyOptions{}); err != nil {
		t.Fatalf("CopyToContainer through a link: %v", err)
	}
	if got, err := e.ReadFile("web", "/data/x.txt"); err != nil || string(got) != "x" {
		t.Errorf("ReadFile = %q, %v; want the file copied through the link", got, err)
	}
	// A link cannot lead out of the container: "../../.." from / is /.
	st, err := e.StatPath(t.Context(), "web", "/up")
	if err != nil || st.LinkTarget != "/" {
		t.Errorf("StatPath(/up) = %+v, %v; want a link to /", st, err)
	}
	// A trailing slash follows the link and wants a directory.
	if st, err := e.StatPath(t.Context(), "web", "/current/"); err != nil || !st.Mode.IsDir() || st.Name != "current" {
		t.Errorf("StatPath(/current/) = %+v, %v; want the directory", st, err)
	}
	if _, err := e.StatPath(t.Context(), "web", "/data/x.txt/"); err == nil || errors.Is(err, engine.ErrNotFound) {
		t.Errorf("StatPath(file/) = %v, want a not-a-directory error", err)
	}
}

func TestCopyToContainerRules(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	mustCreate(t, e, engine.ContainerSpec{Name: "web"})
	mustCreate(t, e, engine.ContainerSpec{Name: "ro", ReadOnly: true})
	mustCreate(t, e, engine.ContainerSpec{Name: "user", User: "1000:2000"})
	mustCreate(t, e, engine.ContainerSpec{Name: "named", User: "app"})

	if err := e.CopyToContainer(t.Context(), "ro", "/", tarOf(t, "a", "a"), engine.CopyOptions{}); err == nil {
		t.Error("CopyToContainer into a read-only container succeeded")
	}
	// Escaping names are clamped to the container's root.
	if err := e.CopyToContainer(t.Context(), "web", "/", tarOf(t, "../../esc.txt", "e"), engine.CopyOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ReadFile("web", "/esc.txt"); err != nil {
		t.Errorf("ReadFile(/esc.txt): %v, want the clamped file", err)
	}
	// Owners: the archive's, or the container's user with CopyUIDGID.
	owner := func(name string, opts engine.CopyOptions) (int, error) {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		_ = tw.WriteHeader(&tar.Header{Name: "o.txt", Typeflag: tar.TypeReg, Mode: 0o644, Uid: 7, Gid: 8})
		_ = tw.Close()
		if err := e.CopyToContainer(t.Context(), name, "/", &buf, opts); err != nil {
			return 0, err
		}
		rc, _, err := e.CopyFromContainer(t.Context(), name, "/o.txt")
		if err != nil {
			return 0, err
		}
		defer rc.Close()
		hdr, err := tar.NewReader(rc).Next()
		if err != nil {
			return 0, err
		}
		return hdr.Uid*10000 + hdr.Gid, nil
	}
	for _, tc := range []struct {
		name string
		opts engine.CopyOptions
		want int
	}{
		{"web", engine.CopyOptions{}, 70008},
		{"web", engine.CopyOptions{CopyUIDGID: true}, 70008}, // no USER: the archive's
		{"user", engine.CopyOptions{}, 70008},
		{"user", engine.CopyOptions{CopyUIDGID: true}, 10002000},
	} {
		if got, err := owner(tc.name, tc.opts); err != nil || got != tc.want {
			t.Errorf("owner in %s with %+v = %d, %v; want %d", tc.name, tc.opts, got, err, tc.want)
		}
	}
	if _, err := owner("named", engine.CopyOptions{CopyUIDGID: true}); err == nil {
		t.Error("CopyUIDGID with a user name succeeded, want the lookup error")
	}

	// A broken archive fails the copy.
	if err := e.CopyToContainer(t.Context(), "web", "/", strings.NewReader("not a tar archive, not at all, no"), engine.CopyOptions{}); err == nil {
		t.Error("CopyToContainer of garbage succeeded")
	}
}

// closeRecorder is a reader that records being closed.
type closeRecorder struct {
	io.Reader
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

func TestCopyToContainerClosesContent(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	mustCreate(t, e, engine.ContainerSpec{Name: "web"})
	for _, target := range []string{"web", "ghost"} {
		r := &closeRecorder{Reader: tarOf(t, "a", "a")}
		_ = e.CopyToContainer(t.Context(), target, "/", r, engine.CopyOptions{})
		if !r.closed {
			t.Errorf("CopyToContainer(%s) left its content open", target)
		}
	}
}

func TestTransferFaultsAndCalls(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	mustCreate(t, e, engine.ContainerSpec{Name: "web"})
	boom := errors.New("boom")
	e.FailOnce("CopyToContainer", "web", boom)
	if err := e.CopyToContainer(t.Context(), "web", "/", tarOf(t, "a", "a"), engine.CopyOptions{}); !errors.Is(err, boom) {
		t.Errorf("CopyToContainer with a fault = %v, want it", err)
	}
	if _, err := e.ReadFile("web", "/a"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("a failed copy wrote: ReadFile = %v", err)
	}
	if err := e.CopyToContainer(t.Context(), "web", "/", tarOf(t, "a", "a"), engine.CopyOptions{}); err != nil {
		t.Errorf("CopyToContainer after a FailOnce: %v", err)
	}
	e.Fail("CommitContainer", "", boom)
	if _, err := e.CommitContainer(t.Context(), "web", engine.CommitOptions{Reference: "x:1"}); !errors.Is(err, boom) {
		t.Errorf("CommitContainer with a fault = %v, want it", err)
	}
	if _, err := e.InspectImage(t.Context(), "x:1"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("a failed commit made an image: %v", err)
	}
	if n := e.Calls("CopyToContainer"); n != 2 {
		t.Errorf("Calls(CopyToContainer) = %d, want 2", n)
	}
}

func TestTransferLatency(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	mustCreate(t, e, engine.ContainerSpec{Name: "web"})
	e.SetLatency("CopyToContainer", 50*time.Millisecond)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	// A call made with a context already done does nothing at all.
	if err := e.CopyToContainer(ctx, "web", "/", tarOf(t, "a", "a"), engine.CopyOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("CopyToContainer with a done context = %v", err)
	}
	// One abandoned on the way still takes effect.
	ctx, cancel = context.WithTimeout(t.Context(), 5*time.Millisecond)
	defer cancel()
	if err := e.CopyToContainer(ctx, "web", "/", tarOf(t, "b", "b"), engine.CopyOptions{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("CopyToContainer abandoned = %v, want the deadline", err)
	}
	if err := e.Quiesce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ReadFile("web", "/a"); err == nil {
		t.Error("the copy made with a done context wrote")
	}
	if got, err := e.ReadFile("web", "/b"); err != nil || string(got) != "b" {
		t.Errorf("the abandoned copy: ReadFile = %q, %v; want it done", got, err)
	}
}

func TestCommitContainer(t *testing.T) {
	t.Parallel()
	e := fake.New()
	e.AddImageWithConfig("base:1", engine.ImageConfig{Entrypoint: []string{"/app"}, Cmd: []string{"serve"}, Volumes: []string{"/data"}, Env: []string{"PATH=/bin"}})
	id := mustCreate(t, e, engine.ContainerSpec{Name: "web", Image: "base:1", Env: []string{"MODE=prod"}, Labels: map[string]string{"a": "b"}})
	if err := e.StartContainer(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	if err := e.WriteFile("web", "/etc/app.conf", []byte("conf")); err != nil {
		t.Fatal(err)
	}

	changes := []string{"ENV LEVEL=$MODE", "LABEL c=d", "WORKDIR /srv", "USER 1000", "EXPOSE 8080", "ENTRYPOINT [\"/other\"]", "ONBUILD RUN x"}
	imgID, err := e.CommitContainer(t.Context(), "web", engine.CommitOptions{Reference: "snap:1", Changes: changes, Pause: true})
	if err != nil {
		t.Fatalf("CommitContainer: %v", err)
	}
	img, err := e.InspectImage(t.Context(), "snap:1")
	if err != nil || img.ID != imgID {
		t.Fatalf("InspectImage = %+v, %v; want the committed image", img, err)
	}
	cfg := img.Config
	switch {
	case !slices.Equal(cfg.Env, []string{"MODE=prod", "PATH=/bin", "LEVEL=prod"}),
		cfg.Labels["a"] != "b" || cfg.Labels["c"] != "d",
		cfg.WorkingDir != "/srv" || cfg.User != "1000",
		!slices.Equal(cfg.ExposedPorts, []string{"8080/tcp"}),
		!slices.Equal(cfg.Entrypoint, []string{"/other"}) || cfg.Cmd != nil, // an entrypoint drops the command
		!slices.Equal(cfg.Volumes, []string{"/data"}):
		t.Errorf("the committed image's config is %+v", cfg)
	}
	var actions []string
	for _, ev := range e.Published() {
		if ev.Type == "container" && ev.ID == id {
			actions = append(actions, ev.Action)
		}
	}
	if want := []string{"create", "start", "pause", "commit", "unpause"}; !slices.Equal(actions, want) {
		t.Errorf("container events = %q, want %q", actions, want)
	}

	// The image's files are the container's at the commit, and stay so.
	if err := e.WriteFile("web", "/etc/app.conf", []byte("changed")); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, e, engine.ContainerSpec{Name: "copy", Image: "snap:1"})
	if got, err := e.ReadFile("copy", "/etc/app.conf"); err != nil || string(got) != "conf" {
		t.Errorf("a container of the committed image reads %q, %v; want the committed content", got, err)
	}

	for _, bad := range []engine.CommitOptions{
		{Changes: []string{"RUN make"}},
		{Changes: []string{"COPY a b"}},
		{Reference: "Upper:1"},
		{Reference: "x@sha256:abc"},
	} {
		if _, err := e.CommitContainer(t.Context(), "web", bad); err == nil {
			t.Errorf("CommitContainer(%+v) succeeded, want an error", bad)
		}
	}
}

func TestContainerStatsStream(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	e.SetStatsInterval(time.Millisecond)
	id := mustCreate(t, e, engine.ContainerSpec{Name: "web", Resources: engine.Resources{Memory: 64 << 20}})
	if err := e.StartContainer(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	var got []engine.StatsSample
	err := e.ContainerStats(t.Context(), "web", true, func(s engine.StatsSample) {
		got = append(got, s)
		if len(got) == 3 {
			// Stopping from the callback: it runs without the engine's lock.
			if err := e.StopContainer(t.Context(), "web", nil); err != nil {
				t.Error(err)
			}
		}
	})
	if err != nil {
		t.Fatalf("ContainerStats: %v", err)
	}
	if len(got) != 4 || !got[3].Read.IsZero() {
		t.Fatalf("ContainerStats gave %d samples (%+v), want 3 and the stopped container's zero one", len(got), got)
	}
	// Deterministic, with each sample's previous CPU reading.
	first, second := got[0], got[1]
	if first.PreCPUTotal != 0 || second.PreCPUTotal != first.CPUTotal || second.PreSystemCPU != first.SystemCPU || second.CPUTotal <= first.CPUTotal {
		t.Errorf("samples %+v then %+v: want the second's previous reading to be the first", first, second)
	}
	if first.MemoryLimit != 64<<20 || first.MemoryUsage == 0 || first.MemoryCache >= first.MemoryUsage {
		t.Errorf("sample %+v: want the container's memory limit and a usage above the cache", first)
	}
}

func TestPushImage(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	e.AddImage("localhost:5000/app:1")
	e.AddImage("docker.io/me/app:2")

	var lines []engine.ProgressLine
	progress := func(l engine.ProgressLine) { lines = append(lines, l) }
	err := e.PushImage(t.Context(), "localhost:5000/app:1", progress)
	if err == nil || errors.Is(err, engine.ErrNotFound) || !strings.Contains(err.Error(), "localhost:5000") {
		t.Errorf("PushImage to a registry not added = %v, want an unreachable registry", err)
	}
	if len(lines) == 0 || lines[len(lines)-1].Error == "" {
		t.Errorf("progress %+v, want the error last", lines)
	}

	e.AddRegistry("localhost:5000")
	e.AddRegistry("docker.io")
	lines = nil
	if err := e.PushImage(t.Context(), "localhost:5000/app:1", progress); err != nil {
		t.Errorf("PushImage: %v", err)
	}
	if len(lines) == 0 || lines[0].Status != "The push refers to repository [localhost:5000/app]" {
		t.Errorf("progress %+v", lines)
	}
	if err := e.PushImage(t.Context(), "me/app:2", nil); err != nil {
		t.Errorf("PushImage to Docker Hub: %v", err)
	}
	if err := e.PushImage(t.Context(), "localhost:5000/app:9", nil); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("PushImage of a missing tag = %v, want ErrNotFound", err)
	}
	if got, want := e.Pushed(), []string{"localhost:5000/app:1", "me/app:2"}; !slices.Equal(got, want) {
		t.Errorf("Pushed = %q, want %q", got, want)
	}
	if n := e.Calls("PushImage"); n != 4 {
		t.Errorf("Calls(PushImage) = %d, want 4", n)
	}
}
