package enginetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/swarm"

	"github.com/composer-orchestrator/composer/engine"
)

// The swarm suite checks engine.Swarm implementations the same way: the
// fake's swarm against a real one-node swarm. It asserts what the swarm
// reports (services as they read back, tasks and their states), and the
// rules deploy relies on: versions, conflicts, when a task counts as
// running, how jobs run and fail, and which specs the engine stores
// differently from how they were sent.
//
// Its services run the package's image on the engine's own node, where a
// swarm runs a local image by its reference without a registry. They
// resolve by DNS round robin (EndpointSpec mode dnsrr): the routing mesh's
// virtual IPs need IPVS, which some test hosts' kernels lack.

// SwarmUnderTest is what the swarm suite needs of an engine: its swarm,
// networks for services to join, and a look at the containers of tasks.
type SwarmUnderTest interface {
	engine.Swarm
	engine.Networks
	InspectContainer(ctx context.Context, id string) (engine.ContainerDetails, error)
}

// RunSwarm runs the swarm behaviour suite. newEngine is called once per
// subtest and may return a shared engine; it must manage a swarm whose
// node has image, which must implement the package's contract.
func RunSwarm(t *testing.T, newEngine func(t *testing.T) SwarmUnderTest, image string) {
	tests := []struct {
		name string
		fn   func(t *testing.T, h *swarmHarness)
	}{
		{"SwarmState", testSwarmState},
		{"ServiceLifecycle", testServiceLifecycle},
		{"ServiceListFilter", testServiceListFilter},
		{"ServiceReadBack", testServiceReadBack},
		{"ServiceTasks", testServiceTasks},
		{"ServiceHealthy", testServiceHealthy},
		{"ServiceUnhealthy", testServiceUnhealthy},
		{"ServiceMissingImage", testServiceMissingImage},
		{"ServiceMissingReferences", testServiceMissingReferences},
		{"JobComplete", testJobComplete},
		{"JobFailed", testJobFailed},
		{"JobRetry", testJobRetry},
		{"Configs", func(t *testing.T, h *swarmHarness) { testSwarmObjects(t, h, configKind(h)) }},
		{"Secrets", func(t *testing.T, h *swarmHarness) { testSwarmObjects(t, h, secretKind(h)) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newSwarmHarness(t, newEngine(t), image))
		})
	}
}

// swarmHarness is the harness of a swarm subtest.
type swarmHarness struct {
	subtest
	e SwarmUnderTest
}

func newSwarmHarness(t *testing.T, e SwarmUnderTest, image string) *swarmHarness {
	t.Helper()
	h := &swarmHarness{e: e}
	h.subtest = newSubtest(t, image, h.cleanup)
	return h
}

// mine selects the subtest's services, configs and secrets by their name,
// for those that carry no labels: the swarm's name filter is a prefix.
func (h *swarmHarness) mine() engine.Filter {
	return engine.Filter{Name: h.name("")}
}

// cleanup removes the subtest's services, then the configs, secrets and
// networks they held. The engine detaches a removed service's tasks from
// their networks a moment later, so a network still in use is tried
// again for a while.
func (h *swarmHarness) cleanup(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	check := func(what string, err error) {
		if err != nil && !errors.Is(err, engine.ErrNotFound) {
			t.Errorf("cleanup: removing %s: %v", what, err)
		}
	}
	svcs, err := h.e.ListServices(ctx, h.mine())
	check("services", err)
	for _, s := range svcs {
		check(s.Spec.Name, h.e.RemoveService(ctx, s.ID))
	}
	cfgs, err := h.e.ListConfigs(ctx, h.mine())
	check("configs", err)
	for _, c := range cfgs {
		check(c.Name, h.e.RemoveConfig(ctx, c.ID))
	}
	secrets, err := h.e.ListSecrets(ctx, h.mine())
	check("secrets", err)
	for _, s := range secrets {
		check(s.Name, h.e.RemoveSecret(ctx, s.ID))
	}
	nets, err := h.e.ListNetworks(ctx, h.filter())
	check("networks", err)
	for _, n := range nets {
		for {
			err := h.e.RemoveNetwork(ctx, n.ID)
			if !errors.Is(err, engine.ErrConflict) || ctx.Err() != nil {
				check(n.Name, err)
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}

// spec returns a service running the suite's image with args: one
// replica, no restart delay to speak of, stopped within a second, and
// named and labelled for the subtest.
func (h *swarmHarness) spec(name string, args ...string) swarm.ServiceSpec {
	return swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: h.name(name), Labels: h.labels()},
		TaskTemplate: swarm.TaskSpec{
			ContainerSpec: &swarm.ContainerSpec{
				Image:           h.image,
				Args:            args,
				Labels:          h.labels(),
				StopGracePeriod: new(time.Second),
			},
			RestartPolicy: &swarm.RestartPolicy{
				Condition: swarm.RestartPolicyConditionAny, Delay: new(100 * time.Millisecond), MaxAttempts: new(uint64(0)),
			},
		},
		Mode:         swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: new(uint64(1))}},
		EndpointSpec: &swarm.EndpointSpec{Mode: swarm.ResolutionModeDNSRR},
	}
}

// idle returns a service of no replicas: one that has no tasks, for the
// tests of what a spec is, not of what it runs.
func (h *swarmHarness) idle(name string) swarm.ServiceSpec {
	s := h.spec(name, "sleep")
	s.Mode.Replicated.Replicas = new(uint64(0))
	return s
}

// job returns a replicated job of one task running args.
func (h *swarmHarness) job(name string, condition swarm.RestartPolicyCondition, args ...string) swarm.ServiceSpec {
	s := h.spec(name, args...)
	s.Mode = swarm.ServiceMode{ReplicatedJob: &swarm.ReplicatedJob{}}
	s.TaskTemplate.RestartPolicy.Condition = condition
	return s
}

