package fake

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/composer-orchestrator/composer/engine"
)

// dockerfileFromContext returns the Dockerfile named name ("Dockerfile"
// when empty) in a tar build context, and whether there is one.
func dockerfileFromContext(buildContext []byte, name string) (string, bool) {
	if name == "" {
		name = "Dockerfile"
	}
	want := path.Clean(strings.TrimPrefix(name, "./"))
	var fallback string
	var haveFallback bool
	tr := tar.NewReader(bytes.NewReader(buildContext))
	for {
		hdr, err := tr.Next()
		if err != nil {
			// io.EOF, or not a tar at all: a test may pass any bytes.
			return fallback, haveFallback
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		got := path.Clean(strings.TrimPrefix(hdr.Name, "./"))
		if got != want && !(name == "Dockerfile" && got == "dockerfile") {
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return "", false
		}
		if got == want {
			return string(data), true
		}
		fallback, haveFallback = string(data), true // the engine's fallback name
	}
}

// stage is one FROM section of a Dockerfile while it is read.
type stage struct {
	name  string
	cfg   engine.ImageConfig
	args  map[string]string
	shell []string
	// cmdSet: a CMD was given in this stage, so an ENTRYPOINT keeps it.
	cmdSet bool
}

// parseDockerfile returns the defaults of the image a Dockerfile builds
// (the target stage, else the last), the way the engine's builder records
// them: FROM starts from the base's defaults (scratch: none; an image the
// fake does not have: none either) plus a default PATH, and ENV, LABEL,
// CMD, ENTRYPOINT (which drops an inherited CMD), WORKDIR, USER, EXPOSE,
// VOLUME, STOPSIGNAL, HEALTHCHECK, SHELL and ARG change them. Variables
// are substituted in the instructions the builder substitutes them in.
// Instructions that only change the file system (RUN, COPY, ...) are
// ignored. base finds an image's defaults by reference.
func parseDockerfile(text string, buildArgs map[string]*string, target string, base func(ref string) (engine.ImageConfig, bool)) (engine.ImageConfig, error) {
	escape := byte('\\')
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	// Parser directives come first: "# escape=`".
	for _, l := range lines {
		k, v, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "#")), "=")
		if !strings.HasPrefix(strings.TrimSpace(l), "#") || !ok {
			break
		}
		if strings.EqualFold(strings.TrimSpace(k), "escape") && len(strings.TrimSpace(v)) == 1 {
			escape = strings.TrimSpace(v)[0]
		}
	}

	global := map[string]string{} // ARGs before the first FROM
	argValue := func(name string, def *string) (string, bool) {
		if v, ok := buildArgs[name]; ok && v != nil {
			return *v, true
		}
		if def != nil {
			return *def, true
		}
		return "", false
	}
	var stages []*stage
	var cur *stage
	var errs []error

	for _, ins := range joinLines(lines, escape) {
		word, rest, _ := strings.Cut(ins, " ")
		rest = strings.TrimSpace(rest)
		instr := strings.ToUpper(word)
		if cur == nil && instr != "FROM" && instr != "ARG" {
			continue
		}
		lookup := func(name string) (string, bool) {
			if cur != nil {
				for _, kv := range slices.Backward(cur.cfg.Env) {
					if k, v, _ := strings.Cut(kv, "="); k == name {
						return v, true
					}
				}
				v, ok := cur.args[name]
				return v, ok
			}
			v, ok := global[name]
			return v, ok
		}
		expand := func(w string) string { return processWord(w, lookup, escape) }
		switch instr {
		case "ARG":
			for _, w := range splitWords(rest, escape) {
				name, def, hasDef := strings.Cut(w, "=")
				var d *string
				if hasDef {
					d = new(expand(def))
				} else if cur != nil {
					if g, ok := global[name]; ok {
						d = &g
					}
				}
				v, ok := argValue(name, d)
				if !ok {
					continue
				}
				if cur == nil {
					global[name] = v
				} else {
					cur.args[name] = v
				}
			}
		case "FROM":
			words := splitWords(rest, escape)
			words = slices.DeleteFunc(words, func(w string) bool { return strings.HasPrefix(w, "--") })
			if len(words) == 0 {
				errs = append(errs, errors.New("FROM requires an image"))
				continue
			}
			// FROM sees the ARGs declared before the first FROM only.
			ref := processWord(words[0], func(n string) (string, bool) { v, ok := global[n]; return v, ok }, escape)
			st := &stage{args: map[string]string{}, shell: []string{"/bin/sh", "-c"}}
			if len(words) >= 3 && strings.EqualFold(words[1], "AS") {
				st.name = strings.ToLower(words[2])
			}
			if i := slices.IndexFunc(stages, func(s *stage) bool { return s.name != "" && s.name == strings.ToLower(ref) }); i >= 0 {
				st.cfg = cloneImageConfig(stages[i].cfg)
				st.shell = slices.Clone(stages[i].shell)
			} else if ref != "scratch" {
				if cfg, ok := base(ref); ok {
					st.cfg = cloneImageConfig(cfg)
				}
			}
			if !slices.ContainsFunc(st.cfg.Env, func(kv string) bool { return strings.HasPrefix(kv, "PATH=") }) {
				st.cfg.Env = append(st.cfg.Env, defaultPath)
			}
			stages = append(stages, st)
			cur = st
		case "ENV", "LABEL":
			pairs := keyValues(rest, escape, expand)
			for _, kv := range pairs {
				if instr == "ENV" {
					cur.cfg.Env = setEnv(cur.cfg.Env, kv[0], kv[1])
					continue
				}
				if cur.cfg.Labels == nil {
					cur.cfg.Labels = map[string]string{}
				}
				cur.cfg.Labels[kv[0]] = kv[1]
			}
		case "CMD":
			cur.cfg.Cmd = commandForm(rest, cur.shell)
			cur.cmdSet = true
		case "ENTRYPOINT":
			cur.cfg.Entrypoint = commandForm(rest, cur.shell)
			if !cur.cmdSet {
				cur.cfg.Cmd = nil
			}
		case "SHELL":
			var sh []string
			if err := json.Unmarshal([]byte(rest), &sh); err == nil && len(sh) > 0 {
				cur.shell = sh
			}
		case "WORKDIR":
			dir := expand(rest)
			if !path.IsAbs(dir) {
				dir = path.Join("/", cur.cfg.WorkingDir, dir)
			}
			cur.cfg.WorkingDir = path.Clean(dir)
		case "USER":
			cur.cfg.User = expand(rest)
		case "STOPSIGNAL":
			cur.cfg.StopSignal = expand(rest)
		case "EXPOSE":
			for _, w := range splitWords(rest, escape) {
				cur.cfg.ExposedPorts = append(cur.cfg.ExposedPorts, expand(w))
			}
			_, cur.cfg.ExposedPorts = normalizePorts(nil, cur.cfg.ExposedPorts)
		case "VOLUME":
			var vols []string
			if json.Unmarshal([]byte(rest), &vols) != nil {
				vols = nil
				for _, w := range splitWords(rest, escape) {
					vols = append(vols, expand(w))
				}
			}
			for _, v := range vols {
				if !slices.Contains(cur.cfg.Volumes, v) {
					cur.cfg.Volumes = append(cur.cfg.Volumes, v)
				}
			}
			slices.Sort(cur.cfg.Volumes)
		case "HEALTHCHECK":
			hc, err := parseHealthcheck(rest, escape)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			cur.cfg.Healthcheck = hc
		}
	}
	if err := errors.Join(errs...); err != nil {
		return engine.ImageConfig{}, err
	}
	if len(stages) == 0 {
		return engine.ImageConfig{}, errors.New("the Dockerfile has no FROM")
	}
	final := stages[len(stages)-1]
	if target != "" {
		i := slices.IndexFunc(stages, func(s *stage) bool { return s.name == strings.ToLower(target) })
		if i < 0 {
			return engine.ImageConfig{}, fmt.Errorf("failed to reach build target %s in Dockerfile", target)
		}
		final = stages[i]
	}
	return final.cfg, nil
}

