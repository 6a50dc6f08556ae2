package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Entry records an operation in progress on a project, so that the next
// command knows the last one did not finish (it was killed, or abandoned at
// a second Ctrl-C) and since when the engine may still be carrying out its
// requests. Only the holder of the project's lock reads or writes it.
type Entry struct {
	Op      string    `json:"op"` // "up", "down", ...
	Command string    `json:"command"`
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
	// InFlight are the requests the operation had sent when it ended
	// without an answer (Pending fills it from the recorded intents):
	// the engine may still be carrying them out.
	InFlight []Intent `json:"-"`
}

// Intent is one engine request an operation is about to send (Done
// false), or has had answered (Done true). The journal is a file of JSON
// lines: the Entry, then the intents in the order they were recorded.
type Intent struct {
	// Op is "create" or "remove"; Kind is "container" or "network".
	Op   string `json:"op"`
	Kind string `json:"kind"`
	// Name is the name created, or the id or name removed.
	Name string `json:"name"`
	Done bool   `json:"done,omitempty"`
}

// Begin writes the journal entry for key, replacing any. It writes a
// temporary file and renames it, so a crash leaves the old entry or the new
// one, never half of one.
func Begin(key Key, e Entry) error {
	if err := begin(key, e); err != nil {
		return fmt.Errorf("writing journal of project %s: %w", key.Project, err)
	}
	return nil
}

func begin(key Key, e Entry) error {
	path, err := key.path(".journal")
	if err != nil {
		return err
	}
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return writeWhole(path, append(data, '\n'))
}

// writeWhole writes data to path through a temporary file and a rename, so
// that a crash leaves the old content or the new, never half of either.
func writeWhole(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Record appends an intent to the journal of key, which Begin must have
// opened. Each intent is one small append, which the kernel keeps whole
// among concurrent appends, so goroutines may record at once.
func Record(key Key, in Intent) error {
	path, err := key.path(".journal")
	if err != nil {
		return err
	}
	data, err := json.Marshal(in)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("recording in journal of project %s: %w", key.Project, err)
	}
	_, err = f.Write(append(data, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("recording in journal of project %s: %w", key.Project, err)
	}
	return nil
}

// Pending returns the entry an earlier operation left, or nil if there is
// none, with the requests it left in flight. A journal file whose entry
// cannot be read or parsed is reported as an Entry with Op "unknown"
// started at the file's modification time, not as an error: better to
// settle needlessly than to miss an interrupted operation. A broken
// intent line (the last one, cut by a crash) is skipped.
func Pending(key Key) (*Entry, error) {
	path, err := key.path(".journal")
	if err != nil {
		return nil, fmt.Errorf("reading journal of project %s: %w", key.Project, err)
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	lines := bytes.Split(data, []byte("\n"))
	var e Entry
	if err == nil && json.Unmarshal(lines[0], &e) == nil && e.Op != "" {
		e.InFlight = inFlight(lines[1:])
		return &e, nil
	}
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil // ended while we read it
	}
	if err != nil {
		return nil, fmt.Errorf("reading journal of project %s: %w", key.Project, err)
	}
	return &Entry{Op: "unknown", Started: info.ModTime(), InFlight: inFlight(lines[1:])}, nil
}

// inFlight folds intent lines into the requests sent and not answered.
func inFlight(lines [][]byte) []Intent {
	var out []Intent
	for _, line := range lines {
		var in Intent
		if len(line) == 0 || json.Unmarshal(line, &in) != nil {
			continue
		}
		sent := in
		sent.Done = false
		if !in.Done {
			out = append(out, sent)
			continue
		}
		for i, o := range out {
			if o == sent {
				out = append(out[:i], out[i+1:]...)
				break
			}
		}
	}
	return out
}

// End removes the journal entry for key. No entry is success.
func End(key Key) error {
	path, err := key.path(".journal")
	if err == nil {
		err = os.Remove(path)
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("ending journal of project %s: %w", key.Project, err)
	}
	return nil
}
