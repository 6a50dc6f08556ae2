package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// pollInterval is how often Acquire retries a lock held by someone else.
const pollInterval = 75 * time.Millisecond

// Holder describes who holds a lock. It is written into the lock file once
// the lock is acquired, so that a waiter can say whom it waits for.
type Holder struct {
	PID     int       `json:"pid"`
	Command string    `json:"command"` // e.g. "composer up -d"
	Since   time.Time `json:"since"`
}

// String describes the holder for a message to the user.
func (h Holder) String() string {
	if h.PID == 0 {
		return "an unknown process"
	}
	s := "pid " + strconv.Itoa(h.PID)
	if h.Command != "" {
		s += " (" + h.Command + ")"
	}
	if !h.Since.IsZero() {
		s += " for " + time.Since(h.Since).Round(time.Second).String()
	}
	return s
}

// Lock is a held per-project lock. It is an flock(2) on the lock file rather
// than the file's existence, so a process killed with SIGKILL cannot leave
// it held: the kernel drops the lock with the process's last file descriptor.
type Lock struct {
	f *os.File
}

// Acquire takes the lock for key. If another process holds it, onWait (if
// not nil) is called once with the holder read from the lock file (zero if
// it cannot be read), and Acquire keeps trying until it gets the lock or ctx
// is done. Once acquired, the file's content is replaced with me.
//
// flock locks belong to an open file description, and every Acquire opens
// the file anew, so two Acquire calls in one process also exclude each other.
func Acquire(ctx context.Context, key Key, me Holder, onWait func(Holder)) (*Lock, error) {
	l, err := acquire(ctx, key, me, onWait)
	if err != nil {
		return nil, fmt.Errorf("locking project %s: %w", key.Project, err)
	}
	return l, nil
}

// AcquireSupervisor takes the project's supervise lock without waiting:
// one supervisor (composer supervise, or an attached up) acts on a
// project at a time, so that two do not both restart what turns
// unhealthy. When another holds it, the lock is nil and holder says who.
// It is apart from the project's lock, which changing commands take
// while a supervisor runs for hours.
func AcquireSupervisor(key Key, me Holder) (l *Lock, holder Holder, err error) {
	done, cancel := context.WithCancel(context.Background())
	cancel() // one try
	l, err = acquireFile(done, key, ".supervise.lock", me, func(h Holder) { holder = h })
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return nil, holder, nil
		}
		return nil, Holder{}, fmt.Errorf("locking the supervision of project %s: %w", key.Project, err)
	}
	return l, Holder{}, nil
}

func acquire(ctx context.Context, key Key, me Holder, onWait func(Holder)) (*Lock, error) {
	return acquireFile(ctx, key, ".lock", me, onWait)
}

func acquireFile(ctx context.Context, key Key, ext string, me Holder, onWait func(Holder)) (*Lock, error) {
	path, err := key.path(ext)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	// Never O_TRUNC here: the file may hold the current holder's description.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	var holder Holder
	waited := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, err
		}
		if !waited {
			waited = true
			holder = readHolder(path)
			if onWait != nil {
				onWait(holder)
			}
		}
		select {
		case <-ctx.Done():
			f.Close()
			// Read again: the first read may have come between the holder's
			// flock and its write.
			if h := readHolder(path); h.PID != 0 {
				holder = h
			}
			return nil, fmt.Errorf("held by %s: %w", holder, ctx.Err())
		case <-time.After(pollInterval):
		}
	}
	data, err := json.Marshal(me)
	if err == nil {
		err = f.Truncate(0)
	}
	if err == nil {
		_, err = f.WriteAt(data, 0)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return &Lock{f: f}, nil
}

// readHolder reads the holder from a lock file, or returns the zero Holder
// if it cannot: the holder may not have written it yet.
func readHolder(path string) Holder {
	var h Holder
	data, err := os.ReadFile(path)
	if err == nil && json.Unmarshal(data, &h) != nil {
		h = Holder{}
	}
	return h
}

// Release drops the lock. It leaves the lock file in place: deleting it
// would race with a waiter that already has it open, which would then lock
// a file no one else can find. Release is safe to call twice.
func (l *Lock) Release() error {
	if l.f == nil {
		return nil
	}
	f := l.f
	l.f = nil
	if err := f.Close(); err != nil {
		return fmt.Errorf("releasing lock: %w", err)
	}
	return nil
}
