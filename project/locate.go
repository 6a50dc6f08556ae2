package project

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/errdefs"
	"github.com/compose-spec/compose-go/v2/template"
	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v4"
	yaml3 "gopkg.in/yaml.v3"
)

// locate turns an error from loading po into LoadErrors that say where,
// in which file, each problem is. compose-go reports problems by path in
// the merged model, or not at all, so the files the load read are parsed
// again and each path is mapped back to its node. It runs only once a
// load has failed. An error it cannot place is returned as it was, with
// anything that could be a variable's value taken out.
func locate(err error, po *cli.ProjectOptions, o Options) (out error) {
	if err == nil {
		return nil
	}
	// Interpolating again to find a failing value would warn again about
	// unset variables, which the user has been told about.
	quietly(func() {
		defer func() {
			// A problem in finding the position must not hide the problem.
			if r := recover(); r != nil {
				if strictLocator.Load() {
					panic(r)
				}
				out = scrub(err, nil)
			}
		}()
		wd, werr := po.GetWorkingDir()
		if werr != nil {
			wd = o.WorkingDir
		}
		s := newSourceSet(po.ConfigPaths, wd, po.Environment, envMap(o.env()), po.EnvFiles)
		out = s.explain(err)
	})
	return out
}

// strictLocator makes a panic in the locator a panic, for FuzzLoad to
// find; otherwise the loader's error is returned as it was.
var strictLocator atomic.Bool

// locateOptionsError places an error from reading the options (an env
// file that does not parse); there are no compose files yet.
func locateOptionsError(err error, o Options) error {
	s := &sourceSet{byPath: map[string]*sourceFile{}, processEnv: envMap(o.env())}
	if les := s.envFileError(err, err.Error()); len(les) > 0 {
		return joinLoadErrors(les)
	}
	return err
}

func envMap(env []string) map[string]string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// explain places each of the problems err holds.
func (s *sourceSet) explain(err error) error {
	var placed []*LoadError
	var rest []error
	for _, leaf := range flatten(err) {
		if les := s.explainOne(leaf); len(les) > 0 {
			placed = append(placed, les...)
		} else {
			rest = append(rest, leaf)
		}
	}
	if len(placed) == 0 {
		return scrub(err, s)
	}
	placed = uniqueErrors(placed)
	if len(rest) == 0 {
		return joinLoadErrors(placed)
	}
	all := make([]error, 0, len(placed)+len(rest))
	for _, e := range placed {
		all = append(all, e)
	}
	for _, e := range rest {
		all = append(all, scrub(e, s))
	}
	return errors.Join(all...)
}

func uniqueErrors(errs []*LoadError) []*LoadError {
	type key struct {
		file, path, msg string
		line, col       int
	}
	seen := map[key]bool{}
	var out []*LoadError
	for _, e := range errs {
		k := key{e.File, e.Path, e.Message, e.Line, e.Column}
		if !seen[k] {
			seen[k] = true
			out = append(out, e)
		}
	}
	return out
}

// namedError is mapstructure's DecodeError, which names the field it
// failed on: services[web].healthcheck.timeout.
type namedError interface {
	error
	Name() string
}

// flatten splits joined errors (interpolation and decoding report several
// at once) into the problems they hold.
func flatten(err error) []error {
	if _, ok := err.(namedError); ok {
		return []error{err}
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			if e != nil {
				out = append(out, flatten(e)...)
			}
		}
		return out
	}
	if strings.HasPrefix(err.Error(), "decoding failed due to the following error(s):") {
		if u := errors.Unwrap(err); u != nil {
			return flatten(u)
		}
	}
	return []error{err}
}

// explainOne places one problem; nil if it is of no kind known here.
func (s *sourceSet) explainOne(err error) []*LoadError {
	msg := err.Error()
	for _, kind := range []func(error, string) []*LoadError{
		s.interpolationError,
		s.decodeError,
		s.yamlError,
		s.schemaError,
		s.envFileError,
		s.referenceError,
		s.valueError,
		s.pathError,
		s.serviceError,
	} {
		if les := kind(err, msg); len(les) > 0 {
			return les
		}
	}
	return nil
}

