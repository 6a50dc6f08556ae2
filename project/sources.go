package project

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/compose-spec/compose-go/v2/template"
	yaml3 "gopkg.in/yaml.v3"
)

// The loader reports problems by path in the merged model; these types map
// a path back to where it is written. They are built only once a load has
// failed.

// sourceFile is a file the loader read, parsed again into YAML nodes.
type sourceFile struct {
	path  string
	lines []string
	// docs are the top nodes of the file's documents; fewer than there
	// are when one does not parse.
	docs []*yaml3.Node
	// env is what the loader interpolated the file with: the project's
	// environment, plus an include's env_file for an included file.
	env map[string]string
	// dir is the directory the loader resolves the file's include and
	// extends paths against.
	dir string
}

// line is the text of a 1-based line, "" when out of range.
func (f *sourceFile) line(n int) string {
	if f == nil || n <= 0 || n > len(f.lines) {
		return ""
	}
	return f.lines[n-1]
}

// sourceSet is every file the failed load read: the -f files (or the
// default file and its override), the files they include, and the files
// their services extend.
type sourceSet struct {
	// files are in the loader's precedence order, lowest first: an
	// included file and an extended file come before the file that
	// names them, and each -f file after the ones before it.
	files  []*sourceFile
	byPath map[string]*sourceFile
	// extendsFile is the file an extends: {file: ...} mapping names.
	extendsFile map[*yaml3.Node]*sourceFile
	// includes records each include entry and the file it names.
	includes []includeRef
	// configPaths are the -f files, in order.
	configPaths []string
	env         map[string]string
	// processEnv and envFiles tell where a variable was set.
	processEnv map[string]string
	envFiles   []string
}

type includeRef struct {
	from   *sourceFile
	node   *yaml3.Node
	target string
}

// Bounds on what a broken project can make the locator read.
const (
	maxSourceFiles = 256
	maxSourceDepth = 32
	maxWalkDepth   = 64
)

func newSourceSet(configPaths []string, workingDir string, env, processEnv map[string]string, envFiles []string) *sourceSet {
	s := &sourceSet{
		byPath:      map[string]*sourceFile{},
		extendsFile: map[*yaml3.Node]*sourceFile{},
		env:         env,
		processEnv:  processEnv,
		envFiles:    envFiles,
	}
	for _, p := range configPaths {
		if p == "-" {
			// Standard input was consumed by the loader.
			s.configPaths = append(s.configPaths, p)
			continue
		}
		p = absPath(workingDir, p)
		s.configPaths = append(s.configPaths, p)
		s.add(p, workingDir, env, 0)
	}
	return s
}

func absPath(dir, p string) string {
	if filepath.IsAbs(p) || dir == "" {
		return filepath.Clean(p)
	}
	return filepath.Join(dir, p)
}

// add reads and parses a file and, before it, the files it includes and
// extends. A file already added is not added again.
func (s *sourceSet) add(path, dir string, env map[string]string, depth int) *sourceFile {
	if f, ok := s.byPath[path]; ok {
		return f
	}
	if depth > maxSourceDepth || len(s.byPath) >= maxSourceFiles {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	f := &sourceFile{path: path, lines: splitLines(b), docs: parseNodes(b), env: env, dir: dir}
	// Registered before its includes are added, so that a cycle ends here.
	s.byPath[path] = f
	for _, doc := range f.docs {
		s.addIncludes(f, doc, depth)
	}
	for _, doc := range f.docs {
		s.addExtends(f, doc, depth)
	}
	s.files = append(s.files, f)
	return f
}

// file returns the parsed file at path, reading it (but nothing it names)
// if the load did not lead there.
func (s *sourceSet) file(path string) *sourceFile {
	if f, ok := s.byPath[path]; ok {
		return f
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	f := &sourceFile{path: path, lines: splitLines(b), docs: parseNodes(b), env: s.env, dir: filepath.Dir(path)}
	s.byPath[path] = f
	return f
}

func splitLines(b []byte) []string {
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64*1024), len(b)+1)
	for sc.Scan() {
		lines = append(lines, strings.TrimRight(sc.Text(), "\r"))
	}
	return lines
}

