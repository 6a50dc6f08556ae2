package main

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

const statsYAML = `services:
  web:
    image: img
    scale: 2
  db:
    image: img
    mem_limit: 64m
  job:
    image: img
    command: [exit, "0"]
`

// The fake's single reading of a container with no files: 8 MiB used of
// which 1 MiB is cache, 3 KiB received and 2 KiB sent, 5 KiB read and
// 1 KiB written, and, as the engine gives with a single reading, the
// previous one: 100ms of CPU in 2s of the system's on 2 CPUs, 10%.
func TestStatsNoStreamTable(t *testing.T) {
	t.Parallel()
	c := newCLI(t, statsYAML)
	c.must("up", "-d")
	r := c.must("stats", "--no-stream")
	lines := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("want a header and 3 running containers:\n%s", r.stdout)
	}
	header := strings.Fields(lines[0])
	if got := strings.Join(header, " "); got != "CONTAINER ID NAME CPU % MEM USAGE / LIMIT MEM % NET I/O BLOCK I/O PIDS" {
		t.Errorf("header %q", lines[0])
	}
	d, _ := c.inspect("proj-db-1")
	want := map[string]string{
		"proj-db-1":  d.ID[:12] + " proj-db-1 10.00% 7MiB / 64MiB 10.94% 3.07kB / 2.05kB 5.12kB / 1.02kB 1",
		"proj-web-1": "proj-web-1 10.00% 7MiB / 8GiB 0.09% 3.07kB / 2.05kB 5.12kB / 1.02kB 1",
	}
	for name, w := range want {
		found := false
		for _, l := range lines[1:] {
			if strings.Contains(l, " "+name+" ") {
				found = true
				if got := strings.Join(strings.Fields(l), " "); !strings.HasSuffix(got, w) {
					t.Errorf("row %q, want it to end with %q", got, w)
				}
			}
		}
		if !found {
			t.Errorf("no row for %s:\n%s", name, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "proj-job-1") {
		t.Errorf("a stopped container is listed without -a:\n%s", r.stdout)
	}
	if r := c.must("stats", "--no-stream", "-a"); !strings.Contains(r.stdout, "proj-job-1") || !strings.Contains(r.stdout, "0B / 0B") {
		t.Errorf("-a does not list the stopped container with zero usage:\n%s", r.stdout)
	}
	if r := c.must("stats", "--no-stream", "web"); strings.Contains(r.stdout, "proj-db-1") || strings.Count(r.stdout, "proj-web-") != 2 {
		t.Errorf("stats web:\n%s", r.stdout)
	}
	if r := c.must("stats", "--no-stream", "--no-trunc", "db"); !strings.Contains(r.stdout, d.ID+" ") {
		t.Errorf("--no-trunc does not show the full id %s:\n%s", d.ID, r.stdout)
	}
}

func TestStatsFormats(t *testing.T) {
	t.Parallel()
	c := newCLI(t, statsYAML)
	c.must("up", "-d")
	objs := jsonObjects(t, c.must("stats", "--no-stream", "--format", "json", "db").stdout)
	if len(objs) != 1 {
		t.Fatalf("json: %v", objs)
	}
	for _, k := range []string{"BlockIO", "CPUPerc", "Container", "ID", "MemPerc", "MemUsage", "Name", "NetIO", "PIDs"} {
		if _, ok := objs[0][k]; !ok {
			t.Errorf("json lacks %s: %v", k, objs[0])
		}
	}
	if objs[0]["Name"] != "proj-db-1" || objs[0]["MemUsage"] != "7MiB / 64MiB" {
		t.Errorf("json: %v", objs[0])
	}
	r := c.must("stats", "--no-stream", "--format", "{{.Name}}: {{.MemPerc}}", "db")
	if r.stdout != "proj-db-1: 10.94%\n" {
		t.Errorf("template output %q", r.stdout)
	}
	r = c.must("stats", "--no-stream", "--format", `table {{.Name}}\t{{.PIDs}}`, "db")
	lines := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n")
	if len(lines) != 2 || strings.Join(strings.Fields(lines[0]), " ") != "NAME PIDS" || strings.Join(strings.Fields(lines[1]), " ") != "proj-db-1 1" {
		t.Errorf("table template output:\n%s", r.stdout)
	}
	if r := c.run("stats", "--no-stream", "--format", "{{.Name"); r.code == 0 {
		t.Errorf("a broken template was accepted:\n%s", r)
	}
	if r := c.run("stats", "web", "db"); r.code == 0 {
		t.Errorf("two services were accepted:\n%s", r)
	}
}

// TestStatsStreamsUntilCtrlC: the stream prints table after table, the
// CPU share computed from two readings, and Ctrl-C ends it with 0.
func TestStatsStreamsUntilCtrlC(t *testing.T) {
	t.Parallel()
	c := newCLI(t, statsYAML)
	c.must("up", "-d")
	c.eng.SetStatsInterval(20 * time.Millisecond)
	interrupts := make(chan os.Signal, 1)
	go func() {
		time.Sleep(1500 * time.Millisecond)
		interrupts <- syscall.SIGINT
	}()
	r := c.runWithInterrupts(interrupts, "stats", "db")
	if r.code != 0 {
		t.Fatalf("exit code %d after Ctrl-C, want 0:\n%s", r.code, r)
	}
	if n := strings.Count(r.stdout, "CONTAINER ID"); n < 2 {
		t.Errorf("%d tables printed, want several:\n%s", n, r.stdout)
	}
	// 100ms of CPU in 2s of system time on 2 CPUs.
	if !strings.Contains(r.stdout, "10.00%") {
		t.Errorf("no CPU share from two readings:\n%s", r.stdout)
	}
	if strings.Contains(r.stdout, "\033[2J") {
		t.Errorf("the screen is cleared on a pipe")
	}
}
