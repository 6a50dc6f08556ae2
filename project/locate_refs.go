package project

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/errdefs"
	"github.com/compose-spec/compose-go/v2/format"
	"github.com/compose-spec/compose-go/v2/template"
	"github.com/compose-spec/compose-go/v2/types"
	yaml3 "gopkg.in/yaml.v3"
)

// Placing the problems the loader finds in the project as a whole (a
// reference to something undefined, a cycle, a file it cannot read) and
// those it reports without a path.

// --- env files ---------------------------------------------------------------

var (
	envFileRe        = regexp.MustCompile(`(?s)^failed to read (.+?): (?:line (\d+): )?(.*)$`)
	unexpectedCharRe = regexp.MustCompile(`^unexpected character ("(?:[^"\\]|\\.)*")`)
)

// envFileError places a line of an env file (.env, --env-file, a
// service's env_file) that does not parse. The parser's message may quote
// the line, which holds a value: only the kind of problem is kept.
func (s *sourceSet) envFileError(err error, msg string) []*LoadError {
	m := envFileRe.FindStringSubmatch(msg)
	if m == nil {
		return nil
	}
	if st, serr := os.Stat(m[1]); serr != nil || st.IsDir() {
		return nil
	}
	f := s.file(m[1])
	if f == nil {
		f = &sourceFile{path: m[1]}
	}
	line, _ := strconv.Atoi(m[2])
	col := 0
	text := m[3]
	var mre *template.MissingRequiredError
	switch {
	case errors.As(err, &mre):
		text = "required variable " + mre.Variable + " is missing a value"
		line, col = 0, 0
		for i, l := range f.lines {
			if j := strings.Index(l, "${"+mre.Variable); j >= 0 {
				line, col = i+1, len([]rune(l[:j]))+1
				break
			}
		}
	case strings.HasPrefix(text, "unterminated quoted value "):
		// The parser counts lines to where it stopped, the end of the
		// file; the value starts on the line that ends with what it
		// quotes.
		fragment := strings.TrimPrefix(text, "unterminated quoted value ")
		for i, l := range f.lines {
			if fragment != "" && strings.HasSuffix(l, fragment) {
				line, col = i+1, len([]rune(l[:len(l)-len(fragment)]))+1
				break
			}
		}
		text = "unterminated quoted value"
	case strings.HasPrefix(text, "unexpected character"):
		if q := unexpectedCharRe.FindStringSubmatch(text); q != nil {
			text = "unexpected character " + q[1] + " in a variable name"
		} else {
			text = "unexpected character in a variable name"
		}
		col = 1
	case strings.HasPrefix(text, "key cannot contain a space"):
		col = 1
	default:
		text = "invalid line"
	}
	e := &LoadError{File: m[1], Line: line, Column: col, Message: "invalid env file: " + text, Err: safe(err, "invalid env file: "+text)}
	if src := f.line(line); src != "" {
		// The key, not the value.
		e.Source = src
		if i := strings.IndexAny(src, "=:"); i >= 0 {
			e.Source = src[:i+1] + "***"
		}
	} else {
		e.Column = 0
	}
	return []*LoadError{e}
}

// --- references between services and resources ------------------------------

// A reference error names a service and what it refers to; the entry is
// found in the service's list or mapping of such references.
type refRule struct {
	re *regexp.Regexp
	// place returns the LoadErrors for a match.
	place func(s *sourceSet, m []string, err error) []*LoadError
}

