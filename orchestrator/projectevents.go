package orchestrator

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/labels"
)

// ProjectEvent is one engine event about a container of a project, as
// docker compose's events command reports it.
type ProjectEvent struct {
	Time    time.Time
	Service string
	// Container is the container's id.
	Container string
	// Action is the engine's: create, start, die, health_status: healthy...
	Action string
	// Attributes are the engine's (name, image, exitCode, the container's
	// own labels...) without composer's com.docker.compose.* labels.
	Attributes map[string]string
}

// EventsOptions select the events Events delivers.
type EventsOptions struct {
	// Services keeps the events of these services' containers; empty
	// keeps all.
	Services []string
	// Since replays the events from then on first; zero starts now.
	Since time.Time
	// Until ends the stream at that time; zero follows until ctx ends.
	Until time.Time
}

// Events delivers the container events of a project to each, one at a
// time and in the engine's order, until ctx ends, Until is reached, or
// each fails. One-off (run) containers are left out, as docker compose
// does. An interrupted stream is no error.
func (o *Orchestrator) Events(ctx context.Context, project string, opts EventsOptions, each func(ProjectEvent) error) error {
	if !opts.Until.IsZero() && !opts.Since.IsZero() && opts.Until.Before(opts.Since) {
		return fmt.Errorf("the end of the events (%s) is before their start (%s)", opts.Until.Format(time.RFC3339), opts.Since.Format(time.RFC3339))
	}
	evs, errs := o.eng.Events(ctx, engine.EventFilter{
		Type:   "container",
		Labels: map[string]string{labels.Project: project},
		Since:  opts.Since,
		Until:  opts.Until,
	})
	for {
		select {
		case e, ok := <-evs:
			if !ok {
				return nil // Until reached, or ctx ended
			}
			pe, keep := projectEvent(e, opts.Services)
			if !keep {
				continue
			}
			if err := each(pe); err != nil {
				return err
			}
		case err, ok := <-errs:
			if !ok {
				errs = nil // closed: the event channel says the rest
				continue
			}
			if err != nil && ctx.Err() == nil {
				return fmt.Errorf("following engine events: %w", err)
			}
		case <-ctx.Done():
			return nil
		}
	}
}

// projectEvent turns an engine event into a project event, and says
// whether it is one to deliver.
func projectEvent(e engine.Event, services []string) (ProjectEvent, bool) {
	if e.Type != "" && e.Type != "container" {
		return ProjectEvent{}, false
	}
	if e.Attributes[labels.Oneoff] == labels.True {
		return ProjectEvent{}, false
	}
	service := e.Attributes[labels.Service]
	if len(services) > 0 && !slices.Contains(services, service) {
		return ProjectEvent{}, false
	}
	attrs := map[string]string{}
	for k, v := range e.Attributes {
		if !strings.HasPrefix(k, "com.docker.compose.") {
			attrs[k] = v
		}
	}
	return ProjectEvent{Time: e.Time, Service: service, Container: e.ID, Action: e.Action, Attributes: attrs}, true
}