// joinLines joins continued lines and drops comments and blank lines,
// returning one string per instruction.
func joinLines(lines []string, escape byte) []string {
	var out []string
	var cur strings.Builder
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "#") {
			continue // also inside a continued instruction, as the builder does
		}
		if t[len(t)-1] == escape {
			cur.WriteString(t[:len(t)-1])
			cur.WriteByte(' ')
			continue
		}
		cur.WriteString(t)
		out = append(out, strings.TrimSpace(cur.String()))
		cur.Reset()
	}
	if cur.Len() > 0 {
		out = append(out, strings.TrimSpace(cur.String()))
	}
	return out
}

// splitWords splits s at unquoted white space, keeping quotes and escapes
// for processWord.
func splitWords(s string, escape byte) []string {
	var out []string
	var w strings.Builder
	var quote byte
	inWord := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case quote == 0 && (ch == ' ' || ch == '\t'):
			if inWord {
				out = append(out, w.String())
				w.Reset()
				inWord = false
			}
			continue
		case ch == escape && quote != '\'' && i+1 < len(s):
			w.WriteByte(ch)
			i++
			ch = s[i]
		case quote == 0 && (ch == '"' || ch == '\''):
			quote = ch
		case ch == quote:
			quote = 0
		}
		w.WriteByte(ch)
		inWord = true
	}
	if inWord {
		out = append(out, w.String())
	}
	return out
}

