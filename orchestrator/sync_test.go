package orchestrator

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/engine/fake"
)

// Sync copies new and changed files into every running container of the
// service and deletes the deleted ones; an image without rm (exec fails
// with 127, as a FROM scratch image does) has the deleted paths' directory
// rewritten without them, keeping what the container holds besides.
func TestSyncCopiesAndDeletes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		noRm   bool
		delete bool // whether the fake's files show the deletion
	}{
		{name: "without rm: rewrite", noRm: true, delete: true},
		{name: "with rm", noRm: false, delete: false}, // the fake's exec runs nothing
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			eng, o, _ := newFake("app")
			if tc.noRm {
				eng.SetBehaviour(func(engine.ContainerSpec) bool { return true }, fake.Behaviour{ExecExitCode: 127})
			}
			p := loadYAML(t, "sy", "services:\n  web:\n    image: app\n    scale: 2\n")
			mustUp(t, o, p, UpOptions{})
			for _, c := range []string{"sy-web-1", "sy-web-2"} {
				for _, f := range []string{"/app/keep", "/app/gone", "/app/sub/x", "/app/made-by-the-app"} {
					if err := eng.WriteFile(c, f, []byte("old")); err != nil {
						t.Fatal(err)
					}
				}
			}
			dir := t.TempDir()
			host := filepath.Join(dir, "new.txt")
			if err := os.WriteFile(host, []byte("new"), 0o644); err != nil {
				t.Fatal(err)
			}
			err := o.Sync(testCtx(t), "sy", "web", []SyncFile{
				{HostPath: host, ContainerPath: "/app/new.txt"},
				{HostPath: filepath.Join(dir, "gone"), ContainerPath: "/app/gone", Deleted: true},
				{HostPath: filepath.Join(dir, "sub"), ContainerPath: "/app/sub", Deleted: true},
				// Removed on the host after the change was seen: a deletion.
				{HostPath: filepath.Join(dir, "vanished"), ContainerPath: "/app/keep2"},
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []string{"sy-web-1", "sy-web-2"} {
				if b, err := eng.ReadFile(c, "/app/new.txt"); err != nil || string(b) != "new" {
					t.Errorf("%s: new.txt = %q, %v", c, b, err)
				}
				for _, kept := range []string{"/app/keep", "/app/made-by-the-app"} {
					if b, err := eng.ReadFile(c, kept); err != nil || string(b) != "old" {
						t.Errorf("%s: %s = %q, %v; want it kept", c, kept, b, err)
					}
				}
				for _, gone := range []string{"/app/gone", "/app/sub/x"} {
					_, err := eng.ReadFile(c, gone)
					if tc.delete && !errors.Is(err, engine.ErrNotFound) {
						t.Errorf("%s: %s still there (%v)", c, gone, err)
					}
				}
			}
		})
	}
}

// A sync to a service with no running container says so.
func TestSyncNoContainer(t *testing.T) {
	t.Parallel()
	_, o, _ := newFake("app")
	err := o.Sync(testCtx(t), "none", "web", []SyncFile{{HostPath: "/x", ContainerPath: "/x"}})
	if !errors.Is(err, ErrNoContainers) {
		t.Fatalf("want ErrNoContainers, got %v", err)
	}
}

// The rewrite refuses a directory that holds a mount: removing it whole
// would reach into the volume.
func TestDeleteByRewriteRefusesMounts(t *testing.T) {
	t.Parallel()
	eng, o, _ := newFake("app")
	eng.SetBehaviour(func(engine.ContainerSpec) bool { return true }, fake.Behaviour{ExecExitCode: 127})
	p := loadYAML(t, "mt", "services:\n  web:\n    image: app\n    volumes: [data:/app/data]\nvolumes:\n  data: {}\n")
	mustUp(t, o, p, UpOptions{})
	err := o.Sync(testCtx(t), "mt", "web", []SyncFile{{HostPath: "/nope", ContainerPath: "/app/x", Deleted: true}})
	if err == nil || !strings.Contains(err.Error(), "holds the mount /app/data") {
		t.Fatalf("want a refusal naming the mount, got %v", err)
	}
}
