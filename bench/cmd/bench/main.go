// Command bench times compose tools against the engine floor on generated
// projects. Run it by hand from the repository root:
//
//	go run ./bench/cmd/bench [flags]
//	go run ./bench/cmd/bench cleanup
//	go run ./bench/cmd/bench compose-file SHAPE   # print a shape's compose file
//
// See bench/README.md for what it measures.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/moby/moby/client"

	"github.com/composer-orchestrator/composer/bench/internal/floor"
	"github.com/composer-orchestrator/composer/bench/internal/image"
	"github.com/composer-orchestrator/composer/bench/internal/run"
	"github.com/composer-orchestrator/composer/bench/internal/shape"
	"github.com/composer-orchestrator/composer/internal/proxy"
)

const defaultShapes = "fan10,fan50,chain10,chain20,layers4x8,healthy5,job10"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(realMain(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func realMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var err error
	switch {
	case len(args) > 0 && args[0] == "floor":
		err = floorMain(ctx, args[1:], stdout)
	case len(args) > 0 && args[0] == "cleanup":
		err = cleanupMain(ctx, stderr)
	case len(args) == 2 && args[0] == "compose-file":
		var p shape.Project
		if p, err = shape.Build(args[1], shape.DefaultImage); err == nil {
			_, err = stdout.Write(p.ComposeYAML())
		}
	default:
		err = benchMain(ctx, args, stdout, stderr)
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	return 0
}

func getenv(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func benchMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	shapes := fs.String("shapes", defaultShapes, "comma-separated shapes, from: "+strings.Join(shape.Names(), ","))
	tools := fs.String("tools", "floor,compose,composer",
		"comma-separated tools: floor, composer, composer-noprobe, compose ($BENCH_COMPOSE) or NAME=[KEY=VALUE ...] COMMAND")
	composerPath := fs.String("composer", getenv("BENCH_COMPOSER", "bin/composer"), "composer binary ($BENCH_COMPOSER)")
	runs := fs.Int("runs", 3, "cycles per shape and tool; medians are reported")
	reps := fs.Int("reps", 5, "for reads shapes: times each read command runs (the project is up once per tool)")
	calls := fs.Bool("calls", false, "count API calls through a proxy on the Docker socket (adds a little latency for every tool)")
	verbose := fs.Bool("v", false, "with -calls, list calls per endpoint")
	settle := fs.Duration("settle", 300*time.Millisecond, "pause between operations")
	workdir := fs.String("workdir", "", "where to write the projects (default: a temporary directory)")
	img := fs.String("image", shape.DefaultImage, "image every service runs (built from bench/app)")
	rebuild := fs.Bool("build-image", false, "rebuild the image even if it exists")
	timeout := fs.Duration("timeout", 3*time.Minute, "kill an operation that takes longer")
	jsonOut := fs.String("json", "", "also write every sample to this JSON file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}

	self, err := os.Executable()
	if err != nil {
		return err
	}
	toolList := *tools
	if !exists(*composerPath) {
		for _, name := range []string{"composer", "composer-noprobe"} {
			if hasTool(toolList, name) {
				fmt.Fprintf(stderr, "composer not found at %s: %s not measured (go build -o bin/composer ./cmd/composer)\n", *composerPath, name)
				toolList = dropTool(toolList, name)
			}
		}
	}
	ts, err := run.ParseTools(toolList, self, *composerPath, getenv("BENCH_COMPOSE", "docker-compose"))
	if err != nil {
		return err
	}
	var projects []shape.Project
	for _, name := range strings.Split(*shapes, ",") {
		p, err := shape.Build(strings.TrimSpace(name), *img)
		if err != nil {
			return err
		}
		projects = append(projects, p)
	}

	cli, err := client.New(client.FromEnv)
	if err != nil {
		return err
	}
	defer cli.Close()
	ver, err := cli.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	if err := image.Ensure(ctx, cli, *img, *rebuild, stderr); err != nil {
		return err
	}

	dir := *workdir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "composer-bench-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return err
	}

	cfg := run.Config{
		Shapes:   projects,
		Tools:    ts,
		Runs:     *runs,
		WorkDir:  dir,
		Client:   cli,
		FloorEnv: []string{"DOCKER_API_VERSION=" + cli.ClientVersion()},
		Settle:   *settle,
		Timeout:  *timeout,
		Reps:     *reps,
		Log:      stderr,
		RunID:    strconv.FormatInt(time.Now().Unix()%46656, 36),
	}
	if *calls {
		engineSock := strings.TrimPrefix(cli.DaemonHost(), "unix://")
		if !strings.HasPrefix(cli.DaemonHost(), "unix://") {
			return fmt.Errorf("-calls needs a unix socket engine, have %s", cli.DaemonHost())
		}
		px, err := proxy.Start(filepath.Join(os.TempDir(), fmt.Sprintf("composer-bench-%d.sock", os.Getpid())), engineSock)
		if err != nil {
			return err
		}
		defer px.Close()
		cfg.Proxy = px
	}

	var names []string
	for _, t := range ts {
		names = append(names, t.Name+" ("+strings.Join(t.Argv, " ")+")")
	}
	fmt.Fprintf(stderr, "tools: %s\nshapes: %s, %d runs\n", strings.Join(names, ", "), *shapes, *runs)
	start := time.Now()
	res := run.Bench(ctx, cfg)

	fmt.Fprintf(stdout, "## Results\n\n")
	counts := fmt.Sprintf("%d runs per cell", *runs)
	for _, p := range projects {
		if p.Reads {
			counts += fmt.Sprintf(" (reads shapes: one up and down per tool, every read command %d times)", *reps)
			break
		}
	}
	fmt.Fprintf(stdout, "Machine: %d CPUs, %s memory; engine %s (API %s), %s/%s. %s, medians; total %s.\n",
		runtime.NumCPU(), memTotal(), ver.Version, ver.APIVersion, ver.Os, ver.Arch, counts, time.Since(start).Round(time.Second))
	fmt.Fprintf(stdout, "Tools: %s.\n", strings.Join(names, ", "))
	run.Report(stdout, res, projects, ts, *verbose)
	if *jsonOut != "" {
		b, err := json.MarshalIndent(res, "", " ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*jsonOut, b, 0o644); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if len(res.Errors) > 0 {
		return fmt.Errorf("%d errors", len(res.Errors))
	}
	return nil
}

func hasTool(list, name string) bool {
	for _, t := range strings.Split(list, ",") {
		if strings.TrimSpace(t) == name {
			return true
		}
	}
	return false
}

func exists(cmd string) bool {
	if strings.Contains(cmd, "/") {
		_, err := os.Stat(cmd)
		return err == nil
	}
	_, err := exec.LookPath(cmd)
	return err == nil
}

func dropTool(list, name string) string {
	var out []string
	for _, t := range strings.Split(list, ",") {
		if strings.TrimSpace(t) != name {
			out = append(out, t)
		}
	}
	return strings.Join(out, ",")
}

func memTotal() string {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "unknown"
	}
	var kb int64
	for _, line := range strings.Split(string(b), "\n") {
		if _, err := fmt.Sscanf(line, "MemTotal: %d kB", &kb); err == nil {
			return fmt.Sprintf("%.1f GB", float64(kb)/1024/1024)
		}
	}
	return "unknown"
}

// floorMain runs one floor operation: the floor is a subprocess like the
// tools, so that process start-up is in every column.
func floorMain(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("floor", flag.ContinueOnError)
	op := fs.String("op", "", "up, ps, down or version (start and exit: the cost of a process)")
	wait := fs.Bool("wait", false, "with -op up, return once every service is healthy, completed or started")
	spec := fs.String("spec", "", "project spec (JSON)")
	workdir := fs.String("workdir", "", "project working directory (for labels)")
	file := fs.String("file", "", "compose file (for labels)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *op == "version" {
		return nil
	}
	b, err := os.ReadFile(*spec)
	if err != nil {
		return err
	}
	var p shape.Project
	if err := json.Unmarshal(b, &p); err != nil {
		return fmt.Errorf("reading %s: %w", *spec, err)
	}
	cli, err := floor.NewClient()
	if err != nil {
		return err
	}
	defer cli.Close()
	o := floor.Options{Project: p, WorkingDir: *workdir, ConfigFile: *file, Wait: *wait, ProbeEvery: floor.DefaultProbeEvery}
	if v := os.Getenv("BENCH_FLOOR_LIMIT"); v != "" {
		if o.Limit, err = strconv.Atoi(v); err != nil {
			return fmt.Errorf("BENCH_FLOOR_LIMIT: %w", err)
		}
	}
	if v := os.Getenv("BENCH_FLOOR_PROBE"); v != "" {
		if v == "0" || v == "off" || v == "false" {
			o.ProbeEvery = 0
		} else if o.ProbeEvery, err = time.ParseDuration(v); err != nil {
			return fmt.Errorf("BENCH_FLOOR_PROBE: %w", err)
		}
	}
	switch *op {
	case "up":
		return floor.Up(ctx, cli, o)
	case "ps":
		return floor.Ps(ctx, cli, o, stdout)
	case "down":
		return floor.Down(ctx, cli, o)
	}
	return errors.New("floor: -op must be up, ps, down or version")
}

func cleanupMain(ctx context.Context, stderr io.Writer) error {
	cli, err := client.New(client.FromEnv)
	if err != nil {
		return err
	}
	defer cli.Close()
	n, err := floor.Cleanup(ctx, cli)
	fmt.Fprintf(stderr, "removed %d containers and networks labelled %s\n", n, shape.BenchLabel)
	return err
}
