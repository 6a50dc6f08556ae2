package kube

import (
	"bytes"
	"context"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/composer-orchestrator/composer/project"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// load loads a project directory with a fixed, empty environment, so the
// output does not depend on the machine.
func load(t *testing.T, dir string, profiles ...string) *types.Project {
	t.Helper()
	p, err := project.Load(context.Background(), project.Options{WorkingDir: dir, Env: []string{}, Profiles: profiles})
	if err != nil {
		t.Fatalf("loading %s: %v", dir, err)
	}
	return p
}

func convert(t *testing.T, p *types.Project, opts Options) Result {
	t.Helper()
	r, err := Convert(p, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func stream(t *testing.T, objs []Object) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WriteStream(&b, objs); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func golden(t *testing.T, file string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", file)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./kube -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (run go test ./kube -update to accept it); got:\n%s", path, got)
	}
}

// decoded is a stream decoded strictly into the k8s.io/api types.
type decoded struct {
	deployments  map[string]*appsv1.Deployment
	statefulSets map[string]*appsv1.StatefulSet
	jobs         map[string]*batchv1.Job
	services     map[string]*corev1.Service
	configMaps   map[string]*corev1.ConfigMap
	secrets      map[string]*corev1.Secret
	claims       map[string]*corev1.PersistentVolumeClaim
	accounts     map[string]*corev1.ServiceAccount
	roles        map[string]*rbacv1.Role
	bindings     map[string]*rbacv1.RoleBinding
}

// decodeStrict splits the stream into documents and decodes each into the
// type of its kind, rejecting unknown fields and kinds.
func decodeStrict(t *testing.T, stream []byte) decoded {
	t.Helper()
	d := decoded{
		deployments: map[string]*appsv1.Deployment{}, statefulSets: map[string]*appsv1.StatefulSet{},
		jobs: map[string]*batchv1.Job{}, services: map[string]*corev1.Service{},
		configMaps: map[string]*corev1.ConfigMap{}, secrets: map[string]*corev1.Secret{},
		claims:   map[string]*corev1.PersistentVolumeClaim{},
		accounts: map[string]*corev1.ServiceAccount{}, roles: map[string]*rbacv1.Role{}, bindings: map[string]*rbacv1.RoleBinding{},
	}
	for i, doc := range strings.Split(string(stream), "\n---\n") {
		var head struct{ APIVersion, Kind string }
		if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
			t.Fatalf("document %d: %v", i, err)
		}
		var name string
		var err error
		b := []byte(doc)
		switch head.Kind {
		case "Deployment":
			name, err = strictly(b, d.deployments)
		case "StatefulSet":
			name, err = strictly(b, d.statefulSets)
		case "Job":
			name, err = strictly(b, d.jobs)
		case "Service":
			name, err = strictly(b, d.services)
		case "ConfigMap":
			name, err = strictly(b, d.configMaps)
		case "Secret":
			name, err = strictly(b, d.secrets)
		case "PersistentVolumeClaim":
			name, err = strictly(b, d.claims)
		case "ServiceAccount":
			name, err = strictly(b, d.accounts)
		case "Role":
			name, err = strictly(b, d.roles)
		case "RoleBinding":
			name, err = strictly(b, d.bindings)
		default:
			t.Fatalf("document %d: unknown kind %q", i, head.Kind)
		}
		if err != nil {
			t.Errorf("document %d (%s): %v", i, head.Kind, err)
		}
		if want := groupVersions[head.Kind].String(); head.APIVersion != want {
			t.Errorf("%s %s: apiVersion %q, want %q", head.Kind, name, head.APIVersion, want)
		}
	}
	return d
}

// strictly decodes doc into a new value, rejecting unknown fields, and
// files it under its name.
func strictly[T any, P interface {
	*T
	metav1.Object
}](doc []byte, into map[string]P) (string, error) {
	v := P(new(T))
	err := yaml.UnmarshalStrict(doc, v)
	into[v.GetName()] = v
	return v.GetName(), err
}

