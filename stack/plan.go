// Package stack deploys a compose project to a Docker Swarm as a stack, the
// way docker stack deploy does but with the whole Compose Specification
// Swarm can carry and with depends_on honoured: Convert turns the project
// into a Plan, Deploy applies it in dependency order and Undeploy removes it.
package stack

import (
	"github.com/moby/moby/api/types/swarm"

	"github.com/composer-orchestrator/composer/engine"
)

// Labels docker stack puts on what it creates; docker stack ls, services,
// ps and rm find a stack's resources by them.
const (
	// LabelNamespace names the stack on services, their containers,
	// networks, configs, secrets and volumes.
	LabelNamespace = "com.docker.stack.namespace"
	// LabelImage is the image as the compose file names it, on services.
	LabelImage = "com.docker.stack.image"
)

// Plan is what a deploy makes of a project: every swarm resource it needs,
// and the warnings for what Swarm cannot carry.
type Plan struct {
	// Namespace is the stack's name: the project's name. Every resource
	// name starts with it and an underscore.
	Namespace string
	// Networks are the overlay networks the stack creates, by their swarm
	// names. External networks are not among them.
	Networks []engine.NetworkSpec
	// ExternalNetworks are the networks the stack uses but does not
	// create: each must exist before the deploy.
	ExternalNetworks []string
	// Configs and Secrets are created before the services that mount
	// them. Their names hold a hash of their content, so a change makes a
	// new one and rolls the services that use it.
	Configs []Object
	Secrets []Object
	// ExternalConfigs and ExternalSecrets must exist already.
	ExternalConfigs []string
	ExternalSecrets []string
	// Services in the project's order (sorted by name); Deploy orders
	// them by DependsOn.
	Services []Service
	// Warnings name, once per service, every field Swarm cannot honour,
	// and every approximation a reader should know of.
	Warnings []string
}

// Object is a config or a secret of the stack.
type Object struct {
	// Key is its name in the compose file; Name its swarm name
	// (<namespace>_<key>_<hash>).
	Key  string
	Name string
	// Labels include LabelNamespace.
	Labels map[string]string
	Data   []byte
}

// Service is one compose service as a swarm service.
type Service struct {
	// Key is the compose service's name; Spec.Name its swarm name
	// (<namespace>_<key>).
	Key  string
	Spec swarm.ServiceSpec
	// DependsOn maps each compose service this one depends on to the
	// condition it waits for: service_started, service_healthy or
	// service_completed_successfully.
	DependsOn map[string]Dependency
	// Job is set when another service waits for this one to complete: it
	// runs as a replicated job.
	Job bool
	// Build is set when the compose service has a build section: deploy
	// does not build, so the image must be where the nodes find it.
	Build bool
	// Image is the image the service runs, as the project names it.
	Image string
}

// Dependency is one entry of a service's depends_on.
type Dependency struct {
	Condition string
	// Required is false for a dependency that may be missing from the
	// project (depends_on's required: false).
	Required bool
}

// Dependency conditions, as the Compose Specification spells them.
const (
	ConditionStarted   = "service_started"
	ConditionHealthy   = "service_healthy"
	ConditionCompleted = "service_completed_successfully"
)

// Options tune Convert.
type Options struct {
	// APIVersion is the engine's API version (as SwarmState reports it);
	// fields the engine's API cannot carry are warned about. Empty means
	// current.
	APIVersion string
}