func (h *swarmHarness) create(t *testing.T, spec swarm.ServiceSpec) string {
	t.Helper()
	id, err := h.e.CreateService(h.ctx, spec)
	if err != nil {
		t.Fatalf("CreateService(%s): %v", spec.Name, err)
	}
	if id == "" {
		t.Fatalf("CreateService(%s) returned an empty id", spec.Name)
	}
	return id
}

// service finds a service of the subtest by id.
func (h *swarmHarness) service(t *testing.T, id string) engine.Service {
	t.Helper()
	svcs, err := h.e.ListServices(h.ctx, h.mine())
	if err != nil {
		t.Fatalf("ListServices: %v", err)
	}
	for _, s := range svcs {
		if s.ID == id {
			return s
		}
	}
	t.Fatalf("ListServices = %v, want service %s among them", serviceNames(svcs), id)
	return engine.Service{}
}

func (h *swarmHarness) update(t *testing.T, id string, change func(*swarm.ServiceSpec)) engine.Service {
	t.Helper()
	before := h.service(t, id)
	spec := before.Spec
	change(&spec)
	if err := h.e.UpdateService(h.ctx, id, before.Version, spec); err != nil {
		t.Fatalf("UpdateService(%s): %v", spec.Name, err)
	}
	return before
}

// waitTasks polls a service's tasks until cond holds, and returns them.
func (h *swarmHarness) waitTasks(t *testing.T, id string, cond func(ts []engine.Task) (bool, string)) []engine.Task {
	t.Helper()
	var last []engine.Task
	eventually(t, h.ctx, func() (bool, string) {
		ts, err := h.e.ListTasks(h.ctx, id)
		if err != nil {
			return false, err.Error()
		}
		last = ts
		ok, why := cond(ts)
		return ok, why + "; tasks:\n" + showTasks(ts)
	})
	return last
}