// pods returns every workload's pod template by name.
func (d decoded) pods() map[string]corev1.PodTemplateSpec {
	out := map[string]corev1.PodTemplateSpec{}
	for n, v := range d.deployments {
		out[n] = v.Spec.Template
	}
	for n, v := range d.statefulSets {
		out[n] = v.Spec.Template
	}
	for n, v := range d.jobs {
		out[n] = v.Spec.Template
	}
	return out
}

// checkInvariants holds for every export: selectors match their pod
// templates, and every non-Job service has a Service of its name that
// selects its pods.
func checkInvariants(t *testing.T, p *types.Project, d decoded) {
	t.Helper()
	selectors := map[string]map[string]string{}
	for n, v := range d.deployments {
		selectors[n] = v.Spec.Selector.MatchLabels
	}
	for n, v := range d.statefulSets {
		selectors[n] = v.Spec.Selector.MatchLabels
		if _, ok := d.services[v.Spec.ServiceName]; !ok {
			t.Errorf("statefulset %s: serviceName %s has no Service", n, v.Spec.ServiceName)
		}
	}
	pods := d.pods()
	for n, sel := range selectors {
		if len(sel) == 0 || !labels.SelectorFromSet(sel).Matches(labels.Set(pods[n].Labels)) {
			t.Errorf("%s: selector %v does not match pod labels %v", n, sel, pods[n].Labels)
		}
	}
	for name := range p.Services {
		dns := DNSName(name)
		if _, isJob := d.jobs[dns]; isJob {
			continue
		}
		svc, ok := d.services[dns]
		if !ok {
			t.Errorf("service %s: no Service %s", name, dns)
			continue
		}
		if !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(pods[dns].Labels)) {
			t.Errorf("Service %s does not select the pods of %s", dns, name)
		}
	}
}

func initNames(pod corev1.PodTemplateSpec) []string {
	var out []string
	for _, c := range pod.Spec.InitContainers {
		out = append(out, c.Name)
	}
	return out
}

func envOf(c corev1.Container) map[string]string {
	out := map[string]string{}
	for _, e := range c.Env {
		out[e.Name] = e.Value
	}
	return out
}

func TestFlaskRedisNginx(t *testing.T) {
	t.Parallel()
	p := load(t, "../examples/flask-redis-nginx")
	r := convert(t, p, Options{})
	out := stream(t, r.Objects)
	golden(t, "flask-redis-nginx.yaml", out)
	golden(t, "flask-redis-nginx.warnings.txt", []byte(strings.Join(r.Warnings, "\n")+"\n"))

	d := decodeStrict(t, out)
	checkInvariants(t, p, d)
	// redis mounts a named volume with one replica: a StatefulSet on a claim.
	if _, ok := d.statefulSets["redis"]; !ok {
		t.Errorf("redis is not a StatefulSet")
	}
	if pub, ok := d.services["nginx-published"]; !ok || pub.Spec.Type != corev1.ServiceTypeNodePort {
		t.Errorf("nginx-published: %+v", pub)
	}
	app := d.deployments["app"]
	if app == nil {
		t.Fatal("no app Deployment")
	}
	if got := initNames(app.Spec.Template); !slices.Equal(got, []string{"wait-for-redis"}) {
		t.Errorf("app init containers = %v", got)
	}
	if e := envOf(app.Spec.Template.Spec.Containers[0]); e["REDIS_HOST"] != "redis" || e["REDIS_PORT"] != "6379" {
		t.Errorf("app env = %v", e)
	}
	if app.Spec.Template.Spec.Containers[0].Image != "flask-redis-nginx-app" {
		t.Errorf("app image = %s", app.Spec.Template.Spec.Containers[0].Image)
	}
}