var refRules = []refRule{
	{regexp.MustCompile(`^service "([^"]+)" depends on undefined service "([^"]+)"`), func(s *sourceSet, m []string, err error) []*LoadError {
		return s.entry(err, "services", m[1], []string{"depends_on"}, m[2], matchName,
			"depends on undefined service `"+m[2]+"`", suggest(m[2], s.definedNames("services")))
	}},
	{regexp.MustCompile(`^service "([^"]+)" cannot depend on job "([^"]+)"`), func(s *sourceSet, m []string, err error) []*LoadError {
		return s.entry(err, "services", m[1], []string{"depends_on"}, m[2], matchName,
			"cannot depend on job `"+m[2]+"`: a service can only depend on services", "")
	}},
	{regexp.MustCompile(`^job "([^"]+)" depends on undefined service or job "([^"]+)"`), func(s *sourceSet, m []string, err error) []*LoadError {
		return s.entry(err, "jobs", m[1], []string{"depends_on"}, m[2], matchName,
			"depends on undefined service or job `"+m[2]+"`", suggest(m[2], append(s.definedNames("services"), s.definedNames("jobs")...)))
	}},
	{regexp.MustCompile(`^service "([^"]+)" refers to undefined network (.+?): `), func(s *sourceSet, m []string, err error) []*LoadError {
		return s.entry(err, "services", m[1], []string{"networks"}, m[2], matchName,
			"undefined network `"+m[2]+"`", hintDeclare(m[2], "networks", s.definedNames("networks")))
	}},
	{regexp.MustCompile(`^service "([^"]+)" refers to undefined volume (.+?): `), func(s *sourceSet, m []string, err error) []*LoadError {
		return s.entry(err, "services", m[1], []string{"volumes"}, m[2], matchVolume,
			"undefined volume `"+m[2]+"`", hintDeclare(m[2], "volumes", s.definedNames("volumes")))
	}},
	{regexp.MustCompile(`^service "([^"]+)" refers to undefined build secret (.+?): `), func(s *sourceSet, m []string, err error) []*LoadError {
		return s.entry(err, "services", m[1], []string{"build", "secrets"}, m[2], matchSource,
			"undefined secret `"+m[2]+"`", hintDeclare(m[2], "secrets", s.definedNames("secrets")))
	}},
	{regexp.MustCompile(`^service "([^"]+)" refers to undefined secret (.+?): `), func(s *sourceSet, m []string, err error) []*LoadError {
		return s.entry(err, "services", m[1], []string{"secrets"}, m[2], matchSource,
			"undefined secret `"+m[2]+"`", hintDeclare(m[2], "secrets", s.definedNames("secrets")))
	}},
	{regexp.MustCompile(`^service "([^"]+)" refers to undefined config (.+?): `), func(s *sourceSet, m []string, err error) []*LoadError {
		return s.entry(err, "services", m[1], []string{"configs"}, m[2], matchSource,
			"undefined config `"+m[2]+"`", hintDeclare(m[2], "configs", s.definedNames("configs")))
	}},
	{regexp.MustCompile(`^service "([^"]+)" refers to undefined model (.+?): `), func(s *sourceSet, m []string, err error) []*LoadError {
		return s.entry(err, "services", m[1], []string{"models"}, m[2], matchName,
			"undefined model `"+m[2]+"`", hintDeclare(m[2], "models", s.definedNames("models")))
	}},
	{regexp.MustCompile(`^dependency cycle detected: (.*)$`), func(s *sourceSet, m []string, err error) []*LoadError {
		chain := strings.Split(m[1], " -> ")
		if len(chain) < 2 {
			return nil
		}
		return s.entry(err, "services", chain[0], []string{"depends_on"}, chain[1], matchName,
			"dependency cycle: "+m[1], "")
	}},
	{regexp.MustCompile(`^service "([^"]+)" has neither an image nor a build context specified`), func(s *sourceSet, m []string, err error) []*LoadError {
		return s.key(err, []string{"services", m[1]}, "neither image nor build is set", "set `image` or `build`")
	}},
	{regexp.MustCompile(`^service (\S+) declares mutually exclusive .network_mode. and .networks.`), func(s *sourceSet, m []string, err error) []*LoadError {
		return s.key(err, []string{"services", m[1], "network_mode"}, "`network_mode` and `networks` cannot both be set", "")
	}},
	{regexp.MustCompile(`^service "([^"]+)" not found for network_mode 'service:`), func(s *sourceSet, m []string, err error) []*LoadError {
		return s.scan(err, []string{"services", "*", "network_mode"}, func(v string) bool { return v == "service:"+m[1] },
			"undefined service `"+m[1]+"`", suggest(m[1], s.definedNames("services")))
	}},
	{regexp.MustCompile(`^service "([^"]+)" declares (?:unknown|non-buildable) service "([^"]+)" as additional contexts (.*)$`), func(s *sourceSet, m []string, err error) []*LoadError {
		msg := strings.TrimPrefix(strings.TrimPrefix(m[0], `service "`+m[1]+`" `), "declares ")
		return s.key(err, []string{"services", m[1], "build", "additional_contexts"}, msg, "")
	}},
	{regexp.MustCompile(`^service\.build\.platforms MUST include service\.platform "([^"]+)"`), func(s *sourceSet, m []string, err error) []*LoadError {
		return s.scan(err, []string{"services", "*", "platform"}, func(v string) bool { return v == m[1] },
			"platform `"+m[1]+"` is not among build.platforms", "")
	}},
	{regexp.MustCompile(`^healthcheck\.test must start either by`), func(s *sourceSet, _ []string, err error) []*LoadError {
		return s.scan(err, []string{"services", "*", "healthcheck", "test", "0"}, func(v string) bool {
			return v != "CMD" && v != "CMD-SHELL" && v != "NONE"
		}, "the test must start with CMD, CMD-SHELL or NONE", "")
	}},
	{regexp.MustCompile(`^"([^"]+)" is declared both as a service and a job`), func(s *sourceSet, m []string, err error) []*LoadError {
		return s.key(err, []string{"jobs", m[1]}, "declared both as a service and a job; names must be unique", "")
	}},
	{regexp.MustCompile("^secret \"([^\"]+)\" must declare either `file` or `environment`"), func(s *sourceSet, m []string, err error) []*LoadError {
		return s.key(err, []string{"secrets", m[1]}, "neither `file` nor `environment` is set", "")
	}},
	{regexp.MustCompile(`^services\.(\S+): container name "([^"]*)" is already in use`), func(s *sourceSet, m []string, err error) []*LoadError {
		return s.scan(err, []string{"services", "*", "container_name"}, func(v string) bool { return v == m[2] },
			"container name `"+m[2]+"` is set on more than one service; container names must be unique", "")
	}},
	{regexp.MustCompile(`^cannot override (\S+)$`), func(s *sourceSet, m []string, err error) []*LoadError {
		// The last file that has the path overrides the one before it
		// with a value of another kind.
		hits := s.all(s.files, splitPath(m[1]))
		if len(hits) == 0 {
			return nil
		}
		msg := "cannot override the value of an earlier file"
		if len(hits) > 1 {
			msg = "cannot override " + nodeType(hits[1].val) + " with " + nodeType(hits[0].val)
		}
		le := s.at(hits[0], hits[0].val, msg, err)
		le.Hint = "write the same kind of value, or tag it `!override` to replace it"
		return []*LoadError{le}
	}},
	{regexp.MustCompile(`^empty compose file$`), func(s *sourceSet, _ []string, err error) []*LoadError {
		if len(s.configPaths) == 0 || s.configPaths[0] == "-" {
			return nil
		}
		return []*LoadError{{File: s.configPaths[0], Message: "empty compose file: nothing is defined", Err: err}}
	}},
	{regexp.MustCompile(`^non-string key (?:at top level|in (.+)): (.*)$`), func(s *sourceSet, m []string, err error) []*LoadError {
		var out []*LoadError
		for _, h := range s.all(s.files, splitPath(m[1])) {
			eachPair(h.val, func(k, _ *yaml3.Node) {
				if k.Value == m[2] && k.ShortTag() != "!!str" {
					out = append(out, s.at(hit{file: h.file, val: k, path: join(h.path, k.Value)}, k,
						"the key is a "+strings.TrimPrefix(nodeType(k), "a ")+", want a string", err))
					out[len(out)-1].Hint = "quote it: \"" + k.Value + "\""
				}
			})
		}
		return out
	}},
	{regexp.MustCompile(`^((?:services|jobs)(?:\.\S+)?) must be a mapping$`), func(s *sourceSet, m []string, err error) []*LoadError {
		hits := s.best(s.files, splitPath(m[1]))
		if len(hits) == 0 {
			return nil
		}
		msg := "wrong type: got " + nodeType(hits[0].val) + ", want a mapping"
		return []*LoadError{s.at(hits[0], hits[0].val, msg, err)}
	}},
	{regexp.MustCompile("^`include` must be a list"), func(s *sourceSet, _ []string, err error) []*LoadError {
		hits := s.best(s.files, []string{"include"})
		if len(hits) == 0 {
			return nil
		}
		msg := "wrong type: got " + nodeType(hits[0].val) + ", want a list"
		return []*LoadError{s.at(hits[0], hits[0].val, msg, err)}
	}},
	{regexp.MustCompile(`^services\.(?:scale|deploy\.replicas): can't set container_name and (\S+) as container name must be unique`), func(s *sourceSet, m []string, err error) []*LoadError {
		return s.key(err, []string{"services", m[1], "container_name"}, "container_name cannot be used with more than one replica", "")
	}},
	{regexp.MustCompile(`^service "([^"]+)": container_name "([^"]*)" cannot be used with (\d+) replicas`), func(s *sourceSet, m []string, err error) []*LoadError {
		return s.key(err, []string{"services", m[1], "container_name"}, "container_name cannot be used with "+m[3]+" replicas", "")
	}},
	{regexp.MustCompile(`^cannot extend service "([^"]+)" in (.+?): service "([^"]+)" not found`), func(s *sourceSet, m []string, err error) []*LoadError {
		return s.extendsRef(err, m[2], m[1], "extends undefined service `"+m[3]+"`")
	}},
	{regexp.MustCompile(`^cannot extend service "([^"]+)" in (.+?): (.*)$`), func(s *sourceSet, m []string, err error) []*LoadError {
		return s.extendsRef(err, m[2], m[1], "cannot extend: "+m[3])
	}},
	{regexp.MustCompile(`^Circular reference:\n  (\S+) in (.+)`), func(s *sourceSet, m []string, err error) []*LoadError {
		var chain []string
		for _, l := range strings.Split(err.Error(), "\n")[1:] {
			l = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "extends "))
			if name, _, ok := strings.Cut(l, " in "); ok {
				chain = append(chain, name)
			}
		}
		return s.extendsRef(err, m[2], m[1], "extends cycle: "+strings.Join(chain, " -> "))
	}},
	{regexp.MustCompile(`^include cycle detected:\n`), func(s *sourceSet, m []string, err error) []*LoadError {
		var files []string
		for _, l := range strings.Split(err.Error(), "\n")[1:] {
			files = append(files, strings.TrimPrefix(strings.TrimSpace(l), "include "))
		}
		if len(files) < 2 {
			return nil
		}
		from, to := files[len(files)-2], files[len(files)-1]
		for _, r := range s.includes {
			if r.from.path == from && r.target == to {
				return []*LoadError{s.at(hit{file: r.from, val: r.node, path: "include"}, r.node,
					"include cycle: "+strings.Join(files, " -> "), err)}
			}
		}
		return nil
	}},
	{regexp.MustCompile(`^env file (.+) not found: `), func(s *sourceSet, m []string, err error) []*LoadError {
		return s.scanEnvFile(err, m[1])
	}},
}

