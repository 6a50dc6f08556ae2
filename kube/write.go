package kube

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

// groupVersions are the API versions of the kinds Convert makes.
var groupVersions = map[string]schema.GroupVersion{
	"ConfigMap":             {Version: "v1"},
	"Secret":                {Version: "v1"},
	"PersistentVolumeClaim": {Version: "v1"},
	"Service":               {Version: "v1"},
	"Deployment":            {Group: "apps", Version: "v1"},
	"StatefulSet":           {Group: "apps", Version: "v1"},
	"Job":                   {Group: "batch", Version: "v1"},
	"ServiceAccount":        {Version: "v1"},
	"Role":                  {Group: "rbac.authorization.k8s.io", Version: "v1"},
	"RoleBinding":           {Group: "rbac.authorization.k8s.io", Version: "v1"},
}

func gvk(kind string) schema.GroupVersionKind {
	return groupVersions[kind].WithKind(kind)
}

// WriteStream writes the objects as one multi-document YAML stream, the
// documents separated by "---" lines, ready for `kubectl apply -f -`.
func WriteStream(w io.Writer, objs []Object) error {
	var buf bytes.Buffer
	for i, o := range objs {
		b, err := manifest(o)
		if err != nil {
			return err
		}
		if i > 0 {
			buf.WriteString("---\n")
		}
		buf.Write(b)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("writing manifests: %w", err)
	}
	return nil
}

// WriteDir writes one file per object, <kind lowercased>-<name>.yaml, into
// dir, creating it if needed.
func WriteDir(dir string, objs []Object) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating manifest directory: %w", err)
	}
	for _, o := range objs {
		b, err := manifest(o)
		if err != nil {
			return err
		}
		file := filepath.Join(dir, strings.ToLower(o.Kind)+"-"+o.Name+".yaml")
		if err := os.WriteFile(file, b, 0o644); err != nil {
			return fmt.Errorf("writing manifest: %w", err)
		}
	}
	return nil
}

// manifest serialises one object with apiVersion and kind set. It goes
// through a generic map, which sigs.k8s.io/yaml writes with sorted keys,
// so the output is deterministic, and drops the fields the API types
// always serialise although nothing was set (creationTimestamp: null,
// status, strategy: {}, updateStrategy: {}, resources: {}); they mean
// nothing to apply.
func manifest(o Object) ([]byte, error) {
	j, err := json.Marshal(o.Value)
	if err != nil {
		return nil, fmt.Errorf("encoding %s %s: %w", o.Kind, o.Name, err)
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("encoding %s %s: %w", o.Kind, o.Name, err)
	}
	gv := groupVersions[o.Kind]
	m["apiVersion"] = gv.String()
	m["kind"] = o.Kind
	// Status is what the cluster reports, never part of a manifest.
	delete(m, "status")
	clean(m)
	b, err := yaml.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encoding %s %s: %w", o.Kind, o.Name, err)
	}
	return b, nil
}

// noise are the keys dropped when their value is empty.
var noise = map[string]bool{"strategy": true, "updateStrategy": true, "resources": true}

func clean(v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if k == "creationTimestamp" && x == nil {
				delete(v, k)
				continue
			}
			if m, ok := x.(map[string]any); ok && noise[k] && len(m) == 0 {
				delete(v, k)
				continue
			}
			clean(x)
		}
	case []any:
		for _, x := range v {
			clean(x)
		}
	}
}
