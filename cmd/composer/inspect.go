package main

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/composer/composer/engine"
	"github.com/composer/composer/labels"
	"github.com/composer/composer/orchestrator"
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
			t, err := a.target(cmd, args, o.index)
			if err != nil {
				return err
			}
			orc, err := a.orchestrator(cmd.Context(), nil)
			if err != nil {
				return err
			}
			printer := newLogPrinter(a.streams.Out, a.streams.Err, a.colors() && !o.noColor && isTerminal(a.streams.Out), o.noPrefix)
			if cs, err := orc.Containers(cmd.Context(), t, false); err == nil {
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

// psEntry is one line of ps, in docker compose's JSON shape.
type psEntry struct {
	ID         string            `json:"ID"`
	Name       string            `json:"Name"`
	Names      string            `json:"Names"`
	Image      string            `json:"Image"`
	Command    string            `json:"Command"`
	Project    string            `json:"Project"`
	Service    string            `json:"Service"`
	Created    int64             `json:"Created"`
	CreatedAt  string            `json:"CreatedAt"`
	RunningFor string            `json:"RunningFor"`
	State      string            `json:"State"`
	Status     string            `json:"Status"`
	Health     string            `json:"Health"`
	ExitCode   int               `json:"ExitCode"`
	Ports      string            `json:"Ports"`
	Publishers []publisher       `json:"Publishers"`
	Labels     map[string]string `json:"-"`
}

type publisher struct {
	URL           string `json:"URL"`
	TargetPort    uint16 `json:"TargetPort"`
	PublishedPort uint16 `json:"PublishedPort"`
	Protocol      string `json:"Protocol"`
}

var exitedRE = regexp.MustCompile(`^Exited \((-?\d+)\)`)

func toPS(c engine.Container) psEntry {
	e := psEntry{
		ID: c.ID, Name: c.Name, Names: c.Name, Image: c.Image, Command: c.Command,
		Project: c.Labels[labels.Project], Service: c.Labels[labels.Service],
		Created: c.Created.Unix(), CreatedAt: c.Created.Format("2006-01-02 15:04:05 -0700 MST"),
		RunningFor: humanDuration(time.Since(c.Created)) + " ago",
		State:      string(c.State), Status: c.Status, Health: string(c.Health), Labels: c.Labels,
	}
	// The list call's status text carries the exit code; reading it there
	// keeps ps to a single engine call.
	if m := exitedRE.FindStringSubmatch(c.Status); m != nil {
		e.ExitCode, _ = strconv.Atoi(m[1])
	}
	var ports []string
	for _, p := range c.Ports {
		pub := publisher{URL: p.IP, TargetPort: p.PrivatePort, PublishedPort: p.PublicPort, Protocol: p.Protocol}
		e.Publishers = append(e.Publishers, pub)
		if p.PublicPort != 0 {
			ports = append(ports, fmt.Sprintf("%s:%d->%d/%s", p.IP, p.PublicPort, p.PrivatePort, p.Protocol))
		} else {
			ports = append(ports, fmt.Sprintf("%d/%s", p.PrivatePort, p.Protocol))
		}
	}
	sort.Strings(ports)
	e.Ports = strings.Join(ports, ", ")
	return e
}

func humanDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d seconds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d minutes", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}

func (a *app) psCommand() *cobra.Command {
	var o psOptions
	cmd := &cobra.Command{
		Use:               "ps [OPTIONS] [SERVICE...]",
		Short:             "List containers",
		ValidArgsFunction: a.completeServices,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, cs, err := a.listContainers(cmd, args, 0, true)
			if err != nil {
				return err
			}
			status := o.status
			if o.filter != "" {
				k, v, ok := strings.Cut(o.filter, "=")
				if !ok || k != "status" {
					return fmt.Errorf("invalid filter %q: only status=<value> is supported", o.filter)
				}
				status = append(status, v)
			}
			var entries []psEntry
			for _, c := range cs {
				if !o.all && len(status) == 0 && c.State != engine.StateRunning && c.State != engine.StateRestarting && c.State != engine.StatePaused {
					continue
				}
				if len(status) > 0 && !contains(status, string(c.State)) {
					continue
				}
				entries = append(entries, toPS(c))
			}
			return a.printPS(entries, o)
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

func (a *app) printPS(entries []psEntry, o psOptions) error {
	out := a.streams.Out
	switch {
	case o.quiet:
		for _, e := range entries {
			fmt.Fprintln(out, e.ID)
		}
		return nil
	case o.services:
		seen := map[string]bool{}
		for _, e := range entries {
			if !seen[e.Service] {
				seen[e.Service] = true
				fmt.Fprintln(out, e.Service)
			}
		}
		return nil
	case o.format == "json":
		for _, e := range entries {
			b, err := json.Marshal(e)
			if err != nil {
				return err
			}
			fmt.Fprintln(out, string(b))
		}
		return nil
	case o.format == "table" || o.format == "":
		tw := tabwriter.NewWriter(out, 0, 0, 3, ' ', 0)
		fmt.Fprintln(tw, "NAME\tIMAGE\tCOMMAND\tSERVICE\tCREATED\tSTATUS\tPORTS")
		for _, e := range entries {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Name, e.Image, quoteCommand(e.Command), e.Service, e.RunningFor, e.Status, e.Ports)
		}
		return tw.Flush()
	}
	return fmt.Errorf("unsupported format %q: use table or json", o.format)
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
	cmd := &cobra.Command{
		Use:   "ls [OPTIONS]",
		Short: "List running compose projects",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			eng, err := a.engine(cmd.Context())
			if err != nil {
				return err
			}
			cs, err := eng.ListContainers(cmd.Context(), engine.Filter{Labels: map[string]string{labels.Project: ""}})
			if err != nil {
				return fmt.Errorf("listing containers: %w", err)
			}
			return printProjects(a.streams.Out, cs, all, quiet, format)
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "Show all stopped Compose projects")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "Only display project names")
	cmd.Flags().StringVar(&format, "format", "table", "Format the output. Values: [table | json]")
	cmd.Flags().StringArray("filter", nil, "Filter output based on conditions provided")
	return cmd
}

type projectEntry struct {
	Name        string `json:"Name"`
	Status      string `json:"Status"`
	ConfigFiles string `json:"ConfigFiles"`
}

// printProjects groups containers by project label, as docker compose ls.
func printProjects(w io.Writer, cs []engine.Container, all, quiet bool, format string) error {
	type proj struct {
		states map[string]int
		files  string
	}
	projects := map[string]*proj{}
	for _, c := range cs {
		name := c.Labels[labels.Project]
		p := projects[name]
		if p == nil {
			p = &proj{states: map[string]int{}}
			projects[name] = p
		}
		p.states[string(c.State)]++
		if p.files == "" {
			p.files = c.Labels[labels.ConfigFiles]
		}
	}
	var entries []projectEntry
	for _, name := range sortedNames(projects) {
		p := projects[name]
		if !all && p.states["running"] == 0 {
			continue
		}
		var parts []string
		for _, st := range sortedNames(p.states) {
			parts = append(parts, fmt.Sprintf("%s(%d)", st, p.states[st]))
		}
		entries = append(entries, projectEntry{Name: name, Status: strings.Join(parts, ", "), ConfigFiles: p.files})
	}
	switch {
	case quiet:
		for _, e := range entries {
			fmt.Fprintln(w, e.Name)
		}
	case format == "json":
		if entries == nil {
			entries = []projectEntry{}
		}
		b, err := json.Marshal(entries)
		if err != nil {
			return err
		}
		fmt.Fprintln(w, string(b))
	default:
		tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
		fmt.Fprintln(tw, "NAME\tSTATUS\tCONFIG FILES")
		for _, e := range entries {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", e.Name, e.Status, e.ConfigFiles)
		}
		return tw.Flush()
	}
	return nil
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (a *app) topCommand() *cobra.Command {
	return &cobra.Command{
		Use:               "top [SERVICES...]",
		Short:             "Display the running processes",
		ValidArgsFunction: a.completeServices,
		RunE: func(cmd *cobra.Command, args []string) error {
			orc, cs, err := a.listContainers(cmd, args, 0, false)
			if err != nil {
				return err
			}
			for _, c := range cs {
				if c.State != engine.StateRunning {
					continue
				}
				procs, err := orc.Engine().Top(cmd.Context(), c.ID)
				if err != nil {
					return fmt.Errorf("listing processes of %s: %w", c.Name, err)
				}
				fmt.Fprintln(a.streams.Out, c.Name)
				tw := tabwriter.NewWriter(a.streams.Out, 0, 0, 3, ' ', 0)
				fmt.Fprintln(tw, strings.Join(procs.Titles, "\t"))
				for _, p := range procs.Processes {
					fmt.Fprintln(tw, strings.Join(p, "\t"))
				}
				tw.Flush()
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
			port, err := strconv.Atoi(args[1])
			if err != nil {
				return fmt.Errorf("invalid port %q", args[1])
			}
			if index == 0 {
				index = 1
			}
			_, cs, err := a.listContainers(cmd, args[:1], index, false)
			if err != nil {
				return err
			}
			if len(cs) == 0 {
				return fmt.Errorf("service %q has no container number %d", args[0], index)
			}
			for _, p := range cs[0].Ports {
				if int(p.PrivatePort) == port && p.Protocol == protocol && p.PublicPort != 0 {
					fmt.Fprintf(a.streams.Out, "%s:%d\n", p.IP, p.PublicPort)
					return nil
				}
			}
			return fmt.Errorf("no port %d/%s published for %s", port, protocol, cs[0].Name)
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
			orc, cs, err := a.listContainers(cmd, args, 0, false)
			if err != nil {
				return err
			}
			type row struct {
				ContainerName string `json:"ContainerName"`
				Repository    string `json:"Repository"`
				Tag           string `json:"Tag"`
				ID            string `json:"ID"`
				Size          int64  `json:"Size"`
			}
			var rows []row
			for _, c := range cs {
				img, err := orc.Engine().InspectImage(cmd.Context(), c.ImageID)
				if err != nil {
					continue
				}
				repo, tag := c.Image, "latest"
				if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
					repo, tag = repo[:i], repo[i+1:]
				}
				rows = append(rows, row{c.Name, repo, tag, img.ID, img.Size})
			}
			switch {
			case quiet:
				for _, r := range rows {
					fmt.Fprintln(a.streams.Out, r.ID)
				}
			case format == "json":
				b, _ := json.Marshal(rows)
				fmt.Fprintln(a.streams.Out, string(b))
			default:
				tw := tabwriter.NewWriter(a.streams.Out, 0, 0, 3, ' ', 0)
				fmt.Fprintln(tw, "CONTAINER\tREPOSITORY\tTAG\tIMAGE ID\tSIZE")
				for _, r := range rows {
					id := strings.TrimPrefix(r.ID, "sha256:")
					if len(id) > 12 {
						id = id[:12]
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.1fMB\n", r.ContainerName, r.Repository, r.Tag, id, float64(r.Size)/1e6)
				}
				tw.Flush()
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "Only display IDs")
	cmd.Flags().StringVar(&format, "format", "table", "Format the output. Values: [table | json]")
	return cmd
}
