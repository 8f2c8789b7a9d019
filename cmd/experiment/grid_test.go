package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/internal/runlog"
)

var (
	trainOnce sync.Once
	trainDir  string
	trainBin  string
	trainErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if trainDir != "" {
		os.RemoveAll(trainDir)
	}
	os.Exit(code)
}

// smokeTrain builds cmd/train once for the tests that run it; they are
// skipped with -short.
func smokeTrain(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs cmd/train")
	}
	trainOnce.Do(func() {
		trainDir, trainErr = os.MkdirTemp("", "experiment-test")
		if trainErr == nil {
			trainBin, trainErr = buildTrain(context.Background(), trainDir)
		}
	})
	require.NoError(t, trainErr)
	return trainBin
}

const smokeSpec = `
name: tiny
preset: smoke
flags: {rl-steps: 1, tw-test: 10, eval-questions: 4}
algorithms: [arpo, grpo]
seeds: [1, 2]
`

func TestTinyGridRunsSkipsAndResumes(t *testing.T) {
	bin := smokeTrain(t)
	dir := t.TempDir()
	spec := writeFile(t, dir, "tiny.yaml", smokeSpec)
	out := filepath.Join(dir, "exp")
	args := []string{"--spec", spec, "--out", out, "--train-bin", bin, "--threads", "1"}

	code, stdout, stderr := runCmd(t, args...)
	require.Equal(t, 0, code, "stderr: %s\nstdout: %s", stderr, stdout)
	for _, c := range []string{"arpo-s1", "arpo-s2", "grpo-s1", "grpo-s2"} {
		assert.FileExists(t, filepath.Join(out, "cells", c, "summary.json"))
		assert.Contains(t, stdout, c)
	}
	for _, f := range []string{"results.md", "results.json", "results.png", "sft/checkpoints/sft.safetensors"} {
		assert.FileExists(t, filepath.Join(out, f))
	}
	assert.Contains(t, stdout, "| arpo | 2 |")
	var res struct {
		Cells []RunResult `json:"cells"`
		Arms  []ArmResult `json:"arms"`
	}
	require.NoError(t, runlog.ReadJSON(filepath.Join(out, "results.json"), &res))
	require.Len(t, res.Cells, 4)
	require.Len(t, res.Arms, 2)
	for _, c := range res.Cells {
		assert.Equal(t, 1, c.Steps, c.Cell)
		assert.Positive(t, c.TokensGenerated, c.Cell)
		assert.LessOrEqual(t, c.TrainCalls, c.TrainCallsFlat, c.Cell)
	}

	// Rerun: every finished cell is skipped, cmd/train does not run again.
	code, stdout, stderr = runCmd(t, args...)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, 5, strings.Count(stdout, "done already"), stdout)
	log, err := os.ReadFile(filepath.Join(out, "logs", "arpo-s1.log"))
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(string(log), "$ "), "one attempt only")

	// A cell cut short after its first checkpoint resumes with --resume; a
	// cell that died before one restarts from scratch.
	var rec record
	require.NoError(t, runlog.ReadJSON(filepath.Join(out, "cells", "grpo-s1.json"), &rec))
	rec.Status = "running"
	require.NoError(t, runlog.WriteJSON(filepath.Join(out, "cells", "grpo-s1.json"), rec))
	require.NoError(t, os.Remove(filepath.Join(out, "cells", "grpo-s1", "summary.json")))
	require.NoError(t, os.RemoveAll(filepath.Join(out, "cells", "grpo-s2")))
	require.NoError(t, os.MkdirAll(filepath.Join(out, "cells", "grpo-s2"), 0o755))
	writeFile(t, filepath.Join(out, "cells", "grpo-s2"), "config.json", "{}")
	code, stdout, stderr = runCmd(t, args...)
	require.Equal(t, 0, code, "stderr: %s\nstdout: %s", stderr, stdout)
	assert.Regexp(t, `grpo-s1 +resume`, stdout)
	assert.Regexp(t, `grpo-s2 +restart`, stdout)
	log, err = os.ReadFile(filepath.Join(out, "logs", "grpo-s1.log"))
	require.NoError(t, err)
	assert.Contains(t, string(log), "--resume "+filepath.Join(out, "cells", "grpo-s1"))
	assert.FileExists(t, filepath.Join(out, "cells", "grpo-s1", "summary.json"))
	assert.FileExists(t, filepath.Join(out, "cells", "grpo-s2", "summary.json"))

	// The same folder with other flags is refused before anything runs.
	changed := writeFile(t, dir, "changed.yaml", strings.Replace(smokeSpec, "rl-steps: 1", "rl-steps: 2", 1))
	code, _, stderr = runCmd(t, "--spec", changed, "--out", out, "--train-bin", bin)
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "was started with other flags")
}