// holds checks for a short while that cond keeps holding: what a test can
// say of something that must not happen.
func (h *swarmHarness) holds(t *testing.T, id string, cond func(ts []engine.Task) (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(500 * time.Millisecond)
	for time.Now().Before(deadline) {
		ts, err := h.e.ListTasks(h.ctx, id)
		if err != nil {
			t.Fatalf("ListTasks: %v", err)
		}
		if ok, why := cond(ts); !ok {
			t.Fatalf("%s; tasks:\n%s", why, showTasks(ts))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func showTasks(ts []engine.Task) string {
	var b strings.Builder
	for _, t := range ts {
		fmt.Fprintf(&b, "  %s slot %d iteration %d: desired %s, state %s (%q, %q), exit %d, container %.12s\n",
			t.ID, t.Slot, t.JobIteration, t.DesiredState, t.State, t.Message, t.Err, t.ExitCode, t.ContainerID)
	}
	return b.String()
}

func serviceNames(svcs []engine.Service) []string {
	var out []string
	for _, s := range svcs {
		out = append(out, s.Spec.Name)
	}
	slices.Sort(out)
	return out
}

// runningTasks returns the tasks at work (desired running) that run.
func runningTasks(ts []engine.Task) []engine.Task {
	var out []engine.Task
	for _, t := range ts {
		if t.DesiredState == engine.TaskRunning && t.State == engine.TaskRunning {
			out = append(out, t)
		}
	}
	return out
}

func slotsOf(ts []engine.Task) []int {
	var out []int
	for _, t := range ts {
		out = append(out, t.Slot)
	}
	slices.Sort(out)
	return out
}

func testSwarmState(t *testing.T, h *swarmHarness) {
	st, err := h.e.SwarmState(h.ctx)
	if err != nil {
		t.Fatalf("SwarmState: %v", err)
	}
	if st.NodeState != "active" || !st.Manager || st.NodeID == "" || st.Nodes < 1 || st.APIVersion == "" {
		t.Errorf("SwarmState = %+v, want an active manager with a node id, nodes and an API version", st)
	}
}

func testServiceLifecycle(t *testing.T, h *swarmHarness) {
	spec := h.idle("web")
	spec.Labels["role"] = "web"
	id := h.create(t, spec)

	s := h.service(t, id)
	cs := s.Spec.TaskTemplate.ContainerSpec
	if s.Spec.Name != spec.Name || s.Spec.Labels["role"] != "web" || cs == nil || cs.Image != h.image || !slices.Equal(cs.Args, []string{"sleep"}) {
		t.Errorf("ListServices = %s, want the spec created", showJSON(s.Spec))
	}
	if s.Version == 0 || s.CreatedAt.IsZero() || s.JobIteration != 0 || s.UpdateState != "" {
		t.Errorf("service %+v, want a version, a creation time, no job iteration, no update", s)
	}

	_, err := h.e.CreateService(h.ctx, spec)
	wantErr(t, "CreateService with a taken name", err, engine.ErrConflict)

	// An update that touches no task: the version moves on, there is no
	// update status, and the version read before is stale.
	before := h.update(t, id, func(s *swarm.ServiceSpec) { s.Labels["role"] = "api" })
	after := h.service(t, id)
	if after.Version <= before.Version || after.Spec.Labels["role"] != "api" || after.UpdateState != "" {
		t.Errorf("after an update: version %d (was %d), labels %v, update state %q; want a later version, role=api, no update state",
			after.Version, before.Version, after.Spec.Labels, after.UpdateState)
	}
	err = h.e.UpdateService(h.ctx, id, before.Version, after.Spec)
	wantErr(t, "UpdateService with a stale version", err, engine.ErrConflict)

	job := after.Spec
	job.Mode = swarm.ServiceMode{ReplicatedJob: &swarm.ReplicatedJob{}}
	if err := h.e.UpdateService(h.ctx, id, after.Version, job); err == nil {
		t.Errorf("UpdateService changing the mode to a job succeeded, want an error")
	}

	missing := h.name("missing")
	err = h.e.UpdateService(h.ctx, missing, after.Version, after.Spec)
	wantErr(t, "UpdateService of a missing service", err, engine.ErrNotFound)

	if err := h.e.RemoveService(h.ctx, id); err != nil {
		t.Fatalf("RemoveService: %v", err)
	}
	if svcs, err := h.e.ListServices(h.ctx, h.filter()); err != nil || len(svcs) != 0 {
		t.Errorf("ListServices after remove = %v, %v; want none", serviceNames(svcs), err)
	}
	wantErr(t, "RemoveService twice", h.e.RemoveService(h.ctx, id), engine.ErrNotFound)
	_, err = h.e.ListTasks(h.ctx, id)
	wantErr(t, "ListTasks of a removed service", err, engine.ErrNotFound)
}

func testServiceListFilter(t *testing.T, h *swarmHarness) {
	for _, role := range []string{"a", "b"} {
		spec := h.idle(role)
		spec.Labels["role"] = role
		h.create(t, spec)
	}
	tests := []struct {
		name   string
		filter engine.Filter
		want   []string
	}{
		{"test label", h.filter(), []string{h.name("a"), h.name("b")}},
		{"exact value", engine.Filter{Labels: h.labels("role", "a")}, []string{h.name("a")}},
		{"any value", engine.Filter{Labels: h.labels("role", "")}, []string{h.name("a"), h.name("b")}},
		{"no match", engine.Filter{Labels: h.labels("role", "c")}, nil},
		{"missing label", engine.Filter{Labels: h.labels("absent", "")}, nil},
		// The swarm's name filter is a prefix.
		{"name", engine.Filter{Labels: h.labels(), Name: h.name("b")}, []string{h.name("b")}},
		{"name prefix", engine.Filter{Labels: h.labels(), Name: h.name("")}, []string{h.name("a"), h.name("b")}},
	}
	for _, tc := range tests {
		svcs, err := h.e.ListServices(h.ctx, tc.filter)
		if err != nil {
			t.Fatalf("ListServices(%s): %v", tc.name, err)
		}
		if got := serviceNames(svcs); !slices.Equal(got, tc.want) {
			t.Errorf("ListServices(%s) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// testServiceReadBack checks how a spec reads back: as sent, with what
// the engine fills in where the spec leaves a field out. Deploy compares
// the spec it would send with the one read back to tell whether a service
// changed; each case here is a difference it must not take for a change.
func testServiceReadBack(t *testing.T, h *swarmHarness) {
	netName := h.name("net")
	netID, err := h.e.CreateNetwork(h.ctx, engine.NetworkSpec{Name: netName, Driver: "overlay", Attachable: true, Labels: h.labels()})
	if err != nil {
		t.Fatalf("CreateNetwork(%s): %v", netName, err)
	}
	st, err := h.e.SwarmState(h.ctx)
	if err != nil {
		t.Fatalf("SwarmState: %v", err)
	}
	// What the engine adds to every spec.
	always := func(s *swarm.ServiceSpec) {
		s.TaskTemplate.Runtime = swarm.RuntimeContainer
		s.TaskTemplate.ContainerSpec.Isolation = container.IsolationDefault
	}
	tests := []struct {
		name string
		// change makes the spec sent from the idle one; want makes, from
		// the spec sent, the one read back.
		change, want func(s *swarm.ServiceSpec)
	}{
		{
			name:   "as sent",
			change: func(*swarm.ServiceSpec) {},
			want:   func(*swarm.ServiceSpec) {},
		},
		{
			name:   "every field",
			change: everyField(h, netName),
			want:   func(s *swarm.ServiceSpec) { s.TaskTemplate.Networks[0].Target = netID },
		},
		{
			name:   "no labels",
			change: func(s *swarm.ServiceSpec) { s.Labels = nil },
			want:   func(s *swarm.ServiceSpec) { s.Labels = map[string]string{} },
		},
		{
			name:   "empty lists and maps",
			change: emptyCollections,
			want: func(s *swarm.ServiceSpec) {
				s.TaskTemplate.ContainerSpec.Labels, s.TaskTemplate.ContainerSpec.Env = nil, nil
				s.TaskTemplate.ContainerSpec.Mounts, s.TaskTemplate.Networks = nil, nil
			},
		},
		{
			name:   "image without tag",
			change: func(s *swarm.ServiceSpec) { s.TaskTemplate.ContainerSpec.Image = h.name("image") },
			want:   func(s *swarm.ServiceSpec) { s.TaskTemplate.ContainerSpec.Image += ":latest" },
		},
		{
			name: "network by name",
			change: func(s *swarm.ServiceSpec) {
				s.TaskTemplate.Networks = []swarm.NetworkAttachmentConfig{{Target: netName}}
			},
			want: func(s *swarm.ServiceSpec) { s.TaskTemplate.Networks[0].Target = netID },
		},
		{
			name:   "no mode",
			change: func(s *swarm.ServiceSpec) { s.Mode = swarm.ServiceMode{} },
			want:   func(s *swarm.ServiceSpec) { s.Mode.Replicated = &swarm.ReplicatedService{Replicas: new(uint64(1))} },
		},
		{
			name:   "replicas unset",
			change: func(s *swarm.ServiceSpec) { s.Mode.Replicated.Replicas = nil },
			want:   func(s *swarm.ServiceSpec) { s.Mode.Replicated.Replicas = new(uint64(1)) },
		},
		{
			name: "job",
			change: func(s *swarm.ServiceSpec) {
				s.Mode = swarm.ServiceMode{ReplicatedJob: &swarm.ReplicatedJob{}}
				s.TaskTemplate.ContainerSpec.Args = []string{"exit", "0"}
			},
			want: func(s *swarm.ServiceSpec) {
				s.Mode.ReplicatedJob = &swarm.ReplicatedJob{MaxConcurrent: new(uint64(1)), TotalCompletions: new(uint64(1))}
			},
		},
		{
			name: "job of several at once",
			change: func(s *swarm.ServiceSpec) {
				s.Mode = swarm.ServiceMode{ReplicatedJob: &swarm.ReplicatedJob{MaxConcurrent: new(uint64(2))}}
				s.TaskTemplate.ContainerSpec.Args = []string{"exit", "0"}
			},
			want: func(s *swarm.ServiceSpec) { s.Mode.ReplicatedJob.TotalCompletions = new(uint64(2)) },
		},
		{
			name:   "empty restart policy",
			change: func(s *swarm.ServiceSpec) { s.TaskTemplate.RestartPolicy = &swarm.RestartPolicy{} },
			want: func(s *swarm.ServiceSpec) {
				s.TaskTemplate.RestartPolicy = &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionAny, MaxAttempts: new(uint64(0))}
			},
		},
		{
			name: "restart policy without attempts",
			change: func(s *swarm.ServiceSpec) {
				s.TaskTemplate.RestartPolicy = &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionNone}
			},
			want: func(s *swarm.ServiceSpec) { s.TaskTemplate.RestartPolicy.MaxAttempts = new(uint64(0)) },
		},
		{
			name: "empty update and rollback configs",
			change: func(s *swarm.ServiceSpec) {
				s.UpdateConfig, s.RollbackConfig = &swarm.UpdateConfig{}, &swarm.UpdateConfig{Parallelism: 2}
			},
			want: func(s *swarm.ServiceSpec) {
				for _, u := range []*swarm.UpdateConfig{s.UpdateConfig, s.RollbackConfig} {
					u.FailureAction, u.Order = swarm.UpdateFailureActionPause, swarm.UpdateOrderStopFirst
				}
			},
		},
		{
			name:   "empty endpoint spec",
			change: func(s *swarm.ServiceSpec) { s.EndpointSpec = &swarm.EndpointSpec{} },
			want:   func(s *swarm.ServiceSpec) { s.EndpointSpec.Mode = swarm.ResolutionModeVIP },
		},
		{
			name:   "no endpoint spec",
			change: func(s *swarm.ServiceSpec) { s.EndpointSpec = nil },
			want:   func(*swarm.ServiceSpec) {},
		},
		{
			// An engine ignores the fields its API version does not know.
			name: "fields of later API versions",
			change: func(s *swarm.ServiceSpec) {
				cs := s.TaskTemplate.ContainerSpec
				cs.Privileges = &swarm.Privileges{
					Seccomp:  &swarm.SeccompOpts{Mode: swarm.SeccompModeUnconfined},
					AppArmor: &swarm.AppArmorOpts{Mode: swarm.AppArmorModeDisabled},
				}
				cs.OomScoreAdj = 100
				cs.Mounts = []mount.Mount{{Type: mount.TypeTmpfs, Target: "/t", TmpfsOptions: &mount.TmpfsOptions{Options: [][]string{{"exec"}}}}}
				s.TaskTemplate.Resources = &swarm.ResourceRequirements{
					Limits: &swarm.Limit{MemoryBytes: 64 << 20}, SwapBytes: new(int64(128 << 20)), MemorySwappiness: new(int64(10)),
				}
			},
			want: func(s *swarm.ServiceSpec) {
				cs := s.TaskTemplate.ContainerSpec
				if apiBefore(st.APIVersion, 44) {
					cs.Privileges.Seccomp, cs.Privileges.AppArmor = nil, nil
				}
				if apiBefore(st.APIVersion, 46) {
					cs.OomScoreAdj = 0
					cs.Mounts[0].TmpfsOptions.Options = nil
				}
				if apiBefore(st.APIVersion, 52) {
					s.TaskTemplate.Resources.SwapBytes, s.TaskTemplate.Resources.MemorySwappiness = nil, nil
				}
			},
		},
	}
	for i, tc := range tests {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			sent := h.idle(fmt.Sprint("readback-", i))
			tc.change(&sent)
			want := cloneSpec(t, sent)
			tc.want(&want)
			always(&want)
			id := h.create(t, cloneSpec(t, sent))
			if got := h.service(t, id).Spec; !reflect.DeepEqual(got, want) {
				t.Errorf("the spec reads back as\n%s\nwant\n%s\ndifferences: %s", showJSON(got), showJSON(want), specDiff(got, want))
			}
		})
	}
}

// apiBefore reports whether API version api ("1.41") is before 1.minor.
func apiBefore(api string, minor int) bool {
	var major, m int
	if _, err := fmt.Sscanf(api, "%d.%d", &major, &m); err != nil {
		return false
	}
	return major < 1 || major == 1 && m < minor
}

// everyField sets, on top of an idle service, a value in nearly every
// field a compose file can reach, none of them one the engine changes.
func everyField(h *swarmHarness, network string) func(s *swarm.ServiceSpec) {
	return func(s *swarm.ServiceSpec) {
		cs := s.TaskTemplate.ContainerSpec
		cs.Command = []string{"/testimage"}
		cs.Hostname = "web"
		cs.Env = []string{"A=1", "B=two words"}
		cs.Dir = "/"
		cs.User = "0:0"
		cs.Groups = []string{"10"}
		cs.Init = new(true)
		cs.StopSignal = "SIGINT"
		cs.TTY = true
		cs.OpenStdin = true
		cs.ReadOnly = true
		cs.Mounts = []mount.Mount{
			{Type: mount.TypeVolume, Source: h.name("vol"), Target: "/data", VolumeOptions: &mount.VolumeOptions{Labels: h.labels(), NoCopy: true}},
			{Type: mount.TypeBind, Source: "/tmp", Target: "/host", ReadOnly: true, BindOptions: &mount.BindOptions{Propagation: mount.PropagationRSlave}},
			{Type: mount.TypeTmpfs, Target: "/scratch", TmpfsOptions: &mount.TmpfsOptions{SizeBytes: 1 << 20, Mode: 0o1777}},
		}
		cs.Healthcheck = &container.HealthConfig{
			Test: []string{"CMD", "/testimage", "exit", "0"}, Interval: 2 * time.Second, Timeout: time.Second,
			StartPeriod: 3 * time.Second, Retries: 3,
		}
		cs.Hosts = []string{"10.0.0.1 somehost"}
		cs.DNSConfig = &swarm.DNSConfig{Search: []string{"example.com"}, Options: []string{"ndots:2"}}
		cs.Sysctls = map[string]string{"net.core.somaxconn": "1024"}
		cs.CapabilityAdd = []string{"CAP_NET_ADMIN"}
		cs.CapabilityDrop = []string{"CAP_MKNOD"}
		cs.Ulimits = []*container.Ulimit{{Name: "nofile", Soft: 1024, Hard: 2048}}
		s.TaskTemplate.Resources = &swarm.ResourceRequirements{
			Limits:       &swarm.Limit{MemoryBytes: 64 << 20, NanoCPUs: 500_000_000, Pids: 100},
			Reservations: &swarm.Resources{MemoryBytes: 16 << 20, NanoCPUs: 100_000_000},
		}
		s.TaskTemplate.RestartPolicy = &swarm.RestartPolicy{
			Condition: swarm.RestartPolicyConditionOnFailure, Delay: new(3 * time.Second),
			MaxAttempts: new(uint64(4)), Window: new(time.Minute),
		}
		s.TaskTemplate.Placement = &swarm.Placement{Constraints: []string{"node.role==manager"}, MaxReplicas: 2}
		s.TaskTemplate.Networks = []swarm.NetworkAttachmentConfig{{Target: network, Aliases: []string{"web"}}}
		s.TaskTemplate.LogDriver = &swarm.Driver{Name: "json-file", Options: map[string]string{"max-size": "1m"}}
		s.UpdateConfig = &swarm.UpdateConfig{
			Parallelism: 2, Delay: time.Second, FailureAction: swarm.UpdateFailureActionRollback,
			Monitor: 2 * time.Second, MaxFailureRatio: 0.5, Order: swarm.UpdateOrderStartFirst,
		}
		s.RollbackConfig = &swarm.UpdateConfig{
			Parallelism: 1, FailureAction: swarm.UpdateFailureActionContinue, Monitor: time.Second, Order: swarm.UpdateOrderStopFirst,
		}
		s.EndpointSpec = &swarm.EndpointSpec{
			Mode:  swarm.ResolutionModeDNSRR,
			Ports: []swarm.PortConfig{{Protocol: "tcp", TargetPort: 80, PublishedPort: 28080, PublishMode: swarm.PortConfigPublishModeHost}},
		}
	}
}

func emptyCollections(s *swarm.ServiceSpec) {
	cs := s.TaskTemplate.ContainerSpec
	cs.Labels = map[string]string{}
	cs.Env = []string{}
	cs.Mounts = []mount.Mount{}
	s.TaskTemplate.Networks = []swarm.NetworkAttachmentConfig{}
}

// cloneSpec copies a spec deeply, through its JSON form.
func cloneSpec(t *testing.T, s swarm.ServiceSpec) swarm.ServiceSpec {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatalf("marshalling a spec: %v", err)
	}
	var out swarm.ServiceSpec
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("unmarshalling a spec: %v", err)
	}
	// The JSON form cannot tell a nil map or list from an empty one; the
	// copy keeps the original's.
	restoreEmpty(reflect.ValueOf(&out).Elem(), reflect.ValueOf(s))
	return out
}

// restoreEmpty makes dst's nil maps and slices empty where src's are empty
// but not nil.
func restoreEmpty(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Pointer:
		if !src.IsNil() && !dst.IsNil() {
			restoreEmpty(dst.Elem(), src.Elem())
		}
	case reflect.Struct:
		for i := range src.NumField() {
			if dst.Field(i).CanSet() {
				restoreEmpty(dst.Field(i), src.Field(i))
			}
		}
	case reflect.Map:
		if !src.IsNil() && src.Len() == 0 && dst.IsNil() {
			dst.Set(reflect.MakeMap(src.Type()))
		}
	case reflect.Slice:
		if !src.IsNil() && src.Len() == 0 && dst.IsNil() {
			dst.Set(reflect.MakeSlice(src.Type(), 0, 0))
		}
		for i := range min(src.Len(), dst.Len()) {
			restoreEmpty(dst.Index(i), src.Index(i))
		}
	}
}

func showJSON(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Sprintf("%+v", v)
	}
	return string(b)
}

