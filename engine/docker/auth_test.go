package docker

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// decodeAuth reads an X-Registry-Auth value back.
func decodeAuth(t *testing.T, header string) authConfig {
	t.Helper()
	b, err := base64.URLEncoding.DecodeString(header)
	if err != nil {
		t.Fatalf("header %q is not base64: %v", header, err)
	}
	var a authConfig
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatalf("header %q is not JSON: %v", b, err)
	}
	return a
}

// TestRegistryAuth: the credentials docker login stored reach the engine
// for the registry of the image, inline or from a credential helper.
func TestRegistryAuth(t *testing.T) {
	bin := t.TempDir()
	// A credential helper knowing one registry, as docker-credential-*
	// helpers answer: JSON on success, "credentials not found" otherwise.
	helper := `#!/bin/sh
read server
case "$server" in
  registry.example.com) echo '{"ServerURL":"registry.example.com","Username":"helped","Secret":"s3"}' ;;
  tokens.example.com) echo '{"ServerURL":"tokens.example.com","Username":"<token>","Secret":"tok"}' ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
`
	if err := os.WriteFile(filepath.Join(bin, "docker-credential-testhelper"), []byte(helper), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	inline := func(user, pass string) string {
		return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	}
	for _, tt := range []struct {
		name   string
		config string // "" for no config.json
		ref    string
		want   authConfig
		err    string
	}{
		{name: "no config", ref: "app:1", want: authConfig{}},
		{name: "hub, inline", ref: "user/app:1",
			config: `{"auths":{"https://index.docker.io/v1/":{"auth":"` + inline("hubuser", "p:w") + `"}}}`,
			want:   authConfig{Username: "hubuser", Password: "p:w", ServerAddress: hubAuthKey}},
		{name: "other registry, inline", ref: "localhost:5000/app",
			config: `{"auths":{"localhost:5000":{"auth":"` + inline("me", "pw") + `"}}}`,
			want:   authConfig{Username: "me", Password: "pw", ServerAddress: "localhost:5000"}},
		{name: "no entry for the registry", ref: "localhost:5000/app",
			config: `{"auths":{"other:1":{"auth":"` + inline("me", "pw") + `"}}}`, want: authConfig{}},
		{name: "identity token", ref: "localhost:5000/app",
			config: `{"auths":{"localhost:5000":{"identitytoken":"idt"}}}`,
			want:   authConfig{IdentityToken: "idt", ServerAddress: "localhost:5000"}},
		{name: "store", ref: "registry.example.com/app:2",
			config: `{"auths":{"registry.example.com":{}},"credsStore":"testhelper"}`,
			want:   authConfig{Username: "helped", Password: "s3", ServerAddress: "registry.example.com"}},
		{name: "helper for the registry", ref: "tokens.example.com/app",
			config: `{"credHelpers":{"tokens.example.com":"testhelper"}}`,
			want:   authConfig{IdentityToken: "tok", ServerAddress: "tokens.example.com"}},
		{name: "store without credentials", ref: "nowhere.example.com/app",
			config: `{"credsStore":"testhelper"}`, want: authConfig{}},
		{name: "missing helper", ref: "app:1",
			config: `{"credsStore":"absent"}`, err: "docker-credential-absent"},
		{name: "broken inline", ref: "localhost:5000/app",
			config: `{"auths":{"localhost:5000":{"auth":"%%%"}}}`, err: "credentials for localhost:5000"},
		{name: "broken config", ref: "app:1", config: `{`, err: "config.json"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Setenv("DOCKER_CONFIG", dir)
			if tt.config != "" {
				if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(tt.config), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			header, err := registryAuth(t.Context(), tt.ref)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one mentioning %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := decodeAuth(t, header); got != tt.want {
				t.Errorf("auth %+v, want %+v", got, tt.want)
			}
		})
	}
}
