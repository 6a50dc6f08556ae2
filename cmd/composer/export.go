package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/composer-orchestrator/composer/kube"
	"github.com/composer-orchestrator/composer/project"
)

// exportCommand groups the exports of a project to other platforms.
func (a *app) exportCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "export PLATFORM",
		Short: "Write the project for another platform (kubernetes)",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError(cmd, fmt.Sprintf("unknown platform %q: composer exports to kubernetes", args[0]))
			}
			return usageError(cmd, "name the platform: composer export kubernetes")
		},
		RunE: func(cmd *cobra.Command, args []string) error { return nil },
	}
	cmd.AddCommand(a.exportKubernetesCommand())
	return cmd
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
