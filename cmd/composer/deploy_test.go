package main

import (
	"strings"
	"testing"

	"github.com/composer-orchestrator/composer/engine"
)

const deployFile = `
services:
  db:
    image: app:1
  web:
    image: app:1
    privileged: true
    depends_on: [db]
`

func TestDeployFlagsAndErrors(t *testing.T) {
	c := newCLI(t, deployFile)
	c.eng.AddImage("app:1")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"deploy", "--wait-timeout", "0"}, "invalid --wait-timeout 0"},
		{[]string{"undeploy", "-t", "-1"}, "invalid --timeout -1"},
		{[]string{"deploy", "web"}, "unknown command"},
		{[]string{"deploy"}, "docker swarm init"},
		{[]string{"--dry-run", "undeploy"}, "docker swarm init"},
	} {
		r := c.run(tt.args...)
		if r.code != 1 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("exit %d, want 1 and %q:\n%s", r.code, tt.want, r)
		}
	}
	if n := c.eng.Calls("CreateNetwork"); n != 0 {
		t.Errorf("refused deploys created %d networks", n)
	}
}

func TestDeployAndUndeployOnAFakeSwarm(t *testing.T) {
	c := newCLI(t, deployFile)
	c.eng.AddImage("app:1")
	c.eng.InitSwarm()
	r := c.must("--progress", "plain", "deploy")
	for _, want := range []string{"Service proj_db  Created", "Service proj_web  Created", "privileged"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("deploy output lacks %q:\n%s", want, r)
		}
	}
	r = c.must("--progress", "plain", "--dry-run", "deploy")
	if !strings.Contains(r.stderr, "DRY-RUN MODE -  Service proj_web  Unchanged") || !strings.Contains(r.stderr, "privileged") {
		t.Errorf("dry run of a no-op deploy, with its warnings:\n%s", r)
	}
	if n := c.eng.Calls("UpdateService"); n != 0 {
		t.Errorf("%d updates", n)
	}
	c.must("--progress", "plain", "undeploy")
	svcs, err := c.eng.ListServices(t.Context(), engine.Filter{})
	if err != nil || len(svcs) != 0 {
		t.Errorf("after undeploy: %v services, err %v", len(svcs), err)
	}
}
