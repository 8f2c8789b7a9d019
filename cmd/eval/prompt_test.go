package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/backend/cpu"
	"github.com/goarpo/arpo/internal/shareddata"
	"github.com/goarpo/arpo/nn/chat"
	"github.com/goarpo/arpo/nn/load"
	"github.com/goarpo/arpo/nn/nntest"
	"github.com/goarpo/arpo/rl"
	"github.com/goarpo/arpo/tasks"
)

// A Hugging Face model is evaluated as cmd/train trains it: its own chat
// template, the paper's system prompt, the thinking switch; a model trained
// here keeps its ChatML without a system prompt.
func TestPromptsFollowTheModel(t *testing.T) {
	tokDir := filepath.Dir(shareddata.Path(t, "tokenizers/qwen3/tokenizer.json"))
	dir := filepath.Join(t.TempDir(), "qwen3-tiny")
	_, err := nntest.WriteQwen3(dir, 151936, 3)
	require.NoError(t, err)
	for _, name := range []string{"tokenizer.json", "tokenizer_config.json"} {
		data, err := os.ReadFile(filepath.Join(tokDir, name))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), data, 0o644))
	}
	l, err := load.Load(dir, load.Options{Backend: cpu.New(1), RequireTokenizer: true})
	require.NoError(t, err)
	defer l.Free()
	require.True(t, l.Pretrained())
	bpe := rl.BPE{T: l.Tokenizer}
	q := []tasks.Example{{ID: "q1", Question: "What is 6 times 7?", Answer: "42"}}
	decode := func(p rl.Prompt) string {
		ids := make([]int, len(p.Tokens))
		for i, t := range p.Tokens {
			ids[i] = int(t)
		}
		return l.Tokenizer.Decode(ids)
	}

	ps, err := renderPrompts(l, bpe, options{model: dir, thinking: chat.ThinkingOff}, q)
	require.NoError(t, err)
	assert.Equal(t, "<|im_start|>system\n"+tasks.SystemPrompt+"<|im_end|>\n<|im_start|>user\nWhat is 6 times 7?<|im_end|>\n"+
		"<|im_start|>assistant\n<think>\n\n</think>\n\n", decode(ps[0]), "Qwen3's template with thinking off")

	ps, err = renderPrompts(l, bpe, options{model: dir, system: "Be brief."}, q)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(decode(ps[0]), "<|im_start|>system\nBe brief.<|im_end|>\n"), "--system replaces the default")

	run, err := load.Load(tinyRun(t), load.Options{Backend: cpu.New(1), RequireTokenizer: true})
	require.NoError(t, err)
	defer run.Free()
	assert.False(t, run.Pretrained())
	ps, err = renderPrompts(run, rl.BPE{T: run.Tokenizer}, options{}, q)
	require.NoError(t, err)
	assert.Equal(t, rl.RenderPrompt(rl.BPE{T: run.Tokenizer}, "", q[0].Question), ps[0].Tokens, "a model trained here: ChatML, no system prompt")
}
