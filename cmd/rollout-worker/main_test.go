package main

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

func TestBadFlagsExitTwo(t *testing.T) {
	for _, args := range [][]string{{}, {"--nats"}, {"--nats", "x", "extra"}, {"--nats", "x", "--threads", "-1"},
		{"--nats", "x", "--batch", "0"}, {"--bogus"}} {
		var out, errb bytes.Buffer
		assert.Equal(t, 2, run(context.Background(), args, &out, &errb), "%q", args)
		assert.Contains(t, errb.String(), "rollout-worker:")
	}
	var out, errb bytes.Buffer
	assert.Equal(t, 0, run(context.Background(), []string{"--help"}, &out, &errb))
	assert.Contains(t, out.String(), "--nats")
}

// TestDeploymentArgs: the Kubernetes manifest passes flags the command has.
func TestDeploymentArgs(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/rollout-worker.yaml")
	require.NoError(t, err)
	var d struct {
		Spec struct {
			Template struct {
				Spec struct {
					Containers []struct {
						Args []string `yaml:"args"`
					} `yaml:"containers"`
				} `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &d))
	require.Len(t, d.Spec.Template.Spec.Containers, 1)
	o, err := parseArgs(d.Spec.Template.Spec.Containers[0].Args)
	require.NoError(t, err)
	assert.Equal(t, "nats://nats:4222", o.URL)
}
