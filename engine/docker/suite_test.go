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
	if _, err := e.BuildImage(ctx, enginetest.ImageContext(t), engine.BuildSpec{Tags: []string{image}}, nil); err != nil {
		t.Fatalf("building the suite's image: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := e.RemoveImage(ctx, image, true); err != nil {
			t.Errorf("removing the suite's image: %v", err)
		}
	})

	enginetest.Run(t, func(*testing.T) engine.Engine { return e }, image)
}
