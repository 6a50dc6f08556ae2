package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// Usage errors for what names no command: an unknown command, help
// topic or flag exits 1 with a message and a pointer to the help, never
// with the help and 0, which a script would take for success.

// addHelp gives root the help command. Cobra adds its help command only
// to the command tree's top, which under the Docker CLI is docker, not
// composer: adding it here makes `docker composer help ps` work too.
func addHelp(root *cobra.Command) {
	help := helpCommand()
	root.SetHelpCommand(help)
	root.AddCommand(help)
}

// helpCommand is `help [command]`, which cobra's own would answer for an
// unknown topic with the root's help and exit 0. It looks the topic up
// below its parent, so that it works the same under the Docker CLI's
// docker command.
func helpCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		ValidArgsFunction: func(c *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			cmd, _, err := c.Parent().Find(args)
			if err != nil || cmd == nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var names []string
			for _, sub := range cmd.Commands() {
				if sub.IsAvailableCommand() && strings.HasPrefix(sub.Name(), toComplete) {
					names = append(names, sub.Name())
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(c *cobra.Command, args []string) error {
			cmd, rest, err := c.Parent().Find(args)
			if cmd == nil || err != nil || len(rest) > 0 {
				return usageError(c.Parent(), fmt.Sprintf("unknown help topic: %s", strings.Join(args, " ")))
			}
			cmd.InitDefaultHelpFlag()
			return cmd.Help()
		},
	}
}

// refuseUnknown makes the Docker CLI's docker command, which holds
// composer as the plugin, refuse what it does not know as the Docker CLI
// does: `docker-composer frobnicate` is an error, not docker's help.
func refuseUnknown(docker *cobra.Command) {
	docker.Args = func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 {
			return &exitError{code: 1, err: fmt.Errorf("docker: '%s' is not a docker command.\nSee 'docker --help'", args[0])}
		}
		return nil
	}
	docker.RunE = func(cmd *cobra.Command, args []string) error { return cmd.Help() }
	docker.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &exitError{code: 1, err: fmt.Errorf("%w\nSee '%s --help'.", err, cmd.CommandPath())}
	})
}
