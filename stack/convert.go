package stack

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/swarm"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/orchestrator"
)

// Convert turns a loaded project into the plan of a stack named after it:
// its overlay networks, configs, secrets and services, each named and
// labelled as docker stack does, with a warning for every field Swarm
// cannot honour. It decides everything and changes nothing; the only
// input besides the project is the content of config and secret files
// (and seccomp profiles), which it reads because their hash names them.
//
// The specs are deterministic and hold no value the engine would fill in
// or drop: deploy compares them field by field with what the swarm holds
// to decide what to update, so converting an unchanged project twice must
// give equal specs, equal to what the engine gives back.
//
// It fails, naming the service and field, on what cannot be deployed at
// all (an unreadable config file, an invalid value), and when services run
// as jobs on an engine older than API 1.41.
func Convert(p *types.Project, opts Options) (*Plan, error) {
	if p == nil || p.Name == "" {
		return nil, errors.New("convert to a stack: the project has no name")
	}
	api, err := parseAPIVersion(opts.APIVersion)
	if err != nil {
		return nil, fmt.Errorf("convert to a stack: %w", err)
	}
	c := newConverter(p, opts, api)
	return c.run()
}

// converter holds one Convert call's state; it is never shared.
type converter struct {
	p    *types.Project
	ns   string
	opts Options
	api  apiVersion
	// jobs are the services another service waits for with
	// service_completed_successfully: they run to completion.
	jobs map[string]bool
	// networks are the networks the stack creates, by swarm name.
	networks map[string]engine.NetworkSpec
	// objects are the configs and secrets the stack creates, by kind and
	// compose key, with the error reading one gave (reported once).
	objects    map[objectKind]map[string]Object
	objectErrs map[objectKind]map[string]error
	// external names what the stack uses but does not create, by kind.
	externalNetworks map[string]bool
	external         map[objectKind]map[string]bool
	// warnings are the project-level warnings (networks, configs,
	// secrets), in the order found; said holds them to say each once.
	warnings []string
	said     map[string]bool
}

func newConverter(p *types.Project, opts Options, api apiVersion) *converter {
	return &converter{
		p: p, ns: p.Name, opts: opts, api: api,
		jobs:             map[string]bool{},
		networks:         map[string]engine.NetworkSpec{},
		objects:          map[objectKind]map[string]Object{kindConfig: {}, kindSecret: {}},
		objectErrs:       map[objectKind]map[string]error{kindConfig: {}, kindSecret: {}},
		externalNetworks: map[string]bool{},
		external:         map[objectKind]map[string]bool{kindConfig: {}, kindSecret: {}},
		said:             map[string]bool{},
	}
}

// warn records a project-level warning once.
func (c *converter) warn(format string, args ...any) {
	w := fmt.Sprintf(format, args...)
	if !c.said[w] {
		c.said[w] = true
		c.warnings = append(c.warnings, w)
	}
}

func (c *converter) run() (*Plan, error) {
	names := slices.Sorted(maps.Keys(c.p.Services))
	for _, name := range names {
		for dep, d := range c.p.Services[name].DependsOn {
			if d.Condition == types.ServiceConditionCompletedSuccessfully {
				c.jobs[dep] = true
			}
		}
	}
	plan := &Plan{Namespace: c.ns}
	var errs []error
	var serviceWarnings []string
	for _, name := range names {
		n := newNotes()
		svc, ok, err := c.service(c.p.Services[name], n)
		if err != nil {
			errs = append(errs, err)
		}
		serviceWarnings = append(serviceWarnings, n.lines(name)...)
		if ok {
			plan.Services = append(plan.Services, svc)
		}
	}
	if err := c.checkJobs(plan.Services); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if len(c.p.Jobs) > 0 {
		c.warn("jobs: deploy ignores the project's jobs (%s): Swarm has no scheduled or manually triggered jobs", strings.Join(slices.Sorted(maps.Keys(c.p.Jobs)), ", "))
	}
	for _, name := range slices.Sorted(maps.Keys(c.networks)) {
		plan.Networks = append(plan.Networks, c.networks[name])
	}
	plan.ExternalNetworks = sortedSet(c.externalNetworks)
	plan.Configs = c.sortedObjects(kindConfig)
	plan.Secrets = c.sortedObjects(kindSecret)
	plan.ExternalConfigs = sortedSet(c.external[kindConfig])
	plan.ExternalSecrets = sortedSet(c.external[kindSecret])
	plan.Warnings = append(c.warnings, serviceWarnings...)
	if len(plan.Warnings) == 0 {
		plan.Warnings = nil
	}
	return plan, nil
}

