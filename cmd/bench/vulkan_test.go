//go:build vulkan && cgo

package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/goarpo/arpo/backend"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// requireDevice skips when this machine has no Vulkan loader or device.
func requireDevice(t *testing.T) {
	b, err := backend.Open("vulkan", backend.Options{})
	if err != nil {
		t.Skipf("no Vulkan device: %v", err)
	}
	if c, ok := b.(interface{ Close() }); ok {
		c.Close()
	}
}

// A tiny gemm line on the first device (lavapipe here): one line whatever
// --threads says, the device announced on stderr, the backend in the line.
func TestGemmOnVulkan(t *testing.T) {
	requireDevice(t)
	stdout, stderr := capture(t)
	err := suites["gemm"].run([]string{"--backend", "vulkan", "--threads", "2", "--shapes", "8x16x4", "--trans", "TN",
		"--warmup", "0", "--reps", "2", "--min-time", "0"})
	require.NoError(t, err)
	ls := lines(stdout)
	require.Len(t, ls, 1)
	var got gemmResult
	require.NoError(t, json.Unmarshal([]byte(ls[0]), &got), ls[0])
	assert.Equal(t, [3]int{8, 16, 4}, [3]int{got.M, got.N, got.K})
	assert.Equal(t, 0, got.Threads)
	assert.Empty(t, got.Kernel)
	// A timing, not a speed: 1024 flops on a loaded software driver round
	// to 0.00 GFLOP/s.
	assert.Positive(t, got.BestMS)
	assert.GreaterOrEqual(t, got.GFLOPS, 0.0)
	assert.True(t, strings.HasPrefix(got.Backend, "vulkan ("), got.Backend)
	assert.Contains(t, stderr.String(), "bench: --threads is ignored by backend vulkan")
	assert.Contains(t, stderr.String(), "bench: backend "+got.Backend+"\n")
}

// --dtype bf16 on Vulkan: one bf16 line, with the float32 GEMM of the same
// shape on the same device beside it and no CPU ceiling.
func TestGemmBF16OnVulkan(t *testing.T) {
	requireDevice(t)
	stdout, _ := capture(t)
	err := suites["gemm"].run([]string{"--backend", "vulkan", "--dtype", "bf16", "--shapes", "8x16x4", "--trans", "NT",
		"--warmup", "0", "--reps", "2", "--min-time", "0"})
	require.NoError(t, err)
	ls := lines(stdout)
	require.Len(t, ls, 1)
	var got gemmResult
	require.NoError(t, json.Unmarshal([]byte(ls[0]), &got), ls[0])
	assert.Equal(t, "bf16", got.DType)
	assert.Equal(t, [3]int{8, 16, 4}, [3]int{got.M, got.N, got.K})
	assert.Positive(t, got.BestMS)
	assert.Zero(t, got.PeakGF)
	assert.Empty(t, got.Kernel)
	assert.True(t, strings.HasPrefix(got.Backend, "vulkan ("), got.Backend)
}

// --profile prints the GPU time per op kind on stderr when the backend
// closes; the JSON line is unchanged.
func TestGemmProfileOnVulkan(t *testing.T) {
	requireDevice(t)
	stdout, stderr := capture(t)
	err := suites["gemm"].run([]string{"--backend", "vulkan", "--profile", "--shapes", "8x16x4",
		"--warmup", "0", "--reps", "2", "--min-time", "0"})
	require.NoError(t, err)
	require.Len(t, lines(stdout), 1)
	assert.Contains(t, stderr.String(), "bench: GPU time per op kind on vulkan (")
	assert.Regexp(t, `\ngemm_\w+(/\S+)? +[1-9]`, stderr.String(), "a gemm row with its count")
}

func TestVulkanDeviceOutOfRange(t *testing.T) {
	requireDevice(t)
	stdout, _ := capture(t)
	err := suites["gemm"].run([]string{"--backend", "vulkan", "--device", "99", "--shapes", "2x2x2"})
	require.Error(t, err)
	assert.Equal(t, 2, exitCode(err), "%v", err)
	assert.Contains(t, err.Error(), "--backend vulkan --device 99")
	assert.Empty(t, stdout.String())
}