// at makes a LoadError at node pos of hit h. A value written with ${...}
// is masked in Source: it may hold a secret, or be one once interpolated.
func (s *sourceSet) at(h hit, pos *yaml3.Node, msg string, err error) *LoadError {
	e := &LoadError{Path: h.path, Message: msg, Err: err}
	if h.file != nil {
		e.File = h.file.path
	}
	if pos != nil && h.file != nil {
		e.Line, e.Column = pos.Line, pos.Column
		e.Source = h.file.line(pos.Line)
		if v := deref(h.val); v != nil && v.Kind == yaml3.ScalarNode && strings.Contains(v.Value, "$") && h.val.Line == pos.Line {
			e.Source = masked(e.Source, h.val.Column)
		}
	}
	return e
}

// written is how a problem shows a scalar value: quoted in backticks when
// it is written plainly in the file, "" when it is interpolated (it may
// be a secret) or not a short scalar.
func written(h hit) string {
	v := deref(h.val)
	if v == nil || v.Kind != yaml3.ScalarNode || strings.Contains(v.Value, "$") || strings.ContainsAny(v.Value, "\n`") || len(v.Value) > 80 {
		return ""
	}
	return "`" + v.Value + "`"
}

// interpolated says which variables a value is written with, for a
// problem in its value: " (from ${A}, ${B})"; "" when it has none.
func interpolated(h hit) string {
	v := deref(h.val)
	if v == nil || v.Kind != yaml3.ScalarNode {
		return ""
	}
	vars := variables(v.Value)
	if len(vars) == 0 {
		return ""
	}
	refs := make([]string, len(vars))
	for i, name := range vars {
		refs[i] = "${" + name + "}"
	}
	return " (from " + strings.Join(refs, ", ") + ")"
}

// originHint says where the variables of a value are set.
func (s *sourceSet) originHint(h hit) string {
	v := deref(h.val)
	if v == nil || v.Kind != yaml3.ScalarNode {
		return ""
	}
	var parts []string
	for _, name := range variables(v.Value) {
		if o := s.origin(name); o != "" {
			parts = append(parts, name+" is set in "+o)
		}
	}
	return strings.Join(parts, ", ")
}

// safe replaces an error whose text holds a value written with ${...}.
func safe(err error, msg string) error {
	var is []error
	for _, sentinel := range []error{errdefs.ErrInvalid, errdefs.ErrNotFound, errdefs.ErrUnsupported, errdefs.ErrIncompatible} {
		if errors.Is(err, sentinel) {
			is = append(is, sentinel)
		}
	}
	return &safeError{msg: msg, is: is}
}

// errFor is err, or a stand-in without its text when the value at h is
// interpolated.
func errFor(h hit, err error, msg string) error {
	if interpolated(h) != "" {
		return safe(err, msg)
	}
	return err
}

// --- interpolation ---------------------------------------------------------

var (
	interpFormatRe = regexp.MustCompile(`(?s)^invalid interpolation format for (.*?)\.\nYou may need`)
	interpErrorRe  = regexp.MustCompile(`(?s)^error while interpolating (.*?): (.*)$`)
)

