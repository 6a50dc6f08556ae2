package orchestrator

import (
	"context"
	"io"
	"sync"
	"testing"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/engine/fake"
)

// buildLog records the specs of the builds that pass through it.
type buildLog struct {
	engine.Engine
	// mu guards specs: services build concurrently.
	mu    sync.Mutex
	specs []engine.BuildSpec
}

func (b *buildLog) BuildImage(ctx context.Context, r io.Reader, spec engine.BuildSpec, progress func(engine.ProgressLine)) (string, error) {
	b.mu.Lock()
	b.specs = append(b.specs, spec)
	b.mu.Unlock()
	return b.Engine.BuildImage(ctx, r, spec, progress)
}

// --build-arg KEY=VALUE and a bare KEY from the environment override the
// file's args; a bare KEY the environment lacks leaves the file's value.
func TestBuildArgs(t *testing.T) {
	t.Parallel()
	p := loadYAML(t, "proj", `
services:
  app:
    build:
      context: .
      args: {FROM_FILE: file, KEPT: file, MISSING: file}
`)
	rec := &buildLog{Engine: fake.New()}
	o := New(rec, nil)
	environ := func(k string) (string, bool) {
		if k == "KEPT" {
			return "env", true
		}
		return "", false
	}
	err := o.Build(testCtx(t), p, nil, BuildOptions{Args: []string{"FROM_FILE=flag", "KEPT", "MISSING", "NEW=x"}, Environ: environ})
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.specs) != 1 {
		t.Fatalf("%d builds, want 1", len(rec.specs))
	}
	got := map[string]string{}
	for k, v := range rec.specs[0].Args {
		if v != nil {
			got[k] = *v
		}
	}
	want := map[string]string{"FROM_FILE": "flag", "KEPT": "env", "MISSING": "file", "NEW": "x"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("build arg %s = %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
}
