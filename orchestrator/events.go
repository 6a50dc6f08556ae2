package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Status is the state a resource reached, as shown to the user.
type Status string

const (
	Creating   Status = "Creating"
	Created    Status = "Created"
	Recreate   Status = "Recreate"
	Recreated  Status = "Recreated"
	Starting   Status = "Starting"
	Started    Status = "Started"
	Running    Status = "Running"
	Waiting    Status = "Waiting"
	Healthy    Status = "Healthy"
	Exited     Status = "Exited"
	Stopping   Status = "Stopping"
	Stopped    Status = "Stopped"
	Removing   Status = "Removing"
	Removed    Status = "Removed"
	Killing    Status = "Killing"
	Killed     Status = "Killed"
	Restarting Status = "Restarting"
	Restarted  Status = "Restarted"
	Pausing    Status = "Pausing"
	Paused     Status = "Paused"
	Unpausing  Status = "Unpausing"
	Unpaused   Status = "Unpaused"
	Pulling    Status = "Pulling"
	Pulled     Status = "Pulled"
	Building   Status = "Building"
	Built      Status = "Built"
	Warning    Status = "Warning"
	Error      Status = "Error"
	// Interrupted: the request was not sent, as the user interrupted.
	Interrupted Status = "Interrupted"
)

// Kind is the kind of resource an event is about.
type Kind string

const (
	KindContainer Kind = "Container"
	KindNetwork   Kind = "Network"
	KindVolume    Kind = "Volume"
	KindImage     Kind = "Image"
	KindService   Kind = "Service"
	KindProject   Kind = "Project"
)

// Event reports progress on one resource.
type Event struct {
	Kind   Kind
	Name   string
	Status Status
	// Detail adds text: a warning, an error, a pull's progress.
	Detail string
	// Done is true when the resource reached a final state for this
	// operation (Started, Removed, Error...), false while under way.
	Done bool
	Time time.Time
}

// Sink receives events. Implementations must be safe for concurrent use.
type Sink interface {
	Event(Event)
}

// SinkFunc adapts a function to a Sink.
type SinkFunc func(Event)

// Event calls f.
func (f SinkFunc) Event(e Event) { f(e) }

// Discard drops every event.
var Discard Sink = SinkFunc(func(Event) {})

func (o *Orchestrator) emit(kind Kind, name string, status Status, done bool, detail string) {
	o.events.Event(Event{Kind: kind, Name: name, Status: status, Done: done, Detail: detail, Time: time.Now()})
}

// fail reports that an operation on a resource failed; one that an
// interrupt kept from being sent is reported as such, not as an error.
func (o *Orchestrator) fail(kind Kind, name string, err error) {
	if errors.Is(err, context.Canceled) {
		o.emit(kind, name, Interrupted, true, "")
		return
	}
	o.emit(kind, name, Error, true, err.Error())
}

// Warn reports a warning that is about no resource in particular.
func (o *Orchestrator) warn(format string, args ...any) {
	o.events.Event(Event{Kind: KindProject, Status: Warning, Detail: sprintf(format, args...), Done: true, Time: time.Now()})
}

func sprintf(format string, args ...any) string {
	if len(args) == 0 {
		return format
	}
	return fmt.Sprintf(format, args...)
}
