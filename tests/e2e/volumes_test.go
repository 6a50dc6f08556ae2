package e2e

import (
	"strings"
	"testing"
)

func TestNamedVolumeSurvivesDownAndGoesWithDownV(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  app:
    image: IMAGE
    volumes:
      - data:/data
volumes:
  data: {}
`)
	p.Up()
	app := p.ContainerName("app", 1)
	if typ, name, _, ok := InspectContainer(t, app).Mount("/data"); !ok || typ != "volume" || name != p.Name+"_data" {
		t.Fatalf("/data mount = %s %s (found %v), want volume %s_data", typ, name, ok, p.Name)
	}
	if _, ok := Exec(app, "write", "/data/f", "persisted"); !ok {
		t.Fatal("writing into the volume failed")
	}

	p.Compose("down").Success(t)
	if !VolumeExists(p.Name + "_data") {
		t.Fatalf("down removed the named volume")
	}
	if ContainerExists(app) || NetworkExists(p.Name+"_default") {
		t.Errorf("down left the container or the default network")
	}

	p.Up()
	if out, ok := Exec(app, "read", "/data/f"); !ok || out != "persisted" {
		t.Errorf("after down and up, /data/f = %q (ok %v), want persisted", out, ok)
	}

	p.Compose("down", "-v").Success(t)
	if VolumeExists(p.Name + "_data") {
		t.Errorf("down -v left the named volume")
	}
}

func TestExternalVolumeIsNeverRemoved(t *testing.T) {
	t.Parallel()
	ext := "e2e-extvol-" + randomSuffix()
	Docker(t, "volume", "create", ext)
	t.Cleanup(func() { _, _ = docker("volume", "rm", "-f", ext) })
	p := NewProject(t, `
services:
  app:
    image: IMAGE
    volumes: [outside:/data]
volumes:
  outside:
    name: EXT
    external: true
`)
	p.WriteFile("compose.yaml", strings.ReplaceAll(readFile(t, p.Dir+"/compose.yaml"), "EXT", ext))
	p.Up()
	if _, name, _, ok := InspectContainer(t, p.ContainerName("app", 1)).Mount("/data"); !ok || name != ext {
		t.Errorf("/data mount = %q, want %s", name, ext)
	}
	p.Compose("down", "-v").Success(t)
	if !VolumeExists(ext) {
		t.Errorf("down -v removed the external volume")
	}
}

func TestBindMountsAndTmpfs(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  app:
    image: IMAGE
    volumes:
      - ./host:/host
      - type: bind
        source: ./host
        target: /ro
        read_only: true
      - type: tmpfs
        target: /scratch2
    tmpfs:
      - /scratch
`)
	p.WriteFile("host/in.txt", "from the host")
	p.Up()
	app := p.ContainerName("app", 1)
	if out, ok := Exec(app, "read", "/host/in.txt"); !ok || out != "from the host" {
		t.Errorf("/host/in.txt = %q (ok %v)", out, ok)
	}
	if _, ok := Exec(app, "write", "/host/out.txt", "from the container"); !ok {
		t.Errorf("writing into the bind mount failed")
	} else if got := readFile(t, p.Dir+"/host/out.txt"); got != "from the container" {
		t.Errorf("host sees %q", got)
	}
	if _, ok := Exec(app, "write", "/ro/x", "x"); ok {
		t.Errorf("wrote into a read-only bind mount")
	}
	c := InspectContainer(t, app)
	if typ, _, src, ok := c.Mount("/host"); !ok || typ != "bind" || src != p.Dir+"/host" {
		t.Errorf("/host mount = %s %s, want bind of %s/host", typ, src, p.Dir)
	}
	if _, ok := c.HostConfig.Tmpfs["/scratch"]; !ok {
		if typ, _, _, ok := c.Mount("/scratch"); !ok || typ != "tmpfs" {
			t.Errorf("/scratch is not a tmpfs: %v %v", c.HostConfig.Tmpfs, c.Mounts)
		}
	}
	if _, ok := Exec(app, "write", "/scratch/x", "x"); !ok {
		t.Errorf("writing into tmpfs /scratch failed")
	}
	if _, ok := Exec(app, "write", "/scratch2/x", "x"); !ok {
		t.Errorf("writing into tmpfs /scratch2 failed")
	}
}

func TestAnonymousVolumeIsCreatedAndRemovedByDownV(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  app:
    image: IMAGE
    volumes: [/anon]
`)
	p.Up()
	typ, name, _, ok := InspectContainer(t, p.ContainerName("app", 1)).Mount("/anon")
	if !ok || typ != "volume" || name == "" {
		t.Fatalf("/anon mount = %s %q (found %v), want an anonymous volume", typ, name, ok)
	}
	p.Compose("down", "-v").Success(t)
	if VolumeExists(name) {
		t.Errorf("down -v left the anonymous volume %s", name)
	}
}

func TestDownVRemovesAnonymousVolumeCarriedOverByRecreate(t *testing.T) {
	t.Parallel()
	const content = `
services:
  app:
    image: IMAGE
    volumes: [/anon]
    environment:
      V: "1"
`
	p := NewProject(t, content)
	p.Up()
	_, name, _, _ := InspectContainer(t, p.ContainerName("app", 1)).Mount("/anon")
	p.WriteFile("compose.yaml", strings.Replace(content, `"1"`, `"2"`, 1))
	p.Up()
	if _, after, _, _ := InspectContainer(t, p.ContainerName("app", 1)).Mount("/anon"); after != name {
		t.Fatalf("anonymous volume not carried over: %s then %s", name, after)
	}
	t.Cleanup(func() { _, _ = docker("volume", "rm", "-f", name) })
	p.Compose("down", "-v").Success(t)
	if VolumeExists(name) {
		t.Errorf("down -v left the anonymous volume %s that the recreated container inherited", name)
	}
}
