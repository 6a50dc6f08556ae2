package kube

import (
	"fmt"
	"maps"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/composer-orchestrator/composer/orchestrator"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/api/validate/content"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
)

const (
	labelName   = "app.kubernetes.io/name"
	labelPartOf = "app.kubernetes.io/part-of"
)

// converter holds one Convert call's state; it is never shared.
type converter struct {
	p    *types.Project
	opts Options
	// names maps compose service names to their Kubernetes names.
	names map[string]string
	// jobs are the services another service waits for with
	// service_completed_successfully.
	jobs map[string]bool
	// ports are each service's cluster-internal ports (ports and expose).
	ports map[string][]corev1.ServicePort
	// emitted records the ConfigMaps, Secrets and claims already made, as
	// several services may use one.
	emitted  map[string]bool
	objects  []Object
	warnings []string
}

func newConverter(p *types.Project, opts Options) *converter {
	return &converter{
		p: p, opts: opts,
		names:   map[string]string{},
		jobs:    map[string]bool{},
		ports:   map[string][]corev1.ServicePort{},
		emitted: map[string]bool{},
	}
}

// warner collects one service's warnings as "service <name>: <field>: <what>".
type warner struct {
	c       *converter
	service string
}

func (w warner) add(field, format string, args ...any) {
	w.c.warnings = append(w.c.warnings, fmt.Sprintf("service %s: %s: %s", w.service, field, fmt.Sprintf(format, args...)))
}

func (c *converter) run() {
	services := slices.Sorted(maps.Keys(c.p.Services))
	taken := map[string]string{}
	for _, name := range services {
		dns := DNSName(name)
		if other, ok := taken[dns]; ok {
			// Two compose names (my_db, my-db) can map to one DNS name; the
			// later one in name order gets a hash so both keep a Service.
			dns = DNSName(strings.TrimRight(dns[:min(len(dns), maxNameLen-9)], "-") + "-" + shortHash(name))
			c.warnings = append(c.warnings, fmt.Sprintf("service %s: name: %s is already taken by service %s", name, DNSName(name), other))
		}
		taken[dns] = name
		c.names[name] = dns
		s := c.p.Services[name]
		for dep, d := range s.DependsOn {
			if d.Condition == types.ServiceConditionCompletedSuccessfully {
				c.jobs[dep] = true
			}
		}
	}
	for _, name := range services {
		c.ports[name] = c.servicePorts(c.p.Services[name])
	}
	for _, name := range services {
		c.service(c.p.Services[name])
	}
}

// emit appends an object once; it sets apiVersion and kind so the value is
// complete on its own.
func (c *converter) emit(obj Object) {
	key := obj.Kind + "/" + obj.Name
	if c.emitted[key] {
		return
	}
	c.emitted[key] = true
	obj.Value.GetObjectKind().SetGroupVersionKind(gvk(obj.Kind))
	c.objects = append(c.objects, obj)
}

func meta(name string, labels map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Labels: labels}
}

