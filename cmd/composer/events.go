package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/composer-orchestrator/composer/orchestrator"
)

func (a *app) eventsCommand() *cobra.Command {
	var asJSON bool
	var since, until string
	cmd := &cobra.Command{
		Use:               "events [OPTIONS] [SERVICE...]",
		Short:             "Receive real time events from containers",
		ValidArgsFunction: a.completeServices,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			now := time.Now()
			var opts orchestrator.EventsOptions
			var err error
			if opts.Since, err = eventTime(since, now); err != nil {
				return usageError(cmd, fmt.Sprintf("invalid --since %q: %v", since, err))
			}
			if opts.Until, err = eventTime(until, now); err != nil {
				return usageError(cmd, fmt.Sprintf("invalid --until %q: %v", until, err))
			}
			opts.Services = args
			t, err := a.readTarget(cmd, args, 0)
			if err != nil {
				return err
			}
			orc, err := a.orchestrator(ctx, nil)
			if err != nil {
				return err
			}
			out := a.streams.Out
			return orc.Events(ctx, t.Project, opts, func(e orchestrator.ProjectEvent) error {
				if asJSON {
					return writeEventJSON(out, e)
				}
				_, err := io.WriteString(out, eventLine(e))
				return err
			})
		},
	}
	f := cmd.Flags()
	f.BoolVar(&asJSON, "json", false, "Output events as a stream of json objects")
	f.StringVar(&since, "since", "", "Show all events created since timestamp")
	f.StringVar(&until, "until", "", "Stream events until this timestamp")
	return cmd
}

// eventLine is docker compose's text form of an event: local time to the
// microsecond, "container", the action, the container's id and its
// attributes. Compose prints the attributes in the map's random order
// and follows each event with an empty line (its text ends in a newline
// that Println doubles); composer sorts them and prints one line.
func eventLine(e orchestrator.ProjectEvent) string {
	var attrs []string
	for _, k := range slices.Sorted(maps.Keys(e.Attributes)) {
		attrs = append(attrs, k+"="+e.Attributes[k])
	}
	return fmt.Sprintf("%s container %s %s (%s)\n", e.Time.Local().Format("2006-01-02 15:04:05.000000"), e.Action, e.Container, strings.Join(attrs, ", "))
}

// writeEventJSON writes an event as docker compose's --json does: one
// object a line, with its keys.
func writeEventJSON(w io.Writer, e orchestrator.ProjectEvent) error {
	b, err := json.Marshal(map[string]any{
		"time":       e.Time.Local(),
		"type":       "container",
		"service":    e.Service,
		"id":         e.Container,
		"action":     e.Action,
		"attributes": e.Attributes,
	})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

// eventTime reads a --since or --until value as the Docker CLI does: a
// duration back from now (10m), a Unix time in seconds (1700000000 or
// 1700000000.5), or a date and time (RFC 3339; without a zone, local
// time). Empty is the zero time.
func eventTime(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	if secs, frac, ok := strings.Cut(s, "."); !strings.ContainsAny(s, "-:T") {
		sec, err := strconv.ParseInt(secs, 10, 64)
		if err == nil {
			var nsec int64
			if ok {
				frac = (frac + "000000000")[:9]
				if nsec, err = strconv.ParseInt(frac, 10, 64); err != nil {
					return time.Time{}, fmt.Errorf("not a Unix time")
				}
			}
			return time.Unix(sec, nsec), nil
		}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05Z0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02T15", "2006-01-02", "2006-01-02 15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("want a duration (10m), a Unix time or a date and time (2006-01-02T15:04:05Z)")
}
