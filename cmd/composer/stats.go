package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"text/template"

	"github.com/spf13/cobra"

	"github.com/composer-orchestrator/composer/orchestrator"
)

type statsOptions struct {
	all, noStream, noTrunc bool
	format                 string
}

func (a *app) statsCommand() *cobra.Command {
	var o statsOptions
	cmd := &cobra.Command{
		Use:   "stats [OPTIONS] [SERVICE]",
		Short: "Display a live stream of container(s) resource usage statistics",
		Long: `Display a live stream of container(s) resource usage statistics.

The table is redrawn in place on a terminal, and printed again and again
otherwise, until Ctrl-C, which ends it with exit code 0.`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: a.completeServices,
		RunE: func(cmd *cobra.Command, args []string) error {
			render, err := newStatsRenderer(o.format, !o.noTrunc)
			if err != nil {
				return usageError(cmd, err.Error())
			}
			t, err := a.readTarget(cmd, args, 0)
			if err != nil {
				return err
			}
			orc, err := a.orchestrator(cmd.Context(), nil)
			if err != nil {
				return err
			}
			opts := orchestrator.StatsOptions{All: o.all, Stream: !o.noStream}
			if len(args) > 0 {
				opts.Service = args[0]
			}
			ctx := cmd.Context()
			if opts.Stream {
				// Ctrl-C ends the stream, and the command with success,
				// as docker stats ends.
				var stop context.CancelFunc
				ctx, stop = context.WithCancel(ctx)
				defer stop()
				interrupts := a.interrupts()
				go func() {
					select {
					case <-interrupts:
						stop()
					case <-ctx.Done():
					}
				}()
			}
			clear := opts.Stream && isTerminal(a.streams.Out)
			return orc.Stats(ctx, t.Project, opts, func(rows []orchestrator.ContainerStats) error {
				var buf bytes.Buffer
				if clear {
					buf.WriteString("\033[2J\033[H")
				}
				if err := render(&buf, rows); err != nil {
					return err
				}
				_, err := a.streams.Out.Write(buf.Bytes())
				return err
			})
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.all, "all", "a", false, "Show all containers (default shows just running)")
	f.StringVar(&o.format, "format", "", `Format output using a custom template:
'table':            Print output in table format with column headers (default)
'table TEMPLATE':   Print output in table format using the given Go template
'json':             Print in JSON format
'TEMPLATE':         Print output using the given Go template.
Refer to https://docs.docker.com/engine/cli/formatting/ for more information about formatting output with templates`)
	f.BoolVar(&o.noStream, "no-stream", false, "Disable streaming stats and only pull the first result")
	f.BoolVar(&o.noTrunc, "no-trunc", false, "Do not truncate output")
	return cmd
}

const defaultStatsFormat = "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}"

// statsHeaders are the column titles of docker stats' fields.
var statsHeaders = map[string]string{
	"Container": "CONTAINER",
	"Name":      "NAME",
	"ID":        "CONTAINER ID",
	"CPUPerc":   "CPU %",
	"MemUsage":  "MEM USAGE / LIMIT",
	"MemPerc":   "MEM %",
	"NetIO":     "NET I/O",
	"BlockIO":   "BLOCK I/O",
	"PIDs":      "PIDS",
}

// newStatsRenderer parses --format as docker stats does: table (the
// default), "table TEMPLATE" (with column titles), json (an object a
// line) or a Go template applied to each container.
func newStatsRenderer(format string, trunc bool) (func(io.Writer, []orchestrator.ContainerStats) error, error) {
	switch format {
	case "", "table":
		format = defaultStatsFormat
	case "json":
		format = "{{json .}}"
	}
	table := false
	if rest, ok := strings.CutPrefix(format, "table"); ok && (rest == "" || rest[0] == ' ') {
		table, format = true, strings.TrimSpace(rest)
		if format == "" {
			format = strings.TrimPrefix(defaultStatsFormat, "table ")
		}
	}
	// As docker's formatter: \t and \n typed on the command line mean
	// a tab and a new line.
	format = strings.NewReplacer(`\t`, "\t", `\n`, "\n").Replace(format)
	tmpl, err := template.New("stats").Funcs(formatFuncs).Parse(format + "\n")
	if err != nil {
		return nil, fmt.Errorf("invalid --format: %w", err)
	}
	return func(w io.Writer, rows []orchestrator.ContainerStats) error {
		out := w
		var tw *tabwriter.Writer
		if table {
			tw = tabwriter.NewWriter(w, 10, 1, 3, ' ', 0)
			out = tw
			if err := tmpl.Execute(out, statsHeaders); err != nil {
				return err
			}
		}
		for _, r := range rows {
			if err := tmpl.Execute(out, statsFields(r, trunc)); err != nil {
				return err
			}
		}
		if tw != nil {
			return tw.Flush()
		}
		return nil
	}, nil
}

// statsFields are one container's columns as docker stats prints them.
func statsFields(r orchestrator.ContainerStats, trunc bool) map[string]string {
	id := r.ID
	if trunc && len(id) > 12 {
		id = id[:12]
	}
	short := r.ID
	if len(short) > 12 {
		short = short[:12]
	}
	name := r.Name
	if name == "" {
		name = "--"
	}
	return map[string]string{
		"Container": short,
		"Name":      name,
		"ID":        id,
		"CPUPerc":   percent(r.CPUPercent),
		"MemUsage":  binarySize(float64(r.Memory)) + " / " + binarySize(float64(r.MemoryLimit)),
		"MemPerc":   percent(r.MemoryPercent),
		"NetIO":     decimalSize(float64(r.NetRx)) + " / " + decimalSize(float64(r.NetTx)),
		"BlockIO":   decimalSize(float64(r.BlockRead)) + " / " + decimalSize(float64(r.BlockWrite)),
		"PIDs":      strconv.FormatUint(r.PIDs, 10),
	}
}

func percent(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) + "%" }

// binarySize renders bytes as docker's units.BytesSize: 1024-based, four
// significant digits ("1.5MiB").
func binarySize(v float64) string {
	return scaled(v, 1024, []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}, 4)
}

// decimalSize renders bytes as docker's units.HumanSizeWithPrecision(v,
// 3): 1000-based, three significant digits ("1.23kB").
func decimalSize(v float64) string {
	return scaled(v, 1000, []string{"B", "kB", "MB", "GB", "TB", "PB", "EB"}, 3)
}

func scaled(v, base float64, units []string, precision int) string {
	i := 0
	for v >= base && i < len(units)-1 {
		v /= base
		i++
	}
	s := strconv.FormatFloat(v, 'g', precision, 64)
	if strings.Contains(s, "e") {
		// %g switches to an exponent for 1000..1023 KiB and the like;
		// docker's %.4g does too, but a plain number reads better.
		s = strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	}
	return s + units[i]
}
