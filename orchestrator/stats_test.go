package orchestrator

import (
	"context"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/composer-orchestrator/composer/engine"
)

func TestUsageComputesAsDockerStats(t *testing.T) {
	t.Parallel()
	prev := engine.StatsSample{CPUTotal: 1e9, SystemCPU: 100e9}
	tests := []struct {
		name    string
		s       engine.StatsSample
		prev    *engine.StatsSample
		cpu     float64
		mem     uint64
		memPerc float64
	}{
		{name: "the reading's own previous counters",
			s:   engine.StatsSample{CPUTotal: 3e9, PreCPUTotal: 2e9, SystemCPU: 20e9, PreSystemCPU: 10e9, OnlineCPUs: 4, MemoryUsage: 300, MemoryCache: 100, MemoryLimit: 1000},
			cpu: 40, mem: 200, memPerc: 20},
		{name: "no previous counters: the reading before",
			s: engine.StatsSample{CPUTotal: 1.5e9, SystemCPU: 102e9, OnlineCPUs: 2}, prev: &prev, cpu: 50},
		{name: "no previous at all: since the start",
			s: engine.StatsSample{CPUTotal: 1e9, SystemCPU: 100e9, OnlineCPUs: 1}, cpu: 1},
		{name: "no CPU used", s: engine.StatsSample{CPUTotal: 5, PreCPUTotal: 5, SystemCPU: 10, PreSystemCPU: 5, OnlineCPUs: 1}},
		{name: "no limit, cache above usage", s: engine.StatsSample{MemoryUsage: 10, MemoryCache: 20}, mem: 10},
	}
	for _, tt := range tests {
		u := Usage(tt.s, tt.prev)
		if math.Abs(u.CPUPercent-tt.cpu) > 1e-9 || u.Memory != tt.mem || math.Abs(u.MemoryPercent-tt.memPerc) > 1e-9 {
			t.Errorf("%s: cpu %v mem %v (%v%%), want %v, %v (%v%%)", tt.name, u.CPUPercent, u.Memory, u.MemoryPercent, tt.cpu, tt.mem, tt.memPerc)
		}
	}
}

// TestStatsStreamFollowsContainers: a stream shows a container started
// after it began, and drops one that stops (kept with All).
func TestStatsStreamFollowsContainers(t *testing.T) {
	t.Parallel()
	const a = `services:
  a:
    image: img
`
	onlyA, both := loadYAML(t, "st", a), loadYAML(t, "st", a+`  b:
    image: img
`)
	for _, all := range []bool{false, true} {
		eng, o, _ := newFake("img")
		eng.SetStatsInterval(10 * time.Millisecond)
		mustUp(t, o, onlyA, UpOptions{})
		ctx := testCtx(t)
		var mu sync.Mutex // guards last: the stream reports on its goroutine
		var last []string
		report := func(rows []ContainerStats) error {
			var names []string
			for _, r := range rows {
				names = append(names, r.Name)
			}
			mu.Lock()
			last = names
			mu.Unlock()
			return nil
		}
		shows := func(want string) func() bool {
			return func() bool {
				mu.Lock()
				defer mu.Unlock()
				return strings.Join(last, ",") == want
			}
		}
		done := make(chan error, 1)
		sctx, stop := context.WithCancel(ctx)
		go func() {
			done <- o.Stats(sctx, "st", StatsOptions{Stream: true, All: all, Interval: 10 * time.Millisecond}, report)
		}()
		waitUntil(t, shows("st-a-1"))
		mustUp(t, o, both, UpOptions{})
		waitUntil(t, shows("st-a-1,st-b-1"))
		if err := o.Stop(ctx, Target{Project: "st", Services: []string{"b"}}, nil); err != nil {
			t.Fatal(err)
		}
		if all {
			time.Sleep(100 * time.Millisecond)
			waitUntil(t, shows("st-a-1,st-b-1"))
		} else {
			waitUntil(t, shows("st-a-1"))
		}
		stop()
		if err := <-done; err != nil {
			t.Errorf("a stream ended by its caller returned %v", err)
		}
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
