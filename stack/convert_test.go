package stack

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/swarm"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/engine/fake"
	"github.com/composer-orchestrator/composer/project"
)

var (
	updatePlan = flag.Bool("update-plan", false, "rewrite the stack converter's golden files")
	fieldsMD   = flag.String("fields-md", "", "write the table of service fields, as markdown, to this file")
)

// loadDir loads a project directory with a fixed, empty environment and
// no cache, so the result depends on the files only.
func loadDir(t *testing.T, dir string) *types.Project {
	t.Helper()
	p, err := project.Load(context.Background(), project.Options{WorkingDir: dir, Env: []string{}, NoCache: true})
	if err != nil {
		t.Fatalf("loading %s: %v", dir, err)
	}
	return p
}

// writeProject writes a compose file and other files into a new
// directory and loads it.
func writeProject(t *testing.T, compose string, files map[string]string) *types.Project {
	t.Helper()
	dir := t.TempDir()
	files = mapWith(files, "compose.yaml", compose)
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return loadDir(t, dir)
}

func mapWith(m map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for mk, mv := range m {
		out[mk] = mv
	}
	return out
}

func convert(t *testing.T, p *types.Project, opts Options) *Plan {
	t.Helper()
	plan, err := Convert(p, opts)
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

// literal is a project of the given services, built without the loader.
func literal(services ...types.ServiceConfig) *types.Project {
	p := &types.Project{Name: "app", Services: types.Services{}}
	for _, s := range services {
		p.Services[s.Name] = s
	}
	return p
}

func service(name string, edit ...func(*types.ServiceConfig)) types.ServiceConfig {
	s := types.ServiceConfig{Name: name}
	s.Image = "img:" + name
	for _, e := range edit {
		e(&s)
	}
	return s
}

func find(t *testing.T, plan *Plan, key string) Service {
	t.Helper()
	for _, s := range plan.Services {
		if s.Key == key {
			return s
		}
	}
	t.Fatalf("no service %s in the plan", key)
	return Service{}
}

// warned reports whether a warning about service lists field among the
// fields Swarm ignores or approximates.
func warned(warnings []string, service, field string) bool {
	re := regexp.MustCompile(`(?:ignores |approximates |, )` + regexp.QuoteMeta(field) + `(?: \(|, |$)`)
	for _, w := range warnings {
		if strings.HasPrefix(w, "service "+service+": ") && re.MatchString(w) {
			return true
		}
	}
	return false
}

func TestConvertGolden(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("testdata", "full")
	plan := convert(t, loadDir(t, dir), Options{})
	got, err := json.MarshalIndent(plan, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	// Bind sources are absolute: keep the file independent of the checkout.
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	got = append(bytes.ReplaceAll(got, []byte(abs), []byte("<dir>")), '\n')
	golden := filepath.Join("testdata", "full.plan.json")
	if *updatePlan {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./stack -run TestConvertGolden -update-plan)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the plan (run go test ./stack -run TestConvertGolden -update-plan to accept it); got:\n%s", golden, got)
	}
}

func TestConvertNamesAndLabels(t *testing.T) {
	t.Parallel()
	plan := convert(t, loadDir(t, filepath.Join("testdata", "full")), Options{})
	if plan.Namespace != "shop" {
		t.Errorf("namespace %q, want shop", plan.Namespace)
	}
	var names []string
	for _, s := range plan.Services {
		names = append(names, s.Spec.Name)
		if s.Spec.Name != "shop_"+s.Key {
			t.Errorf("service %s is named %s, want shop_%s", s.Key, s.Spec.Name, s.Key)
		}
		if got := s.Spec.Labels[LabelNamespace]; got != "shop" {
			t.Errorf("service %s: namespace label %q", s.Key, got)
		}
		if got := s.Spec.Labels[LabelImage]; got != s.Image {
			t.Errorf("service %s: image label %q, want %q", s.Key, got, s.Image)
		}
		cl := s.Spec.TaskTemplate.ContainerSpec.Labels
		if cl[LabelNamespace] != "shop" {
			t.Errorf("service %s: container labels %v lack the namespace", s.Key, cl)
		}
		for k := range cl {
			if strings.HasPrefix(k, "com.docker.compose.") {
				t.Errorf("service %s: container label %s would let composer down take the task", s.Key, k)
			}
		}
	}
	if !slices.IsSorted(names) {
		t.Errorf("services not sorted: %v", names)
	}

	web := find(t, plan, "web")
	if got, want := web.Spec.Labels["tier"], "frontend"; got != want {
		t.Errorf("deploy.labels not on the service: tier=%q", got)
	}
	if _, ok := web.Spec.Labels["team"]; ok {
		t.Error("container labels leaked onto the service")
	}
	if got := web.Spec.TaskTemplate.ContainerSpec.Labels["team"]; got != "storefront" {
		t.Errorf("labels not on the containers: team=%q", got)
	}

	var nets []string
	for _, n := range plan.Networks {
		nets = append(nets, n.Name)
		if n.Labels[LabelNamespace] != "shop" || n.Driver != "overlay" || !n.Attachable {
			t.Errorf("network %s: %+v, want an attachable overlay with the namespace label", n.Name, n)
		}
	}
	if want := []string{"shop_back", "shop_default", "shop_front"}; !slices.Equal(nets, want) {
		t.Errorf("networks %v, want %v", nets, want)
	}
	if want := []string{"edge-net"}; !slices.Equal(plan.ExternalNetworks, want) {
		t.Errorf("external networks %v, want %v", plan.ExternalNetworks, want)
	}
	objName := regexp.MustCompile(`^shop_(site|tls_key|db_password)_[0-9a-f]{12}$`)
	for _, o := range slices.Concat(plan.Configs, plan.Secrets) {
		if !objName.MatchString(o.Name) || o.Labels[LabelNamespace] != "shop" {
			t.Errorf("object %s: name %s, labels %v", o.Key, o.Name, o.Labels)
		}
	}
	db := find(t, plan, "db")
	m := db.Spec.TaskTemplate.ContainerSpec.Mounts[0]
	if m.Source != "shop_data" || m.VolumeOptions.Labels[LabelNamespace] != "shop" || m.VolumeOptions.Labels["backup"] != "daily" {
		t.Errorf("volume mount %+v, want shop_data with the namespace and the volume's labels", m)
	}
}

func TestConvertNamedResources(t *testing.T) {
	t.Parallel()
	p := writeProject(t, `
name: named
services:
  app:
    image: app
    networks: [net, ext]
    volumes: [vol:/data, extvol:/ext]
    configs: [conf, extconf]
    secrets: [extsecret]
networks:
  net: {name: shared-net}
  ext: {external: true, name: real-ext}
volumes:
  vol: {name: shared-vol}
  extvol: {external: true}
configs:
  conf: {content: hello, name: shared-conf}
  extconf: {external: true, name: real-conf}
secrets:
  extsecret: {external: true}
`, nil)
	plan := convert(t, p, Options{})
	if len(plan.Networks) != 1 || plan.Networks[0].Name != "shared-net" {
		t.Errorf("networks %+v, want shared-net only", plan.Networks)
	}
	if !slices.Equal(plan.ExternalNetworks, []string{"real-ext"}) {
		t.Errorf("external networks %v", plan.ExternalNetworks)
	}
	if !strings.HasPrefix(plan.Configs[0].Name, "shared-conf_") {
		t.Errorf("config %s, want shared-conf_<hash>", plan.Configs[0].Name)
	}
	if !slices.Equal(plan.ExternalConfigs, []string{"real-conf"}) || !slices.Equal(plan.ExternalSecrets, []string{"extsecret"}) {
		t.Errorf("external configs %v, secrets %v", plan.ExternalConfigs, plan.ExternalSecrets)
	}
	app := find(t, plan, "app")
	var sources []string
	for _, m := range app.Spec.TaskTemplate.ContainerSpec.Mounts {
		sources = append(sources, m.Source)
	}
	if want := []string{"shared-vol", "extvol"}; !slices.Equal(sources, want) {
		t.Errorf("mount sources %v, want %v", sources, want)
	}
	ext := app.Spec.TaskTemplate.ContainerSpec.Mounts[1]
	if ext.Target != "/ext" || ext.VolumeOptions != nil {
		t.Errorf("external volume mount %+v: the stack must not label or configure a volume it does not own", ext)
	}
	var targets []string
	for _, n := range app.Spec.TaskTemplate.Networks {
		targets = append(targets, n.Target)
	}
	if want := []string{"real-ext", "shared-net"}; !slices.Equal(targets, want) {
		t.Errorf("attachments %v, want %v", targets, want)
	}
}

func TestConvertModes(t *testing.T) {
	t.Parallel()
	three := 3
	p := literal(
		service("web", func(s *types.ServiceConfig) {
			s.DependsOn = types.DependsOnConfig{
				"init":  {Condition: types.ServiceConditionCompletedSuccessfully, Required: true},
				"agent": {Condition: types.ServiceConditionStarted, Required: false},
			}
			s.Scale = &three
		}),
		service("init", func(s *types.ServiceConfig) {
			s.Deploy = &types.DeployConfig{Replicas: &three, UpdateConfig: &types.UpdateConfig{}}
		}),
		service("agent", func(s *types.ServiceConfig) { s.Deploy = &types.DeployConfig{Mode: "global"} }),
		service("sweep", func(s *types.ServiceConfig) { s.Deploy = &types.DeployConfig{Mode: "global-job"} }),
		service("seed", func(s *types.ServiceConfig) { s.Deploy = &types.DeployConfig{Mode: "replicated-job"} }),
	)
	plan := convert(t, p, Options{})

	web := find(t, plan, "web")
	if web.Job || web.Spec.Mode.Replicated == nil || *web.Spec.Mode.Replicated.Replicas != 3 {
		t.Errorf("web: mode %+v job %v, want 3 replicas", web.Spec.Mode, web.Job)
	}
	if want := map[string]Dependency{"init": {ConditionCompleted, true}, "agent": {ConditionStarted, false}}; !reflect.DeepEqual(web.DependsOn, want) {
		t.Errorf("web depends on %v, want %v", web.DependsOn, want)
	}

	init := find(t, plan, "init")
	j := init.Spec.Mode.ReplicatedJob
	if !init.Job || j == nil || *j.MaxConcurrent != 3 || *j.TotalCompletions != 3 {
		t.Errorf("init: mode %+v job %v, want a replicated job of 3", init.Spec.Mode, init.Job)
	}
	if init.Spec.UpdateConfig != nil || init.Spec.RollbackConfig != nil {
		t.Error("init: a job with an update config, which the engine refuses")
	}
	if !warned(plan.Warnings, "init", "deploy.update_config") {
		t.Errorf("init's update_config dropped silently: %q", plan.Warnings)
	}
	if rp := init.Spec.TaskTemplate.RestartPolicy; rp == nil || rp.Condition != swarm.RestartPolicyConditionNone {
		t.Errorf("init: restart policy %+v, want none: a job runs once", rp)
	}

	if a := find(t, plan, "agent"); a.Job || a.Spec.Mode.Global == nil {
		t.Errorf("agent: mode %+v, want global", a.Spec.Mode)
	}
	if s := find(t, plan, "sweep"); !s.Job || s.Spec.Mode.GlobalJob == nil {
		t.Errorf("sweep: mode %+v, want a global job", s.Spec.Mode)
	}
	if s := find(t, plan, "seed"); !s.Job || s.Spec.Mode.ReplicatedJob == nil || *s.Spec.Mode.ReplicatedJob.TotalCompletions != 1 {
		t.Errorf("seed: mode %+v, want a replicated job of 1", s.Spec.Mode)
	}
}

func TestConvertJobsNeedAPI141(t *testing.T) {
	t.Parallel()
	p := literal(
		service("web", func(s *types.ServiceConfig) {
			s.DependsOn = types.DependsOnConfig{"migrate": {Condition: types.ServiceConditionCompletedSuccessfully, Required: true}}
		}),
		service("migrate"),
	)
	_, err := Convert(p, Options{APIVersion: "1.40"})
	if err == nil || !strings.Contains(err.Error(), "migrate") || !strings.Contains(err.Error(), "1.41") {
		t.Errorf("API 1.40: error %v, want one naming migrate and API 1.41", err)
	}
	for _, v := range []string{"1.41", "1.47", "2.0", ""} {
		if _, err := Convert(p, Options{APIVersion: v}); err != nil {
			t.Errorf("API %q: %v", v, err)
		}
	}
	if _, err := Convert(p, Options{APIVersion: "latest"}); err == nil {
		t.Error("an invalid API version was accepted")
	}
}

func TestConvertAPIVersionGates(t *testing.T) {
	t.Parallel()
	p := literal(service("web", func(s *types.ServiceConfig) {
		s.OomScoreAdj = 500
		s.MemLimit = 1 << 20
		s.MemSwapLimit = 2 << 20
		s.Volumes = []types.ServiceVolumeConfig{{Type: "volume", Target: "/data", Volume: &types.ServiceVolumeVolume{Subpath: "sub"}}}
	}))

	cur := find(t, convert(t, p, Options{APIVersion: "1.52"}), "web")
	if cur.Spec.TaskTemplate.ContainerSpec.OomScoreAdj != 500 {
		t.Error("oom_score_adj dropped on a current engine")
	}
	if sw := cur.Spec.TaskTemplate.Resources.SwapBytes; sw == nil || *sw != 1<<20 {
		t.Errorf("swap %v, want the 1 MiB beyond the memory limit", sw)
	}

	plan := convert(t, p, Options{APIVersion: "1.44"})
	old := find(t, plan, "web")
	if old.Spec.TaskTemplate.ContainerSpec.OomScoreAdj != 0 || old.Spec.TaskTemplate.Resources.SwapBytes != nil ||
		old.Spec.TaskTemplate.ContainerSpec.Mounts[0].VolumeOptions.Subpath != "" {
		t.Errorf("fields newer than API 1.44 sent to a 1.44 engine: %+v", old.Spec.TaskTemplate)
	}
	for _, f := range []string{"oom_score_adj", "memswap_limit", "volumes.volume.subpath"} {
		if !warned(plan.Warnings, "web", f) {
			t.Errorf("%s dropped without a warning: %q", f, plan.Warnings)
		}
	}
}

func TestConvertRestart(t *testing.T) {
	t.Parallel()
	u := func(v uint64) *uint64 { return &v }
	tests := []struct {
		restart string
		deploy  *types.RestartPolicy
		job     bool
		want    *swarm.RestartPolicy
		warn    bool
	}{
		{restart: "", want: nil},
		{restart: "no", want: &swarm.RestartPolicy{Condition: "none"}},
		{restart: "always", want: &swarm.RestartPolicy{Condition: "any"}},
		{restart: "unless-stopped", want: &swarm.RestartPolicy{Condition: "any"}, warn: true},
		{restart: "on-failure", want: &swarm.RestartPolicy{Condition: "on-failure"}},
		{restart: "on-failure:5", want: &swarm.RestartPolicy{Condition: "on-failure", MaxAttempts: u(5)}},
		{restart: "always", deploy: &types.RestartPolicy{Condition: "none"}, want: &swarm.RestartPolicy{Condition: "none"}, warn: true},
		{deploy: &types.RestartPolicy{MaxAttempts: u(2)}, want: &swarm.RestartPolicy{Condition: "any", MaxAttempts: u(2)}},
		{restart: "", job: true, want: &swarm.RestartPolicy{Condition: "none"}},
		{restart: "always", job: true, want: &swarm.RestartPolicy{Condition: "on-failure"}, warn: true},
		{restart: "on-failure:2", job: true, want: &swarm.RestartPolicy{Condition: "on-failure", MaxAttempts: u(2)}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%v/job=%v", tt.restart, tt.deploy, tt.job), func(t *testing.T) {
			t.Parallel()
			s := service("s", func(s *types.ServiceConfig) {
				s.Restart = tt.restart
				if tt.deploy != nil {
					s.Deploy = &types.DeployConfig{RestartPolicy: tt.deploy}
				}
				if tt.job {
					s.Deploy = &types.DeployConfig{Mode: "replicated-job"}
				}
			})
			plan := convert(t, literal(s), Options{})
			if got := find(t, plan, "s").Spec.TaskTemplate.RestartPolicy; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("restart policy %+v, want %+v", got, tt.want)
			}
			if got := warned(plan.Warnings, "s", "restart"); got != tt.warn {
				t.Errorf("warned about restart: %v, want %v (%q)", got, tt.warn, plan.Warnings)
			}
		})
	}
	_, err := Convert(literal(service("s", func(s *types.ServiceConfig) { s.Restart = "sometimes" })), Options{})
	if err == nil || !strings.Contains(err.Error(), "service s: restart") {
		t.Errorf("unknown restart: error %v, want one naming service s and restart", err)
	}
}

