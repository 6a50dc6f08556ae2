package orchestrator

import (
	"testing"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/labels"
)

// The expected hashes were printed by docker compose v2.29.7
// (`docker compose config --hash '*'`) for this same file: a container
// made by either tool must look up to date to the other.
func TestServiceHashMatchesDockerComposeV2(t *testing.T) {
	t.Parallel()
	p := loadYAML(t, "t1", `
services:
  db:
    image: composer-test/app:latest
    command: ["healthy-after", "1s"]
    healthcheck:
      test: ["CMD", "/app", "check", "/tmp/healthy"]
      interval: 500ms
  init:
    image: composer-test/app:latest
    command: ["exit", "0", "500ms"]
    depends_on:
      db: {condition: service_healthy}
  web:
    image: composer-test/app:latest
    command: ["serve", "8080", "hello2"]
    ports: ["18080:8080"]
    depends_on:
      init: {condition: service_completed_successfully}
    volumes: [data:/data, /anon]
volumes:
  data:
`)
	want := map[string]string{
		"db":   "894c9f0e22c78fd0c2ac7020aee49c17c49e90305f9cc9ab1af560cd2e956864",
		"init": "69e3f8b6961e10dfcbaa2f9c5f12e00f9556ab579a7c4f78865ceee9c4375d4e",
		"web":  "af8615c40411dd2d33b9c64e233da8b9b1996eab596feee63f21cd8b84210960",
	}
	for name, h := range want {
		got, err := ServiceHash(p.Services[name])
		if err != nil {
			t.Fatal(err)
		}
		if got != h {
			t.Errorf("%s: hash %s, docker compose v2 writes %s", name, got, h)
		}
	}
}

func TestContainerWithNewerComposeHashIsUpToDate(t *testing.T) {
	t.Parallel()
	p := loadYAML(t, "p", `
services:
  db:
    image: img
    healthcheck:
      test: ["CMD", "true"]
`)
	hashes, err := serviceHashes(p.Services["db"])
	if err != nil {
		t.Fatal(err)
	}
	if hashes[0] == hashes[1] {
		t.Fatalf("a healthcheck should order keys differently in the two forms")
	}
	for i, h := range hashes {
		c := engine.Container{Name: "p-db-1", State: engine.StateExited, Labels: map[string]string{labels.ConfigHash: h}}
		if kind, reason := decide(c, hashes[0], hashes[1], "", RecreateDiverged); kind != ActStart {
			t.Errorf("hash form %d: %s (%s), want start (up to date)", i, kind, reason)
		}
	}
}
