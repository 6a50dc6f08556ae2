// Command watchbench measures composer watch: how long an edited file
// takes to be visible in the container (p50, p95, max over a burst of
// edits), and what the watching process costs in CPU while nothing
// changes.
//
// It brings up a one-service project with a develop.watch sync rule
// through `composer watch`, and edits files on the host. The service
// runs bench/internal/watchprobe (FROM scratch, built by composer watch
// from the project's build section), which reads the synced directory
// every millisecond and prints when each file's content changes, with
// the time: an edit's latency is from its write to the probe's first
// sight of its content or a later one. (Reading the container back
// through the engine's archive API instead would add that API's own
// time, hundreds of milliseconds on Docker 20.10, to every sample.)
// Idle CPU is the watcher's utime+stime from /proc/PID/stat over a
// quiet period.
//
// Run from the repository root after go build -o bin/composer ./cmd/composer:
//
//	go run ./bench/cmd/watchbench [-edits 100] [-interval 5ms] [-idle 30s]
package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/engine/docker"
)

// probePackage is the program the service runs.
const probePackage = "github.com/composer-orchestrator/composer/bench/internal/watchprobe"

// probeImage is the image composer builds for the service.
const probeImage = "composer-bench/watchprobe:latest"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "watchbench:", err)
		os.Exit(1)
	}
}

func run() error {
	composer := flag.String("composer", "bin/composer", "composer binary under test")
	edits := flag.Int("edits", 100, "edits in the burst")
	files := flag.Int("files", 20, "files the edits cycle through")
	interval := flag.Duration("interval", 5*time.Millisecond, "time between two edits of the burst")
	spaced := flag.Int("spaced", 20, "edits made one at a time afterwards (each waits for the previous to arrive), 0 for none")
	idle := flag.Duration("idle", 30*time.Second, "idle period for the CPU measure")
	flag.Parse()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bin, err := filepath.Abs(*composer)
	if err != nil {
		return err
	}
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("%s: %w (go build -o bin/composer ./cmd/composer)", bin, err)
	}
	eng, err := docker.New(ctx, "")
	if err != nil {
		return err
	}
	defer eng.Close()

	dir, err := os.MkdirTemp("", "watchbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	name := fmt.Sprintf("cbwatch%d", os.Getpid())
	src := filepath.Join(dir, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return err
	}
	for i := 0; i < *files; i++ {
		if err := os.WriteFile(filepath.Join(src, fileName(i)), []byte("-1"), 0o644); err != nil {
			return err
		}
	}
	probeDir := filepath.Join(dir, "probe")
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(probeDir, "probe"), probePackage)
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("compiling %s (run from the repository): %w\n%s", probePackage, err, out)
	}
	if err := os.WriteFile(filepath.Join(probeDir, "Dockerfile"), []byte("FROM scratch\nCOPY probe /probe\nENTRYPOINT [\"/probe\", \"/src\"]\n"), 0o644); err != nil {
		return err
	}
	compose := fmt.Sprintf(`services:
  app:
    image: %s
    build: ./probe
    labels: {composer-bench: "1"}
    develop:
      watch:
        - path: ./src
          action: sync
          target: /src
          initial_sync: true
`, probeImage)
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(compose), 0o644); err != nil {
		return err
	}
	defer func() {
		down := exec.Command(bin, "-p", name, "down", "-t", "1")
		down.Dir = dir
		_ = down.Run()
	}()

	// composer watch, its output scanned for "Watch enabled".
	cmd := exec.Command(bin, "-p", name, "watch")
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	enabled := make(chan struct{})
	var syncs, lines int
	var outMu sync.Mutex
	go func() {
		sc := bufio.NewScanner(stdout)
		once := sync.Once{}
		for sc.Scan() {
			outMu.Lock()
			lines++
			if strings.HasPrefix(sc.Text(), "Synced service") {
				syncs++
			}
			outMu.Unlock()
			if strings.Contains(sc.Text(), "Watch enabled") {
				once.Do(func() { close(enabled) })
			}
		}
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
		}
	}()
	select {
	case <-enabled:
	case err := <-exited:
		return fmt.Errorf("composer watch ended: %v", err)
	case <-time.After(2 * time.Minute):
		return errors.New("composer watch did not start")
	}
	container := name + "-app-1"
	probe := followProbe(ctx, eng, container)
	// The initial sync: every file is there before the clock starts.
	if err := probe.waitFor(func(m map[string]int) bool { return len(m) == *files }); err != nil {
		return fmt.Errorf("initial sync: %w", err)
	}
	outMu.Lock()
	syncs = 0
	outMu.Unlock()

	// The burst.
	lat, err := burst(probe, src, *edits, *files, *interval)
	if err != nil {
		return err
	}
	outMu.Lock()
	burstSyncs := syncs
	outMu.Unlock()
	report(fmt.Sprintf("burst: %d edits, one every %s, over %d files", *edits, *interval, *files), lat)
	fmt.Printf("syncs for the burst: %d\n\n", burstSyncs)

	// One edit at a time: the latency of a lone save.
	if *spaced > 0 {
		var one []time.Duration
		for i := 0; i < *spaced; i++ {
			l, err := burst(probe, src, 1, *files, 0)
			if err != nil {
				return err
			}
			one = append(one, l...)
			time.Sleep(200 * time.Millisecond)
		}
		report(fmt.Sprintf("spaced: %d single edits, each after the previous arrived", *spaced), one)
		fmt.Println()
	}

	// The engine's floor: the same one-file change copied straight into
	// the container with one CopyToContainer, no watcher in between.
	if *spaced > 0 {
		var floor []time.Duration
		for i := 0; i < *spaced; i++ {
			l, err := direct(ctx, eng, probe, container, *files)
			if err != nil {
				return err
			}
			floor = append(floor, l)
			time.Sleep(200 * time.Millisecond)
		}
		report(fmt.Sprintf("floor: %d single copies straight through the archive API (CopyToContainer)", *spaced), floor)
		fmt.Println()
	}

	// Idle CPU.
	time.Sleep(2 * time.Second)
	before, err := cpuTime(cmd.Process.Pid)
	if err != nil {
		return err
	}
	start := time.Now()
	time.Sleep(*idle)
	after, err := cpuTime(cmd.Process.Pid)
	if err != nil {
		return err
	}
	wall := time.Since(start)
	used := after - before
	fmt.Printf("idle: %s of CPU (user+sys) over %s = %.3f%% of one CPU (clock tick 10 ms)\n", used, wall.Round(time.Millisecond), 100*used.Seconds()/wall.Seconds())
	return nil
}

