package main

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/composer-orchestrator/composer/orchestrator"
)

// logPrinter prints log lines prefixed with their container's name,
// padded to the widest name seen, one colour per container on a
// terminal. Container stderr goes to our stderr, stdout to stdout.
type logPrinter struct {
	// mu keeps each line whole and the prefix width consistent: lines come
	// from one goroutine per container.
	mu       sync.Mutex
	out, err io.Writer
	color    bool
	noPrefix bool
	width    int
	colors   map[string]string
	// held buffers lines while a progress display owns the terminal.
	holding bool
	held    []func()
}

var palette = []string{"36", "33", "32", "35", "34", "96", "93", "92", "95", "94"}

func newLogPrinter(out, err io.Writer, color, noPrefix bool) *logPrinter {
	return &logPrinter{out: out, err: err, color: color, noPrefix: noPrefix, colors: map[string]string{}}
}

// reserve makes the prefix at least as wide as these names, so that the
// columns line up from the first line.
func (p *logPrinter) reserve(names ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, n := range names {
		p.width = max(p.width, len(n))
	}
}

func (p *logPrinter) prefix(container string) string {
	if p.noPrefix {
		return ""
	}
	p.width = max(p.width, len(container))
	pre := fmt.Sprintf("%-*s | ", p.width, container)
	if !p.color {
		return pre
	}
	c, ok := p.colors[container]
	if !ok {
		c = palette[len(p.colors)%len(palette)]
		p.colors[container] = c
	}
	return "\x1b[" + c + "m" + pre + "\x1b[0m"
}

func (p *logPrinter) Log(container, service string, stderr bool, line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	w := p.out
	if stderr {
		w = p.err
	}
	text := p.prefix(container) + line + "\n"
	if p.holding {
		p.held = append(p.held, func() { io.WriteString(w, text) })
		return
	}
	io.WriteString(w, text)
}

// Notice shows a container's exit in its column; a container being
// attached needs no line.
func (p *logPrinter) Notice(n orchestrator.Notice) {
	if n.Kind != orchestrator.NoticeExited {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	line := p.prefix(n.Container)
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\x1b[0m"), "| ") + fmt.Sprintf("exited with code %d", n.ExitCode)
	if p.color {
		line += "\x1b[0m"
	}
	line += "\n"
	if p.holding {
		p.held = append(p.held, func() { io.WriteString(p.out, line) })
		return
	}
	io.WriteString(p.out, line)
}

func (p *logPrinter) hold() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.holding = true
}

func (p *logPrinter) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range p.held {
		f()
	}
	p.held, p.holding = nil, false
}
