package e2e

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httputil"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const statsProject = `
services:
  web:
    image: IMAGE
    scale: 2
  db:
    image: IMAGE
    mem_limit: 64m
`

// TestStatsNoStreamShowsEveryContainer: one table of the running
// containers with docker stats' columns, or one JSON object each.
func TestStatsNoStreamShowsEveryContainer(t *testing.T) {
	t.Parallel()
	p := NewProject(t, statsProject)
	p.Up()
	r := p.Compose("stats", "--no-stream").Success(t)
	lines := nonEmptyLines(r.Stdout)
	if len(lines) != 4 {
		t.Fatalf("want a header and 3 rows:\n%s", r)
	}
	if got := strings.Join(strings.Fields(lines[0]), " "); got != "CONTAINER ID NAME CPU % MEM USAGE / LIMIT MEM % NET I/O BLOCK I/O PIDS" {
		t.Errorf("header %q", lines[0])
	}
	for _, n := range []string{p.ContainerName("web", 1), p.ContainerName("web", 2), p.ContainerName("db", 1)} {
		id := InspectContainer(t, n).ID[:12]
		if !strings.Contains(r.Stdout, id+"   "+n) {
			t.Errorf("no row for %s (%s):\n%s", n, id, r.Stdout)
		}
	}
	r = p.Compose("stats", "--no-stream", "--format", "json", "db").Success(t)
	var row map[string]string
	if err := json.Unmarshal([]byte(strings.TrimSpace(r.Stdout)), &row); err != nil {
		t.Fatalf("--format json: %v\n%s", err, r)
	}
	if row["Name"] != p.ContainerName("db", 1) || !strings.HasSuffix(row["MemUsage"], " / 64MiB") || !strings.HasSuffix(row["CPUPerc"], "%") {
		t.Errorf("db's row: %v", row)
	}
	r = p.Compose("stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}}", "web").Success(t)
	if got := nonEmptyLines(r.Stdout); len(got) != 2 || !strings.HasPrefix(got[0], p.ContainerName("web", 1)+" ") {
		t.Errorf("template output:\n%s", r.Stdout)
	}
}

// TestStatsStreamEndsOnCtrlCWithZero: the stream prints table after table
// until Ctrl-C, which ends it with exit code 0 as docker compose does.
func TestStatsStreamEndsOnCtrlCWithZero(t *testing.T) {
	t.Parallel()
	p := NewProject(t, statsProject)
	p.Up()
	bg := p.StartCompose("stats", "db")
	Eventually(t, 30*time.Second, func() bool { return strings.Count(bg.Stdout(), "CONTAINER ID") >= 3 }, "three tables")
	bg.Signal(syscall.SIGINT)
	r := bg.Wait(10 * time.Second)
	if r.ExitCode != 0 {
		t.Errorf("exit code %d after Ctrl-C, want 0:\n%s", r.ExitCode, r)
	}
	if !strings.Contains(r.Stdout, p.ContainerName("db", 1)) {
		t.Errorf("the stream does not show db:\n%s", r.Stdout)
	}
}

// recordingEngine stands between composer and the engine and records
// each request's method, path and query.
type recordingEngine struct {
	// mu guards reqs: requests are served on many goroutines.
	mu   sync.Mutex
	reqs []string
}

func (r *recordingEngine) requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.reqs...)
}

// startRecordingEngine returns the recorder and the DOCKER_HOST entry
// that routes through it.
func startRecordingEngine(t *testing.T) (*recordingEngine, string) {
	t.Helper()
	sock := "/var/run/docker.sock"
	if h, ok := os.LookupEnv("DOCKER_HOST"); ok && h != "" {
		s, ok := strings.CutPrefix(h, "unix://")
		if !ok {
			t.Fatalf("recording calls needs a unix socket engine, DOCKER_HOST is %s", h)
		}
		sock = s
	}
	path := filepath.Join(t.TempDir(), "engine.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recordingEngine{}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.Out.URL.Scheme, r.Out.URL.Host, r.Out.Host = "http", "docker", r.In.Host
		},
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}},
		FlushInterval: -1,
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery)
		rec.mu.Unlock()
		rp.ServeHTTP(w, r)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return rec, "DOCKER_HOST=unix://" + path
}

// pushes are the image pushes among the recorded requests.
func (r *recordingEngine) pushes() []string {
	var out []string
	for _, q := range r.requests() {
		if strings.HasPrefix(q, "POST ") && strings.Contains(q, "/images/") && strings.Contains(q, "/push") {
			out = append(out, q)
		}
	}
	return out
}

// TestPushSendsTheServicesImagesToTheirRegistry: no registry answers
// here, so the scenario checks what composer asked the engine to push,
// the error shown and the exit code.
func TestPushSendsTheServicesImagesToTheirRegistry(t *testing.T) {
	t.Parallel()
	repo := "localhost:1/e2e-" + randomSuffix()
	p := NewProject(t, `
services:
  app:
    image: `+repo+`/app:1
    build: ./app
  plain:
    image: IMAGE
`)
	p.WriteFile("app/Dockerfile", "FROM IMAGE\n")
	Docker(t, "tag", testImage, repo+"/app:1")
	removeImagesAtEnd(t, repo+"/app:1")
	rec, host := startRecordingEngine(t)

	r := RunComposer(t, Cmd{Dir: p.Dir, Args: []string{"-p", p.Name, "push"}, Env: []string{host}})
	r.Failure(t, 1).Mentions(t, repo+"/app:1", "localhost:1")
	pushes := rec.pushes()
	if len(pushes) != 1 || !strings.Contains(pushes[0], "/images/"+repo+"/app/push") || !strings.Contains(pushes[0], "tag=1") {
		t.Errorf("pushed %v, want only %s/app:1 (plain has no build section)", pushes, repo)
	}

	r = RunComposer(t, Cmd{Dir: p.Dir, Args: []string{"-p", p.Name, "push", "--ignore-push-failures"}, Env: []string{host}})
	r.Success(t).Mentions(t, "warning:", repo+"/app:1")
	if n := len(rec.pushes()); n != 2 {
		t.Errorf("%d push requests after the second push, want 2", n)
	}

	r = RunComposer(t, Cmd{Dir: p.Dir, Args: []string{"-p", p.Name, "--dry-run", "push"}, Env: []string{host}})
	r.Success(t)
	if n := len(rec.pushes()); n != 2 {
		t.Errorf("a dry run sent a push request: %v", rec.pushes())
	}
}
