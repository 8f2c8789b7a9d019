package main

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/backend/cpu"
	"github.com/goarpo/arpo/internal/runlog"
	"github.com/goarpo/arpo/internal/shareddata"
	"github.com/goarpo/arpo/nn/load"
	"github.com/goarpo/arpo/nn/nntest"
)

func ids(t []int32) []int {
	out := make([]int, len(t))
	for i, v := range t {
		out[i] = int(v)
	}
	return out
}

// RL from a downloaded model, end to end: a tiny random Qwen3 with the real
// 150k vocabulary trains 2 ARPO steps on GSM8K (the python tool, math
// grading) and on HotpotQA with local search, starting from the Hugging
// Face folder with its chat template and no SFT.
func TestRLFromHFModel(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model")
	}
	model := qwen3Folder(t)
	data := filepath.Dir(filepath.Dir(shareddata.Path(t, "train/gsm8k_train.jsonl")))
	shareddata.Path(t, "eval/hotpotqa_distractor_600.jsonl")
	for _, task := range []string{"gsm8k", "hotpotqa-local"} {
		t.Run(task, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			code, out, stderr := runCmd(t, "--model", model, "--task", task, "--data", data, "--out", dir, "--threads", "1",
				"--rl-steps", "2", "--rl-batch", "1", "--m", "2", "--n", "1", "--token-budget", "448",
				"--eval-questions", "1", "--micro-tokens", "1024")
			require.Equal(t, 0, code, "stderr: %s\nstdout: %s", stderr, out)
			assert.Contains(t, out, "the model's chat template, the paper's system prompt")
			mets, err := runlog.ReadJSONL[metricsLine](filepath.Join(dir, "metrics.jsonl"))
			require.NoError(t, err)
			require.Len(t, mets, 2, "one line per RL step")
			for _, m := range mets {
				assert.Positive(t, m.Trajectories)
				assert.Positive(t, m.TokensGenerated)
			}
			var st runState
			require.NoError(t, runlog.ReadJSON(filepath.Join(dir, "state.json"), &st))
			assert.Equal(t, "done", st.Phase)
			assert.Equal(t, [2]int{0, 2}, [2]int{st.SFTStep, st.RLStep}, "no SFT from a pretrained model")
			assert.NoFileExists(t, filepath.Join(dir, "sft.jsonl"))

			// RUN/hf/ loads back as the Qwen3 it came in, with its chat
			// template, and holds the run's final weights exactly.
			hf, err := load.Load(filepath.Join(dir, "hf"), load.Options{Backend: cpu.New(1), RequireTokenizer: true})
			require.NoError(t, err)
			defer hf.Free()
			assert.Equal(t, "qwen3", hf.Model.Cfg.ModelType)
			assert.Equal(t, 151936, hf.Model.Cfg.VocabSize)
			require.NotNil(t, hf.Chat)
			assert.Contains(t, hf.Chat.Source, "enable_thinking", "Qwen3's own template, not ChatML")
			run, err := load.Load(dir, load.Options{Backend: cpu.New(1)})
			require.NoError(t, err)
			defer run.Free()
			hfW, err := hf.Model.W.Data()
			require.NoError(t, err)
			runW, err := run.Model.W.Data()
			require.NoError(t, err)
			assert.True(t, slices.Equal(runW, hfW), "RUN/hf/ holds the run's final weights")
		})
	}
}

// qwen3Folder is a tiny random Qwen3 folder with the real tokenizer and chat
// template; it skips without the shared data.
func qwen3Folder(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "qwen3-tiny")
	require.NoError(t, nntest.WriteQwen3WithTokenizer(dir, filepath.Dir(shareddata.Path(t, "tokenizers/qwen3/tokenizer.json"))))
	return dir
}
