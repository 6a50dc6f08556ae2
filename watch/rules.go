package watch

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// Rule is one develop.watch trigger of a service, ready to match host
// paths.
type Rule struct {
	Service string
	// Index is the trigger's position in the service's develop.watch, so
	// that a sync+exec hook runs once per batch however many of its files
	// changed.
	Index   int
	Trigger types.Trigger
	include *matcher
	// ignore is the trigger's own ignore list; dockerignore the build
	// context's .dockerignore.
	ignore       *matcher
	dockerignore *matcher
}

// ephemeral are editors' and tools' scratch files, never synced nor
// rebuilt for: compose ignores the same ones.
var ephemeral = []string{
	"**/*___jb_old___", "**/*___jb_tmp___", "**/.idea/**", // GoLand
	"**/.#*", "**/#*#", // emacs
	"**/4913", "**/*~", "**/.*.swp", "**/.*.swx", "**/.*.swo", "**/.*.swn", // vim
	"**/.*.kate-swp", "**/*-go-tmp-umask",
}

// NotWatchedError says that a service has no develop.watch section.
type NotWatchedError struct{ Service string }

func (e *NotWatchedError) Error() string {
	return fmt.Sprintf("service %q has no develop.watch section: not watched", e.Service)
}

// ServiceRules makes the rules of a service's develop.watch triggers. A
// service without develop.watch gives a *NotWatchedError; a trigger that
// cannot work (rebuild without build, sync without target, sync+exec
// without command) fails the whole service, so that it is not half
// watched. notes say which sync rules are left out because a bind mount
// already shares their path with the container, as compose leaves them.
func ServiceRules(s types.ServiceConfig) (rules []Rule, notes []string, err error) {
	if s.Develop == nil || len(s.Develop.Watch) == 0 {
		return nil, nil, &NotWatchedError{Service: s.Name}
	}
	var dockerignore *matcher
	if s.Build != nil && !strings.Contains(s.Build.Context, "://") {
		if dockerignore, err = loadDockerignore(s.Build); err != nil {
			return nil, nil, fmt.Errorf("service %q: %w", s.Name, err)
		}
	}
	var problems []error
	for i, t := range s.Develop.Watch {
		r, err := newRule(s, i, t, dockerignore)
		if err != nil {
			problems = append(problems, err)
			continue
		}
		if isSync(t.Action) && boundByMount(r.Trigger.Path, s.Volumes) {
			notes = append(notes, fmt.Sprintf("service %q: develop.watch path %s is also a bind mount: not synced", s.Name, t.Path))
			continue
		}
		rules = append(rules, r)
	}
	if err := errors.Join(problems...); err != nil {
		return nil, notes, err
	}
	return rules, notes, nil
}

// boundByMount reports whether p is in a bind-mounted host directory: the
// container sees its changes already.
func boundByMount(p string, volumes []types.ServiceVolumeConfig) bool {
	for _, v := range volumes {
		if v.Type != types.VolumeTypeBind || v.Source == "" {
			continue
		}
		src := filepath.Clean(v.Source)
		if real, err := filepath.EvalSymlinks(src); err == nil {
			src = real
		}
		if _, ok := relative(src, p); ok {
			return true
		}
	}
	return false
}