func TestAirflow(t *testing.T) {
	t.Parallel()
	p := load(t, "../examples/airflow")
	r := convert(t, p, Options{})
	out := stream(t, r.Objects)
	golden(t, "airflow.yaml", out)
	golden(t, "airflow.warnings.txt", []byte(strings.Join(r.Warnings, "\n")+"\n"))

	d := decodeStrict(t, out)
	checkInvariants(t, p, d)

	// postgres publishes nothing: a headless Service still resolves it.
	if pg := d.services["postgres"]; pg == nil || pg.Spec.ClusterIP != corev1.ClusterIPNone || len(pg.Spec.Ports) != 0 {
		t.Errorf("postgres Service = %+v", pg)
	}
	// redis only exposes 6379.
	if rd := d.services["redis"]; rd == nil || len(rd.Spec.Ports) != 1 || rd.Spec.Ports[0].Port != 6379 {
		t.Errorf("redis Service = %+v", rd)
	}
	for _, n := range []string{"airflow-scheduler", "airflow-worker"} {
		pod := d.pods()[n]
		got := initNames(pod)
		for _, want := range []string{"wait-for-postgres", "wait-for-redis"} {
			if !slices.Contains(got, want) {
				t.Errorf("%s init containers %v lack %s", n, got, want)
			}
		}
	}
	if got := initNames(d.pods()["airflow-worker"]); !slices.Contains(got, "wait-for-airflow-apiserver") {
		t.Errorf("worker does not wait for the apiserver: %v", got)
	}
	for _, n := range []string{"postgres", "redis"} {
		pod, ok := d.pods()[n]
		if !ok || pod.Spec.Containers[0].ReadinessProbe == nil {
			t.Errorf("%s has no readiness probe", n)
		}
	}
	pg := d.statefulSets["postgres"]
	if pg == nil {
		t.Fatal("postgres is not a StatefulSet")
	}
	claim := "airflow-postgres-db-volume"
	if _, ok := d.claims[claim]; !ok {
		t.Errorf("no PVC %s", claim)
	}
	var mounted bool
	for _, v := range pg.Spec.Template.Spec.Volumes {
		if v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == claim {
			for _, m := range pg.Spec.Template.Spec.Containers[0].VolumeMounts {
				mounted = mounted || (m.Name == v.Name && m.MountPath == "/var/lib/postgresql/data")
			}
		}
	}
	if !mounted {
		t.Errorf("postgres does not mount %s", claim)
	}
	if e := envOf(pg.Spec.Template.Spec.Containers[0]); e["POSTGRES_USER"] != "airflow" {
		t.Errorf("postgres env = %v", e)
	}
	if e := envOf(d.deployments["airflow-worker"].Spec.Template.Spec.Containers[0]); e["AIRFLOW__CELERY__BROKER_URL"] != "redis://redis:6379/0" || e["DUMB_INIT_SETSID"] != "0" {
		t.Errorf("worker env = %v", e)
	}
	// airflow-init is waited for with service_completed_successfully.
	init, ok := d.jobs["airflow-init"]
	if !ok {
		t.Fatal("airflow-init is not a Job")
	}
	if init.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("airflow-init restartPolicy = %s", init.Spec.Template.Spec.RestartPolicy)
	}
	if _, ok := d.services["airflow-init"]; ok {
		t.Errorf("a Job got a Service")
	}
	if u := d.deployments["airflow-worker"].Spec.Template.Spec.Containers[0].SecurityContext; u == nil || *u.RunAsUser != 50000 || *u.RunAsGroup != 0 {
		t.Errorf("worker securityContext = %+v", u)
	}
	// The Job's dependents wait for its completion through kubectl, under
	// a service account that may read Jobs and nothing else.
	for _, svc := range []string{"airflow-scheduler", "airflow-worker"} {
		spec := d.deployments[svc].Spec.Template.Spec
		waits := slices.ContainsFunc(spec.InitContainers, func(c corev1.Container) bool {
			return strings.Join(c.Command, " ") == "kubectl wait --for=condition=complete --timeout=-1s job/airflow-init"
		})
		if !waits {
			t.Errorf("%s does not wait for job airflow-init: %+v", svc, spec.InitContainers)
		}
		if spec.ServiceAccountName != "airflow-job-waiter" {
			t.Errorf("%s runs as service account %q, want airflow-job-waiter", svc, spec.ServiceAccountName)
		}
	}
	role, ok := d.roles["airflow-job-waiter"]
	if !ok || len(role.Rules) != 1 || !slices.Equal(role.Rules[0].Resources, []string{"jobs"}) || slices.Contains(role.Rules[0].Verbs, "create") {
		t.Errorf("job waiter role = %+v", role)
	}
	b, ok := d.bindings["airflow-job-waiter"]
	if !ok || b.RoleRef.Name != "airflow-job-waiter" || len(b.Subjects) != 1 || b.Subjects[0].Name != "airflow-job-waiter" {
		t.Errorf("job waiter binding = %+v", b)
	}
	if _, ok := d.accounts["airflow-job-waiter"]; !ok {
		t.Error("no job waiter service account")
	}
}

