package main

import (
	"strings"

	"github.com/spf13/cobra"
)

// completeServices completes service names from the project in the
// current directory (or the one named by the global flags).
func (a *app) completeServices(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	p, err := a.loadProject(cmd.Context())
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	for _, name := range append(p.ServiceNames(), p.DisabledServiceNames()...) {
		if strings.HasPrefix(name, toComplete) && !contains(args, name) {
			out = append(out, name)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
