package project

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/consts"
	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/compose-spec/compose-go/v2/paths"
	"github.com/compose-spec/compose-go/v2/template"
	"github.com/compose-spec/compose-go/v2/types"
	yaml3 "gopkg.in/yaml.v3"
)

// A recorder notes, once a load has succeeded, everything the load read:
// each file with its content (or that it was absent, or a directory), the
// strings that could name an environment variable the load looked up,
// and the paths whose symbolic links it resolved. compose-go offers no
// way to watch it read files, so the recorder works out the same reads
// from the same inputs:
//
//   - the compose files and the files default discovery looked for, in
//     each directory it searched, and the project's .env or --env-file
//     files, by the rules of compose-go's cli package;
//   - the files included (include:) and extended (extends: file:), by
//     parsing the compose files again and resolving these references as
//     compose-go's loader does (include's project_directory and env_file,
//     the .env of an included project, the quirks of its relative paths);
//   - each enabled service's env_file and label_file files (and those of
//     its pre_start hooks), from the loaded project itself: Load keeps the
//     env_file lists for the recorder and drops them afterwards.
//
// Where it is unsure it records more than the load read (a file recorded
// that the load did not read only makes the cache miss more often), and
// where it cannot follow the load it gives up: the project is then not
// cached. A few checks back the mirror up: every service must be declared
// in a file the recorder read, and every develop.watch path must be one it
// worked out.
type recorder struct {
	o     Options
	start time.Time
	cwd   string
	// files maps an absolute path to its state (fileState).
	files    map[string]string
	contents map[string][]byte
	// words are the identifiers ([A-Za-z0-9_]+) in every file read and in
	// every value of the compose files (decoded, so that YAML escapes
	// cannot hide a variable's name).
	words map[string]struct{}
	// envAll: a file may spell a variable's name in a way words miss (a
	// dotenv octal escape, a !!binary scalar): every variable counts.
	envAll bool
	// probes are the paths compose-go looked for symbolic links in
	// (develop.watch paths): none may be a link.
	probes map[string]struct{}
	// watchPaths are the develop.watch paths the recorder worked out.
	watchPaths map[string]bool
	// declared are the services and jobs the compose files declare.
	declared map[string]bool
	// versioned are the compose files with a top-level version, about
	// which compose-go warns (once per process).
	versioned []string
	// links are paths whose symbolic link target the load looked at.
	links map[string]string
	// envFiles are the project's env files (.env or --env-file), read
	// again on a hit to rebuild the project's environment.
	envFiles []string
	visited  map[string]bool
	visits   int
	// reason, when set, says why the project is not to be cached.
	reason string
}

func newRecorder(o Options) *recorder {
	return &recorder{
		o:          o,
		start:      time.Now(),
		files:      map[string]string{},
		contents:   map[string][]byte{},
		words:      map[string]struct{}{},
		probes:     map[string]struct{}{},
		watchPaths: map[string]bool{},
		declared:   map[string]bool{},
		links:      map[string]string{},
		visited:    map[string]bool{},
	}
}

// Bounds on what a project can make the recorder read; past them the
// project is not cached.
const (
	maxRecordedFiles = 4096
	maxRecordVisits  = 4096
)

func (r *recorder) giveUp(format string, args ...any) {
	if r.reason == "" {
		r.reason = fmt.Sprintf(format, args...)
	}
}

// record records the inputs of the load that made p from po. It runs
// under captureWarnings, quietly.
func (r *recorder) record(po *cli.ProjectOptions, p *types.Project) {
	defer func() {
		// Recording must never fail a load that succeeded.
		if v := recover(); v != nil {
			r.giveUp("recording failed: %v", v)
		}
	}()
	cwd, err := os.Getwd()
	if err != nil {
		r.giveUp("no working directory")
		return
	}
	r.cwd = cwd
	for _, f := range po.ConfigPaths {
		if f == "-" {
			r.giveUp("standard input")
			return
		}
	}
	rp, err := r.o.resolvePaths()
	if err != nil {
		r.giveUp("%v", err)
		return
	}
	r.recordSelection(rp, po)
	r.recordModel(p)
	r.recordServiceFiles(p)
	r.checkWatchPaths(p)
	r.checkDeclared(p)
	// The name compose-go derives from a directory reached through a
	// symbolic link comes with a warning.
	r.recordLink(p.WorkingDir)
	r.checkRacy()
}