func TestConvertPorts(t *testing.T) {
	t.Parallel()
	p := writeProject(t, `
name: ports
services:
  web:
    image: web
    ports:
      - "127.0.0.1:8443:443"
      - "8080:80"
      - "9000-9002:9000"
      - "80"
      - target: 5353
        published: "53"
        protocol: udp
        mode: host
  dns:
    image: dns
    deploy: {endpoint_mode: dnsrr}
    ports:
      - {target: 53, published: "53", mode: host}
`, nil)
	plan := convert(t, p, Options{})
	web := find(t, plan, "web").Spec.EndpointSpec
	want := &swarm.EndpointSpec{Mode: "vip", Ports: []swarm.PortConfig{
		{Protocol: "tcp", TargetPort: 80, PublishedPort: 0, PublishMode: "ingress"},
		{Protocol: "tcp", TargetPort: 80, PublishedPort: 8080, PublishMode: "ingress"},
		{Protocol: "tcp", TargetPort: 443, PublishedPort: 8443, PublishMode: "ingress"},
		{Protocol: "udp", TargetPort: 5353, PublishedPort: 53, PublishMode: "host"},
		{Protocol: "tcp", TargetPort: 9000, PublishedPort: 9000, PublishMode: "ingress"},
	}}
	if !reflect.DeepEqual(web, want) {
		t.Errorf("web endpoint\n got %+v\nwant %+v", web, want)
	}
	for _, f := range []string{"ports.host_ip", "ports.published"} {
		if !warned(plan.Warnings, "web", f) {
			t.Errorf("%s not warned about: %q", f, plan.Warnings)
		}
	}
	dns := find(t, plan, "dns").Spec.EndpointSpec
	if dns.Mode != swarm.ResolutionModeDNSRR || len(dns.Ports) != 1 || dns.Ports[0].PublishMode != "host" {
		t.Errorf("dns endpoint %+v, want dnsrr with a host port", dns)
	}
	if s := find(t, convert(t, literal(service("quiet")), Options{}), "quiet"); s.Spec.EndpointSpec != nil {
		t.Errorf("a service without ports has endpoint %+v, want none", s.Spec.EndpointSpec)
	}

	bad := literal(service("dns", func(s *types.ServiceConfig) {
		s.Deploy = &types.DeployConfig{EndpointMode: "dnsrr"}
		s.Ports = []types.ServicePortConfig{{Target: 53, Published: "53"}}
	}))
	if _, err := Convert(bad, Options{}); err == nil || !strings.Contains(err.Error(), "service dns: ports") {
		t.Errorf("dnsrr with an ingress port: error %v, want one naming service dns and ports", err)
	}
}

