package e2e

import (
	"strings"
	"testing"
)

// buildContext writes a build context under dir in the project: a
// two-stage Dockerfile on top of the test image, a kept file, an ignored
// file and the .dockerignore that names it.
func buildContext(p *Project, dir, keep string) {
	p.WriteFile(dir+"/Dockerfile", `FROM IMAGE AS base
ARG GREETING=unset
LABEL e2e.greeting=$GREETING
COPY . /ctx/

FROM base AS final
LABEL e2e.stage=final
`)
	p.WriteFile(dir+"/keep.txt", keep)
	p.WriteFile(dir+"/ignored.txt", "must not be sent")
	p.WriteFile(dir+"/.dockerignore", "ignored.txt\n")
}

func imageLabels(t *testing.T, ref string) map[string]string {
	t.Helper()
	var imgs []struct {
		Config struct{ Labels map[string]string }
	}
	inspect(t, &imgs, "image", "inspect", ref)
	return imgs[0].Config.Labels
}

func TestCmdBuildHonoursTheBuildSection(t *testing.T) {
	t.Parallel()
	p := NewProject(t, "")
	extra := "e2e-extra-" + p.Name + ":v1"
	p.WriteFile("compose.yaml", `
services:
  svc:
    build:
      context: ./app
      args:
        GREETING: hello
      target: base
      labels:
        e2e.built: "yes"
      tags: ["`+extra+`"]
`)
	buildContext(p, "app", "kept")
	image := p.Name + "-svc"
	removeImagesAtEnd(t, image, extra)

	p.Compose("build").Success(t)
	labels := imageLabels(t, image)
	if labels["e2e.greeting"] != "hello" {
		t.Errorf("build args: image label e2e.greeting=%q, want hello", labels["e2e.greeting"])
	}
	if labels["e2e.built"] != "yes" {
		t.Errorf("build labels: e2e.built=%q, want yes", labels["e2e.built"])
	}
	if _, ok := labels["e2e.stage"]; ok {
		t.Errorf("build target base: the image has the final stage's label")
	}
	if ImageID(t, extra) != ImageID(t, image) {
		t.Errorf("build tags: %s is not the built image", extra)
	}

	r := p.Compose("run", "--rm", "svc", "read", "/ctx/keep.txt").Success(t)
	if r.Stdout != "kept" {
		t.Errorf("the context's keep.txt is %q in the image", r.Stdout)
	}
	if r := p.Compose("run", "--rm", "svc", "read", "/ctx/ignored.txt"); r.ExitCode == 0 {
		t.Errorf(".dockerignore: ignored.txt is in the image:\n%s", r)
	}
}

func TestCmdUpBuildRebuildsAndUsesTheDefaultImageName(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  svc:
    build: ./app
`)
	buildContext(p, "app", "first")
	image := p.Name + "-svc"
	removeImagesAtEnd(t, image)

	p.Up()
	name := p.ContainerName("svc", 1)
	c := InspectContainer(t, name)
	if c.Config.Image != image {
		t.Errorf("a service with only build: runs %q, want the default image name %s", c.Config.Image, image)
	}
	if labels := imageLabels(t, image); labels["e2e.stage"] != "final" {
		t.Errorf("without target the last stage is built; labels %v", labels)
	}
	if out, _ := Exec(name, "read", "/ctx/keep.txt"); out != "first" {
		t.Errorf("keep.txt is %q", out)
	}

	buildContext(p, "app", "second")
	p.Up("--build")
	c2 := InspectContainer(t, name)
	if c2.ID == c.ID {
		t.Errorf("up --build after a context change did not recreate %s", name)
	}
	if out, _ := Exec(name, "read", "/ctx/keep.txt"); out != "second" {
		t.Errorf("after up --build keep.txt is %q, want second", out)
	}
}

const unpullable = `
services:
  ok:
    image: IMAGE
    pull_policy: never
  missing:
    image: 127.0.0.1:1/e2e/unpullable:latest
`

func TestCmdPullFailureNamesTheImage(t *testing.T) {
	t.Parallel()
	p := NewProject(t, unpullable)
	r := p.Compose("pull", "missing")
	if r.ExitCode == 0 {
		t.Fatalf("pull of an unreachable registry succeeded:\n%s", r)
	}
	r.Mentions(t, "127.0.0.1:1/e2e/unpullable")
}

func TestCmdPullIgnorePullFailures(t *testing.T) {
	t.Parallel()
	p := NewProject(t, unpullable)
	r := p.Compose("pull", "--ignore-pull-failures", "missing").Success(t)
	r.Mentions(t, "127.0.0.1:1/e2e/unpullable")
	q := p.Compose("pull", "-q", "--ignore-pull-failures", "missing").Success(t)
	if strings.TrimSpace(q.Stdout) != "" {
		t.Errorf("pull -q printed on stdout:\n%s", q)
	}
}
