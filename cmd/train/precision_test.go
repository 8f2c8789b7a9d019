package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPrecisionFlags: --precision bf16, --rollout-precision bf16 and
// --kv-cache bf16 are recorded in config.json and kept by --resume (which refuses to change
// them): a bf16 run resumed for one more RL step ends bitwise where an
// uninterrupted bf16 run ends, and that differs from the float32 run.
func TestPrecisionFlags(t *testing.T) {
	final := func(dir string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, "checkpoints", "final.safetensors"))
		require.NoError(t, err)
		return b
	}
	bf := []string{"--precision", "bf16", "--rollout-precision", "bf16", "--kv-cache", "bf16"}
	dir := filepath.Join(t.TempDir(), "run")
	code, out, stderr := runCmd(t, append([]string{"--preset", "smoke", "--out", dir, "--threads", "1"}, bf...)...)
	require.Equal(t, 0, code, "stderr: %s\nstdout: %s", stderr, out)
	raw, err := os.ReadFile(filepath.Join(dir, "config.json"))
	require.NoError(t, err)
	var cfg map[string]any
	require.NoError(t, json.Unmarshal(raw, &cfg))
	assert.Equal(t, "bf16", cfg["precision"])
	assert.Equal(t, "bf16", cfg["rollout-precision"])
	assert.Equal(t, "bf16", cfg["kv-cache"])

	code, _, stderr = runCmd(t, "--resume", dir, "--rl-steps", "3", "--precision", "f32")
	assert.Equal(t, 2, code, stderr)
	assert.Contains(t, stderr, "--precision cannot change")
	code, _, stderr = runCmd(t, "--resume", dir, "--rl-steps", "3", "--kv-cache", "f32")
	assert.Equal(t, 2, code, stderr)
	assert.Contains(t, stderr, "--kv-cache cannot change")
	code, _, stderr = runCmd(t, "--resume", dir, "--rl-steps", "3", "--threads", "1")
	require.Equal(t, 0, code, stderr)

	ref := filepath.Join(t.TempDir(), "ref")
	code, _, stderr = runCmd(t, append([]string{"--preset", "smoke", "--out", ref, "--threads", "1", "--rl-steps", "3"}, bf...)...)
	require.Equal(t, 0, code, stderr)
	assert.True(t, bytes.Equal(final(dir), final(ref)), "a bf16 run resumed after step 2 must match an uninterrupted one")

	f32 := filepath.Join(t.TempDir(), "f32")
	code, _, stderr = runCmd(t, "--preset", "smoke", "--out", f32, "--threads", "1", "--rl-steps", "3")
	require.Equal(t, 0, code, stderr)
	assert.False(t, bytes.Equal(final(f32), final(ref)), "bf16 training must change the weights' bits")

	for _, args := range [][]string{{"--precision", "fp8"}, {"--rollout-precision", "half"}, {"--kv-cache", "int8"}} {
		code, _, stderr := runCmd(t, args...)
		assert.Equal(t, 2, code, "%v: %s", args, stderr)
		assert.Contains(t, stderr, "want f32 or bf16")
	}
}
