package orchestrator

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/composer-orchestrator/composer/labels"
)

// CollisionError refuses to act on a project whose name was derived from
// the directory when the project's containers come from another directory
// of the same name: ~/src/api and ~/old/api are both "api".
type CollisionError struct {
	Project string
	// Here is this project's directory, There the directories its
	// existing containers were made from.
	Here  string
	There []string
}

func (e *CollisionError) Error() string {
	return fmt.Sprintf("project %q already exists, made from %s, not from this directory (%s): nothing was done.\n"+
		"Its name comes from the directory's name. To run this directory as a project of its own, give it another name "+
		"(-p NAME, COMPOSE_PROJECT_NAME or name: in the compose file). To manage the existing one, use its name "+
		"from anywhere, without a compose file: composer -p %s down",
		e.Project, strings.Join(e.There, ", "), e.Here, e.Project)
}

// CheckOwner guards against a project name collision before a command
// creates, recreates, stops or removes anything: when the project's
// existing containers (composer's or docker compose's, which carry the
// same working_dir label) were made from another directory, it refuses if
// the name was derived from the directory (given reports false), and warns
// if the user gave the name, who then means that project. One engine call;
// given, which reads the files again, is asked only on a collision.
func (o *Orchestrator) CheckOwner(ctx context.Context, p *types.Project, given func() bool) error {
	cs, err := o.listContainers(ctx, p.Name)
	if err != nil {
		return err
	}
	here := filepath.Clean(p.WorkingDir)
	var there []string
	for _, c := range cs {
		dir := c.Labels[labels.WorkingDir]
		if dir == "" || filepath.Clean(dir) == here || slices.Contains(there, dir) {
			continue
		}
		there = append(there, dir)
	}
	if len(there) == 0 {
		return nil
	}
	slices.Sort(there)
	if !given() {
		return &CollisionError{Project: p.Name, Here: here, There: there}
	}
	o.warn("project %q has containers made from %s, not from this directory (%s); acting on them, as the name was given", p.Name, strings.Join(there, ", "), here)
	return nil
}
