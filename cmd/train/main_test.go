package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/internal/runlog"
)

func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
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
	var st state
	require.NoError(t, runlog.ReadJSON(filepath.Join(dir, "state.json"), &st))
	assert.Equal(t, state{Phase: "done", SFTStep: 3, RLStep: 2}, st)

	// The same folder again is refused: a run never overwrites another.
	code, _, stderr = runCmd(t, "--preset", "smoke", "--out", dir)
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "not empty")

	// Resuming with more RL steps continues the run from its checkpoint.
	code, out, stderr = runCmd(t, "--resume", dir, "--rl-steps", "3", "--threads", "1")
	require.Equal(t, 0, code, "stderr: %s\nstdout: %s", stderr, out)
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
	code := run(ctx, []string{"--preset", "smoke", "--out", dir, "--threads", "1"}, out, &errb)
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

func TestConfigFileAndFlagOverride(t *testing.T) {
	dir := t.TempDir()
	yml := filepath.Join(dir, "c.yaml")
	require.NoError(t, os.WriteFile(yml, []byte("preset: smoke\nlr: 0.0001\nm: 6\nn: 3\nalgo: grpo\n"), 0o644))
	o, err := parseArgs([]string{"--config", yml, "--m", "8"})
	require.NoError(t, err)
	assert.Equal(t, "smoke", o.cfg.Preset, "the file picks the preset")
	assert.Equal(t, 1e-4, o.cfg.LR, "the file sets values")
	assert.Equal(t, 8, o.cfg.M, "flags override the file")
	assert.Equal(t, 3, o.cfg.N)
	assert.Equal(t, "grpo", o.cfg.Algo)
	assert.Equal(t, smokePreset().DModel, o.cfg.DModel, "the rest comes from the preset")

	js := filepath.Join(dir, "c.json")
	require.NoError(t, os.WriteFile(js, []byte(`{"rl-steps": 7, "sft-lr": 0.003}`), 0o644))
	o, err = parseArgs([]string{"--config", js, "--preset", "smoke"})
	require.NoError(t, err)
	assert.Equal(t, 7, o.cfg.RLSteps)
	assert.Equal(t, 3e-3, o.cfg.SFTLR)
	assert.Equal(t, "smoke", o.cfg.Preset)

	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"learning-rate": 1}`), 0o644))
	_, err = parseArgs([]string{"--config", bad})
	var ue usageError
	require.ErrorAs(t, err, &ue, "unknown keys are refused")

	o, err = parseArgs(nil)
	require.NoError(t, err)
	assert.Equal(t, quickPreset(), o.cfg, "no arguments: the quick preset")
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
