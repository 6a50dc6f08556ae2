package watch

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
)

// matcher holds .dockerignore-style patterns anchored at a root
// directory. A path matches when it, or a directory above it, matches a
// pattern; a later "!pattern" undoes an earlier match, the last matching
// pattern deciding, as in Docker's build-context filter, which is what
// compose applies to develop.watch's ignore and include lists.
type matcher struct {
	root     string
	patterns []pattern
	// negated is set when some pattern is an exception: a directory that
	// matches may then still hold paths that do not, so it cannot be
	// skipped whole.
	negated bool
}

type pattern struct {
	re     *regexp.Regexp
	negate bool
	text   string
}

// newMatcher compiles patterns anchored at root (an absolute, clean host
// path). Empty lines and # comments are skipped, as in .dockerignore.
func newMatcher(root string, patterns []string) (*matcher, error) {
	m := &matcher{root: root}
	for _, raw := range patterns {
		p := strings.TrimSpace(raw)
		if p == "" || strings.HasPrefix(p, "#") {
			continue
		}
		neg := strings.HasPrefix(p, "!")
		if neg {
			p = strings.TrimSpace(p[1:])
			m.negated = true
		}
		p = filepath.ToSlash(filepath.Clean(p))
		p = strings.TrimPrefix(p, "/")
		if p == "." || p == "" {
			continue
		}
		re, err := globRegexp(p)
		if err != nil {
			return nil, fmt.Errorf("bad pattern %q: %w", raw, err)
		}
		m.patterns = append(m.patterns, pattern{re: re, negate: neg, text: raw})
	}
	return m, nil
}

// empty reports whether the matcher can match nothing.
func (m *matcher) empty() bool { return m == nil || len(m.patterns) == 0 }

// matches reports whether abs (an absolute host path) is matched. Paths
// outside the root never are.
func (m *matcher) matches(abs string) bool {
	if m.empty() {
		return false
	}
	rel, ok := relative(m.root, abs)
	if !ok || rel == "." {
		return false
	}
	out := false
	for _, p := range m.patterns {
		// A pattern naming a directory covers everything below it.
		for q := rel; ; {
			if p.re.MatchString(q) {
				out = !p.negate
				break
			}
			i := strings.LastIndex(q, "/")
			if i < 0 {
				break
			}
			q = q[:i]
		}
	}
	return out
}

// relative returns abs relative to root, slash separated, and whether abs
// is root or below it.
func relative(root, abs string) (string, bool) {
	if abs == root {
		return ".", true
	}
	prefix := root
	if !strings.HasSuffix(prefix, string(filepath.Separator)) {
		prefix += string(filepath.Separator)
	}
	if !strings.HasPrefix(abs, prefix) {
		return "", false
	}
	return filepath.ToSlash(abs[len(prefix):]), true
}

// globRegexp turns a Docker pattern into a regexp over slash-separated
// relative paths: * and ? stay within one path element, ** crosses
// elements, [...] is a class, \ escapes.
func globRegexp(p string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '*' && i+1 < len(p) && p[i+1] == '*':
			i++
			if i+1 < len(p) && p[i+1] == '/' {
				// "**/" also matches no directory at all.
				i++
				b.WriteString("(.*/)?")
			} else {
				b.WriteString(".*")
			}
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		case c == '[':
			j := strings.IndexByte(p[i:], ']')
			if j < 0 {
				return nil, fmt.Errorf("unterminated [")
			}
			class := p[i+1 : i+j]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + class + "]")
			i += j
		case c == '\\' && i+1 < len(p):
			i++
			b.WriteString(regexp.QuoteMeta(string(p[i])))
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}