// interpolationError places a value that does not interpolate. The
// loader's message holds the whole value (`hunter2-${oops`); this one holds
// only the path and the variable's name.
func (s *sourceSet) interpolationError(err error, msg string) []*LoadError {
	var path, rest string
	if m := interpFormatRe.FindStringSubmatch(msg); m != nil {
		path = m[1]
	} else if m := interpErrorRe.FindStringSubmatch(msg); m != nil {
		path, rest = m[1], m[2]
	} else {
		return nil
	}
	var ite *template.InvalidTemplateError
	var mre *template.MissingRequiredError
	isInvalid := errors.As(err, &ite)
	isRequired := !isInvalid && errors.As(err, &mre)
	castMsg, isCast := strings.CutPrefix(rest, "failed to cast to expected type: ")
	want, check := castCheck(castMsg)

	// Which of the values at the path failed: the path has [] for any
	// list item, and the same path may be in several files.
	parts := splitPath(path)
	var failing []hit
	for _, h := range s.all(s.files, parts) {
		v := deref(h.val)
		if v == nil || v.Kind != yaml3.ScalarNode {
			continue
		}
		out, serr := template.Substitute(v.Value, lookupIn(h.file.env))
		var hite *template.InvalidTemplateError
		var hmre *template.MissingRequiredError
		switch {
		case isInvalid:
			if errors.As(serr, &hite) {
				failing = append(failing, h)
			}
		case isRequired:
			if errors.As(serr, &hmre) && hmre.Variable == mre.Variable {
				failing = append(failing, h)
			}
		case isCast:
			if serr == nil && (check == nil || check(out) != nil) {
				failing = append(failing, h)
			}
		default:
			if serr != nil {
				failing = append(failing, h)
			}
		}
	}
	if len(failing) == 0 {
		if hits := s.best(s.files, parts); len(hits) > 0 {
			failing = hits[:1]
		}
	}

	describe := func(h hit) (string, string, error) {
		switch {
		case isInvalid:
			raw := ""
			if v := deref(h.val); v != nil {
				raw = v.Value
			}
			return "invalid interpolation: " + templateProblem(raw), "write `$$` for a literal `$`", &template.InvalidTemplateError{}
		case isRequired:
			m := fmt.Sprintf("required variable %s is missing a value", mre.Variable)
			// The reason is shown only as written in the file: once
			// interpolated it could hold another variable's value.
			if v := deref(h.val); v != nil && mre.Reason != "" && !strings.Contains(mre.Reason, "$") && strings.Contains(v.Value, mre.Reason) {
				m += ": " + mre.Reason
			}
			return m, "set " + mre.Variable + " in the environment or in an env file", &template.MissingRequiredError{Variable: mre.Variable}
		case isCast:
			if from := interpolated(h); from != "" {
				m := "the interpolated value" + from + " is not " + want
				return m, s.originHint(h), safe(err, m)
			}
			got := written(h)
			if got == "" {
				got = "a string"
			}
			m := "wrong type: got " + got + ", want " + want
			return m, "", safe(err, m)
		}
		return "interpolation failed", "", safe(err, "interpolation failed")
	}

	if len(failing) == 0 {
		m, hint, e := describe(hit{})
		return []*LoadError{{Path: strings.Join(parts, "."), Message: m, Hint: hint, Err: e}}
	}
	var out []*LoadError
	for _, h := range failing {
		m, hint, e := describe(h)
		// at masks the value, written with ${...}, in Source.
		le := s.at(h, h.val, m, e)
		le.Hint = hint
		out = append(out, le)
	}
	return out
}

var templateName = regexp.MustCompile(`^[_a-zA-Z][_a-zA-Z0-9]*(?:\}|:?[-+?])`)

// templateProblem says what is wrong with a value that does not
// interpolate, without quoting it.
func templateProblem(raw string) string {
	for i := 0; i < len(raw); i++ {
		if raw[i] != '$' || i+1 >= len(raw) {
			continue
		}
		switch raw[i+1] {
		case '$':
			i++
		case '{':
			rest := raw[i+2:]
			if !strings.Contains(rest, "}") {
				return "unterminated `${`"
			}
			if !templateName.MatchString(rest) {
				return "`${` must be followed by a variable name (letters, digits and _, not starting with a digit)"
			}
		}
	}
	return "invalid `${...}` expression"
}

// castCheck is what an interpolated value had to be, and a check that
// tells whether a value is that, from the loader's message.
func castCheck(msg string) (string, func(string) error) {
	switch {
	case strings.HasPrefix(msg, "strconv.Atoi"), strings.HasPrefix(msg, "strconv.ParseInt"):
		return "an integer", func(v string) error { _, err := strconv.ParseInt(v, 10, 64); return err }
	case strings.HasPrefix(msg, "strconv.ParseUint"):
		return "an unsigned integer", func(v string) error { _, err := strconv.ParseUint(v, 0, 32); return err }
	case strings.HasPrefix(msg, "strconv.ParseFloat"):
		return "a number", func(v string) error { _, err := strconv.ParseFloat(v, 64); return err }
	case strings.HasPrefix(msg, "invalid boolean"):
		return "a boolean (true or false)", func(v string) error {
			switch strings.ToLower(v) {
			case "true", "false", "y", "yes", "on", "n", "no", "off":
				return nil
			}
			return errors.New("invalid boolean")
		}
	}
	return "a valid value", nil
}

