package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/composer-orchestrator/composer/orchestrator"
)

type logsOptions struct {
	follow, timestamps, noColor, noPrefix bool
	tail, since, until                    string
	index                                 int
}

func (a *app) logsCommand() *cobra.Command {
	var o logsOptions
	cmd := &cobra.Command{
		Use:               "logs [OPTIONS] [SERVICE...]",
		Short:             "View output from containers",
		ValidArgsFunction: a.completeServices,
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := a.readTarget(cmd, args, o.index)
			if err != nil {
				return err
			}
			orc, err := a.orchestrator(cmd.Context(), nil)
			if err != nil {
				return err
			}
			printer := newLogPrinter(a.streams.Out, a.streams.Err, a.colors() && !o.noColor && isTerminal(a.streams.Out), o.noPrefix)
			// The names known now set the prefix width from the first line.
			if cs, err := orc.Ps(cmd.Context(), t, orchestrator.PsOptions{All: true}); err == nil {
				for _, c := range cs {
					printer.reserve(c.Name)
				}
			}
			return orc.Logs(cmd.Context(), t.Project, orchestrator.LogOptions{
				Services: args, Follow: o.follow, Tail: o.tail, Since: o.since, Until: o.until,
				Timestamps: o.timestamps, Index: o.index,
			}, printer)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.follow, "follow", "f", false, "Follow log output")
	f.BoolVarP(&o.timestamps, "timestamps", "t", false, "Show timestamps")
	f.BoolVar(&o.noColor, "no-color", false, "Produce monochrome output")
	f.BoolVar(&o.noPrefix, "no-log-prefix", false, "Don't print prefix in logs")
	f.StringVarP(&o.tail, "tail", "n", "all", "Number of lines to show from the end of the logs for each container")
	f.StringVar(&o.since, "since", "", "Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)")
	f.StringVar(&o.until, "until", "", "Show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)")
	f.IntVar(&o.index, "index", 0, "index of the container if service has multiple replicas")
	return cmd
}

type psOptions struct {
	all, quiet, services bool
	status               []string
	filter               string
	format               string
	orphans              bool
}

func (a *app) psCommand() *cobra.Command {
	var o psOptions
	cmd := &cobra.Command{
		Use:               "ps [OPTIONS] [SERVICE...]",
		Short:             "List containers",
		ValidArgsFunction: a.completeServices,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := orchestrator.PsOptions{All: o.all, Status: o.status, NoOrphans: !o.orphans}
			if o.filter != "" {
				k, v, ok := strings.Cut(o.filter, "=")
				if !ok || k != "status" {
					return usageError(cmd, fmt.Sprintf("invalid filter %q: only status=<value> is supported", o.filter))
				}
				opts.Status = append(opts.Status, v)
			}
			if err := checkFormat(cmd, o.format); err != nil {
				return err
			}
			var t orchestrator.Target
			var err error
			if o.orphans {
				t, err = a.readTarget(cmd, args, 0)
			} else {
				// Telling orphans needs the services the file defines.
				t, opts.Project, err = a.targetProject(cmd, args, 0)
			}
			if err != nil {
				return err
			}
			cs, err := query(cmd, a, func(orc *orchestrator.Orchestrator) ([]orchestrator.ContainerSummary, error) {
				return orc.Ps(cmd.Context(), t, opts)
			})
			if err != nil {
				return err
			}
			if o.format == "json" {
				a.markProbed(t.Project, cs)
			}
			return a.printPS(cs, o)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.all, "all", "a", false, "Show all stopped containers (including those created by the run command)")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "Only display IDs")
	f.BoolVar(&o.services, "services", false, "Display services")
	f.StringArrayVar(&o.status, "status", nil, "Filter services by status. Values: [paused | restarting | removing | running | dead | created | exited]")
	f.StringVar(&o.filter, "filter", "", "Filter services by a property (supported filters: status)")
	f.StringVar(&o.format, "format", "table", "Format output using a custom template: 'table', 'json'")
	f.BoolVar(&o.orphans, "orphans", true, "Include orphaned services (not declared by project)")
	return cmd
}