// specDiff names the fields in which two specs differ, nil and empty told
// apart.
func specDiff(got, want swarm.ServiceSpec) string {
	var diffs []string
	var walk func(path string, g, w reflect.Value)
	walk = func(path string, g, w reflect.Value) {
		switch g.Kind() {
		case reflect.Pointer:
			if g.IsNil() || w.IsNil() {
				if g.IsNil() != w.IsNil() {
					diffs = append(diffs, fmt.Sprintf("%s: got %s, want %s", path, showValue(g), showValue(w)))
				}
				return
			}
			walk(path, g.Elem(), w.Elem())
		case reflect.Struct:
			for i := range g.NumField() {
				walk(path+"."+g.Type().Field(i).Name, g.Field(i), w.Field(i))
			}
		case reflect.Slice:
			if g.IsNil() != w.IsNil() || g.Len() != w.Len() {
				diffs = append(diffs, fmt.Sprintf("%s: got %s (nil %v), want %s (nil %v)", path, showValue(g), g.IsNil(), showValue(w), w.IsNil()))
				return
			}
			for i := range g.Len() {
				walk(fmt.Sprintf("%s[%d]", path, i), g.Index(i), w.Index(i))
			}
		default:
			if g.Kind() == reflect.Map && g.IsNil() != w.IsNil() {
				diffs = append(diffs, fmt.Sprintf("%s: got %s (nil %v), want %s (nil %v)", path, showValue(g), g.IsNil(), showValue(w), w.IsNil()))
			} else if !reflect.DeepEqual(g.Interface(), w.Interface()) {
				diffs = append(diffs, fmt.Sprintf("%s: got %s, want %s", path, showValue(g), showValue(w)))
			}
		}
	}
	walk("Spec", reflect.ValueOf(got), reflect.ValueOf(want))
	return strings.Join(diffs, "; ")
}

