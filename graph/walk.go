package graph

import (
	"context"
	"sort"
	"sync"

	"golang.org/x/sync/errgroup"
)

// WalkOptions tune a walk.
type WalkOptions struct {
	// Reverse visits a node only after everything that depends on it (for
	// stopping and removing); otherwise a node is visited after everything
	// it depends on.
	Reverse bool
	// Parallel bounds how many visits run at once; 0 or less means no bound.
	Parallel int
	// Only restricts the walk to these nodes; edges to nodes outside it are
	// treated as already satisfied. Nil means every node.
	Only []string
}

// Walk calls visit once per node, each as soon as the nodes it must follow
// have been visited successfully. The first error cancels the context given
// to running visits, no further visit starts, and Walk returns that error.
//
// A visit takes a concurrency slot only once it is ready to run, so a bound
// limits work but can never leave a ready node waiting on a slot held by a
// node that is itself waiting.
func (g *Graph) Walk(ctx context.Context, opts WalkOptions, visit func(ctx context.Context, node string) error) error {
	in := g.walked(opts.Only)
	before, after := g.deps, g.dependents
	if opts.Reverse {
		before, after = after, before
	}
	remaining := map[string]int{}
	var roots []string
	for n := range in {
		for _, b := range before[n] {
			if in[b] {
				remaining[n]++
			}
		}
		if remaining[n] == 0 {
			roots = append(roots, n)
		}
	}
	sort.Strings(roots)

	var sem chan struct{}
	if opts.Parallel > 0 {
		sem = make(chan struct{}, opts.Parallel)
	}
	eg, ctx := errgroup.WithContext(ctx)
	// mu guards remaining: visits finishing on different goroutines each
	// decrement the counters of their successors, and exactly one of them
	// must see a counter reach zero and launch that successor.
	var mu sync.Mutex
	var launch func(n string)
	launch = func(n string) {
		eg.Go(func() error {
			if sem != nil {
				select {
				case sem <- struct{}{}:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			err := ctx.Err()
			if err == nil {
				err = visit(ctx, n)
			}
			if sem != nil {
				<-sem
			}
			if err != nil {
				return err
			}
			var ready []string
			mu.Lock()
			for _, a := range after[n] {
				if !in[a] {
					continue
				}
				remaining[a]--
				if remaining[a] == 0 {
					ready = append(ready, a)
				}
			}
			mu.Unlock()
			for _, r := range ready {
				launch(r)
			}
			return nil
		})
	}
	for _, r := range roots {
		launch(r)
	}
	return eg.Wait()
}

// walked is the set of nodes a walk restricted to only visits: every node
// when only is nil, else those of only that are in the graph.
func (g *Graph) walked(only []string) map[string]bool {
	in := map[string]bool{}
	if only == nil {
		for _, n := range g.nodes {
			in[n] = true
		}
		return in
	}
	for _, n := range only {
		if g.Has(n) {
			in[n] = true
		}
	}
	return in
}