// parseNodes parses each document of a file, stopping at the first that
// does not parse.
func parseNodes(b []byte) (docs []*yaml3.Node) {
	defer func() {
		// The locator must never fail worse than the load did.
		if recover() != nil {
			docs = nil
		}
	}()
	dec := yaml3.NewDecoder(bytes.NewReader(b))
	for range 1000 {
		var n yaml3.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) || err != nil {
			break
		}
		if n.Kind == yaml3.DocumentNode && len(n.Content) > 0 {
			docs = append(docs, n.Content[0])
		}
	}
	return docs
}

// interpolate substitutes variables in a string the way the loader does,
// returning the string unchanged if it does not interpolate. Callers run
// it quietly: the loader already warned about unset variables.
func interpolate(s string, env map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	v, err := template.Substitute(s, lookupIn(env))
	if err != nil {
		return s
	}
	return v
}

func lookupIn(env map[string]string) template.Mapping {
	return func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
}

// addIncludes adds the files a document includes, resolved as the loader
// resolves them: against the including file's project directory.
func (s *sourceSet) addIncludes(f *sourceFile, doc *yaml3.Node, depth int) {
	_, inc := mapGet(doc, "include")
	inc = deref(inc)
	if inc == nil || inc.Kind != yaml3.SequenceNode {
		return
	}
	for _, item := range inc.Content {
		item = deref(item)
		var paths []*yaml3.Node
		var projectDir string
		var envFiles []string
		switch {
		case item == nil:
			continue
		case item.Kind == yaml3.ScalarNode:
			paths = []*yaml3.Node{item}
		case item.Kind == yaml3.MappingNode:
			_, p := mapGet(item, "path")
			paths = scalars(p)
			if _, pd := mapGet(item, "project_directory"); isScalar(pd) {
				projectDir = interpolate(deref(pd).Value, f.env)
			}
			_, ef := mapGet(item, "env_file")
			for _, n := range scalars(ef) {
				envFiles = append(envFiles, interpolate(n.Value, f.env))
			}
		}
		if len(paths) == 0 {
			continue
		}
		first := absPath(f.dir, interpolate(paths[0].Value, f.env))
		dir := filepath.Dir(first)
		if projectDir != "" {
			dir = absPath(f.dir, projectDir)
		}
		var files []string
		if len(envFiles) == 0 {
			if st, err := os.Stat(filepath.Join(dir, ".env")); err == nil && !st.IsDir() {
				files = []string{filepath.Join(dir, ".env")}
			}
		}
		for _, e := range envFiles {
			if e != "/dev/null" {
				files = append(files, absPath(f.dir, e))
			}
		}
		env := f.env
		if len(files) > 0 {
			if fromFiles, err := dotenv.GetEnvFromFile(f.env, files); err == nil {
				env = maps.Clone(f.env)
				if env == nil {
					env = map[string]string{}
				}
				maps.Copy(env, fromFiles)
			}
		}
		for _, p := range paths {
			target := absPath(f.dir, interpolate(p.Value, f.env))
			s.includes = append(s.includes, includeRef{from: f, node: p, target: target})
			s.add(target, dir, env, depth+1)
		}
	}
}

