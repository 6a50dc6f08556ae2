package main

import (
	"encoding/json"
	"fmt"
	"io"
)

// The Docker CLI runs a plugin found as docker-NAME in its cli-plugins
// directory: first with the metadata command, to list it, then for
// `docker NAME ARGS...` with NAME ARGS... as arguments. The same binary
// serves both ways when installed under that name.
const (
	pluginName            = "composer"
	pluginBinary          = "docker-" + pluginName
	pluginMetadataCommand = "docker-cli-plugin-metadata"
)

// pluginMetadata is the plugin protocol's answer, schema 0.1.0.
type pluginMetadata struct {
	SchemaVersion    string `json:"SchemaVersion"`
	Vendor           string `json:"Vendor"`
	Version          string `json:"Version"`
	ShortDescription string `json:"ShortDescription"`
	URL              string `json:"URL,omitempty"`
}

func writePluginMetadata(w io.Writer) error {
	b, err := json.Marshal(pluginMetadata{
		SchemaVersion:    "0.1.0",
		Vendor:           "composer",
		Version:          buildVersion().Version,
		ShortDescription: "Run multi-container projects from compose files",
		URL:              "https://github.com/composer-orchestrator/composer",
	})
	if err != nil {
		return fmt.Errorf("writing the plugin metadata: %w", err)
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}
