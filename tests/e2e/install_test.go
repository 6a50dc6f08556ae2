package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// These scenarios run make install, uninstall and install-plugin from the
// module root, as a user would. Each make builds bin/composer there, so
// they do not run in parallel with each other (no t.Parallel): two builds
// writing one file at once could install a truncated binary.

// installed are the files make install puts under prefix for the command
// called name: the binary and its bash, zsh and fish completions.
func installed(prefix, name string) map[string]string {
	return map[string]string{
		"binary":          filepath.Join(prefix, "bin", name),
		"bash completion": filepath.Join(prefix, "share", "bash-completion", "completions", name),
		"zsh completion":  filepath.Join(prefix, "share", "zsh", "site-functions", "_"+name),
		"fish completion": filepath.Join(prefix, "share", "fish", "vendor_completions.d", name+".fish"),
	}
}

// goEnv holds the Go caches of the test process, so that make under a
// temporary HOME builds from them instead of from scratch.
var goEnv = sync.OnceValues(func() ([]string, error) {
	out, err := exec.Command("go", "env", "GOCACHE", "GOMODCACHE", "GOPATH").Output()
	if err != nil {
		return nil, err
	}
	v := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(v) != 3 {
		return nil, errors.New("go env printed " + string(out))
	}
	return []string{"GOCACHE=" + v[0], "GOMODCACHE=" + v[1], "GOPATH=" + v[2]}, nil
})

// pathWithout is the test process's PATH without the directories that
// hold a program called one of names, so that make sees no other
// composer than the one a scenario puts there.
func pathWithout(names ...string) string {
	var keep []string
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		clash := false
		for _, n := range names {
			if fi, err := os.Stat(filepath.Join(dir, n)); err == nil && !fi.IsDir() {
				clash = true
			}
		}
		if !clash && dir != "" {
			keep = append(keep, dir)
		}
	}
	return strings.Join(keep, string(os.PathListSeparator))
}

// toolEnv is the test process's environment for make, docker and an
// installed composer: without what would change how make stamps or
// installs (its variables can come from the environment), where the
// Docker CLI finds its configuration, or how composer loads a project;
// with a temporary HOME, the given PATH, the Go caches, and extra.
func toolEnv(t *testing.T, path string, extra ...string) []string {
	t.Helper()
	drop := map[string]bool{
		"HOME": true, "PATH": true, "DOCKER_CONFIG": true, "MAKEFLAGS": true, "MFLAGS": true, "MAKELEVEL": true,
		"VERSION": true, "COMMIT": true, "PREFIX": true, "DESTDIR": true, "NAME": true, "GO": true,
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if drop[k] || strings.HasPrefix(k, "COMPOSE_") {
			continue
		}
		env = append(env, kv)
	}
	gocache, err := goEnv()
	if err != nil {
		t.Fatalf("go env: %v", err)
	}
	env = append(env, gocache...)
	env = append(env, "HOME="+t.TempDir(), "PATH="+path)
	return append(env, extra...)
}

// runTool runs name args... in dir with env, exactly, and returns what it
// did; Result.Args holds the whole command line.
func runTool(t *testing.T, dir string, env []string, name string, args ...string) *Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := &Result{Args: append([]string{name}, args...), Stdout: stdout.String(), Stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		r.ExitCode = exitErr.ExitCode()
	default:
		t.Fatalf("running %s: %v", strings.Join(r.Args, " "), err)
	}
	if ctx.Err() != nil {
		t.Fatalf("%s did not finish within %s:\n%s", strings.Join(r.Args, " "), commandTimeout, r)
	}
	t.Logf("%s -> %d", strings.Join(r.Args, " "), r.ExitCode)
	return r
}

// runMake runs make args... in the module root and fails the test unless
// it succeeds.
func runMake(t *testing.T, env []string, args ...string) *Result {
	t.Helper()
	r := runTool(t, moduleRoot(), env, "make", args...)
	if r.ExitCode != 0 {
		t.Fatalf("make failed:\n%s", r)
	}
	return r
}

// git runs git in the module root and returns its trimmed output.
func git(args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = moduleRoot()
	out, err := cmd.Output()
	return strings.TrimSpace(string(out)), err
}

// stampedVersion is the version make stamps, worked out the same way: the
// nearest tag (git describe), else v0.0.0-<short commit>, and -dirty for
// uncommitted changes.
func stampedVersion(t *testing.T) string {
	t.Helper()
	if v, err := git("describe", "--tags", "--dirty"); err == nil {
		return v
	}
	short, err := git("rev-parse", "--short", "HEAD")
	if err != nil {
		t.Fatalf("git rev-parse --short HEAD: %v", err)
	}
	v := "v0.0.0-" + short
	if _, err := git("diff", "--quiet", "HEAD"); err != nil {
		v += "-dirty"
	}
	return v
}

// executable fails the test unless path is a non-empty executable file.
func executable(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("not installed: %v", err)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 || fi.Size() == 0 {
		t.Errorf("%s is not an executable file: %v, %d bytes", path, fi.Mode(), fi.Size())
	}
}

