package watch

import "syscall"

// errNoSpace is what inotify_add_watch fails with past the watch limit.
var errNoSpace error = syscall.ENOSPC
