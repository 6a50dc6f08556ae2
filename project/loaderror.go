package project

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// LoadError is a problem in a compose file, with where it is.
//
// Load returns one for each problem it can place (several at once are
// joined with errors.Join; errors.As finds the first). The loader reports
// problems by path (services.web.healthcheck.timeout); Load maps each path
// back to the key or value in the file it came from, parsing the files again
// only once a load has failed.
//
// No field ever holds the value of a variable, nor a value written with
// ${...}: the value of an environment variable, or a string the author
// interpolates, may be a secret, and errors end up in terminals and CI logs.
type LoadError struct {
	// File is the absolute path of the file, as the loader names it; ""
	// when unknown.
	File string
	// Line and Column are 1-based (Column counts characters); 0 when
	// unknown.
	Line, Column int
	// Path is the dotted path of the offending key or value as written in
	// File, with list items as [i]: services.web.ports[0]. "" for a problem
	// that is not at a path, such as a YAML syntax error.
	Path string
	// Message says what is wrong and what was expected, without the file,
	// position or path.
	Message string
	// Hint is a suggestion such as "did you mean `restart`?", or "".
	Hint string
	// Source is the line at Line, for a caret display, with an interpolated
	// value masked; "" when unknown.
	Source string
	// Err is the underlying error, for errors.Is and errors.As. When the
	// loader's error could carry a variable's value, Err is a stand-in
	// without it.
	Err error
}

// Error formats the problem as FILE:LINE:COL: PATH: MESSAGE; HINT, leaving
// out what is unknown. FILE is absolute, as the loader names it, so that the
// message means the same from whichever directory it is read.
func (e *LoadError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
			if e.Column > 0 {
				fmt.Fprintf(&b, ":%d", e.Column)
			}
		}
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	if e.Hint != "" {
		b.WriteString("; ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

func (e *LoadError) Unwrap() error { return e.Err }

// Snippet is the source line followed by a line with a caret under Column,
// for terminals; "" when the line is unknown. Tabs before the column are
// kept so that the caret lines up however wide the terminal shows them.
func (e *LoadError) Snippet() string {
	if e.Source == "" || e.Line <= 0 {
		return ""
	}
	if e.Column <= 0 {
		return e.Source
	}
	var pad strings.Builder
	i := 0
	for _, r := range e.Source {
		if i >= e.Column-1 {
			break
		}
		if r == '\t' {
			pad.WriteRune('\t')
		} else {
			pad.WriteByte(' ')
		}
		i++
	}
	// A column past the end of the line (an error at the end of input)
	// still gets its caret.
	for ; i < e.Column-1; i++ {
		pad.WriteByte(' ')
	}
	return e.Source + "\n" + pad.String() + "^"
}

// safeError stands in for a loader error whose text may hold a variable's
// value: it has a safe text and still answers errors.Is for the sentinels
// the original wrapped.
type safeError struct {
	msg string
	is  []error
}

func (e *safeError) Error() string { return e.msg }

func (e *safeError) Is(target error) bool {
	for _, s := range e.is {
		if target == s {
			return true
		}
	}
	return false
}

// masked hides a line's text from column col (1-based, in characters) on,
// for showing where an interpolated value is without showing it.
func masked(line string, col int) string {
	if col <= 0 {
		return ""
	}
	i, n := 0, 0
	for i < len(line) && n < col-1 {
		_, size := utf8.DecodeRuneInString(line[i:])
		i += size
		n++
	}
	return line[:i] + "***"
}

// joinLoadErrors returns nil, the single error, or all of them joined.
func joinLoadErrors(errs []*LoadError) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = e
	}
	return errors.Join(out...)
}