// TestInstallAndUninstall installs under a prefix: the binary stamped with
// the version from git and completions for its name; uninstall removes
// them all.
func TestInstallAndUninstall(t *testing.T) {
	prefix := t.TempDir()
	env := toolEnv(t, pathWithout("composer"))
	r := runMake(t, env, "install", "PREFIX="+prefix, "NAME=composer")
	if strings.Contains(r.Stderr, "warning:") {
		t.Errorf("make install warns though no other composer is on PATH:\n%s", r)
	}
	files := installed(prefix, "composer")
	executable(t, files["binary"])
	for what, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%s not installed: %v", what, err)
		}
		if what != "binary" && !strings.Contains(string(b), "composer") {
			t.Errorf("%s %s does not name composer:\n%.300s", what, path, b)
		}
	}
	if b, _ := os.ReadFile(files["zsh completion"]); !strings.HasPrefix(string(b), "#compdef composer") {
		t.Errorf("zsh completion does not start with #compdef composer:\n%.100s", b)
	}

	want := stampedVersion(t)
	commit, err := git("rev-parse", "HEAD")
	if err != nil {
		t.Fatalf("git rev-parse HEAD: %v", err)
	}
	dir := t.TempDir()
	r = runTool(t, dir, env, files["binary"], "version").Success(t)
	lines := strings.Split(r.Stdout, "\n")
	if lines[0] != "composer version "+want {
		t.Errorf("first line %q, want %q:\n%s", lines[0], "composer version "+want, r)
	}
	if !strings.Contains(r.Stdout, " commit:  "+commit+"\n") {
		t.Errorf("version does not show commit %s:\n%s", commit, r)
	}
	if short := strings.TrimSpace(runTool(t, dir, env, files["binary"], "version", "--short").Success(t).Stdout); short != want {
		t.Errorf("version --short = %q, want %q", short, want)
	}
	r = runTool(t, dir, env, files["binary"], "version", "--format", "json").Success(t)
	var v struct {
		Version, Commit string
		Engine          *struct{ Version, APIVersion string }
	}
	if err := json.Unmarshal([]byte(r.Stdout), &v); err != nil {
		t.Fatalf("version --format json: %v:\n%s", err, r)
	}
	if v.Version != want || v.Commit != commit {
		t.Errorf("version JSON has version %q and commit %q, want %q and %q:\n%s", v.Version, v.Commit, want, commit, r)
	}
	server := Docker(t, "version", "--format", "{{.Server.Version}}")
	if v.Engine == nil || v.Engine.Version != server || v.Engine.APIVersion == "" {
		t.Errorf("version JSON's engine is %+v, want version %s and an API version:\n%s", v.Engine, server, r)
	}

	runMake(t, env, "uninstall", "PREFIX="+prefix, "NAME=composer")
	for what, path := range files {
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s %s is still there after uninstall (%v)", what, path, err)
		}
	}
}

