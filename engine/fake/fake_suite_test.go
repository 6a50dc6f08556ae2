package fake_test

import (
	"testing"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/engine/enginetest"
	"github.com/composer-orchestrator/composer/engine/fake"
)

// TestSuite runs the engine behaviour suite against the fake. Without a
// scripted behaviour the fake interprets a container's Cmd the way the
// suite's image contract says, so only the image has to exist.
func TestSuite(t *testing.T) {
	t.Parallel()
	const image = "enginetest:latest"
	enginetest.Run(t, func(t *testing.T) engine.Engine {
		e := fake.New()
		e.AddImage(image)
		return e
	}, image)
}
