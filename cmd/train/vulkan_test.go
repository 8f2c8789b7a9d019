//go:build vulkan && cgo

package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/goarpo/arpo/backend"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readJSONL decodes every line of a run folder's JSONL file.
func readJSONL(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var rows []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var row map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &row))
		rows = append(rows, row)
	}
	require.NoError(t, sc.Err())
	return rows
}

// TestSmokeOnVulkanMatchesCPU runs the smoke preset on the Vulkan backend (the
// software driver in CI) and on the CPU, and compares their SFT losses and
// RL metrics.
func TestSmokeOnVulkanMatchesCPU(t *testing.T) {
	b, err := backend.Open("vulkan", backend.Options{})
	if err != nil {
		t.Skipf("no Vulkan device: %v", err)
	}
	b.Sync()
	vk, cpu := filepath.Join(t.TempDir(), "vk"), filepath.Join(t.TempDir(), "cpu")
	code, _, stderr := runCmd(t, "--preset", "smoke", "--out", vk, "--backend", "vulkan")
	require.Equal(t, 0, code, stderr)
	code, _, stderr = runCmd(t, "--preset", "smoke", "--out", cpu, "--threads", "1")
	require.Equal(t, 0, code, stderr)

	for _, file := range []string{"sft.jsonl", "metrics.jsonl"} {
		v, c := readJSONL(t, filepath.Join(vk, file)), readJSONL(t, filepath.Join(cpu, file))
		require.Len(t, v, len(c), file)
		for i := range c {
			for _, key := range []string{"loss", "grad_norm", "reward_mean", "accuracy", "tool_calls", "branches", "tokens_generated"} {
				cv, ok := c[i][key].(float64)
				if !ok {
					continue
				}
				assert.InDelta(t, cv, v[i][key].(float64), 1e-3*(1+abs(cv)), "%s line %d: %s", file, i, key)
			}
		}
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
