package docker

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/distribution/reference"
)

// The Docker CLI keeps Docker Hub's credentials under this key, not under
// a host name.
const hubAuthKey = "https://index.docker.io/v1/"

// cliConfig is what composer reads of the Docker CLI's config.json: the
// credentials `docker login` stored, inline or in a credential helper.
type cliConfig struct {
	Auths map[string]struct {
		Auth          string `json:"auth"`
		IdentityToken string `json:"identitytoken"`
	} `json:"auths"`
	CredsStore  string            `json:"credsStore"`
	CredHelpers map[string]string `json:"credHelpers"`
}

// authConfig is the engine's X-Registry-Auth payload.
type authConfig struct {
	Username      string `json:"username,omitempty"`
	Password      string `json:"password,omitempty"`
	IdentityToken string `json:"identitytoken,omitempty"`
	ServerAddress string `json:"serveraddress,omitempty"`
}

// registryAuth is the X-Registry-Auth header for a pull or push of ref:
// the credentials `docker login` stored for its registry, as the Docker
// CLI and docker compose send them, or an empty object when there are
// none (engines before API 1.42 refuse a push without the header). A
// config that cannot be read, or a helper that fails, is an error: going
// on anonymously would turn a local problem into a registry's "denied".
func registryAuth(ctx context.Context, ref string) (string, error) {
	none := base64.URLEncoding.EncodeToString([]byte("{}"))
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", fmt.Errorf("invalid image reference %q: %w", ref, err)
	}
	host := reference.Domain(named)
	key := host
	if host == "docker.io" {
		key = hubAuthKey
	}
	cfg, path, err := readCLIConfig()
	if err != nil || cfg == nil {
		return none, err
	}
	// As the Docker CLI: a helper for the registry, else the store for
	// all, else what docker login wrote inline.
	helper := cfg.CredsStore
	for _, k := range []string{host, key} {
		if h := cfg.CredHelpers[k]; h != "" {
			helper = h
		}
	}
	var a authConfig
	entry := cfg.Auths[key]
	switch {
	case helper != "":
		if a, err = helperAuth(ctx, helper, key); err != nil {
			return "", fmt.Errorf("credentials for %s from docker-credential-%s (%s): %w", host, helper, path, err)
		}
	case entry.IdentityToken != "":
		a.IdentityToken = entry.IdentityToken
	case entry.Auth != "":
		raw, err := base64.StdEncoding.DecodeString(entry.Auth)
		if err != nil {
			return "", fmt.Errorf("credentials for %s in %s: %w", host, path, err)
		}
		user, pass, ok := strings.Cut(string(raw), ":")
		if !ok {
			return "", fmt.Errorf("credentials for %s in %s: not user:password", host, path)
		}
		a.Username, a.Password = user, pass
	}
	if a == (authConfig{}) {
		return none, nil
	}
	a.ServerAddress = key
	b, err := json.Marshal(a)
	if err != nil {
		return "", err
	}
	return base64.URLEncoding.EncodeToString(b), nil
}

// readCLIConfig reads $DOCKER_CONFIG/config.json, else
// ~/.docker/config.json; nil when there is none.
func readCLIConfig() (*cliConfig, string, error) {
	dir := os.Getenv("DOCKER_CONFIG")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, "", nil
		}
		dir = filepath.Join(home, ".docker")
	}
	path := filepath.Join(dir, "config.json")
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, path, nil
	}
	if err != nil {
		return nil, path, fmt.Errorf("read the Docker CLI's config: %w", err)
	}
	var cfg cliConfig
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, path, fmt.Errorf("read the Docker CLI's config %s: %w", path, err)
	}
	return &cfg, path, nil
}

// helperAuth asks a credential helper (docker-credential-NAME get) for
// the credentials of a registry. A helper that knows none answers
// "credentials not found in native keychain", which is no error.
func helperAuth(ctx context.Context, name, key string) (authConfig, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker-credential-"+name, "get")
	cmd.Stdin = strings.NewReader(key)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		out := strings.TrimSpace(stdout.String() + stderr.String())
		if strings.Contains(out, "credentials not found") {
			return authConfig{}, nil
		}
		return authConfig{}, fmt.Errorf("%w: %s", err, out)
	}
	var c struct{ Username, Secret string }
	if err := json.Unmarshal(stdout.Bytes(), &c); err != nil {
		return authConfig{}, fmt.Errorf("its answer: %w", err)
	}
	// A helper stores an identity token under the user name <token>.
	if c.Username == "<token>" {
		return authConfig{IdentityToken: c.Secret}, nil
	}
	return authConfig{Username: c.Username, Password: c.Secret}, nil
}