func newRule(s types.ServiceConfig, i int, t types.Trigger, dockerignore *matcher) (Rule, error) {
	where := fmt.Sprintf("service %q: develop.watch[%d]", s.Name, i)
	if t.Path == "" {
		return Rule{}, fmt.Errorf("%s: no path", where)
	}
	switch t.Action {
	case types.WatchActionRebuild:
		if s.Build == nil {
			return Rule{}, fmt.Errorf("%s: action rebuild needs a build section", where)
		}
	case types.WatchActionSync, types.WatchActionSyncRestart, types.WatchActionSyncExec:
		if t.Target == "" {
			return Rule{}, fmt.Errorf("%s: action %s needs a target", where, t.Action)
		}
		if !path.IsAbs(t.Target) {
			return Rule{}, fmt.Errorf("%s: target %q is not an absolute path", where, t.Target)
		}
		if t.Action == types.WatchActionSyncExec && len(t.Exec.Command) == 0 {
			return Rule{}, fmt.Errorf("%s: action sync+exec needs exec.command", where)
		}
	case types.WatchActionRestart:
	default:
		return Rule{}, fmt.Errorf("%s: unknown action %q", where, t.Action)
	}
	p, err := filepath.Abs(t.Path)
	if err != nil {
		return Rule{}, fmt.Errorf("%s: %w", where, err)
	}
	// Events carry the paths that were watched: watch the real one, as
	// compose does, so that a link in the path does not hide them.
	if real, err := filepath.EvalSymlinks(p); err == nil {
		p = real
	}
	t.Path = filepath.Clean(p)
	r := Rule{Service: s.Name, Index: i, Trigger: t, dockerignore: dockerignore}
	if r.ignore, err = newMatcher(t.Path, append(append([]string{}, t.Ignore...), ephemeral...)); err != nil {
		return Rule{}, fmt.Errorf("%s: ignore: %w", where, err)
	}
	if len(t.Include) > 0 {
		if r.include, err = newMatcher(t.Path, t.Include); err != nil {
			return Rule{}, fmt.Errorf("%s: include: %w", where, err)
		}
	}
	return r, nil
}

// loadDockerignore reads the build context's ignore file: the
// Dockerfile's own (Dockerfile.dockerignore) if there is one, else
// .dockerignore.
func loadDockerignore(b *types.BuildConfig) (*matcher, error) {
	root, err := filepath.Abs(b.Context)
	if err != nil {
		return nil, err
	}
	if real, err := filepath.EvalSymlinks(root); err == nil {
		root = real
	}
	dockerfile := b.Dockerfile
	if dockerfile == "" {
		dockerfile = "Dockerfile"
	}
	candidates := []string{filepath.Join(root, dockerfile+".dockerignore"), filepath.Join(root, ".dockerignore")}
	if filepath.IsAbs(dockerfile) {
		candidates[0] = dockerfile + ".dockerignore"
	}
	for _, name := range candidates {
		f, err := os.Open(name)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, err)
		}
		var lines []string
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, err)
		}
		m, err := newMatcher(root, lines)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return m, nil
	}
	return nil, nil
}

// Mapping is a changed host path and where it goes in the service's
// containers.
type Mapping struct {
	HostPath      string
	ContainerPath string
}

// covers reports whether the rule watches abs at all (before include and
// ignore).
func (r Rule) covers(abs string) bool {
	_, ok := relative(r.Trigger.Path, abs)
	return ok
}

// Match says whether a change of abs concerns the rule and, for the sync
// actions, where abs goes in the container.
func (r Rule) Match(abs string) (Mapping, bool) {
	rel, ok := relative(r.Trigger.Path, abs)
	if !ok {
		return Mapping{}, false
	}
	if isGit(rel) || r.dockerignore.matches(abs) {
		return Mapping{}, false
	}
	if rel != "." {
		if r.include != nil && !r.include.matches(abs) {
			return Mapping{}, false
		}
		if r.ignore.matches(abs) {
			return Mapping{}, false
		}
	}
	m := Mapping{HostPath: abs}
	if r.Trigger.Target != "" {
		m.ContainerPath = path.Join(r.Trigger.Target, rel)
	}
	return m, true
}

// skipsDir reports whether nothing under the directory abs can match the
// rule, so that it need not be watched: it is ignored, and no exception
// could bring a path below it back.
func (r Rule) skipsDir(abs string) bool {
	rel, ok := relative(r.Trigger.Path, abs)
	if !ok {
		return true
	}
	if rel == "." {
		return false
	}
	if isGit(rel) {
		return true
	}
	if r.dockerignore.matches(abs) && !r.dockerignore.negated {
		return true
	}
	return r.ignore.matches(abs) && !r.ignore.negated
}

// isGit reports whether rel is in a .git directory. compose leaves out
// the project's top .git; any .git is left out here, since a nested
// repository's internals are no more source than the top one's.
func isGit(rel string) bool {
	for _, e := range strings.Split(rel, "/") {
		if e == ".git" {
			return true
		}
	}
	return false
}