func (a *app) printPS(cs []orchestrator.ContainerSummary, o psOptions) error {
	out := a.streams.Out
	switch {
	case o.quiet:
		for _, c := range cs {
			fmt.Fprintln(out, c.ID)
		}
		return nil
	case o.services:
		seen := map[string]bool{}
		for _, c := range cs {
			if !seen[c.Service] {
				seen[c.Service] = true
				fmt.Fprintln(out, c.Service)
			}
		}
		return nil
	case o.format == "json":
		return jsonLines(out, cs)
	}
	tw := tabwriter.NewWriter(out, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, "NAME\tIMAGE\tCOMMAND\tSERVICE\tCREATED\tSTATUS\tPORTS")
	for _, c := range cs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.Name, c.Image, quoteCommand(c.Command), c.Service, c.RunningFor, c.Status, c.Ports)
	}
	return tw.Flush()
}

// jsonLines writes one JSON object a line.
func jsonLines[T any](w io.Writer, items []T) error {
	for _, it := range items {
		b, err := json.Marshal(it)
		if err != nil {
			return err
		}
		fmt.Fprintln(w, string(b))
	}
	return nil
}

func quoteCommand(c string) string {
	if len(c) > 20 {
		c = c[:19] + "…"
	}
	return strconv.Quote(c)
}

func (a *app) lsCommand() *cobra.Command {
	var all, quiet bool
	var format string
	var filters []string
	cmd := &cobra.Command{
		Use:   "ls [OPTIONS]",
		Short: "List running compose projects",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(cmd, format); err != nil {
				return err
			}
			opts := orchestrator.ProjectsOptions{All: all}
			for _, f := range filters {
				k, v, ok := strings.Cut(f, "=")
				if !ok || k != "name" {
					return usageError(cmd, fmt.Sprintf("invalid filter %q: only name=<project> is supported", f))
				}
				opts.Names = append(opts.Names, v)
			}
			projects, err := query(cmd, a, func(orc *orchestrator.Orchestrator) ([]orchestrator.ProjectSummary, error) {
				return orc.Projects(cmd.Context(), opts)
			})
			if err != nil {
				return err
			}
			return printProjects(a.streams.Out, projects, quiet, format)
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "Show all stopped Compose projects")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "Only display project names")
	cmd.Flags().StringVar(&format, "format", "table", "Format the output. Values: [table | json]")
	cmd.Flags().StringArrayVar(&filters, "filter", nil, "Filter output based on conditions provided (supported: name=<project>)")
	return cmd
}

func printProjects(w io.Writer, projects []orchestrator.ProjectSummary, quiet bool, format string) error {
	return listing[orchestrator.ProjectSummary]{
		id:     func(p orchestrator.ProjectSummary) string { return p.Name },
		header: "NAME\tSTATUS\tCONFIG FILES",
		row: func(p orchestrator.ProjectSummary) string {
			return fmt.Sprintf("%s\t%s\t%s", p.Name, p.Status, p.ConfigFiles)
		},
	}.print(w, projects, quiet, format)
}

// listing renders a list as ls and images do: one name or id a line with
// -q, one JSON array with --format json, or a table.
type listing[T any] struct {
	id     func(T) string
	header string
	row    func(T) string
}

func (l listing[T]) print(w io.Writer, items []T, quiet bool, format string) error {
	switch {
	case quiet:
		for _, it := range items {
			fmt.Fprintln(w, l.id(it))
		}
		return nil
	case format == "json":
		b, err := json.Marshal(items)
		if err != nil {
			return err
		}
		fmt.Fprintln(w, string(b))
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, l.header)
	for _, it := range items {
		fmt.Fprintln(tw, l.row(it))
	}
	return tw.Flush()
}