// recordSelection records what chose the compose files and the env files:
// the -f files, or COMPOSE_FILE's, or the default names looked for from
// the working directory upwards, and .env or --env-file. It follows
// projectOptions and compose-go's cli options.
func (r *recorder) recordSelection(rp resolvedPaths, po *cli.ProjectOptions) {
	// WithEnvFiles: the --env-file files, else the .env of the directory
	// the options name at that point, unless COMPOSE_DISABLE_ENV_FILE
	// (which compose-go reads from the process's environment; the cache
	// key holds it).
	if len(rp.envFiles) > 0 {
		for _, f := range rp.envFiles {
			r.track(f)
		}
	} else if disabled, _ := strconv.ParseBool(os.Getenv(consts.ComposeDisableDefaultEnvFile)); !disabled {
		dir := rp.projectDir
		if dir == "" {
			for _, f := range rp.files {
				if f != "-" {
					dir = filepath.Dir(f)
					break
				}
			}
		}
		if dir == "" {
			dir = r.cwd
		}
		r.track(filepath.Join(dir, ".env"))
	}
	r.envFiles = append([]string(nil), po.EnvFiles...)
	for _, f := range po.EnvFiles {
		r.track(f)
	}
	switch {
	case len(rp.files) > 0:
		for _, f := range rp.files {
			r.track(f)
		}
	case hasKey(po.Environment, consts.ComposeFilePath):
		// COMPOSE_FILE (from the environment or .env), relative to the
		// process's directory.
		sep := po.Environment[consts.ComposePathSeparator]
		if sep == "" {
			sep = string(os.PathListSeparator)
		}
		for _, f := range strings.Split(po.Environment[consts.ComposeFilePath], sep) {
			r.track(f)
		}
	default:
		// WithDefaultConfigPath: each candidate name in each directory
		// from the start upwards, to the first that has one; then the
		// override names there.
		dir := rp.projectDir
		if dir == "" {
			dir = rp.wd
		}
		dir, err := filepath.Abs(dir)
		if err != nil {
			r.giveUp("%v", err)
			return
		}
		for {
			found := false
			for _, n := range cli.DefaultFileNames {
				if st := r.track(filepath.Join(dir, n)); st != stateAbsent && !strings.HasPrefix(st, stateError) {
					found = true
				}
			}
			if found {
				for _, n := range cli.DefaultOverrideFileNames {
					r.track(filepath.Join(dir, n))
				}
				break
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	for _, f := range po.ConfigPaths {
		r.track(f)
	}
}

func hasKey(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}

// scope is what the loader resolves a compose file's references with.
type scope struct {
	// workingDir is the loader's working directory for the file's model:
	// the project directory at the top, and for an included file the
	// directory compose-go works out, which may be relative.
	workingDir string
	// loaderWD is the directory its local resource loader resolves
	// include and extends paths against.
	loaderWD string
	env      map[string]string
	// rounds are the directories each round of path resolution joins a
	// relative path to, innermost first: the included model's, then that
	// of each model including it, up to the project's (when resolving).
	rounds []string
	id     string
}

func (r *recorder) recordModel(p *types.Project) {
	var rounds []string
	if !r.o.NoPathResolution {
		rounds = []string{p.WorkingDir}
	}
	top := &scope{workingDir: p.WorkingDir, loaderWD: p.WorkingDir, env: p.Environment, rounds: rounds, id: "top"}
	r.model(p.ComposeFiles, top)
}

// model records the files of one model (the project, or an include).
func (r *recorder) model(files []string, sc *scope) {
	for _, f := range files {
		key := "model\x00" + f + "\x00" + sc.id
		if r.visited[key] {
			continue
		}
		r.visited[key] = true
		docs, ok := r.composeFile(f)
		if !ok {
			continue
		}
		for _, doc := range docs {
			if k, _ := mapGet(doc, "version"); k != nil {
				r.versioned = append(r.versioned, f)
			}
			for _, section := range []string{"services", "jobs"} {
				_, m := mapGet(doc, section)
				eachPair(m, func(k, _ *yaml3.Node) { r.declared[section+"."+k.Value] = true })
			}
			r.includes(doc, sc)
			r.extends(doc, sc)
			r.watch(doc, sc.env, sc.rounds)
		}
	}
}

// composeFile reads and parses a compose file, recording its words.
func (r *recorder) composeFile(path string) ([]*yaml3.Node, bool) {
	if r.visits++; r.visits > maxRecordVisits {
		r.giveUp("too many files")
		return nil, false
	}
	if st := r.track(path); !strings.HasPrefix(st, stateFile) {
		return nil, false
	}
	b := r.contents[r.abs(path)]
	var docs []*yaml3.Node
	dec := yaml3.NewDecoder(bytes.NewReader(b))
	for {
		var n yaml3.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			r.giveUp("%s does not parse again: %v", path, err)
			return nil, false
		}
		r.nodeWords(&n, 0)
		if n.Kind == yaml3.DocumentNode && len(n.Content) > 0 {
			docs = append(docs, n.Content[0])
		}
	}
	return docs, true
}

func (r *recorder) nodeWords(n *yaml3.Node, depth int) {
	if n == nil || depth > 10000 {
		return
	}
	if n.Kind == yaml3.ScalarNode {
		if n.Tag == "!!binary" || strings.Contains(n.Tag, "binary") {
			r.envAll = true
		}
		addWords(r.words, n.Value)
	}
	for _, c := range n.Content {
		r.nodeWords(c, depth+1)
	}
}

// interpolate substitutes variables as the loader does (unless the load
// does not interpolate); false if it fails.
func (r *recorder) interpolate(s string, env map[string]string) (string, bool) {
	if r.o.NoInterpolate || !strings.Contains(s, "$") {
		return s, true
	}
	v, err := template.Substitute(s, func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	})
	if err != nil {
		r.giveUp("interpolating %q: %v", s, err)
		return "", false
	}
	return v, true
}

// localAbs is compose-go's localResourceLoader.abs.
func localAbs(wd, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(wd, p)
}

// localDir is compose-go's localResourceLoader.Dir, which looks whether
// the path is a directory.
func (r *recorder) localDir(wd, orig string) string {
	path := localAbs(wd, orig)
	if r.track(path) != stateDir {
		path = localAbs(wd, filepath.Dir(orig))
	}
	rel, err := filepath.Rel(wd, path)
	if err != nil {
		return path
	}
	return rel
}

// resolvePath is compose-go's relativePathsResolver.absPath on a string.
func resolvePath(base, v string) string {
	v = paths.ExpandUser(v)
	if filepath.IsAbs(v) || v == "" {
		return v
	}
	return filepath.Join(base, v)
}

func stringsOf(n *yaml3.Node) ([]string, bool) {
	n = deref(n)
	switch {
	case n == nil:
		return nil, true
	case n.Kind == yaml3.ScalarNode:
		return []string{n.Value}, true
	case n.Kind == yaml3.SequenceNode:
		var out []string
		for _, c := range n.Content {
			c = deref(c)
			if c == nil || c.Kind != yaml3.ScalarNode {
				return nil, false
			}
			out = append(out, c.Value)
		}
		return out, true
	}
	return nil, false
}

// includes records what a model's include: section reads, following
// compose-go's ApplyInclude.
func (r *recorder) includes(doc *yaml3.Node, sc *scope) {
	_, inc := mapGet(doc, "include")
	inc = deref(inc)
	if inc == nil {
		return
	}
	if inc.Kind != yaml3.SequenceNode {
		r.giveUp("include is not a list")
		return
	}
	for _, item := range inc.Content {
		item = deref(item)
		var pathList, envFiles []string
		var projectDir string
		switch {
		case item == nil:
			continue
		case item.Kind == yaml3.ScalarNode:
			pathList = []string{item.Value}
		case item.Kind == yaml3.MappingNode:
			var ok1, ok2 bool
			_, pn := mapGet(item, "path")
			pathList, ok1 = stringsOf(pn)
			_, en := mapGet(item, "env_file")
			envFiles, ok2 = stringsOf(en)
			if !ok1 || !ok2 {
				r.giveUp("an include entry is not understood")
				return
			}
			if _, pd := mapGet(item, "project_directory"); pd != nil {
				pd = deref(pd)
				if pd == nil || pd.Kind != yaml3.ScalarNode {
					r.giveUp("an include entry is not understood")
					return
				}
				projectDir = pd.Value
			}
		default:
			r.giveUp("an include entry is not understood")
			return
		}
		var ok bool
		for i := range pathList {
			if pathList[i], ok = r.interpolate(pathList[i], sc.env); !ok {
				return
			}
		}
		for i := range envFiles {
			if envFiles[i], ok = r.interpolate(envFiles[i], sc.env); !ok {
				return
			}
		}
		if projectDir, ok = r.interpolate(projectDir, sc.env); !ok {
			return
		}
		if len(pathList) == 0 {
			continue
		}
		var relwd string
		locals := make([]string, len(pathList))
		for i, p := range pathList {
			local := localAbs(sc.loaderWD, p)
			if i == 0 {
				switch {
				case projectDir == "":
					relwd = r.localDir(sc.loaderWD, local)
					projectDir = filepath.Dir(local)
				case !filepath.IsAbs(projectDir):
					relwd = r.localDir(sc.loaderWD, projectDir)
					projectDir = filepath.Join(sc.workingDir, projectDir)
				default:
					relwd = projectDir
				}
			}
			locals[i] = local
		}
		var files []string
		if len(envFiles) == 0 {
			f := filepath.Join(projectDir, ".env")
			if st := r.track(f); st != stateAbsent && st != stateDir && !strings.HasPrefix(st, stateError) {
				files = []string{f}
			}
		} else {
			for _, f := range envFiles {
				if f == "/dev/null" {
					continue
				}
				if !filepath.IsAbs(f) {
					f = filepath.Join(sc.workingDir, f)
				}
				r.track(f)
				files = append(files, f)
			}
		}
		fromFiles, err := dotenv.GetEnvFromFile(sc.env, files)
		if err != nil {
			r.giveUp("include env files: %v", err)
			return
		}
		env := types.Mapping(maps.Clone(sc.env))
		if env == nil {
			env = types.Mapping{}
		}
		env.Merge(fromFiles)
		child := &scope{
			workingDir: relwd,
			loaderWD:   projectDir,
			env:        env,
			rounds:     append([]string{relwd}, sc.rounds...),
			id:         fmt.Sprintf("%x", sha256.Sum256([]byte(sc.id+"\x00"+relwd+"\x00"+projectDir+"\x00"+envKey(env)))),
		}
		r.model(locals, child)
	}
}

func envKey(env map[string]string) string {
	var b strings.Builder
	for _, k := range sortedKeys(env) {
		fmt.Fprintf(&b, "%d:%s=%d:%s;", len(k), k, len(env[k]), env[k])
	}
	return b.String()
}

// extends records the files the services of a model's document extend,
// following compose-go's ApplyExtends: the paths as written, against the
// scope's loader directory.
func (r *recorder) extends(doc *yaml3.Node, sc *scope) { r.extendsIn(doc, sc, "") }

// extendsBase records an extended file, loaded as compose-go's
// loadExtendsBase does: interpolated in the extending file's scope, no
// include, its paths resolved against rel.
func (r *recorder) extendsBase(local, rel string, sc *scope) {
	key := "extends\x00" + local + "\x00" + rel + "\x00" + sc.id
	if r.visited[key] {
		return
	}
	r.visited[key] = true
	docs, ok := r.composeFile(local)
	if !ok {
		return
	}
	for _, doc := range docs {
		r.extendsIn(doc, sc, rel)
		r.watch(doc, sc.env, append([]string{rel}, sc.rounds...))
	}
}

// extendsIn is extends for a document whose extends paths are resolved
// against rel before the extending scope's loader resolves them: an
// extended file's directory, or "" for a model's own document.
func (r *recorder) extendsIn(doc *yaml3.Node, sc *scope, rel string) {
	for _, section := range []string{"services", "jobs"} {
		_, m := mapGet(doc, section)
		eachPair(m, func(_, svc *yaml3.Node) {
			_, ext := mapGet(svc, "extends")
			ext = deref(ext)
			if ext == nil || ext.Kind != yaml3.MappingNode {
				return
			}
			_, file := mapGet(ext, "file")
			if file == nil {
				return
			}
			file = deref(file)
			if file == nil || file.Kind != yaml3.ScalarNode {
				r.giveUp("an extends file is not understood")
				return
			}
			ref, ok := r.interpolate(file.Value, sc.env)
			if !ok {
				return
			}
			if rel != "" {
				ref = resolvePath(rel, ref)
			}
			r.extendsBase(localAbs(sc.loaderWD, ref), r.localDir(sc.loaderWD, ref), sc)
		})
	}
}

// watch records the develop.watch paths of a document's services: each
// round of path resolution looks for a symbolic link in the path it
// makes (compose-go's absSymbolicLink), so none may be one.
func (r *recorder) watch(doc *yaml3.Node, env map[string]string, rounds []string) {
	_, m := mapGet(doc, "services")
	eachPair(m, func(_, svc *yaml3.Node) {
		_, dev := mapGet(svc, "develop")
		_, w := mapGet(dev, "watch")
		w = deref(w)
		if w == nil {
			return
		}
		if w.Kind != yaml3.SequenceNode {
			r.giveUp("develop.watch is not a list")
			return
		}
		for _, t := range w.Content {
			_, pn := mapGet(t, "path")
			pn = deref(pn)
			if pn == nil {
				continue
			}
			if pn.Kind != yaml3.ScalarNode {
				r.giveUp("a develop.watch path is not understood")
				return
			}
			s, ok := r.interpolate(pn.Value, env)
			if !ok {
				return
			}
			for _, base := range rounds {
				s = resolvePath(base, s)
				r.probe(s)
			}
			r.watchPaths[s] = true
		}
	})
}

// probe records the paths compose-go's getSymbolinkLink looks at for s.
func (r *recorder) probe(s string) {
	cur := ""
	if filepath.IsAbs(s) {
		cur = string(os.PathSeparator)
	}
	for _, part := range strings.Split(s, string(os.PathSeparator)) {
		if part == "" {
			continue
		}
		cur = filepath.Join(cur, part)
		r.probes[r.abs(cur)] = struct{}{}
	}
}

// checkWatchPaths makes sure that every develop.watch path of the
// project is one the recorder worked out, and that none went through a
// symbolic link.
func (r *recorder) checkWatchPaths(p *types.Project) {
	check := func(services types.Services) {
		for _, s := range services {
			if s.Develop == nil {
				continue
			}
			for _, t := range s.Develop.Watch {
				if !r.watchPaths[t.Path] {
					r.giveUp("develop.watch path %q not worked out", t.Path)
				}
			}
		}
	}
	check(p.Services)
	check(p.DisabledServices)
	for q := range r.probes {
		if fi, err := os.Lstat(q); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			r.giveUp("develop.watch path through the symbolic link %s", q)
		}
	}
}