func TestConvertNetworks(t *testing.T) {
	t.Parallel()
	no := false
	p := literal(
		service("web", func(s *types.ServiceConfig) {
			s.Networks = map[string]*types.ServiceNetworkConfig{
				"front": {Aliases: []string{"www", "shop"}, Ipv4Address: "10.1.0.5", DriverOpts: types.Options{"k": "v"}},
				"back":  {UseServiceNameAlias: &no},
			}
		}),
		service("lone"),
		service("hostnet", func(s *types.ServiceConfig) {
			s.NetworkMode = "host"
			s.Ports = []types.ServicePortConfig{{Target: 80, Published: "80"}}
		}),
		service("sidecar", func(s *types.ServiceConfig) { s.NetworkMode = "service:web" }),
	)
	p.Networks = types.Networks{
		"front": {Driver: "bridge"},
		"back":  {Ipam: types.IPAMConfig{Config: []*types.IPAMPool{{Subnet: "10.2.0.0/24"}}}},
	}
	plan := convert(t, p, Options{})

	web := find(t, plan, "web").Spec.TaskTemplate.Networks
	want := []swarm.NetworkAttachmentConfig{
		{Target: "app_back"},
		{Target: "app_front", Aliases: []string{"shop", "web", "www"}, DriverOpts: map[string]string{"k": "v"}},
	}
	if !reflect.DeepEqual(web, want) {
		t.Errorf("web attachments\n got %+v\nwant %+v", web, want)
	}
	if !warned(plan.Warnings, "web", "networks.front.ipv4_address") {
		t.Errorf("ipv4_address dropped silently: %q", plan.Warnings)
	}
	if !slices.Contains(plan.Warnings, "network front: Swarm approximates driver bridge with overlay: a service's network spans the swarm") {
		t.Errorf("driver bridge changed silently: %q", plan.Warnings)
	}
	var names []string
	for _, n := range plan.Networks {
		names = append(names, n.Name)
		if n.Driver != "overlay" {
			t.Errorf("network %s has driver %s", n.Name, n.Driver)
		}
	}
	if want := []string{"app_back", "app_default", "app_front"}; !slices.Equal(names, want) {
		t.Errorf("networks %v, want %v", names, want)
	}
	if got := plan.Networks[0].IPAM.Configs; len(got) != 1 || got[0].Subnet != "10.2.0.0/24" {
		t.Errorf("back's ipam %+v", got)
	}

	if got := find(t, plan, "lone").Spec.TaskTemplate.Networks; !reflect.DeepEqual(got, []swarm.NetworkAttachmentConfig{{Target: "app_default", Aliases: []string{"lone"}}}) {
		t.Errorf("a service without networks joins %+v, want app_default", got)
	}
	host := find(t, plan, "hostnet")
	if got := host.Spec.TaskTemplate.Networks; !reflect.DeepEqual(got, []swarm.NetworkAttachmentConfig{{Target: "host"}}) {
		t.Errorf("network_mode host joins %+v, want the host network without aliases", got)
	}
	if host.Spec.EndpointSpec != nil || !warned(plan.Warnings, "hostnet", "ports") {
		t.Errorf("a host-network service publishes %+v (warnings %q)", host.Spec.EndpointSpec, plan.Warnings)
	}
	if !warned(plan.Warnings, "sidecar", "network_mode") {
		t.Errorf("network_mode service: not warned: %q", plan.Warnings)
	}
}

