package run

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/composer-orchestrator/composer/bench/internal/shape"
	"github.com/composer-orchestrator/composer/internal/proxy"
)

// stat is the median of a cell's successful samples.
type stat struct {
	n, failed int
	wall, cpu time.Duration
	rss       int64
	calls     int
}

func median[T int | int64 | time.Duration](xs []T) T {
	if len(xs) == 0 {
		return 0
	}
	s := append([]T(nil), xs...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func summarize(ss []Sample) stat {
	var st stat
	var wall, cpu []time.Duration
	var rss []int64
	var calls []int
	for _, s := range ss {
		if s.Err != nil {
			st.failed++
			continue
		}
		st.n++
		wall = append(wall, s.Wall)
		cpu = append(cpu, s.CPU)
		rss = append(rss, s.MaxRSS)
		calls = append(calls, s.Calls)
	}
	st.wall, st.cpu, st.rss, st.calls = median(wall), median(cpu), median(rss), median(calls)
	return st
}

// Report writes one markdown section per shape: median wall times and
// ratios, then each tool's CPU time, peak memory and API calls.
func Report(w io.Writer, res *Results, shapes []shape.Project, tools []Tool, verbose bool) {
	var floorName, composerName string
	var others []string // compose tools other than composer
	for _, t := range tools {
		switch {
		case t.Floor:
			floorName = t.Name
		case t.Name == "composer":
			composerName = t.Name
		default:
			others = append(others, t.Name)
		}
	}
	for _, p := range shapes {
		fmt.Fprintf(w, "\n### %s (%d services)\n\n", p.Shape, len(p.Services))
		// Wall times and ratios.
		head := []string{"operation"}
		for _, t := range tools {
			head = append(head, t.Name)
		}
		type ratio struct{ num, den string }
		var ratios []ratio
		if floorName != "" {
			for _, t := range tools {
				if !t.Floor {
					ratios = append(ratios, ratio{t.Name, floorName})
				}
			}
		}
		if composerName != "" {
			for _, o := range others {
				ratios = append(ratios, ratio{composerName, o})
			}
		}
		// For reads, every command is also put against the same tool's
		// version command: the cost of starting that tool at all.
		var selfRatios []string
		if p.Reads {
			for _, t := range tools {
				if !t.Floor && t.Name != "composer-noprobe" {
					selfRatios = append(selfRatios, t.Name)
				}
			}
		}
		for _, r := range ratios {
			head = append(head, r.num+" ÷ "+r.den)
		}
		for _, n := range selfRatios {
			head = append(head, n+" ÷ "+n+" version")
		}
		row(w, head)
		row(w, dashes(len(head)))
		ops := OpsFor(p)
		for _, op := range ops {
			cells := []string{opLabel(p, op)}
			st := map[string]stat{}
			for _, t := range tools {
				s := summarize(res.Samples[Key{p.Shape, t.Name, op}])
				st[t.Name] = s
				cells = append(cells, cellWall(s))
			}
			for _, r := range ratios {
				cells = append(cells, ratioCell(st[r.num], st[r.den]))
			}
			for _, n := range selfRatios {
				if op == OpUp || op == OpDown {
					cells = append(cells, "–")
					continue
				}
				cells = append(cells, ratioCell(st[n], summarize(res.Samples[Key{p.Shape, n, OpVersion}])))
			}
			row(w, cells)
		}
		// Resources.
		fmt.Fprintf(w, "\nCPU time (user+sys, %% of wall) · peak RSS · API calls:\n\n")
		head = []string{"operation"}
		for _, t := range tools {
			head = append(head, t.Name)
		}
		row(w, head)
		row(w, dashes(len(head)))
		for _, op := range ops {
			cells := []string{opLabel(p, op)}
			for _, t := range tools {
				s := summarize(res.Samples[Key{p.Shape, t.Name, op}])
				if s.n == 0 {
					cells = append(cells, "–")
					continue
				}
				c := fmt.Sprintf("%s (%.0f%%) · %.0f MB", fmtDur(s.cpu), 100*float64(s.cpu)/float64(s.wall), float64(s.rss)/1e6)
				if s.calls >= 0 {
					c += fmt.Sprintf(" · %d", s.calls)
				}
				cells = append(cells, c)
			}
			row(w, cells)
		}
		if verbose {
			for _, t := range tools {
				for _, op := range ops {
					if kinds := res.CallKinds[Key{p.Shape, t.Name, op}]; len(kinds) > 0 {
						fmt.Fprintf(w, "\n%s %s calls:\n```\n%s```\n", t.Name, op, proxy.Format(kinds))
					}
				}
			}
		}
	}
	if len(res.Errors) > 0 {
		fmt.Fprintf(w, "\n### Errors\n\n")
		for _, e := range res.Errors {
			fmt.Fprintf(w, "- %s\n", e)
		}
	}
}

func ratioCell(a, b stat) string {
	if a.n == 0 || b.n == 0 || b.wall == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", float64(a.wall)/float64(b.wall))
}

// opLabel names an operation's row; a reads shape's up and down happen
// once per tool.
func opLabel(p shape.Project, op Op) string {
	if p.Reads && (op == OpUp || op == OpDown) {
		return string(op) + " (once)"
	}
	return string(op)
}

func cellWall(s stat) string {
	switch {
	case s.n == 0 && s.failed == 0:
		return "–"
	case s.n == 0:
		return "failed"
	case s.failed > 0:
		return fmt.Sprintf("%s (%d failed)", fmtDur(s.wall), s.failed)
	}
	return fmtDur(s.wall)
}

func row(w io.Writer, cells []string) {
	fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
}

func dashes(n int) []string {
	d := make([]string, n)
	for i := range d {
		d[i] = "---"
	}
	return d
}
