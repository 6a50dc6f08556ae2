package project

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/consts"
	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/compose-spec/compose-go/v2/utils"
)

// The project cache keeps loaded projects so that loading one again whose
// inputs have not changed costs a few file reads instead of parsing,
// merging, interpolating and validating it all.
//
// An entry is found by a key computed from what Load is asked, before
// reading anything: the options, the working directory, the COMPOSE_*,
// DOCKER_* and COMPOSER_* variables (compose-go reads COMPOSE_FILE,
// COMPOSE_PATH_SEPARATOR, COMPOSE_PROFILES, COMPOSE_PROJECT_NAME,
// COMPOSE_DISABLE_ENV_FILE, COMPOSE_CONVERT_WINDOWS_PATHS, ...), HOME
// (which ~ expands to), and the composer binary and compose-go version.
// The entry then lists what the load it stores read (see recorder), and
// is used only if all of it is as it was:
//
//   - every file the load read, with the hash of its content, and every
//     file it looked for and did not find (a default compose file name
//     in each directory searched, the override names, .env, an included
//     project's .env, ...): creating one is a change;
//   - the environment variables the load may have looked up, with their
//     values. Keying on the whole environment would make the cache
//     useless: shells change OLDPWD and PWD at each cd, _ with the
//     command run, SHLVL in a nested shell. compose-go looks a variable
//     up only by a name that is written in a file it read (${NAME} in a
//     compose file, in .env or an env_file; a bare NAME line of an env
//     file) or that ends up in the project it makes (a key without value
//     under environment: or build.args, the environment: of a secret or
//     config: these may be the result of interpolating, like
//     ["${A}${B}"], so written nowhere). Interpolation names are
//     identifiers ([A-Za-z0-9_]+, delimited as such). So the entry holds
//     the sorted identifiers of every file read, of every value of the
//     compose files as decoded (YAML escapes such as \x46 or a line
//     continuation cannot hide one) and of every string of the project,
//     and a variable counts if its name is one of them (a name that is
//     not an identifier counts if it occurs anywhere in the files read or
//     the encoded project). The entry keeps a hash of the counted
//     variables and their values; a variable with such a name that is set,
//     unset or changed since is a change. Any other cannot change what the
//     load makes. Should a file spell a name in a way the identifiers
//     miss (a dotenv octal escape \0NNN, a YAML !!binary value), every
//     variable counts;
//   - the paths compose-go looked for symbolic links in;
//   - the binary and compose-go version (in the key): another build may
//     load differently.
//
// The files are hashed once the load is done: a file changed meanwhile
// could have been read as it was and hashed as it is. So a load is not
// stored if any file it read, or directory holding one, changed after it
// began (by the inode change time, which nothing can set back), as git
// does for racily clean files. The next load stores it.
//
// The project's Environment holds every variable, so it is not stored: a
// hit rebuilds it from the current environment and env files, as
// compose-go does. The warnings of the load are stored and given again.
// Errors are never stored. An entry that cannot be read, does not decode
// or fails its checksum is a miss; a cache that cannot be written is
// ignored. Entries are written to a temporary file and renamed into
// place, and only the maxCacheEntries most recently used are kept.
//
// The cache lives in $COMPOSER_CACHE_DIR, $XDG_CACHE_HOME/composer or
// $HOME/.cache/composer (variables of Options.Env), in projects/. It
// holds the loaded projects, so their environment values too: it is
// private to the user (0700, 0600), and safe to delete at any time.

const (
	cacheFormat = "composer-project-cache/1"
	// maxCacheEntries is how many projects the cache keeps.
	maxCacheEntries = 64
	entrySuffix     = ".entry"
	entryMagic      = "CMPPRJ01"
)

// racyWindow is how long before a load began a file must have last
// changed for the load's result to be stored (see checkRacy): the kernel
// stamps changes with a clock that may lag the one Load reads by a tick.
var racyWindow = 20 * time.Millisecond

type projectCache struct {
	dir   string
	key   string
	trace func(string)
}

// cacheEntry is what the cache stores for a project.
type cacheEntry struct {
	Format string
	Key    string
	// Files are the files the load read or looked for, with their state.
	Files []cachedFile
	// Probes are paths that must not be symbolic links.
	Probes []string
	// Links are paths with where they lead.
	Links []cachedFile
	// Words are the sorted identifiers that can name a variable looked
	// up; EnvAll says every variable counts.
	Words  []string
	EnvAll bool
	// EnvDigest hashes the counted variables and their values.
	EnvDigest []byte
	// EnvFiles are the project's env files, to rebuild its Environment.
	EnvFiles []string
	Warnings []string
	// Project is the encoded project, without its Environment.
	Project []byte
}

type cachedFile struct {
	Path  string
	State string
}

