package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// probesKept is how long a probe's pass is remembered: long enough for a
// ps after an up, short enough that the file never grows with the ids of
// containers long gone.
const probesKept = 7 * 24 * time.Hour

// RecordProbe remembers that composer's own health probe found container
// id healthy at t, before the engine did, so that ps can say so later.
// The engine keeps no such fact, and a label cannot be added to a running
// container. Losing the file loses only that remark.
func RecordProbe(key Key, id string, t time.Time) error {
	path, err := key.path(".probes")
	if err != nil {
		return err
	}
	probes, err := Probes(key)
	if err != nil {
		return err
	}
	for old, at := range probes {
		if t.Sub(at) > probesKept {
			delete(probes, old)
		}
	}
	probes[id] = t
	data, err := json.Marshal(probes)
	if err != nil {
		return err
	}
	if err := writeWhole(path, data); err != nil {
		return fmt.Errorf("recording a health probe of project %s: %w", key.Project, err)
	}
	return nil
}

// Probes returns, by container id, when composer's probe found each
// container of the project healthy before the engine did.
func Probes(key Key) (map[string]time.Time, error) {
	path, err := key.path(".probes")
	if err != nil {
		return nil, err
	}
	probes := map[string]time.Time{}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return probes, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the health probes of project %s: %w", key.Project, err)
	}
	if err := json.Unmarshal(data, &probes); err != nil {
		// A file cut short or edited by hand says nothing reliable; it
		// is only a remark, so start again.
		return map[string]time.Time{}, nil
	}
	return probes, nil
}
