package main

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPrecisionBF16: --precision bf16 decodes with a bf16 copy of the
// weights: the scores move by bf16's rounding, not more, and generation
// runs; a bad value exits 2.
func TestPrecisionBF16(t *testing.T) {
	dir := modelDir(t, true)
	text := "the cat sat on the mat"
	code, out32, errOut := runCmd(text, "--model", dir, "--score", "--threads", "1")
	require.Equal(t, 0, code, errOut)
	code, out16, errOut := runCmd(text, "--model", dir, "--score", "--threads", "1", "--precision", "bf16")
	require.Equal(t, 0, code, errOut)
	a, b := parseScores(t, out32), parseScores(t, out16)
	require.Len(t, b, len(a))
	moved := false
	for i := 1; i < len(a); i++ {
		d := math.Abs(*a[i].LogProb - *b[i].LogProb)
		assert.Less(t, d, 0.05, "token %d", i)
		moved = moved || d > 0
	}
	assert.True(t, moved, "bf16 weights must change the log-probs")

	code, _, errOut = runCmd("", "--model", dir, "--prompt", "the cat", "--max-new-tokens", "5", "--threads", "1", "--precision", "bf16")
	require.Equal(t, 0, code, errOut)
	code, _, errOut = runCmd("", "--model", dir, "--prompt", "the cat", "--precision", "fp8")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "want f32 or bf16")
}