func TestProfiles(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		profiles []string
		want     bool
	}{
		{nil, false},
		{[]string{"flower"}, true},
	} {
		r := convert(t, load(t, "../examples/airflow", tc.profiles...), Options{})
		d := decodeStrict(t, stream(t, r.Objects))
		_, dep := d.deployments["flower"]
		_, svc := d.services["flower"]
		if dep != tc.want || svc != tc.want {
			t.Errorf("profiles %v: flower Deployment %v, Service %v; want %v", tc.profiles, dep, svc, tc.want)
		}
	}
}

func TestDNSName(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 70)
	for _, tc := range []struct{ in, want string }{
		{"web", "web"},
		{"my_db", "my-db"},
		{"My.Service", "my-service"},
		{"-web-", "web"},
		{"we$b!", "web"},
		{"1web", "s-1web"},
		{long, strings.Repeat("a", 54) + "-" + shortHash(long)},
		{"___", "s-" + shortHash("___")},
	} {
		got := DNSName(tc.in)
		if got != tc.want {
			t.Errorf("DNSName(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if len(got) > 63 {
			t.Errorf("DNSName(%q) is %d long", tc.in, len(got))
		}
	}
	if DNSName(long) == DNSName(long+"b") {
		t.Errorf("long names sharing a prefix collide")
	}
}

