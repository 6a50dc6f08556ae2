package state

import (
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
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, key.Project+".journal.*.tmp")
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

// Pending returns the entry an earlier operation left, or nil if there is
// none. A journal file that cannot be read or parsed is reported as an Entry
// with Op "unknown" started at the file's modification time, not as an
// error: better to settle needlessly than to miss an interrupted operation.
func Pending(key Key) (*Entry, error) {
	path, err := key.path(".journal")
	if err != nil {
		return nil, fmt.Errorf("reading journal of project %s: %w", key.Project, err)
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	var e Entry
	if err == nil && json.Unmarshal(data, &e) == nil && e.Op != "" {
		return &e, nil
	}
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil // ended while we read it
	}
	if err != nil {
		return nil, fmt.Errorf("reading journal of project %s: %w", key.Project, err)
	}
	return &Entry{Op: "unknown", Started: info.ModTime()}, nil
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
