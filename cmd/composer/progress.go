package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/composer-orchestrator/composer/orchestrator"
)

// display renders orchestrator events; Close flushes it.
type display interface {
	orchestrator.Sink
	Close()
}

// progressMode is --progress, then COMPOSE_PROGRESS, then auto; --ansi
// never makes auto plain.
func (a *app) progressMode() string {
	mode := a.global.progress
	if v, ok := a.lookupEnv("COMPOSE_PROGRESS"); ok && mode == "" {
		mode = v
	}
	if mode == "" {
		mode = "auto"
	}
	if a.global.ansi == "never" && mode == "auto" {
		mode = "plain"
	}
	return mode
}

// progress picks the display for --progress, --ansi and NO_COLOR: a live
// view on a terminal, plain lines otherwise.
func (a *app) progress() display {
	w := a.streams.Err
	dry := a.global.dryRun
	switch a.progressMode() {
	case "quiet":
		return &quietDisplay{w: w}
	case "json":
		return &jsonDisplay{w: w, dryRun: dry}
	case "plain":
		return &plainDisplay{w: w, dryRun: dry}
	case "tty":
		return newTTYDisplay(w, a.colors(), dry)
	}
	if a.global.ansi == "always" || isTerminal(w) {
		return newTTYDisplay(w, a.colors(), dry)
	}
	return &plainDisplay{w: w, dryRun: dry}
}

// dryRunMark starts each line of a dry run's progress, as in docker
// compose, so that no line of it reads as done.
const dryRunMark = "DRY-RUN MODE - "

// warn reports a warning that comes before any progress display (from
// loading the project, or about a flag): a plain line, or a json event in
// json progress mode.
func (a *app) warn(text string) {
	if a.progressMode() == "json" {
		(&jsonDisplay{w: a.streams.Err}).Event(orchestrator.Event{Kind: orchestrator.KindProject, Status: orchestrator.Warning, Detail: text, Done: true, Time: time.Now()})
		return
	}
	fmt.Fprintf(a.streams.Err, "warning: %s\n", text)
}

// phasedDisplay opens a display on the first event after each Close, for
// operations with several phases of progress (attached up: bringing the
// project up, then stopping it) and logs in between.
type phasedDisplay struct {
	open func() display
	// mu guards cur: events come from many goroutines while the log view
	// closes the current phase.
	mu  sync.Mutex
	cur display
}

func (d *phasedDisplay) Event(e orchestrator.Event) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cur == nil {
		d.cur = d.open()
	}
	d.cur.Event(e)
}

func (d *phasedDisplay) Close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cur != nil {
		d.cur.Close()
		d.cur = nil
	}
}

// colors reports whether output may use colour.
func (a *app) colors() bool {
	if _, ok := a.lookupEnv("NO_COLOR"); ok {
		return false
	}
	return a.global.ansi != "never"
}

func label(e orchestrator.Event) string {
	if e.Kind == orchestrator.KindProject {
		return ""
	}
	return string(e.Kind) + " " + e.Name
}

// plainDisplay prints one line per state change.
type plainDisplay struct {
	// mu keeps lines from different goroutines whole and in order.
	mu     sync.Mutex
	w      io.Writer
	last   map[string]orchestrator.Status
	dryRun bool
}

func (d *plainDisplay) Event(e orchestrator.Event) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if e.Status == orchestrator.Warning && e.Kind == orchestrator.KindProject {
		fmt.Fprintf(d.w, "warning: %s\n", e.Detail)
		return
	}
	key := label(e)
	if d.last == nil {
		d.last = map[string]orchestrator.Status{}
	}
	if d.last[key] == e.Status && e.Status != orchestrator.Error && e.Status != orchestrator.Warning {
		return
	}
	d.last[key] = e.Status
	line := " " + key + "  " + string(e.Status)
	if e.Detail != "" {
		line += " " + e.Detail
	}
	if d.dryRun {
		line = " " + dryRunMark + line
	}
	fmt.Fprintln(d.w, line)
}

func (d *plainDisplay) Close() {}

// quietDisplay shows nothing but warnings.
type quietDisplay struct {
	// mu keeps warnings whole.
	mu sync.Mutex
	w  io.Writer
}