// --- decoding ----------------------------------------------------------------

// decodeError places a value the loader could not turn into its Go type:
// a duration, a size, a number.
func (s *sourceSet) decodeError(err error, _ string) []*LoadError {
	var ne namedError
	if !errors.As(err, &ne) {
		return nil
	}
	// The innermost named error names the field.
	for e := error(ne); e != nil; e = errors.Unwrap(e) {
		if x, ok := e.(namedError); ok {
			ne = x
		}
	}
	inner := errors.Unwrap(ne)
	if inner == nil {
		inner = ne
	}
	parts := splitPath(ne.Name())
	kind, check := decodeKind(inner)
	hits := s.best(s.files, parts)
	if check != nil && hasIndex(parts) && (len(hits) == 0 || check(valueOf(hits[0])) == nil) {
		// A list merged from several files is numbered differently from
		// each file's list: find the item that fails instead.
		wild := make([]string, len(parts))
		for i, p := range parts {
			if isIndex(p) {
				p = "[]"
			}
			wild[i] = p
		}
		var failing []hit
		for _, h := range s.all(s.files, wild) {
			if check(valueOf(h)) != nil {
				failing = append(failing, h)
			}
		}
		if len(failing) > 0 {
			hits = failing
		}
	}
	if len(hits) == 0 {
		hits, _ = s.deepest(s.files, parts)
	}
	describe := func(h hit) string {
		got := written(h)
		if got != "" {
			got = " " + got
		}
		from := interpolated(h)
		switch kind {
		case "duration":
			return "invalid duration" + got + from + ", want a number with a unit such as 30s, 1m30s or 500ms"
		case "size":
			return "invalid size" + got + from + ", want a number of bytes with an optional unit b, k, m or g, such as 512m"
		}
		if from != "" {
			return "invalid value" + from
		}
		return "invalid value" + got + ": " + inner.Error()
	}
	if len(hits) == 0 {
		return []*LoadError{{Path: strings.Join(parts, "."), Message: describe(hit{}), Err: err}}
	}
	h := hits[0]
	m := describe(h)
	le := s.at(h, h.valuePos(), m, errFor(h, err, m))
	le.Hint = s.originHint(h)
	return []*LoadError{le}
}

func hasIndex(parts []string) bool {
	for _, p := range parts {
		if isIndex(p) {
			return true
		}
	}
	return false
}

// valueOf is a scalar's value as the loader saw it, interpolated.
func valueOf(h hit) string {
	v := deref(h.val)
	if v == nil || v.Kind != yaml3.ScalarNode {
		return ""
	}
	if h.file != nil {
		return interpolate(v.Value, h.file.env)
	}
	return v.Value
}

// decodeKind tells durations and sizes, whose errors name neither, with
// compose-go's own parsers to check a value again.
func decodeKind(err error) (string, func(string) error) {
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "time: "):
		return "duration", func(v string) error { var d types.Duration; return d.DecodeMapstructure(v) }
	case strings.HasPrefix(msg, "invalid size"), strings.HasPrefix(msg, "invalid suffix"):
		return "size", func(v string) error { var u types.UnitBytes; return u.DecodeMapstructure(v) }
	}
	return "", nil
}

// --- YAML syntax -------------------------------------------------------------

var yamlParseRe = regexp.MustCompile(`(?s)^failed to parse (.+?): (yaml: .*)$`)