// service converts one compose service into its Service(s) and workload.
func (c *converter) service(s types.ServiceConfig) {
	w := warner{c: c, service: s.Name}
	name := c.names[s.Name]
	if name != s.Name {
		// DNS is case-insensitive, so a name that only differed in case
		// still resolves as written; any other change needs the new name.
		c.warnings = append(c.warnings, fmt.Sprintf("service %s is named %s in Kubernetes; other pods reach it as %s", s.Name, name, name))
	}
	c.unmapped(s, w)

	selector := map[string]string{labelName: name, labelPartOf: DNSName(c.p.Name)}
	podLabels := maps.Clone(selector)
	podAnnotations := map[string]string{}
	for k, v := range s.Annotations {
		podAnnotations[k] = v
	}
	// Kubernetes labels are restricted (63 characters, no spaces, ...);
	// compose labels are not, so those that do not fit keep their value as
	// annotations, which accept anything.
	for k, v := range s.Labels {
		if _, isSelector := selector[k]; isSelector {
			continue
		}
		if len(content.IsLabelKey(k)) == 0 && len(content.IsLabelValue(v)) == 0 {
			podLabels[k] = v
		} else {
			podAnnotations[k] = v
		}
	}
	workloadLabels := maps.Clone(selector)
	if s.Deploy != nil {
		for k, v := range s.Deploy.Labels {
			if _, isSelector := selector[k]; isSelector {
				continue
			}
			if len(content.IsLabelKey(k)) == 0 && len(content.IsLabelValue(v)) == 0 {
				workloadLabels[k] = v
			} else {
				w.add("deploy.labels", "%s is not a valid Kubernetes label; dropped", k)
			}
		}
	}
	if len(podAnnotations) == 0 {
		podAnnotations = nil
	}

	job := c.jobs[s.Name]
	pod := c.podSpec(s, name, job, w)
	template := corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: podLabels, Annotations: podAnnotations},
		Spec:       pod,
	}
	if !job {
		c.services(s, name, selector, w)
	}
	replicas := int32(s.GetScale())
	switch {
	case job:
		// A one-shot others wait for to complete: a Job runs it to
		// completion once instead of restarting it for ever.
		var backoff *int32
		if template.Spec.RestartPolicy == corev1.RestartPolicyNever {
			// restart "no": compose runs it once, so does the Job.
			backoff = ptr(int32(0))
		} else if n, ok := strings.CutPrefix(s.Restart, types.RestartPolicyOnFailure+":"); ok {
			if v, err := strconv.Atoi(n); err == nil {
				backoff = ptr(int32(v))
			}
		}
		if replicas != 1 {
			w.add("scale", "a Job runs one pod; %d replicas not exported", replicas)
		}
		c.emit(Object{Kind: "Job", Name: name, Value: &batchv1.Job{
			ObjectMeta: meta(name, workloadLabels),
			Spec:       batchv1.JobSpec{BackoffLimit: backoff, Template: template},
		}})
	case replicas == 1 && mountsNamedVolume(s):
		// A single replica on a named volume: a StatefulSet never runs two
		// pods of it at once (a Deployment's rolling update starts the new
		// pod first, which then waits on a ReadWriteOnce claim held by the
		// old one, possibly on another node), and gives the pod a stable
		// identity, as the one container compose keeps on its volume.
		// The claims are shared objects, not volumeClaimTemplates, because
		// compose volumes belong to the project and services may share one.
		c.emit(Object{Kind: "StatefulSet", Name: name, Value: &appsv1.StatefulSet{
			ObjectMeta: meta(name, workloadLabels),
			Spec: appsv1.StatefulSetSpec{
				Replicas:    &replicas,
				Selector:    &metav1.LabelSelector{MatchLabels: selector},
				ServiceName: name,
				Template:    template,
			},
		}})
	default:
		c.emit(Object{Kind: "Deployment", Name: name, Value: &appsv1.Deployment{
			ObjectMeta: meta(name, workloadLabels),
			Spec: appsv1.DeploymentSpec{
				Replicas: &replicas,
				Selector: &metav1.LabelSelector{MatchLabels: selector},
				Template: template,
			},
		}})
	}
}

func mountsNamedVolume(s types.ServiceConfig) bool {
	for _, v := range s.Volumes {
		if v.Type == types.VolumeTypeVolume && v.Source != "" {
			return true
		}
	}
	return false
}

// unmapped warns, in one line, about the common fields Kubernetes has no
// place for in a portable manifest. cap_add, cap_drop and privileged have
// securityContext fields, but clusters enforcing the Pod Security
// Standards refuse them, so they are left for the user to decide.
func (c *converter) unmapped(s types.ServiceConfig, w warner) {
	var fields []string
	check := func(set bool, field string) {
		if set {
			fields = append(fields, field)
		}
	}
	check(len(s.CapAdd) > 0, "cap_add")
	check(len(s.CapDrop) > 0, "cap_drop")
	check(s.CgroupParent != "", "cgroup_parent")
	check(s.ContainerName != "", "container_name")
	check(len(s.Devices) > 0, "devices")
	check(len(s.DNS) > 0, "dns")
	check(len(s.DNSSearch) > 0, "dns_search")
	check(len(s.ExternalLinks) > 0, "external_links")
	check(len(s.ExtraHosts) > 0, "extra_hosts")
	check(len(s.Gpus) > 0, "gpus")
	check(len(s.GroupAdd) > 0, "group_add")
	check(s.Hostname != "", "hostname")
	check(s.Ipc != "", "ipc")
	check(len(s.Links) > 0, "links")
	check(s.Logging != nil, "logging")
	check(s.NetworkMode != "", "network_mode")
	check(networksConfigured(s), "networks")
	check(s.Pid != "", "pid")
	check(s.Platform != "", "platform")
	check(s.Privileged, "privileged")
	check(s.Runtime != "", "runtime")
	check(len(s.SecurityOpt) > 0, "security_opt")
	check(s.ShmSize > 0, "shm_size")
	check(s.StopSignal != "", "stop_signal")
	check(len(s.Sysctls) > 0, "sysctls")
	check(len(s.Ulimits) > 0, "ulimits")
	check(len(s.VolumesFrom) > 0, "volumes_from")
	if len(fields) > 0 {
		c.warnings = append(c.warnings, fmt.Sprintf("service %s: %s not exported", s.Name, strings.Join(fields, ", ")))
	}
}

// networksConfigured reports whether the service sets more than network
// membership: every pod shares one flat cluster network, so membership
// alone has no meaning to keep, but aliases and fixed addresses do.
func networksConfigured(s types.ServiceConfig) bool {
	for _, n := range s.Networks {
		if n != nil && (len(n.Aliases) > 0 || n.Ipv4Address != "" || n.Ipv6Address != "" || n.MacAddress != "") {
			return true
		}
	}
	return false
}