// checkJobs refuses jobs on an engine that has none: run as plain
// services they would restart for ever, and who waits for them would
// never see them complete.
func (c *converter) checkJobs(services []Service) error {
	if c.api.supports(apiJobs) {
		return nil
	}
	var jobs []string
	for _, s := range services {
		if s.Job {
			jobs = append(jobs, s.Key)
		}
	}
	if len(jobs) == 0 {
		return nil
	}
	what := "service " + jobs[0] + " runs as a swarm job"
	if len(jobs) > 1 {
		what = "services " + strings.Join(jobs, ", ") + " run as swarm jobs"
	}
	return fmt.Errorf("%s (a service waits for it with %s, or deploy.mode says so), which needs engine API %s; the engine has %s",
		what, ConditionCompleted, apiJobs, c.opts.APIVersion)
}

func (c *converter) sortedObjects(kind objectKind) []Object {
	var out []Object
	for _, key := range slices.Sorted(maps.Keys(c.objects[kind])) {
		out = append(out, c.objects[kind][key])
	}
	return out
}

// serviceNameRE is what swarm accepts as a service name (a DNS label, as
// the name resolves on the stack's networks), at most 63 characters.
var serviceNameRE = regexp.MustCompile(`^[a-zA-Z0-9](?:[-_]*[A-Za-z0-9]+)*$`)

const maxServiceName = 63

// service converts one compose service. ok is false for a service that
// has no swarm service (a provider service); the error names the service.
func (c *converter) service(s types.ServiceConfig, n *notes) (svc Service, ok bool, err error) {
	if s.Provider != nil {
		n.ignore("provider", "a provider service runs no container: it is not deployed")
		return Service{}, false, nil
	}
	e := &fieldErrors{service: s.Name}
	name := c.ns + "_" + s.Name
	if len(name) > maxServiceName || !serviceNameRE.MatchString(name) {
		e.add("name", fmt.Errorf("swarm service name %q is invalid: Swarm wants at most %d letters, digits, '-' and '_', starting and ending with a letter or digit", name, maxServiceName))
	}
	image := orchestrator.ImageName(c.p, s)
	if s.Image == "" && s.Build == nil {
		e.add("image", errors.New("the service has neither image nor build"))
	}
	if s.Build != nil {
		n.ignore("build", fmt.Sprintf("deploy does not build: image %s must be in a registry the nodes pull from", image))
	}
	job := c.isJob(s)
	c.checkFields(s, n)
	c.checkDependsOn(s, n)

	cs := c.containerSpec(s, image, n, e)
	task := swarm.TaskSpec{
		// The engine reports the runtime of every container service.
		Runtime:       swarm.RuntimeContainer,
		ContainerSpec: cs,
		Resources:     c.resources(s, n),
		RestartPolicy: c.restartPolicy(s, job, n, e),
		Placement:     c.placement(s, n),
		Networks:      c.attachments(s, n),
		LogDriver:     specLogDriver(s),
	}
	spec := swarm.ServiceSpec{
		Annotations:  swarm.Annotations{Name: name, Labels: c.serviceLabels(s, image)},
		TaskTemplate: task,
		Mode:         c.mode(s, job, n, e),
		EndpointSpec: c.endpoint(s, n, e),
	}
	if job {
		if s.Deploy != nil && s.Deploy.UpdateConfig != nil {
			n.ignore("deploy.update_config", "a job is not updated in place: each deploy runs it again")
		}
		if s.Deploy != nil && s.Deploy.RollbackConfig != nil {
			n.ignore("deploy.rollback_config", "a job is not updated in place: each deploy runs it again")
		}
	} else if s.Deploy != nil {
		spec.UpdateConfig = specUpdateConfig(s.Deploy.UpdateConfig, "deploy.update_config", e)
		spec.RollbackConfig = specUpdateConfig(s.Deploy.RollbackConfig, "deploy.rollback_config", e)
	}
	if err := e.err(); err != nil {
		return Service{}, false, err
	}
	return Service{
		Key:       s.Name,
		Spec:      spec,
		DependsOn: planDependsOn(s),
		Job:       job,
		Build:     s.Build != nil,
		Image:     image,
	}, true, nil
}

