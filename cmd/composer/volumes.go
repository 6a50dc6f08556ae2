package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"text/template"

	"github.com/spf13/cobra"

	"github.com/composer-orchestrator/composer/orchestrator"
)

func (a *app) volumesCommand() *cobra.Command {
	var quiet bool
	var format string
	cmd := &cobra.Command{
		Use:               "volumes [OPTIONS] [SERVICE...]",
		Short:             "List volumes",
		ValidArgsFunction: a.completeServices,
		RunE: func(cmd *cobra.Command, args []string) error {
			tmpl, err := volumeTemplate(format, quiet)
			if err != nil {
				return usageError(cmd, err.Error())
			}
			t, err := a.readTarget(cmd, args, 0)
			if err != nil {
				return err
			}
			vs, err := query(cmd, a, func(orc *orchestrator.Orchestrator) ([]orchestrator.VolumeSummary, error) {
				return orc.Volumes(cmd.Context(), t)
			})
			if err != nil {
				return err
			}
			return tmpl.write(a.streams.Out, vs)
		},
	}
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "Only display volume names")
	cmd.Flags().StringVar(&format, "format", "table", "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates")
	return cmd
}

// volumeRow is a volume as the Docker CLI's volume formatter shows it:
// the fields of `docker volume ls --format`, and the keys of its json.
// The list call carries no usage data and composer makes no cluster
// volumes, so those fields say N/A as they do there.
type volumeRow struct {
	Name, Driver, Scope, Mountpoint, Labels, Links, Size, Group, Availability, Status string
	labels                                                                            map[string]string
}

// Label returns one label's value, as {{.Label "key"}} in a template.
func (r volumeRow) Label(name string) string { return r.labels[name] }

func newVolumeRow(v orchestrator.VolumeSummary) volumeRow {
	var labels []string
	for _, k := range slices.Sorted(maps.Keys(v.Labels)) {
		labels = append(labels, k+"="+v.Labels[k])
	}
	return volumeRow{
		Name: v.Name, Driver: v.Driver, Scope: "local", Mountpoint: v.Mountpoint, Labels: strings.Join(labels, ","),
		Links: "N/A", Size: "N/A", Group: "N/A", Availability: "N/A", Status: "N/A", labels: v.Labels,
	}
}

// volumeHeaders are the table's column titles, by field.
var volumeHeaders = volumeRow{
	Name: "VOLUME NAME", Driver: "DRIVER", Scope: "SCOPE", Mountpoint: "MOUNTPOINT", Labels: "LABELS",
	Links: "LINKS", Size: "SIZE", Group: "GROUP", Availability: "AVAILABILITY", Status: "STATUS",
}

// volumeFormat is a parsed --format: a Go template run once per volume,
// with a header row when it is a table.
type volumeFormat struct {
	tmpl  *template.Template
	table bool
	json  bool
}

// volumeTemplate parses --format as the Docker CLI does: "table" (DRIVER
// and VOLUME NAME, or the names alone with -q), "json" (one object a
// line), "table TEMPLATE" or a bare Go template.
func volumeTemplate(format string, quiet bool) (volumeFormat, error) {
	f := volumeFormat{}
	text := format
	switch {
	case quiet && format != "table":
		// Docker compose prints the names and drops --format then.
		return f, fmt.Errorf("--quiet and --format %q are incompatible: -q prints the names only", format)
	case quiet:
		text = "{{.Name}}"
	case format == "table":
		text, f.table = "{{.Driver}}\t{{.Name}}", true
	case format == "json":
		f.json = true
		return f, nil
	case strings.HasPrefix(format, "table "):
		text, f.table = strings.TrimPrefix(format, "table "), true
	}
	tmpl, err := template.New("format").Funcs(formatFuncs).Parse(text)
	if err != nil {
		return f, fmt.Errorf("invalid --format %q: %w", format, err)
	}
	f.tmpl = tmpl
	return f, nil
}

func (f volumeFormat) write(w io.Writer, vs []orchestrator.VolumeSummary) error {
	if f.json {
		for _, v := range vs {
			b, err := json.Marshal(newVolumeRow(v))
			if err != nil {
				return err
			}
			fmt.Fprintln(w, string(b))
		}
		return nil
	}
	out := w
	var tw *tabwriter.Writer
	if f.table {
		// The Docker CLI's table: columns at least 10 wide, 3 apart.
		tw = tabwriter.NewWriter(w, 10, 1, 3, ' ', 0)
		out = tw
		if err := f.tmpl.Execute(out, volumeHeaders); err != nil {
			return fmt.Errorf("formatting the header: %w", err)
		}
		fmt.Fprintln(out)
	}
	for _, v := range vs {
		if err := f.tmpl.Execute(out, newVolumeRow(v)); err != nil {
			return fmt.Errorf("formatting volume %s: %w", v.Name, err)
		}
		fmt.Fprintln(out)
	}
	if tw != nil {
		return tw.Flush()
	}
	return nil
}
