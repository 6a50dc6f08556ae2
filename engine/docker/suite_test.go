package docker_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/engine/docker"
	"github.com/composer-orchestrator/composer/engine/enginetest"
)

// TestSuite runs the engine behaviour suite against the Docker engine the
// environment names. An unreachable engine fails the test: skipping would
// let the fake drift from the real engine unnoticed. Nothing is pulled;
// the suite's image is built from scratch with the adapter's BuildImage.
func TestSuite(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	e, err := docker.New(ctx, "")
	if err != nil {
		t.Fatalf("connecting to the Docker engine: %v", err)
	}
	t.Cleanup(func() { _ = e.Close() })

	b := make([]byte, 4)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	image := "composer-enginetest:" + hex.EncodeToString(b)
	enginetest.BuildImage(ctx, t, e, image)

	enginetest.Run(t, func(*testing.T) engine.Engine { return e }, image)
	enginetest.RunTransfer(t, func(*testing.T) engine.Engine { return e }, image)
}
