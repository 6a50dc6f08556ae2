package orchestrator

import (
	"slices"
	"strings"
	"testing"
)

const pullYAML = `
services:
  web: {image: nginx, depends_on: [db]}
  db: {image: postgres}
  cache: {image: redis}
  worker: {image: nginx}
  app: {build: .}
`

func TestPullServices(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    PullOptions
		present []string // images there before the pull
		fail    []string // images whose pull fails
		// failInspect are images the engine cannot tell are present.
		failInspect []string
		want        []string // images pulled, normalized and sorted
		// anyPulls: which other pulls happen is not the behaviour (a
		// failure cancels the pulls still to start).
		anyPulls bool
		wantErr  []string // words the error must contain; nil: no error
		warn     []string // words a warning must contain
	}{
		{name: "all services", want: []string{"nginx:latest", "postgres:latest", "redis:latest"}},
		{name: "named service", opts: PullOptions{Services: []string{"cache"}}, want: []string{"redis:latest"}},
		{name: "without dependencies", opts: PullOptions{Services: []string{"web"}}, want: []string{"nginx:latest"}},
		{name: "with dependencies", opts: PullOptions{Services: []string{"web"}, IncludeDeps: true}, want: []string{"nginx:latest", "postgres:latest"}},
		{name: "missing only", opts: PullOptions{Missing: true}, present: []string{"postgres", "redis:latest"}, want: []string{"nginx:latest"}},
		{name: "always pulls present images", present: []string{"postgres"}, want: []string{"nginx:latest", "postgres:latest", "redis:latest"}},
		{name: "build-only service", opts: PullOptions{Services: []string{"app"}}, want: nil},
		{name: "shared image pulled once", opts: PullOptions{Services: []string{"web", "worker"}}, want: []string{"nginx:latest"}},
		{name: "unknown service", opts: PullOptions{Services: []string{"cache", "nope"}}, wantErr: []string{"no such service: nope"}},
		{
			name: "failure", fail: []string{"redis"}, anyPulls: true,
			wantErr: []string{`"cache"`, `"redis"`, "injected"},
		},
		{
			name: "missing only, presence unknown", opts: PullOptions{Missing: true}, failInspect: []string{"redis"},
			anyPulls: true, wantErr: []string{`"cache"`, "inspecting", `"redis"`},
		},
		{
			name: "failure ignored", opts: PullOptions{IgnoreFailures: true}, fail: []string{"redis"},
			want: []string{"nginx:latest", "postgres:latest"},
			warn: []string{`"cache"`, `"redis"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			eng, o, rec := newFake(tt.present...)
			for _, ref := range tt.fail {
				eng.Fail("PullImage", ref, nil)
			}
			for _, ref := range tt.failInspect {
				eng.Fail("InspectImage", ref, nil)
			}
			err := o.PullServices(testCtx(t), loadYAML(t, "proj", pullYAML), tt.opts)
			if tt.wantErr == nil && err != nil {
				t.Fatalf("PullServices: %v", err)
			}
			if tt.wantErr != nil {
				if err == nil {
					t.Fatal("PullServices succeeded, want an error")
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not contain %s", err, w)
					}
				}
			}
			var got []string
			for _, e := range eng.Published() {
				if e.Type == "image" && e.Action == "pull" {
					got = append(got, e.Attributes["name"])
				}
			}
			slices.Sort(got)
			if !tt.anyPulls && !slices.Equal(got, tt.want) {
				t.Errorf("pulled %v, want %v", got, tt.want)
			}
			// Each image is asked for once, shared or failing.
			if calls, want := eng.Calls("PullImage"), len(tt.want)+len(tt.fail); !tt.anyPulls && calls != want {
				t.Errorf("%d pulls, want %d", calls, want)
			}
			for _, w := range tt.warn {
				if !slices.ContainsFunc(rec.warnings(), func(s string) bool { return strings.Contains(s, w) }) {
					t.Errorf("warnings %q: want one containing %s", rec.warnings(), w)
				}
			}
			if tt.warn == nil && len(rec.warnings()) > 0 {
				t.Errorf("warnings %q, want none", rec.warnings())
			}
			for _, ref := range got {
				if !slices.ContainsFunc(rec.all(), func(e Event) bool {
					return e.Kind == KindImage && e.Status == Pulled && strings.HasPrefix(ref, e.Name)
				}) {
					t.Errorf("no Pulled event for %s", ref)
				}
			}
		})
	}
}
