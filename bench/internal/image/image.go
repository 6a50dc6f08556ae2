// Package image builds the benchmark image: the static bench/app program in
// a FROM scratch image. It is built locally through the Engine API because
// no registry is needed, or reachable, for it.
package image

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/client"
)

// AppPackage is the Go package compiled into the image as /app.
const AppPackage = "github.com/composer-orchestrator/composer/bench/app"

// Ensure builds ref unless it exists already (or force is set).
func Ensure(ctx context.Context, cli *client.Client, ref string, force bool, log io.Writer) error {
	if !force {
		if _, err := cli.ImageInspect(ctx, ref); err == nil {
			return nil
		}
	}
	fmt.Fprintf(log, "building image %s\n", ref)
	dir, err := os.MkdirTemp("", "bench-image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "app")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, AppPackage)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("compiling %s (run from the repository): %w\n%s", AppPackage, err, out)
	}
	app, err := os.ReadFile(bin)
	if err != nil {
		return err
	}
	dockerfile := []byte("FROM scratch\nCOPY app /app\nENTRYPOINT [\"/app\"]\nCMD [\"sleep\"]\n")
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct {
		name string
		mode int64
		data []byte
	}{{"Dockerfile", 0o644, dockerfile}, {"app", 0o755, app}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data))}); err != nil {
			return err
		}
		if _, err := tw.Write(f.data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	res, err := cli.ImageBuild(ctx, &buf, client.ImageBuildOptions{
		Tags:        []string{ref},
		Remove:      true,
		ForceRemove: true,
		Version:     build.BuilderV1,
		Labels:      map[string]string{"composer-bench": "1"},
	})
	if err != nil {
		return fmt.Errorf("building %s: %w", ref, err)
	}
	defer res.Body.Close()
	// The build reports failure inside its JSON stream, not as an HTTP
	// status, so the stream has to be read to the end.
	dec := json.NewDecoder(res.Body)
	for {
		var msg struct {
			Error string `json:"error"`
		}
		if err := dec.Decode(&msg); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("building %s: %w", ref, err)
		}
		if msg.Error != "" {
			return fmt.Errorf("building %s: %s", ref, msg.Error)
		}
	}
}
