package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"golang.org/x/sync/errgroup"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/labels"
)

// InterruptedError reports an operation an interrupt stopped once the
// engine requests it had sent were done, and what it left undone. It
// matches ErrInterrupted.
type InterruptedError struct {
	// Op is the operation: "up", "down".
	Op string
	// Undone names what the operation did not get to (services not
	// started, containers not removed), sorted.
	Undone []string
	// What says what Undone holds ("services not started").
	What string
	// Cause is the context's error.
	Cause error
}

func (e *InterruptedError) Error() string {
	if len(e.Undone) == 0 {
		return fmt.Sprintf("%s interrupted after its last step", e.Op)
	}
	return fmt.Sprintf("%s interrupted: %d %s: %s", e.Op, len(e.Undone), e.What, strings.Join(e.Undone, ", "))
}

// Is makes errors.Is(err, ErrInterrupted) hold.
func (e *InterruptedError) Is(target error) bool { return target == ErrInterrupted }

// Unwrap gives the context's error.
func (e *InterruptedError) Unwrap() error { return e.Cause }

// interruptedUp lists the services an interrupted up did not start.
func interruptedUp(p *types.Project, started *syncMap[string, bool], cause error) error {
	var undone []string
	for _, name := range p.ServiceNames() {
		if ok, _ := started.Load(name); !ok {
			undone = append(undone, name)
		}
	}
	return &InterruptedError{Op: "up", Undone: undone, What: "services not started", Cause: cause}
}

// settleQuiet is how long the engine must have said nothing about a
// project before settling considers it done with an interrupted run's
// requests. A create under way reports itself only when it is done, so
// this must outlast one create on a busy engine.
const settleQuiet = 1500 * time.Millisecond

// requestBound is how long settling waits for one request left in flight
// to take effect. A request the process was killed before sending never
// does; one the engine received lands in well under this.
const requestBound = 30 * time.Second

// awaitRequests waits until each create in flight exists and each remove
// in flight is gone, polling: they report nothing else that could be
// waited on, and a network's events carry no project label to filter on.
func (o *Orchestrator) awaitRequests(ctx context.Context, reqs []Request) error {
	eg, ctx := errgroup.WithContext(ctx)
	for _, r := range reqs {
		eg.Go(func() error {
			deadline := time.Now().Add(requestBound)
			for {
				if o.exists(ctx, r) == (r.Op == "create") || time.Now().After(deadline) {
					return nil
				}
				if err := sleep(ctx, 200*time.Millisecond); err != nil {
					return err
				}
			}
		})
	}
	return eg.Wait()
}

// exists reports whether the container or network a request names exists.
func (o *Orchestrator) exists(ctx context.Context, r Request) bool {
	var err error
	if r.Kind == "network" {
		_, err = o.eng.InspectNetwork(ctx, r.Name)
	} else {
		_, err = o.eng.InspectContainer(ctx, r.Name)
	}
	// Any other answer (a network name matching twice) shows something
	// there: the request landed.
	return !errors.Is(err, engine.ErrNotFound)
}

// settleStopBound is how long settling waits for a container that was sent
// a signal to die. A stop ends with the engine's kill at the stop timeout
// (10 s unless the service sets stop_grace_period); a signal that was not
// a stop (kill -s HUP) never ends in a die, and must not hold us forever.
const settleStopBound = 15 * time.Second

// settleBound bounds settling as a whole.
const settleBound = 2 * time.Minute

// clockSlack widens the window of events replayed, for an engine whose
// clock is a little behind ours.
const clockSlack = 5 * time.Second

