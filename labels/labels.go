// Package labels holds the label keys composer writes on engine resources.
// Labels are composer's only state store: they let any later command (and
// docker compose, and Docker Desktop) find a project's resources, so the keys
// and values follow docker compose's conventions exactly.
package labels

const (
	Project       = "com.docker.compose.project"
	Service       = "com.docker.compose.service"
	Number        = "com.docker.compose.container-number"
	Oneoff        = "com.docker.compose.oneoff"
	ConfigHash    = "com.docker.compose.config-hash"
	DependsOn     = "com.docker.compose.depends_on"
	Image         = "com.docker.compose.image"
	WorkingDir    = "com.docker.compose.project.working_dir"
	ConfigFiles   = "com.docker.compose.project.config_files"
	EnvFile       = "com.docker.compose.project.environment_file"
	Version       = "com.docker.compose.version"
	Network       = "com.docker.compose.network"
	Volume        = "com.docker.compose.volume"
	ContainerName = "com.docker.compose.container_name"
	Replace       = "com.docker.compose.replace"
	Slug          = "com.docker.compose.slug"
)

// ComposeVersion is written in the Version label. Tools that read the label
// compare it against docker compose releases, so it names the compose
// behaviour composer follows rather than composer's own version.
const ComposeVersion = "2.29.7"

// True and False are the values docker compose writes in boolean labels.
const (
	True  = "True"
	False = "False"
)