func TestConvertMounts(t *testing.T) {
	t.Parallel()
	p := writeProject(t, `
name: mnt
services:
  app:
    image: app
    tmpfs: ["/tmp:size=2k,mode=700,noexec"]
    volumes:
      - type: volume
        source: data
        target: /z
        volume: {nocopy: true, subpath: sub}
      - /anon
      - type: bind
        source: ./src
        target: /src
        read_only: true
        bind: {propagation: rshared, selinux: z}
      - type: tmpfs
        target: /cache
        tmpfs: {size: 1024, mode: 0o1777}
volumes:
  data:
    driver_opts: {size: 10G}
`, map[string]string{"src": ""})
	// volume_driver is in the model but not in the schema.
	s := p.Services["app"]
	s.VolumeDriver = "rexray"
	p.Services["app"] = s
	plan := convert(t, p, Options{})
	app := find(t, plan, "app")
	ns := map[string]string{LabelNamespace: "mnt"}
	src := filepath.Join(p.WorkingDir, "src")
	want := []mount.Mount{
		{Type: "volume", Target: "/anon", VolumeOptions: &mount.VolumeOptions{Labels: ns, DriverConfig: &mount.Driver{Name: "rexray"}}},
		{Type: "tmpfs", Target: "/cache", TmpfsOptions: &mount.TmpfsOptions{SizeBytes: 1024, Mode: 0o1777}},
		{Type: "bind", Source: src, Target: "/src", ReadOnly: true, BindOptions: &mount.BindOptions{Propagation: "rshared"}},
		{Type: "tmpfs", Target: "/tmp", TmpfsOptions: &mount.TmpfsOptions{SizeBytes: 2048, Mode: 0o700, Options: [][]string{{"noexec"}}}},
		{Type: "volume", Source: "mnt_data", Target: "/z", VolumeOptions: &mount.VolumeOptions{
			NoCopy: true, Subpath: "sub", Labels: ns, DriverConfig: &mount.Driver{Name: "rexray", Options: map[string]string{"size": "10G"}},
		}},
	}
	if got := app.Spec.TaskTemplate.ContainerSpec.Mounts; !reflect.DeepEqual(got, want) {
		t.Errorf("mounts\n got %+v\nwant %+v", got, want)
	}
	for _, f := range []string{"volumes.bind.selinux", "volume_driver", "volumes"} {
		if !warned(plan.Warnings, "app", f) {
			t.Errorf("%s not warned about: %q", f, plan.Warnings)
		}
	}
}

func TestConvertResources(t *testing.T) {
	t.Parallel()
	p := literal(
		service("flat", func(s *types.ServiceConfig) {
			s.CPUS = 0.1
			s.MemLimit = 64 << 20
			s.MemReservation = 32 << 20
			s.PidsLimit = 100
		}),
		service("both", func(s *types.ServiceConfig) {
			s.CPUS = 2
			s.Deploy = &types.DeployConfig{Resources: types.Resources{
				Limits: &types.Resource{NanoCPUs: 0.25},
				Reservations: &types.Resource{
					GenericResources: []types.GenericResource{{DiscreteResourceSpec: &types.DiscreteGenericResource{Kind: "GPU", Value: 1}}},
					Devices:          []types.DeviceRequest{{Capabilities: []string{"gpu"}}},
				},
			}}
		}),
		service("none"),
	)
	plan := convert(t, p, Options{})
	flat := find(t, plan, "flat").Spec.TaskTemplate.Resources
	want := &swarm.ResourceRequirements{
		Limits:       &swarm.Limit{NanoCPUs: 100_000_000, MemoryBytes: 64 << 20, Pids: 100},
		Reservations: &swarm.Resources{MemoryBytes: 32 << 20},
	}
	if !reflect.DeepEqual(flat, want) {
		t.Errorf("flat resources %+v / %+v, want %+v / %+v", flat.Limits, flat.Reservations, want.Limits, want.Reservations)
	}
	for _, f := range []string{"cpus", "mem_limit", "mem_reservation", "pids_limit"} {
		if !warned(plan.Warnings, "flat", f) {
			t.Errorf("flat: %s approximated silently: %q", f, plan.Warnings)
		}
	}
	both := find(t, plan, "both").Spec.TaskTemplate.Resources
	if both.Limits.NanoCPUs != 250_000_000 || len(both.Reservations.GenericResources) != 1 {
		t.Errorf("both: %+v / %+v, want deploy's cpus and the generic resource", both.Limits, both.Reservations)
	}
	for _, f := range []string{"cpus", "deploy.resources.reservations.devices"} {
		if !warned(plan.Warnings, "both", f) {
			t.Errorf("both: %s not warned about: %q", f, plan.Warnings)
		}
	}
	if r := find(t, plan, "none").Spec.TaskTemplate.Resources; r != nil {
		t.Errorf("a service without resources has %+v", r)
	}
}

