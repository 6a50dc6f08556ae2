package e2e

import (
	"strings"
	"testing"
	"time"
)

func TestDefaultNetworkOnlyWhenUsed(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  a:
    image: IMAGE
    networks: [front]
  b:
    image: IMAGE
    network_mode: none
networks:
  front: {}
  unused: {}
`)
	p.Up()
	if NetworkExists(p.Name + "_default") {
		t.Errorf("%s_default was created though no service uses it", p.Name)
	}
	if !NetworkExists(p.Name + "_front") {
		t.Errorf("%s_front was not created", p.Name)
	}
	a := InspectContainer(t, p.ContainerName("a", 1))
	if _, ok := a.NetworkSettings.Networks[p.Name+"_front"]; !ok || len(a.NetworkSettings.Networks) != 1 {
		t.Errorf("a networks = %v, want only %s_front", keys(a.NetworkSettings.Networks), p.Name)
	}
	b := InspectContainer(t, p.ContainerName("b", 1))
	if b.HostConfig.NetworkMode != "none" {
		t.Errorf("b network mode = %q, want none", b.HostConfig.NetworkMode)
	}
}

func TestServicesResolveEachOtherByNameAndAlias(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  server:
    image: IMAGE
    command: ["serve", "8080", "hello from server"]
    networks:
      back:
        aliases: [api.internal, api]
  client:
    image: IMAGE
    networks: [back]
  waiter:
    image: IMAGE
    command: ["tcp-wait", "api.internal:8080", "30s"]
    networks: [back]
  plain:
    image: IMAGE
networks:
  back: {}
`)
	p.Up()
	client := p.ContainerName("client", 1)
	for _, host := range []string{"server", "api", "api.internal", p.ContainerName("server", 1)} {
		var out string
		Eventually(t, 20*time.Second, func() bool {
			var ok bool
			out, ok = Exec(client, "http-get", "http://"+host+":8080/")
			return ok
		}, "client reaching "+host)
		if out != "hello from server" {
			t.Errorf("GET http://%s:8080/ = %q", host, out)
		}
	}
	Eventually(t, 30*time.Second, func() bool {
		w := InspectContainer(t, p.ContainerName("waiter", 1))
		return w.State.Status == "exited"
	}, "waiter to exit")
	if w := InspectContainer(t, p.ContainerName("waiter", 1)); w.State.ExitCode != 0 {
		t.Errorf("waiter exited %d, want 0 (alias not resolvable)", w.State.ExitCode)
	}
	// plain is on the default network only, so it cannot see server.
	if _, ok := Exec(p.ContainerName("plain", 1), "tcp-wait", "server:8080", "1s"); ok {
		t.Errorf("plain reached server across networks")
	}
}

func TestExternalNetworkIsUsedAndNeverRemoved(t *testing.T) {
	t.Parallel()
	ext := "e2e-ext-" + randomSuffix()
	Docker(t, "network", "create", ext)
	t.Cleanup(func() { _, _ = docker("network", "rm", ext) })
	p := NewProject(t, `
services:
  app:
    image: IMAGE
    networks: [outside]
networks:
  outside:
    name: EXT
    external: true
`)
	p.WriteFile("compose.yaml", strings.ReplaceAll(readFile(t, p.Dir+"/compose.yaml"), "EXT", ext))
	p.Up()
	app := InspectContainer(t, p.ContainerName("app", 1))
	if _, ok := app.NetworkSettings.Networks[ext]; !ok {
		t.Errorf("app networks = %v, want %s", keys(app.NetworkSettings.Networks), ext)
	}
	p.Compose("down", "-v", "--remove-orphans").Success(t)
	if !NetworkExists(ext) {
		t.Fatalf("down removed the external network %s", ext)
	}
	if ContainerExists(p.ContainerName("app", 1)) {
		t.Errorf("down left the container")
	}
}

func TestMissingExternalNetworkIsAnError(t *testing.T) {
	t.Parallel()
	ext := "e2e-missing-" + randomSuffix()
	p := NewProject(t, `
services:
  app:
    image: IMAGE
    networks: [outside]
networks:
  outside:
    name: EXT
    external: true
`)
	p.WriteFile("compose.yaml", strings.ReplaceAll(readFile(t, p.Dir+"/compose.yaml"), "EXT", ext))
	r := p.Compose("up", "-d")
	if r.ExitCode == 0 {
		t.Fatalf("up succeeded without the external network:\n%s", r)
	}
	r.Mentions(t, ext)
	if NetworkExists(ext) {
		t.Errorf("up created the external network %s", ext)
		_, _ = docker("network", "rm", ext)
	}
	for _, c := range ProjectContainers(t, p.Name) {
		if c.State.Running {
			t.Errorf("%s is running", c.Name)
		}
	}
}

func keys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return sortedCopy(ks)
}