// referenceError places a reference to something undefined, a cycle, and
// the other checks of a whole project.
func (s *sourceSet) referenceError(err error, msg string) []*LoadError {
	for _, r := range refRules {
		if m := r.re.FindStringSubmatch(msg); m != nil {
			if les := r.place(s, m, err); len(les) > 0 {
				return les
			}
		}
	}
	return nil
}

func hintDeclare(name, section string, defined []string) string {
	if h := suggest(name, defined); h != "" {
		return h
	}
	return "declare it under the top-level `" + section + "`"
}

// A matcher tells whether an entry of a reference list (a list item, or a
// mapping's key and value) refers to name once interpolated, and returns
// the scalar that names it.
type matcher func(item, key *yaml3.Node, name string, env map[string]string) *yaml3.Node

func matchName(item, key *yaml3.Node, name string, env map[string]string) *yaml3.Node {
	if key != nil {
		if key.Value == name {
			return key
		}
		return nil
	}
	if isScalar(item) && interpolate(deref(item).Value, env) == name {
		return item
	}
	return nil
}

func matchSource(item, key *yaml3.Node, name string, env map[string]string) *yaml3.Node {
	if n := matchName(item, key, name, env); n != nil {
		return n
	}
	if _, src := mapGet(item, "source"); isScalar(src) && interpolate(deref(src).Value, env) == name {
		return src
	}
	return nil
}