func TestConvertContainerSpec(t *testing.T) {
	t.Parallel()
	p := writeProject(t, `
name: cs
services:
  app:
    image: app
    entrypoint: ["/init"]
    command: []
    environment: [B=2, A=1, EMPTY=, UNSET]
    group_add: [audio]
    isolation: process
    oom_score_adj: -100
    security_opt: [no-new-privileges:true, seccomp=unconfined, apparmor=unconfined, label=type:svirt_t, systempaths=unconfined]
    credential_spec: {registry: my-spec}
    dns_opt: [ndots:2]
    healthcheck: {disable: true}
    stop_grace_period: 1m30s
    tty: true
    stdin_open: true
    labels:
      com.docker.compose.project: other
      keep: me
`, nil)
	plan := convert(t, p, Options{})
	cs := find(t, plan, "app").Spec.TaskTemplate.ContainerSpec
	grace := 90 * time.Second
	want := &swarm.ContainerSpec{
		Image:     "app:latest",
		Labels:    map[string]string{"keep": "me", LabelNamespace: "cs"},
		Command:   []string{"/init"},
		Env:       []string{"A=1", "B=2", "EMPTY="},
		Groups:    []string{"audio"},
		Isolation: "process",
		Privileges: &swarm.Privileges{
			CredentialSpec:  &swarm.CredentialSpec{Registry: "my-spec"},
			SELinuxContext:  &swarm.SELinuxContext{Type: "svirt_t"},
			Seccomp:         &swarm.SeccompOpts{Mode: swarm.SeccompModeUnconfined},
			AppArmor:        &swarm.AppArmorOpts{Mode: swarm.AppArmorModeDisabled},
			NoNewPrivileges: true,
		},
		TTY:             true,
		OpenStdin:       true,
		StopGracePeriod: &grace,
		DNSConfig:       &swarm.DNSConfig{Options: []string{"ndots:2"}},
		OomScoreAdj:     -100,
	}
	want.Healthcheck = cs.Healthcheck
	if cs.Healthcheck == nil || !slices.Equal(cs.Healthcheck.Test, []string{"NONE"}) {
		t.Errorf("healthcheck %+v, want NONE", cs.Healthcheck)
	}
	if !reflect.DeepEqual(cs, want) {
		t.Errorf("container spec\n got %+v\nwant %+v", cs, want)
	}
	for _, f := range []string{"labels", "security_opt", "command"} {
		if !warned(plan.Warnings, "app", f) {
			t.Errorf("%s not warned about: %q", f, plan.Warnings)
		}
	}
}

func TestConvertObjectsHashed(t *testing.T) {
	t.Parallel()
	const compose = `
name: objs
services:
  app:
    image: app
    configs: [conf]
    secrets: [pw]
configs:
  conf: {file: ./conf.txt}
secrets:
  pw: {file: ./pw.txt}
`
	names := func(conf, pw string) (string, string) {
		plan := convert(t, writeProject(t, compose, map[string]string{"conf.txt": conf, "pw.txt": pw}), Options{})
		return plan.Configs[0].Name, plan.Secrets[0].Name
	}
	c1, s1 := names("a", "b")
	c2, s2 := names("a", "b")
	c3, s3 := names("a2", "b")
	if c1 != c2 || s1 != s2 {
		t.Errorf("same content, different names: %s %s / %s %s", c1, s1, c2, s2)
	}
	if c3 == c1 {
		t.Errorf("config content changed but its name %s did not", c1)
	}
	if s3 != s1 {
		t.Errorf("secret content unchanged but its name changed: %s -> %s", s1, s3)
	}
	if !regexp.MustCompile(`^objs_conf_[0-9a-f]{12}$`).MatchString(c1) {
		t.Errorf("config name %s, want objs_conf_<12 hex>", c1)
	}

	long := strings.Repeat("k", 80)
	p := literal(service("app", func(s *types.ServiceConfig) {
		s.Configs = []types.ServiceConfigObjConfig{{Source: long}}
	}))
	p.Configs = types.Configs{long: {Content: "x"}}
	plan := convert(t, p, Options{})
	name := plan.Configs[0].Name
	if len(name) > maxObjectName || !strings.HasPrefix(name, "app_kkk") || !regexp.MustCompile(`_[0-9a-f]{12}$`).MatchString(name) {
		t.Errorf("long key: name %s (%d characters), want at most %d, namespaced and hashed", name, len(name), maxObjectName)
	}
	ref := find(t, plan, "app").Spec.TaskTemplate.ContainerSpec.Configs[0]
	if ref.ConfigName != name || ref.File.Name != "/"+long || ref.File.UID != "0" || ref.File.Mode != 0o444 {
		t.Errorf("config reference %+v %+v", ref, ref.File)
	}
}

func TestConvertErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		compose string
		want    []string
	}{
		{"missing config file", `
services:
  web: {image: web, configs: [site]}
  other: {image: other, configs: [site]}
configs:
  site: {file: ./nope.conf}
`, []string{"service other: configs: config site: read its file", "nope.conf"}},
		{"bad dns", `
services:
  web: {image: web, dns: [not-an-ip]}
`, []string{`service web: dns: "not-an-ip" is not an IP address`}},
		{"bad service name", `
services:
  web.v2: {image: web}
`, []string{"service web.v2: name: swarm service name"}},
		{"unset secret variable", `
services:
  web: {image: web, secrets: [token]}
secrets:
  token: {environment: TOKEN}
`, []string{"service web: secrets: secret token: environment variable TOKEN is not set"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Convert(writeProject(t, "name: bad\n"+tt.compose, nil), Options{})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if n := strings.Count(err.Error(), "nope.conf"); n > 1 {
				t.Errorf("the missing file is reported %d times: %q", n, err)
			}
		})
	}
}

