package fake_test

import (
	"testing"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/engine/enginetest"
	"github.com/composer-orchestrator/composer/engine/fake"
)

// TestSuite runs the engine behaviour suite against the fake. Without a
// scripted behaviour the fake interprets a container's Cmd the way the
// suite's image contract says, so only the image has to exist: it is
// built from the suite's Dockerfile, which gives it the same defaults as
// on a real engine (the fake copies no files, so the program is left out).
func TestSuite(t *testing.T) {
	t.Parallel()
	const image = "enginetest:latest"
	enginetest.Run(t, func(t *testing.T) engine.Engine {
		e := fake.New()
		if _, err := e.BuildImage(t.Context(), enginetest.DockerfileContext(t, enginetest.Dockerfile), engine.BuildSpec{Tags: []string{image}}, nil); err != nil {
			t.Fatalf("building the suite's image: %v", err)
		}
		return e
	}, image)
}