// servicePorts are the ports other pods reach the service on: the
// container side of `ports` and every `expose` entry, once each.
func (c *converter) servicePorts(s types.ServiceConfig) []corev1.ServicePort {
	var out []corev1.ServicePort
	seen := map[string]bool{}
	add := func(port int, proto string) {
		p := corev1.Protocol(strings.ToUpper(proto))
		if p == "" {
			p = corev1.ProtocolTCP
		}
		key := fmt.Sprintf("%d/%s", port, p)
		if port <= 0 || port > 65535 || seen[key] {
			return
		}
		seen[key] = true
		out = append(out, corev1.ServicePort{
			Name:       fmt.Sprintf("%s-%d", strings.ToLower(string(p)), port),
			Protocol:   p,
			Port:       int32(port),
			TargetPort: intstr.FromInt32(int32(port)),
		})
	}
	for _, p := range s.Ports {
		add(int(p.Target), p.Protocol)
	}
	for _, e := range s.Expose {
		ports, proto, _ := strings.Cut(e, "/")
		lo, hi, isRange := strings.Cut(ports, "-")
		first, err1 := strconv.Atoi(lo)
		last, err2 := first, error(nil)
		if isRange {
			last, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil || last < first {
			warner{c, s.Name}.add("expose", "%q is not a port or range; dropped", e)
			continue
		}
		for port := first; port <= last; port++ {
			add(port, proto)
		}
	}
	return out
}

// services makes the Service every non-Job service gets, so its name
// resolves in the cluster as it does on the compose network, and, for
// published ports, a second Service reachable from outside.
func (c *converter) services(s types.ServiceConfig, name string, selector map[string]string, w warner) {
	svc := &corev1.Service{
		ObjectMeta: meta(name, maps.Clone(selector)),
		Spec:       corev1.ServiceSpec{Selector: selector, Ports: c.ports[s.Name]},
	}
	if len(svc.Spec.Ports) == 0 {
		// No declared port: a headless Service still gives the name a DNS
		// record (the ready pods' addresses) without needing a port.
		svc.Spec.ClusterIP = corev1.ClusterIPNone
	}
	c.emit(Object{Kind: "Service", Name: name, Value: svc})

	var ports []corev1.ServicePort
	var notKept []string
	seen := map[string]bool{}
	for _, p := range s.Ports {
		if p.Published == "" || p.Target == 0 {
			continue
		}
		proto := corev1.Protocol(strings.ToUpper(p.Protocol))
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		sp := corev1.ServicePort{
			Protocol:   proto,
			Port:       int32(p.Target),
			TargetPort: intstr.FromInt32(int32(p.Target)),
		}
		// The host port becomes the Service's port, so a LoadBalancer
		// listens where the compose host did.
		if pub, err := strconv.Atoi(p.Published); err == nil && pub > 0 && pub <= 65535 {
			sp.Port = int32(pub)
			if c.opts.PublishedServiceType == "NodePort" {
				// Node ports come from 30000-32767 unless the cluster says
				// otherwise; a host port in that range is kept.
				if pub >= 30000 && pub <= 32767 {
					sp.NodePort = int32(pub)
				} else {
					notKept = append(notKept, p.Published)
				}
			}
		} else {
			notKept = append(notKept, p.Published)
		}
		key := fmt.Sprintf("%d/%s", sp.Port, sp.Protocol)
		if seen[key] {
			continue
		}
		seen[key] = true
		sp.Name = fmt.Sprintf("%s-%d", strings.ToLower(string(proto)), sp.Port)
		if p.HostIP != "" {
			w.add("ports", "host_ip %s not exported", p.HostIP)
		}
		ports = append(ports, sp)
	}
	if len(notKept) > 0 {
		w.add("ports", "host port %s not kept: the %s Service gets a node port the cluster picks from 30000-32767", strings.Join(notKept, ", "), c.opts.PublishedServiceType)
	}
	if len(ports) == 0 {
		return
	}
	pubName := DNSName(name + "-published")
	c.emit(Object{Kind: "Service", Name: pubName, Value: &corev1.Service{
		ObjectMeta: meta(pubName, maps.Clone(selector)),
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceType(c.opts.PublishedServiceType),
			Selector: selector,
			Ports:    ports,
		},
	}})
}