// yamlError places a YAML syntax error. The loader names the file only
// for some; otherwise the first -f file that does not parse is the one.
func (s *sourceSet) yamlError(err error, msg string) []*LoadError {
	var file string
	if m := yamlParseRe.FindStringSubmatch(msg); m != nil {
		file = m[1]
	} else if msg == "top-level object must be a mapping" {
		return s.notMapping(err)
	} else if !strings.HasPrefix(msg, "yaml: ") {
		return nil
	}
	if file == "" {
		// The loader checked every file for a name: before loading any,
		// and that check reports no file name. Parsing each file again
		// the same way finds the one.
		for _, p := range s.configPaths {
			if p == "-" {
				continue
			}
			b, rerr := os.ReadFile(p)
			if rerr != nil {
				continue
			}
			if perr := parseYAML(b); perr != nil {
				file, err = p, perr
				break
			}
			var named struct {
				Name string `yaml:"name,omitempty"`
			}
			if uerr := yaml.Unmarshal(b, &named); uerr != nil {
				file, err = p, uerr
				break
			}
		}
	}
	if file == "" {
		return nil
	}
	f := s.file(file)
	var le *yaml.LoadErrors
	if errors.As(err, &le) {
		return s.constructErrors(f, file, le, err)
	}
	line, col, text := yamlPosition(err, f)
	e := &LoadError{File: file, Line: line, Column: col, Message: "invalid YAML: " + text, Err: err}
	e.Source = f.line(line)
	if strings.Contains(text, "mapping values are not allowed") {
		e.Hint = "quote a value that holds `: `"
	}
	if strings.Contains(text, "found character that cannot start any token") && strings.Contains(e.Source, "\t") {
		e.Hint = "indent with spaces, not tabs"
	}
	return []*LoadError{e}
}

// constructErrors places errors in a document's shape, found while the
// loader looked for a top-level name: a file that is not a mapping, a key
// written twice.
func (s *sourceSet) constructErrors(f *sourceFile, file string, le *yaml.LoadErrors, err error) []*LoadError {
	var out []*LoadError
	for _, ce := range le.Errors {
		line, col, text := ce.Line, ce.Column, ce.Err.Error()
		// The loader's decoder wraps the error of the node inside, whose
		// line is the one that matters.
		var inner *yaml.LoadError
		if errors.As(ce.Err, &inner) {
			line, col, text = inner.Line, inner.Column, inner.Err.Error()
		} else if m := lineRe.FindStringSubmatch(text); m != nil {
			line, _ = strconv.Atoi(m[1])
			col, text = 0, m[2]
		}
		e := &LoadError{File: file, Line: line, Column: col, Err: err}
		e.Source = f.line(line)
		switch {
		case strings.Contains(text, "into struct"):
			e.Message = "the top level of a compose file must be a mapping"
		case strings.Contains(text, "into string") && strings.HasPrefix(strings.TrimSpace(e.Source), "name:"):
			e.Path = "name"
			e.Message = "wrong type: want a string"
		default:
			if m := duplicateRe.FindStringSubmatch(text); m != nil {
				e.Message = "duplicate key `" + m[1] + "`, already set at line " + m[2]
				if i := strings.Index(e.Source, m[1]); i >= 0 && e.Column == 0 {
					e.Column = len([]rune(e.Source[:i])) + 1
				}
			} else {
				e.Message = "invalid YAML: " + text
			}
		}
		out = append(out, e)
	}
	return out
}

var (
	lineRe      = regexp.MustCompile(`(?s)^line (\d+): (.*)$`)
	duplicateRe = regexp.MustCompile(`^mapping key "(.*)" already defined at line (\d+)$`)
)

// notMapping places a document whose top level is not a mapping.
func (s *sourceSet) notMapping(err error) []*LoadError {
	for _, f := range s.files {
		for _, doc := range f.docs {
			if doc.Kind != yaml3.MappingNode {
				return []*LoadError{{File: f.path, Line: doc.Line, Column: doc.Column, Source: f.line(doc.Line),
					Message: "the top level of a compose file must be a mapping", Err: err}}
			}
		}
	}
	return nil
}

