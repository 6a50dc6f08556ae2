package main

import (
	"bytes"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v4"

	"github.com/composer-orchestrator/composer/orchestrator"
	"github.com/composer-orchestrator/composer/project"
)

type configOptions struct {
	services, volumes, networks, images, profiles, quiet bool
	noInterpolate, noNormalize, noConsistency            bool
	hash, format, output                                 string
	resolveDigests, noPathResolution                     bool
}

func (a *app) configCommand() *cobra.Command {
	var o configOptions
	cmd := &cobra.Command{
		Use:     "config [OPTIONS] [SERVICE...]",
		Aliases: []string{"convert"},
		Short:   "Parse, resolve and render compose file in canonical format",
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runConfig(cmd, args, o)
		},
		ValidArgsFunction: a.completeServices,
	}
	f := cmd.Flags()
	f.BoolVar(&o.services, "services", false, "Print the service names, one per line")
	f.BoolVar(&o.volumes, "volumes", false, "Print the volume names, one per line")
	f.BoolVar(&o.networks, "networks", false, "Print the network names, one per line")
	f.BoolVar(&o.images, "images", false, "Print the image names, one per line")
	f.BoolVar(&o.profiles, "profiles", false, "Print the profile names, one per line")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "Only validate the configuration, don't print anything")
	f.BoolVar(&o.noInterpolate, "no-interpolate", false, "Don't interpolate environment variables")
	f.BoolVar(&o.noNormalize, "no-normalize", false, "Don't normalize compose model")
	f.BoolVar(&o.noConsistency, "no-consistency", false, "Don't check model consistency")
	f.BoolVar(&o.resolveDigests, "resolve-image-digests", false, "Pin image tags to digests (not supported)")
	f.BoolVar(&o.noPathResolution, "no-path-resolution", false, "Don't resolve file paths")
	f.StringVar(&o.hash, "hash", "", `Print the service config hash, one per line ("*" for all services)`)
	f.StringVar(&o.format, "format", "yaml", "Format the output. Values: [yaml | json]")
	f.StringVarP(&o.output, "output", "o", "", "Save to file (default to stdout)")
	return cmd
}

func (a *app) runConfig(cmd *cobra.Command, services []string, o configOptions) error {
	ctx := cmd.Context()
	opts := a.projectOptions()
	opts.NoInterpolate = o.noInterpolate
	opts.NoNormalize = o.noNormalize
	opts.NoConsistency = o.noConsistency
	opts.NoPathResolution = o.noPathResolution
	if o.resolveDigests {
		return usageError(cmd, "--resolve-image-digests is not supported: it needs a registry to ask for each image's digest")
	}
	if o.profiles {
		// Every profile is listed, not only the active ones.
		opts.Profiles = []string{"*"}
	}
	p, err := project.Load(ctx, opts)
	if err != nil {
		return err
	}
	if len(services) > 0 {
		if p, err = project.Select(p, services, false); err != nil {
			return err
		}
	}
	if o.quiet {
		return nil
	}
	if names, ok := configNames(p, o); ok {
		for _, n := range names {
			fmt.Fprintln(a.streams.Out, n)
		}
		return nil
	}
	if o.hash != "" {
		return a.printHashes(p, o.hash)
	}
	return a.writeConfig(p, o)
}

// configNames is the list that --services, --volumes, --networks,
// --images or --profiles asks for; false when none is asked.
func configNames(p *types.Project, o configOptions) ([]string, bool) {
	switch {
	case o.services:
		return p.ServiceNames(), true
	case o.volumes:
		return p.VolumeNames(), true
	case o.networks:
		return p.NetworkNames(), true
	case o.images:
		var imgs []string
		for _, n := range p.ServiceNames() {
			imgs = append(imgs, orchestrator.ImageName(p, p.Services[n]))
		}
		return imgs, true
	case o.profiles:
		set := map[string]bool{}
		for _, s := range p.AllServices() {
			for _, pr := range s.Profiles {
				set[pr] = true
			}
		}
		for _, s := range p.DisabledServices {
			for _, pr := range s.Profiles {
				set[pr] = true
			}
		}
		names := make([]string, 0, len(set))
		for n := range set {
			names = append(names, n)
		}
		sort.Strings(names)
		return names, true
	}
	return nil, false
}