func (c *projectCache) tracef(format string, args ...any) {
	if c.trace != nil {
		c.trace(fmt.Sprintf(format, args...))
	}
}

// cache returns the project cache for o's load, nil if it is off.
func (o Options) cache() *projectCache {
	off := func(reason string) *projectCache {
		if o.cacheTrace != nil {
			o.cacheTrace("off: " + reason)
		}
		return nil
	}
	switch {
	case o.NoCache:
		return off("NoCache")
	case runtime.GOOS == "windows":
		// Variable names there are case-insensitive, which the
		// recorder's words do not follow.
		return off("windows")
	case slices.Contains(o.Files, "-"):
		return off("standard input")
	}
	if v, ok := o.Lookup("COMPOSER_NO_CACHE"); ok && envTrue(v) {
		return off("COMPOSER_NO_CACHE")
	}
	dir := o.cacheDir()
	if dir == "" {
		return off("no cache directory")
	}
	key, err := cacheKey(o)
	if err != nil {
		return off(err.Error())
	}
	return &projectCache{dir: filepath.Join(dir, "projects"), key: key, trace: o.cacheTrace}
}

// envTrue reads a boolean variable: unset, empty, 0, false and no are
// false; anything else is true.
func envTrue(v string) bool {
	if v == "" {
		return false
	}
	if b, err := strconv.ParseBool(v); err == nil {
		return b
	}
	return !strings.EqualFold(v, "no") && !strings.EqualFold(v, "off")
}

// cacheDir is where the cache lives, "" if nowhere.
func (o Options) cacheDir() string {
	if o.CacheDir != "" {
		if d, err := filepath.Abs(o.CacheDir); err == nil {
			return d
		}
		return ""
	}
	if v, _ := o.Lookup("COMPOSER_CACHE_DIR"); v != "" {
		if d, err := filepath.Abs(v); err == nil {
			return d
		}
		return ""
	}
	// The XDG base directory specification ignores relative paths.
	if v, _ := o.Lookup("XDG_CACHE_HOME"); filepath.IsAbs(v) {
		return filepath.Join(v, "composer")
	}
	if v, _ := o.Lookup("HOME"); filepath.IsAbs(v) {
		return filepath.Join(v, ".cache", "composer")
	}
	return ""
}

var (
	buildIDOnce sync.Once
	buildID     string
)

// binaryID tells builds apart: the executable (its path, size,
// modification time and inode: rebuilding or reinstalling it changes
// them), its version control revision when it was built with one, and
// compose-go's version. "" if unknown, and then there is no cache.
func binaryID() string {
	buildIDOnce.Do(func() {
		exe, err := os.Executable()
		if err != nil {
			return
		}
		fi, err := os.Stat(exe)
		if err != nil {
			return
		}
		id := fmt.Sprintf("%s|%d|%d|%s", exe, fi.Size(), fi.ModTime().UnixNano(), fileIdentity(fi))
		if bi, ok := debug.ReadBuildInfo(); ok {
			id += "|" + bi.GoVersion + "|" + bi.Main.Path + "@" + bi.Main.Version
			for _, s := range bi.Settings {
				if strings.HasPrefix(s.Key, "vcs.") {
					id += "|" + s.Key + "=" + s.Value
				}
			}
			for _, d := range bi.Deps {
				if d.Path == "github.com/compose-spec/compose-go/v2" {
					id += "|" + d.Version + "|" + d.Sum
					if d.Replace != nil {
						id += "|" + d.Replace.Path + "@" + d.Replace.Version + "|" + d.Replace.Sum
					}
				}
			}
		}
		buildID = id
	})
	return buildID
}

// keyWriter writes length-prefixed fields, so that the stream decodes one
// way only.
type keyWriter struct{ b bytes.Buffer }

func (w *keyWriter) str(s string) {
	var n [binary.MaxVarintLen64]byte
	w.b.Write(n[:binary.PutUvarint(n[:], uint64(len(s)))])
	w.b.WriteString(s)
}

func (w *keyWriter) list(l []string) {
	if l == nil {
		w.str("nil")
	} else {
		w.str(strconv.Itoa(len(l)))
	}
	for _, s := range l {
		w.str(s)
	}
}

func (w *keyWriter) flag(b bool) { w.str(strconv.FormatBool(b)) }

