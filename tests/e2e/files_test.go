package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRepeatedFileFlagsMergeInOrder(t *testing.T) {
	t.Parallel()
	p := NewProject(t, "")
	p.WriteFile("base.yaml", `
services:
  app:
    image: IMAGE
    environment:
      FROM_BASE: base
      OVERRIDDEN: base
    labels:
      com.example.base: "yes"
`)
	p.WriteFile("extra.yaml", `
services:
  app:
    environment:
      OVERRIDDEN: extra
    labels:
      com.example.extra: "yes"
  sidecar:
    image: IMAGE
`)
	p.Compose("-f", "base.yaml", "-f", "extra.yaml", "up", "-d").Success(t)
	app := InspectContainer(t, p.ContainerName("app", 1))
	if !app.HasEnv("FROM_BASE=base") || !app.HasEnv("OVERRIDDEN=extra") {
		t.Errorf("merged env = %v", app.Config.Env)
	}
	if app.Config.Labels["com.example.base"] != "yes" || app.Config.Labels["com.example.extra"] != "yes" {
		t.Errorf("merged labels = %v", app.Config.Labels)
	}
	want := p.Dir + "/base.yaml," + p.Dir + "/extra.yaml"
	if got := app.Config.Labels[configFilesLabel]; got != want {
		t.Errorf("%s = %q, want %q", configFilesLabel, got, want)
	}
	if !ContainerExists(p.ContainerName("sidecar", 1)) {
		t.Errorf("sidecar from the second file was not created")
	}
}

func TestOverrideFileIsMergedByDefault(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  app:
    image: IMAGE
    environment:
      WHERE: base
`)
	p.WriteFile("compose.override.yaml", `
services:
  app:
    environment:
      WHERE: override
`)
	p.Up()
	if app := InspectContainer(t, p.ContainerName("app", 1)); !app.HasEnv("WHERE=override") {
		t.Errorf("env = %v, want WHERE=override", app.Config.Env)
	}
}

func TestComposeFileFromStdin(t *testing.T) {
	t.Parallel()
	p := NewProject(t, "")
	RunComposer(t, Cmd{Dir: p.Dir, Args: []string{"-p", p.Name, "-f", "-", "up", "-d"}, Stdin: withImage(`
services:
  fromstdin:
    image: IMAGE
`)}).Success(t)
	if !ContainerExists(p.ContainerName("fromstdin", 1)) {
		t.Errorf("service from stdin was not created: %v", ContainerNames(t, p.Name))
	}
}

func TestComposeFileAndProjectNameFromEnvironment(t *testing.T) {
	t.Parallel()
	p := NewProject(t, "")
	p.WriteFile("one.yaml", "services:\n  one:\n    image: IMAGE\n")
	p.WriteFile("two.yaml", "services:\n  two:\n    image: IMAGE\n")
	RunComposer(t, Cmd{Dir: p.Dir, Args: []string{"up", "-d"}, Env: []string{
		"COMPOSE_FILE=one.yaml" + string(os.PathListSeparator) + "two.yaml",
		"COMPOSE_PROJECT_NAME=" + p.Name,
	}}).Success(t)
	want := []string{p.ContainerName("one", 1), p.ContainerName("two", 1)}
	if got := ContainerNames(t, p.Name); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("containers = %v, want %v", got, want)
	}
}

func TestDotEnvInterpolation(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  app:
    image: ${TEST_IMG}
    environment:
      GREETING: ${GREETING:-unset}
      DEFAULTED: ${NOT_SET_ANYWHERE:-fallback}
      FROM_SHELL: ${SHELL_ONLY}
`)
	p.WriteFile(".env", "TEST_IMG=IMAGE\nGREETING=hello from dotenv\nSHELL_ONLY=dotenv\n")
	RunComposer(t, Cmd{Dir: p.Dir, Args: []string{"-p", p.Name, "up", "-d"}, Env: []string{"SHELL_ONLY=shell"}}).Success(t)
	app := InspectContainer(t, p.ContainerName("app", 1))
	for _, kv := range []string{"GREETING=hello from dotenv", "DEFAULTED=fallback", "FROM_SHELL=shell"} {
		if !app.HasEnv(kv) {
			t.Errorf("env lacks %s: %v", kv, app.Config.Env)
		}
	}
}

func TestEnvFileFlagReplacesDotEnv(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  app:
    image: IMAGE
    environment:
      WHICH: ${WHICH}
`)
	p.WriteFile(".env", "WHICH=dotenv\n")
	p.WriteFile("custom.env", "WHICH=custom\n")
	p.Compose("--env-file", "custom.env", "up", "-d").Success(t)
	if app := InspectContainer(t, p.ContainerName("app", 1)); !app.HasEnv("WHICH=custom") {
		t.Errorf("env = %v, want WHICH=custom", app.Config.Env)
	}
}

func TestProjectDirectoryFlag(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  app:
    image: IMAGE
    volumes: [./data:/data]
`)
	p.WriteFile("data/f", "relative to the project directory")
	elsewhere := t.TempDir()
	RunComposer(t, Cmd{Dir: elsewhere, Args: []string{"-p", p.Name, "--project-directory", p.Dir, "up", "-d"}}).Success(t)
	app := InspectContainer(t, p.ContainerName("app", 1))
	if got := app.Config.Labels[workingDirLabel]; got != p.Dir {
		t.Errorf("%s = %q, want %q", workingDirLabel, got, p.Dir)
	}
	if out, ok := Exec(app.Name, "read", "/data/f"); !ok || out != "relative to the project directory" {
		t.Errorf("/data/f = %q", out)
	}
}

func TestProjectNameDerivedFromDirectoryIsNormalized(t *testing.T) {
	t.Parallel()
	suffix := randomSuffix()
	dir := filepath.Join(t.TempDir(), "E2E.Derived_Name-"+suffix)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	name := "e2ederived_name-" + suffix
	t.Cleanup(func() { RemoveProject(t, name) })
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(withImage("services:\n  app:\n    image: IMAGE\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	RunComposer(t, Cmd{Dir: dir, Args: []string{"up", "-d"}}).Success(t)
	if !ContainerExists(name + "-app-1") {
		t.Errorf("no container %s-app-1; containers named after the directory: %v", name, ContainerNames(t, name))
	}
}

func TestComposeFileFoundInParentDirectory(t *testing.T) {
	t.Parallel()
	p := NewProject(t, "services:\n  app:\n    image: IMAGE\n")
	sub := filepath.Join(p.Dir, "sub", "dir")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	RunComposer(t, Cmd{Dir: sub, Args: []string{"-p", p.Name, "up", "-d"}}).Success(t)
	app := InspectContainer(t, p.ContainerName("app", 1))
	if got := app.Config.Labels[workingDirLabel]; got != p.Dir {
		t.Errorf("%s = %q, want %q", workingDirLabel, got, p.Dir)
	}
}

func TestInvalidExplicitProjectNameIsAnError(t *testing.T) {
	t.Parallel()
	p := NewProject(t, "services:\n  app:\n    image: IMAGE\n")
	r := RunComposer(t, Cmd{Dir: p.Dir, Args: []string{"-p", "Bad Name!", "up", "-d"}})
	if r.ExitCode == 0 {
		t.Errorf("up accepted the project name %q:\n%s", "Bad Name!", r)
		RemoveProject(t, "Bad Name!")
	}
}
