package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/internal/runlog"
)

// The test binary is also what --workers starts as its local workers:
// TestMain (crash_test.go) runs main for them.

// TestWorkersGiveTheInProcessCheckpoint: RL steps rolled out on two local
// worker processes (embedded NATS) end in the in-process run's final
// checkpoint, byte for byte, on steps that learn (rewards differ) and
// branch.
func TestWorkersGiveTheInProcessCheckpoint(t *testing.T) {
	if testing.Short() {
		t.Skip("trains twice for a few seconds")
	}
	args := []string{"--preset", "smoke", "--sft-steps", "200", "--rl-steps", "2", "--rl-batch", "4", "--eval-questions", "2"}
	dir := t.TempDir()
	one, two := filepath.Join(dir, "one"), filepath.Join(dir, "two")
	code, out, stderr := runCmd(t, append(args, "--out", one)...)
	require.Equal(t, 0, code, "stderr: %s\nstdout: %s", stderr, out)
	code, out, stderr = runCmd(t, append(args, "--out", two, "--workers", "2")...)
	require.Equal(t, 0, code, "stderr: %s\nstdout: %s", stderr, out)

	a, err := os.ReadFile(filepath.Join(one, "checkpoints", "final.safetensors"))
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(two, "checkpoints", "final.safetensors"))
	require.NoError(t, err)
	require.True(t, string(a) == string(b), "final checkpoints differ")

	mets, err := runlog.ReadJSONL[metricsLine](filepath.Join(two, "metrics.jsonl"))
	require.NoError(t, err)
	require.Len(t, mets, 2)
	learnt := false
	for _, m := range mets {
		require.NotNil(t, m.Dist)
		assert.Equal(t, 4, m.Dist.Groups)
		assert.Equal(t, []int{0, 0, 0, 0}, m.Dist.Staleness)
		learnt = learnt || m.GradNorm > 0
	}
	assert.True(t, learnt, "some step must learn for the comparison to mean anything")
}