// yamlPosition finds where a YAML error is, 1-based. The YAML package's
// marks are not all alike: a scanner's line is 1-based, a parser's is
// 0-based, and both print the column 1-based. The error types are
// internal to the package, so they are told apart by name.
func yamlPosition(err error, f *sourceFile) (line, col int, text string) {
	text = strings.TrimPrefix(err.Error(), "yaml: ")
	for e := err; e != nil; e = errors.Unwrap(e) {
		v := reflect.ValueOf(e)
		if v.Kind() == reflect.Pointer {
			if v.IsNil() {
				break
			}
			v = v.Elem()
		}
		if v.Kind() != reflect.Struct || !strings.Contains(v.Type().PkgPath(), "yaml") {
			continue
		}
		switch name := v.Type().Name(); name {
		case "ParserError", "ScannerError", "MarkedYAMLError":
			msg := stringField(v, "Message")
			line, col = markOf(v.FieldByName("Mark"), name, msg)
			text = msg
			if ctx := stringField(v, "ContextMessage"); ctx != "" {
				cl, cc := markOf(v.FieldByName("ContextMark"), name, msg)
				if cl > 0 {
					text += fmt.Sprintf(" (%s at line %d, column %d)", ctx, cl, cc)
				} else {
					text += " (" + ctx + ")"
				}
			}
			line, col = clamp(f, line, col)
			return line, col, text
		case "ReaderError":
			if off := v.FieldByName("Offset"); off.IsValid() && off.CanInt() {
				line, col = offsetPosition(f, int(off.Int()))
			}
			if inner := v.FieldByName("Err"); inner.IsValid() {
				if ie, ok := inner.Interface().(error); ok && ie != nil {
					text = ie.Error()
				}
			}
			return line, col, text
		}
	}
	return 0, 0, text
}

func stringField(v reflect.Value, name string) string {
	f := v.FieldByName(name)
	if !f.IsValid() || f.Kind() != reflect.String {
		return ""
	}
	return f.String()
}

// markOf turns a YAML mark into a 1-based line and column; 0, 0 if unset.
func markOf(m reflect.Value, kind, msg string) (int, int) {
	if !m.IsValid() || m.Kind() != reflect.Struct {
		return 0, 0
	}
	lf, cf := m.FieldByName("Line"), m.FieldByName("Column")
	if !lf.IsValid() || !cf.IsValid() || !lf.CanInt() || !cf.CanInt() {
		return 0, 0
	}
	line, col := int(lf.Int()), int(cf.Int())
	switch {
	case kind == "ParserError" && strings.HasPrefix(msg, "unknown anchor"):
		// Taken from a node, whose line and column are 1-based already.
		return line, col
	case kind == "ParserError":
		if line == 0 && col == 0 {
			return 0, 0
		}
		return line + 1, col + 1
	default:
		if line == 0 {
			return 0, 0
		}
		return line, col + 1
	}
}

// clamp moves a position past the end of the file (an error at the end of
// input) to the end of the last line, where a caret can show it.
func clamp(f *sourceFile, line, col int) (int, int) {
	if f == nil || line <= len(f.lines) || len(f.lines) == 0 {
		return line, col
	}
	last := len(f.lines)
	return last, len([]rune(f.lines[last-1])) + 1
}

// offsetPosition is the line and column of a byte offset.
func offsetPosition(f *sourceFile, off int) (int, int) {
	if f == nil {
		return 0, 0
	}
	pos := 0
	for i, l := range f.lines {
		if off <= pos+len(l) {
			return i + 1, len([]rune(l[:off-pos])) + 1
		}
		pos += len(l) + 1
	}
	return 0, 0
}

// --- schema ------------------------------------------------------------------

var (
	additionalRe = regexp.MustCompile(`^additional propert(?:y|ies) (.*) not allowed$`)
	quotedRe     = regexp.MustCompile(`'([^']*)'`)
	enumRe       = regexp.MustCompile(`^value must be one of (.*)$`)
	patternRe    = regexp.MustCompile(`^'.*' does not match pattern '(.*)'$`)
)

