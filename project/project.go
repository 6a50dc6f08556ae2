// Package project loads a compose project the way docker compose does: the
// only place composer calls compose-go's loader. A loaded project is treated
// as read-only by everything downstream.
package project

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v4"
)

// Options say where a project comes from. They mirror docker compose's
// global flags; each empty field falls back to the COMPOSE_* variables and
// then to the defaults.
type Options struct {
	// Files are the -f flags in order; "-" reads standard input. Empty means
	// COMPOSE_FILE, then the default names searched from WorkingDir upwards.
	Files []string
	// Name is -p; empty means COMPOSE_PROJECT_NAME, the file's name: or the
	// project directory's base name.
	Name string
	// ProjectDirectory is --project-directory; empty means the directory of
	// the first compose file.
	ProjectDirectory string
	// Profiles are --profile flags; empty means COMPOSE_PROFILES.
	Profiles []string
	// EnvFiles are --env-file flags; empty means the project directory's .env.
	EnvFiles []string
	// WorkingDir is where the command runs; empty means the process's.
	WorkingDir string
	// Env is the environment used for interpolation and COMPOSE_* variables;
	// nil means the process's.
	Env []string
	// NoInterpolate leaves ${...} unexpanded (config --no-interpolate).
	NoInterpolate bool
	// NoNormalize skips normalization (config --no-normalize).
	NoNormalize bool
	// NoConsistency skips the checks that services refer only to declared
	// networks, volumes, secrets, configs and services, and that container
	// names are unique (config --no-consistency). The project may then not
	// be deployable: only for showing a model as written.
	NoConsistency bool
	// KeepEnvFiles keeps each service's env_file list (export turns it
	// into a ConfigMap). Their variables are in environment either way;
	// up drops the list, as docker compose does before hashing.
	KeepEnvFiles bool
	// NoPathResolution keeps relative paths (bind mounts, build contexts,
	// env files, ...) as written instead of making them absolute against
	// the project directory (config --no-path-resolution). Only for showing
	// a model: the engine needs absolute paths.
	NoPathResolution bool
	// Warn receives each warning the loader reports (an unset variable, an
	// obsolete `version` attribute, several candidate file names, ...), as
	// plain text without level or logger decoration, in order, before Load
	// returns and on its goroutine. Nil writes the warnings nowhere.
	Warn func(string)
	// NoCache loads the project from its files even when an unchanged
	// copy is in the project cache, and does not store it there. The
	// cache is also off when COMPOSER_NO_CACHE is set to a true value
	// ("1", "true", "yes"), or when there is nowhere to put it (none of
	// COMPOSER_CACHE_DIR, XDG_CACHE_HOME and HOME is set). See cache.go.
	NoCache bool
	// CacheDir is the cache's directory; empty means COMPOSER_CACHE_DIR,
	// then $XDG_CACHE_HOME/composer, then $HOME/.cache/composer. Loaded
	// projects are kept in its projects/ subdirectory.
	CacheDir string

	// cacheTrace, when set, is told what the cache did ("hit", "miss",
	// "store", "skip: <reason>", ...): for tests.
	cacheTrace func(event string)
}

// ErrNoConfig reports that no compose file was named or found.
var ErrNoConfig = errors.New("no configuration file provided: not found")

var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// ValidateName checks an explicitly given project name.
func ValidateName(name string) error {
	if !validName.MatchString(name) {
		return fmt.Errorf("invalid project name %q: must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number", name)
	}
	return nil
}

func (o Options) env() []string {
	if o.Env != nil {
		return o.Env
	}
	return os.Environ()
}

