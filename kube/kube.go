// Package kube converts a loaded compose project into Kubernetes objects,
// keeping the compose file's meaning where Kubernetes can express it and
// naming, in a warning, every field it drops or approximates.
//
// Convert decides everything and writes nothing; WriteStream and WriteDir
// only serialise what it decided. This is the only package that imports
// k8s.io/*.
package kube

import (
	"errors"
	"fmt"
	"sort"

	"github.com/compose-spec/compose-go/v2/types"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
)

// Options tune the export.
type Options struct {
	// PublishedServiceType is the Service type for published ports:
	// "NodePort" (default) or "LoadBalancer".
	PublishedServiceType string
	// WaitImage is the image of the init containers that wait for
	// dependencies (default "busybox:1.36"); its sh, nc and nslookup are used.
	WaitImage string
	// KubectlImage is the image of the init containers that wait for a
	// Job to complete (default "bitnami/kubectl:latest"); its kubectl is
	// used, with a service account allowed to read the project's Jobs.
	KubectlImage string
	// HostPath turns bind mounts into hostPath volumes; otherwise they are
	// dropped with a warning.
	HostPath bool
	// StorageClass and VolumeSize (default "1Gi") apply to
	// PersistentVolumeClaims unless the volume's x-kubernetes extension
	// (keys storageClass, size) says otherwise. An empty StorageClass
	// leaves the cluster's default class in charge.
	StorageClass, VolumeSize string
}

// Result is what Convert makes.
type Result struct {
	// Objects are in a stable order: ConfigMaps, Secrets,
	// PersistentVolumeClaims, Services, then workloads; by name in each group.
	Objects []Object
	// Warnings say, one per dropped or approximated field per service,
	// what did not survive the conversion, naming the service and field.
	Warnings []string
}

// Object is one manifest.
type Object struct {
	// Kind is the object's kind, e.g. "Deployment".
	Kind string
	// Name is the object's metadata.name.
	Name string
	// Value is a pointer to the k8s.io/api value, e.g. *appsv1.Deployment,
	// with apiVersion and kind set.
	Value runtime.Object
}

const (
	// DefaultWaitImage is a small image with sh, nc and nslookup.
	DefaultWaitImage = "busybox:1.36"
	// DefaultKubectlImage is a widely used image holding kubectl.
	DefaultKubectlImage = "bitnami/kubectl:latest"
	// DefaultVolumeSize is the size of a PersistentVolumeClaim when neither
	// the options nor the volume say: compose volumes have no size.
	DefaultVolumeSize = "1Gi"
)

// kindOrder is the group order of Result.Objects: what pods consume comes
// before the pods, so `kubectl apply -f` of the stream never starts a pod
// whose ConfigMap, Secret or claim does not exist yet.
var kindOrder = map[string]int{
	"ConfigMap":             0,
	"Secret":                1,
	"PersistentVolumeClaim": 2,
	"ServiceAccount":        3,
	"Role":                  4,
	"RoleBinding":           5,
	"Service":               6,
	"Deployment":            7,
	"StatefulSet":           7,
	"Job":                   7,
}

func (o Options) withDefaults() (Options, error) {
	var errs []error
	switch o.PublishedServiceType {
	case "":
		o.PublishedServiceType = "NodePort"
	case "NodePort", "LoadBalancer":
	default:
		errs = append(errs, fmt.Errorf("invalid published service type %q: must be NodePort or LoadBalancer", o.PublishedServiceType))
	}
	if o.WaitImage == "" {
		o.WaitImage = DefaultWaitImage
	}
	if o.KubectlImage == "" {
		o.KubectlImage = DefaultKubectlImage
	}
	if o.VolumeSize == "" {
		o.VolumeSize = DefaultVolumeSize
	}
	if _, err := resource.ParseQuantity(o.VolumeSize); err != nil {
		errs = append(errs, fmt.Errorf("invalid volume size %q: %w", o.VolumeSize, err))
	}
	return o, errors.Join(errs...)
}

// Convert turns the project's services (compose-go has already applied the
// profiles, so p.Services is what `up` would start) into Kubernetes
// objects. It fails only for invalid options; anything in the project that
// Kubernetes cannot express becomes a warning. Secret and config files and
// bind mount sources are read (or looked at) while converting: their
// content is part of the manifests.
func Convert(p *types.Project, opts Options) (Result, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return Result{}, fmt.Errorf("exporting to kubernetes: %w", err)
	}
	c := newConverter(p, opts)
	c.run()
	sort.SliceStable(c.objects, func(i, j int) bool {
		a, b := c.objects[i], c.objects[j]
		if kindOrder[a.Kind] != kindOrder[b.Kind] {
			return kindOrder[a.Kind] < kindOrder[b.Kind]
		}
		return a.Name < b.Name
	})
	return Result{Objects: c.objects, Warnings: c.warnings}, nil
}
