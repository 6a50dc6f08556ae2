package e2e

import (
	"testing"
)

// On an engine that is not a swarm manager, deploy and undeploy refuse
// with a way out, and create nothing.
func TestDeployRefusesAnEngineOutsideASwarm(t *testing.T) {
	if state := Docker(t, "info", "--format", "{{.Swarm.LocalNodeState}}"); state != "inactive" {
		t.Fatalf("this test needs an engine outside any swarm; its swarm state is %q", state)
	}
	p := NewProject(t, `
services:
  web:
    image: IMAGE
    configs: [site]
configs:
  site:
    content: hello
`)
	for _, cmd := range [][]string{{"deploy"}, {"undeploy"}, {"--dry-run", "deploy"}} {
		p.Compose(cmd...).Failure(t, 1).Mentions(t, "docker swarm init", "DOCKER_HOST")
	}
	label := "label=com.docker.stack.namespace=" + p.Name
	if nets := Docker(t, "network", "ls", "-q", "--filter", label); nets != "" {
		t.Errorf("a refused deploy created networks: %s", nets)
	}
	if vols := Docker(t, "volume", "ls", "-q", "--filter", label); vols != "" {
		t.Errorf("a refused deploy created volumes: %s", vols)
	}
}
