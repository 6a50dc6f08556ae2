package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// sharedDir makes a world-writable directory in the project, to be bind
// mounted so that files written in a container can be checked on the host.
func sharedDir(t *testing.T, p *Project, name string) string {
	t.Helper()
	dir := filepath.Join(p.Dir, name)
	if err := os.MkdirAll(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	return dir
}

// fileOwner returns the owner uid of path.
func fileOwner(t *testing.T, path string) uint32 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return fi.Sys().(*syscall.Stat_t).Uid
}

const execProject = `
services:
  web:
    image: IMAGE
    volumes: ["./shared:/w"]
`

func TestCmdExecExitCodeIsPassedThrough(t *testing.T) {
	t.Parallel()
	p := NewProject(t, execProject)
	sharedDir(t, p, "shared")
	p.Up()
	p.Compose("exec", "-T", "web", "/app", "exit", "7").Failure(t, 7)
	p.Compose("exec", "-T", "web", "/app", "exit", "0").Success(t)
}

func TestCmdExecEnvUserWorkdir(t *testing.T) {
	t.Parallel()
	p := NewProject(t, execProject)
	shared := sharedDir(t, p, "shared")
	p.Up()
	r := p.Compose("exec", "-T", "-e", "FOO=bar", "-e", "EMPTY=", "web", "/app", "env").Success(t)
	lines := nonEmptyLines(r.Stdout)
	if !contains(lines, "FOO=bar") || !contains(lines, "EMPTY=") {
		t.Errorf("exec -e: FOO=bar and EMPTY= not in the environment:\n%s", r)
	}
	// -w makes a relative path land in the working directory; -u sets the owner.
	p.Compose("exec", "-T", "-u", "1234", "-w", "/w", "web", "/app", "write", "rel.txt", "hi").Success(t)
	path := filepath.Join(shared, "rel.txt")
	if got := readFile(t, path); got != "hi" {
		t.Errorf("exec -w /w: rel.txt holds %q", got)
	}
	if uid := fileOwner(t, path); uid != 1234 {
		t.Errorf("exec -u 1234: the file is owned by uid %d", uid)
	}
}

func TestCmdExecIndexPicksTheReplica(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  web:
    image: IMAGE
    scale: 2
`)
	p.Up()
	r := p.Compose("exec", "-T", "--index", "2", "web", "/app", "env").Success(t)
	want := "HOSTNAME=" + InspectContainer(t, p.ContainerName("web", 2)).Config.Hostname
	if !contains(nonEmptyLines(r.Stdout), want) {
		t.Errorf("exec --index 2: want %s (replica 2):\n%s", want, r)
	}
}

func TestCmdExecDetach(t *testing.T) {
	t.Parallel()
	p := NewProject(t, execProject)
	shared := sharedDir(t, p, "shared")
	p.Up()
	r := p.Compose("exec", "-d", "web", "/app", "stamp", "/w/stamp").Success(t)
	if strings.TrimSpace(r.Stdout) != "" {
		t.Errorf("exec -d printed the command's output:\n%s", r)
	}
	Eventually(t, 20*time.Second, func() bool {
		_, err := os.Stat(filepath.Join(shared, "stamp"))
		return err == nil
	}, "the detached command to write its file")
}

func TestCmdExecOnStoppedServiceFails(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  web:
    image: IMAGE
`)
	p.Up()
	p.Compose("stop", "-t", "1").Success(t)
	r := p.Compose("exec", "-T", "web", "/app", "exit", "0")
	if r.ExitCode == 0 {
		t.Errorf("exec on a stopped service succeeded:\n%s", r)
	}
}

var runNameRE = regexp.MustCompile(`^(.+)-run-[0-9a-f]{12}$`)

func TestCmdRunDetachedOneOffNameAndLabel(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  web:
    image: IMAGE
`)
	r := p.Compose("run", "-d", "web").Success(t)
	name := strings.TrimSpace(r.Stdout)
	m := runNameRE.FindStringSubmatch(name)
	if m == nil || m[1] != p.Name+"-web" {
		t.Fatalf("run -d: printed %q, want %s-web-run-<12 hex>", name, p.Name)
	}
	c := InspectContainer(t, name)
	if c.Config.Labels[oneoffLabel] != "True" || c.Config.Labels[serviceLabel] != "web" || c.Config.Labels[projectLabel] != p.Name {
		t.Errorf("run container labels: %v", c.Config.Labels)
	}
	if !c.State.Running {
		t.Errorf("run -d: %s is not running", name)
	}
	// The service's own container is not created by run.
	if ContainerExists(p.ContainerName("web", 1)) {
		t.Errorf("run created the service container %s", p.ContainerName("web", 1))
	}
}

func TestCmdRunStartsDependenciesAndReachesThemByName(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  db:
    image: IMAGE
    command: ["serve", "80", "from-db"]
    healthcheck:
      test: ["CMD", "/app", "http-get", "http://localhost:80/health"]
      interval: 500ms
      retries: 30
  web:
    image: IMAGE
    depends_on:
      db:
        condition: service_healthy
`)
	r := p.Compose("run", "--rm", "web", "http-get", "http://db:80/").Success(t)
	if !strings.Contains(r.Stdout, "from-db") {
		t.Errorf("the one-off could not reach db by name:\n%s", r)
	}
	if h := Ready(t, p.ContainerName("db", 1)); h != "healthy" {
		t.Errorf("db is %q after run, want healthy (its condition awaited)", h)
	}
	if left := oneoffContainers(t, p.Name); len(left) != 0 {
		t.Errorf("run --rm left %v", left)
	}
}

