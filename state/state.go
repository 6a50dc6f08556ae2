// Package state holds composer's only local files: a per-project lock, so
// that two commands do not change the same project at once, a journal of
// the operation in progress, so that the next command knows the last one did
// not finish, and a record of the containers composer's health probe found
// ready before the engine did, for ps.
//
// Everything else composer knows about a project it reads back from the
// engine, from labels on containers, networks and volumes. These two cannot
// live there: a lock must exist before any container does and must vanish
// when its holder dies, and the journal must outlive an operation that
// removed every labelled resource. Both files are safe to delete while no
// composer command is running: a missing lock file is recreated, and a
// missing journal only means the next command does not settle an interrupted
// operation first.
package state

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// Dir is the directory holding composer's local state: $COMPOSER_STATE_DIR
// if set, else $XDG_STATE_HOME/composer, else $HOME/.local/state/composer.
// env is a list of KEY=VALUE, normally os.Environ(); as with exec, the last
// occurrence of a key wins. Empty values count as unset, and so does a
// relative XDG_STATE_HOME, as the XDG base directory specification asks.
func Dir(env []string) (string, error) {
	vars := make(map[string]string, len(env))
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = v
		}
	}
	if d := vars["COMPOSER_STATE_DIR"]; d != "" {
		return d, nil
	}
	if d := vars["XDG_STATE_HOME"]; filepath.IsAbs(d) {
		return filepath.Join(d, "composer"), nil
	}
	if h := vars["HOME"]; h != "" {
		return filepath.Join(h, ".local", "state", "composer"), nil
	}
	return "", errors.New("finding composer's state directory (for its locks and journals): none of COMPOSER_STATE_DIR, XDG_STATE_HOME and HOME is set")
}

// Key identifies one project on one engine. The same project name on two
// engines names two projects, which may be changed at the same time.
type Key struct {
	// Dir is the state directory, as returned by Dir.
	Dir string
	// Engine is the engine's address, e.g. "unix:///var/run/docker.sock".
	Engine string
	// Project is the project name.
	Project string
}

// path returns <Dir>/projects/<hash of Engine>/<Project><ext>. The engine
// address is hashed because it contains '/' and ':'; twelve hex digits keep
// the directory name short while making a collision between the few engines
// one user talks to practically impossible.
func (k Key) path(ext string) (string, error) {
	// Project names are already restricted to [a-z0-9][a-z0-9_-]*; this
	// check only keeps a bug elsewhere from writing outside Dir.
	if k.Project == "" || strings.ContainsAny(k.Project, `/\`) || strings.Contains(k.Project, "..") {
		return "", fmt.Errorf("invalid project name %q", k.Project)
	}
	if k.Dir == "" {
		return "", errors.New("no state directory")
	}
	sum := sha256.Sum256([]byte(k.Engine))
	return filepath.Join(k.Dir, "projects", hex.EncodeToString(sum[:6]), k.Project+ext), nil
}