var generation int

// probe is what the container's watchprobe saw: each file's value, and
// when it first saw each value.
type probe struct {
	// mu guards seen and at: the log follower writes while burst reads.
	mu   sync.Mutex
	seen map[string]int
	// sights are every (file, value, time) in the order seen.
	sights []sight
	err    error
}

type sight struct {
	file  string
	value int
	at    time.Time
}

// followProbe follows the container's log, where watchprobe prints.
func followProbe(ctx context.Context, eng *docker.Engine, container string) *probe {
	p := &probe{seen: map[string]int{}}
	pr, pw := io.Pipe()
	go func() {
		err := eng.ContainerLogs(ctx, container, engine.LogOptions{Follow: true, Tail: "all"}, pw, io.Discard)
		pw.CloseWithError(err)
	}()
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) != 3 {
				continue
			}
			v, err1 := strconv.Atoi(f[1])
			ns, err2 := strconv.ParseInt(f[2], 10, 64)
			if err1 != nil || err2 != nil {
				continue
			}
			p.mu.Lock()
			p.seen[f[0]] = v
			p.sights = append(p.sights, sight{file: f[0], value: v, at: time.Unix(0, ns)})
			p.mu.Unlock()
		}
		p.mu.Lock()
		p.err = fmt.Errorf("the probe's log ended: %v", sc.Err())
		p.mu.Unlock()
	}()
	return p
}

func (p *probe) waitFor(cond func(map[string]int) bool) error {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		ok, err := cond(p.seen), p.err
		p.mu.Unlock()
		if ok {
			return nil
		}
		if err != nil {
			return err
		}
		time.Sleep(5 * time.Millisecond)
	}
	return errors.New("timed out")
}

// burst makes n edits, interval apart, cycling through the files, each
// file's content a rising number, and returns each edit's latency: from
// its write to the probe's first sight of that number or a later one in
// its file.
func burst(p *probe, src string, n, files int, interval time.Duration) ([]time.Duration, error) {
	type edit struct {
		file  string
		value int
		at    time.Time
	}
	all := make([]edit, n)
	for i := 0; i < n; i++ {
		generation++
		e := edit{file: fileName(generation % files), value: generation, at: time.Now()}
		if err := os.WriteFile(filepath.Join(src, e.file), []byte(strconv.Itoa(e.value)), 0o644); err != nil {
			return nil, err
		}
		all[i] = e
		if interval > 0 {
			time.Sleep(interval)
		}
	}
	lat := make([]time.Duration, n)
	err := p.waitFor(func(map[string]int) bool {
		left := 0
		for i, e := range all {
			if lat[i] > 0 {
				continue
			}
			for _, s := range p.sights {
				if s.file == e.file && s.value >= e.value && s.at.After(e.at) {
					lat[i] = s.at.Sub(e.at)
					break
				}
			}
			if lat[i] == 0 {
				left++
			}
		}
		return left == 0
	})
	if err != nil {
		return nil, fmt.Errorf("edits that never arrived: %w", err)
	}
	return lat, nil
}

// direct copies one edit into the container through the archive API
// and returns how long until the probe saw it.
func direct(ctx context.Context, eng *docker.Engine, p *probe, container string, files int) (time.Duration, error) {
	generation++
	file, value := fileName(generation%files), generation
	content := strconv.Itoa(value)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: "src/" + file, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg, ModTime: time.Now()}); err != nil {
		return 0, err
	}
	if _, err := tw.Write([]byte(content)); err != nil {
		return 0, err
	}
	if err := tw.Close(); err != nil {
		return 0, err
	}
	at := time.Now()
	if err := eng.CopyToContainer(ctx, container, "/", &buf, engine.CopyOptions{CopyUIDGID: true}); err != nil {
		return 0, err
	}
	var lat time.Duration
	err := p.waitFor(func(map[string]int) bool {
		for _, s := range p.sights {
			if s.file == file && s.value >= value && s.at.After(at) {
				lat = s.at.Sub(at)
				return true
			}
		}
		return false
	})
	return lat, err
}

func fileName(i int) string { return fmt.Sprintf("f%03d.txt", i) }

func report(title string, lat []time.Duration) {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(p float64) time.Duration {
		i := int(p*float64(len(lat))+0.5) - 1
		return lat[max(0, min(i, len(lat)-1))]
	}
	fmt.Println(title)
	fmt.Printf("latency: p50 %s, p95 %s, max %s\n", q(0.50).Round(time.Millisecond), q(0.95).Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond))
}

// cpuTime is a process's user+sys CPU time from /proc/PID/stat (fields
// 14 and 15, in clock ticks of 10 ms).
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces: count from its ')'.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("parsing /proc/%d/stat", pid)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}
