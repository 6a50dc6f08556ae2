package orchestrator

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestParseDetachKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want []byte
	}{
		{"", []byte{16, 17}},
		{"ctrl-p,ctrl-q", []byte{16, 17}},
		{"ctrl-a", []byte{1}},
		{"ctrl-@,ctrl-[,ctrl-_", []byte{0, 27, 31}},
		{"a,b,ctrl-Z", []byte{'a', 'b', 26}},
	}
	for _, tt := range tests {
		got, err := ParseDetachKeys(tt.in)
		if err != nil || !bytes.Equal(got, tt.want) {
			t.Errorf("ParseDetachKeys(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"ctrl-", "ctrl-1", "ab", "a,,b", "shift-a"} {
		if _, err := ParseDetachKeys(bad); err == nil {
			t.Errorf("ParseDetachKeys(%q) did not fail", bad)
		}
	}
}

// TestEscapeProxy checks that the detach keys are kept back and end the
// input, that a partial sequence is passed on once it does not go on,
// whatever the reads' sizes.
func TestEscapeProxy(t *testing.T) {
	t.Parallel()
	keys := []byte{16, 17} // ctrl-p ctrl-q
	tests := []struct {
		name, in, out string
		detach        bool
	}{
		{"plain", "hello", "hello", false},
		{"detach", "ab\x10\x11cd", "ab", true},
		{"partial", "a\x10b", "a\x10b", false},
		{"partial then detach", "\x10\x10\x11x", "\x10", true},
		{"partial at the end", "a\x10", "a\x10", false},
	}
	for _, tt := range tests {
		for _, oneByte := range []bool{false, true} {
			var r io.Reader = strings.NewReader(tt.in)
			if oneByte {
				r = iotest.OneByteReader(r)
			}
			detached := 0
			p := &escapeProxy{r: r, keys: keys, onDetach: func() { detached++ }}
			got, err := io.ReadAll(p)
			if string(got) != tt.out {
				t.Errorf("%s (one byte reads %v): passed %q, want %q", tt.name, oneByte, got, tt.out)
			}
			if tt.detach != errors.Is(err, errDetached) || tt.detach != (detached > 0) {
				t.Errorf("%s (one byte reads %v): err %v, onDetach called %d times; want detach %v", tt.name, oneByte, err, detached, tt.detach)
			}
		}
	}
}
