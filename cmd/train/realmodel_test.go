package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/backend/cpu"
	"github.com/goarpo/arpo/internal/runlog"
	"github.com/goarpo/arpo/internal/shareddata"
	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/chat"
	"github.com/goarpo/arpo/nn/load"
	"github.com/goarpo/arpo/nn/nntest"
	"github.com/goarpo/arpo/nn/tokenizer"
	"github.com/goarpo/arpo/rl"
	"github.com/goarpo/arpo/tasks"
)

// qwen3Folder writes a tiny random model in Qwen3's layout with the real
// Qwen tokenizer (151,936 ids) and its chat template: a downloaded Qwen3
// folder in miniature. It skips without the shared data.
func qwen3Folder(t *testing.T) string {
	t.Helper()
	tokDir := filepath.Dir(shareddata.Path(t, "tokenizers/qwen3/tokenizer.json"))
	dir := filepath.Join(t.TempDir(), "qwen3-tiny")
	_, err := nntest.WriteQwen3(dir, 151936, 7)
	require.NoError(t, err)
	for _, name := range []string{"tokenizer.json", "tokenizer_config.json"} {
		data, err := os.ReadFile(filepath.Join(tokDir, name))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), data, 0o644))
	}
	return dir
}

// A Hugging Face model's prompts are its own chat template's rendering of
// the paper's system prompt and the question, and its end-of-turn token
// stops a rollout.
func TestHFModelPromptsUseItsChatTemplate(t *testing.T) {
	dir := qwen3Folder(t)
	j := &job{c: Config{Model: dir}, td: &taskData{}, out: &strings.Builder{}}
	require.NoError(t, j.promptFormat(pretrainedHF(dir)))
	require.NotNil(t, j.td.tmpl)
	assert.Equal(t, tasks.SystemPrompt, j.td.system)
	tok, err := tokenizer.Load(filepath.Join(dir, "tokenizer.json"))
	require.NoError(t, err)
	ex := []tasks.Example{{ID: "q1", Question: "What is 6 times 7?", Answer: "42"}}
	ps, err := prompts(rl.BPE{T: tok}, j.td.tmpl, chat.ThinkingAuto, j.td.system, ex, 4096)
	require.NoError(t, err)
	require.Len(t, ps, 1)
	want := "<|im_start|>system\n" + tasks.SystemPrompt + "<|im_end|>\n<|im_start|>user\nWhat is 6 times 7?<|im_end|>\n<|im_start|>assistant\n"
	assert.Equal(t, want, tok.Decode(ids(ps[0].Tokens)))
	imEnd, ok := tok.TokenID("<|im_end|>")
	require.True(t, ok)
	assert.Contains(t, ps[0].Tokens, int32(imEnd), "special tokens are encoded as one id each")
	eos, err := load.EOSIDs(tok, j.td.tmpl, nn.Config{}, dir)
	require.NoError(t, err)
	assert.Contains(t, eos, int32(imEnd))

	// A folder without a template falls back to ChatML; a model trained
	// here gets no system prompt.
	cfg := filepath.Join(dir, "tokenizer_config.json")
	require.NoError(t, os.WriteFile(cfg, []byte(`{"eos_token": "<|im_end|>"}`), 0o644))
	require.NoError(t, j.promptFormat(dir))
	assert.Nil(t, j.td.tmpl)
	assert.Equal(t, tasks.SystemPrompt, j.td.system)
	require.NoError(t, j.promptFormat(""))
	assert.Empty(t, j.td.system)
	// A folder exported from a run here (our ChatML) is prompted as the run
	// trained it: ChatML, no system prompt.
	ours, err := json.Marshal(map[string]string{"chat_template": tokenizer.ChatMLTemplate, "eos_token": "<|im_end|>"})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(cfg, ours, 0o644))
	require.NoError(t, j.promptFormat(dir))
	assert.Nil(t, j.td.tmpl)
	assert.Empty(t, j.td.system)
	// A broken template is bad input, not a panic.
	require.NoError(t, os.WriteFile(cfg, []byte(`{"chat_template": "{% if %}"}`), 0o644))
	err = j.promptFormat(dir)
	require.ErrorAs(t, err, new(usageError))
	assert.Contains(t, err.Error(), "--model: chat:")
}

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
			var st state
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

// --thinking takes auto, on or off; anything else is bad input.
func TestThinkingFlag(t *testing.T) {
	for in, want := range map[string]chat.Thinking{"": chat.ThinkingAuto, "auto": chat.ThinkingAuto, "on": chat.ThinkingOn, "off": chat.ThinkingOff} {
		c := quickPreset()
		c.Thinking = in
		require.NoError(t, c.validate(), in)
		assert.Equal(t, want, c.thinking(), in)
	}
	c := quickPreset()
	c.Thinking = "maybe"
	err := c.validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--thinking")
}