// printHashes prints the config hash of one service, or all with "*".
func (a *app) printHashes(p *types.Project, which string) error {
	names := []string{which}
	if which == "*" {
		names = p.ServiceNames()
	}
	for _, n := range names {
		s, err := p.GetService(n)
		if err != nil {
			return fmt.Errorf("no such service: %s", n)
		}
		h, err := orchestrator.ServiceHash(s)
		if err != nil {
			return err
		}
		fmt.Fprintf(a.streams.Out, "%s %s\n", n, h)
	}
	return nil
}

// writeConfig renders the project as YAML or JSON, to --output or
// standard output.
//
// The printed model must load back to the same project. The loader
// interpolates every string value of a compose file (never a mapping key)
// and turns $$ into $ as it does, so once it has interpolated, each $ in
// the model is a literal one and is printed as $$ again, in YAML as in
// JSON. With --no-interpolate nothing was interpolated or unescaped: ${VAR}
// and $$ are printed as written, to be interpolated when the output is
// loaded.
func (a *app) writeConfig(p *types.Project, o configOptions) error {
	var b []byte
	var err error
	switch o.format {
	case "json":
		b, err = p.MarshalJSON()
		if err == nil && !o.noInterpolate {
			b = escapeJSONDollars(b)
		}
	case "yaml", "":
		if o.noInterpolate {
			b, err = p.MarshalYAML()
		} else {
			b, err = escapedYAML(p)
		}
	default:
		return fmt.Errorf("unsupported format %q: use yaml or json", o.format)
	}
	if err != nil {
		return fmt.Errorf("rendering the project: %w", err)
	}
	if o.output != "" {
		if err := os.WriteFile(o.output, b, 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", o.output, err)
		}
		return nil
	}
	_, err = a.streams.Out.Write(b)
	return err
}

// escapedYAML is p.MarshalYAML with every $ of a string value doubled.
// The project goes through a YAML node tree, encoded as compose-go
// encodes it (same library, indent 2), so that only the escaped values
// differ from its output.
func escapedYAML(p *types.Project) ([]byte, error) {
	var doc yaml.Node
	if err := doc.Encode(p); err != nil {
		return nil, err
	}
	escapeNodeDollars(&doc)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// escapeNodeDollars doubles each $ in the scalar values under n. Mapping
// keys are left as they are: the loader does not interpolate keys, so a
// key holds the same text loaded and printed.
func escapeNodeDollars(n *yaml.Node) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			escapeNodeDollars(c)
		}
	case yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			escapeNodeDollars(n.Content[i])
		}
	case yaml.ScalarNode:
		n.Value = strings.ReplaceAll(n.Value, "$", "$$")
	}
}

// escapeJSONDollars doubles each $ in the string values of the JSON
// document b, leaving object keys (a string followed by a colon) as they
// are, as escapeNodeDollars does for YAML. b is encoding/json's output,
// where a $ only ever appears as itself inside a string.
func escapeJSONDollars(b []byte) []byte {
	out := make([]byte, 0, len(b)+bytes.Count(b, []byte("$")))
	for i := 0; i < len(b); {
		if b[i] != '"' {
			out = append(out, b[i])
			i++
			continue
		}
		end := i + 1 // the closing quote
		for end < len(b) && b[end] != '"' {
			if b[end] == '\\' {
				end++
			}
			end++
		}
		end = min(end+1, len(b))
		str := b[i:end]
		next := end
		for next < len(b) && (b[next] == ' ' || b[next] == '\t' || b[next] == '\n' || b[next] == '\r') {
			next++
		}
		if next < len(b) && b[next] == ':' {
			out = append(out, str...)
		} else {
			out = append(out, bytes.ReplaceAll(str, []byte("$"), []byte("$$"))...)
		}
		i = end
	}
	return out
}