// writeProject writes a compose file into a new directory and loads it.
func writeProject(t *testing.T, compose string, files map[string]string) *types.Project {
	t.Helper()
	dir := t.TempDir()
	files["compose.yaml"] = compose
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, err := project.Load(context.Background(), project.Options{WorkingDir: dir, Env: []string{}, Name: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestWarnings(t *testing.T) {
	t.Parallel()
	p := writeProject(t, `
services:
  my_web:
    image: nginx
    cap_add: [NET_ADMIN]
    privileged: true
    user: www-data
    restart: "no"
    volumes:
      - ./site:/usr/share/nginx/html
      - /cache
    environment:
      UNSET:
`, map[string]string{})
	r := convert(t, p, Options{})
	for _, want := range []string{
		"service my_web is named my-web in Kubernetes; other pods reach it as my-web",
		"service my_web: cap_add, privileged not exported",
		"service my_web: user: \"www-data\" is not numeric uid[:gid]; not exported",
		"service my_web: restart: no approximated: Kubernetes restarts the container always",
		"service my_web: volumes: bind mounts at /usr/share/nginx/html not exported (hostPath volumes on request)",
		"service my_web: volumes: anonymous volumes at /cache approximated by emptyDir, lost with the pod",
		"service my_web: environment: UNSET has no value; not exported",
	} {
		if !slices.Contains(r.Warnings, want) {
			t.Errorf("missing warning %q in\n%s", want, strings.Join(r.Warnings, "\n"))
		}
	}

	// With HostPath the bind mount is kept and not warned about.
	r = convert(t, p, Options{HostPath: true})
	d := decodeStrict(t, stream(t, r.Objects))
	var host bool
	for _, v := range d.deployments["my-web"].Spec.Template.Spec.Volumes {
		host = host || (v.HostPath != nil && strings.HasSuffix(v.HostPath.Path, "/site"))
	}
	if !host {
		t.Errorf("no hostPath volume with HostPath set")
	}
	for _, w := range r.Warnings {
		if strings.Contains(w, "bind mounts") {
			t.Errorf("bind mount warned about with HostPath: %s", w)
		}
	}
}

func TestSecretsConfigsVolumes(t *testing.T) {
	t.Parallel()
	p := writeProject(t, `
services:
  db:
    image: postgres
    deploy:
      replicas: 2
      resources:
        limits: {cpus: "0.5", memory: 256M}
    ports: ["5432:5432", "30080:80/udp"]
    secrets: [pw]
    configs:
      - source: conf
        target: /etc/app.conf
    volumes:
      - data:/var/lib/postgresql/data:ro
    tmpfs: [/run]
secrets:
  pw:
    file: ./pw.txt
configs:
  conf:
    content: "key=value"
volumes:
  data:
    x-kubernetes:
      size: 5Gi
      storageClass: fast
`, map[string]string{"pw.txt": "s3cret"})
	r := convert(t, p, Options{PublishedServiceType: "LoadBalancer"})
	d := decodeStrict(t, stream(t, r.Objects))
	checkInvariants(t, p, d)

	if s := d.secrets["pw"]; s == nil || string(s.Data["pw"]) != "s3cret" {
		t.Errorf("secret = %+v", s)
	}
	if c := d.configMaps["conf"]; c == nil || c.Data["conf"] != "key=value" {
		t.Errorf("configmap = %+v", c)
	}
	pvc := d.claims["demo-data"]
	if pvc == nil || *pvc.Spec.StorageClassName != "fast" || pvc.Spec.Resources.Requests.Storage().String() != "5Gi" {
		t.Fatalf("pvc = %+v", pvc)
	}
	// Two replicas: a Deployment, not a StatefulSet.
	dep := d.deployments["db"]
	if dep == nil || *dep.Spec.Replicas != 2 {
		t.Fatalf("db deployment = %+v", dep)
	}
	ctr := dep.Spec.Template.Spec.Containers[0]
	mounts := map[string]corev1.VolumeMount{}
	for _, m := range ctr.VolumeMounts {
		mounts[m.MountPath] = m
	}
	if m := mounts["/run/secrets/pw"]; m.SubPath != "pw" {
		t.Errorf("secret mount = %+v", m)
	}
	if m := mounts["/etc/app.conf"]; m.SubPath != "conf" {
		t.Errorf("config mount = %+v", m)
	}
	if m := mounts["/var/lib/postgresql/data"]; !m.ReadOnly {
		t.Errorf("volume mount = %+v", m)
	}
	if _, ok := mounts["/run"]; !ok {
		t.Errorf("tmpfs not mounted")
	}
	if ctr.Resources.Limits.Cpu().String() != "500m" || ctr.Resources.Limits.Memory().Value() != 256<<20 {
		t.Errorf("limits = %v", ctr.Resources.Limits)
	}
	pub := d.services["db-published"]
	if pub == nil || pub.Spec.Type != corev1.ServiceTypeLoadBalancer || len(pub.Spec.Ports) != 2 {
		t.Fatalf("published = %+v", pub)
	}
	if pub.Spec.Ports[1].Protocol != corev1.ProtocolUDP || pub.Spec.Ports[1].Port != 30080 {
		t.Errorf("udp port = %+v", pub.Spec.Ports[1])
	}

	// NodePort keeps a host port in the node port range only.
	r = convert(t, p, Options{})
	d = decodeStrict(t, stream(t, r.Objects))
	ports := d.services["db-published"].Spec.Ports
	if ports[0].NodePort != 0 || ports[1].NodePort != 30080 {
		t.Errorf("node ports = %+v", ports)
	}
	if !slices.Contains(r.Warnings, "service db: ports: host port 5432 not kept: the NodePort Service gets a node port the cluster picks from 30000-32767") {
		t.Errorf("warnings = %q", r.Warnings)
	}
}

func TestInvalidOptions(t *testing.T) {
	t.Parallel()
	if _, err := Convert(&types.Project{}, Options{PublishedServiceType: "ClusterIP", VolumeSize: "lots"}); err == nil ||
		!strings.Contains(err.Error(), "ClusterIP") || !strings.Contains(err.Error(), "lots") {
		t.Errorf("err = %v", err)
	}
}

func TestWriteDir(t *testing.T) {
	t.Parallel()
	r := convert(t, load(t, "../examples/flask-redis-nginx"), Options{})
	dir := filepath.Join(t.TempDir(), "out")
	if err := WriteDir(dir, r.Objects); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "statefulset-redis.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	decodeStrict(t, b)
	entries, _ := os.ReadDir(dir)
	if len(entries) != len(r.Objects) {
		t.Errorf("%d files for %d objects", len(entries), len(r.Objects))
	}
}

// TestEnvFileBecomesConfigMap: an env file is a ConfigMap read with
// envFrom, not inlined; environment keeps only what it sets itself, and
// wins where it sets a variable the file sets too.
func TestEnvFileBecomesConfigMap(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files := map[string]string{
		"compose.yaml": "services:\n  app:\n    image: app\n    env_file: [app.env, missing.env]\n    environment:\n      LEVEL: debug\n      OWN: yes\n",
		"app.env":      "LEVEL=info\nDB_HOST=db\nURL=http://${DB_HOST}:5432\n",
	}
	files["compose.yaml"] = strings.Replace(files["compose.yaml"], "missing.env]", "{path: missing.env, required: false}]", 1)
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, err := project.Load(context.Background(), project.Options{WorkingDir: dir, Env: []string{}, Name: "demo", KeepEnvFiles: true})
	if err != nil {
		t.Fatal(err)
	}
	d := decodeStrict(t, stream(t, convert(t, p, Options{}).Objects))
	cm, ok := d.configMaps["app-env"]
	if !ok {
		t.Fatalf("no ConfigMap app-env: %v", slices.Collect(maps.Keys(d.configMaps)))
	}
	if want := map[string]string{"LEVEL": "info", "DB_HOST": "db", "URL": "http://db:5432"}; !maps.Equal(cm.Data, want) {
		t.Errorf("ConfigMap data = %v, want %v", cm.Data, want)
	}
	ctr := d.deployments["app"].Spec.Template.Spec.Containers[0]
	if len(ctr.EnvFrom) != 1 || ctr.EnvFrom[0].ConfigMapRef == nil || ctr.EnvFrom[0].ConfigMapRef.Name != "app-env" {
		t.Errorf("envFrom = %+v", ctr.EnvFrom)
	}
	if got, want := envOf(ctr), map[string]string{"LEVEL": "debug", "OWN": "yes"}; !maps.Equal(got, want) {
		t.Errorf("env = %v, want only what environment sets itself: %v", got, want)
	}
}

// TestStrictDecodeRejectsUnknownFields keeps the strict decoding that the
// other tests rely on honest: a field the API type lacks fails.
func TestStrictDecodeRejectsUnknownFields(t *testing.T) {
	t.Parallel()
	into := map[string]*corev1.Service{}
	if _, err := strictly([]byte("apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {clusterIP: None}\n"), into); err != nil {
		t.Fatalf("a valid Service: %v", err)
	}
	if _, err := strictly([]byte("apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {headless: true}\n"), into); err == nil {
		t.Fatal("an unknown field (headless) was accepted")
	}
}
