package project

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeBigProject writes a compose file of n services, each interpolating
// variables, with a health check, and depending on the one before.
func writeBigProject(tb testing.TB, n int) string {
	tb.Helper()
	var b strings.Builder
	b.WriteString("x-common: &common\n  restart: unless-stopped\n  labels: {tier: backend}\n")
	b.WriteString("services:\n")
	for i := range n {
		fmt.Fprintf(&b, "  svc%d:\n", i)
		b.WriteString("    <<: *common\n")
		fmt.Fprintf(&b, "    image: ${REGISTRY:-docker.io}/app%d:${TAG:-latest}\n", i)
		b.WriteString("    environment:\n")
		fmt.Fprintf(&b, "      SERVICE_INDEX: \"%d\"\n", i)
		b.WriteString("      LOG_LEVEL: ${LOG_LEVEL:-info}\n")
		b.WriteString("      DATABASE_URL: postgres://${DB_USER:-app}:${DB_PASSWORD:-secret}@db:5432/app\n")
		fmt.Fprintf(&b, "    ports: [\"%d:80\"]\n", 20000+i)
		b.WriteString("    healthcheck:\n")
		b.WriteString("      test: [\"CMD\", \"wget\", \"-q\", \"-O\", \"/dev/null\", \"http://127.0.0.1/health\"]\n")
		b.WriteString("      interval: 5s\n      timeout: 3s\n      retries: 5\n      start_period: 10s\n")
		fmt.Fprintf(&b, "    volumes: [\"./data/%d:/data\"]\n", i)
		if i > 0 {
			fmt.Fprintf(&b, "    depends_on:\n      svc%d:\n        condition: service_healthy\n", i-1)
		}
	}
	dir := tb.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(b.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte("TAG=1.2.3\nLOG_LEVEL=debug\n"), 0o644); err != nil {
		tb.Fatal(err)
	}
	return dir
}

func benchmarkLoad(b *testing.B, n int) {
	dir := writeBigProject(b, n)
	settle()
	// An environment of the usual size.
	env := append([]string{}, os.Environ()...)
	env = append(env, "DB_PASSWORD=hunter2", "OLDPWD=/tmp", "_=/usr/bin/composer")
	o := Options{WorkingDir: dir, ProjectDirectory: dir, Env: env, CacheDir: b.TempDir()}
	b.Run("cold", func(b *testing.B) {
		o := o
		o.NoCache = true
		for b.Loop() {
			if _, err := Load(context.Background(), o); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("miss", func(b *testing.B) {
		// A load that stores: the price of a change.
		for b.Loop() {
			o := o
			o.CacheDir = b.TempDir()
			if _, err := Load(context.Background(), o); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		var hit bool
		o := o
		o.cacheTrace = func(e string) { hit = hit || e == "hit" }
		if _, err := Load(context.Background(), o); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			hit = false
			if _, err := Load(context.Background(), o); err != nil {
				b.Fatal(err)
			}
			if !hit {
				b.Fatal("the load did not hit the cache")
			}
		}
	})
}

func BenchmarkLoad200(b *testing.B) { benchmarkLoad(b, 200) }
func BenchmarkLoad500(b *testing.B) { benchmarkLoad(b, 500) }