func TestConvertWarningsOncePerService(t *testing.T) {
	t.Parallel()
	p := writeProject(t, `
name: warn
services:
  legacy:
    build: .
    container_name: legacy-1
    privileged: true
    links: [db]
    external_links: [other_db]
    devices: ["/dev/fuse:/dev/fuse"]
    pid: host
    ipc: host
    cgroup_parent: custom
    cpu_shares: 512
    security_opt: [apparmor=custom, systempaths=unconfined]
    shm_size: 64m
    userns_mode: host
    volumes_from: [db]
    mac_address: 02:42:ac:11:00:02
    runtime: runc
    platform: linux/arm64/v8
    pull_policy: always
    domainname: example.com
    storage_opt: {size: 1G}
    device_cgroup_rules: ["c 1:3 mr"]
    networks:
      default: {ipv4_address: 172.20.0.5}
  db:
    image: db
    expose: ["5432"]
`, map[string]string{"Dockerfile": "FROM scratch\n"})
	plan := convert(t, p, Options{})
	perService := map[string]map[string]int{}
	for _, w := range plan.Warnings {
		m := regexp.MustCompile(`^service (\S+): Swarm (ignores|approximates) (.*)$`).FindStringSubmatch(w)
		if m == nil {
			continue
		}
		if perService[m[1]] == nil {
			perService[m[1]] = map[string]int{}
		}
		perService[m[1]][m[2]]++
	}
	for svc, kinds := range perService {
		for kind, n := range kinds {
			if n > 1 {
				t.Errorf("service %s: %d warnings saying what Swarm %s: %q", svc, n, kind, plan.Warnings)
			}
		}
	}
	for _, f := range []string{"build", "container_name", "privileged", "links", "external_links", "devices", "pid", "ipc",
		"cgroup_parent", "cpu_shares", "security_opt", "shm_size", "userns_mode", "volumes_from", "mac_address", "runtime",
		"pull_policy", "domainname", "storage_opt", "device_cgroup_rules", "networks.default.ipv4_address", "platform", "depends_on"} {
		if !warned(plan.Warnings, "legacy", f) {
			t.Errorf("legacy: %s not named: %q", f, plan.Warnings)
		}
		if n := strings.Count(strings.Join(plan.Warnings, "\n"), " "+f+" ("); n > 1 {
			t.Errorf("legacy: %s named %d times", f, n)
		}
	}
	if _, ok := perService["db"]; ok {
		t.Errorf("db (expose only) warned about: %q", plan.Warnings)
	}
	legacy := find(t, plan, "legacy")
	if !legacy.Build || legacy.Image != "warn-legacy" {
		t.Errorf("legacy: build %v image %q, want the image composer builds, warn-legacy", legacy.Build, legacy.Image)
	}
	if got := legacy.Spec.TaskTemplate.Placement.Platforms; !reflect.DeepEqual(got, []swarm.Platform{{OS: "linux", Architecture: "arm64"}}) {
		t.Errorf("platform placed as %+v", got)
	}
}

func TestConvertDeterministic(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("testdata", "full")
	a := convert(t, loadDir(t, dir), Options{})
	b := convert(t, loadDir(t, dir), Options{})
	if !reflect.DeepEqual(a, b) {
		t.Error("two conversions of one project differ")
	}
	p := loadDir(t, dir)
	if c, d := convert(t, p, Options{}), convert(t, p, Options{}); !reflect.DeepEqual(c, d) {
		t.Error("converting one loaded project twice gives different plans")
	}
	noEmpty(t, reflect.ValueOf(a), "plan")
}

// noEmpty fails for every empty, non-nil slice or map in v: absent fields
// must stay absent, as deploy compares specs with what the engine gives
// back.
func noEmpty(t *testing.T, v reflect.Value, path string) {
	t.Helper()
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			noEmpty(t, v.Elem(), path)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				noEmpty(t, v.Field(i), path+"."+v.Type().Field(i).Name)
			}
		}
	case reflect.Slice:
		if !v.IsNil() && v.Len() == 0 {
			t.Errorf("%s is an empty list, not nil", path)
		}
		for i := range v.Len() {
			noEmpty(t, v.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.Map:
		if !v.IsNil() && v.Len() == 0 {
			t.Errorf("%s is an empty map, not nil", path)
		}
		for _, k := range v.MapKeys() {
			noEmpty(t, v.MapIndex(k), fmt.Sprintf("%s[%v]", path, k))
		}
	}
}

// configField is one field of types.ServiceConfig, its embedded specs'
// fields included.
type configField struct {
	key   string
	index []int
}

// serviceConfigFields lists the fields of types.ServiceConfig by the key
// serviceFields uses: the yaml name, or the Go name for a field without.
func serviceConfigFields(typ reflect.Type, index []int) []configField {
	var out []configField
	for i := range typ.NumField() {
		f := typ.Field(i)
		idx := append(slices.Clone(index), i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if f.Anonymous && name == "" && strings.Contains(opts, "inline") {
			out = append(out, serviceConfigFields(f.Type, idx)...)
			continue
		}
		if name == "" || name == "-" {
			name = f.Name
		}
		out = append(out, configField{key: name, index: idx})
	}
	return out
}

func TestServiceFieldsClassified(t *testing.T) {
	t.Parallel()
	table := map[string]serviceField{}
	for _, f := range serviceFields {
		if _, dup := table[f.key]; dup {
			t.Errorf("%s is classified twice", f.key)
		}
		table[f.key] = f
		switch f.class {
		case fieldCarried, fieldApproximated, fieldMoot:
		case fieldWarned:
			if f.set == nil {
				t.Errorf("%s is warned about but has no set function", f.key)
			}
		default:
			t.Errorf("%s has class %q", f.key, f.class)
		}
	}
	fields := serviceConfigFields(reflect.TypeFor[types.ServiceConfig](), nil)
	seen := map[string]bool{}
	for _, f := range fields {
		seen[f.key] = true
		if _, ok := table[f.key]; !ok {
			t.Errorf("types.ServiceConfig field %s is not in serviceFields: say whether Swarm carries, approximates or ignores it", f.key)
		}
	}
	for key := range table {
		if !seen[key] {
			t.Errorf("serviceFields classifies %s, which types.ServiceConfig does not have", key)
		}
	}
}

// fill sets v to a non-zero value of its type.
func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(p.Elem())
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(s.Index(0))
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k)
		fill(e)
		m.SetMapIndex(k, e)
		v.Set(m)
	}
}

