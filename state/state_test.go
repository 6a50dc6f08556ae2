package state

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDir(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     []string
		want    string
		wantErr bool
	}{
		{"explicit dir wins", []string{"HOME=/h", "XDG_STATE_HOME=/x", "COMPOSER_STATE_DIR=/c"}, "/c", false},
		{"xdg before home", []string{"HOME=/h", "XDG_STATE_HOME=/x"}, "/x/composer", false},
		{"home", []string{"HOME=/h"}, "/h/.local/state/composer", false},
		{"empty values are unset", []string{"HOME=/h", "XDG_STATE_HOME=", "COMPOSER_STATE_DIR="}, "/h/.local/state/composer", false},
		{"relative xdg is ignored", []string{"HOME=/h", "XDG_STATE_HOME=rel"}, "/h/.local/state/composer", false},
		{"last occurrence wins", []string{"HOME=/old", "HOME=/h"}, "/h/.local/state/composer", false},
		{"none", []string{"PATH=/bin"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Dir(tt.env)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Dir() error = %v, want error %t", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("Dir() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestKeyPaths(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	base := Key{Dir: dir, Engine: "unix:///var/run/docker.sock", Project: "web"}
	others := []Key{
		{Dir: dir, Engine: "tcp://10.0.0.1:2375", Project: "web"},
		{Dir: dir, Engine: base.Engine, Project: "db"},
	}
	basePath, err := base.path(".lock")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(basePath, filepath.Join(dir, "projects")+string(filepath.Separator)) || filepath.Base(basePath) != "web.lock" {
		t.Errorf("lock path %q is not <dir>/projects/<hash>/web.lock", basePath)
	}
	for _, k := range others {
		p, err := k.path(".lock")
		if err != nil {
			t.Fatal(err)
		}
		if p == basePath {
			t.Errorf("%+v and %+v share lock file %q", k, base, p)
		}
	}
	// Different keys are different locks, held at once.
	ctx := context.Background()
	for _, k := range append(others, base) {
		l, err := Acquire(ctx, k, Holder{PID: 1}, nil)
		if err != nil {
			t.Fatalf("Acquire(%+v): %v", k, err)
		}
		t.Cleanup(func() { l.Release() })
	}
}

func TestBadProjectName(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"", "a/b", "..", "../x", `a\b`} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			k := Key{Dir: t.TempDir(), Engine: "e", Project: name}
			if l, err := Acquire(context.Background(), k, Holder{}, nil); err == nil {
				l.Release()
				t.Error("Acquire succeeded")
			}
			if err := Begin(k, Entry{Op: "up"}); err == nil {
				t.Error("Begin succeeded")
			}
			if _, err := Pending(k); err == nil {
				t.Error("Pending succeeded")
			}
			if err := End(k); err == nil {
				t.Error("End succeeded")
			}
		})
	}
}

func TestAcquireWaitsForRelease(t *testing.T) {
	t.Parallel()
	key := Key{Dir: t.TempDir(), Engine: "e", Project: "web"}
	first := Holder{PID: 4242, Command: "composer up -d", Since: time.Now()}
	l1, err := Acquire(context.Background(), key, first, nil)
	if err != nil {
		t.Fatal(err)
	}

	waits := make(chan Holder, 10)
	type result struct {
		l   *Lock
		err error
	}
	done := make(chan result, 1)
	go func() {
		l, err := Acquire(context.Background(), key, Holder{PID: 7, Command: "composer down"}, func(h Holder) { waits <- h })
		done <- result{l, err}
	}()

	h := <-waits
	if h.PID != first.PID || h.Command != first.Command || !h.Since.Equal(first.Since) {
		t.Errorf("onWait got %+v, want %+v", h, first)
	}
	// Several poll intervals pass: still blocked, onWait not called again.
	select {
	case r := <-done:
		t.Fatalf("second Acquire returned while first held: %v", r.err)
	case <-time.After(5 * pollInterval):
	}
	if err := l1.Release(); err != nil {
		t.Fatal(err)
	}
	if err := l1.Release(); err != nil {
		t.Errorf("second Release: %v", err)
	}
	r := <-done
	if r.err != nil {
		t.Fatalf("second Acquire after Release: %v", r.err)
	}
	defer r.l.Release()
	if n := len(waits); n != 0 {
		t.Errorf("onWait called %d more times", n)
	}
	path, _ := key.path(".lock")
	if got := readHolder(path); got.PID != 7 || got.Command != "composer down" {
		t.Errorf("lock file holds %+v after second Acquire", got)
	}
}