// processWord removes a word's quotes and escapes and substitutes its
// variables ($V, ${V}, ${V:-default}, ${V:+alternative}); single quotes
// keep their content literal.
func processWord(w string, lookup func(string) (string, bool), escape byte) string {
	var out strings.Builder
	var quote byte
	for i := 0; i < len(w); i++ {
		ch := w[i]
		switch {
		case quote == '\'' && ch == '\'':
			quote = 0
		case quote == '\'':
			out.WriteByte(ch)
		case ch == escape && i+1 < len(w):
			i++
			out.WriteByte(w[i])
		case quote == 0 && (ch == '"' || ch == '\''):
			quote = ch
		case quote == '"' && ch == '"':
			quote = 0
		case ch == '$' && i+1 < len(w):
			n, val := expandVar(w[i+1:], lookup)
			if n == 0 {
				out.WriteByte(ch)
				continue
			}
			out.WriteString(val)
			i += n
		default:
			out.WriteByte(ch)
		}
	}
	return out.String()
}

// expandVar reads the variable reference at the start of s (after the $)
// and returns how many bytes it took and its value.
func expandVar(s string, lookup func(string) (string, bool)) (int, string) {
	isName := func(c byte, first bool) bool {
		return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || !first && c >= '0' && c <= '9'
	}
	if s[0] != '{' {
		n := 0
		for n < len(s) && isName(s[n], n == 0) {
			n++
		}
		if n == 0 {
			return 0, ""
		}
		v, _ := lookup(s[:n])
		return n, v
	}
	end := strings.IndexByte(s, '}')
	if end < 0 {
		return 0, ""
	}
	expr := s[1:end]
	name, word := expr, ""
	op := ""
	for _, o := range []string{":-", ":+", "-", "+"} {
		if i := strings.Index(expr, o); i > 0 {
			name, op, word = expr[:i], o, expr[i+len(o):]
			break
		}
	}
	v, set := lookup(name)
	switch op {
	case ":-":
		if v == "" {
			v = word
		}
	case "-":
		if !set {
			v = word
		}
	case ":+":
		if v != "" {
			v = word
		}
	case "+":
		if set {
			v = word
		}
	}
	return end + 1, v
}

// keyValues reads the "k=v k2=v2" form of ENV and LABEL, or the older
// "k value" form.
func keyValues(rest string, escape byte, expand func(string) string) [][2]string {
	words := splitWords(rest, escape)
	if len(words) == 0 {
		return nil
	}
	if !strings.Contains(words[0], "=") {
		key, value, _ := strings.Cut(rest, " ")
		return [][2]string{{expand(key), expand(strings.TrimSpace(value))}}
	}
	var out [][2]string
	for _, w := range words {
		k, v, _ := strings.Cut(expand(w), "=")
		out = append(out, [2]string{k, v})
	}
	return out
}

func setEnv(env []string, key, value string) []string {
	for i, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k == key {
			env[i] = key + "=" + value
			return env
		}
	}
	return append(env, key+"="+value)
}

// commandForm reads CMD's or ENTRYPOINT's argument: a JSON array (exec
// form) or a command line run by the shell.
func commandForm(rest string, shell []string) []string {
	var argv []string
	if strings.HasPrefix(rest, "[") && json.Unmarshal([]byte(rest), &argv) == nil {
		return argv
	}
	if rest == "" {
		return nil
	}
	return append(slices.Clone(shell), rest)
}

// parseHealthcheck reads HEALTHCHECK [--option=value ...] CMD ... | NONE.
func parseHealthcheck(rest string, escape byte) (*engine.Healthcheck, error) {
	hc := &engine.Healthcheck{}
	for strings.HasPrefix(rest, "--") {
		flag, after, _ := strings.Cut(rest, " ")
		rest = strings.TrimSpace(after)
		name, value, _ := strings.Cut(strings.TrimPrefix(flag, "--"), "=")
		value = processWord(value, func(string) (string, bool) { return "", false }, escape)
		var err error
		switch name {
		case "interval":
			hc.Interval, err = time.ParseDuration(value)
		case "timeout":
			hc.Timeout, err = time.ParseDuration(value)
		case "start-period":
			hc.StartPeriod, err = time.ParseDuration(value)
		case "start-interval":
			hc.StartInterval, err = time.ParseDuration(value)
		case "retries":
			hc.Retries, err = strconv.Atoi(value)
		default:
			err = errors.New("unknown flag")
		}
		if err != nil {
			return nil, fmt.Errorf("HEALTHCHECK --%s: %w", name, err)
		}
	}
	word, args, _ := strings.Cut(rest, " ")
	switch strings.ToUpper(word) {
	case "NONE":
		return &engine.Healthcheck{Test: []string{"NONE"}}, nil
	case "CMD":
		args = strings.TrimSpace(args)
		var argv []string
		if strings.HasPrefix(args, "[") && json.Unmarshal([]byte(args), &argv) == nil {
			hc.Test = append([]string{"CMD"}, argv...)
		} else {
			hc.Test = []string{"CMD-SHELL", args}
		}
		return hc, nil
	}
	return nil, fmt.Errorf("HEALTHCHECK: want CMD or NONE, got %q", word)
}
