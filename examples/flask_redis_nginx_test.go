package examples_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// ensureLocalImages runs the offline image builder; it does nothing when the
// image with the current recipe exists (the first build takes a minute or two).
func ensureLocalImages(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(repoRoot(t), "examples", "local-images", "build.sh"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("examples/local-images/build.sh: %v\n%s", err, out)
	}
	t.Logf("local images ready in %s:\n%s", time.Since(start).Round(time.Millisecond), out)
}

var seenRe = regexp.MustCompile(`seen (\d+) times`)

// visit asks nginx for / once and returns the count the app answered.
// Connection errors and gateway errors are retried: they reach no app, so
// they count no visit.
func visit(t *testing.T, port int) int {
	t.Helper()
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	client := http.Client{Timeout: 5 * time.Second}
	var body string
	deadline := time.Now().Add(30 * time.Second)
	for {
		status, b, err := get(&client, url)
		if err == nil && status == http.StatusOK {
			body = b
			break
		}
		if err == nil && status != http.StatusBadGateway && status != http.StatusServiceUnavailable &&
			status != http.StatusGatewayTimeout {
			t.Fatalf("GET %s: status %d: %s", url, status, b)
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: no answer in 30s: status %d, error %v, body %q", url, status, err, b)
		}
		time.Sleep(200 * time.Millisecond)
	}
	m := seenRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("GET %s: no count in %q", url, body)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func get(c *http.Client, url string) (int, string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func projectVolumes(t *testing.T, name string) []string {
	t.Helper()
	_, _, v := resources(t, name)
	return v
}

// The counter goes through nginx to the app and into redis; redis's named
// volume keeps it across down/up and down -v resets it. Runs on the local
// Debian-package images, which need no registry.
func TestFlaskRedisNginxOffline(t *testing.T) {
	t.Parallel()
	requireEngine(t)
	ensureLocalImages(t)

	p := newProject(t, "flask-redis-nginx", "frn", "compose.yaml", "compose.local.yaml")
	port := freePort(t)
	p.env = []string{fmt.Sprintf("NGINX_PORT=%d", port)}
	p.cleanupAfter()

	p.must("up", "-d", "--wait")
	cs := inspectProject(t, p.name)
	for _, svc := range []string{"redis", "app", "nginx"} {
		c, ok := cs[svc]
		if !ok || !c.State.Running {
			t.Fatalf("service %s is not running after up --wait: %+v", svc, c.State)
		}
	}
	// up --wait returns once composer's own probe of each health check
	// passes, which may be before the engine's first check (every 2 s).
	for _, svc := range []string{"redis", "app", "nginx"} {
		if h := cs[svc].State.Health; h == nil || h.Status == "unhealthy" {
			t.Errorf("service %s after up --wait: health %+v", svc, h)
		}
	}
	eventually(t, 15*time.Second, "the engine to find every service healthy", func() bool {
		for _, c := range inspectProject(t, p.name) {
			if c.State.Health == nil || c.State.Health.Status != "healthy" {
				return false
			}
		}
		return true
	})
	// depends_on: each service started after the one it waits for.
	if !cs["app"].State.StartedAt.After(cs["redis"].State.StartedAt) ||
		!cs["nginx"].State.StartedAt.After(cs["app"].State.StartedAt) {
		t.Errorf("start order: redis %s, app %s, nginx %s",
			cs["redis"].State.StartedAt, cs["app"].State.StartedAt, cs["nginx"].State.StartedAt)
	}

	first := visit(t, port)
	second := visit(t, port)
	if first != 1 || second != 2 {
		t.Fatalf("counts on a new project = %d, %d; want 1, 2", first, second)
	}

	p.must("down")
	if c, _, _ := resources(t, p.name); len(c) != 0 {
		t.Fatalf("containers left after down: %v", c)
	}
	if v := projectVolumes(t, p.name); len(v) != 1 {
		t.Fatalf("volumes after down = %v; want the redis data volume kept", v)
	}
	p.must("up", "-d", "--wait")
	if got := visit(t, port); got != second+1 {
		t.Fatalf("count after down and up = %d; want %d (kept in the volume)", got, second+1)
	}

	p.must("down", "-v")
	if c, n, v := resources(t, p.name); len(c)+len(n)+len(v) != 0 {
		t.Fatalf("left after down -v: containers %v, networks %v, volumes %v", c, n, v)
	}
	p.must("up", "-d", "--wait")
	if got := visit(t, port); got != 1 {
		t.Fatalf("count after down -v and up = %d; want 1 (a new volume)", got)
	}
}