func TestAcquireTimeoutNamesHolder(t *testing.T) {
	t.Parallel()
	key := Key{Dir: t.TempDir(), Engine: "e", Project: "web"}
	l, err := Acquire(context.Background(), key, Holder{PID: 4242, Command: "composer up -d", Since: time.Now()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()

	ctx, cancel := context.WithTimeout(context.Background(), 3*pollInterval)
	defer cancel()
	l2, err := Acquire(ctx, key, Holder{PID: 7}, nil)
	if err == nil {
		l2.Release()
		t.Fatal("Acquire succeeded while the lock was held")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v is not DeadlineExceeded", err)
	}
	for _, want := range []string{"web", "4242", "composer up -d"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// TestHelperProcess is not a test: run as a child by TestLockDiesWithHolder,
// it holds a lock until its stdin closes.
func TestHelperProcess(t *testing.T) {
	if os.Getenv("STATE_TEST_HELPER") != "1" {
		t.Skip("helper process only")
	}
	key := Key{Dir: os.Getenv("STATE_TEST_DIR"), Engine: "e", Project: "web"}
	if _, err := Acquire(context.Background(), key, Holder{PID: os.Getpid(), Command: "helper"}, nil); err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(1)
	}
	os.Stdout.WriteString("locked\n")
	// Sleep until killed; exit too if the parent goes away and closes stdin.
	bufio.NewReader(os.Stdin).ReadString('\n')
	os.Exit(0)
}

func TestLockDiesWithHolder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	key := Key{Dir: dir, Engine: "e", Project: "web"}

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), "STATE_TEST_HELPER=1", "STATE_TEST_DIR="+dir)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "locked\n" {
		t.Fatalf("helper said %q, %v; want \"locked\"", line, err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*pollInterval)
	defer cancel()
	var waitedFor Holder
	if l, err := Acquire(ctx, key, Holder{PID: os.Getpid()}, func(h Holder) { waitedFor = h }); err == nil {
		l.Release()
		t.Fatal("Acquire succeeded while the helper held the lock")
	}
	if waitedFor.PID != cmd.Process.Pid || waitedFor.Command != "helper" {
		t.Errorf("waited for %+v, want the helper (pid %d)", waitedFor, cmd.Process.Pid)
	}

	if err := cmd.Process.Signal(os.Kill); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	l, err := Acquire(ctx, key, Holder{PID: os.Getpid()}, nil)
	if err != nil {
		t.Fatalf("Acquire after the holder was killed: %v", err)
	}
	l.Release()
}

func TestJournal(t *testing.T) {
	t.Parallel()
	key := Key{Dir: t.TempDir(), Engine: "e", Project: "web"}

	if e, err := Pending(key); err != nil || e != nil {
		t.Fatalf("Pending() with no journal = %+v, %v; want nil, nil", e, err)
	}
	if err := End(key); err != nil {
		t.Errorf("End() with no journal: %v", err)
	}

	down := Entry{Op: "down", Command: "composer down", PID: 1, Started: time.Now().Add(-time.Hour)}
	up := Entry{Op: "up", Command: "composer up -d", PID: 4242, Started: time.Now()}
	for _, e := range []Entry{down, up} {
		if err := Begin(key, e); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Pending(key)
	if err != nil || got == nil {
		t.Fatalf("Pending() after Begin = %v, %v", got, err)
	}
	if got.Op != up.Op || got.Command != up.Command || got.PID != up.PID || !got.Started.Equal(up.Started) {
		t.Errorf("Pending() = %+v, want %+v", *got, up)
	}
	path, _ := key.path(".journal")
	if files, _ := os.ReadDir(filepath.Dir(path)); len(files) != 1 {
		t.Errorf("journal directory holds %d files, want only the journal", len(files))
	}

	if err := End(key); err != nil {
		t.Fatal(err)
	}
	if e, err := Pending(key); err != nil || e != nil {
		t.Errorf("Pending() after End = %+v, %v; want nil, nil", e, err)
	}
}

func TestCorruptJournal(t *testing.T) {
	t.Parallel()
	for name, content := range map[string]string{
		"not json":   "{\"op\": \"up\", \"comm",
		"empty":      "",
		"no op":      `{"pid": 12}`,
		"wrong type": `{"op": 3}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			key := Key{Dir: t.TempDir(), Engine: "e", Project: "web"}
			path, _ := key.path(".journal")
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			info, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			e, err := Pending(key)
			if err != nil || e == nil {
				t.Fatalf("Pending() = %v, %v; want an entry", e, err)
			}
			if e.Op != "unknown" || !e.Started.Equal(info.ModTime()) {
				t.Errorf("Pending() = %+v, want op unknown started %v", *e, info.ModTime())
			}
		})
	}
}

func TestHolderString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		h    Holder
		want string
	}{
		{Holder{}, "an unknown process"},
		{Holder{PID: 12}, "pid 12"},
		{Holder{PID: 12, Command: "composer up", Since: time.Now().Add(-90 * time.Second)}, "pid 12 (composer up) for 1m30s"},
	}
	for _, tt := range tests {
		if got := tt.h.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.h, got, tt.want)
		}
	}
}

// TestJournalInFlight: intents recorded and not answered are in flight;
// a broken last line is skipped.
func TestJournalInFlight(t *testing.T) {
	t.Parallel()
	key := Key{Dir: t.TempDir(), Engine: "unix:///x.sock", Project: "p"}
	if err := Begin(key, Entry{Op: "up", Started: time.Now()}); err != nil {
		t.Fatal(err)
	}
	for _, in := range []Intent{
		{Op: "create", Kind: "network", Name: "p_default"},
		{Op: "create", Kind: "container", Name: "p-a-1"},
		{Op: "create", Kind: "network", Name: "p_default", Done: true},
		{Op: "remove", Kind: "container", Name: "abc"},
		{Op: "create", Kind: "container", Name: "p-b-1"},
		{Op: "create", Kind: "container", Name: "p-b-1", Done: true},
	} {
		if err := Record(key, in); err != nil {
			t.Fatal(err)
		}
	}
	path, _ := key.path(".journal")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString(`{"op":"create","ki`)
	_ = f.Close()
	e, err := Pending(key)
	if err != nil || e == nil {
		t.Fatalf("Pending = %v, %v", e, err)
	}
	want := []Intent{{Op: "create", Kind: "container", Name: "p-a-1"}, {Op: "remove", Kind: "container", Name: "abc"}}
	if !slices.Equal(e.InFlight, want) {
		t.Fatalf("in flight = %+v, want %+v", e.InFlight, want)
	}
	if err := Begin(key, Entry{Op: "down"}); err != nil {
		t.Fatal(err)
	}
	if e, _ := Pending(key); e == nil || len(e.InFlight) != 0 {
		t.Fatalf("Begin did not start a fresh journal: %+v", e)
	}
}

func TestProbesRecordAndForget(t *testing.T) {
	t.Parallel()
	key := Key{Dir: t.TempDir(), Engine: "e", Project: "web"}
	if got, err := Probes(key); err != nil || len(got) != 0 {
		t.Fatalf("Probes before any record = %v, %v; want empty", got, err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	old := now.Add(-8 * 24 * time.Hour)
	if err := RecordProbe(key, "old", old); err != nil {
		t.Fatal(err)
	}
	if err := RecordProbe(key, "a", now); err != nil {
		t.Fatal(err)
	}
	got, err := Probes(key)
	if err != nil {
		t.Fatal(err)
	}
	if !got["a"].Equal(now) {
		t.Errorf("a recorded at %v, want %v", got["a"], now)
	}
	if _, ok := got["old"]; ok {
		t.Error("a record older than a week was kept")
	}
	// A damaged file is a lost remark, not an error.
	path, _ := key.path(".probes")
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := Probes(key); err != nil || len(got) != 0 {
		t.Errorf("Probes of a damaged file = %v, %v; want empty, no error", got, err)
	}
	if err := RecordProbe(key, "b", now); err != nil {
		t.Errorf("recording over a damaged file: %v", err)
	}
}

func TestOneSupervisorAtATime(t *testing.T) {
	t.Parallel()
	key := Key{Dir: t.TempDir(), Engine: "e", Project: "web"}
	first, _, err := AcquireSupervisor(key, Holder{PID: 11, Command: "composer supervise"})
	if err != nil || first == nil {
		t.Fatalf("first supervisor: %v, %v", first, err)
	}
	second, holder, err := AcquireSupervisor(key, Holder{PID: 12})
	if err != nil || second != nil || holder.PID != 11 {
		t.Errorf("second supervisor: lock %v, holder %+v, error %v; want none, held by pid 11", second, holder, err)
	}
	// The project's own lock is apart: a changing command does not wait.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l, err := Acquire(ctx, key, Holder{PID: 13}, nil)
	if err != nil {
		t.Fatalf("the project lock waits for the supervisor: %v", err)
	}
	_ = l.Release()
	_ = first.Release()
	third, _, err := AcquireSupervisor(key, Holder{PID: 14})
	if err != nil || third == nil {
		t.Errorf("after the first let go: %v, %v", third, err)
	}
	_ = third.Release()
}
