package e2e

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
)

const volumesCmdProject = `
services:
  web:
    image: IMAGE
    volumes: [data:/data]
  db:
    image: IMAGE
    volumes: [dbdata:/var/lib/db]
volumes:
  data: {}
  dbdata: {}
  unused: {}
`

// TestVolumesCmdMatchesDockerVolumeLs checks the volumes command against
// the Docker CLI's volume formatter, which docker compose's uses: the
// same table, the same json keys.
func TestVolumesCmdMatchesDockerVolumeLs(t *testing.T) {
	t.Parallel()
	p := NewProject(t, volumesCmdProject)
	p.Up()
	filter := "label=com.docker.compose.project=" + p.Name
	table := p.Compose("volumes").Success(t).Stdout
	if want := Docker(t, "volume", "ls", "--filter", filter) + "\n"; table != want {
		t.Errorf("table:\n%s\nwant, as docker volume ls shows it:\n%s", table, want)
	}
	if !strings.HasPrefix(table, "DRIVER    VOLUME NAME\n") {
		t.Errorf("table header is not docker's:\n%s", table)
	}
	names := strings.Fields(p.Compose("volumes", "-q").Success(t).Stdout)
	if want := strings.Fields(Docker(t, "volume", "ls", "-q", "--filter", filter)); !slices.Equal(names, want) {
		t.Errorf("volumes -q = %v, docker volume ls -q says %v", names, want)
	}
	want := []string{p.Name + "_data", p.Name + "_dbdata"}
	for _, w := range want {
		if !slices.Contains(names, w) {
			t.Errorf("volumes -q = %v, without %s", names, w)
		}
	}
	if got := strings.Fields(p.Compose("volumes", "-q", "web").Success(t).Stdout); !slices.Equal(got, want[:1]) {
		t.Errorf("volumes -q web = %v, want %v", got, want[:1])
	}
	ours := map[string]any{}
	line := strings.SplitN(p.Compose("volumes", "--format", "json").Success(t).Stdout, "\n", 2)[0]
	if err := json.Unmarshal([]byte(line), &ours); err != nil {
		t.Fatalf("not json: %q: %v", line, err)
	}
	theirs := map[string]any{}
	dline := strings.SplitN(Docker(t, "volume", "ls", "--filter", filter, "--format", "json"), "\n", 2)[0]
	if err := json.Unmarshal([]byte(dline), &theirs); err != nil {
		t.Fatalf("docker's is not json: %q: %v", dline, err)
	}
	if k1, k2 := slices.Sorted(maps.Keys(ours)), slices.Sorted(maps.Keys(theirs)); !slices.Equal(k1, k2) {
		t.Errorf("json keys %v, docker's %v", k1, k2)
	}
	for _, k := range []string{"Name", "Driver", "Mountpoint", "Scope"} {
		if ours[k] != theirs[k] {
			t.Errorf("%s is %v, docker says %v", k, ours[k], theirs[k])
		}
	}
	tmpl := p.Compose("volumes", "--format", "{{.Name}}:{{.Label \"com.docker.compose.volume\"}}", "db").Success(t).Stdout
	if tmpl != p.Name+"_dbdata:dbdata\n" {
		t.Errorf("template output %q", tmpl)
	}
}