// addExtends adds the files a document's services extend.
func (s *sourceSet) addExtends(f *sourceFile, doc *yaml3.Node, depth int) {
	for _, section := range []string{"services", "jobs"} {
		_, services := mapGet(doc, section)
		eachPair(services, func(_, svc *yaml3.Node) {
			_, ext := mapGet(svc, "extends")
			ext = deref(ext)
			if ext == nil || ext.Kind != yaml3.MappingNode {
				return
			}
			_, file := mapGet(ext, "file")
			if !isScalar(file) {
				return
			}
			name := interpolate(deref(file).Value, f.env)
			// The loader resolves the file against its working directory;
			// from a file that was itself extended, against that file's
			// directory.
			candidates := []string{absPath(f.dir, name), absPath(filepath.Dir(f.path), name)}
			for _, c := range candidates {
				if st, err := os.Stat(c); err == nil && !st.IsDir() {
					if base := s.add(c, filepath.Dir(c), f.env, depth+1); base != nil {
						s.extendsFile[ext] = base
					}
					return
				}
			}
		})
	}
}

// deref follows aliases to the node they name.
func deref(n *yaml3.Node) *yaml3.Node {
	for i := 0; n != nil && n.Kind == yaml3.AliasNode && i < maxWalkDepth; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml3.AliasNode {
		return nil
	}
	return n
}

func isScalar(n *yaml3.Node) bool {
	n = deref(n)
	return n != nil && n.Kind == yaml3.ScalarNode
}

// scalars is a scalar, or the scalars of a sequence.
func scalars(n *yaml3.Node) []*yaml3.Node {
	n = deref(n)
	switch {
	case n == nil:
		return nil
	case n.Kind == yaml3.ScalarNode:
		return []*yaml3.Node{n}
	case n.Kind == yaml3.SequenceNode:
		var out []*yaml3.Node
		for _, c := range n.Content {
			if isScalar(c) {
				out = append(out, deref(c))
			}
		}
		return out
	}
	return nil
}

// eachPair calls fn with each key and value of a mapping, the mapping's
// own keys first and then those it merges with <<, which they override.
func eachPair(m *yaml3.Node, fn func(k, v *yaml3.Node)) {
	seen := map[string]bool{}
	var walk func(m *yaml3.Node, depth int)
	walk = func(m *yaml3.Node, depth int) {
		m = deref(m)
		if m == nil || m.Kind != yaml3.MappingNode || depth > maxWalkDepth {
			return
		}
		var merges []*yaml3.Node
		for i := 0; i+1 < len(m.Content); i += 2 {
			k, v := m.Content[i], m.Content[i+1]
			if k.Kind == yaml3.ScalarNode && k.Tag == "!!merge" {
				merges = append(merges, v)
				continue
			}
			if seen[k.Value] {
				continue
			}
			seen[k.Value] = true
			fn(k, v)
		}
		for _, v := range merges {
			v = deref(v)
			if v == nil {
				continue
			}
			if v.Kind == yaml3.SequenceNode {
				for _, c := range v.Content {
					walk(c, depth+1)
				}
			} else {
				walk(v, depth+1)
			}
		}
	}
	walk(m, 0)
}

// mapGet returns a mapping's key and value nodes for key; nils if absent.
func mapGet(m *yaml3.Node, key string) (k, v *yaml3.Node) {
	eachPair(m, func(kn, vn *yaml3.Node) {
		if k == nil && kn.Value == key {
			k, v = kn, vn
		}
	})
	return k, v
}

// hit is a node at a path.
type hit struct {
	file *sourceFile
	// key is the mapping key holding val; nil for a list item or a root.
	key, val *yaml3.Node
	// path is the path as written in file, items as [i].
	path string
}

// keyPos is where the key is, or the value for a list item.
func (h hit) keyPos() *yaml3.Node {
	if h.key != nil {
		return h.key
	}
	return h.val
}

// valuePos is the value for a scalar or a list, the key for a mapping
// (whose value starts on the next line).
func (h hit) valuePos() *yaml3.Node {
	if v := deref(h.val); h.key != nil && v != nil && v.Kind == yaml3.MappingNode && v.Style&yaml3.FlowStyle == 0 {
		return h.key
	}
	return h.val
}

