package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// upAndWaitLogs brings the project up and waits until composer logs shows want.
func upAndWaitLogs(t *testing.T, p *Project, want string) {
	t.Helper()
	p.Up()
	Eventually(t, 30*time.Second, func() bool {
		return strings.Contains(p.Compose("logs", "--no-color").Combined(), want)
	}, "logs to show "+want)
}

func TestCmdLogsPrefixIsPaddedToTheWidestName(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  a:
    image: IMAGE
    command: ["log", "3", "short"]
  longername:
    image: IMAGE
    command: ["log", "3", "long"]
`)
	upAndWaitLogs(t, p, "long 3")
	Eventually(t, 30*time.Second, func() bool {
		return strings.Contains(p.Compose("logs", "--no-color").Stdout, "short 3")
	}, "logs of a")
	r := p.Compose("logs", "--no-color").Success(t)
	a, long := p.ContainerName("a", 1), p.ContainerName("longername", 1)
	width := len(long)
	for i := 1; i <= 3; i++ {
		for _, want := range []string{
			fmt.Sprintf("%-*s | short %d", width, a, i),
			fmt.Sprintf("%-*s | long %d", width, long, i),
		} {
			if countLine(r.Stdout, want) != 1 {
				t.Errorf("want exactly one line %q:\n%s", want, r)
			}
		}
	}
}

func TestCmdLogsNoLogPrefix(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  a:
    image: IMAGE
    command: ["log", "3", "bare"]
`)
	upAndWaitLogs(t, p, "bare 3")
	r := p.Compose("logs", "--no-log-prefix", "a").Success(t)
	if got, want := nonEmptyLines(r.Stdout), []string{"bare 1", "bare 2", "bare 3"}; strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("logs --no-log-prefix: got %q, want %q", got, want)
	}
}

func TestCmdLogsTail(t *testing.T) {
	t.Parallel()
	// Nine lines: every tenth line also goes to stderr, so these are all stdout.
	p := NewProject(t, `
services:
  a:
    image: IMAGE
    command: ["log", "9", "tail"]
`)
	upAndWaitLogs(t, p, "tail 9")
	r := p.Compose("logs", "--no-log-prefix", "--tail", "3", "a").Success(t)
	if got := strings.Join(nonEmptyLines(r.Stdout), ","); got != "tail 7,tail 8,tail 9" {
		t.Errorf("logs --tail 3: got %q, want the last three lines:\n%s", got, r)
	}
	r = p.Compose("logs", "--no-log-prefix", "--tail", "0", "a").Success(t)
	if strings.TrimSpace(r.Stdout) != "" {
		t.Errorf("logs --tail 0 printed lines:\n%s", r)
	}
}

func TestCmdLogsTimestamps(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  a:
    image: IMAGE
    command: ["log", "2", "stamped"]
`)
	before := time.Now().Add(-time.Minute)
	upAndWaitLogs(t, p, "stamped 2")
	r := p.Compose("logs", "--no-log-prefix", "-t", "a").Success(t)
	lines := nonEmptyLines(r.Stdout)
	if len(lines) != 2 {
		t.Fatalf("want 2 lines:\n%s", r)
	}
	for i, l := range lines {
		ts, text, ok := strings.Cut(l, " ")
		if !ok || text != fmt.Sprintf("stamped %d", i+1) {
			t.Errorf("line %q: want \"<timestamp> stamped %d\"", l, i+1)
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			t.Errorf("line %q: timestamp: %v", l, err)
			continue
		}
		if at.Before(before) || at.After(time.Now().Add(time.Minute)) {
			t.Errorf("line %q: timestamp %s is not around now", l, at)
		}
	}
	// With the prefix, the timestamp comes after it.
	r = p.Compose("logs", "-t", "--no-color", "a").Success(t)
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(p.ContainerName("a", 1)) + ` +\| \d{4}-\d\d-\d\dT\S+ stamped 1$`)
	if !re.MatchString(nonEmptyLines(r.Stdout)[0]) {
		t.Errorf("logs -t: first line does not match %s:\n%s", re, r)
	}
}

func TestCmdLogsIndexSelectsOneReplica(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  w:
    image: IMAGE
    command: ["log", "2", "replica"]
    scale: 2
`)
	p.Up()
	Eventually(t, 30*time.Second, func() bool {
		return strings.Count(p.Compose("logs", "--no-color", "w").Stdout, "replica 2") == 2
	}, "logs of both replicas")
	r := p.Compose("logs", "--no-color", "--index", "2", "w").Success(t)
	lines := nonEmptyLines(r.Stdout)
	if len(lines) != 2 {
		t.Errorf("logs --index 2: want the 2 lines of one replica:\n%s", r)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, p.ContainerName("w", 2)+" ") {
			t.Errorf("logs --index 2: line %q is not from %s", l, p.ContainerName("w", 2))
		}
	}
}