func matchVolume(item, key *yaml3.Node, name string, env map[string]string) *yaml3.Node {
	if isScalar(item) {
		if src, _, _ := strings.Cut(interpolate(deref(item).Value, env), ":"); src == name {
			return item
		}
		return nil
	}
	return matchSource(item, key, name, env)
}

// entry finds, in the highest-precedence file that has one, the entry of
// section.owner.field that refers to name. A name written with ${...} is
// not shown: msg says "`name`", which is replaced.
func (s *sourceSet) entry(err error, section, owner string, field []string, name string, match matcher, msg, hint string) []*LoadError {
	parts := append([]string{section, owner}, field...)
	for i := len(s.files) - 1; i >= 0; i-- {
		for _, h := range s.lookup(s.files[i], parts) {
			v := deref(h.val)
			if v == nil {
				continue
			}
			var found, named *yaml3.Node
			var path string
			switch v.Kind {
			case yaml3.SequenceNode:
				for j, item := range v.Content {
					if named = match(item, nil, name, h.file.env); named != nil {
						found, path = item, fmt.Sprintf("%s[%d]", h.path, j)
						break
					}
				}
			case yaml3.MappingNode:
				eachPair(v, func(k, val *yaml3.Node) {
					if found == nil {
						if named = match(val, k, name, h.file.env); named != nil {
							found, path = k, h.path+"."+k.Value
						}
					}
				})
			}
			if found == nil {
				continue
			}
			nh := hit{file: h.file, val: named, path: path}
			if from := interpolated(nh); from != "" {
				msg = strings.ReplaceAll(msg, "`"+name+"`", "name"+from)
				hint = s.originHint(nh)
				err = safe(err, msg)
			}
			le := s.at(hit{file: h.file, val: found, path: path}, found, msg, err)
			le.Hint = hint
			return []*LoadError{le}
		}
	}
	// Not written as such: the owner then, without the name, which may
	// have come from a variable.
	msg = strings.ReplaceAll(msg, "`"+name+"`", "name")
	return s.key(safe(err, msg), parts, msg, "")
}