func showValue(v reflect.Value) string {
	b, err := json.Marshal(v.Interface())
	if err != nil {
		return fmt.Sprintf("%+v", v.Interface())
	}
	return string(b)
}

// testServiceTasks runs a replicated service: a task per slot, running on
// the node; an update of the service's labels alone replaces none, one of
// its task template replaces them all and its status goes from updating
// to completed; scaling down ends the tasks of the slots gone.
func testServiceTasks(t *testing.T, h *swarmHarness) {
	st, err := h.e.SwarmState(h.ctx)
	if err != nil {
		t.Fatalf("SwarmState: %v", err)
	}
	spec := h.spec("web", "sleep")
	spec.Mode.Replicated.Replicas = new(uint64(2))
	// All at once, and watched for failures briefly, to keep the test short.
	spec.UpdateConfig = &swarm.UpdateConfig{Parallelism: 0, Monitor: 100 * time.Millisecond}
	id := h.create(t, spec)

	twoRunning := func(ts []engine.Task) (bool, string) {
		r := runningTasks(ts)
		return slices.Equal(slotsOf(r), []int{1, 2}), fmt.Sprintf("running in slots %v, want 1 and 2", slotsOf(r))
	}
	first := runningTasks(h.waitTasks(t, id, twoRunning))
	for _, task := range first {
		if task.ServiceID != id || task.NodeID != st.NodeID || task.ContainerID == "" || task.Timestamp.IsZero() {
			t.Errorf("task %+v, want service %s, node %s, a container and a timestamp", task, id, st.NodeID)
		}
	}
	ids := func(ts []engine.Task) []string {
		var out []string
		for _, t := range ts {
			out = append(out, t.ID)
		}
		slices.Sort(out)
		return out
	}

	h.update(t, id, func(s *swarm.ServiceSpec) { s.Labels["role"] = "web" })
	if s := h.service(t, id); s.UpdateState != "" {
		t.Errorf("update state after a labels-only update %q, want none", s.UpdateState)
	}
	h.holds(t, id, func(ts []engine.Task) (bool, string) {
		r := runningTasks(ts)
		return slices.Equal(ids(r), ids(first)), "a labels-only update replaced tasks"
	})

	h.update(t, id, func(s *swarm.ServiceSpec) { s.TaskTemplate.ContainerSpec.Env = []string{"CHANGED=1"} })
	// The swarm's updater takes the update up a moment later: until then
	// the old tasks run and there is no update state.
	updated := h.service(t, id)
	if updated.UpdateState != "" && updated.UpdateState != "updating" {
		t.Errorf("update state right after an update of the tasks %q, want none yet or updating", updated.UpdateState)
	}
	ts := h.waitTasks(t, id, func(ts []engine.Task) (bool, string) {
		r := runningTasks(ts)
		if ok, why := twoRunning(ts); !ok {
			return false, why
		}
		for _, task := range r {
			if slices.Contains(ids(first), task.ID) {
				return false, "an old task still runs"
			}
		}
		return true, ""
	})
	for _, task := range ts {
		if slices.Contains(ids(first), task.ID) && task.DesiredState != engine.TaskShutdown {
			t.Errorf("old task %s desired %s, want shutdown", task.ID, task.DesiredState)
		}
	}
	var done engine.Service
	eventually(t, h.ctx, func() (bool, string) {
		done = h.service(t, id)
		return done.UpdateState == "completed", fmt.Sprintf("update state %q (%q), want completed", done.UpdateState, done.UpdateMessage)
	})
	// Completing the update is a write of its own.
	if done.Version <= updated.Version {
		t.Errorf("version %d once the update completed, want later than %d, the update's", done.Version, updated.Version)
	}

	h.update(t, id, func(s *swarm.ServiceSpec) { s.Mode.Replicated.Replicas = new(uint64(1)) })
	h.waitTasks(t, id, func(ts []engine.Task) (bool, string) {
		var wanted []int
		for _, t := range ts {
			if t.DesiredState == engine.TaskRunning {
				wanted = append(wanted, t.Slot)
			}
		}
		slices.Sort(wanted)
		r := runningTasks(ts)
		return slices.Equal(wanted, []int{1}) && slices.Equal(slotsOf(r), []int{1}),
			fmt.Sprintf("tasks desired running in slots %v, running in %v; want slot 1 alone", wanted, slotsOf(r))
	})
}