// Lookup returns the value of an environment variable in the options' environment.
func (o Options) Lookup(key string) (string, bool) {
	for _, kv := range o.env() {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}

// resolvedPaths are the options' paths made absolute against the working
// directory, as projectOptions hands them to compose-go.
type resolvedPaths struct {
	wd, projectDir  string
	files, envFiles []string
}

func (o Options) resolvePaths() (resolvedPaths, error) {
	wd := o.WorkingDir
	if wd == "" {
		var err error
		if wd, err = os.Getwd(); err != nil {
			return resolvedPaths{}, fmt.Errorf("finding the working directory: %w", err)
		}
	}
	files := make([]string, 0, len(o.Files))
	for _, f := range o.Files {
		if f != "-" && !filepath.IsAbs(f) {
			f = filepath.Join(wd, f)
		}
		files = append(files, f)
	}
	envFiles := make([]string, 0, len(o.EnvFiles))
	for _, f := range o.EnvFiles {
		if !filepath.IsAbs(f) {
			f = filepath.Join(wd, f)
		}
		envFiles = append(envFiles, f)
	}
	projectDir := o.ProjectDirectory
	if projectDir != "" && !filepath.IsAbs(projectDir) {
		projectDir = filepath.Join(wd, projectDir)
	}
	return resolvedPaths{wd: wd, projectDir: projectDir, files: files, envFiles: envFiles}, nil
}

func (o Options) projectOptions() (*cli.ProjectOptions, error) {
	return o.projectOptionsKeeping(o.KeepEnvFiles)
}

// projectOptionsKeeping is projectOptions, keeping each service's env_file
// list if keepEnvFiles whatever o.KeepEnvFiles says: the cache reads it to
// know which files the load read, then drops it (discardEnvFiles).
func (o Options) projectOptionsKeeping(keepEnvFiles bool) (*cli.ProjectOptions, error) {
	if o.Name != "" {
		if err := ValidateName(o.Name); err != nil {
			return nil, err
		}
	}
	rp, err := o.resolvePaths()
	if err != nil {
		return nil, err
	}
	wd, files, envFiles, projectDir := rp.wd, rp.files, rp.envFiles, rp.projectDir
	opts := []cli.ProjectOptionsFn{
		cli.WithEnv(o.env()),
		cli.WithWorkingDirectory(projectDir),
		cli.WithEnvFiles(envFiles...),
		cli.WithDotEnv,
		cli.WithConfigFileEnv,
		cli.WithDefaultProfiles(o.Profiles...),
		cli.WithName(o.Name),
		cli.WithResolvedPaths(!o.NoPathResolution),
		cli.WithConsistency(!o.NoConsistency),
		cli.WithInterpolation(!o.NoInterpolate),
		cli.WithNormalization(!o.NoNormalize),
	}
	if !keepEnvFiles {
		// docker compose folds env_file into environment and drops the
		// file list before hashing; doing the same keeps our config hash
		// equal to theirs, so each tool sees the other's containers as
		// up to date.
		opts = append(opts, cli.WithDiscardEnvFile)
	}
	po, err := cli.NewProjectOptions(files, opts...)
	if err != nil {
		return nil, err
	}
	if len(po.ConfigPaths) == 0 {
		// Default discovery looks from the working directory upwards.
		if projectDir == "" {
			po.WorkingDir = wd
		}
		if err := cli.WithDefaultConfigPath(po); err != nil {
			return nil, err
		}
		if projectDir == "" {
			po.WorkingDir = ""
		}
	}
	return po, nil
}

// Load reads, merges, interpolates and validates the project. The loader's
// warnings go to o.Warn.
//
// An unchanged project comes from the project cache (cache.go) instead,
// with the warnings its load gave; see Options.NoCache.
func Load(ctx context.Context, o Options) (*types.Project, error) {
	c := o.cache()
	if c != nil {
		if p, warnings, ok := c.lookup(o); ok {
			if o.Warn != nil {
				for _, w := range warnings {
					o.Warn(w)
				}
			}
			return p, nil
		}
	}
	var (
		p        *types.Project
		err      error
		rec      *recorder
		warnings []string
	)
	// Choosing the files already warns (several candidate names, an
	// unreadable .env), so everything runs with warnings captured.
	captureWarnings(func(m string) { warnings = append(warnings, m) }, func() {
		if c != nil {
			rec = newRecorder(o)
		}
		p, err = load(ctx, o, rec)
	})
	if c != nil && err == nil {
		c.store(o, rec, p, warnings)
	}
	if o.Warn != nil {
		for _, w := range warnings {
			o.Warn(w)
		}
	}
	return p, err
}

// load loads the project. With a recorder, it records what the load read
// for the cache; the project is the same.
func load(ctx context.Context, o Options, rec *recorder) (*types.Project, error) {
	po, err := o.projectOptionsKeeping(o.KeepEnvFiles || rec != nil)
	if err != nil {
		return nil, describe(locateOptionsError(err, o))
	}
	if len(po.ConfigPaths) == 0 {
		return nil, ErrNoConfig
	}
	p, err := loadProject(ctx, po)
	if err != nil {
		return nil, describe(locate(err, po, o))
	}
	if !o.NoConsistency {
		if err := p.CheckContainerNameUnicity(); err != nil {
			return nil, locate(err, po, o)
		}
		if err := checkScale(p); err != nil {
			return nil, locate(err, po, o)
		}
	}
	if rec != nil {
		// Recording interpolates again, which would warn again.
		quietly(func() { rec.record(po, p) })
		if !o.KeepEnvFiles {
			discardEnvFiles(p)
		}
	}
	return p, nil
}

// discardEnvFiles drops the env_file lists as compose-go's
// WithDiscardEnvFile does once it has folded them into environment: from
// each enabled service, and from each of its pre_start hooks that
// compose-go resolved (one with an environment or env files).
func discardEnvFiles(p *types.Project) {
	for name, s := range p.Services {
		s.EnvFiles = nil
		for i := range s.PreStart {
			h := &s.PreStart[i]
			if len(h.Environment) != 0 || len(h.EnvFiles) != 0 {
				h.EnvFiles = nil
			}
		}
		p.Services[name] = s
	}
}

// loadProject runs the loader, turning a panic on some malformed input
// into an error: whatever a compose file holds, Load returns.
func loadProject(ctx context.Context, po *cli.ProjectOptions) (p *types.Project, err error) {
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("loading the compose files: the loader failed on this input: %v", r)
		}
	}()
	return po.LoadProject(ctx)
}

