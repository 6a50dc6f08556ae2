//go:build unix

package archive

import "syscall"

// syscallNoFollow keeps a file's open from following a link that appeared
// at its place after the check.
const syscallNoFollow = syscall.O_NOFOLLOW