// key places a problem at the key of a path, or of its nearest ancestor
// that is written.
func (s *sourceSet) key(err error, parts []string, msg, hint string) []*LoadError {
	hits := s.best(s.files, parts)
	if len(hits) == 0 {
		hits, _ = s.deepest(s.files, parts)
	}
	if len(hits) == 0 {
		return []*LoadError{{Path: strings.Join(parts, "."), Message: msg, Hint: hint, Err: err}}
	}
	le := s.at(hits[0], hits[0].keyPos(), msg, err)
	le.Hint = hint
	return []*LoadError{le}
}

// scan places a problem the loader does not say the path of, at the
// values of a path pattern that match.
func (s *sourceSet) scan(err error, pattern []string, match func(string) bool, msg, hint string) []*LoadError {
	var out []*LoadError
	for _, h := range s.all(s.files, pattern) {
		if isScalar(h.val) && match(valueOf(h)) {
			le := s.at(h, h.val, msg, err)
			le.Hint = hint
			if interpolated(h) != "" {
				le.Message = s.redact(msg)
				le.Err = safe(err, le.Message)
			}
			out = append(out, le)
		}
	}
	return out
}

// extendsRef places a problem with a service's extends.
func (s *sourceSet) extendsRef(err error, file, service, msg string) []*LoadError {
	files := s.files
	if f, ok := s.byPath[file]; ok {
		files = []*sourceFile{f}
	}
	for _, field := range [][]string{{"extends", "service"}, {"extends"}} {
		parts := append([]string{"services", service}, field...)
		if hits := s.best(files, parts); len(hits) > 0 {
			return []*LoadError{s.at(hits[0], hits[0].valuePos(), msg, err)}
		}
	}
	return nil
}

// scanEnvFile places a service's env_file that does not exist.
func (s *sourceSet) scanEnvFile(err error, path string) []*LoadError {
	var out []*LoadError
	for _, f := range s.files {
		for _, h := range s.lookup(f, []string{"services", "*", "env_file"}) {
			var items []*yaml3.Node
			v := deref(h.val)
			if v == nil {
				continue
			}
			if v.Kind == yaml3.SequenceNode {
				items = v.Content
			} else {
				items = []*yaml3.Node{v}
			}
			for _, item := range items {
				n := item
				if _, p := mapGet(item, "path"); p != nil {
					n = p
				}
				if !isScalar(n) {
					continue
				}
				name := interpolate(deref(n).Value, f.env)
				if name == path || absPath(f.dir, name) == path || strings.HasSuffix(path, string(os.PathSeparator)+strings.TrimPrefix(name, "./")) {
					out = append(out, s.at(hit{file: f, val: n, path: h.path}, n, "env file "+path+" not found", err))
				}
			}
		}
	}
	return out
}

// --- values whose errors name no path ----------------------------------------