// isJob reports whether the service runs to completion: another service
// waits for it to complete, or its deploy mode says it is a job.
func (c *converter) isJob(s types.ServiceConfig) bool {
	if c.jobs[s.Name] {
		return true
	}
	if s.Deploy == nil {
		return false
	}
	return s.Deploy.Mode == modeReplicatedJob || s.Deploy.Mode == modeGlobalJob
}

// Deploy modes, as compose and docker stack spell them.
const (
	modeReplicated    = "replicated"
	modeGlobal        = "global"
	modeReplicatedJob = "replicated-job"
	modeGlobalJob     = "global-job"
)

// mode is the service's swarm mode. Replicas are always explicit: the
// engine would report an absent count as 1, which deploy would then see as
// a change.
func (c *converter) mode(s types.ServiceConfig, job bool, n *notes, e *fieldErrors) swarm.ServiceMode {
	mode := ""
	if s.Deploy != nil {
		mode = s.Deploy.Mode
	}
	replicas := uint64(1)
	replicasSet := s.Scale != nil || (s.Deploy != nil && s.Deploy.Replicas != nil)
	if scale := s.GetScale(); replicasSet && scale >= 0 {
		replicas = uint64(scale)
	}
	global := false
	switch mode {
	case "", modeReplicated, modeReplicatedJob:
	case modeGlobal, modeGlobalJob:
		global = true
		if replicasSet {
			n.ignore("deploy.replicas", "a global service runs one task on each node")
		}
	default:
		e.add("deploy.mode", fmt.Errorf("unknown mode %q: want %s, %s, %s or %s", mode, modeReplicated, modeGlobal, modeReplicatedJob, modeGlobalJob))
	}
	switch {
	case job && global:
		return swarm.ServiceMode{GlobalJob: &swarm.GlobalJob{}}
	case job:
		// Run the replicas at once, as compose starts them together.
		maxConcurrent, total := replicas, replicas
		return swarm.ServiceMode{ReplicatedJob: &swarm.ReplicatedJob{MaxConcurrent: &maxConcurrent, TotalCompletions: &total}}
	case global:
		return swarm.ServiceMode{Global: &swarm.GlobalService{}}
	}
	return swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &replicas}}
}

// planDependsOn is the service's depends_on; nil without one.
func planDependsOn(s types.ServiceConfig) map[string]Dependency {
	if len(s.DependsOn) == 0 {
		return nil
	}
	out := make(map[string]Dependency, len(s.DependsOn))
	for name, d := range s.DependsOn {
		cond := d.Condition
		if cond == "" {
			cond = ConditionStarted
		}
		out[name] = Dependency{Condition: cond, Required: d.Required}
	}
	return out
}

// checkDependsOn warns about what deploy cannot keep of depends_on: it
// orders the deploy by it, but Swarm restarts nothing when a dependency
// restarts.
func (c *converter) checkDependsOn(s types.ServiceConfig, n *notes) {
	var restart []string
	for _, name := range slices.Sorted(maps.Keys(s.DependsOn)) {
		if s.DependsOn[name].Restart {
			restart = append(restart, name)
		}
	}
	if len(restart) > 0 {
		n.ignore("depends_on", fmt.Sprintf("restart: true for %s: Swarm does not restart a service when one it depends on restarts", strings.Join(restart, " and ")))
	}
}

// serviceLabels are the labels of the swarm service: deploy.labels, the
// stack's namespace and the image as the file names it.
func (c *converter) serviceLabels(s types.ServiceConfig, image string) map[string]string {
	out := map[string]string{}
	if s.Deploy != nil {
		maps.Copy(out, s.Deploy.Labels)
	}
	out[LabelNamespace] = c.ns
	out[LabelImage] = image
	return out
}

// composeLabelPrefix starts the labels composer's local commands own.
const composeLabelPrefix = "com.docker.compose."

