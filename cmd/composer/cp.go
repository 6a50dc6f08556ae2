package main

import (
	"errors"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/composer-orchestrator/composer/orchestrator"
)

type cpOptions struct {
	index               int
	all                 bool
	followLink, archive bool
}

func (a *app) cpCommand() *cobra.Command {
	var o cpOptions
	cmd := &cobra.Command{
		Use: `cp [OPTIONS] SERVICE:SRC_PATH DEST_PATH|-
	composer cp [OPTIONS] SRC_PATH|- SERVICE:DEST_PATH`,
		Short: "Copy files/folders between a service container and the local filesystem",
		Long: `Copy files/folders between a service container and the local filesystem.

Copying into a service copies to every container of the service unless
--index picks one; copying out reads the first container (or --index's).
Stopped containers count; one-off containers (run) do not. "-" stands for
a tar archive on standard input or output. The destination follows docker
cp's rules: an existing directory receives the source inside it, a path
that does not exist is created, SRC_PATH/. copies a directory's content,
and a trailing "/" on the destination says it must be a directory.`,
		Args:              cobra.ExactArgs(2),
		ValidArgsFunction: a.completeServices,
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[0] == "" {
				return errors.New("source can not be empty")
			}
			if args[1] == "" {
				return errors.New("destination can not be empty")
			}
			srcService, srcPath := splitCpArg(args[0])
			dstService, dstPath := splitCpArg(args[1])
			opts := orchestrator.CopyOptions{
				Index: o.index, FollowLink: o.followLink, CopyUIDGID: o.archive,
				Stdin: a.streams.In, Stdout: a.streams.Out,
			}
			switch {
			case srcService != "" && dstService != "":
				return errors.New("copying between services is not supported")
			case srcService != "":
				opts.Service, opts.ContainerPath, opts.HostPath = srcService, srcPath, dstPath
			case dstService != "":
				opts.Service, opts.ContainerPath, opts.HostPath, opts.ToContainer = dstService, dstPath, srcPath, true
			default:
				return errors.New("unknown copy direction")
			}
			t, err := a.target(cmd, []string{opts.Service}, o.index)
			if err != nil {
				return err
			}
			display := a.progress()
			defer display.Close()
			orc, err := a.orchestrator(cmd.Context(), display)
			if err != nil {
				return err
			}
			return orc.Copy(cmd.Context(), t.Project, opts)
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.index, "index", 0, "Index of the container if service has multiple replicas")
	f.BoolVar(&o.all, "all", false, "Copy to all the containers of the service")
	_ = f.MarkHidden("all")
	_ = f.MarkDeprecated("all", "By default all the containers of the service will get the source file/directory to be copied")
	f.BoolVarP(&o.followLink, "follow-link", "L", false, "Always follow symbol link in SRC_PATH")
	f.BoolVarP(&o.archive, "archive", "a", false, "Archive mode (copy all uid/gid information)")
	return cmd
}

// splitCpArg splits SERVICE:PATH; an absolute path, or a relative one
// starting with "." (./file:name), is a host path even with a colon.
func splitCpArg(arg string) (service, path string) {
	if filepath.IsAbs(arg) {
		return "", arg
	}
	service, path, ok := strings.Cut(arg, ":")
	if !ok || strings.HasPrefix(service, ".") {
		return "", arg
	}
	return service, path
}