// TestServiceFieldsWarn sets each field the table has a set function for,
// alone, and checks the set function sees it and, for a field Swarm does
// not carry as is, that a warning names it.
func TestServiceFieldsWarn(t *testing.T) {
	t.Parallel()
	table := map[string]serviceField{}
	for _, f := range serviceFields {
		table[f.key] = f
	}
	for _, cf := range serviceConfigFields(reflect.TypeFor[types.ServiceConfig](), nil) {
		f := table[cf.key]
		if f.set == nil {
			continue
		}
		t.Run(cf.key, func(t *testing.T) {
			t.Parallel()
			s := service("s")
			if f.set(&s) {
				t.Fatal("set reports a field the service does not set")
			}
			fill(reflect.ValueOf(&s).Elem().FieldByIndex(cf.index))
			if !f.set(&s) {
				t.Fatal("set does not see the field set")
			}
			if f.class != fieldWarned && f.class != fieldApproximated {
				return
			}
			plan, err := Convert(literal(s), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !warned(plan.Warnings, "s", cf.key) {
				t.Errorf("no warning names %s: %q", cf.key, plan.Warnings)
			}
			noEmpty(t, reflect.ValueOf(plan), "plan")
		})
	}
}

// TestFieldsMarkdown writes the field table as markdown when asked to
// (go test ./stack -run TestFieldsMarkdown -fields-md=FILE).
func TestFieldsMarkdown(t *testing.T) {
	if *fieldsMD == "" {
		t.Skip("no -fields-md file")
	}
	var b strings.Builder
	b.WriteString(fieldsMarkdownHead)
	for _, f := range serviceFields {
		key := "`" + f.key + "`"
		switch f.key {
		case "#extensions":
			key = "`x-*` (extensions)"
		case "CustomLabels":
			key = "(CustomLabels, no yaml name)"
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", key, f.class, mdEscape.Replace(f.note))
	}
	b.WriteString(fieldsMarkdownTail)
	if err := os.WriteFile(*fieldsMD, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

var mdEscape = strings.NewReplacer("|", `\|`, "<", `\<`)

const fieldsMarkdownHead = `# composer deploy: compose service fields in Swarm

How ` + "`stack.Convert`" + ` treats each field of a compose service (every field of
compose-go's ` + "`types.ServiceConfig`" + `, in its order; the table is
` + "`serviceFields`" + ` in stack/convert_fields.go, which a test keeps complete).

- **carried**: mapped to the swarm service spec with its meaning.
- **approximated**: mapped to something close; a warning says how when a service sets it.
- **warned**: Swarm has no place for it; a warning names it when a service sets it.
- **n/a**: nothing to do (the loader applied it, or it means nothing to Swarm); never warned.

Warnings come at most two per service, each field named once:
` + "`service web: Swarm ignores container_name (...), privileged (...)`" + ` and
` + "`service web: Swarm approximates cpus (...)`" + `. A field newer than the engine's API
version is left out of the spec and named among the ignored fields ("needs engine API 1.46").

| field | class | how |
|---|---|---|
`

const fieldsMarkdownTail = `
## deploy

| field | handling |
|---|---|
| ` + "`deploy.mode`" + ` | replicated, global, replicated-job, global-job. A service another waits for with service_completed_successfully runs as a job (replicated-job, or global-job when global); jobs need API 1.41, else Convert fails naming them |
| ` + "`deploy.replicas`" + ` / ` + "`scale`" + ` | Replicated.Replicas, always explicit (1 by default); a job's TotalCompletions and MaxConcurrent; warned for global services |
| ` + "`deploy.labels`" + ` | the service's labels, with com.docker.stack.namespace and com.docker.stack.image |
| ` + "`deploy.resources.limits`" + ` | cpus, memory, pids (API 1.41); devices and generic_resources warned |
| ` + "`deploy.resources.reservations`" + ` | cpus, memory, generic_resources (discrete); devices and pids warned |
| ` + "`deploy.restart_policy`" + ` | condition (any when unset, explicit), delay, max_attempts, window; wins over restart (warned). A job restarts on failure at most |
| ` + "`deploy.update_config`" + `, ` + "`deploy.rollback_config`" + ` | parallelism (1 when unset), delay, failure_action (pause), monitor, max_failure_ratio, order (stop-first); none for a job (warned: the engine refuses them) |
| ` + "`deploy.placement`" + ` | constraints, preferences (spread), max_replicas_per_node (API 1.40); ` + "`platform`" + ` adds Platforms |
| ` + "`deploy.endpoint_mode`" + ` | vip (explicit when there are ports) or dnsrr; dnsrr with a port in ingress mode is an error |

## Top-level elements

| element | handling |
|---|---|
| ` + "`name`" + ` | the stack's namespace: every resource is ` + "`<name>_...`" + ` and carries ` + "`com.docker.stack.namespace=<name>`" + ` |
| ` + "`networks`" + ` | only the networks services use. Created as ` + "`<ns>_<key>`" + ` (or ` + "`name:`" + `), driver overlay by default (driver bridge becomes overlay, with a warning), attachable, with driver_opts, internal, enable_ipv6, ipam (driver, subnets, ranges, gateways, aux addresses, options) and labels plus the namespace. ` + "`enable_ipv4: false`" + ` is warned. A service without networks joins ` + "`<ns>_default`" + `. External networks go to ExternalNetworks by their real name (deploy checks they exist). |
| ` + "`volumes`" + ` | not created by the plan: each node's engine creates a volume when a task first mounts it, from the mount's VolumeOptions: source ` + "`<ns>_<key>`" + ` (or ` + "`name:`" + `), driver and driver_opts, labels plus the namespace. External volumes are mounted by name, with no options. |
| ` + "`configs`" + ` | those services use (and a credential_spec's). Created as ` + "`<ns>_<key>_<12 hex of sha256(content)>`" + ` (` + "`name:`" + ` replaces ` + "`<ns>_<key>`" + `; the base is shortened to keep 64 characters), from file, environment or content, with labels plus the namespace; a changed content makes a new config and rolls the services using it. At most 500 KiB. driver, driver_opts and template_driver are warned (the plan carries content only). External configs go to ExternalConfigs by their real name. |
| ` + "`secrets`" + ` | as configs, from file or environment. |
| ` + "`jobs`" + ` | warned: Swarm has no scheduled or manually triggered jobs. |
| ` + "`models`" + ` | nothing; services using models are warned. |
| ` + "`include`, `x-*`" + ` | applied by the loader / the user's. |
`

func TestConvertObjectSources(t *testing.T) {
	t.Parallel()
	p := literal(service("app", func(s *types.ServiceConfig) {
		s.Configs = []types.ServiceConfigObjConfig{{Source: "inline", Target: "/etc/inline"}, {Source: "fromenv"}}
		s.Secrets = []types.ServiceSecretConfig{{Source: "token"}}
		s.CredentialSpec = &types.CredentialSpecConfig{Config: "gmsa"}
	}))
	p.Environment = types.Mapping{"CONF": "from-env", "TOKEN": "s3cret"}
	p.Configs = types.Configs{
		"inline":  {Content: "inline-content", Labels: types.Labels{"k": "v"}},
		"fromenv": {Environment: "CONF"},
		"gmsa":    {Content: `{"CredSpec": {}}`, TemplateDriver: "golang"},
	}
	p.Secrets = types.Secrets{"token": {Environment: "TOKEN"}}
	p.Jobs = types.Jobs{"nightly": {}}
	plan := convert(t, p, Options{})

	data := map[string]string{}
	for _, o := range slices.Concat(plan.Configs, plan.Secrets) {
		data[o.Key] = string(o.Data)
	}
	want := map[string]string{"inline": "inline-content", "fromenv": "from-env", "gmsa": `{"CredSpec": {}}`, "token": "s3cret"}
	if !reflect.DeepEqual(data, want) {
		t.Errorf("object contents %v, want %v", data, want)
	}
	if got := plan.Configs[slices.IndexFunc(plan.Configs, func(o Object) bool { return o.Key == "inline" })].Labels; got["k"] != "v" || got[LabelNamespace] != "app" {
		t.Errorf("inline config labels %v", got)
	}

	cs := find(t, plan, "app").Spec.TaskTemplate.ContainerSpec
	gmsa := plan.Configs[slices.IndexFunc(plan.Configs, func(o Object) bool { return o.Key == "gmsa" })].Name
	if cs.Privileges == nil || cs.Privileges.CredentialSpec == nil || cs.Privileges.CredentialSpec.Config != gmsa {
		t.Errorf("credential spec %+v, want config %s", cs.Privileges, gmsa)
	}
	var runtime, files int
	for _, r := range cs.Configs {
		switch {
		case r.Runtime != nil && r.ConfigName == gmsa:
			runtime++
		case r.File != nil:
			files++
		}
	}
	if runtime != 1 || files != 2 {
		t.Errorf("config references %+v: want the two files and a runtime reference to %s", cs.Configs, gmsa)
	}
	for _, w := range []string{
		"config gmsa: Swarm deploy ignores template_driver: the config is created with the content read here",
		"jobs: deploy ignores the project's jobs (nightly): Swarm has no scheduled or manually triggered jobs",
	} {
		if !slices.Contains(plan.Warnings, w) {
			t.Errorf("missing warning %q in %q", w, plan.Warnings)
		}
	}
}

func TestByteSize(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int64{"1024": 1024, "2k": 2048, "64m": 64 << 20, "1g": 1 << 30, "1.5G": 3 << 29, "10mb": 10 << 20, "7b": 7} {
		if got, err := byteSize(in); err != nil || got != want {
			t.Errorf("byteSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "m", "-1k", "12x"} {
		if _, err := byteSize(in); err == nil {
			t.Errorf("byteSize(%q) accepted", in)
		}
	}
}

func TestNotesNameEachFieldOnce(t *testing.T) {
	t.Parallel()
	n := newNotes()
	n.approximate("restart", "first")
	n.approximate("restart", "second")
	n.ignore("pid", "")
	n.ignore("pid", "why")
	n.approximate("cpus", "as a limit")
	n.ignore("cpus", "deploy wins")
	n.approximate("cpus", "again")
	want := []string{
		"service s: Swarm ignores cpus (deploy wins), pid (why)",
		"service s: Swarm approximates restart (first)",
	}
	if got := n.lines("s"); !slices.Equal(got, want) {
		t.Errorf("lines %q, want %q", got, want)
	}
	if got := newNotes().lines("s"); got != nil {
		t.Errorf("no notes make lines %q", got)
	}
}

func TestSpecImage(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"nginx":                                 "nginx:latest",
		"nginx:1.27":                            "nginx:1.27",
		"docker.io/library/nginx":               "nginx:latest",
		"docker.io/user/app:2":                  "user/app:2",
		"localhost:5000/app":                    "localhost:5000/app:latest",
		"ghcr.io/org/app:v1":                    "ghcr.io/org/app:v1",
		"app@sha256:" + strings.Repeat("a", 64): "app@sha256:" + strings.Repeat("a", 64),
	} {
		if got := specImage(in); got != want {
			t.Errorf("specImage(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestConvertSurvivesEngineRoundTrip creates plans, for the fake's API
// version (1.41: newer fields are left out, as the engine drops them), in the fake engine,
// which reads specs back as Docker does, and checks deploy would see no
// difference between what it sent and what the engine holds: a second
// deploy of an unchanged project must leave the services alone.
func TestConvertSurvivesEngineRoundTrip(t *testing.T) {
	t.Parallel()
	t.Run("full", func(t *testing.T) {
		t.Parallel()
		roundTrip(t, convert(t, loadDir(t, filepath.Join("testdata", "full")), Options{APIVersion: "1.41"}))
	})
	t.Run("options", func(t *testing.T) {
		t.Parallel()
		p := writeProject(t, `
name: opts
services:
  app:
    image: docker.io/library/app
    entrypoint: [/init]
    security_opt: [no-new-privileges, label=disable, seccomp=unconfined]
    credential_spec: {config: spec}
    restart: "no"
    ulimits: {nofile: 1024}
    tmpfs: ["/tmp:size=1m,noexec"]
    volumes:
      - type: bind
        source: ./src
        target: /src
        bind: {recursive: disabled}
      - /anon
    deploy:
      mode: global
      update_config: {}
      rollback_config: {order: start-first}
      restart_policy: {max_attempts: 2}
      endpoint_mode: vip
  seed:
    image: seed:1
    deploy: {mode: replicated-job, replicas: 2}
configs:
  spec: {content: "{}"}
`, map[string]string{"src": ""})
		roundTrip(t, convert(t, p, Options{APIVersion: "1.41"}))
	})
}

// roundTrip creates the plan's resources in a fake engine and compares
// each service as the engine holds it with the spec sent. Network
// targets read back as ids; they are named again before comparing, and
// config and secret references get their ids as deploy gives them.
func roundTrip(t *testing.T, plan *Plan) {
	t.Helper()
	ctx := context.Background()
	e := fake.New()
	e.InitSwarm()
	netNames := map[string]string{}
	specs := slices.Clone(plan.Networks)
	for _, name := range plan.ExternalNetworks {
		specs = append(specs, engine.NetworkSpec{Name: name, Driver: "overlay", Attachable: true})
	}
	for _, n := range specs {
		id, err := e.CreateNetwork(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		netNames[id] = n.Name
	}
	ids := map[string]string{}
	for _, o := range plan.Configs {
		id, err := e.CreateConfig(ctx, engine.SwarmObjectSpec{Name: o.Name, Labels: o.Labels, Data: o.Data})
		if err != nil {
			t.Fatal(err)
		}
		ids[o.Name] = id
	}
	for _, o := range plan.Secrets {
		id, err := e.CreateSecret(ctx, engine.SwarmObjectSpec{Name: o.Name, Labels: o.Labels, Data: o.Data})
		if err != nil {
			t.Fatal(err)
		}
		ids[o.Name] = id
	}
	sent := map[string]swarm.ServiceSpec{}
	for _, s := range plan.Services {
		spec := s.Spec
		cs := *spec.TaskTemplate.ContainerSpec
		cs.Configs, cs.Secrets = nil, nil
		for _, r := range s.Spec.TaskTemplate.ContainerSpec.Configs {
			ref := *r
			ref.ConfigID = ids[r.ConfigName]
			cs.Configs = append(cs.Configs, &ref)
		}
		for _, r := range s.Spec.TaskTemplate.ContainerSpec.Secrets {
			ref := *r
			ref.SecretID = ids[r.SecretName]
			cs.Secrets = append(cs.Secrets, &ref)
		}
		spec.TaskTemplate.ContainerSpec = &cs
		if _, err := e.CreateService(ctx, spec); err != nil {
			t.Fatalf("create %s: %v", spec.Name, err)
		}
		sent[spec.Name] = spec
	}
	got, err := e.ListServices(ctx, engine.Filter{Labels: map[string]string{LabelNamespace: plan.Namespace}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(plan.Services) {
		t.Fatalf("the engine has %d services, want %d", len(got), len(plan.Services))
	}
	for _, svc := range got {
		back := svc.Spec
		for i, n := range back.TaskTemplate.Networks {
			back.TaskTemplate.Networks[i].Target = cmp.Or(netNames[n.Target], n.Target)
		}
		if d := Differences(back, sent[back.Name]); d != nil {
			t.Errorf("service %s reads back different: %q", back.Name, d)
		}
	}
}
