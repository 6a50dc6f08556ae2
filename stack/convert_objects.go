package stack

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/swarm"
)

// objectKind is a config or a secret.
type objectKind string

const (
	kindConfig objectKind = "config"
	kindSecret objectKind = "secret"
)

const (
	// maxObjectName is the longest config or secret name Swarm takes.
	maxObjectName = 64
	// maxObjectSize is the most data a config or secret may hold.
	maxObjectSize = 500 * 1024
	// hashLen is how many hex digits of the content's sha256 end a
	// config's or secret's name.
	hashLen = 12
	// defaultFileMode is the mode of mounted configs and secrets, as
	// docker stack gives them: readable by a service's non-root user.
	defaultFileMode os.FileMode = 0o444
)

// errReported marks an error about a config or secret that an earlier
// service using it already reported.
var errReported = errors.New("reported already")

// fileRefs are the service's config and secret references, sorted by
// name and target. Each file is owned by uid and gid 0 unless the file
// says otherwise, as the engine needs them set.
func (c *converter) fileRefs(s types.ServiceConfig, e *fieldErrors) ([]*swarm.ConfigReference, []*swarm.SecretReference) {
	var configs []*swarm.ConfigReference
	for _, r := range s.Configs {
		name, ok := c.ref(kindConfig, r.Source, e)
		if !ok {
			continue
		}
		// A config without target is mounted at /<name>.
		target := cmp.Or(r.Target, "/"+r.Source)
		configs = append(configs, &swarm.ConfigReference{ConfigName: name, File: &swarm.ConfigReferenceFileTarget{
			Name: target, UID: cmp.Or(r.UID, "0"), GID: cmp.Or(r.GID, "0"), Mode: refFileMode(r.Mode),
		}})
	}
	sortConfigRefs(configs)
	var secrets []*swarm.SecretReference
	for _, r := range s.Secrets {
		name, ok := c.ref(kindSecret, r.Source, e)
		if !ok {
			continue
		}
		// A relative target is under /run/secrets.
		target := cmp.Or(r.Target, r.Source)
		secrets = append(secrets, &swarm.SecretReference{SecretName: name, File: &swarm.SecretReferenceFileTarget{
			Name: target, UID: cmp.Or(r.UID, "0"), GID: cmp.Or(r.GID, "0"), Mode: refFileMode(r.Mode),
		}})
	}
	slices.SortFunc(secrets, func(a, b *swarm.SecretReference) int {
		return cmp.Or(cmp.Compare(a.SecretName, b.SecretName), cmp.Compare(a.File.Name, b.File.Name))
	})
	return configs, secrets
}

// ref is the swarm name of a referenced config or secret; false when it
// has none (the error is in e, or was reported for another service).
func (c *converter) ref(kind objectKind, key string, e *fieldErrors) (string, bool) {
	name, err := c.object(kind, key)
	if err != nil {
		if !errors.Is(err, errReported) {
			e.add(string(kind)+"s", err)
		}
		return "", false
	}
	return name, true
}

func sortConfigRefs(refs []*swarm.ConfigReference) {
	target := func(r *swarm.ConfigReference) string {
		if r.File == nil {
			return ""
		}
		return r.File.Name
	}
	slices.SortFunc(refs, func(a, b *swarm.ConfigReference) int {
		return cmp.Or(cmp.Compare(a.ConfigName, b.ConfigName), cmp.Compare(target(a), target(b)))
	})
}

func refFileMode(m *types.FileMode) os.FileMode {
	if m == nil {
		return defaultFileMode
	}
	return os.FileMode(*m)
}

// object is the swarm name of the project's config or secret key,
// creating its Object once (an external one is only named). Its content
// is read here: the name holds its hash.
func (c *converter) object(kind objectKind, key string) (string, error) {
	def, ok := c.objectDef(kind, key)
	if !ok {
		return "", fmt.Errorf("%s %s is not declared in the top-level %ss", kind, key, kind)
	}
	if def.External {
		name := cmp.Or(def.Name, key)
		c.external[kind][name] = true
		return name, nil
	}
	if o, ok := c.objects[kind][key]; ok {
		return o.Name, nil
	}
	if _, ok := c.objectErrs[kind][key]; ok {
		return "", errReported
	}
	data, err := c.objectData(def)
	if err != nil {
		err = fmt.Errorf("%s %s: %w", kind, key, err)
		c.objectErrs[kind][key] = err
		return "", err
	}
	c.checkObject(kind, key, def)
	labels := map[string]string{}
	maps.Copy(labels, def.Labels)
	labels[LabelNamespace] = c.ns
	o := Object{Key: key, Name: objectName(cmp.Or(def.Name, c.ns+"_"+key), data), Labels: labels, Data: data}
	c.objects[kind][key] = o
	return o.Name, nil
}

func (c *converter) objectDef(kind objectKind, key string) (types.FileObjectConfig, bool) {
	if kind == kindSecret {
		d, ok := c.p.Secrets[key]
		return types.FileObjectConfig(d), ok
	}
	d, ok := c.p.Configs[key]
	return types.FileObjectConfig(d), ok
}

// checkObject warns about what the plan cannot carry of a config or
// secret: it holds the content only.
func (c *converter) checkObject(kind objectKind, key string, def types.FileObjectConfig) {
	var fields []string
	if def.Driver != "" {
		fields = append(fields, "driver")
	}
	if len(def.DriverOpts) > 0 {
		fields = append(fields, "driver_opts")
	}
	if def.TemplateDriver != "" {
		fields = append(fields, "template_driver")
	}
	if len(fields) > 0 {
		c.warn("%s %s: Swarm deploy ignores %s: the %s is created with the content read here", kind, key, strings.Join(fields, ", "), kind)
	}
}

// objectData reads a config's or secret's content: from the project's
// environment, its file or its inline content.
func (c *converter) objectData(def types.FileObjectConfig) ([]byte, error) {
	var data []byte
	switch {
	case def.Environment != "":
		v, ok := c.p.Environment[def.Environment]
		switch {
		case ok:
			data = []byte(v)
		case def.Content != "":
			// The loader copies the variable's value into content.
			data = []byte(def.Content)
		default:
			return nil, fmt.Errorf("environment variable %s is not set", def.Environment)
		}
	case def.File != "":
		path := def.File
		if !filepath.IsAbs(path) {
			path = filepath.Join(c.p.WorkingDir, path)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read its file: %w", err)
		}
		data = b
	case def.Content != "":
		data = []byte(def.Content)
	default:
		return nil, errors.New("it has no file, environment or content")
	}
	if len(data) > maxObjectSize {
		return nil, fmt.Errorf("its content is %d bytes; Swarm takes at most %d", len(data), maxObjectSize)
	}
	return data, nil
}

// objectName is <base>_<hash>: a new content gets a new object, and the
// services mounting it roll to it, as Swarm cannot change an object's
// content. base is shortened to keep the name within Swarm's limit.
func objectName(base string, data []byte) string {
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:])[:hashLen]
	if room := maxObjectName - 1 - hashLen; len(base) > room {
		base = strings.TrimRight(base[:room], "-_.")
	}
	return base + "_" + hash
}