func (a *app) topCommand() *cobra.Command {
	return &cobra.Command{
		Use:               "top [SERVICES...]",
		Short:             "Display the running processes",
		ValidArgsFunction: a.completeServices,
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := a.readTarget(cmd, args, 0)
			if err != nil {
				return err
			}
			procs, err := query(cmd, a, func(orc *orchestrator.Orchestrator) ([]orchestrator.ContainerProcesses, error) {
				return orc.Processes(cmd.Context(), t)
			})
			if err != nil {
				return err
			}
			for _, c := range procs {
				fmt.Fprintln(a.streams.Out, c.Container)
				tw := tabwriter.NewWriter(a.streams.Out, 0, 0, 3, ' ', 0)
				fmt.Fprintln(tw, strings.Join(c.Titles, "\t"))
				for _, p := range c.Processes {
					fmt.Fprintln(tw, strings.Join(p, "\t"))
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				fmt.Fprintln(a.streams.Out)
			}
			return nil
		},
	}
}

func (a *app) portCommand() *cobra.Command {
	var protocol string
	var index int
	cmd := &cobra.Command{
		Use:   "port [OPTIONS] SERVICE PRIVATE_PORT",
		Short: "Print the public port for a port binding",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			port, err := strconv.ParseUint(args[1], 10, 16)
			if err != nil {
				return usageError(cmd, fmt.Sprintf("invalid port %q", args[1]))
			}
			t, err := a.readTarget(cmd, args[:1], index)
			if err != nil {
				return err
			}
			addr, err := query(cmd, a, func(orc *orchestrator.Orchestrator) (string, error) {
				return orc.Port(cmd.Context(), t, uint16(port), protocol)
			})
			if err != nil {
				return err
			}
			fmt.Fprintln(a.streams.Out, addr)
			return nil
		},
	}
	cmd.Flags().StringVar(&protocol, "protocol", "tcp", "tcp or udp")
	cmd.Flags().IntVar(&index, "index", 0, "Index of the container if service has multiple replicas")
	return cmd
}

func (a *app) imagesCommand() *cobra.Command {
	var quiet bool
	var format string
	cmd := &cobra.Command{
		Use:               "images [OPTIONS] [SERVICE...]",
		Short:             "List images used by the created containers",
		ValidArgsFunction: a.completeServices,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(cmd, format); err != nil {
				return err
			}
			t, err := a.readTarget(cmd, args, 0)
			if err != nil {
				return err
			}
			images, err := query(cmd, a, func(orc *orchestrator.Orchestrator) ([]orchestrator.ImageSummary, error) {
				return orc.Images(cmd.Context(), t)
			})
			if err != nil {
				return err
			}
			return printImages(a.streams.Out, images, quiet, format)
		},
	}
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "Only display IDs")
	cmd.Flags().StringVar(&format, "format", "table", "Format the output. Values: [table | json]")
	return cmd
}

func printImages(w io.Writer, images []orchestrator.ImageSummary, quiet bool, format string) error {
	return listing[orchestrator.ImageSummary]{
		id:     func(img orchestrator.ImageSummary) string { return img.ID },
		header: "CONTAINER\tREPOSITORY\tTAG\tIMAGE ID\tSIZE",
		row: func(img orchestrator.ImageSummary) string {
			id := strings.TrimPrefix(img.ID, "sha256:")
			if len(id) > 12 {
				id = id[:12]
			}
			return fmt.Sprintf("%s\t%s\t%s\t%s\t%.1fMB", img.ContainerName, img.Repository, img.Tag, id, float64(img.Size)/1e6)
		},
	}.print(w, images, quiet, format)
}

// query runs one read operation; reads report no progress.
func query[T any](cmd *cobra.Command, a *app, op func(*orchestrator.Orchestrator) (T, error)) (T, error) {
	orc, err := a.orchestrator(cmd.Context(), nil)
	if err != nil {
		var zero T
		return zero, err
	}
	return op(orc)
}

// checkFormat refuses a --format other than table and json.
func checkFormat(cmd *cobra.Command, format string) error {
	if format != "table" && format != "json" {
		return usageError(cmd, fmt.Sprintf("unsupported format %q: use table or json", format))
	}
	return nil
}