// containerLabels are the labels of the task containers: the service's
// labels and the namespace. Labels of compose's own namespace are left
// out: `composer down` of a local project of the same name finds its
// containers by them, and would take the stack's task containers too.
func (c *converter) containerLabels(s types.ServiceConfig, n *notes) map[string]string {
	out := map[string]string{}
	var dropped []string
	for k, v := range s.Labels {
		if strings.HasPrefix(k, composeLabelPrefix) {
			dropped = append(dropped, k)
			continue
		}
		out[k] = v
	}
	if len(dropped) > 0 {
		slices.Sort(dropped)
		n.ignore("labels", fmt.Sprintf("%s left off: composer down of a local project would take the task containers", strings.Join(dropped, " and ")))
	}
	out[LabelNamespace] = c.ns
	return out
}

// fieldErrors collects one service's errors, each naming the field.
type fieldErrors struct {
	service string
	errs    []error
}

func (e *fieldErrors) add(field string, err error) {
	e.errs = append(e.errs, fmt.Errorf("service %s: %s: %w", e.service, field, err))
}

func (e *fieldErrors) err() error { return errors.Join(e.errs...) }

// The engine API versions that brought what deploy uses. An engine
// speaking an older version drops such a field from the spec it stores,
// so sending it anyway would make every deploy see a change: the
// converter leaves it out and warns instead.
const (
	apiSysctls        = "1.40" // ContainerSpec.Sysctls
	apiMaxReplicas    = "1.40" // Placement.MaxReplicas
	apiCredentialConf = "1.40" // CredentialSpec.Config
	apiJobs           = "1.41" // ReplicatedJob, GlobalJob
	apiCapabilities   = "1.41" // CapabilityAdd, CapabilityDrop
	apiUlimits        = "1.41" // ContainerSpec.Ulimits
	apiPids           = "1.41" // Limits.Pids
	apiStartInterval  = "1.44" // HealthConfig.StartInterval
	apiSecurity       = "1.44" // Privileges.Seccomp, AppArmor, NoNewPrivileges
	apiSubpath        = "1.45" // VolumeOptions.Subpath
	apiOomScoreAdj    = "1.46" // ContainerSpec.OomScoreAdj
	apiTmpfsOptions   = "1.46" // TmpfsOptions.Options
	apiSwap           = "1.52" // ResourceRequirements.SwapBytes, MemorySwappiness
)

// apiVersion is an engine API version; the zero value means current.
type apiVersion struct{ major, minor int }

func parseAPIVersion(s string) (apiVersion, error) {
	if s == "" {
		return apiVersion{}, nil
	}
	maj, min, ok := strings.Cut(s, ".")
	a, errA := strconv.Atoi(maj)
	b, errB := strconv.Atoi(min)
	if !ok || errA != nil || errB != nil || a < 1 || b < 0 {
		return apiVersion{}, fmt.Errorf("invalid engine API version %q: want <major>.<minor>", s)
	}
	return apiVersion{a, b}, nil
}

// supports reports whether the engine has what came with version min.
func (v apiVersion) supports(min string) bool {
	if v == (apiVersion{}) {
		return true
	}
	m, err := parseAPIVersion(min)
	if err != nil {
		panic(err) // min is one of the constants above
	}
	return v.major > m.major || (v.major == m.major && v.minor >= m.minor)
}

// needs reports whether the engine carries field, which came with API
// version min, and warns that it is ignored if not.
func (c *converter) needs(n *notes, field, min string) bool {
	if c.api.supports(min) {
		return true
	}
	n.ignore(field, fmt.Sprintf("needs engine API %s, the engine has %s", min, c.opts.APIVersion))
	return false
}

func sortedSet(set map[string]bool) []string {
	if len(set) == 0 {
		return nil
	}
	return slices.Sorted(maps.Keys(set))
}

// cloneMap copies a map of strings, nil when empty: absent fields stay
// absent in the spec.
func cloneMap[M ~map[string]string](m M) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return maps.Clone(map[string]string(m))
}

// cloneList copies a list, nil when empty.
func cloneList[S ~[]string](l S) []string {
	if len(l) == 0 {
		return nil
	}
	return slices.Clone([]string(l))
}

func ptrTo[T any](v T) *T { return &v }
