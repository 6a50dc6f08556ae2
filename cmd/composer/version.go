package main

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"
)

// Version and Commit are stamped at build time by make (-ldflags -X, from
// git describe and git rev-parse). A plain go build or go install leaves
// them empty; the module version and the VCS data the Go toolchain
// records are used then.
var (
	Version = ""
	Commit  = ""
)

// versionInfo is what version reports.
type versionInfo struct {
	Version string `json:"version"`
	Commit  string `json:"commit,omitempty"`
	Go      string `json:"go"`
	// Engine is absent when no engine answers: version must work without
	// one, to diagnose exactly that.
	Engine *engineInfo `json:"engine,omitempty"`
}

// engineInfo names the engine a command talks to.
type engineInfo struct {
	Version    string `json:"version"`
	APIVersion string `json:"apiVersion"`
}

// buildVersion is composer's own version, commit and Go version.
func buildVersion() versionInfo {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		info = nil
	}
	return resolveVersion(Version, Commit, info)
}

// resolveVersion chooses what version reports: the stamped version and
// commit first, then the module version and VCS data of the build info
// (nil when there is none), else "dev" and no commit.
func resolveVersion(version, commit string, info *debug.BuildInfo) versionInfo {
	v := versionInfo{Version: version, Commit: commit, Go: runtime.Version()}
	if info == nil {
		return withDefaultVersion(v)
	}
	if v.Version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
		v.Version = info.Main.Version
	}
	if v.Commit == "" {
		dirty := false
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				v.Commit = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if dirty && v.Commit != "" {
			v.Commit += "-dirty"
		}
	}
	return withDefaultVersion(v)
}

func withDefaultVersion(v versionInfo) versionInfo {
	if v.Version == "" {
		v.Version = "dev"
	}
	return v
}

func (a *app) versionCommand() *cobra.Command {
	var short bool
	var format string
	cmd := &cobra.Command{
		Use:   "version [OPTIONS]",
		Short: "Show the composer version information",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			v := buildVersion()
			if short {
				fmt.Fprintln(a.streams.Out, v.Version)
				return nil
			}
			switch format {
			case "", "pretty":
			case "json":
			default:
				return usageError(cmd, fmt.Sprintf("unsupported format %q: use pretty or json", format))
			}
			v.Engine = a.engineVersion(cmd.Context())
			if format == "json" {
				b, err := json.Marshal(v)
				if err != nil {
					return err
				}
				fmt.Fprintln(a.streams.Out, string(b))
				return nil
			}
			a.printVersion(v)
			return nil
		},
	}
	cmd.Flags().BoolVar(&short, "short", false, "Shows only composer's version number")
	cmd.Flags().StringVarP(&format, "format", "f", "", "Format the output. Values: [pretty | json]")
	return cmd
}

func (a *app) printVersion(v versionInfo) {
	out := a.streams.Out
	fmt.Fprintf(out, "composer version %s\n", v.Version)
	if v.Commit != "" {
		fmt.Fprintf(out, " commit:  %s\n", v.Commit)
	}
	fmt.Fprintf(out, " go:      %s\n", v.Go)
	if v.Engine != nil {
		fmt.Fprintf(out, " engine:  %s (API %s)\n", v.Engine.Version, v.Engine.APIVersion)
	} else {
		fmt.Fprintln(out, " engine:  not reachable")
	}
}

// engineVersion asks the engine for its version, briefly: nil when none
// answers.
func (a *app) engineVersion(ctx context.Context) *engineInfo {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := a.connectOnce(ctx); err != nil {
		return nil
	}
	info, err := a.conn.info(ctx)
	if err != nil {
		return nil
	}
	return &info
}
