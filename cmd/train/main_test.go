package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/backend/cpu"
	"github.com/goarpo/arpo/internal/runlog"
	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/load"
	"github.com/goarpo/arpo/nn/tokenizer"
)

func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := command(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestSmokePresetRunsEndToEnd(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	code, out, stderr := runCmd(t, "--preset", "smoke", "--out", dir, "--threads", "1")
	require.Equal(t, 0, code, "stderr: %s\nstdout: %s", stderr, out)
	for _, f := range []string{"config.json", "tokenizer.json", "state.json", "metrics.jsonl", "sft.jsonl", "evals.jsonl",
		"summary.json", "plots.png", "checkpoints/sft.safetensors", "checkpoints/latest.safetensors",
		"checkpoints/final.safetensors", "samples/eval-sft.jsonl", "samples/eval-rl-step0002.jsonl"} {
		assert.FileExists(t, filepath.Join(dir, f))
	}
	assert.Contains(t, out, "run folder: "+dir)
	assert.Contains(t, out, "all ")
	mets, err := runlog.ReadJSONL[metricsLine](filepath.Join(dir, "metrics.jsonl"))
	require.NoError(t, err)
	require.Len(t, mets, 2, "one line per RL step")
	assert.Equal(t, 2, mets[1].Step)
	assert.Positive(t, mets[0].Trajectories)
	st := readState(t, filepath.Join(dir, "state.json"))
	assert.Equal(t, runState{Phase: "done", SFTStep: 3, RLStep: 2, Config: st.Config, Checkpoint: st.Checkpoint,
		Tokenizer: st.Tokenizer, SFT: st.SFT}, st)
	assert.NotEmpty(t, st.Config)
	requireHFExport(t, dir)

	// The same folder again is refused: a run never overwrites another.
	code, _, stderr = runCmd(t, "--preset", "smoke", "--out", dir)
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "not empty")

	// Resuming with more RL steps continues the run from its checkpoint.
	code, out, stderr = runCmd(t, "--resume", dir, "--rl-steps", "3", "--threads", "1", "--export-dtype", "bf16")
	require.Equal(t, 0, code, "stderr: %s\nstdout: %s", stderr, out)
	hfInfo, err := load.Resolve(filepath.Join(dir, "hf"))
	require.NoError(t, err)
	assert.Equal(t, "BF16", hfInfo.DType, "the resumed run re-exports hf/ with --export-dtype")
	mets, err = runlog.ReadJSONL[metricsLine](filepath.Join(dir, "metrics.jsonl"))
	require.NoError(t, err)
	require.Len(t, mets, 3)
	assert.Equal(t, 3, mets[2].Step)
	assert.FileExists(t, filepath.Join(dir, "samples", "eval-rl-step0003.jsonl"), "the extended run is evaluated again")

	// ... and ends exactly where a run of 3 RL steps from the start ends.
	ref := filepath.Join(t.TempDir(), "ref")
	code, _, stderr = runCmd(t, "--preset", "smoke", "--out", ref, "--threads", "1", "--rl-steps", "3")
	require.Equal(t, 0, code, stderr)
	a, err := os.ReadFile(filepath.Join(dir, "checkpoints", "final.safetensors"))
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(ref, "checkpoints", "final.safetensors"))
	require.NoError(t, err)
	assert.True(t, bytes.Equal(a, b), "an RL run resumed after step 2 must match an uninterrupted one")
}

