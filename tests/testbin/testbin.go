// Package testbin builds the composer binary that the end-to-end packages
// run, once per package, from this module's source, or takes an already
// built one from COMPOSER_BIN.
package testbin

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// ModuleRoot is the repository root, two levels above this file.
func ModuleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Build returns the path of the binary under test and a function that
// removes what Build made: COMPOSER_BIN made absolute when set, else a
// fresh build of ./cmd/composer in a temporary directory.
func Build(ctx context.Context) (string, func(), error) {
	if bin := os.Getenv("COMPOSER_BIN"); bin != "" {
		abs, err := filepath.Abs(bin)
		if err != nil {
			return "", nil, fmt.Errorf("COMPOSER_BIN: %w", err)
		}
		return abs, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "composer-test-bin-")
	if err != nil {
		return "", nil, err
	}
	bin := filepath.Join(dir, "composer")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/composer")
	build.Dir = ModuleRoot()
	if out, err := build.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("building composer: %v\n%s", err, out)
	}
	return bin, func() { os.RemoveAll(dir) }, nil
}
