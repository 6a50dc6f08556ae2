package e2e

import (
	"strings"
	"testing"
)

const twoServices = `
services:
  a:
    image: IMAGE
    environment:
      VERSION: "1"
  b:
    image: IMAGE
    volumes: [/anon]
    environment:
      VERSION: "1"
`

func TestChangedServiceIsRecreatedAlone(t *testing.T) {
	t.Parallel()
	p := NewProject(t, twoServices)
	p.Up()
	before := IDs(t, p.Name)
	b := p.ContainerName("b", 1)
	if _, ok := Exec(b, "write", "/anon/data", "kept"); !ok {
		t.Fatal("writing into the anonymous volume failed")
	}
	_, anonBefore, _, _ := InspectContainer(t, b).Mount("/anon")

	// Only b's VERSION (the last one in the file) changes.
	p.WriteFile("compose.yaml", twoServices[:strings.LastIndex(twoServices, `"1"`)]+`"2"`+"\n")
	p.Up()
	after := IDs(t, p.Name)

	a := p.ContainerName("a", 1)
	if after[a] != before[a] {
		t.Errorf("unchanged service a was recreated")
	}
	if after[b] == before[b] || after[b] == "" {
		t.Fatalf("changed service b was not recreated (before %s, after %s)", before[b], after[b])
	}
	c := InspectContainer(t, b)
	if !c.HasEnv("VERSION=2") || !c.State.Running {
		t.Errorf("new b: env %v, status %s", c.Config.Env, c.State.Status)
	}
	if len(after) != 2 {
		t.Errorf("containers after recreate = %v", keys(after))
	}
	if _, anonAfter, _, _ := c.Mount("/anon"); anonAfter != anonBefore {
		t.Errorf("anonymous volume changed from %s to %s", anonBefore, anonAfter)
	}
	if out, ok := Exec(b, "read", "/anon/data"); !ok || out != "kept" {
		t.Errorf("anonymous volume data after recreate = %q (ok %v), want kept", out, ok)
	}
}

func TestForceRecreateRecreatesEverything(t *testing.T) {
	t.Parallel()
	p := NewProject(t, twoServices)
	p.Up()
	before := IDs(t, p.Name)
	p.Up("--force-recreate")
	after := IDs(t, p.Name)
	for name, id := range before {
		if after[name] == id || after[name] == "" {
			t.Errorf("%s was not recreated", name)
		}
	}
}

func TestNoRecreateKeepsChangedContainers(t *testing.T) {
	t.Parallel()
	p := NewProject(t, twoServices)
	p.Up()
	before := IDs(t, p.Name)
	p.WriteFile("compose.yaml", strings.ReplaceAll(twoServices, `"1"`, `"2"`))
	p.Up("--no-recreate")
	if after := IDs(t, p.Name); !equalMaps(before, after) {
		t.Errorf("--no-recreate recreated containers:\nbefore %v\nafter  %v", before, after)
	}
}

func TestNoDepsStartsOnlyTheNamedService(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  db:
    image: IMAGE
  app:
    image: IMAGE
    depends_on: [db]
`)
	p.Up("--no-deps", "app")
	if got := ContainerNames(t, p.Name); len(got) != 1 || got[0] != p.ContainerName("app", 1) {
		t.Errorf("containers = %v, want only app", got)
	}
}

func TestScaleUpAndDownKeepsLowestNumbers(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  web:
    image: IMAGE
  other:
    image: IMAGE
`)
	p.Up("--scale", "web=3")
	want := []string{p.ContainerName("other", 1), p.ContainerName("web", 1), p.ContainerName("web", 2), p.ContainerName("web", 3)}
	if got := ContainerNames(t, p.Name); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("after --scale web=3: %v, want %v", got, want)
	}
	ids := IDs(t, p.Name)
	p.Up("--scale", "web=1")
	want = []string{p.ContainerName("other", 1), p.ContainerName("web", 1)}
	if got := ContainerNames(t, p.Name); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("after --scale web=1: %v, want %v", got, want)
	}
	if after := IDs(t, p.Name); after[p.ContainerName("web", 1)] != ids[p.ContainerName("web", 1)] {
		t.Errorf("scaling down recreated web-1")
	}
}

func TestDeployReplicasAndScaleField(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  web:
    image: IMAGE
    deploy:
      replicas: 3
  worker:
    image: IMAGE
    scale: 2
  none:
    image: IMAGE
    deploy:
      replicas: 0
`)
	p.Up()
	want := []string{p.ContainerName("web", 1), p.ContainerName("web", 2), p.ContainerName("web", 3),
		p.ContainerName("worker", 1), p.ContainerName("worker", 2)}
	if got := ContainerNames(t, p.Name); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("containers = %v, want %v", got, want)
	}
	for _, c := range ProjectContainers(t, p.Name) {
		if !c.State.Running {
			t.Errorf("%s is %s", c.Name, c.State.Status)
		}
	}
}

func TestOrphansAreReportedThenRemovedWithRemoveOrphans(t *testing.T) {
	t.Parallel()
	p := NewProject(t, twoServices)
	p.Up()
	p.WriteFile("compose.yaml", `
services:
  a:
    image: IMAGE
    environment:
      VERSION: "1"
`)
	orphan := p.ContainerName("b", 1)
	r := p.Up()
	r.Mentions(t, orphan)
	if !ContainerExists(orphan) {
		t.Fatalf("up removed the orphan %s without --remove-orphans", orphan)
	}
	p.Up("--remove-orphans")
	if ContainerExists(orphan) {
		t.Errorf("up --remove-orphans left %s", orphan)
	}
	if !ContainerExists(p.ContainerName("a", 1)) {
		t.Errorf("up --remove-orphans removed a")
	}
}

func TestProfilesSelectServices(t *testing.T) {
	t.Parallel()
	const content = `
services:
  app:
    image: IMAGE
  debug:
    image: IMAGE
    profiles: [debug]
  tools:
    image: IMAGE
    profiles: [tools]
`
	for _, tc := range []struct {
		name string
		args []string
		env  []string
		want []string
	}{
		{name: "none", want: []string{"app"}},
		{name: "flag", args: []string{"--profile", "debug"}, want: []string{"app", "debug"}},
		{name: "two flags", args: []string{"--profile", "debug", "--profile", "tools"}, want: []string{"app", "debug", "tools"}},
		{name: "env", env: []string{"COMPOSE_PROFILES=tools"}, want: []string{"app", "tools"}},
		{name: "env list", env: []string{"COMPOSE_PROFILES=tools,debug"}, want: []string{"app", "debug", "tools"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := NewProject(t, content)
			args := append([]string{"-p", p.Name}, tc.args...)
			RunComposer(t, Cmd{Dir: p.Dir, Args: append(args, "up", "-d"), Env: tc.env}).Success(t)
			var want []string
			for _, s := range tc.want {
				want = append(want, p.ContainerName(s, 1))
			}
			if got := ContainerNames(t, p.Name); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("containers = %v, want %v", got, want)
			}
		})
	}
}

func TestProfiledServiceNamedOnCommandLineIsStarted(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  app:
    image: IMAGE
  debug:
    image: IMAGE
    profiles: [debug]
`)
	p.Up("debug")
	if got := ContainerNames(t, p.Name); len(got) != 1 || got[0] != p.ContainerName("debug", 1) {
		t.Errorf("containers = %v, want only debug", got)
	}
}