// cacheKey is the key of o's entry: everything that chooses what the load
// reads, or changes what it makes of it without being written in a file.
func cacheKey(o Options) (string, error) {
	id := binaryID()
	if id == "" {
		return "", fmt.Errorf("no build identity")
	}
	cwd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("no working directory")
	}
	var w keyWriter
	w.str(cacheFormat)
	w.str(id)
	w.str(runtime.GOOS + "/" + runtime.GOARCH)
	w.str(cwd)
	w.list(o.Files)
	w.str(o.Name)
	w.str(o.ProjectDirectory)
	w.list(o.Profiles)
	w.list(o.EnvFiles)
	w.str(o.WorkingDir)
	w.flag(o.NoInterpolate)
	w.flag(o.NoNormalize)
	w.flag(o.NoConsistency)
	w.flag(o.KeepEnvFiles)
	w.flag(o.NoPathResolution)
	w.flag(o.Env == nil)
	env := utils.GetAsEqualsMap(o.env())
	w.str("env")
	for _, k := range sortedKeys(env) {
		if strings.HasPrefix(k, "COMPOSE_") || strings.HasPrefix(k, "DOCKER_") || strings.HasPrefix(k, "COMPOSER_") {
			w.str(k)
			w.str(env[k])
		}
	}
	// compose-go reads a few variables from the process's environment
	// even when the options give another: COMPOSE_DISABLE_ENV_FILE, and
	// HOME to expand ~.
	w.str("process")
	process := utils.GetAsEqualsMap(os.Environ())
	for _, k := range sortedKeys(process) {
		if strings.HasPrefix(k, "COMPOSE_") || k == "HOME" || k == "USERPROFILE" {
			w.str(k)
			w.str(process[k])
		}
	}
	sum := sha256.Sum256(w.b.Bytes())
	return hex.EncodeToString(sum[:]), nil
}

func (c *projectCache) entryPath() string {
	return filepath.Join(c.dir, c.key[:40]+entrySuffix)
}

// lookup returns the cached project if its entry is still valid.
func (c *projectCache) lookup(o Options) (p *types.Project, warnings []string, ok bool) {
	defer func() {
		// Whatever an entry holds, it is at worst a miss.
		if r := recover(); r != nil {
			c.tracef("miss: %v", r)
			p, warnings, ok = nil, nil, false
		}
	}()
	path := c.entryPath()
	f, err := os.Open(path)
	if err != nil {
		c.tracef("miss: no entry")
		return nil, nil, false
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || !private(fi) {
		f.Close()
		c.tracef("miss: entry not private")
		return nil, nil, false
	}
	b, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		c.tracef("miss: unreadable entry")
		return nil, nil, false
	}
	e, err := parseEntry(b)
	if err != nil || e.Format != cacheFormat || e.Key != c.key {
		c.tracef("miss: unreadable entry")
		return nil, nil, false
	}
	var texts [][]byte
	for _, f := range e.Files {
		st, content := fileState(f.Path)
		if st != f.State {
			c.tracef("miss: %s changed", f.Path)
			return nil, nil, false
		}
		if content != nil {
			texts = append(texts, content)
		}
	}
	for _, q := range e.Probes {
		if fi, err := os.Lstat(q); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			c.tracef("miss: %s is a symbolic link", q)
			return nil, nil, false
		}
	}
	for _, l := range e.Links {
		if linkState(l.Path) != l.State {
			c.tracef("miss: %s leads elsewhere", l.Path)
			return nil, nil, false
		}
	}
	env := utils.GetAsEqualsMap(o.env())
	texts = append(texts, e.Project)
	if !bytes.Equal(envDigest(env, e.Words, e.EnvAll, texts), e.EnvDigest) {
		c.tracef("miss: environment changed")
		return nil, nil, false
	}
	p = new(types.Project)
	if err := decodeValue(e.Project, p); err != nil {
		c.tracef("miss: project does not decode")
		return nil, nil, false
	}
	// The environment as compose-go builds it: the options' variables,
	// then those of the env files that are not set, then the name.
	environment := types.Mapping(env)
	fromFiles, err := dotenv.GetEnvFromFile(environment, e.EnvFiles)
	if err != nil {
		c.tracef("miss: env files: %v", err)
		return nil, nil, false
	}
	environment.Merge(fromFiles)
	environment[consts.ComposeProjectName] = p.Name
	p.Environment = environment
	// Most recently used, for pruning.
	now := time.Now()
	_ = os.Chtimes(path, now, now)
	c.tracef("hit")
	return p, e.Warnings, true
}

// envDigest hashes the variables of env that count: all of them, or those
// named by a word, or (for a name that is not an identifier) found in a
// text.
func envDigest(env map[string]string, words []string, all bool, texts [][]byte) []byte {
	h := sha256.New()
	var w keyWriter
	for _, k := range sortedKeys(env) {
		count := all
		if !count {
			if isIdent(k) {
				i := sort.SearchStrings(words, k)
				count = i < len(words) && words[i] == k
			} else {
				for _, t := range texts {
					if bytes.Contains(t, []byte(k)) {
						count = true
						break
					}
				}
			}
		}
		if count {
			w.str(k)
			w.str(env[k])
		}
	}
	h.Write(w.b.Bytes())
	return h.Sum(nil)
}