// podSpec builds the pod: the service's container, its waits and volumes.
func (c *converter) podSpec(s types.ServiceConfig, name string, job bool, w warner) corev1.PodSpec {
	fromFiles, envFrom := c.envFiles(s, name, w)
	ctr := corev1.Container{
		EnvFrom:         envFrom,
		Name:            name,
		Image:           orchestrator.ImageName(c.p, s),
		ImagePullPolicy: pullPolicy(s.PullPolicy),
		Command:         s.Entrypoint,
		Args:            s.Command,
		WorkingDir:      s.WorkingDir,
		Env:             env(s, fromFiles, w),
		Resources:       resources(s),
		TTY:             s.Tty,
		Stdin:           s.StdinOpen,
	}
	if s.Image == "" {
		w.add("build", "image %s is what composer builds; build it and push it to a registry the cluster can pull from", ctr.Image)
	}
	for _, p := range c.ports[s.Name] {
		ctr.Ports = append(ctr.Ports, corev1.ContainerPort{Name: p.Name, ContainerPort: p.Port, Protocol: p.Protocol})
	}
	ctr.ReadinessProbe, ctr.LivenessProbe = probes(s.HealthCheck, w)
	ctr.SecurityContext = securityContext(s, w)

	spec := corev1.PodSpec{
		InitContainers: c.waits(s, w),
		Containers:     []corev1.Container{ctr},
	}
	if c.waitsForJob(s) {
		spec.ServiceAccountName = c.jobWaiter()
	}
	c.volumes(s, &spec, w)
	c.secrets(s, &spec, w)
	c.configs(s, &spec, w)

	if s.StopGracePeriod != nil {
		spec.TerminationGracePeriodSeconds = ptr(int64(seconds(*s.StopGracePeriod)))
	}
	if job {
		// compose's default restart is "no": run once.
		spec.RestartPolicy = corev1.RestartPolicyOnFailure
		if s.Restart == "" || s.Restart == types.RestartPolicyNo {
			spec.RestartPolicy = corev1.RestartPolicyNever
		}
	} else {
		// Deployments and StatefulSets only allow Always: a pod that
		// exits is restarted. compose's no and on-failure cannot be kept.
		spec.RestartPolicy = corev1.RestartPolicyAlways
		if s.Restart == types.RestartPolicyNo || strings.HasPrefix(s.Restart, types.RestartPolicyOnFailure) {
			w.add("restart", "%s approximated: Kubernetes restarts the container always", s.Restart)
		}
	}
	return spec
}

func pullPolicy(p string) corev1.PullPolicy {
	switch p {
	case types.PullPolicyAlways:
		return corev1.PullAlways
	case types.PullPolicyNever:
		return corev1.PullNever
	default:
		// missing, if_not_present, build and the refresh intervals: pull
		// only when the node does not have the image.
		return corev1.PullIfNotPresent
	}
}

// env is the service's environment, sorted by name, without what its
// env files give (fromFiles, exported as a ConfigMap the container reads
// with envFrom). compose-go has folded the env files into environment and
// interpolated it, so these values are the ones `up` would use; a variable
// that environment sets to another value than the file stays here, and
// env wins over envFrom in Kubernetes as environment wins over env_file in
// compose.
func env(s types.ServiceConfig, fromFiles map[string]string, w warner) []corev1.EnvVar {
	var out []corev1.EnvVar
	var unset []string
	for _, k := range slices.Sorted(maps.Keys(s.Environment)) {
		v := s.Environment[k]
		if v == nil {
			unset = append(unset, k)
			continue
		}
		if fv, ok := fromFiles[k]; ok && fv == *v {
			continue
		}
		out = append(out, corev1.EnvVar{Name: k, Value: *v})
	}
	if len(unset) > 0 {
		w.add("environment", "%s has no value; not exported", strings.Join(unset, ", "))
	}
	return out
}

func resources(s types.ServiceConfig) corev1.ResourceRequirements {
	var r corev1.ResourceRequirements
	set := func(list *corev1.ResourceList, cpus float32, mem int64) {
		if cpus > 0 {
			if *list == nil {
				*list = corev1.ResourceList{}
			}
			(*list)[corev1.ResourceCPU] = *resource.NewMilliQuantity(int64(math.Round(float64(cpus)*1000)), resource.DecimalSI)
		}
		if mem > 0 {
			if *list == nil {
				*list = corev1.ResourceList{}
			}
			(*list)[corev1.ResourceMemory] = *resource.NewQuantity(mem, resource.BinarySI)
		}
	}
	// The service-level cpus/mem_limit/mem_reservation come first so that
	// deploy.resources, the newer form, wins where both are set.
	set(&r.Limits, s.CPUS, int64(s.MemLimit))
	set(&r.Requests, 0, int64(s.MemReservation))
	if s.Deploy != nil {
		if l := s.Deploy.Resources.Limits; l != nil {
			set(&r.Limits, l.NanoCPUs.Value(), int64(l.MemoryBytes))
		}
		if l := s.Deploy.Resources.Reservations; l != nil {
			set(&r.Requests, l.NanoCPUs.Value(), int64(l.MemoryBytes))
		}
	}
	return r
}