// checkDeclared makes sure every service and job is declared in a compose
// file the recorder read: one it did not would be an include it missed.
func (r *recorder) checkDeclared(p *types.Project) {
	for _, names := range [][]string{
		sortedKeys(p.Services), sortedKeys(p.DisabledServices),
	} {
		for _, n := range names {
			if !r.declared["services."+n] {
				r.giveUp("service %s not found in the files read", n)
			}
		}
	}
	for _, names := range [][]string{sortedKeys(p.Jobs), sortedKeys(p.DisabledJobs)} {
		for _, n := range names {
			if !r.declared["jobs."+n] {
				r.giveUp("job %s not found in the files read", n)
			}
		}
	}
}

// recordServiceFiles records the env_file and label_file files of the
// enabled services and of their pre_start hooks: what compose-go reads.
func (r *recorder) recordServiceFiles(p *types.Project) {
	for _, name := range sortedKeys(p.Services) {
		s := p.Services[name]
		specs := []*types.ContainerSpec{&s.ContainerSpec}
		for i := range s.PreStart {
			specs = append(specs, &s.PreStart[i].ContainerSpec)
		}
		for _, spec := range specs {
			for _, f := range spec.EnvFiles {
				r.track(f.Path)
			}
			for _, f := range spec.LabelFiles {
				r.track(f)
			}
		}
	}
}