// checkRunningHealthy fails the test if a task reported running has a
// running container that is not healthy: the swarm reports a task with a
// healthcheck running only once the check has passed. (A container that
// has exited may belong to a task still reported running: the swarm
// notices the exit a moment later.)
func (h *swarmHarness) checkRunningHealthy(t *testing.T, ts []engine.Task) {
	t.Helper()
	for _, task := range ts {
		if task.State != engine.TaskRunning || task.ContainerID == "" {
			continue
		}
		c, err := h.e.InspectContainer(h.ctx, task.ContainerID)
		if err != nil {
			continue // removed meanwhile
		}
		if c.State == engine.StateRunning && c.Health != engine.HealthHealthy {
			t.Errorf("task %s is running while its container's health is %q", task.ID, c.Health)
		}
	}
}

func testServiceHealthy(t *testing.T, h *swarmHarness) {
	spec := h.spec("web", "sleep")
	spec.TaskTemplate.ContainerSpec.Healthcheck = &container.HealthConfig{
		Test: []string{"CMD", "/testimage", "exit", "0"}, Interval: 300 * time.Millisecond, Timeout: 5 * time.Second, Retries: 1,
	}
	id := h.create(t, spec)
	var states []engine.TaskState
	ts := h.waitTasks(t, id, func(ts []engine.Task) (bool, string) {
		h.checkRunningHealthy(t, ts)
		for _, task := range ts {
			if len(states) == 0 || states[len(states)-1] != task.State {
				states = append(states, task.State)
			}
		}
		return len(runningTasks(ts)) == 1, "want a running task"
	})
	t.Logf("task states seen: %v", states)
	c, err := h.e.InspectContainer(h.ctx, runningTasks(ts)[0].ContainerID)
	if err != nil {
		t.Fatalf("InspectContainer of the task's container: %v", err)
	}
	if c.Health != engine.HealthHealthy {
		t.Errorf("the running task's container is %q, want healthy", c.Health)
	}
}

