package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/backend/cpu"
	"github.com/goarpo/arpo/internal/runlog"
	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/tokenizer"
	"github.com/goarpo/arpo/rl"
)

// tinyRun writes a folder with an untrained tiny checkpoint and tokenizer.
func tinyRun(t *testing.T) string {
	dir := t.TempDir()
	tok, err := tokenizer.Train([]string{"What is 2 + 2? <answer> 4 </answer>"}, 300, tokenizer.DefaultSpecials)
	require.NoError(t, err)
	require.NoError(t, tok.Save(filepath.Join(dir, "tokenizer.json")))
	cfg := nn.Config{ModelType: "llama", VocabSize: tok.VocabSize(), HiddenSize: 16, NumLayers: 1, NumHeads: 2, NumKVHeads: 2,
		HeadDim: 8, IntermediateSize: 32, RopeTheta: 10000, RMSNormEps: 1e-6, MaxPositionEmbeddings: 128, HiddenAct: "silu"}
	m, err := nn.New(cfg, cpu.New(1))
	require.NoError(t, err)
	m.Init(1)
	opt, err := nn.NewAdamW(m, nn.DefaultAdamW(1e-3))
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "checkpoints"), 0o755))
	require.NoError(t, nn.Checkpoint{Model: m, Opt: opt}.Save(filepath.Join(dir, "checkpoints", "final.safetensors")))
	return dir
}

func TestEvalWritesPredictions(t *testing.T) {
	dir := tinyRun(t)
	data := filepath.Join(dir, "q.jsonl")
	require.NoError(t, os.WriteFile(data, []byte(`{"question":"What is 2 + 2?","answer":"4"}`+"\n"+
		`{"question":"What is 3 + 3?","answer":"6"}`+"\n"), 0o644))
	out := filepath.Join(dir, "preds.jsonl")
	var stdout, stderr bytes.Buffer
	code := command(context.Background(), []string{"--model", dir, "--task", "jsonl:" + data, "--token-budget", "48",
		"--temperature", "1", "--k", "3", "--out", out, "--threads", "1"}, &stdout, &stderr)
	require.Equal(t, 0, code, stderr.String())
	preds, err := runlog.ReadJSONL[rl.Prediction](out)
	require.NoError(t, err)
	assert.Len(t, preds, 2*3)
	assert.Contains(t, stdout.String(), "pass@3")
	// In bf16 (the engine's bf16 copy of the checkpoint's float32 weights,
	// and a bf16 KV cache).
	code = command(context.Background(), []string{"--model", dir, "--task", "jsonl:" + data, "--token-budget", "48",
		"--threads", "1", "--precision", "bf16", "--kv-cache", "bf16"}, &stdout, &stderr)
	require.Equal(t, 0, code, stderr.String())
	// An existing output is never overwritten.
	code = command(context.Background(), []string{"--model", dir, "--task", "jsonl:" + data, "--out", out}, &stdout, &stderr)
	assert.Equal(t, 2, code)
}

func TestEvalBadInput(t *testing.T) {
	dir := tinyRun(t)
	corrupt := filepath.Join(dir, "bad.safetensors")
	require.NoError(t, os.WriteFile(corrupt, []byte("junk"), 0o644))
	for _, args := range [][]string{
		{}, {"--bogus"}, {"--model", filepath.Join(dir, "none")}, {"--model", corrupt},
		{"--model", dir, "--k", "4"}, {"--model", dir, "--task", "jsonl:" + filepath.Join(dir, "none.jsonl")},
		{"--model", dir, "--backend", "tpu"}, {"--model", dir, "--precision", "fp8"},
		{"--model", dir, "--kv-cache", "fp8"},
	} {
		var stdout, stderr bytes.Buffer
		code := command(context.Background(), args, &stdout, &stderr)
		assert.Equal(t, 2, code, "%v", args)
		assert.True(t, strings.HasPrefix(stderr.String(), "eval:"), "%v: %s", args, stderr.String())
	}
}

// A model without a tokenizer cannot be evaluated: one line, exit 2.
func TestEvalModelWithoutTokenizer(t *testing.T) {
	dir := tinyRun(t)
	require.NoError(t, os.Remove(filepath.Join(dir, "tokenizer.json")))
	var stdout, stderr bytes.Buffer
	code := command(context.Background(), []string{"--model", dir}, &stdout, &stderr)
	assert.Equal(t, 2, code)
	assert.Equal(t, "eval: --model "+dir+": no tokenizer.json found with the model (looked in "+dir+")\n", stderr.String())
}

// A Hugging Face folder evaluates in bf16 (a packed bf16 base) and in f32; the
// predictions are written either way.
func TestEvalHFFolderBF16(t *testing.T) {
	run := tinyRun(t)
	ck, err := nn.LoadCheckpoint(filepath.Join(run, "checkpoints", "final.safetensors"), cpu.New(1))
	require.NoError(t, err)
	hf := t.TempDir()
	require.NoError(t, ck.Model.SaveHF(hf))
	tok, err := os.ReadFile(filepath.Join(run, "tokenizer.json"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(hf, "tokenizer.json"), tok, 0o644))
	data := filepath.Join(run, "q.jsonl")
	require.NoError(t, os.WriteFile(data, []byte(`{"question":"What is 2 + 2?","answer":"4"}`+"\n"), 0o644))
	for _, p := range []string{"bf16", "f32"} {
		out := filepath.Join(t.TempDir(), "preds.jsonl")
		var stdout, stderr bytes.Buffer
		code := command(context.Background(), []string{"--model", hf, "--task", "jsonl:" + data, "--token-budget", "100", "--system", "Answer.",
			"--threads", "1", "--precision", p, "--out", out}, &stdout, &stderr)
		require.Equal(t, 0, code, stderr.String())
		preds, err := runlog.ReadJSONL[rl.Prediction](out)
		require.NoError(t, err)
		assert.Len(t, preds, 1)
	}
}
