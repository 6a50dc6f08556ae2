package orchestrator

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/engine/fake"
)

// oneFile is a tar archive holding name with content.
func oneFile(t *testing.T, name, content string) *bytes.Reader {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write([]byte(content)); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(buf.Bytes())
}

// transferEngine is a fake with a running container "web" of image web:1
// holding /app/conf.txt.
func transferEngine(t *testing.T) *fake.Engine {
	t.Helper()
	eng := fake.New()
	eng.AddImage("web:1")
	ctx := testCtx(t)
	id, err := eng.CreateContainer(ctx, engine.ContainerSpec{Name: "web", Image: "web:1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := eng.WriteFile("web", "/app/conf.txt", []byte("conf")); err != nil {
		t.Fatal(err)
	}
	return eng
}

// closingReader records whether it was read to its end and closed.
type closingReader struct {
	*bytes.Reader
	closed bool
}

func (c *closingReader) Close() error { c.closed = true; return nil }

func TestDryRunTransferReads(t *testing.T) {
	t.Parallel()
	eng := transferEngine(t)
	d := newDryRunEngine(eng)
	ctx := testCtx(t)

	// A container of the engine's is read from the engine.
	if st, err := d.StatPath(ctx, "web", "/app/conf.txt"); err != nil || st.Size != 4 {
		t.Errorf("StatPath = %+v, %v; want the engine's file", st, err)
	}
	rc, _, err := d.CopyFromContainer(ctx, "web", "/app")
	if err != nil {
		t.Fatalf("CopyFromContainer: %v", err)
	}
	_ = rc.Close()
	var samples []engine.StatsSample
	if err := d.ContainerStats(ctx, "web", false, func(s engine.StatsSample) { samples = append(samples, s) }); err != nil || len(samples) != 1 || samples[0].Read.IsZero() {
		t.Errorf("ContainerStats = %+v, %v; want the engine's reading", samples, err)
	}

	// A container the run made has no files and uses nothing.
	made, err := d.CreateContainer(ctx, engine.ContainerSpec{Name: "made", Image: "web:1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.StartContainer(ctx, made); err != nil {
		t.Fatal(err)
	}
	_, err = d.StatPath(ctx, "made", "/")
	wantIs(t, "StatPath in a made container", err, engine.ErrNotFound)
	_, _, err = d.CopyFromContainer(ctx, made, "/app")
	wantIs(t, "CopyFromContainer of a made container", err, engine.ErrNotFound)
	rc, err = d.ExportContainer(ctx, made)
	if err != nil {
		t.Fatalf("ExportContainer of a made container: %v", err)
	}
	if _, err := tar.NewReader(rc).Next(); !errors.Is(err, io.EOF) {
		t.Errorf("the export of a made container has an entry (%v), want none", err)
	}
	samples = nil
	if err := d.ContainerStats(ctx, made, true, func(s engine.StatsSample) { samples = append(samples, s) }); err != nil || len(samples) != 1 || !samples[0].Read.IsZero() {
		t.Errorf("ContainerStats of a made container = %+v, %v; want one zero sample", samples, err)
	}

	// A container the run stopped uses nothing; one it removed is gone.
	if err := d.StopContainer(ctx, "web", nil); err != nil {
		t.Fatal(err)
	}
	samples = nil
	if err := d.ContainerStats(ctx, "web", true, func(s engine.StatsSample) { samples = append(samples, s) }); err != nil || len(samples) != 1 || !samples[0].Read.IsZero() {
		t.Errorf("ContainerStats of a stopped container = %+v, %v; want one zero sample", samples, err)
	}
	if err := d.RemoveContainer(ctx, "web", engine.RemoveOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err = d.StatPath(ctx, "web", "/app")
	wantIs(t, "StatPath in a removed container", err, engine.ErrNotFound)
	_, err = d.ExportContainer(ctx, "web")
	wantIs(t, "ExportContainer of a removed container", err, engine.ErrNotFound)
	err = d.ContainerStats(ctx, "web", false, func(engine.StatsSample) {})
	wantIs(t, "ContainerStats of a removed container", err, engine.ErrNotFound)
}

func TestDryRunTransferChangesNothing(t *testing.T) {
	t.Parallel()
	eng := transferEngine(t)
	d := newDryRunEngine(eng)
	ctx := testCtx(t)
	eng.ResetCalls()

	content := &closingReader{Reader: oneFile(t, "new.txt", "new")}
	if err := d.CopyToContainer(ctx, "web", "/app", content, engine.CopyOptions{}); err != nil {
		t.Errorf("CopyToContainer: %v", err)
	}
	if content.Len() != 0 || !content.closed {
		t.Errorf("CopyToContainer left its content unread (%d bytes) or open (%v)", content.Len(), content.closed)
	}
	if _, err := eng.ReadFile("web", "/app/new.txt"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("a dry run's copy wrote to the engine: %v", err)
	}
	err := d.CopyToContainer(ctx, "web", "/missing", oneFile(t, "x", "x"), engine.CopyOptions{})
	wantIs(t, "CopyToContainer into a missing directory", err, engine.ErrNotFound)
	if err := d.CopyToContainer(ctx, "web", "/app/conf.txt", oneFile(t, "x", "x"), engine.CopyOptions{}); err == nil {
		t.Error("CopyToContainer into a file succeeded")
	}
	err = d.CopyToContainer(ctx, "ghost", "/", oneFile(t, "x", "x"), engine.CopyOptions{})
	wantIs(t, "CopyToContainer into a missing container", err, engine.ErrNotFound)

	id, err := d.CommitContainer(ctx, "web", engine.CommitOptions{Reference: "snap:1"})
	if err != nil {
		t.Fatalf("CommitContainer: %v", err)
	}
	if img, err := d.InspectImage(ctx, "snap:1"); err != nil || img.ID != id || !slices.Contains(img.RepoTags, "snap:1") {
		t.Errorf("the dry run's InspectImage(snap:1) = %+v, %v; want the pretended image", img, err)
	}
	if _, err := eng.InspectImage(ctx, "snap:1"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("a dry run's commit made an image in the engine: %v", err)
	}
	if err := d.PushImage(ctx, "snap:1", nil); err != nil {
		t.Errorf("PushImage of the pretended image: %v", err)
	}
	err = d.PushImage(ctx, "missing:1", nil)
	wantIs(t, "PushImage of a missing image", err, engine.ErrNotFound)

	for method, n := range eng.CallCounts() {
		if n > 0 && slices.Contains([]string{"CopyToContainer", "CommitContainer", "PushImage"}, method) {
			t.Errorf("a dry run called %s %d times", method, n)
		}
	}
}

func TestShieldFinishesTransferChanges(t *testing.T) {
	t.Parallel()
	eng := transferEngine(t)
	eng.SetLatency("CopyToContainer", 50*time.Millisecond)
	eng.SetLatency("CommitContainer", 50*time.Millisecond)
	s := &shieldedEngine{Engine: eng, abandon: context.Background()}

	// Sent, a change runs to its end though its caller gives up.
	givingUp := func() context.Context {
		ctx, cancel := context.WithTimeout(testCtx(t), 5*time.Millisecond)
		t.Cleanup(cancel)
		return ctx
	}
	if err := s.CopyToContainer(givingUp(), "web", "/", oneFile(t, "a.txt", "a"), engine.CopyOptions{}); err != nil {
		t.Errorf("shielded CopyToContainer: %v", err)
	}
	if _, err := s.CommitContainer(givingUp(), "web", engine.CommitOptions{Reference: "snap:1"}); err != nil {
		t.Errorf("shielded CommitContainer: %v", err)
	}
	// Not yet sent, it is not sent.
	done, stop := context.WithCancel(testCtx(t))
	stop()
	if err := s.CopyToContainer(done, "web", "/", oneFile(t, "b.txt", "b"), engine.CopyOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("CopyToContainer after the cancel = %v, want it refused", err)
	}
	// Reads and pushes are cancelled at once.
	if err := s.PushImage(done, "web:1", nil); !errors.Is(err, context.Canceled) {
		t.Errorf("PushImage after the cancel = %v, want it cancelled", err)
	}
	if _, err := eng.ReadFile("web", "/a.txt"); err != nil {
		t.Errorf("the shielded copy did not finish: %v", err)
	}
	if _, err := eng.InspectImage(testCtx(t), "snap:1"); err != nil {
		t.Errorf("the shielded commit did not finish: %v", err)
	}
	if n := eng.Calls("CopyToContainer"); n != 1 {
		t.Errorf("the engine got %d copies, want 1", n)
	}
}

func TestLimitLeavesStatsStreamsUnbounded(t *testing.T) {
	t.Parallel()
	eng := transferEngine(t)
	l := newLimitedEngine(eng, 1)
	l.slots <- struct{}{} // every slot taken
	ctx := testCtx(t)
	if err := eng.StopContainer(ctx, "web", nil); err != nil {
		t.Fatal(err)
	}
	// A stream waits rather than works: it takes no slot.
	if err := l.ContainerStats(ctx, "web", true, func(engine.StatsSample) {}); err != nil {
		t.Errorf("streamed ContainerStats with no slot free: %v", err)
	}
	// A one-shot reading is work, and waits for a slot.
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := l.ContainerStats(short, "web", false, func(engine.StatsSample) {}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("one-shot ContainerStats with no slot free = %v, want it to wait", err)
	}
}

func wantIs(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: got %v, want %v", what, err, want)
	}
}
