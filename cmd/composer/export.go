package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/composer-orchestrator/composer/kube"
	"github.com/composer-orchestrator/composer/orchestrator"
	"github.com/composer-orchestrator/composer/project"
)

// exportCommand exports a service container's filesystem as a tar
// archive (docker compose export SERVICE), and groups the exports of the
// project to other platforms (export kubernetes).
func (a *app) exportCommand() *cobra.Command {
	var o orchestrator.ExportOptions
	var output string
	cmd := &cobra.Command{
		Use:   "export [OPTIONS] SERVICE",
		Short: "Export a service container's filesystem as a tar archive",
		Long: `Export a service container's filesystem as a tar archive, or, with
"export kubernetes", write the project as Kubernetes manifests.

The container is a running one of the service (the first, or --index's).
The archive goes to standard output, which must then not be a terminal,
or to the file -o names (written whole or not at all).

A service called kubernetes is exported with "--" before its name:
composer export -o fs.tar -- kubernetes.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError(cmd, fmt.Sprintf("%q requires exactly 1 argument (a service), or the kubernetes subcommand", cmd.CommandPath()))
			}
			return nil
		},
		ValidArgsFunction: a.completeServices,
		RunE: func(cmd *cobra.Command, args []string) error {
			if output == "" {
				if isTerminal(a.streams.Out) {
					return errors.New("output option is required when exporting to terminal")
				}
			} else if err := validateOutputFile(output); err != nil {
				return fmt.Errorf("failed to export container: %w", err)
			}
			o.Service = args[0]
			t, err := a.target(cmd, args, o.Index)
			if err != nil {
				return err
			}
			display := a.progress()
			defer display.Close()
			orc, err := a.orchestrator(cmd.Context(), display)
			if err != nil {
				return err
			}
			var tmp *os.File
			defer func() {
				if tmp != nil { // not committed: leave nothing behind
					_ = tmp.Close()
					_ = os.Remove(tmp.Name())
				}
			}()
			o.Open = func() (io.Writer, func() error, error) {
				if output == "" {
					return a.streams.Out, func() error { return nil }, nil
				}
				// Written beside the file and renamed over it, so that
				// a failed export leaves no partial archive.
				f, err := os.CreateTemp(filepath.Dir(output), "."+filepath.Base(output)+".*")
				if err != nil {
					return nil, nil, err
				}
				tmp = f
				return f, func() error {
					if err := f.Close(); err != nil {
						return err
					}
					if err := os.Rename(f.Name(), output); err != nil {
						return err
					}
					tmp = nil
					return nil
				}, nil
			}
			return orc.Export(cmd.Context(), t.Project, o)
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.Index, "index", 0, "index of the container if service has multiple replicas.")
	f.StringVarP(&output, "output", "o", "", "Write to a file, instead of STDOUT")
	cmd.AddCommand(a.exportKubernetesCommand())
	return cmd
}

// validateOutputFile checks -o as docker does: its directory exists, and
// it is a regular file if it exists.
func validateOutputFile(p string) error {
	dir := filepath.Dir(filepath.Clean(p))
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("invalid output path: directory %q does not exist", dir)
	}
	if fi, err := os.Stat(p); err == nil && !fi.Mode().IsRegular() {
		return fmt.Errorf("invalid output path: %q must be a regular file", p)
	}
	return nil
}

type exportKubernetesOptions struct {
	output       string
	serviceType  string
	waitImage    string
	kubectlImage string
	hostPath     bool
	storageClass string
	volumeSize   string
}

func (a *app) exportKubernetesCommand() *cobra.Command {
	var o exportKubernetesOptions
	cmd := &cobra.Command{
		Use:   "kubernetes [OPTIONS]",
		Short: "Write the project as Kubernetes manifests (apply with: composer export kubernetes | kubectl apply -f -)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch o.serviceType {
			case "NodePort", "LoadBalancer":
			default:
				return usageError(cmd, fmt.Sprintf("invalid --published-service-type %q: want NodePort or LoadBalancer", o.serviceType))
			}
			// The project as up would run it: files, profiles, .env,
			// interpolation.
			opts := a.projectOptions()
			opts.KeepEnvFiles = true
			p, err := project.Load(cmd.Context(), opts)
			if err != nil {
				return err
			}
			res, err := kube.Convert(p, kube.Options{
				PublishedServiceType: o.serviceType, WaitImage: o.waitImage, KubectlImage: o.kubectlImage, HostPath: o.hostPath,
				StorageClass: o.storageClass, VolumeSize: o.volumeSize,
			})
			if err != nil {
				return err
			}
			for _, w := range res.Warnings {
				a.warn(w)
			}
			return writeManifests(a, res.Objects, o.output)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.output, "output", "o", "", "Write to FILE, or one file per object into DIR (a path ending in / or an existing directory); default standard output")
	f.StringVar(&o.serviceType, "published-service-type", "NodePort", "Service type for published ports (NodePort or LoadBalancer)")
	f.StringVar(&o.waitImage, "wait-image", kube.DefaultWaitImage, "Image of the init containers that wait for dependencies (sh, nc, nslookup)")
	f.StringVar(&o.kubectlImage, "kubectl-image", kube.DefaultKubectlImage, "Image of the init containers that wait for a one-shot Job to complete (kubectl)")
	f.BoolVar(&o.hostPath, "host-path", false, "Export bind mounts as hostPath volumes instead of dropping them")
	f.StringVar(&o.storageClass, "storage-class", "", "Storage class of the volumes' claims (default: the cluster's)")
	f.StringVar(&o.volumeSize, "volume-size", kube.DefaultVolumeSize, "Size of the volumes' claims, unless a volume's x-kubernetes.size says")
	return cmd
}

// writeManifests writes the objects to standard output, a file, or a
// directory of one file per object.
func writeManifests(a *app, objs []kube.Object, output string) error {
	if output == "" {
		return kube.WriteStream(a.streams.Out, objs)
	}
	if fi, err := os.Stat(output); strings.HasSuffix(output, "/") || (err == nil && fi.IsDir()) {
		return kube.WriteDir(output, objs)
	}
	f, err := os.Create(output)
	if err != nil {
		return err
	}
	if err := kube.WriteStream(f, objs); err != nil {
		_ = f.Close()
		return fmt.Errorf("writing %s: %w", output, err)
	}
	return f.Close()
}