// fakePHPComposer writes, in a directory of its own, a program called
// composer that answers like PHP's Composer, and returns the directory.
func fakePHPComposer(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	script := `#!/bin/sh
case "$1" in
--version|-V) echo "Composer version 2.7.1 2024-02-09 15:26:28" ;;
*) echo "Command \"$1\" is not defined." >&2; exit 1 ;;
esac
`
	if err := os.WriteFile(filepath.Join(dir, "composer"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestInstallUnderAnotherNameAvoidsTheClash installs as composer-x while
// PHP's Composer is on PATH: composer-x calls itself by that name and no
// clash is reported; installing as composer then warns, says how to avoid
// the clash, and still installs.
func TestInstallUnderAnotherNameAvoidsTheClash(t *testing.T) {
	prefix := t.TempDir()
	php := fakePHPComposer(t)
	env := toolEnv(t, php+string(os.PathListSeparator)+pathWithout("composer", "composer-x"))

	r := runMake(t, env, "install", "PREFIX="+prefix, "NAME=composer-x")
	if strings.Contains(r.Stderr, "warning:") {
		t.Errorf("installing as composer-x warns of a clash:\n%s", r)
	}
	files := installed(prefix, "composer-x")
	executable(t, files["binary"])
	for what, path := range files {
		if _, err := os.Stat(path); err != nil {
			t.Errorf("%s not installed: %v", what, err)
		}
	}
	if b, _ := os.ReadFile(files["bash completion"]); !strings.Contains(string(b), "composer-x") {
		t.Errorf("the bash completion does not name composer-x:\n%.300s", b)
	}
	if r := runTool(t, t.TempDir(), env, files["binary"], "--help").Success(t); !strings.Contains(r.Stdout, "composer-x [command]") {
		t.Errorf("composer-x --help does not call it composer-x:\n%s", r)
	}
	if _, err := os.Stat(installed(prefix, "composer")["binary"]); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("NAME=composer-x also installed bin/composer (%v)", err)
	}

	r = runMake(t, env, "install", "PREFIX="+prefix, "NAME=composer")
	for _, w := range []string{"PHP's Composer", filepath.Join(php, "composer"), "make install NAME=", "make install-plugin"} {
		if !strings.Contains(r.Stderr, w) {
			t.Errorf("make install's stderr does not say %q:\n%s", w, r)
		}
	}
	executable(t, installed(prefix, "composer")["binary"])
	runTool(t, t.TempDir(), env, installed(prefix, "composer")["binary"], "version", "--short").Success(t)
}

// TestNameClashWarnsOnlyForAnotherProgram runs the install's clash check
// against what may be on PATH: another composer is reported, this one
// (where it is installed, or elsewhere) is not.
func TestNameClashWarnsOnlyForAnotherProgram(t *testing.T) {
	t.Parallel()
	bindir := t.TempDir() // where make install would put composer
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "composer"), []byte("#!/bin/sh\necho hello\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	phpShebang := t.TempDir()
	if err := os.WriteFile(filepath.Join(phpShebang, "composer"), []byte("#!/usr/bin/env php\n<?php echo 'hi';\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	ours := t.TempDir()
	if err := os.Symlink(composerBin, filepath.Join(ours, "composer")); err != nil {
		t.Fatal(err)
	}
	installedHere := t.TempDir()
	if err := os.Symlink(composerBin, filepath.Join(installedHere, "composer")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		first  string // the directory put first on PATH
		bindir string
		want   string // in stderr; empty for no warning
	}{
		{name: "PHP's Composer answering --version", first: fakePHPComposer(t), bindir: bindir, want: "warning: PHP's Composer is installed as "},
		{name: "a PHP script", first: phpShebang, bindir: bindir, want: "warning: PHP's Composer is installed as "},
		{name: "another program", first: other, bindir: bindir, want: "warning: another program is installed as "},
		{name: "this program elsewhere", first: ours, bindir: bindir},
		{name: "this program where it is installed", first: installedHere, bindir: installedHere},
		{name: "nothing called composer", first: t.TempDir(), bindir: bindir},
	}
	script := filepath.Join(moduleRoot(), "scripts", "name-clash.sh")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := toolEnv(t, tt.first+string(os.PathListSeparator)+pathWithout("composer"))
			r := runTool(t, t.TempDir(), env, script, "composer", tt.bindir).Success(t)
			if tt.want == "" {
				if r.Stderr != "" {
					t.Errorf("want no warning:\n%s", r)
				}
				return
			}
			for _, w := range []string{tt.want + filepath.Join(tt.first, "composer"), filepath.Join(tt.bindir, "composer"), "make install NAME="} {
				if !strings.Contains(r.Stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, r)
				}
			}
		})
	}
}

// TestInstallPluginRunsUnderTheDockerCLI installs the Docker CLI plugin
// into a DOCKER_CONFIG of its own: docker lists it and runs docker
// composer commands on a real project; uninstall-plugin removes it.
func TestInstallPluginRunsUnderTheDockerCLI(t *testing.T) {
	config := t.TempDir()
	env := toolEnv(t, pathWithout("composer"))
	runMake(t, env, "install-plugin", "DOCKER_CONFIG="+config)
	plugin := filepath.Join(config, "cli-plugins", "docker-composer")
	executable(t, plugin)

	// The Docker CLI reads its configuration, plugins included, from
	// DOCKER_CONFIG: this scenario's, never the user's.
	denv := slices.Concat(env, []string{"DOCKER_CONFIG=" + config})
	r := runTool(t, t.TempDir(), denv, "docker", "--help").Success(t)
	if !strings.Contains(r.Stdout, "composer*") || !strings.Contains(r.Stdout, "Run multi-container projects from compose files") {
		t.Errorf("docker --help does not list the composer plugin:\n%s", r)
	}
	r = runTool(t, t.TempDir(), denv, "docker", "composer", "version").Success(t)
	if want := "composer version " + stampedVersion(t) + "\n"; !strings.HasPrefix(r.Stdout, want) {
		t.Errorf("docker composer version does not start with %q:\n%s", want, r)
	}

	p := NewProject(t, "services:\n  web:\n    image: IMAGE\n")
	p.Up()
	r = runTool(t, p.Dir, denv, "docker", "composer", "-p", p.Name, "ps").Success(t)
	if !strings.Contains(r.Stdout, p.ContainerName("web", 1)) {
		t.Errorf("docker composer ps does not list %s:\n%s", p.ContainerName("web", 1), r)
	}

	r = runTool(t, p.Dir, denv, "docker", "composer", "up", "--bogus")
	if r.ExitCode == 0 || !strings.Contains(r.Stderr, "See 'docker composer up --help'.") {
		t.Errorf("want docker composer up --bogus to fail with See 'docker composer up --help'.:\n%s", r)
	}

	runMake(t, env, "uninstall-plugin", "DOCKER_CONFIG="+config)
	if _, err := os.Stat(plugin); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s is still there after uninstall-plugin (%v)", plugin, err)
	}
	if r := runTool(t, t.TempDir(), denv, "docker", "--help").Success(t); strings.Contains(r.Stdout, "composer*") {
		t.Errorf("docker --help still lists the composer plugin:\n%s", r)
	}
}