func (r *recorder) recordLink(dir string) {
	r.links[dir] = linkState(dir)
}

// linkState is where a path leads through symbolic links.
func linkState(path string) string {
	t, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "error"
	}
	return "ok:" + t
}

// checkRacy gives up when a file the load read, or the directory holding
// it, changed after the load began: the project may have been made from
// what was there before, while the recorder hashed what is there now.
// Like git's racy-clean check, it goes by the change time, which
// nothing can set back.
func (r *recorder) checkRacy() {
	limit := r.start.Add(-racyWindow)
	dirs := map[string]bool{}
	for path := range r.files {
		dirs[filepath.Dir(path)] = true
		if t, ok := changeTime(path); ok && !t.Before(limit) {
			r.giveUp("%s changed during the load", path)
			return
		}
	}
	for dir := range dirs {
		if t, ok := changeTime(dir); ok && !t.Before(limit) {
			r.giveUp("%s changed during the load", dir)
			return
		}
	}
}

func (r *recorder) abs(path string) string {
	if filepath.IsAbs(path) {
		return filepath.Clean(path)
	}
	return filepath.Join(r.cwd, path)
}

// track records path's state (once) and returns it.
func (r *recorder) track(path string) string {
	path = r.abs(path)
	if st, ok := r.files[path]; ok {
		return st
	}
	if len(r.files) >= maxRecordedFiles {
		r.giveUp("too many files")
		return stateError + "too many"
	}
	st, content := fileState(path)
	r.files[path] = st
	if strings.HasPrefix(st, stateFile) {
		r.contents[path] = content
		addWords(r.words, string(content))
		// A dotenv value may spell a name in octal (\0106 is F).
		if bytes.Contains(content, []byte(`\0`)) {
			r.envAll = true
		}
	}
	if st == stateOther {
		r.giveUp("%s is not a regular file", path)
	}
	return st
}

