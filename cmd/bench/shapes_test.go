package main

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/nn"
)

// TestMain lets an isolated run (runLines) start this test binary as the
// bench command: a child sees lineEnv and runs main with its arguments.
func TestMain(m *testing.M) {
	if _, ok := os.LookupEnv(lineEnv); ok {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// paramCount is the number of parameters nn.New lays out for c, counted
// without allocating them.
func paramCount(c nn.Config) int {
	C, H, KV, D, F := c.HiddenSize, c.NumHeads, c.NumKVHeads, c.HeadDim, c.IntermediateSize
	per := 2*C + 2*C*H*D + 2*C*KV*D + 3*C*F
	if c.QKVBias() {
		per += H*D + 2*KV*D
	}
	if c.OBias() {
		per += C
	}
	if c.QKNorm() {
		per += 2 * D
	}
	n := c.VocabSize*C + c.NumLayers*per + C
	if !c.TieWordEmbeddings {
		n += c.VocabSize * C
	}
	return n
}

// The shapes are the published models: their parameter counts are the
// model cards' (Qwen2.5-0.5B 494,032,768; Qwen3-0.6B 596,049,920;
// Llama-3.2-1B 1,235,814,400), and each keeps the architecture's marks.
func TestRealShapesAreThePublishedModels(t *testing.T) {
	want := map[string]int{"qwen2.5-0.5b": 494032768, "qwen3-0.6b": 596049920, "llama3.2-1b": 1235814400}
	require.Len(t, realShapes, len(want))
	for name, n := range want {
		c, ok := realShapes[name]
		require.True(t, ok, name)
		assert.Equal(t, n, paramCount(c), name)
		assert.True(t, c.TieWordEmbeddings, name)
	}
	q2, q3, l3 := realShapes["qwen2.5-0.5b"], realShapes["qwen3-0.6b"], realShapes["llama3.2-1b"]
	assert.True(t, q2.QKVBias())
	assert.Equal(t, 64, q2.HeadDim) // hidden/heads
	assert.True(t, q3.QKNorm())
	assert.Equal(t, 128, q3.HeadDim) // explicit, not hidden/heads = 64
	require.NotNil(t, l3.RopeScaling)
	assert.Equal(t, "llama3", l3.RopeScaling.RopeType)
	assert.Equal(t, 32.0, l3.RopeScaling.Factor)
	assert.Equal(t, 128256, l3.VocabSize)
}

func TestShapeFlag(t *testing.T) {
	for suite, args := range tinyArgs {
		if suite == "gemm" {
			continue
		}
		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{"--shape", "qwen9-1t"}, `unknown --shape "qwen9-1t" (known: llama3.2-1b, qwen2.5-0.5b, qwen3-0.6b)`},
			{[]string{"--shape", "qwen3-0.6b"}, "--shape and --configs are exclusive"},
		} {
			stdout, _ := capture(t)
			err := suites[suite].run(append(append([]string{}, args...), c.args...))
			require.Error(t, err, suite)
			assert.Equal(t, 2, exitCode(err), "%v", err)
			assert.Contains(t, err.Error(), c.want, suite)
			assert.Empty(t, stdout.String(), suite)
		}
	}
	// A shape name is also a config name.
	assert.NoError(t, checkConfigs([]string{"a", "llama3.2-1b"}))
}

// With --isolate (the default), each line runs in a child process and
// still prints its line, in order, with the child's own peak RSS.
func TestIsolatedLines(t *testing.T) {
	stdout, _ := capture(t)
	args := []string{"--configs", "a", "--threads", "1", "--batch", "1,2", "--prompt", "2", "--new", "2", "--reps", "1", "--fork-len", "0"}
	require.NoError(t, suites["decode"].run(args))
	ls := lines(stdout)
	require.Len(t, ls, 2)
	for i, line := range ls {
		var got decodeResult
		require.NoError(t, json.Unmarshal([]byte(line), &got), line)
		assert.Equal(t, i+1, got.Batch)
		assert.Equal(t, "a", got.Config)
		assert.Positive(t, got.PeakRSSMiB)
	}
}

func TestIsolatedLineFailureIsReported(t *testing.T) {
	_, stderr := capture(t)
	// The child fails (config a has 4096 positions); the parent names the line.
	err := suites["prefill"].run([]string{"--configs", "a", "--threads", "1", "--prompt", "5000", "--reps", "1"})
	require.Error(t, err)
	assert.Equal(t, 2, exitCode(err), "%v", err)
	assert.Contains(t, err.Error(), "config a, 1 threads, batch 1")
	assert.Contains(t, stderr.String(), "--prompt 5000: longer than config a's 4096 positions")
}

func TestRLSuiteLine(t *testing.T) {
	stdout, _ := capture(t)
	require.NoError(t, suites["rl"].run(append(append([]string{}, tinyArgs["rl"]...), "--batch", "3", "--micro-tokens", "7")))
	var got rlResult
	require.NoError(t, json.Unmarshal([]byte(lines(stdout)[0]), &got))
	assert.Equal(t, rlResult{Suite: "rl", Config: "a", Threads: 1, Batch: 3, SeqLen: 6, PromptLen: 2, MicroTokens: 7, Steps: 1},
		rlResult{Suite: got.Suite, Config: got.Config, Threads: got.Threads, Batch: got.Batch, SeqLen: got.SeqLen,
			PromptLen: got.PromptLen, MicroTokens: got.MicroTokens, Steps: got.Steps})
	assert.Equal(t, paramCount(trainConfigs["a"]), got.Params)
	assert.Positive(t, got.TokensPerS)
	assert.Positive(t, got.PeakRSSMiB)
	// Ratios are 1 on the first update, so the loss is minus the token-mean
	// advantage: trajectories of advantage +1, -1, +1, 4 loss tokens each.
	assert.InDelta(t, -1.0/3, got.Loss, 1e-6)
}
