// Package graph holds an immutable dependency graph of named nodes and walks
// it in dependency order (or its reverse) with bounded concurrency.
//
// The graph knows nothing of engines; project.go adapts a compose project to
// it. Every listing is sorted so that errors and plans are the same on every
// run.
package graph

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Graph is an immutable set of nodes and "depends on" edges.
type Graph struct {
	nodes      []string
	deps       map[string][]string
	dependents map[string][]string
}

// New builds a graph from nodes and, per node, the nodes it depends on. It
// fails when an edge names an unknown node or when the edges form a cycle.
func New(nodes []string, deps map[string][]string) (*Graph, error) {
	g := &Graph{
		nodes:      slices.Clone(nodes),
		deps:       map[string][]string{},
		dependents: map[string][]string{},
	}
	sort.Strings(g.nodes)
	g.nodes = slices.Compact(g.nodes)
	known := map[string]bool{}
	for _, n := range g.nodes {
		known[n] = true
	}
	var problems []error
	for _, n := range g.nodes {
		ds := slices.Clone(deps[n])
		sort.Strings(ds)
		ds = slices.Compact(ds)
		for _, d := range ds {
			if !known[d] {
				problems = append(problems, fmt.Errorf("service %q depends on undefined service %q", n, d))
				continue
			}
			g.deps[n] = append(g.deps[n], d)
			g.dependents[d] = append(g.dependents[d], n)
		}
	}
	for n := range deps {
		if !known[n] {
			problems = append(problems, fmt.Errorf("dependencies given for undefined service %q", n))
		}
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	for _, ds := range g.dependents {
		sort.Strings(ds)
	}
	if cycle := g.findCycle(); cycle != nil {
		return nil, fmt.Errorf("dependency cycle: %s", strings.Join(cycle, " -> "))
	}
	return g, nil
}

// Nodes lists every node, sorted.
func (g *Graph) Nodes() []string { return slices.Clone(g.nodes) }

// Has reports whether n is a node of the graph.
func (g *Graph) Has(n string) bool {
	_, found := slices.BinarySearch(g.nodes, n)
	return found
}

// Deps lists what n depends on directly, sorted.
func (g *Graph) Deps(n string) []string { return slices.Clone(g.deps[n]) }

// Dependents lists what depends on n directly, sorted.
func (g *Graph) Dependents(n string) []string { return slices.Clone(g.dependents[n]) }

// WithDependencies returns names plus everything they depend on,
// transitively, sorted.
func (g *Graph) WithDependencies(names ...string) []string {
	return g.closure(names, g.deps)
}

// WithDependents returns names plus everything that depends on them,
// transitively, sorted.
func (g *Graph) WithDependents(names ...string) []string {
	return g.closure(names, g.dependents)
}

func (g *Graph) closure(names []string, edges map[string][]string) []string {
	seen := map[string]bool{}
	stack := slices.Clone(names)
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[n] {
			continue
		}
		seen[n] = true
		stack = append(stack, edges[n]...)
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Order returns the nodes in a deterministic dependency order: every node
// after all it depends on, ties broken by name.
func (g *Graph) Order() []string {
	remaining := map[string]int{}
	for _, n := range g.nodes {
		remaining[n] = len(g.deps[n])
	}
	var ready, out []string
	for _, n := range g.nodes {
		if remaining[n] == 0 {
			ready = append(ready, n)
		}
	}
	for len(ready) > 0 {
		sort.Strings(ready)
		n := ready[0]
		ready = ready[1:]
		out = append(out, n)
		for _, d := range g.dependents[n] {
			remaining[d]--
			if remaining[d] == 0 {
				ready = append(ready, d)
			}
		}
	}
	return out
}

// findCycle returns the first cycle met by a depth-first search in name
// order, as a path that ends where it starts, or nil.
func (g *Graph) findCycle() []string {
	const (
		unvisited = iota
		onPath
		done
	)
	state := map[string]int{}
	var path []string
	var visit func(n string) []string
	visit = func(n string) []string {
		state[n] = onPath
		path = append(path, n)
		for _, d := range g.deps[n] {
			switch state[d] {
			case onPath:
				start := slices.Index(path, d)
				return append(slices.Clone(path[start:]), d)
			case unvisited:
				if c := visit(d); c != nil {
					return c
				}
			}
		}
		path = path[:len(path)-1]
		state[n] = done
		return nil
	}
	for _, n := range g.nodes {
		if state[n] == unvisited {
			if c := visit(n); c != nil {
				return c
			}
		}
	}
	return nil
}