func TestCmdRunNoDeps(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  db:
    image: IMAGE
  web:
    image: IMAGE
    depends_on: [db]
`)
	p.Compose("run", "--rm", "--no-deps", "web", "exit", "0").Success(t)
	if ContainerExists(p.ContainerName("db", 1)) {
		t.Errorf("run --no-deps created %s", p.ContainerName("db", 1))
	}
}

func TestCmdRunExitCodeAndEnv(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  web:
    image: IMAGE
    environment: {FROM_FILE: "1"}
`)
	p.Compose("run", "--rm", "web", "exit", "3").Failure(t, 3)
	r := p.Compose("run", "--rm", "-e", "FOO=bar", "web", "env").Success(t)
	lines := nonEmptyLines(r.Stdout)
	if !contains(lines, "FOO=bar") || !contains(lines, "FROM_FILE=1") {
		t.Errorf("run -e: want FOO=bar and the service's FROM_FILE=1:\n%s", r)
	}
	// Without --rm the one-off stays, exited.
	p.Compose("run", "web", "exit", "0").Success(t)
	left := oneoffContainers(t, p.Name)
	if len(left) != 1 || containerState(left[0]) != "exited" {
		t.Errorf("run without --rm: want one exited one-off container, got %v", left)
	}
}

func TestCmdRunEntrypointAndName(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  web:
    image: IMAGE
`)
	// The image's entrypoint is /app and its command "sleep": replacing the
	// entrypoint by "/app env" prints the environment instead of sleeping.
	r := p.Compose("run", "--rm", "--entrypoint", "/app env", "web").Success(t)
	if !strings.Contains(r.Stdout, "PATH=") {
		t.Errorf("run --entrypoint '/app env': want the environment printed:\n%s", r)
	}
	name := p.Name + "-custom"
	p.Compose("run", "-d", "--name", name, "web").Success(t)
	c := InspectContainer(t, name)
	if c.Config.Labels[oneoffLabel] != "True" || c.Config.Labels[projectLabel] != p.Name {
		t.Errorf("run --name: %s labels %v", name, c.Config.Labels)
	}
}

func TestCmdRunUserWorkdirVolume(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  web:
    image: IMAGE
`)
	host := sharedDir(t, p, "host")
	p.Compose("run", "--rm", "-u", "4321", "-w", "/mnt/x", "-v", host+":/mnt/x", "web", "write", "out.txt", "run").Success(t)
	path := filepath.Join(host, "out.txt")
	if got := readFile(t, path); got != "run" {
		t.Errorf("run -v -w: out.txt holds %q", got)
	}
	if uid := fileOwner(t, path); uid != 4321 {
		t.Errorf("run -u 4321: the file is owned by uid %d", uid)
	}
}

func httpGet(url string) (string, error) {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func TestCmdRunPublish(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  web:
    image: IMAGE
`)
	port := freePort(t)
	p.Compose("run", "-d", "-p", fmt.Sprintf("127.0.0.1:%d:80", port), "web", "serve", "80", "published").Success(t)
	var body string
	Eventually(t, 20*time.Second, func() bool {
		body, _ = httpGet(fmt.Sprintf("http://127.0.0.1:%d/", port))
		return body == "published"
	}, "the one-off's published port to answer")
}

func TestCmdRunServicePorts(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	p := NewProject(t, fmt.Sprintf(`
services:
  web:
    image: IMAGE
    ports: ["127.0.0.1:%d:80"]
`, port))
	// Without --service-ports the service's ports are not published.
	r := p.Compose("run", "-d", "web", "serve", "80").Success(t)
	if b := InspectContainer(t, strings.TrimSpace(r.Stdout)).HostConfig.PortBindings; len(b) != 0 {
		t.Errorf("run without --service-ports published %v", b)
	}
	p.Compose("run", "-d", "--service-ports", "web", "serve", "80", "service-ports").Success(t)
	Eventually(t, 20*time.Second, func() bool {
		body, _ := httpGet(fmt.Sprintf("http://127.0.0.1:%d/", port))
		return body == "service-ports"
	}, "the service's port to answer for the one-off")
}

func TestCmdRunUseAliases(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  api:
    image: IMAGE
  client:
    image: IMAGE
`)
	p.Compose("run", "-d", "--use-aliases", "api", "serve", "80", "via-alias").Success(t)
	r := p.Compose("run", "--rm", "--no-deps", "client", "http-get", "http://api:80/")
	if r.ExitCode != 0 || !strings.Contains(r.Stdout, "via-alias") {
		t.Errorf("another one-off could not reach the --use-aliases one-off as api:\n%s", r)
	}
}

func TestCmdRunWithoutUseAliasesIsNotReachableByServiceName(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  api:
    image: IMAGE
  client:
    image: IMAGE
`)
	p.Compose("run", "-d", "api", "serve", "80", "no-alias").Success(t)
	r := p.Compose("run", "--rm", "--no-deps", "client", "http-get", "http://api:80/")
	if r.ExitCode == 0 {
		t.Errorf("a one-off without --use-aliases answered as api:\n%s", r)
	}
}

func TestCmdRunServiceReachesOneOffByServiceName(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  api:
    image: IMAGE
  client:
    image: IMAGE
`)
	p.Up("client")
	p.Compose("run", "-d", "--use-aliases", "api", "serve", "80", "from-oneoff").Success(t)
	var out string
	Eventually(t, 20*time.Second, func() bool {
		var ok bool
		out, ok = Exec(p.ContainerName("client", 1), "http-get", "http://api:80/")
		return ok && strings.Contains(out, "from-oneoff")
	}, "the client service to reach the one-off as api")
}