// valueError places a port or volume that does not parse: the loader
// reports only the parser's message. Each such value is parsed again with
// compose-go's parser; those failing with the same message are the ones.
func (s *sourceSet) valueError(err error, msg string) []*LoadError {
	type check struct {
		pattern []string
		parse   func(string) error
		what    string
	}
	for _, c := range []check{
		{[]string{"services", "*", "ports", "[]"}, func(v string) error { _, err := types.ParsePortConfig(v); return err },
			"invalid port, want [[IP:]HOST:]CONTAINER[/PROTOCOL] such as 8080:80 or 53:53/udp"},
		{[]string{"services", "*", "volumes", "[]"}, func(v string) error { _, err := format.ParseVolume(v); return err },
			"invalid volume, want [SOURCE:]TARGET[:MODE] such as ./data:/data:ro"},
	} {
		var out []*LoadError
		for _, h := range s.all(s.files, c.pattern) {
			if !isScalar(h.val) {
				continue
			}
			perr := c.parse(valueOf(h))
			if perr == nil || perr.Error() != msg {
				continue
			}
			m := c.what
			if from := interpolated(h); from != "" {
				m = strings.Replace(m, ",", from+",", 1)
			} else {
				m = strings.Replace(m, ",", " "+written(h)+" ("+msg+"),", 1)
			}
			le := s.at(h, h.val, m, errFor(h, err, m))
			le.Hint = s.originHint(h)
			out = append(out, le)
		}
		if len(out) > 0 {
			return out
		}
	}
	return nil
}

// --- problems prefixed with their path ---------------------------------------

var pathPrefixRe = regexp.MustCompile(`^((?:services|jobs|networks|volumes|secrets|configs|models|include|name|x-)[^\s:]*): (.*)$`)

// pathError places "services.web.scale: must be ...", the form of the
// loader's other checks.
func (s *sourceSet) pathError(err error, msg string) []*LoadError {
	m := pathPrefixRe.FindStringSubmatch(msg)
	if m == nil {
		return nil
	}
	parts := splitPath(m[1])
	text := m[2]
	if i := strings.Index(text, ": "+errdefs.ErrInvalid.Error()); i > 0 {
		text = text[:i]
	}
	hits := s.best(s.files, parts)
	if len(hits) == 0 {
		hits, _ = s.deepest(s.files, parts)
	}
	if len(hits) == 0 {
		return []*LoadError{{Path: strings.Join(parts, "."), Message: text, Err: err}}
	}
	h := hits[0]
	if interpolated(h) != "" {
		text = "invalid value" + interpolated(h)
	}
	le := s.at(h, h.valuePos(), text, errFor(h, err, text))
	return []*LoadError{le}
}

// --- anything else that names a service ---------------------------------------

var serviceRe = regexp.MustCompile(`\bservices?[ .]"?([a-zA-Z0-9._-]+)"?`)

// serviceError places a problem the loader reports only by the service it
// is in, at the service.
func (s *sourceSet) serviceError(err error, msg string) []*LoadError {
	m := serviceRe.FindStringSubmatch(msg)
	if m == nil {
		return nil
	}
	hits := s.best(s.files, []string{"services", m[1]})
	if len(hits) == 0 {
		return nil
	}
	text := s.redact(msg)
	if i := strings.Index(text, ": "+errdefs.ErrInvalid.Error()); i > 0 {
		text = text[:i]
	}
	return []*LoadError{s.at(hits[0], hits[0].keyPos(), text, safe(err, text))}
}

// --- keeping values out ------------------------------------------------------

// redact takes out of a message the values of the variables the compose
// files refer to: a message not made here may quote a value. Values
// shorter than four characters are left, as they would match too much.
func (s *sourceSet) redact(msg string) string {
	if s == nil {
		return msg
	}
	seen := map[string]bool{}
	for _, f := range s.files {
		for _, l := range f.lines {
			for _, name := range variables(l) {
				if seen[name] {
					continue
				}
				seen[name] = true
				if v := f.env[name]; len(v) >= 4 {
					msg = strings.ReplaceAll(msg, v, "${"+name+"}")
				}
			}
		}
	}
	return msg
}

// scrub returns an error that could not be placed, with what could hold a
// value taken out: an interpolation error's value, variables' values.
func scrub(err error, s *sourceSet) error {
	msg := err.Error()
	clean := msg
	if m := interpFormatRe.FindStringSubmatch(msg); m != nil {
		clean = "invalid interpolation format for " + m[1]
	} else if m := interpErrorRe.FindStringSubmatch(msg); m != nil {
		var mre *template.MissingRequiredError
		if errors.As(err, &mre) {
			clean = "error while interpolating " + m[1] + ": required variable " + mre.Variable + " is missing a value"
		} else {
			clean = "error while interpolating " + m[1]
		}
	}
	clean = s.redact(clean)
	if clean == msg {
		return err
	}
	return safe(err, clean)
}