func TestCmdLogsStdoutAndStderrStayApart(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  a:
    image: IMAGE
    command: ["log", "20", "split"]
`)
	upAndWaitLogs(t, p, "split 20 stderr")
	r := p.Compose("logs", "--no-log-prefix", "a").Success(t)
	out, errs := nonEmptyLines(r.Stdout), nonEmptyLines(r.Stderr)
	if len(out) != 20 || strings.Contains(r.Stdout, "stderr") {
		t.Errorf("stdout should hold the 20 stdout lines only:\n%s", r)
	}
	if strings.Join(errs, ",") != "split 10 stderr,split 20 stderr" {
		t.Errorf("stderr should hold the container's 2 stderr lines:\n%s", r)
	}
}

func TestCmdLogsFollowSurvivesRestart(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  a:
    image: IMAGE
    command: ["log", "3", "run"]
`)
	p.Up()
	f := p.StartCompose("logs", "-f", "--no-log-prefix", "a")
	f.WaitFor(30*time.Second, "run 3")
	p.Compose("restart", "-t", "1", "a").Success(t)
	Eventually(t, 30*time.Second, func() bool {
		return countLine(f.Stdout(), "run 3") == 2
	}, "logs -f to show the restarted container's lines")
	if !f.Running() {
		t.Fatalf("logs -f ended after the restart:\n%s", f.result())
	}
	// Give a repeated read the time to show up before counting.
	time.Sleep(time.Second)
	for _, l := range []string{"run 1", "run 2", "run 3"} {
		if n := countLine(f.Stdout(), l); n != 2 {
			t.Errorf("line %q printed %d times, want 2 (one per run):\n%s", l, n, f.Stdout())
		}
	}
}

func TestCmdLogsFollowSurvivesRecreate(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  a:
    image: IMAGE
    command: ["log", "3", "gen"]
`)
	p.Up()
	f := p.StartCompose("logs", "-f", "--no-log-prefix", "a")
	f.WaitFor(30*time.Second, "gen 3")
	p.Up("--force-recreate", "-t", "1", "a")
	Eventually(t, 30*time.Second, func() bool {
		return countLine(f.Stdout(), "gen 3") == 2
	}, "logs -f to show the recreated container's lines")
	if !f.Running() {
		t.Fatalf("logs -f ended after the recreate:\n%s", f.result())
	}
	time.Sleep(time.Second)
	for _, l := range []string{"gen 1", "gen 2", "gen 3"} {
		if n := countLine(f.Stdout(), l); n != 2 {
			t.Errorf("line %q printed %d times, want 2 (one per container):\n%s", l, n, f.Stdout())
		}
	}
}

func TestCmdLogsNoLineLostOrSplitUnderLoad(t *testing.T) {
	t.Parallel()
	const n = 2000
	p := NewProject(t, `
services:
  s1:
    image: IMAGE
    command: ["log", "2000", "one"]
  s2:
    image: IMAGE
    command: ["log", "2000", "two"]
  s3:
    image: IMAGE
    command: ["log", "2000", "three"]
`)
	p.Up()
	f := p.StartCompose("logs", "-f", "--no-color")
	Eventually(t, 60*time.Second, func() bool {
		out := f.Stdout()
		return strings.Contains(out, fmt.Sprintf("one %d\n", n)) &&
			strings.Contains(out, fmt.Sprintf("two %d\n", n)) &&
			strings.Contains(out, fmt.Sprintf("three %d\n", n))
	}, "the last line of each container")
	checkWhole := func(what, stdout string) {
		t.Helper()
		width := len(p.ContainerName("s1", 1))
		seen := map[string]int{}
		bad := 0
		for _, l := range nonEmptyLines(stdout) {
			pre, text, ok := strings.Cut(l, " | ")
			var word string
			var i int
			whole := ok && len(pre) == width
			if whole {
				k, err := fmt.Sscanf(text, "%s %d", &word, &i)
				whole = err == nil && k == 2 && fmt.Sprintf("%s %d", word, i) == text
			}
			if !whole {
				bad++
				if bad <= 5 {
					t.Errorf("%s: malformed line %q", what, l)
				}
				continue
			}
			seen[strings.TrimRight(pre, " ")+" "+text]++
		}
		missing := 0
		for svc, word := range map[string]string{"s1": "one", "s2": "two", "s3": "three"} {
			for i := 1; i <= n; i++ {
				if seen[fmt.Sprintf("%s %s %d", p.ContainerName(svc, 1), word, i)] != 1 {
					missing++
				}
			}
		}
		if bad > 0 || missing > 0 || len(seen) != 3*n {
			t.Errorf("%s: %d malformed lines, %d lines missing or repeated, %d distinct lines (want %d)", what, bad, missing, len(seen), 3*n)
		}
	}
	checkWhole("logs -f", f.Stdout())
	checkWhole("logs", p.Compose("logs", "--no-color").Success(t).Stdout)
}