// Settle makes a project fit to observe after an operation that did not
// end cleanly (killed, or abandoned at a second interrupt), which began at
// since. The engine carries out the requests such a run had sent: stops
// and removals go on for seconds, and creates land after the run is gone.
// Observing before they end gives a picture the engine contradicts a
// moment later (a running container that is about to exit, a name that is
// about to be taken). So Settle
//
//   - waits for the requests the run's journal shows in flight to take
//     effect: a network created twice is ambiguous to every container
//     that names it, so a create must land before anyone looks;
//   - replays the project's container events since the operation began,
//     and waits for each container sent a signal and not yet dead to die,
//     and for containers being removed to be gone;
//   - waits until the engine has said nothing about the project for a
//     moment, so that creates under way have landed;
//   - removes the containers the run created and never started: one made
//     for a recreate still carries a temporary name, and on engines before
//     API 1.44 one may not have been connected to all its networks yet.
//
// It never removes a container that ran, so no data goes.
func (o *Orchestrator) Settle(ctx context.Context, project string, since time.Time, inFlight []Request) error {
	ctx, cancel := context.WithTimeout(ctx, settleBound)
	defer cancel()
	if err := o.awaitRequests(ctx, inFlight); err != nil {
		return err
	}
	since = since.Add(-clockSlack)
	evs, errs := o.eng.Events(ctx, engine.EventFilter{Type: "container", Labels: map[string]string{labels.Project: project}, Since: since})
	// dying holds the containers sent a signal with no die since, and when.
	dying := map[string]time.Time{}
	quiet := time.NewTimer(settleQuiet)
	defer quiet.Stop()
	for done := false; !done; {
		select {
		case ev, ok := <-evs:
			if !ok {
				evs = nil
				continue
			}
			switch ev.Action {
			case "kill":
				// The bound runs from the signal, which may lie in the
				// replayed past.
				at := ev.Time
				if at.IsZero() {
					at = time.Now()
				}
				dying[ev.ID] = at
			case "die", "destroy":
				delete(dying, ev.ID)
			}
			if !quiet.Stop() {
				select {
				case <-quiet.C:
				default:
				}
			}
			quiet.Reset(settleQuiet)
		case err, ok := <-errs:
			if ok && err != nil {
				return fmt.Errorf("watching the engine's events: %w", err)
			}
			errs = nil
		case <-quiet.C:
			for id, at := range dying {
				if time.Since(at) > settleStopBound {
					delete(dying, id)
				}
			}
			left, err := o.unsettled(ctx, project, dying)
			if err != nil {
				return err
			}
			if !left {
				done = true
				continue
			}
			quiet.Reset(settleQuiet / 3)
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				o.warn("the engine was still busy with project %s after %s; going on", project, settleBound)
				return o.removeHalfMade(context.WithoutCancel(ctx), project, since)
			}
			return ctx.Err()
		}
	}
	return o.removeHalfMade(ctx, project, since)
}

// unsettled reports whether any of the project's containers is still
// being stopped or removed.
func (o *Orchestrator) unsettled(ctx context.Context, project string, dying map[string]time.Time) (bool, error) {
	cs, err := o.listContainers(ctx, project)
	if err != nil {
		return false, err
	}
	for _, c := range cs {
		if c.State == engine.StateRemoving {
			return true, nil
		}
		if _, ok := dying[c.ID]; ok && isUp(c.State) {
			return true, nil
		}
	}
	return false, nil
}

// removeHalfMade removes the containers created since an interrupted
// operation began that never started, and finishes the recreates it left
// between removing the old container and renaming the new one.
func (o *Orchestrator) removeHalfMade(ctx context.Context, project string, since time.Time) error {
	cs, err := o.listContainers(ctx, project)
	if err != nil {
		return err
	}
	remove, rename := halfMade(cs, since)
	var names []string
	for _, c := range remove {
		// Anonymous volumes stay: a replacement mounts the volumes of the
		// container it replaces, and a fresh one's hold nothing yet.
		if err := o.eng.RemoveContainer(ctx, c.ID, engine.RemoveOptions{Force: true}); err != nil && !errors.Is(err, engine.ErrNotFound) {
			return fmt.Errorf("removing container %s, left half-made by an interrupted run: %w", c.Name, err)
		}
		names = append(names, c.Name)
	}
	if len(names) > 0 {
		sort.Strings(names)
		o.warn("removed %d container(s) an interrupted run had created but not started: %s", len(names), strings.Join(names, ", "))
	}
	for id, name := range rename {
		if err := o.eng.RenameContainer(ctx, id, name); err != nil {
			return fmt.Errorf("renaming container %s, left under a temporary name by an interrupted recreate: %w", name, err)
		}
	}
	return nil
}

// halfMade picks, among the containers created at or after since that
// never ran, those to remove, and the replacements to rename (by id, to
// their final name): a replacement whose old container is gone holds that
// container's anonymous volumes, so it is kept, and renamed if the
// recreate had not got that far.
func halfMade(cs []engine.Container, since time.Time) (remove []engine.Container, rename map[string]string) {
	exists := map[string]bool{}
	for _, c := range cs {
		exists[c.ID] = true
	}
	rename = map[string]string{}
	for _, c := range cs {
		if c.State != engine.StateCreated || c.Created.Before(since) {
			continue
		}
		if old := c.Labels[labels.Replace]; old != "" && !exists[old] {
			if final, ok := strings.CutPrefix(c.Name, shortID(old)+"_"); ok {
				rename[c.ID] = final
			}
			continue
		}
		remove = append(remove, c)
	}
	return remove, rename
}
