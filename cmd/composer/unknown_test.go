package main

import (
	"strings"
	"testing"
)

// TestUnknownCommandsAndFlags checks that what names no command or flag
// is a usage error, exit 1 with a message on stderr and nothing on
// stdout, both as composer and as the Docker CLI plugin; never the help
// with exit 0.
func TestUnknownCommandsAndFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		program string
		args    []string
		want    []string
	}{
		{"command", "", []string{"frobnicate"}, []string{`unknown command "frobnicate" for "composer"`, "See 'composer --help'."}},
		{"command after a global flag", "", []string{"-p", "x", "frobnicate"}, []string{`unknown command "frobnicate"`}},
		{"flag", "", []string{"up", "--frobnicate"}, []string{"unknown flag: --frobnicate", "See 'composer up --help'."}},
		{"global flag", "", []string{"--frobnicate", "ps"}, []string{"unknown flag: --frobnicate", "See 'composer --help'."}},
		{"help topic", "", []string{"help", "frobnicate"}, []string{"unknown help topic: frobnicate", "See 'composer --help'."}},
		{"flag of a new command", "", []string{"wait", "--frobnicate", "web"}, []string{"unknown flag: --frobnicate"}},
		{"plugin command", pluginBinary, []string{"composer", "frobnicate"}, []string{`unknown command "frobnicate" for "docker composer"`, "See 'docker composer --help'."}},
		{"plugin flag", pluginBinary, []string{"composer", "up", "--frobnicate"}, []string{"unknown flag: --frobnicate", "See 'docker composer up --help'."}},
		{"plugin help topic", pluginBinary, []string{"composer", "help", "frobnicate"}, []string{"unknown help topic: frobnicate"}},
		// Called directly, the plugin binary is docker with one command.
		{"plugin binary command", pluginBinary, []string{"frobnicate"}, []string{"docker: 'frobnicate' is not a docker command."}},
		{"plugin binary flag", pluginBinary, []string{"--frobnicate", "composer", "ps"}, []string{"unknown flag: --frobnicate", "See 'docker --help'."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newCLI(t, "")
			c.program = tt.program
			r := c.run(tt.args...)
			if r.code != 1 {
				t.Errorf("exit code %d, want 1:\n%s", r.code, r)
			}
			if r.stdout != "" {
				t.Errorf("stdout not empty (help?):\n%s", r)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, r)
				}
			}
		})
	}
}

// TestHelpTopics checks that help still helps, here and under the Docker
// CLI, where cobra would give the help command to docker alone.
func TestHelpTopics(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		program string
		args    []string
		want    string
	}{
		{"", []string{"help"}, "composer [command]"},
		{"", []string{"help", "wait"}, "composer wait SERVICE"},
		{"", []string{"help", "volumes"}, "composer volumes [OPTIONS]"},
		{pluginBinary, []string{"composer", "help", "ps"}, "docker composer ps"},
	} {
		c := newCLI(t, "")
		c.program = tt.program
		r := c.must(tt.args...)
		if !strings.Contains(r.stdout, tt.want) {
			t.Errorf("help does not say %q:\n%s", tt.want, r)
		}
	}
}