// seconds rounds a duration up to whole seconds, as probe and grace
// period fields count in seconds and rounding down could make 500ms zero.
func seconds(d types.Duration) int32 {
	return int32((time.Duration(d) + time.Second - 1) / time.Second)
}

// probes turn a healthcheck into a readiness probe, which is what gives
// service_healthy its meaning (a Service only routes to, and a headless
// Service only resolves to, ready pods), and a liveness probe.
func probes(h *types.HealthCheckConfig, w warner) (readiness, liveness *corev1.Probe) {
	if h == nil || h.Disable || len(h.Test) == 0 {
		return nil, nil
	}
	var cmd []string
	switch h.Test[0] {
	case "NONE":
		return nil, nil
	case "CMD":
		cmd = h.Test[1:]
	case "CMD-SHELL":
		cmd = []string{"/bin/sh", "-c", strings.Join(h.Test[1:], " ")}
	default:
		w.add("healthcheck", "test %q not exported", h.Test[0])
		return nil, nil
	}
	// compose defaults: interval 30s, timeout 30s, retries 3.
	period, timeout, retries := int32(30), int32(30), int32(3)
	if h.Interval != nil {
		period = max(1, seconds(*h.Interval))
	}
	if h.Timeout != nil {
		timeout = max(1, seconds(*h.Timeout))
	}
	if h.Retries != nil {
		retries = max(1, int32(*h.Retries))
	}
	var start int32
	if h.StartPeriod != nil {
		start = seconds(*h.StartPeriod)
	}
	if h.StartInterval != nil {
		w.add("healthcheck.start_interval", "not exported; probes run every interval")
	}
	handler := corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: cmd}}
	readiness = &corev1.Probe{
		ProbeHandler:     handler,
		PeriodSeconds:    period,
		TimeoutSeconds:   timeout,
		FailureThreshold: retries,
		// start_period maps to the initial delay: compose does not count
		// failures in it, and the first probe then runs after it.
		InitialDelaySeconds: start,
	}
	liveness = &corev1.Probe{
		ProbeHandler:        *handler.DeepCopy(),
		PeriodSeconds:       period,
		TimeoutSeconds:      timeout,
		InitialDelaySeconds: start,
		// compose only marks an unhealthy container; a liveness failure
		// restarts it, which is harsher, so it takes three times the
		// retries before Kubernetes gives up on the container.
		FailureThreshold: retries * 3,
	}
	return readiness, liveness
}

func securityContext(s types.ServiceConfig, w warner) *corev1.SecurityContext {
	var sc corev1.SecurityContext
	set := false
	if s.User != "" {
		u, g, hasGroup := strings.Cut(s.User, ":")
		uid, errU := strconv.ParseInt(u, 10, 64)
		gid, errG := strconv.ParseInt(g, 10, 64)
		if errU != nil || (hasGroup && errG != nil) {
			// Kubernetes takes numeric ids only; names would need the
			// image's /etc/passwd.
			w.add("user", "%q is not numeric uid[:gid]; not exported", s.User)
		} else {
			sc.RunAsUser, set = &uid, true
			if hasGroup {
				sc.RunAsGroup = &gid
			}
		}
	}
	if s.ReadOnly {
		sc.ReadOnlyRootFilesystem, set = ptr(true), true
	}
	if !set {
		return nil
	}
	return &sc
}

// waits make one init container per dependency the pod must wait for
// (a service waiting for a Job's completion waits with kubectl).
// An init container that waits for the dependency's Service keeps the
// start order of depends_on: a Service lists only ready pods, and a pod
// is ready once its readiness probe (the healthcheck) passes, so waiting
// for the Service is waiting for service_healthy; for a dependency without
// a healthcheck, ready means started, which is service_started.
func (c *converter) waits(s types.ServiceConfig, w warner) []corev1.Container {
	var out []corev1.Container
	for _, dep := range slices.Sorted(maps.Keys(s.DependsOn)) {
		if _, ok := c.p.Services[dep]; !ok {
			w.add("depends_on."+dep, "not a service of the project; not waited for")
			continue
		}
		depName := c.names[dep]
		if c.jobs[dep] {
			// A Job's completion is visible only through the API: kubectl
			// waits for it, under a service account allowed to read the
			// project's Jobs (jobWaiter).
			out = append(out, corev1.Container{
				Name:            DNSName("wait-for-" + depName),
				Image:           c.opts.KubectlImage,
				ImagePullPolicy: corev1.PullIfNotPresent,
				Command:         []string{"kubectl", "wait", "--for=condition=complete", "--timeout=-1s", "job/" + depName},
			})
			continue
		}
		out = append(out, corev1.Container{
			Name:            DNSName("wait-for-" + depName),
			Image:           c.opts.WaitImage,
			ImagePullPolicy: corev1.PullIfNotPresent,
			Command:         []string{"sh", "-c", waitScript(depName, c.ports[dep])},
		})
	}
	return out
}

