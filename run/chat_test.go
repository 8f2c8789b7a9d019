package run

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/internal/exitcode"
	"github.com/goarpo/arpo/internal/shareddata"
	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/chat"
	"github.com/goarpo/arpo/nn/load"
	"github.com/goarpo/arpo/nn/nntest"
	"github.com/goarpo/arpo/nn/tokenizer"
	"github.com/goarpo/arpo/rl"
	"github.com/goarpo/arpo/tasks"
)

func ids(t []int32) []int {
	out := make([]int, len(t))
	for i, v := range t {
		out[i] = int(v)
	}
	return out
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
	assert.True(t, exitcode.IsUsage(err), "%v", err)
	assert.Contains(t, err.Error(), "--model: chat:")
}

// qwen3Folder is a tiny random Qwen3 folder with the real tokenizer and chat
// template; it skips without the shared data.
func qwen3Folder(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "qwen3-tiny")
	require.NoError(t, nntest.WriteQwen3WithTokenizer(dir, filepath.Dir(shareddata.Path(t, "tokenizers/qwen3/tokenizer.json"))))
	return dir
}
