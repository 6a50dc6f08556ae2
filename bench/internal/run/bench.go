package run

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/moby/moby/client"
	"golang.org/x/sync/errgroup"

	"github.com/composer-orchestrator/composer/bench/internal/floor"
	"github.com/composer-orchestrator/composer/bench/internal/shape"
	"github.com/composer-orchestrator/composer/internal/proxy"
	"github.com/composer-orchestrator/composer/labels"
)

// Config is one benchmark run.
type Config struct {
	Shapes []shape.Project
	Tools  []Tool
	// Runs is the number of cycles per shape and tool; tools take turns,
	// in a rotated order each run, so slow drift hits them alike.
	Runs    int
	WorkDir string
	// Client is used for untimed checks and cleanup.
	Client *client.Client
	// Proxy, if set, is put in front of every tool to count API calls.
	Proxy *proxy.Proxy
	// FloorEnv is added to the floor's environment (the API version, so
	// that it need not negotiate).
	FloorEnv []string
	// Settle is the pause between operations, to let the engine finish
	// asynchronous work (network teardown) before the next measurement.
	Settle time.Duration
	// Timeout bounds every operation.
	Timeout time.Duration
	// Reps is how many times a reads shape runs each read command (its
	// project is brought up once per tool, whatever Runs says).
	Reps int
	// RunID goes into every project name, so that a run never trips over
	// what an earlier, interrupted one left behind.
	RunID string
	Log   io.Writer
}

// Key identifies one cell of the results.
type Key struct {
	Shape string
	Tool  string
	Op    Op
}

// Results are the raw samples of a benchmark.
type Results struct {
	Samples map[Key][]Sample
	// CallKinds is the per-endpoint call count of each cell's first run.
	CallKinds map[Key]map[string]int
	Errors    []string
}