// envFiles exports the service's env files (kept by project.Load with
// KeepEnvFiles) as one ConfigMap, <service>-env, read with envFrom, and
// returns the variables it holds. Variables are read as compose reads
// them, later files winning, ${...} resolved against the project's
// environment; a missing optional file is skipped.
func (c *converter) envFiles(s types.ServiceConfig, name string, w warner) (map[string]string, []corev1.EnvFromSource) {
	if len(s.EnvFiles) == 0 {
		return nil, nil
	}
	vars := map[string]string{}
	for _, f := range s.EnvFiles {
		if _, err := os.Stat(f.Path); err != nil && !bool(f.Required) {
			continue
		}
		got, err := dotenv.ReadFile(f.Path, func(k string) (string, bool) {
			if v, ok := vars[k]; ok {
				return v, true
			}
			v, ok := c.p.Environment[k]
			return v, ok
		})
		if err != nil {
			w.add("env_file", "%s: %v; its variables are in env instead", f.Path, err)
			return nil, nil
		}
		maps.Copy(vars, got)
	}
	cm := DNSName(name + "-env")
	c.emit(Object{Kind: "ConfigMap", Name: cm, Value: &corev1.ConfigMap{
		ObjectMeta: meta(cm, c.partOf()),
		Data:       vars,
	}})
	return vars, []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: cm}}}}
}

// waitsForJob reports whether the service depends on a Job.
func (c *converter) waitsForJob(s types.ServiceConfig) bool {
	for dep := range s.DependsOn {
		if _, ok := c.p.Services[dep]; ok && c.jobs[dep] {
			return true
		}
	}
	return false
}

// jobWaiter makes, once, the service account that pods waiting for a Job
// run under, with a Role that lets it read the namespace's Jobs and
// nothing else, and returns its name.
func (c *converter) jobWaiter() string {
	name := DNSName(c.p.Name + "-job-waiter")
	labels := c.partOf()
	c.emit(Object{Kind: "ServiceAccount", Name: name, Value: &corev1.ServiceAccount{ObjectMeta: meta(name, labels)}})
	c.emit(Object{Kind: "Role", Name: name, Value: &rbacv1.Role{
		ObjectMeta: meta(name, labels),
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{"batch"}, Resources: []string{"jobs"}, Verbs: []string{"get", "list", "watch"}}},
	}})
	c.emit(Object{Kind: "RoleBinding", Name: name, Value: &rbacv1.RoleBinding{
		ObjectMeta: meta(name, labels),
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: name}},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: name},
	}})
	return name
}

// waitScript waits until the dependency accepts a TCP connection on its
// first TCP port, or, without one, until its headless Service resolves.
// busybox's nslookup ignores resolv.conf's search list, so the script
// qualifies the name with the pod's own first search domain
// (<namespace>.svc.<cluster domain>); -type=a because a missing AAAA
// record would otherwise count as a failure.
func waitScript(svc string, ports []corev1.ServicePort) string {
	for _, p := range ports {
		if p.Protocol == corev1.ProtocolTCP {
			return fmt.Sprintf("until nc -z -w 2 %s %d; do echo waiting for %s:%d; sleep 1; done", svc, p.Port, svc, p.Port)
		}
	}
	return fmt.Sprintf(`d=$(sed -n 's/^search \([^ ]*\).*/\1/p' /etc/resolv.conf | head -n 1); until nslookup -type=a "%s${d:+.$d}" >/dev/null 2>&1; do echo waiting for %s; sleep 1; done`, svc, svc)
}

