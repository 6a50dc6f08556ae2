package orchestrator

import (
	"archive/tar"
	"bufio"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/composer-orchestrator/composer/engine"
)

// BuildOptions tune composer build.
type BuildOptions struct {
	// NoCache builds without the engine's build cache.
	NoCache bool
	// Pull always pulls the base images.
	Pull bool
	// Args are --build-arg values, over the file's args: KEY=VALUE, or a
	// bare KEY taken from Environ (left out when Environ has none).
	Args    []string
	Environ func(string) (string, bool)
}

// Build builds the images of the named services (all with a build section
// when none are named).
func (o *Orchestrator) Build(ctx context.Context, p *types.Project, services []string, opts BuildOptions) error {
	if len(services) == 0 {
		services = p.ServiceNames()
	}
	for _, name := range services {
		s, ok := p.Services[name]
		if !ok {
			return fmt.Errorf("no such service: %s", name)
		}
		if s.Build == nil {
			continue
		}
		if len(opts.Args) > 0 || opts.NoCache || opts.Pull {
			b := *s.Build
			b.Args = cloneArgs(b.Args)
			for _, kv := range resolveEnv(opts.Args, opts.Environ) {
				k, v, _ := strings.Cut(kv, "=")
				b.Args[k] = &v
			}
			b.NoCache = b.NoCache || opts.NoCache
			b.Pull = b.Pull || opts.Pull
			s.Build = &b
		}
		if _, err := o.buildService(ctx, p, s); err != nil {
			return err
		}
	}
	return nil
}

func cloneArgs(m types.MappingWithEquals) types.MappingWithEquals {
	out := types.MappingWithEquals{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// buildService builds a service's image from its build section and
// returns the image id.
func (o *Orchestrator) buildService(ctx context.Context, p *types.Project, s types.ServiceConfig) (string, error) {
	b := s.Build
	ref := ImageName(p, s)
	if strings.Contains(b.Context, "://") || strings.HasPrefix(b.Context, "git@") {
		return "", fmt.Errorf("service %q: building from a remote context (%s) is not supported", s.Name, b.Context)
	}
	dockerfile := b.Dockerfile
	if dockerfile == "" {
		dockerfile = "Dockerfile"
	}
	var inline string
	if b.DockerfileInline != "" {
		dockerfile, inline = ".composer.Dockerfile", b.DockerfileInline
	}
	o.emit(KindService, s.Name, Building, false, "")
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(tarContext(b.Context, dockerfile, inline, pw))
	}()
	defer pr.Close()
	spec := engine.BuildSpec{
		Tags:       append([]string{ref}, b.Tags...),
		Dockerfile: filepath.ToSlash(relDockerfile(b.Context, dockerfile)),
		Args:       map[string]*string(b.Args),
		Target:     b.Target,
		Labels:     map[string]string(b.Labels),
		NoCache:    b.NoCache,
		Pull:       b.Pull,
		Network:    b.Network,
		ExtraHosts: b.ExtraHosts.AsList(":"),
		ShmSize:    int64(b.ShmSize),
	}
	if len(b.Platforms) == 1 {
		spec.Platform = b.Platforms[0]
	}
	id, err := o.eng.BuildImage(ctx, pr, spec, func(l engine.ProgressLine) {
		if line := strings.TrimRight(l.Stream, "\n"); line != "" {
			o.emit(KindService, s.Name, Building, false, line)
		}
	})
	if err != nil {
		o.fail(KindService, s.Name, err)
		return "", fmt.Errorf("service %q: building image %q: %w", s.Name, ref, err)
	}
	o.emit(KindService, s.Name, Built, true, "")
	return id, nil
}

func relDockerfile(contextDir, dockerfile string) string {
	if filepath.IsAbs(dockerfile) {
		if rel, err := filepath.Rel(contextDir, dockerfile); err == nil && !strings.HasPrefix(rel, "..") {
			return rel
		}
	}
	return dockerfile
}

// tarContext writes the build context as a tar stream, leaving out what
// .dockerignore excludes (but never the Dockerfile itself). inline, when
// set, is added as the Dockerfile.
func tarContext(dir, dockerfile, inline string, w io.Writer) error {
	ignore, err := readIgnore(filepath.Join(dir, ".dockerignore"))
	if err != nil {
		return err
	}
	dockerfile = filepath.ToSlash(relDockerfile(dir, dockerfile))
	tw := tar.NewWriter(w)
	var paths []string
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel != dockerfile && rel != ".dockerignore" && ignore.excluded(rel) {
			if d.IsDir() && !ignore.hasExceptions {
				return filepath.SkipDir
			}
			return nil
		}
		paths = append(paths, rel)
		return nil
	})
	if err != nil {
		return fmt.Errorf("reading build context %s: %w", dir, err)
	}
	sort.Strings(paths)
	for _, rel := range paths {
		full := filepath.Join(dir, filepath.FromSlash(rel))
		info, err := os.Lstat(full)
		if err != nil {
			return err
		}
		link := ""
		if info.Mode()&os.ModeSymlink != 0 {
			if link, err = os.Readlink(full); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		hdr.Name = rel
		if info.IsDir() {
			hdr.Name += "/"
		}
		hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if info.Mode().IsRegular() {
			f, err := os.Open(full)
			if err != nil {
				return err
			}
			_, err = io.Copy(tw, f)
			f.Close()
			if err != nil {
				return err
			}
		}
	}
	if inline != "" {
		if err := tw.WriteHeader(&tar.Header{Name: dockerfile, Mode: 0o644, Size: int64(len(inline)), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		if _, err := io.WriteString(tw, inline); err != nil {
			return err
		}
	}
	return tw.Close()
}

type ignoreRule struct {
	re     *regexp.Regexp
	negate bool
}

type ignoreRules struct {
	rules         []ignoreRule
	hasExceptions bool
}

func readIgnore(path string) (ignoreRules, error) {
	var r ignoreRules
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return r, nil
	}
	if err != nil {
		return r, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		neg := strings.HasPrefix(line, "!")
		if neg {
			line = strings.TrimSpace(line[1:])
			r.hasExceptions = true
		}
		line = strings.Trim(filepath.ToSlash(filepath.Clean(line)), "/")
		re, err := globToRegexp(line)
		if err != nil {
			return r, fmt.Errorf("%s: bad pattern %q: %w", path, line, err)
		}
		r.rules = append(r.rules, ignoreRule{re: re, negate: neg})
	}
	return r, sc.Err()
}

// excluded reports whether rel (or a directory above it) matches the
// rules; the last matching rule wins, as in docker's .dockerignore.
func (r ignoreRules) excluded(rel string) bool {
	out := false
	for _, rule := range r.rules {
		for p := rel; ; {
			if rule.re.MatchString(p) {
				out = !rule.negate
				break
			}
			i := strings.LastIndex(p, "/")
			if i < 0 {
				break
			}
			p = p[:i]
		}
	}
	return out
}

func globToRegexp(pattern string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		switch {
		case c == '*' && i+1 < len(pattern) && pattern[i+1] == '*':
			b.WriteString(".*")
			i++
			if i+1 < len(pattern) && pattern[i+1] == '/' {
				i++
				b.WriteString("/?")
			}
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}
