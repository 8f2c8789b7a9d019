package rl

import (
	"path/filepath"
	"testing"

	"github.com/goarpo/arpo/internal/shareddata"
	"github.com/goarpo/arpo/nn/chat"
	"github.com/goarpo/arpo/nn/tokenizer"
	"github.com/goarpo/arpo/tasks"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Without a chat template the prompt is today's ChatML, bit for bit.
func TestRenderChatPromptOwnChatML(t *testing.T) {
	tok, err := tokenizer.Train([]string{"how many days are in a leap year"}, 300, tokenizer.DefaultSpecials)
	require.NoError(t, err)
	bpe := BPE{tok}
	for _, sys := range []string{"", "Be brief."} {
		got, err := RenderChatPrompt(bpe, nil, chat.ThinkingOff, sys, "how many days?")
		require.NoError(t, err)
		assert.Equal(t, RenderPrompt(bpe, sys, "how many days?"), got)
	}
}

// With Qwen3's own template the prompt is its ChatML, the paper's system
// prompt first; thinking off appends the empty think block.
func TestRenderChatPromptQwen3(t *testing.T) {
	p := shareddata.Path(t, "tokenizers/qwen3/tokenizer.json")
	tok, err := tokenizer.Load(p)
	require.NoError(t, err)
	tmpl, err := chat.Load(filepath.Dir(p))
	require.NoError(t, err)
	q := "How many days are in a leap year?"
	base := "<|im_start|>system\n" + tasks.SystemPrompt + "<|im_end|>\n<|im_start|>user\n" + q + "<|im_end|>\n<|im_start|>assistant\n"
	for thinking, want := range map[chat.Thinking]string{
		chat.ThinkingAuto: base,
		chat.ThinkingOn:   base,
		chat.ThinkingOff:  base + "<think>\n\n</think>\n\n",
	} {
		got, err := RenderChatPrompt(BPE{tok}, tmpl, thinking, tasks.SystemPrompt, q)
		require.NoError(t, err)
		assert.Equal(t, ids32(tok.Encode(want)), got, "thinking %v", thinking)
	}
}

// Llama 3.1's template writes <|begin_of_text|> and its header turns.
func TestRenderChatPromptLlama3(t *testing.T) {
	p := shareddata.Path(t, "tokenizers/llama3_1/tokenizer.json")
	tok, err := tokenizer.Load(p)
	require.NoError(t, err)
	tmpl, err := chat.Load(filepath.Dir(p))
	require.NoError(t, err)
	got, err := RenderChatPrompt(BPE{tok}, tmpl, chat.ThinkingAuto, "", "Hi")
	require.NoError(t, err)
	want := "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
	assert.Equal(t, ids32(tok.Encode(want)), got)
	assert.Equal(t, int32(128000), got[0])
}
