package run

import (
	"context"
	"slices"
	"testing"

	"github.com/composer-orchestrator/composer/bench/internal/shape"
)

func TestParseTools(t *testing.T) {
	t.Parallel()
	ts, err := ParseTools("floor,composer,composer-noprobe,compose,v5=A=1 B_2=x sh -e", "/bench", "/bin/sh", "sh -c")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range ts {
		names = append(names, tl.Name)
	}
	if want := []string{"floor", "composer", "composer-noprobe", "sh--c", "v5"}; !slices.Equal(names, want) {
		t.Fatalf("names %q, want %q", names, want)
	}
	if np := ts[2]; !slices.Equal(np.Env, []string{"COMPOSER_HEALTH_PROBE=false"}) || np.Argv[0] != "/bin/sh" {
		t.Errorf("composer-noprobe: %+v", np)
	}
	if v5 := ts[4]; !slices.Equal(v5.Env, []string{"A=1", "B_2=x"}) || !slices.Equal(v5.Argv, []string{"sh", "-e"}) {
		t.Errorf("v5: %+v", v5)
	}
	if _, err := ParseTools("x=A=1", "/bench", "/bin/sh", "sh"); err == nil {
		t.Error("a tool with only an assignment was accepted")
	}
}

func TestCommands(t *testing.T) {
	t.Parallel()
	tg := Target{Project: "p", Dir: "/d", ComposeFile: "/d/compose.yaml", SpecFile: "/d/spec.json", EmptyDir: "/e", PortService: "r000", Port: 8080}
	tool := Tool{Name: "c", Argv: []string{"c"}}
	cases := map[Op][]string{
		OpUp:       {"c", "-p", "p", "-f", "/d/compose.yaml", "up", "-d"},
		OpNoop:     {"c", "-p", "p", "-f", "/d/compose.yaml", "up", "-d"},
		OpUpWait:   {"c", "-p", "p", "-f", "/d/compose.yaml", "up", "-d", "--wait"},
		OpVersion:  {"c", "version"},
		OpPsNoFile: {"c", "-p", "p", "ps"},
		OpPort:     {"c", "-p", "p", "-f", "/d/compose.yaml", "port", "r000", "8080"},
		OpConfig:   {"c", "-p", "p", "-f", "/d/compose.yaml", "config"},
	}
	for op, want := range cases {
		cmd := tool.command(context.Background(), op, tg)
		if !slices.Equal(cmd.Args, want) {
			t.Errorf("%s: %q, want %q", op, cmd.Args, want)
		}
		wantDir := "/d"
		if op == OpPsNoFile {
			wantDir = "/e"
		}
		if cmd.Dir != wantDir {
			t.Errorf("%s: runs in %s, want %s", op, cmd.Dir, wantDir)
		}
	}
	fl := Tool{Name: "floor", Argv: []string{"/bench"}, Floor: true}
	if got := fl.command(context.Background(), OpUpWait, tg).Args; !slices.Contains(got, "-wait") {
		t.Errorf("floor up --wait: %q", got)
	}
	if got := fl.command(context.Background(), OpVersion, tg).Args; !slices.Contains(got, "version") {
		t.Errorf("floor version: %q", got)
	}
	for _, op := range []Op{OpLogs, OpTop, OpPort, OpImages, OpConfig, OpPsNoFile} {
		if fl.Supports(op) {
			t.Errorf("floor claims %s", op)
		}
	}
}

func TestOpsFor(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]Op{"fan10": OpChange, "airflow": OpUpWait, "reads10": OpTop} {
		p, err := shape.Build(name, shape.DefaultImage)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(OpsFor(p), want) {
			t.Errorf("%s: %v lacks %s", name, OpsFor(p), want)
		}
	}
}
