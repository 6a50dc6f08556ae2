package e2e

import (
	"regexp"
	"strings"
	"testing"
)

func TestUpNamesContainersByProjectServiceAndNumber(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  web:
    image: IMAGE
    deploy:
      replicas: 2
  db:
    image: IMAGE
  named:
    image: IMAGE
    container_name: CUSTOM
`)
	custom := p.Name + "-custom-name"
	p.WriteFile("compose.yaml", strings.Replace(readFile(t, p.Dir+"/compose.yaml"), "CUSTOM", custom, 1))
	p.Up()

	want := []string{custom, p.ContainerName("db", 1), p.ContainerName("web", 1), p.ContainerName("web", 2)}
	got := ContainerNames(t, p.Name)
	if strings.Join(got, ",") != strings.Join(sortedCopy(want), ",") {
		t.Fatalf("containers = %v, want %v", got, sortedCopy(want))
	}
	for _, c := range ProjectContainers(t, p.Name) {
		if !c.State.Running {
			t.Errorf("%s is %s, want running", c.Name, c.State.Status)
		}
		wantNum := "1"
		if c.Name == p.ContainerName("web", 2) {
			wantNum = "2"
		}
		if got := c.Config.Labels[numberLabel]; got != wantNum {
			t.Errorf("%s: %s = %q, want %q", c.Name, numberLabel, got, wantNum)
		}
	}
}

func TestUpWritesComposeLabelsOnContainers(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  db:
    image: IMAGE
  web:
    image: IMAGE
    depends_on:
      db:
        condition: service_started
`)
	p.Up()

	web := InspectContainer(t, p.ContainerName("web", 1))
	db := InspectContainer(t, p.ContainerName("db", 1))
	want := map[string]string{
		projectLabel:     p.Name,
		serviceLabel:     "web",
		numberLabel:      "1",
		oneoffLabel:      "False",
		dependsOnLabel:   "db:service_started:false",
		imageLabel:       ImageID(t, testImage),
		workingDirLabel:  p.Dir,
		configFilesLabel: p.Dir + "/compose.yaml",
	}
	for k, v := range want {
		if got := web.Config.Labels[k]; got != v {
			t.Errorf("web label %s = %q, want %q", k, got, v)
		}
	}
	if got := db.Config.Labels[dependsOnLabel]; got != "" {
		t.Errorf("db label %s = %q, want empty", dependsOnLabel, got)
	}
	hexHash := regexp.MustCompile(`^[0-9a-f]{64}$`)
	for _, c := range []Container{web, db} {
		if h := c.Config.Labels[configHashLabel]; !hexHash.MatchString(h) {
			t.Errorf("%s: %s = %q, want a sha256 hex digest", c.Name, configHashLabel, h)
		}
		if v := c.Config.Labels[versionLabel]; !regexp.MustCompile(`^\d+\.\d+\.\d+`).MatchString(v) {
			t.Errorf("%s: %s = %q, want a version", c.Name, versionLabel, v)
		}
	}
}

func TestUpWritesComposeLabelsOnNetworksAndVolumes(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  app:
    image: IMAGE
    volumes:
      - data:/data
    networks:
      - default
      - back
networks:
  back: {}
volumes:
  data: {}
`)
	p.Up()

	nets := ProjectNetworks(t, p.Name)
	if len(nets) != 2 || nets[0].Name != p.Name+"_back" || nets[1].Name != p.Name+"_default" {
		t.Fatalf("networks = %v, want %s_back and %s_default", nets, p.Name, p.Name)
	}
	for _, n := range nets {
		key := strings.TrimPrefix(n.Name, p.Name+"_")
		if n.Labels[networkLabel] != key || n.Labels[projectLabel] != p.Name || n.Labels[versionLabel] == "" {
			t.Errorf("network %s labels = %v", n.Name, n.Labels)
		}
	}
	vols := ProjectVolumes(t, p.Name)
	if len(vols) != 1 || vols[0].Name != p.Name+"_data" {
		t.Fatalf("volumes = %v, want %s_data", vols, p.Name)
	}
	if l := vols[0].Labels; l[volumeLabel] != "data" || l[projectLabel] != p.Name || l[versionLabel] == "" {
		t.Errorf("volume labels = %v", l)
	}
}

func TestUpSecondRunRecreatesNothing(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  db:
    image: IMAGE
    volumes: [data:/data, /anon]
    healthcheck:
      test: ["CMD", "/app", "check", "/"]
      interval: 1s
  web:
    image: IMAGE
    command: ["serve", "8080"]
    environment:
      B: "2"
      A: "1"
    ports: ["8080"]
    depends_on: [db]
    deploy:
      replicas: 2
volumes:
  data: {}
`)
	p.Up()
	before := IDs(t, p.Name)
	p.Up()
	after := IDs(t, p.Name)
	if !equalMaps(before, after) {
		t.Fatalf("second up changed containers:\nbefore %v\nafter  %v", before, after)
	}
}

func TestUpWithServiceArgumentStartsItAndItsDependencies(t *testing.T) {
	t.Parallel()
	p := NewProject(t, `
services:
  db:
    image: IMAGE
  web:
    image: IMAGE
    depends_on: [db]
  other:
    image: IMAGE
`)
	p.Up("web")
	want := []string{p.ContainerName("db", 1), p.ContainerName("web", 1)}
	if got := ContainerNames(t, p.Name); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("containers = %v, want %v", got, want)
	}
}
