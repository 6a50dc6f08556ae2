package e2e

import (
	"testing"
	"time"
)

func TestExtendsAnchorsAndInclude(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
include:
  - inc/included.yaml
x-common: &common
  image: IMAGE
  environment:
    COMMON: "yes"
services:
  base:
    <<: *common
  child:
    extends:
      service: base
    environment:
      CHILD: "yes"
`)
	p.WriteFile("inc/included.yaml", `
services:
  included:
    image: IMAGE
`)
	p.Up()
	child := InspectContainer(t, p.ContainerName("child", 1))
	if !child.HasEnv("COMMON=yes") || !child.HasEnv("CHILD=yes") {
		t.Errorf("child env = %v", child.Config.Env)
	}
	if !InspectContainer(t, p.ContainerName("base", 1)).HasEnv("COMMON=yes") {
		t.Errorf("merge key did not apply to base")
	}
	if !ContainerExists(p.ContainerName("included", 1)) {
		t.Errorf("included service was not created")
	}
}

func TestNetworkModeServiceSharesTheNetworkStack(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  sidecar:
    image: IMAGE
    network_mode: service:server
  server:
    image: IMAGE
    command: ["serve", "9090", "shared"]
`)
	p.Up()
	server := InspectContainer(t, p.ContainerName("server", 1))
	sidecar := InspectContainer(t, p.ContainerName("sidecar", 1))
	if sidecar.HostConfig.NetworkMode != "container:"+server.ID {
		t.Errorf("sidecar network mode = %q, want container:%s", sidecar.HostConfig.NetworkMode, server.ID)
	}
	if sidecar.State.StartedAt.Before(server.State.StartedAt) {
		t.Errorf("sidecar started before server")
	}
	var out string
	Eventually(t, 20*time.Second, func() bool {
		var ok bool
		out, ok = Exec(sidecar.Name, "http-get", "http://localhost:9090/")
		return ok
	}, "sidecar reaching server on localhost")
	if out != "shared" {
		t.Errorf("GET localhost:9090 from sidecar = %q", out)
	}
}