// testServiceUnhealthy runs a service whose healthcheck fails: its task
// never runs with an unhealthy container; the swarm stops it, and a new
// task replaces it.
func testServiceUnhealthy(t *testing.T, h *swarmHarness) {
	spec := h.spec("web", "sleep")
	spec.TaskTemplate.ContainerSpec.Healthcheck = &container.HealthConfig{
		Test: []string{"CMD", "/testimage", "exit", "1"}, Interval: 200 * time.Millisecond, Timeout: 5 * time.Second, Retries: 1,
	}
	id := h.create(t, spec)
	ts := h.waitTasks(t, id, func(ts []engine.Task) (bool, string) {
		h.checkRunningHealthy(t, ts)
		if len(ts) < 2 {
			return false, "want the first task ended and a second one"
		}
		first := ts[0]
		ended := first.State == engine.TaskComplete || first.State == engine.TaskFailed
		return ended && first.DesiredState == engine.TaskShutdown && ts[1].Slot == first.Slot,
			"want the first task ended, desired shutdown, and another in its slot"
	})
	t.Logf("tasks:\n%s", showTasks(ts))
}

func testServiceMissingImage(t *testing.T, h *swarmHarness) {
	spec := h.spec("web", "sleep")
	spec.TaskTemplate.ContainerSpec.Image = h.name("missing") + ":v1"
	id := h.create(t, spec)
	h.waitTasks(t, id, func(ts []engine.Task) (bool, string) {
		for _, task := range ts {
			if task.State == engine.TaskRejected && strings.Contains(task.Err, "No such image") {
				return true, ""
			}
		}
		return false, "want a task rejected for its image"
	})
}

func testServiceMissingReferences(t *testing.T, h *swarmHarness) {
	tests := []struct {
		name   string
		change func(s *swarm.ServiceSpec)
	}{
		{"network", func(s *swarm.ServiceSpec) {
			s.TaskTemplate.Networks = []swarm.NetworkAttachmentConfig{{Target: h.name("missing")}}
		}},
		{"secret", func(s *swarm.ServiceSpec) {
			s.TaskTemplate.ContainerSpec.Secrets = []*swarm.SecretReference{{
				SecretID: h.id + "missing", SecretName: h.name("missing"),
				File: &swarm.SecretReferenceFileTarget{Name: "s", UID: "0", GID: "0", Mode: 0o444},
			}}
		}},
		{"config", func(s *swarm.ServiceSpec) {
			s.TaskTemplate.ContainerSpec.Configs = []*swarm.ConfigReference{{
				ConfigID: h.id + "missing", ConfigName: h.name("missing"),
				File: &swarm.ConfigReferenceFileTarget{Name: "/c", UID: "0", GID: "0", Mode: 0o444},
			}}
		}},
	}
	for _, tc := range tests {
		spec := h.idle(tc.name)
		tc.change(&spec)
		_, err := h.e.CreateService(h.ctx, spec)
		wantErr(t, "CreateService with a missing "+tc.name, err, engine.ErrNotFound)
	}
	if svcs, err := h.e.ListServices(h.ctx, h.filter()); err != nil || len(svcs) != 0 {
		t.Errorf("ListServices = %v, %v; want none", serviceNames(svcs), err)
	}
}

// iteration returns the tasks of a job's run.
func iteration(ts []engine.Task, n uint64) []engine.Task {
	var out []engine.Task
	for _, t := range ts {
		if t.JobIteration == n {
			out = append(out, t)
		}
	}
	return out
}

// testJobComplete runs a job to completion, then again: every update of a
// job, even one that changes nothing, is a new run with a new iteration.
func testJobComplete(t *testing.T, h *swarmHarness) {
	id := h.create(t, h.job("job", swarm.RestartPolicyConditionNone, "exit", "0"))
	first := h.service(t, id)
	complete := func(n uint64) func(ts []engine.Task) (bool, string) {
		return func(ts []engine.Task) (bool, string) {
			run := iteration(ts, n)
			ok := len(run) == 1 && run[0].State == engine.TaskComplete && run[0].DesiredState == engine.TaskComplete && run[0].ExitCode == 0
			return ok, fmt.Sprintf("want one task of iteration %d, complete", n)
		}
	}
	h.waitTasks(t, id, complete(first.JobIteration))

	h.update(t, id, func(*swarm.ServiceSpec) {})
	second := h.service(t, id)
	if second.JobIteration <= first.JobIteration {
		t.Fatalf("job iteration %d after an update, want more than %d", second.JobIteration, first.JobIteration)
	}
	ts := h.waitTasks(t, id, complete(second.JobIteration))
	if old := iteration(ts, first.JobIteration); len(old) != 1 || old[0].State != engine.TaskComplete {
		t.Errorf("the first run's tasks %v, want its task complete still", old)
	}
}

