// Package testimage builds the image the end-to-end tests run: a FROM scratch
// image holding one static binary, /app (see app/main.go), whose first
// argument picks a behaviour (sleep, exit, serve, healthy-after, log, ...).
//
// No registry is reachable where the tests run, so every image they use is
// built locally. Building is cached: the image carries a label with a hash of
// the program's source and of the Dockerfile, and Build skips the work when an
// image with the tag already carries the current hash.
package testimage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// DefaultTag is the tag tests use unless they need another one.
const DefaultTag = "composer-test/app:latest"

// HashLabel is the image label holding the hash of the source the image was
// built from.
const HashLabel = "com.composer.test.source-hash"

// dockerfile is the image recipe. The label line is appended at build time.
const dockerfile = `FROM scratch
COPY app /app
ENTRYPOINT ["/app"]
CMD ["sleep"]
`

// SourceDir returns the directory holding this package's source, found from
// the compiled-in file name so it works from any working directory.
func SourceDir() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("locating testimage source: runtime.Caller failed")
	}
	return filepath.Dir(file), nil
}

// SourceHash returns the hash of the program's source and the Dockerfile.
func SourceHash() (string, error) {
	dir, err := SourceDir()
	if err != nil {
		return "", err
	}
	files, err := filepath.Glob(filepath.Join(dir, "app", "*.go"))
	if err != nil {
		return "", fmt.Errorf("listing app source: %w", err)
	}
	if len(files) == 0 {
		return "", fmt.Errorf("listing app source: no Go files in %s", filepath.Join(dir, "app"))
	}
	h := sha256.New()
	h.Write([]byte(dockerfile))
	for _, f := range files { // Glob returns names sorted, so the hash is stable.
		b, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("reading app source: %w", err)
		}
		fmt.Fprintf(h, "%s\x00%d\x00", filepath.Base(f), len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// Build makes sure an image tagged tag holds the current test program,
// building it if the tag is missing or was built from other source.
func Build(ctx context.Context, tag string) error {
	if tag == "" {
		tag = DefaultTag
	}
	hash, err := SourceHash()
	if err != nil {
		return err
	}
	if current, err := imageHash(ctx, tag); err == nil && current == hash {
		return nil
	}
	return build(ctx, tag, hash)
}

// imageHash returns the source hash label of the image tagged tag, or an
// error if there is no such image.
func imageHash(ctx context.Context, tag string) (string, error) {
	out, err := exec.CommandContext(ctx, "docker", "image", "inspect",
		"--format", `{{index .Config.Labels "`+HashLabel+`"}}`, tag).Output()
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

func build(ctx context.Context, tag, hash string) error {
	dir, err := SourceDir()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "composer-testimage-")
	if err != nil {
		return fmt.Errorf("building test image: %w", err)
	}
	defer os.RemoveAll(tmp)

	gobuild := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w",
		"-o", filepath.Join(tmp, "app"), "./app")
	gobuild.Dir = dir
	gobuild.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := gobuild.CombinedOutput(); err != nil {
		return fmt.Errorf("compiling test program: %w\n%s", err, out)
	}

	df := dockerfile + fmt.Sprintf("LABEL %s=%q\n", HashLabel, hash)
	if err := os.WriteFile(filepath.Join(tmp, "Dockerfile"), []byte(df), 0o644); err != nil {
		return fmt.Errorf("building test image: %w", err)
	}

	dbuild := exec.CommandContext(ctx, "docker", "build", "-q", "-t", tag, tmp)
	// The classic builder needs nothing beyond the engine; BuildKit through
	// the CLI needs the buildx plugin, which is not always installed.
	dbuild.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
	var stderr bytes.Buffer
	dbuild.Stderr = &stderr
	if _, err := dbuild.Output(); err != nil {
		return fmt.Errorf("docker build %s: %w\n%s", tag, err, stderr.String())
	}
	return nil
}