// MarshalJSON writes the samples as a flat list, for later analysis.
func (r *Results) MarshalJSON() ([]byte, error) {
	type row struct {
		Shape, Tool, Op string
		WallMS, CPUMS   float64
		MaxRSSBytes     int64
		Calls           int
		Error           string `json:",omitempty"`
	}
	var rows []row
	for k, ss := range r.Samples {
		for _, s := range ss {
			e := ""
			if s.Err != nil {
				e = s.Err.Error()
			}
			rows = append(rows, row{k.Shape, k.Tool, string(k.Op), ms(s.Wall), ms(s.CPU), s.MaxRSS, s.Calls, e})
		}
	}
	return json.Marshal(rows)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

var unsafeName = regexp.MustCompile(`[^a-z0-9_-]+`)

func projectName(shapeName, tool, runID string) string {
	return unsafeName.ReplaceAllString(strings.ToLower("cb"+runID+"-"+shapeName+"-"+tool), "-")
}

// Bench runs every cycle and returns the samples; failures are recorded
// and the run goes on with the next cycle.
func Bench(ctx context.Context, cfg Config) *Results {
	res := &Results{Samples: map[Key][]Sample{}, CallKinds: map[Key]map[string]int{}}
	for _, base := range cfg.Shapes {
		if base.Reads {
			for _, t := range cfg.Tools {
				if ctx.Err() != nil {
					return res
				}
				readsCycle(ctx, cfg, res, base, t)
			}
			continue
		}
		for run := range cfg.Runs {
			for i := range cfg.Tools {
				if ctx.Err() != nil {
					return res
				}
				t := cfg.Tools[(i+run)%len(cfg.Tools)]
				cycle(ctx, cfg, res, base, t, run)
			}
		}
	}
	return res
}

// cell runs op once and records the sample; it reports the sample's error
// (the operation's, or the check's after it).
func (cfg Config) cell(ctx context.Context, res *Results, base, current shape.Project, t Tool, op Op, tg Target, run int) error {
	var env []string
	if cfg.Proxy != nil {
		env = append(env, "DOCKER_HOST="+cfg.Proxy.Host())
		cfg.Proxy.Take()
	}
	if t.Floor {
		env = append(env, cfg.FloorEnv...)
	}
	s := t.Exec(ctx, op, tg, env, cfg.Timeout)
	k := Key{base.Shape, t.Name, op}
	if cfg.Proxy != nil {
		var kinds map[string]int
		s.Calls, kinds = cfg.Proxy.Take()
		if _, ok := res.CallKinds[k]; !ok {
			res.CallKinds[k] = kinds
		}
	}
	if s.Err == nil {
		s.Err = verify(ctx, cfg.Client, current, op)
	}
	res.Samples[k] = append(res.Samples[k], s)
	calls := ""
	if s.Calls >= 0 {
		calls = fmt.Sprintf(" %4d calls", s.Calls)
	}
	fmt.Fprintf(cfg.Log, "  %-10s %-16s run %d %-12s %9s  cpu %8s  rss %5.1f MB%s\n",
		base.Shape, t.Name, run+1, op, fmtDur(s.Wall), fmtDur(s.CPU), float64(s.MaxRSS)/1e6, calls)
	return s.Err
}

func (cfg Config) settle(ctx context.Context) error {
	select {
	case <-time.After(cfg.Settle):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// readsCycle brings a reads shape up once with tool t (the floor with its
// own up), times every read command Reps times in turn, then takes it down.
func readsCycle(ctx context.Context, cfg Config, res *Results, base shape.Project, t Tool) {
	p := base
	p.Name = projectName(base.Shape, t.Name, cfg.RunID+"1")
	dir := filepath.Join(cfg.WorkDir, p.Name)
	tg := Target{
		Project: p.Name, Dir: dir, ComposeFile: filepath.Join(dir, "compose.yaml"), SpecFile: filepath.Join(dir, "spec.json"),
		EmptyDir: filepath.Join(cfg.WorkDir, "empty"), PortService: p.ReadService, Port: p.ReadPort,
	}
	fail := func(format string, args ...any) {
		msg := fmt.Sprintf("%s: ", p.Name) + fmt.Sprintf(format, args...)
		res.Errors = append(res.Errors, msg)
		fmt.Fprintln(cfg.Log, "  ERROR", msg)
	}
	cleanup, ok := prepare(ctx, cfg, p.Name, fail, dir, tg.EmptyDir)
	if !ok {
		return
	}
	defer cleanup()
	current := p.WithGen(0)
	if err := write(tg, current); err != nil {
		fail("%v", err)
		return
	}
	if err := cfg.cell(ctx, res, base, current, t, OpUp, tg, 0); err != nil {
		fail("%v", err)
		return
	}
	reps := max(cfg.Reps, 1)
	for rep := range reps {
		for _, op := range ReadOps {
			if !t.Supports(op) {
				continue
			}
			if cfg.settle(ctx) != nil {
				return
			}
			if err := cfg.cell(ctx, res, base, current, t, op, tg, rep); err != nil {
				fail("%v", err)
			}
		}
	}
	if cfg.settle(ctx) != nil {
		return
	}
	if err := cfg.cell(ctx, res, base, current, t, OpDown, tg, 0); err != nil {
		fail("%v", err)
	}
}

// prepare makes a cycle's directories and removes what an earlier run
// left of its project; the function it returns removes the project again.
// It reports failures through fail, and false when the cycle cannot run.
func prepare(ctx context.Context, cfg Config, project string, fail func(string, ...any), dirs ...string) (func(), bool) {
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			fail("%v", err)
			return nil, false
		}
	}
	if err := removeProject(ctx, cfg.Client, project); err != nil {
		fail("cleaning up before the cycle: %v", err)
		return nil, false
	}
	return func() {
		if err := removeProject(context.WithoutCancel(ctx), cfg.Client, project); err != nil {
			fail("cleaning up after the cycle: %v", err)
		}
	}, true
}

func cycle(ctx context.Context, cfg Config, res *Results, base shape.Project, t Tool, run int) {
	p := base
	p.Name = projectName(base.Shape, t.Name, fmt.Sprintf("%s%d", cfg.RunID, run+1))
	dir := filepath.Join(cfg.WorkDir, p.Name)
	tg := Target{Project: p.Name, Dir: dir, ComposeFile: filepath.Join(dir, "compose.yaml"), SpecFile: filepath.Join(dir, "spec.json")}
	fail := func(format string, args ...any) {
		msg := fmt.Sprintf("%s run %d: ", p.Name, run+1) + fmt.Sprintf(format, args...)
		res.Errors = append(res.Errors, msg)
		fmt.Fprintln(cfg.Log, "  ERROR", msg)
	}
	cleanup, ok := prepare(ctx, cfg, p.Name, fail, dir)
	if !ok {
		return
	}
	defer cleanup()

	current := p.WithGen(0)
	for _, op := range OpsFor(p) {
		if !t.Supports(op) {
			continue
		}
		if op == OpChange {
			current = p.WithGen(1)
		}
		if err := write(tg, current); err != nil {
			fail("%v", err)
			return
		}
		if err := cfg.cell(ctx, res, base, current, t, op, tg, run); err != nil {
			fail("%v", err)
			// Only ps leaves the project as it found it; after any other
			// failure the later measurements would not mean what they say.
			if op != OpPs {
				return
			}
		}
		if cfg.settle(ctx) != nil {
			return
		}
	}
}

func write(tg Target, p shape.Project) error {
	if err := os.WriteFile(tg.ComposeFile, p.ComposeYAML(), 0o644); err != nil {
		return err
	}
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(tg.SpecFile, b, 0o644)
}

// verify checks the engine state an operation should have left, untimed.
func verify(ctx context.Context, cli *client.Client, p shape.Project, op Op) error {
	switch op {
	case OpPs, OpVersion, OpPsNoFile, OpLogs, OpTop, OpPort, OpImages, OpConfig:
		return nil
	case OpDown:
		f := make(client.Filters).Add("label", labels.Project+"="+p.Name)
		cs, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
		if err != nil {
			return err
		}
		ns, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: f})
		if err != nil {
			return err
		}
		if len(cs.Items)+len(ns.Items) > 0 {
			return fmt.Errorf("down left %d containers and %d networks", len(cs.Items), len(ns.Items))
		}
		return nil
	}
	if err := floor.Check(ctx, cli, p); err != nil {
		return fmt.Errorf("after %s: %w", op, err)
	}
	return nil
}

// removeProject force-removes whatever a project left behind.
func removeProject(ctx context.Context, cli *client.Client, project string) error {
	f := make(client.Filters).Add("label", labels.Project+"="+project)
	cs, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return err
	}
	eg, ectx := errgroup.WithContext(ctx)
	eg.SetLimit(16)
	for _, c := range cs.Items {
		eg.Go(func() error {
			_, err := cli.ContainerRemove(ectx, c.ID, client.ContainerRemoveOptions{Force: true})
			return err
		})
	}
	if err := eg.Wait(); err != nil {
		return err
	}
	ns, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return err
	}
	var errs []error
	for _, n := range ns.Items {
		if _, err := cli.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{}); err != nil {
			// Engine 20.10 can be left believing a network still has
			// endpoints after its containers are gone ("has active
			// endpoints"); only a daemon restart clears that, so report it
			// and carry on under a fresh project name next time.
			errs = append(errs, fmt.Errorf("removing network %s: %w", n.Name, err))
		}
	}
	return errors.Join(errs...)
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= 100*time.Millisecond:
		return fmt.Sprintf("%.0f ms", ms(d))
	default:
		return fmt.Sprintf("%.1f ms", ms(d))
	}
}