func (d *quietDisplay) Event(e orchestrator.Event) {
	if e.Status != orchestrator.Warning {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	fmt.Fprintf(d.w, "warning: %s\n", strings.TrimSpace(label(e)+" "+e.Detail))
}

func (d *quietDisplay) Close() {}

// jsonDisplay writes one JSON object per event, for tools.
type jsonDisplay struct {
	// mu keeps objects whole.
	mu     sync.Mutex
	w      io.Writer
	dryRun bool
}

func (d *jsonDisplay) Event(e orchestrator.Event) {
	d.mu.Lock()
	defer d.mu.Unlock()
	b, _ := json.Marshal(struct {
		Kind   string    `json:"kind,omitempty"`
		Name   string    `json:"name,omitempty"`
		Status string    `json:"status"`
		Detail string    `json:"text,omitempty"`
		Done   bool      `json:"done"`
		Time   time.Time `json:"time"`
		DryRun bool      `json:"dry_run,omitempty"`
	}{string(e.Kind), e.Name, string(e.Status), e.Detail, e.Done, e.Time, d.dryRun})
	fmt.Fprintln(d.w, string(b))
}

func (d *jsonDisplay) Close() {}

// ttyDisplay is the live view: one line per resource with a spinner while
// under way and the time it took, redrawn in place.
type ttyDisplay struct {
	// mu guards the lines and the drawing: events arrive from many
	// goroutines while the ticker redraws.
	mu       sync.Mutex
	w        io.Writer
	color    bool
	lines    []*ttyLine
	byKey    map[string]*ttyLine
	warnings []string
	drawn    int
	start    time.Time
	frame    int
	stop     chan struct{}
	done     chan struct{}
	dryRun   bool
}

type ttyLine struct {
	key    string
	status orchestrator.Status
	detail string
	start  time.Time
	end    time.Time
	done   bool
}

var spinner = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

func newTTYDisplay(w io.Writer, color, dryRun bool) *ttyDisplay {
	d := &ttyDisplay{w: w, color: color, dryRun: dryRun, byKey: map[string]*ttyLine{}, start: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(d.done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				d.mu.Lock()
				d.frame++
				d.draw()
				d.mu.Unlock()
			case <-d.stop:
				return
			}
		}
	}()
	return d
}

func (d *ttyDisplay) Event(e orchestrator.Event) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if e.Kind == orchestrator.KindProject {
		d.warnings = append(d.warnings, e.Detail)
		d.draw()
		return
	}
	key := label(e)
	l := d.byKey[key]
	if l == nil {
		l = &ttyLine{key: key, start: e.Time}
		d.byKey[key] = l
		d.lines = append(d.lines, l)
	}
	if l.done && !e.Done {
		l.start = e.Time // a new phase (Waiting after Started, say)
	}
	l.status, l.detail, l.done = e.Status, e.Detail, e.Done
	if e.Done {
		l.end = e.Time
	}
	d.draw()
}

func (d *ttyDisplay) Close() {
	close(d.stop)
	<-d.done
	d.mu.Lock()
	defer d.mu.Unlock()
	d.draw()
}

func (d *ttyDisplay) paint(code, s string) string {
	if !d.color {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

// draw rewrites the view in place: it moves the cursor up over what it
// drew last time; warnings are printed once, above the view.
func (d *ttyDisplay) draw() {
	var b strings.Builder
	if d.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", d.drawn)
	}
	for _, w := range d.warnings {
		b.WriteString("\x1b[2K" + d.paint("33", "warning:") + " " + w + "\n")
	}
	d.warnings = nil
	done := 0
	for _, l := range d.lines {
		if l.done {
			done++
		}
	}
	head := fmt.Sprintf("[+] Running %d/%d", done, len(d.lines))
	if d.dryRun {
		head = dryRunMark + head
	}
	b.WriteString("\x1b[2K" + d.paint("34", head) + "\n")
	width := 0
	for _, l := range d.lines {
		width = max(width, len(l.key))
	}
	for _, l := range d.lines {
		mark := spinner[d.frame%len(spinner)]
		took := time.Since(l.start)
		if l.done {
			mark = d.paint("32", "✔")
			took = l.end.Sub(l.start)
			if l.status == orchestrator.Error {
				mark = d.paint("31", "✘")
			}
			if l.status == orchestrator.Warning {
				mark = d.paint("33", "!")
			}
		}
		text := string(l.status)
		if l.detail != "" {
			text += " " + l.detail
		}
		fmt.Fprintf(&b, "\x1b[2K %s %-*s %s %s\n", mark, width, l.key, text, d.paint("2", fmt.Sprintf("%.1fs", took.Seconds())))
	}
	d.drawn = len(d.lines) + 1
	io.WriteString(d.w, b.String())
}
