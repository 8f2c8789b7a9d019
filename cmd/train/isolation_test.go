package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestToolIsolationRun: a run whose Python calls each run in a child of
// this binary (TestMain serves them) trains and evaluates to the end, and
// the isolation may change on --resume: where tools run is not part of
// the run.
func TestToolIsolationRun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	small := []string{"--preset", "smoke", "--tw-train", "40", "--tw-test", "5", "--eval-questions", "3", "--threads", "1"}
	code, out, stderr := runCmd(t, append(small, "--out", dir, "--tool-isolation", "process")...)
	require.Equal(t, 0, code, "stderr: %s\nstdout: %s", stderr, out)
	assert.Equal(t, "process", readConfigKey(t, dir, "tool-isolation"))

	code, out, stderr = runCmd(t, "--resume", dir, "--rl-steps", "3", "--threads", "1", "--tool-isolation", "none")
	require.Equal(t, 0, code, "stderr: %s\nstdout: %s", stderr, out)

	code, _, stderr = runCmd(t, "--preset", "smoke", "--out", filepath.Join(t.TempDir(), "r"), "--tool-isolation", "jail")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "--tool-isolation: want none or process")
}