// testJobFailed runs a job whose task fails with restart condition none:
// it fails once, with its exit code, and is not tried again.
func testJobFailed(t *testing.T, h *swarmHarness) {
	id := h.create(t, h.job("job", swarm.RestartPolicyConditionNone, "exit", "3"))
	failedOnce := func(ts []engine.Task) (bool, string) {
		ok := len(ts) == 1 && ts[0].State == engine.TaskFailed && ts[0].DesiredState == engine.TaskShutdown &&
			ts[0].ExitCode == 3 && strings.Contains(ts[0].Err, "non-zero exit (3)")
		return ok, "want one task, failed with exit code 3"
	}
	h.waitTasks(t, id, failedOnce)
	h.holds(t, id, failedOnce)
}

// testJobRetry runs a failing job with restart condition on-failure and
// one attempt: the first task and one more fail, and none follows.
func testJobRetry(t *testing.T, h *swarmHarness) {
	spec := h.job("job", swarm.RestartPolicyConditionOnFailure, "exit", "3")
	spec.TaskTemplate.RestartPolicy.MaxAttempts = new(uint64(1))
	id := h.create(t, spec)
	failedTwice := func(ts []engine.Task) (bool, string) {
		n := 0
		for _, t := range ts {
			if t.State == engine.TaskFailed && t.ExitCode == 3 {
				n++
			}
		}
		return n == 2 && len(ts) == 2, "want two tasks, both failed with exit code 3"
	}
	h.waitTasks(t, id, failedTwice)
	h.holds(t, id, failedTwice)
}

// objectKind gives the config or the secret calls of the suite's engine.
type objectKind struct {
	name   string
	list   func(ctx context.Context, f engine.Filter) ([]engine.SwarmObject, error)
	create func(ctx context.Context, s engine.SwarmObjectSpec) (string, error)
	remove func(ctx context.Context, id string) error
	// use makes a service spec refer to the object.
	use func(s *swarm.ServiceSpec, id, name string)
}

func configKind(h *swarmHarness) objectKind {
	return objectKind{"config", h.e.ListConfigs, h.e.CreateConfig, h.e.RemoveConfig, func(s *swarm.ServiceSpec, id, name string) {
		s.TaskTemplate.ContainerSpec.Configs = []*swarm.ConfigReference{{
			ConfigID: id, ConfigName: name, File: &swarm.ConfigReferenceFileTarget{Name: "/etc/c", UID: "0", GID: "0", Mode: 0o444},
		}}
	}}
}

func secretKind(h *swarmHarness) objectKind {
	return objectKind{"secret", h.e.ListSecrets, h.e.CreateSecret, h.e.RemoveSecret, func(s *swarm.ServiceSpec, id, name string) {
		s.TaskTemplate.ContainerSpec.Secrets = []*swarm.SecretReference{{
			SecretID: id, SecretName: name, File: &swarm.SecretReferenceFileTarget{Name: "s", UID: "0", GID: "0", Mode: 0o400},
		}}
	}}
}

// testSwarmObjects checks configs or secrets: created and listed by label,
// names unique, not removable while a service's spec refers to them, and
// missing once removed.
func testSwarmObjects(t *testing.T, h *swarmHarness, k objectKind) {
	ids := map[string]string{}
	for _, role := range []string{"a", "b"} {
		spec := engine.SwarmObjectSpec{Name: h.name(role), Labels: h.labels("role", role), Data: []byte("data " + role)}
		id, err := k.create(h.ctx, spec)
		if err != nil || id == "" {
			t.Fatalf("creating %s %s: %q, %v", k.name, spec.Name, id, err)
		}
		ids[role] = id
	}
	objs, err := k.list(h.ctx, engine.Filter{Labels: h.labels("role", "a")})
	if err != nil {
		t.Fatalf("listing %ss: %v", k.name, err)
	}
	if len(objs) != 1 || objs[0].ID != ids["a"] || objs[0].Name != h.name("a") || !maps.Equal(objs[0].Labels, h.labels("role", "a")) || objs[0].Version == 0 {
		t.Errorf("listing %ss by role=a: %+v, want %s alone, with its labels and a version", k.name, objs, h.name("a"))
	}

	_, err = k.create(h.ctx, engine.SwarmObjectSpec{Name: h.name("a"), Labels: h.labels(), Data: []byte("again")})
	wantErr(t, "creating a "+k.name+" with a taken name", err, engine.ErrConflict)

	spec := h.idle("user")
	k.use(&spec, ids["a"], h.name("a"))
	svc := h.create(t, spec)
	wantErr(t, "removing a "+k.name+" in use", k.remove(h.ctx, ids["a"]), engine.ErrConflict)
	if objs, err := k.list(h.ctx, engine.Filter{Labels: h.labels("role", "a")}); err != nil || len(objs) != 1 {
		t.Errorf("listing %ss after a refused remove: %+v, %v; want it still there", k.name, objs, err)
	}

	if err := h.e.RemoveService(h.ctx, svc); err != nil {
		t.Fatalf("RemoveService: %v", err)
	}
	if err := k.remove(h.ctx, ids["a"]); err != nil {
		t.Errorf("removing a %s no longer used: %v", k.name, err)
	}
	wantErr(t, "removing a "+k.name+" twice", k.remove(h.ctx, ids["a"]), engine.ErrNotFound)
	// By name, too.
	if err := k.remove(h.ctx, h.name("b")); err != nil {
		t.Errorf("removing a %s by name: %v", k.name, err)
	}
	if objs, err := k.list(h.ctx, h.filter()); err != nil || len(objs) != 0 {
		t.Errorf("listing %ss after removing them: %+v, %v; want none", k.name, objs, err)
	}
}
