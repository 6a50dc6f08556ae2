package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCmdConfigRoundTripsDollars runs config on a file writing literal $
// every way there is (cmd/composer/testdata/escapes), then config on what
// it printed: the second print must be the first, so each $ the loader
// unescaped is printed escaped again. It needs no engine.
func TestCmdConfigRoundTripsDollars(t *testing.T) {
	t.Parallel()
	fixture, err := os.ReadFile(filepath.Join(moduleRoot(), "cmd", "composer", "testdata", "escapes", "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	p := NewProject(t, "")
	p.WriteFile("compose.yaml", string(fixture))
	// VAR holds a $ that interpolation puts in the model; TAG is empty so
	// that ${TAG:-1} takes its default whatever the outside environment.
	env := []string{"VAR=a$b", "TAG="}
	config := func(args ...string) *Result {
		t.Helper()
		return RunComposer(t, Cmd{Dir: p.Dir, Args: append([]string{"-p", p.Name}, args...), Env: env}).Success(t)
	}
	bare := regexp.MustCompile(`(^|[^$])\$(HOME|\{NOT_A_VAR\}|HOSTNAME|USER)`)

	for _, format := range []string{"yaml", "json"} {
		first := config("config", "--format", format)
		for _, want := range []string{"$$HOME", "$${NOT_A_VAR}", "end$$", "four$$$$", "a$$b-$$HOME-1", "/home/$$USER", "costs $$5", "busybox:1"} {
			if !strings.Contains(first.Stdout, want) {
				t.Errorf("config --format %s: %q missing:\n%s", format, want, first)
			}
		}
		if bare.MatchString(first.Stdout) {
			t.Errorf("config --format %s: a bare $ before a variable name:\n%s", format, first)
		}

		printed := filepath.Join(p.Dir, "printed."+format)
		config("config", "--format", format, "-o", printed)
		b, err := os.ReadFile(printed)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != first.Stdout {
			t.Errorf("config -o wrote something else than stdout:\n%s\n--- stdout\n%s", b, first.Stdout)
		}
		second := config("-f", printed, "config", "--format", format)
		if second.Stdout != first.Stdout {
			t.Errorf("config --format %s of its own output differs:\n--- first\n%s\n--- second\n%s", format, first.Stdout, second.Stdout)
		}
	}

	// --no-interpolate prints ${VAR} and $$ as written, and is its own
	// fixed point.
	first := config("config", "--no-interpolate")
	for _, want := range []string{"$$HOME", "${VAR}", "busybox:${TAG:-1}", "four$$$$"} {
		if !strings.Contains(first.Stdout, want) {
			t.Errorf("config --no-interpolate: %q missing:\n%s", want, first)
		}
	}
	printed := p.WriteFile("printed-raw.yaml", first.Stdout)
	if second := config("-f", printed, "config", "--no-interpolate"); second.Stdout != first.Stdout {
		t.Errorf("config --no-interpolate of its own output differs:\n--- first\n%s\n--- second\n%s", first.Stdout, second.Stdout)
	}
}
