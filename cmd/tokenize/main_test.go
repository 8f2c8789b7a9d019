package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goarpo/arpo/internal/shareddata"
	"github.com/goarpo/arpo/nn/tokenizer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// trained writes a small trained tokenizer to a temp folder, so the command
// is tested without the shared data.
func trained(t *testing.T) string {
	text := strings.Repeat("the city was founded in 1984 and the river runs north. ", 50)
	tok, err := tokenizer.Train([]string{text}, 320, tokenizer.DefaultSpecials)
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "tokenizer.json")
	require.NoError(t, tok.Save(p))
	return p
}

func call(args []string, stdin string) (string, string, int) {
	var out, errOut bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), code
}

func TestEncodeDecode(t *testing.T) {
	p := trained(t)
	in := "the city <think>\xff\n"
	out, errOut, code := call([]string{"--tokenizer", p}, in)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, ",4,", "<think> is special id 4")
	back, errOut, code := call([]string{"--tokenizer", p, "--decode"}, out)
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, in, back)

	out, _, code = call([]string{"--tokenizer", p, "--ordinary"}, "<think>")
	require.Equal(t, 0, code)
	assert.NotEqual(t, "[4]\n", out)

	out, _, code = call([]string{"--tokenizer", p}, "")
	require.Equal(t, 0, code)
	assert.Equal(t, "[]\n", out)
}

func TestQwen3(t *testing.T) {
	dir := filepath.Dir(shareddata.Path(t, "tokenizers/qwen3/tokenizer.json"))
	out, errOut, code := call([]string{"--tokenizer", dir}, "Hello world<|im_end|>")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, "[9707,1879,151645]\n", out)
}

func TestBadInput(t *testing.T) {
	p := trained(t)
	for name, c := range map[string]struct {
		args  []string
		stdin string
		msg   string
	}{
		"no tokenizer":   {nil, "x", "--tokenizer is required"},
		"missing file":   {[]string{"--tokenizer", "/nonexistent/tok.json"}, "x", "no such file"},
		"unknown flag":   {[]string{"--tokenizer", p, "--frobnicate"}, "x", "unknown flag"},
		"stray argument": {[]string{"--tokenizer", p, "text"}, "x", "unexpected arguments"},
		"not json":       {[]string{"--tokenizer", p, "--decode"}, "hello", "not a JSON array"},
		"bad id":         {[]string{"--tokenizer", p, "--decode"}, "[1, 99999]", "id 99999 (at index 1)"},
		"negative id":    {[]string{"--tokenizer", p, "--decode"}, "[-1]", "id -1"},
	} {
		_, errOut, code := call(c.args, c.stdin)
		assert.Equal(t, 2, code, name)
		assert.Contains(t, errOut, c.msg, name)
	}
}

// --render prints what the folder's chat template renders: for a tokenizer
// trained here, exactly the ChatML that tokenizer.ChatML writes.
func TestRenderTrainedChatML(t *testing.T) {
	p := trained(t)
	conv := `{"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "the city?"}], "add_generation_prompt": true}`
	out, errOut, code := call([]string{"--tokenizer", p, "--render"}, conv)
	require.Equal(t, 0, code, errOut)
	want := tokenizer.ChatML([]tokenizer.Message{{Role: "system", Content: "S"}, {Role: "user", Content: "the city?"}},
		tokenizer.ChatOptions{AddGenerationPrompt: true})
	assert.Equal(t, want, out)
}

// --render with the real Qwen3 folder gives @huggingface/jinja's rendering
// (nn/chat/testdata/reference.json), the thinking switch included.
func TestRenderQwen3(t *testing.T) {
	dir := filepath.Dir(shareddata.Path(t, "tokenizers/qwen3/tokenizer_config.json"))
	var convs []struct {
		Name   string
		Kwargs json.RawMessage
	}
	data, err := os.ReadFile("../../nn/chat/testdata/conversations.json")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &convs))
	var ref struct {
		Cases []struct{ Template, Conversation, Text string }
	}
	data, err = os.ReadFile("../../nn/chat/testdata/reference.json")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &ref))
	want := map[string]string{}
	for _, c := range ref.Cases {
		if c.Template == "qwen3" {
			want[c.Conversation] = c.Text
		}
	}
	for _, c := range convs {
		out, errOut, code := call([]string{"--tokenizer", dir, "--render"}, string(c.Kwargs))
		require.Equal(t, 0, code, errOut)
		assert.Equal(t, want[c.Name], out, c.Name)
	}
}

// Bad conversations and folders without a template get one line and exit 2.
func TestRenderBadInput(t *testing.T) {
	p := trained(t)
	noTemplate := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(noTemplate, "tokenizer_config.json"), []byte(`{"eos_token": "x"}`), 0o644))
	for name, c := range map[string]struct {
		args  []string
		stdin string
	}{
		"not json":          {[]string{"--tokenizer", p, "--render"}, `{"messages": [`},
		"no messages":       {[]string{"--tokenizer", p, "--render"}, `{"add_generation_prompt": true}`},
		"message not obj":   {[]string{"--tokenizer", p, "--render"}, `{"messages": ["hi"]}`},
		"no role":           {[]string{"--tokenizer", p, "--render"}, `{"messages": [{"content": "hi"}]}`},
		"bad thinking":      {[]string{"--tokenizer", p, "--render"}, `{"messages": [], "enable_thinking": "no"}`},
		"no template":       {[]string{"--tokenizer", noTemplate, "--render"}, `{"messages": []}`},
		"no config":         {[]string{"--tokenizer", t.TempDir(), "--render"}, `{"messages": []}`},
		"missing folder":    {[]string{"--tokenizer", "/nonexistent/dir", "--render"}, `{"messages": []}`},
		"render and decode": {[]string{"--tokenizer", p, "--render", "--decode"}, `{"messages": []}`},
	} {
		out, errOut, code := call(c.args, c.stdin)
		assert.Equal(t, 2, code, name)
		assert.Empty(t, out, name)
		assert.Equal(t, 1, strings.Count(errOut, "\n"), "%s: %q", name, errOut)
		assert.True(t, strings.HasPrefix(errOut, "tokenize: "), "%s: %q", name, errOut)
	}
}

// TestMaxInput: input over --max-input is refused with one line and exit 2
// (issue 20: no cap); input at the cap is encoded.
func TestMaxInput(t *testing.T) {
	p := trained(t)
	_, errOut, code := call([]string{"--tokenizer", p, "--max-input", "10"}, "the city was")
	assert.Equal(t, 2, code)
	assert.Equal(t, "tokenize: the input is over --max-input 10 bytes\n", errOut)
	out, errOut, code := call([]string{"--tokenizer", p, "--max-input", "8"}, "the city")
	require.Equal(t, 0, code, errOut)
	assert.True(t, strings.HasPrefix(out, "["), out)
	_, errOut, code = call([]string{"--tokenizer", p, "--max-input", "-1"}, "x")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "--max-input must be >= 0")
}