// Resolve loads the project when there is a compose file, and otherwise
// takes its name from -p or COMPOSE_PROJECT_NAME, so that commands such as
// down and ps work from labels alone. p is nil when there is no file.
func Resolve(ctx context.Context, o Options) (name string, p *types.Project, err error) {
	p, err = Load(ctx, o)
	if err == nil {
		return p.Name, p, nil
	}
	if errors.Is(err, ErrNoConfig) {
		if o.Name != "" {
			return o.Name, nil, ValidateName(o.Name)
		}
		if v, ok := o.Lookup("COMPOSE_PROJECT_NAME"); ok && v != "" {
			return v, nil, ValidateName(v)
		}
	}
	return "", nil, err
}

// checkScale rejects a container_name on a service run more than once:
// the engine would refuse the second container anyway, half way through.
func checkScale(p *types.Project) error {
	var problems []error
	for _, name := range p.ServiceNames() {
		s := p.Services[name]
		if s.ContainerName != "" && s.GetScale() > 1 {
			problems = append(problems, fmt.Errorf("service %q: container_name %q cannot be used with %d replicas", name, s.ContainerName, s.GetScale()))
		}
	}
	return errors.Join(problems...)
}

// parseYAML reports the first syntax error in b, which may hold several
// documents, as the loader's decoder reads them.
func parseYAML(b []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// describe turns loader errors into messages that name the problem plainly.
func describe(err error) error {
	var le *LoadError
	if errors.As(err, &le) {
		// Placed already: a missing file it names is not a compose file.
		return err
	}
	var pe *fs.PathError
	if errors.As(err, &pe) && errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("compose file %s: no such file", pe.Path)
	}
	return err
}

// Select narrows a project to the named services (and, unless noDeps,
// what they depend on), enabling services that were disabled by profiles
// but named explicitly, as docker compose does. It returns a new project.
func Select(p *types.Project, services []string, noDeps bool) (*types.Project, error) {
	if len(services) == 0 {
		return p.WithoutUnnecessaryResources(), nil
	}
	for _, s := range services {
		if _, err := p.GetService(s); err != nil {
			if _, derr := p.GetDisabledService(s); derr != nil {
				return nil, fmt.Errorf("no such service: %s", s)
			}
		}
	}
	p, err := p.WithServicesEnabled(services...)
	if err != nil {
		return nil, err
	}
	if noDeps {
		p, err = p.WithSelectedServices(services, types.IgnoreDependencies)
	} else {
		p, err = p.WithSelectedServices(services)
	}
	if err != nil {
		return nil, err
	}
	return p.WithoutUnnecessaryResources(), nil
}

// WithScale returns a copy of p whose services run the given numbers of
// containers (--scale SVC=N).
func WithScale(p *types.Project, scale map[string]int) (*types.Project, error) {
	if len(scale) == 0 {
		return p, nil
	}
	names := make([]string, 0, len(scale))
	for n := range scale {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if _, ok := p.Services[n]; !ok {
			return nil, fmt.Errorf("--scale: no such service: %s", n)
		}
	}
	return p.WithServicesTransform(func(name string, s types.ServiceConfig) (types.ServiceConfig, error) {
		if n, ok := scale[name]; ok {
			if s.ContainerName != "" && n > 1 {
				return s, fmt.Errorf("service %q: container_name %q cannot be used with %d replicas", name, s.ContainerName, n)
			}
			s.SetScale(n)
		}
		return s, nil
	})
}

// ParseScale parses --scale values of the form SERVICE=N.
func ParseScale(values []string) (map[string]int, error) {
	out := map[string]int{}
	for _, v := range values {
		name, num, ok := strings.Cut(v, "=")
		n, err := strconv.Atoi(num)
		if !ok || name == "" || err != nil || n < 0 {
			return nil, fmt.Errorf("invalid --scale value %q: want SERVICE=NUMBER", v)
		}
		out[name] = n
	}
	return out, nil
}

// NormalizeName turns a directory name into a valid project name.
func NormalizeName(s string) string { return loader.NormalizeProjectName(s) }

// NameGiven reports whether the user chose p's name (-p,
// COMPOSE_PROJECT_NAME in the environment or the .env file, or a top-level
// name: in a compose file) rather than it being derived from the project
// directory's name. A derived name is how two directories of the same name
// become one project without anyone asking.
func NameGiven(o Options, p *types.Project) bool {
	if o.Name != "" {
		return true
	}
	// The loaded project's environment always holds the name; the
	// options' environment (process and .env) holds it only if set there.
	if po, err := o.projectOptions(); err == nil && po.Environment["COMPOSE_PROJECT_NAME"] != "" {
		return true
	}
	for _, f := range p.ComposeFiles {
		if hasTopLevelName(f) {
			return true
		}
	}
	return false
}

// hasTopLevelName reports whether a compose file sets name: at its top
// level. A file that cannot be read again (standard input) counts as not.
func hasTopLevelName(file string) bool {
	b, err := os.ReadFile(file)
	if err != nil {
		return false
	}
	var top map[string]any
	if err := yaml.Unmarshal(b, &top); err != nil {
		return false
	}
	name, ok := top["name"].(string)
	return ok && name != ""
}
