package main

import (
	"strings"
	"testing"
)

const volumesYAML = `services:
  web:
    image: img
    volumes: [data:/data]
  db:
    image: img
    volumes: [dbdata:/var/lib/db]
volumes:
  data: {}
  dbdata: {}
`

func TestVolumes(t *testing.T) {
	t.Parallel()
	c := newCLI(t, volumesYAML)
	c.eng.AddImage("img")
	c.must("up", "-d")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"table", []string{"volumes"}, "DRIVER    VOLUME NAME\nlocal     proj_data\nlocal     proj_dbdata\n"},
		{"quiet", []string{"volumes", "-q"}, "proj_data\nproj_dbdata\n"},
		{"a service", []string{"volumes", "-q", "web"}, "proj_data\n"},
		{"template", []string{"volumes", "--format", "{{.Name}} {{.Driver}} {{.Scope}}"}, "proj_data local local\nproj_dbdata local local\n"},
		{"table template", []string{"volumes", "--format", "table {{.Name}}\t{{.Label \"com.docker.compose.volume\"}}", "db"}, "VOLUME NAME   \nproj_dbdata   dbdata\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r := c.must(tt.args...); r.stdout != tt.want {
				t.Errorf("stdout %q, want %q", r.stdout, tt.want)
			}
		})
	}
	t.Run("json", func(t *testing.T) {
		r := c.must("volumes", "--format", "json")
		objs := jsonObjects(t, r.stdout)
		if len(objs) != 2 {
			t.Fatalf("want two objects:\n%s", r)
		}
		for _, k := range []string{"Name", "Driver", "Scope", "Mountpoint", "Labels", "Links", "Size", "Group", "Availability", "Status"} {
			if _, ok := objs[0][k]; !ok {
				t.Errorf("object %v has no %q, which docker's volume formatter has", objs[0], k)
			}
		}
		if objs[0]["Name"] != "proj_data" || !strings.Contains(objs[0]["Labels"].(string), "com.docker.compose.project=proj") {
			t.Errorf("first object %v", objs[0])
		}
	})
}

func TestVolumesErrors(t *testing.T) {
	t.Parallel()
	c := newCLI(t, volumesYAML)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"volumes", "nosuch"}, "no such service: nosuch"},
		{[]string{"volumes", "--format", "{{.Nope"}, "invalid --format"},
		{[]string{"volumes", "-q", "--format", "json"}, "incompatible"},
	} {
		if r := c.run(tt.args...); r.code != 1 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("want exit 1 saying %q:\n%s", tt.want, r)
		}
	}
}

// TestVolumesWithoutFile checks volumes from the labels alone, with -p.
func TestVolumesWithoutFile(t *testing.T) {
	t.Parallel()
	c := newCLI(t, volumesYAML)
	c.eng.AddImage("img")
	c.must("up", "-d")
	other := newCLI(t, "")
	other.eng = c.eng
	if r := other.must("-p", "proj", "volumes", "-q"); r.stdout != "proj_data\nproj_dbdata\n" {
		t.Errorf("stdout %q", r.stdout)
	}
}
