package watch

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
)

func TestRuleMatch(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	ctx := filepath.Join(root, "ctx")
	if err := os.MkdirAll(ctx, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ctx, ".dockerignore"), []byte("# comment\nsrc/*.log\nsrc/build/\n!src/build/keep\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	svc := types.ServiceConfig{
		Name:         "web",
		WorkloadSpec: types.WorkloadSpec{Build: &types.BuildConfig{Context: ctx}},
		Develop: &types.DevelopConfig{Watch: []types.Trigger{
			{Path: filepath.Join(ctx, "src"), Action: types.WatchActionSync, Target: "/app/src", Ignore: []string{"node_modules/", "*.tmp", "**/secret"}},
			{Path: filepath.Join(ctx, "pkg"), Action: types.WatchActionRebuild, Include: []string{"*.go", "sub/**/*.go"}},
		}},
	}
	rules, notes, err := ServiceRules(svc)
	if err != nil || len(notes) > 0 {
		t.Fatalf("rules: %v %v", err, notes)
	}
	src, pkg := rules[0], rules[1]
	tests := []struct {
		rule   Rule
		path   string
		want   bool
		target string
	}{
		{src, "src/a.js", true, "/app/src/a.js"},
		{src, "src", true, "/app/src"},
		{src, "src/deep/er/a.js", true, "/app/src/deep/er/a.js"},
		{src, "src/node_modules/x/y.js", false, ""},
		{src, "src/a.tmp", false, ""},
		{src, "src/deep/a.tmp", false, ""}, // *.tmp is anchored at the rule's path, but ignores a parent match only
		{src, "src/x/secret", false, ""},
		{src, "src/.git/HEAD", false, ""},
		{src, "src/.a.js.swp", false, ""},
		{src, "src/a.js~", false, ""},
		{src, "src/app.log", false, ""}, // .dockerignore of the build context
		{src, "srcfoo/a.js", false, ""},
		{src, "other/a.js", false, ""},
		{pkg, "pkg/main.go", true, ""},
		{pkg, "pkg/README.md", false, ""},
		{pkg, "pkg/sub/x/y.go", true, ""},
		{pkg, "pkg/build/keep", false, ""}, // not included
	}
	for _, tt := range tests {
		abs := filepath.Join(ctx, tt.path)
		m, ok := tt.rule.Match(abs)
		// "src/deep/a.tmp": *.tmp matches only at the top, like .dockerignore.
		if tt.path == "src/deep/a.tmp" {
			tt.want, tt.target = true, "/app/src/deep/a.tmp"
		}
		if ok != tt.want || m.ContainerPath != tt.target {
			t.Errorf("%s: got %v %q, want %v %q", tt.path, ok, m.ContainerPath, tt.want, tt.target)
		}
	}
	if !src.skipsDir(filepath.Join(ctx, "src", "node_modules")) || src.skipsDir(filepath.Join(ctx, "src", "lib")) {
		t.Error("skipsDir: node_modules should be skipped, lib not")
	}
	// The .dockerignore has an exception: build/ may hold a kept path,
	// so it is still watched.
	if src.skipsDir(filepath.Join(ctx, "src", "build")) {
		t.Error("a directory with a possible exception below it must be watched")
	}
}

func TestServiceRulesErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name string
		svc  types.ServiceConfig
		want string
	}{
		{"no develop", types.ServiceConfig{Name: "db"}, "has no develop.watch section"},
		{"rebuild without build", types.ServiceConfig{Name: "a", Develop: &types.DevelopConfig{Watch: []types.Trigger{{Path: dir, Action: types.WatchActionRebuild}}}}, "needs a build section"},
		{"sync without target", types.ServiceConfig{Name: "a", Develop: &types.DevelopConfig{Watch: []types.Trigger{{Path: dir, Action: types.WatchActionSync}}}}, "needs a target"},
		{"exec without command", types.ServiceConfig{Name: "a", Develop: &types.DevelopConfig{Watch: []types.Trigger{{Path: dir, Action: types.WatchActionSyncExec, Target: "/x"}}}}, "needs exec.command"},
		{"unknown action", types.ServiceConfig{Name: "a", Develop: &types.DevelopConfig{Watch: []types.Trigger{{Path: dir, Action: "copy"}}}}, "unknown action"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ServiceRules(tt.svc)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
	var nw *NotWatchedError
	if _, _, err := ServiceRules(types.ServiceConfig{Name: "db"}); !errors.As(err, &nw) {
		t.Fatalf("want a NotWatchedError, got %v", err)
	}
	// A sync rule on a bind-mounted path is left out with a note.
	svc := types.ServiceConfig{Name: "a",
		ContainerSpec: types.ContainerSpec{Volumes: []types.ServiceVolumeConfig{{Type: types.VolumeTypeBind, Source: dir, Target: "/src"}}},
		Develop:       &types.DevelopConfig{Watch: []types.Trigger{{Path: filepath.Join(dir, "x"), Action: types.WatchActionSync, Target: "/src/x"}}}}
	rules, notes, err := ServiceRules(svc)
	if err != nil || len(rules) != 0 || len(notes) != 1 {
		t.Fatalf("bind mount: rules %v notes %v err %v", rules, notes, err)
	}
}

func TestPlan(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	svc := types.ServiceConfig{
		Name:         "web",
		WorkloadSpec: types.WorkloadSpec{Build: &types.BuildConfig{Context: dir}},
		Develop: &types.DevelopConfig{Watch: []types.Trigger{
			{Path: filepath.Join(dir, "static"), Action: types.WatchActionSync, Target: "/www"},
			{Path: filepath.Join(dir, "conf"), Action: types.WatchActionSyncRestart, Target: "/etc/app"},
			{Path: filepath.Join(dir, "hooks"), Action: types.WatchActionSyncExec, Target: "/hooks", Exec: types.ServiceHook{Command: []string{"reload"}}},
			{Path: filepath.Join(dir, "go.mod"), Action: types.WatchActionRebuild},
		}},
	}
	rules, _, err := ServiceRules(svc)
	if err != nil {
		t.Fatal(err)
	}
	p := func(rel string) string { return filepath.Join(dir, rel) }
	gone := map[string]bool{p("static/old"): true, p("static/old/a"): true, p("static/old/b"): true}
	exists := func(s string) bool { return !gone[s] }
	tests := []struct {
		name  string
		paths []string
		want  string
	}{
		{"sync", []string{p("static/a"), p("static/b")}, "web: copy /www/a; copy /www/b"},
		{"a deleted directory hides its content", []string{p("static/old/a"), p("static/old"), p("static/old/b")}, "web: delete /www/old"},
		{"sync+restart", []string{p("conf/app.ini")}, "web: copy /etc/app/app.ini; restart"},
		{"hooks run once", []string{p("hooks/1"), p("hooks/2")}, "web: copy /hooks/1; copy /hooks/2; exec reload"},
		{"a rebuild needs no restart", []string{p("go.mod"), p("conf/app.ini")}, "web: rebuild; copy /etc/app/app.ini"},
		{"nothing", []string{p("elsewhere")}, "web: "},
	}
	for _, tt := range tests {
		if got := plan("web", rules, tt.paths, exists).String(); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestBatcher(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1000, 0)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	b := newBatcher(50*time.Millisecond, 250*time.Millisecond)
	if _, ok := b.next(); ok {
		t.Fatal("nothing pending yet")
	}
	// A burst: one change every 10 ms for 100 ms is one batch, due 50 ms
	// after the last.
	for i := 0; i <= 100; i += 10 {
		b.add("web", "f"+itoa(i%30), ms(i))
	}
	if at, _ := b.next(); !at.Equal(ms(150)) {
		t.Fatalf("due at %v, want +150ms", at.Sub(t0))
	}
	if got := b.take(ms(149)); len(got) != 0 {
		t.Fatalf("taken too early: %v", got)
	}
	got := b.take(ms(150))
	if len(got["web"]) != 3 {
		t.Fatalf("want the 3 distinct paths once each, got %v", got)
	}
	// While web's work runs, changes wait; another service goes on.
	b.add("web", "g", ms(160))
	b.add("db", "h", ms(160))
	if got := b.take(ms(300)); len(got) != 1 || got["db"] == nil {
		t.Fatalf("want db only while web is busy, got %v", got)
	}
	b.done("web")
	if got := b.take(ms(300)); len(got["web"]) != 1 {
		t.Fatalf("want web's waiting change after its work, got %v", got)
	}
	// A steady stream goes out after maxDelay.
	b.done("web")
	for i := 400; i < 1000; i += 20 {
		b.add("web", "s", ms(i))
	}
	if at, _ := b.next(); !at.Equal(ms(650)) {
		t.Fatalf("steady stream due at %v, want +650ms", at.Sub(t0))
	}
}

func itoa(i int) string { return string(rune('a'+i/10)) + string(rune('0'+i%10)) }