// volumes mounts the service's volumes and tmpfs.
func (c *converter) volumes(s types.ServiceConfig, spec *corev1.PodSpec, w warner) {
	ctr := &spec.Containers[0]
	var binds, anonymous []string
	for i, v := range s.Volumes {
		mount := corev1.VolumeMount{MountPath: v.Target, ReadOnly: v.ReadOnly}
		var vol corev1.Volume
		switch {
		case v.Type == types.VolumeTypeVolume && v.Source != "":
			claim := c.claim(v.Source, w)
			vol = corev1.Volume{Name: DNSName("data-" + v.Source), VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim},
			}}
		case v.Type == types.VolumeTypeVolume:
			// Anonymous volumes live as long as the container in compose;
			// an emptyDir lives as long as the pod, the nearest thing.
			anonymous = append(anonymous, v.Target)
			vol = corev1.Volume{Name: fmt.Sprintf("anon-%d", i), VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}
		case v.Type == types.VolumeTypeTmpfs:
			vol = tmpfs(fmt.Sprintf("tmpfs-%d", i), v.Tmpfs)
		case v.Type == types.VolumeTypeBind && c.opts.HostPath:
			// A file must be mounted as a file: DirectoryOrCreate would
			// refuse an existing file and create a directory for a missing one.
			t := corev1.HostPathDirectoryOrCreate
			if fi, err := os.Stat(v.Source); err == nil && !fi.IsDir() {
				t = corev1.HostPathFile
			}
			vol = corev1.Volume{Name: fmt.Sprintf("bind-%d", i), VolumeSource: corev1.VolumeSource{
				HostPath: &corev1.HostPathVolumeSource{Path: v.Source, Type: &t},
			}}
		case v.Type == types.VolumeTypeBind:
			// The host's files are not on the cluster's nodes.
			binds = append(binds, v.Target)
			continue
		default:
			w.add("volumes", "%s volume at %s not exported", v.Type, v.Target)
			continue
		}
		mount.Name = vol.Name
		ctr.VolumeMounts = append(ctr.VolumeMounts, mount)
		if !slices.ContainsFunc(spec.Volumes, func(x corev1.Volume) bool { return x.Name == vol.Name }) {
			spec.Volumes = append(spec.Volumes, vol)
		}
	}
	for i, t := range s.Tmpfs {
		target, _, _ := strings.Cut(t, ":")
		vol := tmpfs(fmt.Sprintf("tmpfs-t%d", i), nil)
		spec.Volumes = append(spec.Volumes, vol)
		ctr.VolumeMounts = append(ctr.VolumeMounts, corev1.VolumeMount{Name: vol.Name, MountPath: target})
	}
	if len(binds) > 0 {
		w.add("volumes", "bind mounts at %s not exported (hostPath volumes on request)", strings.Join(binds, ", "))
	}
	if len(anonymous) > 0 {
		w.add("volumes", "anonymous volumes at %s approximated by emptyDir, lost with the pod", strings.Join(anonymous, ", "))
	}
}

func tmpfs(name string, t *types.ServiceVolumeTmpfs) corev1.Volume {
	ed := &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory}
	if t != nil && t.Size > 0 {
		ed.SizeLimit = resource.NewQuantity(int64(t.Size), resource.BinarySI)
	}
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{EmptyDir: ed}}
}

// claim makes the PersistentVolumeClaim of a named volume and returns its
// name: the volume's engine name (<project>_<volume> unless named), made
// DNS-safe, so two projects in one namespace do not share data by accident.
func (c *converter) claim(key string, w warner) string {
	cfg := c.p.Volumes[key]
	engineName := cfg.Name
	if engineName == "" {
		engineName = key
	}
	name := DNSName(engineName)
	if cfg.External {
		if !c.emitted["external/"+name] {
			c.emitted["external/"+name] = true
			w.add("volumes", "external volume %s must exist as PersistentVolumeClaim %s", key, name)
		}
		return name
	}
	size, class := c.opts.VolumeSize, c.opts.StorageClass
	if x, ok := cfg.Extensions["x-kubernetes"].(map[string]any); ok {
		if v, ok := x["size"].(string); ok && v != "" {
			if _, err := resource.ParseQuantity(v); err == nil {
				size = v
			} else {
				w.add("volumes", "x-kubernetes.size %q of volume %s is not a quantity; using %s", v, key, size)
			}
		}
		if v, ok := x["storageClass"].(string); ok && v != "" {
			class = v
		}
	}
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: meta(name, c.partOf()),
		Spec: corev1.PersistentVolumeClaimSpec{
			// One node at a time, like a local docker volume, and the mode
			// every storage class supports.
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceStorage: resource.MustParse(size),
			}},
		},
	}
	if class != "" {
		pvc.Spec.StorageClassName = &class
	}
	c.emit(Object{Kind: "PersistentVolumeClaim", Name: name, Value: pvc})
	return name
}

// fileObject reads a secret's or config's content: its file, its
// environment variable or its inline content.
func (c *converter) fileObject(o types.FileObjectConfig) ([]byte, error) {
	switch {
	case o.Content != "":
		return []byte(o.Content), nil
	case o.Environment != "":
		v, ok := c.p.Environment[o.Environment]
		if !ok {
			return nil, fmt.Errorf("variable %s is not set", o.Environment)
		}
		return []byte(v), nil
	case o.File != "":
		return os.ReadFile(o.File)
	}
	return nil, fmt.Errorf("no file, environment or content")
}

// dataKey is the key a secret's or config's content is stored under.
func dataKey(name string) string {
	if len(validation.IsConfigMapKey(name)) == 0 {
		return name
	}
	return "content"
}

// fileKind is what differs between mounting secrets and configs.
type fileKind struct {
	field string // the compose key: secrets, configs
	kind  string // the object made: Secret, ConfigMap
	// dir is where a relative target goes.
	dir string
	// object holds the content under key; source mounts it.
	object func(meta metav1.ObjectMeta, key string, data []byte) runtime.Object
	source func(name string, mode *int32) corev1.VolumeSource
}