func TestInterruptSavesAndResumeMatches(t *testing.T) {
	// A run cancelled before it starts SFT (once the task is built: a
	// cancellation before that stops the build and saves nothing) saves a
	// checkpoint, exits 130 and resumes to the same weights as an
	// uninterrupted run.
	dir := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithCancel(context.Background())
	var errb bytes.Buffer
	out := &cancelAfter{prefix: "task ", cancel: cancel}
	code := command(ctx, []string{"--preset", "smoke", "--out", dir, "--threads", "1"}, out, &errb)
	require.Equal(t, 130, code, errb.String())
	assert.Contains(t, errb.String(), "--resume "+dir)
	code, _, stderr := runCmd(t, "--resume", dir, "--threads", "1")
	require.Equal(t, 0, code, stderr)

	ref := filepath.Join(t.TempDir(), "ref")
	code, _, stderr = runCmd(t, "--preset", "smoke", "--out", ref, "--threads", "1")
	require.Equal(t, 0, code, stderr)
	a, err := os.ReadFile(filepath.Join(dir, "checkpoints", "final.safetensors"))
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(ref, "checkpoints", "final.safetensors"))
	require.NoError(t, err)
	assert.True(t, bytes.Equal(a, b), "resumed run must end with the same checkpoint")
}

func TestBadInputExitsTwo(t *testing.T) {
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "bad.safetensors")
	require.NoError(t, os.WriteFile(corrupt, []byte("not a checkpoint"), 0o644))
	noAnswers := filepath.Join(dir, "q.jsonl")
	require.NoError(t, os.WriteFile(noAnswers, []byte(`{"question":"2+2?"}`+"\n"), 0o644))
	for _, args := range [][]string{
		{"--no-such-flag"},
		{"--m", "4", "--n", "8"},
		{"--lr", "-1"},
		{"--algo", "ppo"},
		{"--preset", "huge"},
		{"--task", "nothing"},
		{"--task", "jsonl:" + filepath.Join(dir, "missing.jsonl")},
		{"--task", "jsonl:" + noAnswers},
		{"--model", filepath.Join(dir, "missing")},
		{"--model", corrupt, "--out", filepath.Join(dir, "r1")},
		{"--config", filepath.Join(dir, "missing.yaml")},
		{"--backend", "tpu"},
		{"--eval-k", "4"},
		{"--attribution", "hard", "--algo", "grpo"},
		{"--resume", filepath.Join(dir, "nothing")},
		{"extra-arg"},
	} {
		code, _, stderr := runCmd(t, args...)
		assert.Equal(t, 2, code, "%v: %s", args, stderr)
		assert.NotEmpty(t, stderr, "%v", args)
	}
	assert.NoDirExists(t, filepath.Join(dir, "r1"), "a run that fails its checks leaves no folder behind")
}

// TestShortSFTWritesWellFormedToolCalls is the end-to-end check of the RL
// core: a tiny model after a short SFT on ToolWorld writes well-formed
// trajectories that call the tools, and RL then runs a few steps on them.
func TestShortSFTWritesWellFormedToolCalls(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for a few seconds")
	}
	dir := filepath.Join(t.TempDir(), "run")
	code, out, stderr := runCmd(t, "--preset", "smoke", "--out", dir, "--threads", "2",
		"--sft-steps", "400", "--d-model", "64", "--layers", "2", "--ffn", "128",
		"--tw-test", "40", "--tw-families", "arith,lookup")
	require.Equal(t, 0, code, "stderr: %s\nstdout: %s", stderr, out)
	raw, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	require.NoError(t, err)
	var sum struct {
		Before, After struct {
			Overall struct {
				Questions    int     `json:"questions"`
				ToolCalls    float64 `json:"tool_calls"`
				FormatErrors float64 `json:"format_errors"`
			} `json:"overall"`
		}
	}
	require.NoError(t, json.Unmarshal(raw, &sum))
	b := sum.Before.Overall
	require.Positive(t, b.Questions)
	assert.LessOrEqual(t, b.FormatErrors, 0.1, "well-formed trajectories after SFT")
	assert.GreaterOrEqual(t, b.ToolCalls, 0.9, "the SFT model calls its tools")
	metrics, err := os.ReadFile(filepath.Join(dir, "metrics.jsonl"))
	require.NoError(t, err)
	assert.Equal(t, 2, bytes.Count(metrics, []byte("\n")), "two RL steps ran")
}

