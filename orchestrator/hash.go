package orchestrator

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/compose-spec/compose-go/v2/types"
)

// ServiceHash is the config hash written on a service's containers: sha256
// of the service's JSON form without the fields that do not change the
// container (build, pull_policy, scale, deploy.replicas, depends_on,
// profiles), as docker compose computes it.
//
// docker compose v2 hashes the JSON of compose-go releases whose service
// type lists its fields in one flat order; later compose-go releases
// group them differently, which changes the order of the keys and so the
// hash although nothing else differs. The hash written is the v2 one, so
// that docker compose v2 sees composer's containers as up to date.
func ServiceHash(s types.ServiceConfig) (string, error) {
	hashes, err := serviceHashes(s)
	if err != nil {
		return "", err
	}
	return hashes[0], nil
}

// serviceHashes returns the hash in docker compose v2's key order first,
// then in the key order of the compose-go release composer is built
// with. A container carrying either is up to date: docker compose
// releases built on newer compose-go write the second.
func serviceHashes(s types.ServiceConfig) ([2]string, error) {
	s.Build = nil
	s.PullPolicy = ""
	s.Scale = nil
	if s.Deploy != nil {
		d := *s.Deploy
		d.Replicas = nil
		s.Deploy = &d
	}
	s.DependsOn = nil
	s.Profiles = nil
	native, err := json.Marshal(s)
	if err != nil {
		return [2]string{}, fmt.Errorf("hashing service %q: %w", s.Name, err)
	}
	flat, err := reorderKeys(native, composeV2KeyOrder)
	if err != nil {
		return [2]string{}, fmt.Errorf("hashing service %q: %w", s.Name, err)
	}
	return [2]string{sum(flat), sum(native)}, nil
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// composeV2KeyOrder is the order of the service keys in the JSON that
// docker compose v2 (compose-go up to v2.9) produces.
var composeV2KeyOrder = []string{
	"profiles", "annotations", "attach", "build", "develop", "blkio_config", "cap_add", "cap_drop",
	"cgroup_parent", "cgroup", "cpu_count", "cpu_percent", "cpu_period", "cpu_quota", "cpu_rt_period",
	"cpu_rt_runtime", "cpus", "cpuset", "cpu_shares", "command", "configs", "container_name",
	"credential_spec", "depends_on", "deploy", "device_cgroup_rules", "devices", "dns", "dns_opt",
	"dns_search", "dockerfile", "domainname", "entrypoint", "provider", "environment", "env_file",
	"expose", "extends", "external_links", "extra_hosts", "group_add", "gpus", "hostname",
	"healthcheck", "image", "init", "ipc", "isolation", "labels", "label_file", "links", "logging",
	"log_driver", "log_opt", "mem_limit", "mem_reservation", "memswap_limit", "mem_swappiness",
	"mac_address", "models", "net", "network_mode", "networks", "oom_kill_disable", "oom_score_adj",
	"pid", "pids_limit", "platform", "ports", "privileged", "pull_policy", "read_only", "restart",
	"runtime", "scale", "secrets", "security_opt", "shm_size", "stdin_open", "stop_grace_period",
	"stop_signal", "storage_opt", "sysctls", "tmpfs", "tty", "ulimits", "use_api_socket", "user",
	"userns_mode", "uts", "volume_driver", "volumes", "volumes_from", "working_dir", "post_start",
	"pre_stop",
}

// reorderKeys rewrites a JSON object with its keys in the given order;
// keys not listed follow in their original order. Values are kept byte
// for byte.
func reorderKeys(obj []byte, order []string) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if _, err := dec.Token(); err != nil { // {
		return nil, err
	}
	values := map[string]json.RawMessage{}
	var seen []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		values[key] = v
		seen = append(seen, key)
	}
	var b bytes.Buffer
	b.WriteByte('{')
	write := func(k string) {
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		b.Write(values[k])
		delete(values, k)
	}
	for _, k := range order {
		if _, ok := values[k]; ok {
			write(k)
		}
	}
	for _, k := range seen {
		if _, ok := values[k]; ok {
			write(k)
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
