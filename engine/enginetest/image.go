package enginetest

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/composer-orchestrator/composer/engine"
)

// Dockerfile builds the suite's image from the build context of
// ImageContext: the testimage program alone on a scratch base. Its
// defaults are the ENTRYPOINT and CMD below (and the PATH the builder
// gives a scratch image); the suite checks that InspectImage reports them.
const Dockerfile = `FROM scratch
COPY testimage /testimage
ENTRYPOINT ["/testimage"]
CMD ["sleep"]
`

// testimagePackage is the import path of the image's program.
const testimagePackage = "github.com/composer-orchestrator/composer/engine/enginetest/testimage"

// ImageContext compiles the testimage program statically for linux on the
// host's architecture and returns a tar build context holding it and
// Dockerfile, for an engine's BuildImage. It needs the go command, which
// running the tests implies.
func ImageContext(t *testing.T) *bytes.Reader {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "testimage")
	goCmd, err := exec.LookPath("go")
	if err != nil {
		goCmd = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.Command(goCmd, "build", "-trimpath", "-ldflags=-s -w", "-o", bin, testimagePackage)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the test image's program: %v\n%s", err, out)
	}
	prog, err := os.ReadFile(bin)
	if err != nil {
		t.Fatalf("reading the test image's program: %v", err)
	}
	return tarContext(t, []contextFile{
		{"Dockerfile", 0o644, []byte(Dockerfile)},
		{"testimage", 0o755, prog},
	})
}

// DockerfileContext returns a tar build context holding only dockerfile,
// named Dockerfile: enough for an image whose instructions copy nothing,
// such as one FROM the suite's image that only sets defaults, and for the
// fake, which reads a Dockerfile's defaults and copies no files.
func DockerfileContext(t *testing.T, dockerfile string) *bytes.Reader {
	t.Helper()
	return tarContext(t, []contextFile{{"Dockerfile", 0o644, []byte(dockerfile)}})
}

type contextFile struct {
	name string
	mode int64
	data []byte
}

func tarContext(t *testing.T, files []contextFile) *bytes.Reader {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	now := time.Now()
	for _, f := range files {
		hdr := &tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data)), ModTime: now, Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatalf("writing the build context: %v", err)
		}
		if _, err := tw.Write(f.data); err != nil {
			t.Fatalf("writing the build context: %v", err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatalf("writing the build context: %v", err)
	}
	return bytes.NewReader(buf.Bytes())
}

// BuildImage builds the suite's image (ImageContext) on a real engine
// under tag, and removes it when the test ends.
func BuildImage(ctx context.Context, t *testing.T, e engine.Images, tag string) {
	t.Helper()
	if _, err := e.BuildImage(ctx, ImageContext(t), engine.BuildSpec{Tags: []string{tag}}, nil); err != nil {
		t.Fatalf("building the suite's image: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := e.RemoveImage(ctx, tag, true); err != nil {
			t.Errorf("removing the suite's image: %v", err)
		}
	})
}