// File states: what a file was when a load read it.
const (
	stateAbsent  = "absent"
	stateDir     = "dir"
	stateDevNull = "devnull"
	stateOther   = "other"
	stateFile    = "file:"
	stateError   = "error:"
)

// fileState is what is at path: absent, a directory, /dev/null, a file
// with its content's hash (and the content), or the error reaching it.
func fileState(path string) (string, []byte) {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return stateAbsent, nil
	case err != nil:
		return stateError + errorClass(err), nil
	case fi.IsDir():
		return stateDir, nil
	case !fi.Mode().IsRegular():
		if path == os.DevNull {
			return stateDevNull, nil
		}
		// A pipe's content cannot be known without consuming it.
		return stateOther, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return stateError + errorClass(err), nil
	}
	sum := sha256.Sum256(b)
	return stateFile + string(sum[:]), b
}

func errorClass(err error) string {
	switch {
	case errors.Is(err, fs.ErrPermission):
		return "permission"
	default:
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return pe.Op + ": " + pe.Err.Error()
		}
		return err.Error()
	}
}

// addWords adds the identifiers in s, the only names a variable
// reference can spell.
func addWords(words map[string]struct{}, s string) {
	start := -1
	for i := 0; i <= len(s); i++ {
		if i < len(s) && isIdentByte(s[i]) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			w := s[start:i]
			if _, ok := words[w]; !ok {
				words[strings.Clone(w)] = struct{}{}
			}
			start = -1
		}
	}
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isIdentByte(s[i]) {
			return false
		}
	}
	return true
}

func sortedKeys[M ~map[string]V, V any](m M) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
