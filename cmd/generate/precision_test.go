package main

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/goarpo/arpo/backend/cpu"
	"github.com/goarpo/arpo/nn"

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
	requireMovedByRounding(t, out32, out16, "bf16 weights")

	code, _, errOut = runCmd("", "--model", dir, "--prompt", "the cat", "--max-new-tokens", "5", "--threads", "1", "--precision", "bf16")
	require.Equal(t, 0, code, errOut)
	code, _, errOut = runCmd("", "--model", dir, "--prompt", "the cat", "--precision", "fp8")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "want f32 or bf16")
}

// TestPrecisionBF16Base: with --precision bf16 a Hugging Face folder loads
// as a bf16 base, and scores and generates exactly what the float32 model
// with the engine's bf16 copy of its weights did (the path before bf16
// bases).
func TestPrecisionBF16Base(t *testing.T) {
	dir := modelDir(t, false)
	ids := []int32{3, 5, 7, 2, 9, 4, 1, 6}
	in, err := json.Marshal(ids)
	require.NoError(t, err)
	m, err := nn.LoadHF(dir, cpu.New(1))
	require.NoError(t, err)
	defer m.Free()

	code, out, errOut := runCmd(string(in), "--model", dir, "--score", "--ids", "--threads", "1", "--precision", "bf16")
	require.Equal(t, 0, code, errOut)
	var want bytes.Buffer
	require.NoError(t, score(m, nil, ids, nn.BF16, nn.F32, &want))
	require.Equal(t, want.String(), out)

	args := []string{"--model", dir, "--ids", "--prompt", string(in), "--max-new-tokens", "12", "--threads", "1", "--precision", "bf16", "--seed", "3"}
	code, out, errOut = runCmd("", args...)
	require.Equal(t, 0, code, errOut)
	o, err := parseFlags(args)
	require.NoError(t, err)
	want.Reset()
	require.NoError(t, generate(m, nil, nil, o, ids, &want, io.Discard))
	require.Equal(t, want.String(), out)
}

// TestPrecisionBF16Packed: with --precision bf16 a Hugging Face folder
// loads as a packed bf16 base, and the command prints byte for byte what
// it printed over the plain (unpacked) bf16 base: scores and a sampled
// and a greedy generation of the shared llama-arith-random checkpoint
// (a bf16 folder) and of a float32 one.
func TestPrecisionBF16Packed(t *testing.T) {
	dirs := []string{modelDir(t, false)}
	shared := filepath.Join("..", "..", "..", "shared", "data", "models", "llama-arith-random")
	if _, err := os.Stat(filepath.Join(shared, "config.json")); err != nil {
		t.Logf("skipping the shared checkpoint: %v", err)
	} else {
		dirs = append(dirs, shared)
	}
	ids := []int32{3, 5, 7, 2, 9, 4, 1, 6}
	in, err := json.Marshal(ids)
	require.NoError(t, err)
	for _, dir := range dirs {
		o, err := parseFlags([]string{"--model", dir, "--ids", "--threads", "1", "--precision", "bf16"})
		require.NoError(t, err)
		l, err := loadModel(o)
		require.NoError(t, err)
		require.True(t, l.Model.PackedBF16Base(), dir)
		cd, err := loadCodec(l)
		require.NoError(t, err)
		eos := l.EOS
		l.Free()
		plain, err := nn.LoadHFBF16Base(dir, cpu.New(1))
		require.NoError(t, err)
		defer plain.Free()

		code, out, errOut := runCmd(string(in), "--model", dir, "--score", "--ids", "--threads", "1", "--precision", "bf16")
		require.Equal(t, 0, code, errOut)
		var want bytes.Buffer
		require.NoError(t, score(plain, cd, ids, nn.BF16, nn.F32, &want))
		require.Equal(t, want.String(), out, dir)

		for _, temp := range []string{"1", "0"} {
			args := []string{"--model", dir, "--ids", "--prompt", string(in), "--max-new-tokens", "12", "--threads", "1",
				"--precision", "bf16", "--seed", "3", "--temperature", temp}
			code, out, errOut = runCmd("", args...)
			require.Equal(t, 0, code, errOut)
			o, err := parseFlags(args)
			require.NoError(t, err)
			want.Reset()
			require.NoError(t, generate(plain, cd, eos, o, ids, &want, io.Discard))
			require.Equal(t, want.String(), out, "%s temperature %s", dir, temp)
		}
	}
}

// TestKVCacheBF16: --kv-cache bf16 keeps keys and values in bf16: the
// scores move by bf16's rounding, not more, generation runs, and a bad
// value exits 2.
func TestKVCacheBF16(t *testing.T) {
	dir := modelDir(t, true)
	text := "the cat sat on the mat"
	code, out32, errOut := runCmd(text, "--model", dir, "--score", "--threads", "1")
	require.Equal(t, 0, code, errOut)
	code, out16, errOut := runCmd(text, "--model", dir, "--score", "--threads", "1", "--kv-cache", "bf16")
	require.Equal(t, 0, code, errOut)
	requireMovedByRounding(t, out32, out16, "a bf16 KV cache")

	code, _, errOut = runCmd("", "--model", dir, "--prompt", "the cat", "--max-new-tokens", "5", "--threads", "1", "--kv-cache", "bf16", "--precision", "bf16")
	require.Equal(t, 0, code, errOut)
	code, _, errOut = runCmd("", "--model", dir, "--prompt", "the cat", "--kv-cache", "fp8")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "--kv-cache")
}

// requireMovedByRounding checks that the --score output with bf16 (what
// names it) moves each token's log-prob from the float32 output by less
// than 0.05 nats, and moves some.
func requireMovedByRounding(t *testing.T, out32, out16, what string) {
	t.Helper()
	a, b := parseScores(t, out32), parseScores(t, out16)
	require.Len(t, b, len(a))
	moved := false
	for i := 1; i < len(a); i++ {
		d := math.Abs(*a[i].LogProb - *b[i].LogProb)
		assert.Less(t, d, 0.05, "%s: token %d", what, i)
		moved = moved || d > 0
	}
	assert.True(t, moved, "%s must change the log-probs", what)
}
