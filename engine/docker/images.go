package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/client"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/composer-orchestrator/composer/engine"
)

// InspectImage finds an image by reference or id.
func (e *Engine) InspectImage(ctx context.Context, ref string) (engine.Image, error) {
	res, err := e.cli.ImageInspect(ctx, ref)
	if err != nil {
		return engine.Image{}, translate(err)
	}
	return fromImageInspect(res.InspectResponse), nil
}

// RemoveImage removes an image (untags it, when it has other tags) and,
// as `docker rmi` does, its untagged parents that nothing else uses: the
// classic builder leaves one per Dockerfile instruction, and without
// pruning they would stay behind as dangling images.
func (e *Engine) RemoveImage(ctx context.Context, ref string, force bool) error {
	if _, err := e.cli.ImageRemove(ctx, ref, client.ImageRemoveOptions{Force: force, PruneChildren: true}); err != nil {
		return translate(err)
	}
	return nil
}

// PullImage pulls ref, with the credentials docker login stored for its
// registry (see registryAuth). The engine answers 200 as soon as the pull starts;
// a failure after that arrives as an error message in the progress stream.
func (e *Engine) PullImage(ctx context.Context, ref string, platform string, progress func(engine.ProgressLine)) error {
	auth, err := registryAuth(ctx, ref)
	if err != nil {
		return err
	}
	opts := client.ImagePullOptions{RegistryAuth: auth}
	if platform != "" {
		p, err := parsePlatform(platform)
		if err != nil {
			return err
		}
		opts.Platforms = []ocispec.Platform{*p}
	}
	rc, err := e.cli.ImagePull(ctx, ref, opts)
	if err != nil {
		return translate(err)
	}
	defer rc.Close()
	return decodeProgress(rc, progress, nil)
}

// BuildImage builds an image with the engine's classic builder, which every
// engine since API 1.41 has without a session, and returns the image id.
// Like a pull, a failed step arrives as an error message in the stream.
func (e *Engine) BuildImage(ctx context.Context, buildContext io.Reader, spec engine.BuildSpec, progress func(engine.ProgressLine)) (string, error) {
	opts := client.ImageBuildOptions{
		Tags:        spec.Tags,
		Dockerfile:  spec.Dockerfile,
		BuildArgs:   spec.Args,
		Target:      spec.Target,
		Labels:      spec.Labels,
		NoCache:     spec.NoCache,
		PullParent:  spec.Pull,
		NetworkMode: spec.Network,
		ExtraHosts:  spec.ExtraHosts,
		ShmSize:     spec.ShmSize,
		// Remove intermediate containers, as the CLI does by default.
		Remove:  true,
		Version: build.BuilderV1,
	}
	if spec.Platform != "" {
		p, err := parsePlatform(spec.Platform)
		if err != nil {
			return "", err
		}
		opts.Platforms = []ocispec.Platform{*p}
	}
	res, err := e.cli.ImageBuild(ctx, buildContext, opts)
	if err != nil {
		return "", translate(err)
	}
	defer res.Body.Close()
	var id string
	err = decodeProgress(res.Body, progress, func(aux json.RawMessage) {
		// The classic builder ends with {"aux":{"ID":"sha256:..."}}.
		var result build.Result
		if json.Unmarshal(aux, &result) == nil && result.ID != "" {
			id = result.ID
		}
	})
	if err != nil {
		return "", err
	}
	if id == "" && len(spec.Tags) > 0 {
		// The build succeeded; what failed is finding its result.
		img, err := e.InspectImage(ctx, spec.Tags[0])
		if err != nil {
			return "", fmt.Errorf("inspecting the built image %s: %w", spec.Tags[0], err)
		}
		id = img.ID
	}
	if id == "" {
		return "", errors.New("the engine reported no image id")
	}
	return id, nil
}

// streamMessage is one message of a pull or build stream. Engines send the
// error twice, as "error" text and as "errorDetail"; either may be alone.
type streamMessage struct {
	jsonstream.Message
	ErrorText string `json:"error,omitempty"`
}

// decodeProgress reads a JSON message stream to its end, reporting each
// message as a progress line and out-of-band data to aux. An error message
// ends the stream and is returned.
func decodeProgress(r io.Reader, progress func(engine.ProgressLine), aux func(json.RawMessage)) error {
	dec := json.NewDecoder(r)
	for {
		var m streamMessage
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("reading the engine's progress stream: %w", err)
		}
		line := engine.ProgressLine{ID: m.ID, Status: m.Status, Stream: m.Stream}
		if m.Progress != nil {
			line.Current, line.Total = m.Progress.Current, m.Progress.Total
		}
		switch {
		case m.Error != nil && m.Error.Message != "":
			line.Error = m.Error.Message
		case m.ErrorText != "":
			line.Error = m.ErrorText
		}
		if m.Aux != nil && aux != nil {
			aux(*m.Aux)
		}
		if progress != nil && (line != engine.ProgressLine{}) {
			progress(line)
		}
		if line.Error != "" {
			return errors.New(line.Error)
		}
	}
}