// secretFiles are mounted at /run/secrets/<target>, as compose does.
var secretFiles = fileKind{
	field: "secrets", kind: "Secret", dir: "/run/secrets/",
	object: func(m metav1.ObjectMeta, key string, data []byte) runtime.Object {
		return &corev1.Secret{ObjectMeta: m, Type: corev1.SecretTypeOpaque, Data: map[string][]byte{key: data}}
	},
	source: func(name string, mode *int32) corev1.VolumeSource {
		return corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: name, DefaultMode: mode}}
	},
}

// configFiles are mounted at their target, /<name> by default.
var configFiles = fileKind{
	field: "configs", kind: "ConfigMap", dir: "/",
	object: func(m metav1.ObjectMeta, key string, data []byte) runtime.Object {
		cm := &corev1.ConfigMap{ObjectMeta: m}
		// ConfigMap data must be UTF-8; anything else goes to binaryData.
		if utf8.Valid(data) {
			cm.Data = map[string]string{key: string(data)}
		} else {
			cm.BinaryData = map[string][]byte{key: data}
		}
		return cm
	},
	source: func(name string, mode *int32) corev1.VolumeSource {
		return corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: name}, DefaultMode: mode}}
	},
}

// secrets mounts the service's secrets.
func (c *converter) secrets(s types.ServiceConfig, spec *corev1.PodSpec, w warner) {
	defs := map[string]types.FileObjectConfig{}
	for k, v := range c.p.Secrets {
		defs[k] = types.FileObjectConfig(v)
	}
	refs := make([]types.FileReferenceConfig, len(s.Secrets))
	for i, r := range s.Secrets {
		refs[i] = types.FileReferenceConfig(r)
	}
	c.mountFiles(secretFiles, refs, defs, spec, w)
}

// configs mounts the service's configs.
func (c *converter) configs(s types.ServiceConfig, spec *corev1.PodSpec, w warner) {
	defs := map[string]types.FileObjectConfig{}
	for k, v := range c.p.Configs {
		defs[k] = types.FileObjectConfig(v)
	}
	refs := make([]types.FileReferenceConfig, len(s.Configs))
	for i, r := range s.Configs {
		refs[i] = types.FileReferenceConfig(r)
	}
	c.mountFiles(configFiles, refs, defs, spec, w)
}

// mountFiles exports each referenced secret or config once, as an object
// holding its content, and mounts it one file at a time through subPath,
// so that several share a directory and none hides the rest of it.
func (c *converter) mountFiles(fk fileKind, refs []types.FileReferenceConfig, defs map[string]types.FileObjectConfig, spec *corev1.PodSpec, w warner) {
	for _, ref := range refs {
		field := fk.field + "." + ref.Source
		def, ok := defs[ref.Source]
		if !ok {
			w.add(field, "not one of the project's %s; not exported", fk.field)
			continue
		}
		name := DNSName(ref.Source)
		key := dataKey(ref.Source)
		if def.External {
			w.add(field, "external: %s %s with key %s must exist", fk.kind, name, key)
		} else if !c.emitted[fk.kind+"/"+name] {
			data, err := c.fileObject(def)
			if err != nil {
				w.add(field, "%v: %s %s is exported empty", err, fk.kind, name)
			}
			c.emit(Object{Kind: fk.kind, Name: name, Value: fk.object(meta(name, c.partOf()), key, data)})
		}
		target := ref.Target
		if target == "" {
			target = ref.Source
		}
		if !strings.HasPrefix(target, "/") {
			target = fk.dir + target
		}
		vol := corev1.Volume{Name: DNSName(strings.TrimSuffix(fk.field, "s") + "-" + ref.Source), VolumeSource: fk.source(name, fileMode(ref.Mode))}
		mountFile(spec, vol, target, key)
		if ref.UID != "" || ref.GID != "" {
			w.add(field, "uid and gid not exported")
		}
	}
}

// partOf labels an object as the project's.
func (c *converter) partOf() map[string]string {
	return map[string]string{labelPartOf: DNSName(c.p.Name)}
}

func mountFile(spec *corev1.PodSpec, vol corev1.Volume, target, key string) {
	if !slices.ContainsFunc(spec.Volumes, func(x corev1.Volume) bool { return x.Name == vol.Name }) {
		spec.Volumes = append(spec.Volumes, vol)
	}
	spec.Containers[0].VolumeMounts = append(spec.Containers[0].VolumeMounts, corev1.VolumeMount{
		Name: vol.Name, MountPath: target, SubPath: key, ReadOnly: true,
	})
}

func fileMode(m *types.FileMode) *int32 {
	if m == nil {
		return nil
	}
	return ptr(int32(*m))
}

func ptr[T any](v T) *T { return &v }