// schemaError places a problem the JSON schema found: an unknown key, a
// wrong type, a value not among those allowed. The loader validates the
// model merged so far after each file, and names that file.
func (s *sourceSet) schemaError(err error, msg string) []*LoadError {
	rest, ok := strings.CutPrefix(msg, "validating ")
	if !ok {
		return nil
	}
	var file string
	for _, f := range s.files {
		if r, ok := strings.CutPrefix(rest, f.path+": "); ok {
			file, rest = f.path, r
			break
		}
	}
	if file == "" {
		f, r, ok := strings.Cut(rest, ": ")
		if !ok {
			return nil
		}
		file, rest = f, r
	}
	files := s.upTo(file)
	parts, text := s.splitSchemaMessage(files, rest)
	path := strings.Join(parts, ".")

	unknown := func(keyParts []string) []*LoadError {
		key := keyParts[len(keyParts)-1]
		hint := suggest(key, schemaKeys(keyParts[:len(keyParts)-1]))
		hits := s.all(files, keyParts)
		if len(hits) == 0 {
			return []*LoadError{{File: file, Path: strings.Join(keyParts, "."), Message: "unknown key", Hint: hint, Err: err}}
		}
		var out []*LoadError
		for _, h := range hits {
			le := s.at(h, h.keyPos(), "unknown key", err)
			le.Hint = hint
			out = append(out, le)
		}
		return out
	}
	if text == "false schema" && len(parts) > 0 {
		return unknown(parts)
	}
	if m := additionalRe.FindStringSubmatch(text); m != nil {
		var out []*LoadError
		for _, q := range quotedRe.FindAllStringSubmatch(m[1], -1) {
			out = append(out, unknown(append(append([]string{}, parts...), q[1]))...)
		}
		if len(out) > 0 {
			return out
		}
	}

	hits := s.best(files, parts)
	if len(hits) == 0 {
		hits, _ = s.deepest(files, parts)
	}
	describe := func(h hit) string {
		got := written(h)
		from := interpolated(h)
		if want, ok := strings.CutPrefix(text, "must be a "); ok {
			return "wrong type: got " + nodeType(h.val) + from + ", want " + schemaTypes(want)
		}
		if m := enumRe.FindStringSubmatch(text); m != nil {
			return "invalid value" + space(got) + from + ", want one of " + unquoteList(m[1])
		}
		if m := patternRe.FindStringSubmatch(text); m != nil {
			return "invalid value" + space(got) + from + ", want one matching `" + m[1] + "`"
		}
		if from != "" {
			// The schema's text may quote the value.
			return "invalid value" + from
		}
		return text
	}
	if len(hits) == 0 {
		return []*LoadError{{File: file, Path: path, Message: describe(hit{}), Err: err}}
	}
	h := hits[0]
	m := describe(h)
	le := s.at(h, h.valuePos(), m, errFor(h, err, m))
	if interpolated(h) != "" {
		le.Hint = s.originHint(h)
	}
	return []*LoadError{le}
}

func space(s string) string {
	if s == "" {
		return ""
	}
	return " " + s
}

// splitSchemaMessage splits "services.web.ports must be a array" into the
// path and the message. Keys may hold dots and spaces, so the split is the
// first space after which the path is one the files have.
func (s *sourceSet) splitSchemaMessage(files []*sourceFile, rest string) ([]string, string) {
	if strings.HasPrefix(rest, " ") {
		return nil, rest[1:]
	}
	first := -1
	for i := 0; i < len(rest); i++ {
		if rest[i] != ' ' {
			continue
		}
		if first < 0 {
			first = i
		}
		if parts := splitPath(rest[:i]); len(s.all(files, parts)) > 0 {
			return parts, rest[i+1:]
		}
	}
	if first < 0 {
		return nil, rest
	}
	return splitPath(rest[:first]), rest[first+1:]
}

// nodeType names a node's YAML type the way the schema's messages do.
func nodeType(n *yaml3.Node) string {
	n = deref(n)
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case yaml3.MappingNode:
		return "a mapping"
	case yaml3.SequenceNode:
		return "a list"
	}
	switch n.ShortTag() {
	case "!!int", "!!float":
		return "a number"
	case "!!bool":
		return "a boolean"
	case "!!null":
		return "null"
	}
	return "a string"
}

// schemaTypes rewrites the schema's "array", "object" in plain words.
func schemaTypes(want string) string {
	r := strings.NewReplacer("array", "list", "object", "mapping")
	want = r.Replace(want)
	if strings.HasPrefix(want, "integer") || strings.HasPrefix(want, "list") {
		return "a" + map[bool]string{true: "n", false: ""}[strings.HasPrefix(want, "integer")] + " " + want
	}
	return "a " + want
}

// unquoteList turns "'a', 'b'" into "a, b".
func unquoteList(s string) string {
	var out []string
	for _, q := range quotedRe.FindAllStringSubmatch(s, -1) {
		out = append(out, q[1])
	}
	if len(out) == 0 {
		return s
	}
	return strings.Join(out, ", ")
}