func TestBadFlagValueIsCaughtBeforeRunning(t *testing.T) {
	bin := smokeTrain(t)
	dir := t.TempDir()
	spec := writeFile(t, dir, "bad.yaml", "preset: smoke\nflags: {m: 2, n: 4}\nalgorithms: [arpo]\nseeds: [1]\n")
	out := filepath.Join(dir, "exp")
	code, _, stderr := runCmd(t, "--spec", spec, "--out", out, "--train-bin", bin)
	assert.Equal(t, 2, code, stderr)
	assert.Contains(t, stderr, "--n (4) must not exceed --m (2)")
	assert.NoDirExists(t, filepath.Join(out, "cells"))

	code, stdout, stderr := runCmd(t, "--spec", writeFile(t, dir, "ok.yaml", "preset: smoke\nalgorithms: [dapo]\nseeds: [4]\n"),
		"--out", out, "--train-bin", bin, "--dry-run")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "dapo-s4: ")
	assert.Contains(t, stdout, "--algo dapo --seed 4 --data-seed 4 --model SFT", "every cell sees the data of one seed")
	assert.NoDirExists(t, filepath.Join(out, "cells"), "a dry run runs nothing")
}

func TestEntropyCommandOnSmokeCheckpoint(t *testing.T) {
	bin := smokeTrain(t)
	dir := t.TempDir()
	spec := writeFile(t, dir, "sft.yaml", "preset: smoke\nflags: {rl-steps: 1, eval-questions: 2}\nalgorithms: [grpo]\nseeds: [1]\n")
	out := filepath.Join(dir, "exp")
	code, _, stderr := runCmd(t, "--spec", spec, "--out", out, "--train-bin", bin, "--threads", "1")
	require.Equal(t, 0, code, stderr)

	ckpt := filepath.Join(out, "sft", "checkpoints", "sft.safetensors")
	eout := filepath.Join(dir, "ent")
	args := []string{"entropy", "--model", ckpt, "--questions", "6", "--m", "2", "--k", "4", "--boot", "50", "--threads", "1", "--out", eout}
	code, stdout, stderr := runCmd(t, args...)
	require.Equal(t, 0, code, "stderr: %s\nstdout: %s", stderr, stdout)
	assert.Contains(t, stdout, "| first 4 tokens after the result |")
	for _, f := range []string{"entropy.json", "entropy.md", "entropy.png"} {
		assert.FileExists(t, filepath.Join(eout, f))
	}
	var rep analysisReport
	require.NoError(t, runlog.ReadJSON(filepath.Join(eout, "entropy.json"), &rep))
	assert.Equal(t, 12, rep.Trajectories, "6 questions x 2 samples")
	s, ok := rep.bucket("initial")
	require.True(t, ok)
	assert.Positive(t, s.Tokens)
	assert.True(t, s.Lo <= s.Mean && s.Mean <= s.Hi && s.Hi <= 1)

	// The same seed gives the same report.
	args[len(args)-1] = filepath.Join(dir, "ent2")
	code, _, stderr = runCmd(t, args...)
	require.Equal(t, 0, code, stderr)
	a, err := os.ReadFile(filepath.Join(eout, "entropy.json"))
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(dir, "ent2", "entropy.json"))
	require.NoError(t, err)
	assert.Equal(t, string(a), string(b))

	// A checkpoint without its run folder's config is bad input.
	lone := filepath.Join(dir, "lone.safetensors")
	data, err := os.ReadFile(ckpt)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(lone, data, 0o644))
	code, _, stderr = runCmd(t, "entropy", "--model", lone)
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "no tokenizer.json found with the model")
	code, _, stderr = runCmd(t, "entropy", "--model", lone, "--tokenizer", filepath.Join(filepath.Dir(filepath.Dir(ckpt)), "tokenizer.json"))
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "--run-config")
}

func TestInterruptedGridResumes(t *testing.T) {
	bin := smokeTrain(t)
	dir := t.TempDir()
	spec := writeFile(t, dir, "tiny.yaml", "preset: smoke\nflags: {rl-steps: 30, eval-questions: 2}\nalgorithms: [arpo]\nseeds: [1, 2]\n")
	out := filepath.Join(dir, "exp")
	args := []string{"--spec", spec, "--out", out, "--train-bin", bin, "--threads", "1"}

	// Ctrl-C once the first cell has its first checkpoint: cmd/train gets
	// the interrupt, saves and exits.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			if fileExists(filepath.Join(out, "cells", "arpo-s1", "state.json")) {
				cancel()
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	var outb, errb strings.Builder
	code := command(ctx, args, &outb, &errb)
	require.Equal(t, 130, code, "stdout: %s\nstderr: %s", outb.String(), errb.String())
	assert.Contains(t, errb.String(), "rerun the same command to resume")
	assert.NoFileExists(t, filepath.Join(out, "cells", "arpo-s2.json"), "nothing runs after the interrupt")
	var rec record
	require.NoError(t, runlog.ReadJSON(filepath.Join(out, "cells", "arpo-s1.json"), &rec))
	assert.Equal(t, "interrupted", rec.Status)

	code, stdout, stderr := runCmd(t, args...)
	require.Equal(t, 0, code, "stderr: %s\nstdout: %s", stderr, stdout)
	assert.Regexp(t, `arpo-s1 +resume`, stdout)
	mets, err := runlog.ReadJSONL[struct{ Step int }](filepath.Join(out, "cells", "arpo-s1", "metrics.jsonl"))
	require.NoError(t, err)
	require.NotEmpty(t, mets)
	assert.Equal(t, 30, mets[len(mets)-1].Step, "the resumed cell ran to the end")
	assert.FileExists(t, filepath.Join(out, "cells", "arpo-s2", "summary.json"))
	assert.Contains(t, stdout, "| arpo | 2 |")
}
