package main

import (
	"fmt"
	"os"
	"sort"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/spf13/cobra"

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
func (a *app) writeConfig(p *types.Project, o configOptions) error {
	var b []byte
	var err error
	switch o.format {
	case "json":
		b, err = p.MarshalJSON()
	case "yaml", "":
		b, err = p.MarshalYAML()
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