// splitPath splits a path as the loader writes it into its parts:
// dotted keys (services.web.ports), [key] and [index] (services[web],
// ports[0]), and [] for any list item. Keys that contain a dot are split
// too; matching joins them again.
func splitPath(p string) []string {
	var parts []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			parts = append(parts, cur.String())
			cur.Reset()
		}
	}
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '.':
			flush()
		case '[':
			flush()
			j := strings.IndexByte(p[i:], ']')
			if j < 0 {
				cur.WriteString(p[i:])
				i = len(p)
				continue
			}
			inner := p[i+1 : i+j]
			if inner == "" {
				inner = "[]"
			}
			parts = append(parts, inner)
			i += j
		default:
			cur.WriteByte(c)
		}
	}
	flush()
	return parts
}

// lookup finds the nodes at a path in one file, following extends from a
// service to the service it extends. The service's own nodes come first.
func (s *sourceSet) lookup(f *sourceFile, parts []string) []hit {
	var out []hit
	for i := len(f.docs) - 1; i >= 0; i-- {
		w := walker{s: s, seen: map[*yaml3.Node]bool{}}
		w.walk(f, f.docs[i], f.docs[i], nil, parts, nil, "", &out)
	}
	return dedupe(out)
}

func dedupe(hits []hit) []hit {
	seen := map[*yaml3.Node]bool{}
	out := hits[:0]
	for _, h := range hits {
		if seen[h.val] {
			continue
		}
		seen[h.val] = true
		out = append(out, h)
	}
	return out
}

type walker struct {
	s     *sourceSet
	seen  map[*yaml3.Node]bool
	steps int
}

// walk matches parts below n. done is the path walked so far in the
// file, shown as trail; root is n's document, for a service extending
// another in the same file.
func (w *walker) walk(f *sourceFile, root, n, key *yaml3.Node, parts, done []string, trail string, out *[]hit) {
	if w.steps++; w.steps > 100000 || len(done) > maxWalkDepth {
		return
	}
	if len(parts) == 0 {
		*out = append(*out, hit{file: f, key: key, val: n, path: trail})
		return
	}
	d := deref(n)
	if d == nil {
		return
	}
	switch d.Kind {
	case yaml3.MappingNode:
		eachPair(d, func(k, v *yaml3.Node) {
			if k.Kind != yaml3.ScalarNode {
				return
			}
			if parts[0] == "*" {
				w.walk(f, root, v, k, parts[1:], append(done, k.Value), join(trail, k.Value), out)
				return
			}
			// A key may hold dots: it then spans several parts.
			for j := 1; j <= len(parts); j++ {
				if strings.Join(parts[:j], ".") == k.Value {
					w.walk(f, root, v, k, parts[j:], append(done, k.Value), join(trail, k.Value), out)
					return
				}
			}
		})
		if len(done) == 2 && (done[0] == "services" || done[0] == "jobs") {
			w.extends(f, root, d, parts, done[0], out)
		}
	case yaml3.SequenceNode:
		if parts[0] == "[]" || parts[0] == "*" {
			for i, c := range d.Content {
				w.walk(f, root, c, nil, parts[1:], append(done, strconv.Itoa(i)), trail+"["+strconv.Itoa(i)+"]", out)
			}
			return
		}
		if i, err := strconv.Atoi(parts[0]); err == nil && i >= 0 && i < len(d.Content) {
			w.walk(f, root, d.Content[i], nil, parts[1:], append(done, parts[0]), trail+"["+parts[0]+"]", out)
		}
	}
}