// store saves p, loaded with o, if rec found it cacheable.
func (c *projectCache) store(o Options, rec *recorder, p *types.Project, warnings []string) {
	if rec == nil {
		return
	}
	defer func() {
		// Storing is best effort: the load has succeeded.
		if r := recover(); r != nil {
			c.tracef("store failed: %v", r)
		}
	}()
	if rec.reason != "" {
		c.tracef("skip: %s", rec.reason)
		return
	}
	// compose-go warns about a file's obsolete version only once per
	// process: an entry stored without that warning would never give it.
	for _, f := range rec.versioned {
		if !slices.ContainsFunc(warnings, func(w string) bool {
			return strings.Contains(w, "the attribute `version` is obsolete") && strings.Contains(w, filepath.Base(f))
		}) {
			c.tracef("skip: the version warning for %s was given before", f)
			return
		}
	}
	words := maps.Clone(rec.words)
	q := *p
	q.Environment = nil
	enc := &encoder{onString: func(s string) { addWords(words, s) }}
	if err := encodeValue(enc, &q); err != nil {
		c.tracef("skip: %v", err)
		return
	}
	// Make sure the project comes back as it went.
	var back types.Project
	if err := decodeValue(enc.buf, &back); err != nil || !reflect.DeepEqual(&back, &q) {
		c.tracef("skip: the project does not round-trip")
		return
	}
	e := cacheEntry{
		Format:   cacheFormat,
		Key:      c.key,
		EnvAll:   rec.envAll,
		EnvFiles: rec.envFiles,
		Warnings: warnings,
		Project:  enc.buf,
	}
	var texts [][]byte
	for _, path := range sortedKeys(rec.files) {
		e.Files = append(e.Files, cachedFile{Path: path, State: rec.files[path]})
		if b, ok := rec.contents[path]; ok {
			texts = append(texts, b)
		}
	}
	e.Probes = sortedKeys(rec.probes)
	for _, path := range sortedKeys(rec.links) {
		e.Links = append(e.Links, cachedFile{Path: path, State: rec.links[path]})
	}
	e.Words = sortedKeys(words)
	texts = append(texts, e.Project)
	e.EnvDigest = envDigest(utils.GetAsEqualsMap(o.env()), e.Words, e.EnvAll, texts)
	if err := c.write(&e); err != nil {
		c.tracef("store failed: %v", err)
		return
	}
	c.tracef("store")
	c.prune()
}

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// parseEntry decodes an entry file: magic, CRC-32C of the rest, the rest.
func parseEntry(b []byte) (*cacheEntry, error) {
	if len(b) < len(entryMagic)+4 || string(b[:len(entryMagic)]) != entryMagic {
		return nil, fmt.Errorf("not an entry")
	}
	b = b[len(entryMagic):]
	sum, body := binary.LittleEndian.Uint32(b), b[4:]
	if crc32.Checksum(body, crcTable) != sum {
		return nil, fmt.Errorf("bad checksum")
	}
	e := new(cacheEntry)
	if err := decodeValue(body, e); err != nil {
		return nil, err
	}
	return e, nil
}

// write writes the entry to a temporary file and renames it into place,
// so that a reader sees a whole entry or none.
func (c *projectCache) write(e *cacheEntry) error {
	enc := &encoder{buf: make([]byte, 0, len(e.Project)+64<<10)}
	if err := encodeValue(enc, e); err != nil {
		return err
	}
	out := make([]byte, 0, len(entryMagic)+4+len(enc.buf))
	out = append(out, entryMagic...)
	out = binary.LittleEndian.AppendUint32(out, crc32.Checksum(enc.buf, crcTable))
	out = append(out, enc.buf...)
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(c.dir, ".tmp-*")
	if err != nil {
		return err
	}
	_, werr := f.Write(out)
	cerr := f.Close()
	if werr != nil || cerr != nil {
		os.Remove(f.Name())
		if werr != nil {
			return werr
		}
		return cerr
	}
	if err := os.Rename(f.Name(), c.entryPath()); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}

// prune keeps the maxCacheEntries most recently used entries, and removes
// temporary files a writer left behind.
func (c *projectCache) prune() {
	des, err := os.ReadDir(c.dir)
	if err != nil {
		return
	}
	type entry struct {
		name string
		used time.Time
	}
	var entries []entry
	for _, de := range des {
		info, err := de.Info()
		if err != nil {
			continue
		}
		switch {
		case strings.HasSuffix(de.Name(), entrySuffix):
			entries = append(entries, entry{de.Name(), info.ModTime()})
		case strings.HasPrefix(de.Name(), ".tmp-") && time.Since(info.ModTime()) > time.Hour:
			os.Remove(filepath.Join(c.dir, de.Name()))
		}
	}
	if len(entries) <= maxCacheEntries {
		return
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].used.After(entries[j].used) })
	for _, e := range entries[maxCacheEntries:] {
		os.Remove(filepath.Join(c.dir, e.name))
	}
}