// requireHFExport checks the run's hf/ folder: it loads as a Hugging Face
// folder with the final checkpoint's config, weights (bit for bit, F32),
// tokenizer, ChatML template and end-of-turn ids.
func requireHFExport(t *testing.T, run string) {
	t.Helper()
	b := cpu.New(1)
	ck, err := load.Load(run, load.Options{Backend: b, RequireTokenizer: true})
	require.NoError(t, err)
	defer ck.Free()
	hf, err := load.Load(filepath.Join(run, "hf"), load.Options{Backend: b, RequireTokenizer: true})
	require.NoError(t, err)
	defer hf.Free()
	assert.Equal(t, load.HF, hf.Found.Kind)
	assert.Equal(t, "F32", hf.Found.DType)
	assert.Equal(t, archJSON(t, ck.Model.Cfg), archJSON(t, hf.Model.Cfg))
	a, err := ck.Model.W.Data()
	require.NoError(t, err)
	c, err := hf.Model.W.Data()
	require.NoError(t, err)
	require.True(t, slices.EqualFunc(a, c, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) }), "weights differ")
	assert.Equal(t, ck.EOS, hf.EOS)
	assert.Equal(t, tokenizer.ChatMLTemplate, hf.Chat.Source)
	assert.Equal(t, ck.Tokenizer.VocabSize(), hf.Tokenizer.VocabSize())
	for _, f := range []string{"config.json", "generation_config.json", "tokenizer_config.json", "tokenizer.json", "model.safetensors"} {
		assert.FileExists(t, filepath.Join(run, "hf", f))
	}
}

// archJSON is c's config.json without the entries that describe a file
// rather than the architecture (the weights' dtype, the special token ids),
// which an export adds: two configs with equal archJSON build the same model.
func archJSON(t *testing.T, c nn.Config) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(c.HFJSON(), &m))
	for _, k := range []string{"torch_dtype", "bos_token_id", "eos_token_id", "pad_token_id"} {
		delete(m, k)
	}
	return m
}

// A run started from a Hugging Face folder exports hf/ as that folder came:
// its dtype, its tokenizer files and its config fields.
func TestRunFromHFFolderExportsAsItCame(t *testing.T) {
	base := filepath.Join(t.TempDir(), "base")
	code, _, stderr := runCmd(t, "--preset", "smoke", "--out", base, "--threads", "1", "--rl-steps", "0", "--export-dtype", "bf16")
	require.Equal(t, 0, code, stderr)
	origin := filepath.Join(base, "hf")
	// A field package nn does not read, which the export must carry over.
	cfgPath := filepath.Join(origin, "config.json")
	var cfg map[string]any
	require.NoError(t, runlog.ReadJSON(cfgPath, &cfg))
	cfg["transformers_version"] = "4.51.0"
	data, err := json.Marshal(cfg)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(cfgPath, data, 0o644))

	run := filepath.Join(t.TempDir(), "run")
	code, out, stderr := runCmd(t, "--preset", "smoke", "--model", origin, "--out", run, "--threads", "1", "--rl-steps", "1")
	require.Equal(t, 0, code, "stderr: %s\nstdout: %s", stderr, out)
	assert.Contains(t, out, filepath.Join(run, "hf")+" (BF16;")
	f, err := load.Resolve(filepath.Join(run, "hf"))
	require.NoError(t, err)
	assert.Equal(t, "BF16", f.DType)
	for _, n := range []string{"tokenizer.json", "tokenizer_config.json", "generation_config.json"} {
		a, err := os.ReadFile(filepath.Join(origin, n))
		require.NoError(t, err)
		b, err := os.ReadFile(filepath.Join(run, "hf", n))
		require.NoError(t, err)
		assert.True(t, bytes.Equal(a, b), "%s is the origin's", n)
	}
	var got map[string]any
	require.NoError(t, runlog.ReadJSON(filepath.Join(run, "hf", "config.json"), &got))
	assert.Equal(t, "4.51.0", got["transformers_version"])
	assert.Equal(t, "bfloat16", got["torch_dtype"])
}