// extends continues a walk in the service that svc extends.
func (w *walker) extends(f *sourceFile, root, svc *yaml3.Node, parts []string, section string, out *[]hit) {
	if w.seen[svc] {
		return
	}
	w.seen[svc] = true
	_, ext := mapGet(svc, "extends")
	ext = deref(ext)
	if ext == nil {
		return
	}
	var ref string
	baseFile, baseRoot := f, root
	switch ext.Kind {
	case yaml3.ScalarNode:
		ref = ext.Value
	case yaml3.MappingNode:
		_, name := mapGet(ext, "service")
		if !isScalar(name) {
			return
		}
		ref = deref(name).Value
		if _, file := mapGet(ext, "file"); file != nil {
			baseFile = w.s.extendsFile[ext]
			if baseFile == nil || len(baseFile.docs) == 0 {
				return
			}
			baseRoot = baseFile.docs[len(baseFile.docs)-1]
		}
	default:
		return
	}
	_, services := mapGet(baseRoot, section)
	_, base := mapGet(services, ref)
	if base == nil {
		return
	}
	w.walk(baseFile, baseRoot, base, nil, parts, []string{section, ref}, section+"."+ref, out)
}

func join(trail, key string) string {
	if trail == "" {
		return key
	}
	return trail + "." + key
}

// best finds a path in the file of highest precedence that has it,
// searching files (lowest precedence first) from the last.
func (s *sourceSet) best(files []*sourceFile, parts []string) []hit {
	for i := len(files) - 1; i >= 0; i-- {
		if hits := s.lookup(files[i], parts); len(hits) > 0 {
			return hits
		}
	}
	return nil
}

// all finds a path in every file.
func (s *sourceSet) all(files []*sourceFile, parts []string) []hit {
	var out []hit
	for i := len(files) - 1; i >= 0; i-- {
		out = append(out, s.lookup(files[i], parts)...)
	}
	return out
}

// upTo is the files up to and including path, in precedence order: those
// the loader had merged when it reported a problem with path.
func (s *sourceSet) upTo(path string) []*sourceFile {
	for i, f := range s.files {
		if f.path == path {
			return s.files[:i+1]
		}
	}
	return s.files
}

// deepest finds the longest prefix of parts that exists, for a problem
// whose exact path is not written anywhere (a default, or a key the
// loader added).
func (s *sourceSet) deepest(files []*sourceFile, parts []string) ([]hit, []string) {
	for n := len(parts); n > 0; n-- {
		if hits := s.best(files, parts[:n]); len(hits) > 0 {
			return hits, parts[:n]
		}
	}
	return nil, nil
}

var variableRef = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)`)

// variables lists the variables a raw value refers to, in order.
func variables(raw string) []string {
	raw = strings.ReplaceAll(raw, "$$", "")
	var out []string
	for _, m := range variableRef.FindAllStringSubmatch(raw, -1) {
		if !containsString(out, m[1]) {
			out = append(out, m[1])
		}
	}
	return out
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// origin says where a variable's value comes from, to help find a bad one
// without showing it: "the environment" or an env file's line.
func (s *sourceSet) origin(name string) string {
	if _, ok := s.processEnv[name]; ok {
		return "the environment"
	}
	// A later env file overrides an earlier one.
	for i := len(s.envFiles) - 1; i >= 0; i-- {
		if line := envFileLine(s.envFiles[i], name); line > 0 {
			return s.envFiles[i] + ":" + strconv.Itoa(line)
		}
	}
	return ""
}

var envAssign = regexp.MustCompile(`^\s*(?:export\s+)?([A-Za-z0-9_.\-\[\]]+)\s*[=:]`)

// envFileLine is the last line of an env file that sets name, 0 if none.
func envFileLine(path, name string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	found := 0
	for i, l := range splitLines(b) {
		if m := envAssign.FindStringSubmatch(l); m != nil && m[1] == name {
			found = i + 1
		}
	}
	return found
}

// definedNames are the names declared under a top-level section in any
// file, for suggesting one in place of an undefined name.
func (s *sourceSet) definedNames(section string) []string {
	var out []string
	for _, f := range s.files {
		for _, doc := range f.docs {
			_, m := mapGet(doc, section)
			eachPair(m, func(k, _ *yaml3.Node) {
				if !containsString(out, k.Value) {
					out = append(out, k.Value)
				}
			})
		}
	}
	return out
}
