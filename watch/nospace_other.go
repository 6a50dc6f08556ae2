//go:build !linux

package watch

import "errors"

// errNoSpace matches nothing where there is no inotify limit.
var errNoSpace = errors.New("no watch limit")
