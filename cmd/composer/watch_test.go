package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const watchYAML = `services:
  web:
    image: img
    develop:
      watch:
        - path: ./src
          action: sync
          target: /app
          ignore: [skip/]
  db:
    image: img
`

// watch brings the project up, syncs a change into the container, says
// which service it does not watch, and ends on Ctrl-C with 130, as
// docker compose watch does.
func TestWatchSyncsUntilInterrupted(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"watch"}, {"up", "--watch"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			c := newCLI(t, watchYAML)
			c.eng.AddImage("img")
			if err := os.MkdirAll(filepath.Join(c.dir, "src"), 0o755); err != nil {
				t.Fatal(err)
			}
			interrupts := make(chan os.Signal, 2)
			done := c.attachedUp(interrupts, "proj-web-1", args...)
			// Watching starts right after the containers run: write until
			// a write is seen.
			c.eventually("a.txt is synced", func() bool {
				if err := os.WriteFile(filepath.Join(c.dir, "src", "a.txt"), []byte("hello"), 0o644); err != nil {
					t.Fatal(err)
				}
				b, err := c.eng.ReadFile("proj-web-1", "/app/a.txt")
				return err == nil && string(b) == "hello"
			})
			interrupts <- os.Interrupt
			r := waitResult(t, done)
			if r.code != 130 {
				t.Errorf("exit code %d, want 130:\n%s", r.code, r)
			}
			for _, want := range []string{"Watch enabled", `service "db" has no develop.watch section`} {
				if !strings.Contains(r.stdout+r.stderr, want) {
					t.Errorf("output does not say %q:\n%s", want, r)
				}
			}
		})
	}
}

func TestWatchRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		yaml string
		args []string
		want string
	}{
		{"services:\n  db:\n    image: img\n", []string{"watch"}, "none of the selected services is configured for watch"},
		{watchYAML, []string{"up", "--watch", "-d"}, "--detach cannot be combined with --watch"},
		{watchYAML, []string{"up", "--watch", "--wait"}, "--wait cannot be combined with --watch"},
		{watchYAML, []string{"up", "--watch", "--no-build"}, "--no-build and --watch are incompatible"},
		{"services:\n  web:\n    image: img\n    develop:\n      watch:\n        - path: .\n          action: rebuild\n", []string{"watch", "--no-up"}, "action rebuild needs a build section"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			c := newCLI(t, tt.yaml)
			c.eng.AddImage("img")
			r := c.run(tt.args...)
			if r.code == 0 || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("want a failure saying %q:\n%s", tt.want, r)
			}
		})
	}
}
