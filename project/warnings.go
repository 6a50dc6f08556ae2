package project

import (
	"io"
	"sync"

	"github.com/sirupsen/logrus"
)

// loaderLog routes the warnings compose-go emits during a load to that
// load's Options.Warn.
//
// It is package-level state because compose-go reports warnings (an unset
// variable, an obsolete `version`, several candidate file names, ...) only
// through logrus's package-level logger: there is no per-call logger to
// pass in, so the hookup into that logger has to be global too. This is the
// only place in composer that touches logrus.
var loaderLog struct {
	// install adds the hook once: logrus has no way to remove a hook, so
	// adding one per load would grow the logger's hook list without bound.
	install sync.Once
	// load lets one load run at a time. A logrus record carries nothing
	// that says which load emitted it, so with two loads at once a warning
	// could reach the wrong caller. Loads take milliseconds, and a command
	// loads its project once, so serializing them costs little.
	load sync.Mutex
	// mu guards sink between the load in progress, which sets and clears
	// it, and the hook, which runs on whichever goroutine logs.
	mu sync.Mutex
	// sink collects the messages of the load in progress; nil between
	// loads, when records are dropped. Whatever logs through logrus during
	// a load is taken to be the loader: nothing else composer links uses
	// logrus.
	sink *[]string
}

// warningHook hands logrus records to the load in progress.
type warningHook struct{}

// Levels are the ones users should see; compose-go logs nothing below
// Warn that is meant for them.
func (warningHook) Levels() []logrus.Level {
	return []logrus.Level{logrus.PanicLevel, logrus.FatalLevel, logrus.ErrorLevel, logrus.WarnLevel}
}

func (warningHook) Fire(e *logrus.Entry) error {
	loaderLog.mu.Lock()
	defer loaderLog.mu.Unlock()
	if loaderLog.sink != nil {
		*loaderLog.sink = append(*loaderLog.sink, e.Message)
	}
	return nil
}

// captureWarnings runs load, which calls into compose-go, and passes the
// text of each warning compose-go logged meanwhile to warn (nil drops
// them). warn is called after load returns, on the caller's goroutine and
// outside any lock, so it may do anything, even load another project.
func captureWarnings(warn func(string), load func()) {
	loaderLog.install.Do(func() { logrus.AddHook(warningHook{}) })
	var msgs []string
	func() {
		loaderLog.load.Lock()
		defer loaderLog.load.Unlock()
		// The hook has the messages; logrus would otherwise also write
		// each record, decorated with its level, to standard error. Set
		// on every load rather than once, so that whoever configured
		// logrus's output in between cannot bring the decorated lines
		// back.
		logrus.SetOutput(io.Discard)
		loaderLog.mu.Lock()
		loaderLog.sink = &msgs
		loaderLog.mu.Unlock()
		defer func() {
			loaderLog.mu.Lock()
			loaderLog.sink = nil
			loaderLog.mu.Unlock()
		}()
		load()
	}()
	// The hook no longer sees msgs: reading it needs no lock.
	if warn == nil {
		return
	}
	for _, m := range msgs {
		warn(m)
	}
}

// quietly runs f with the warnings compose-go logs meanwhile dropped. It
// is for calling back into compose-go once a load has failed, to find
// where the problem is (interpolating a value again warns again about an
// unset variable): the user has had those warnings already. It runs within
// captureWarnings, whose lock keeps other loads out.
func quietly(f func()) {
	loaderLog.mu.Lock()
	saved := loaderLog.sink
	loaderLog.sink = nil
	loaderLog.mu.Unlock()
	defer func() {
		loaderLog.mu.Lock()
		loaderLog.sink = saved
		loaderLog.mu.Unlock()
	}()
	f()
}
