package swarm

import (
	"context"
	"testing"
	"time"

	"github.com/composer-orchestrator/composer/engine/docker"
	"github.com/composer-orchestrator/composer/engine/enginetest"
)

// TestAdapter runs the swarm behaviour suite against the Docker adapter,
// on the engine's swarm. The suite's image is built here: the swarm's one
// node runs it by its reference, and no registry is asked.
func TestAdapter(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	e, err := docker.New(ctx, "")
	if err != nil {
		t.Fatalf("connecting to the Docker engine: %v", err)
	}
	t.Cleanup(func() { _ = e.Close() })

	// One tag for every run: the package runs alone, and a run cut short
	// before its cleanup leaves one image behind, which the next replaces.
	const image = "composer-enginetest:swarm"
	enginetest.BuildImage(ctx, t, e, image)

	enginetest.RunSwarm(t, func(*testing.T) enginetest.SwarmUnderTest { return e }, image)
}
