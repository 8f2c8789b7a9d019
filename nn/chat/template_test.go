package chat

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/goarpo/arpo/nn/tokenizer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writeFile(t *testing.T, dir, name, data string) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644))
}

// A tokenizer trained and saved here loads with its ChatML template, which
// renders exactly what tokenizer.ChatML writes (the prompts of models
// trained here keep their bits).
func TestOwnTokenizerChatML(t *testing.T) {
	tok, err := tokenizer.Train([]string{"the river runs north"}, 300, tokenizer.DefaultSpecials)
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, tok.Save(filepath.Join(dir, "tokenizer.json")))
	tmpl, err := Load(dir)
	require.NoError(t, err)
	msgs := []tokenizer.Message{{Role: "system", Content: "S"}, {Role: "user", Content: "Q?"}, {Role: "assistant", Content: "<think>x</think><answer>1</answer>"}, {Role: "user", Content: "again"}}
	for _, gen := range []bool{false, true} {
		conv := Conversation{AddGenerationPrompt: gen}
		for _, m := range msgs {
			conv.Messages = append(conv.Messages, Message{Role: m.Role, Content: m.Content})
		}
		got, err := tmpl.Render(conv)
		require.NoError(t, err)
		assert.Equal(t, tokenizer.ChatML(msgs, tokenizer.ChatOptions{AddGenerationPrompt: gen}), got)
	}
	assert.Equal(t, []string{"<|endoftext|>", "<|im_end|>"}, tmpl.EndOfTurn)
}

// tokenizer_config.json may hold a list of named templates; Load takes
// "default", Parse any by name; chat_template.jinja beside it wins, as in
// transformers.
func TestLoadForms(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "tokenizer_config.json", `{"eos_token": {"content": "</s>", "__type": "AddedToken"}, "bos_token": null,
		"chat_template": [{"name": "tool_use", "template": "TOOLS"}, {"name": "default", "template": "{{ eos_token }}{{ messages|length }}"}]}`)
	tmpl, err := Load(dir)
	require.NoError(t, err)
	out, err := tmpl.Render(Conversation{Messages: []Message{{Role: "user", Content: "x"}}})
	require.NoError(t, err)
	assert.Equal(t, "</s>1", out)
	assert.Equal(t, "</s>", tmpl.EOS())
	assert.Equal(t, "", tmpl.BOS())

	data, err := os.ReadFile(filepath.Join(dir, "tokenizer_config.json"))
	require.NoError(t, err)
	tmpl, err = Parse(data, "tool_use")
	require.NoError(t, err)
	out, err = tmpl.Render(Conversation{})
	require.NoError(t, err)
	assert.Equal(t, "TOOLS", out)
	_, err = Parse(data, "nope")
	assert.ErrorIs(t, err, ErrNoTemplate)

	writeFile(t, dir, "chat_template.jinja", "J{{ eos_token }}")
	tmpl, err = Load(dir)
	require.NoError(t, err)
	out, err = tmpl.Render(Conversation{})
	require.NoError(t, err)
	assert.Equal(t, "J</s>", out)
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := Load(dir)
	assert.ErrorIs(t, err, ErrNoTemplate, "no tokenizer_config.json")
	writeFile(t, dir, "tokenizer_config.json", `{"eos_token": "x"}`)
	_, err = Load(dir)
	assert.ErrorIs(t, err, ErrNoTemplate, "no chat_template")
	writeFile(t, dir, "tokenizer_config.json", `{"chat_template": "{% for %}"}`)
	_, err = Load(dir)
	assert.Error(t, err, "template that does not compile")
	writeFile(t, dir, "tokenizer_config.json", `{"chat_template": 5}`)
	_, err = Load(dir)
	assert.Error(t, err)
	writeFile(t, dir, "tokenizer_config.json", `{"chat_template": "x", "eos_token": 5}`)
	_, err = Load(dir)
	assert.Error(t, err)
	writeFile(t, dir, "tokenizer_config.json", `not json`)
	_, err = Load(dir)
	assert.Error(t, err)
}

// raise_exception aborts rendering with the template's message.
func TestRaiseException(t *testing.T) {
	tmpl, err := New(`{% if messages[0].role != 'user' %}{{ raise_exception('Conversation roles must alternate') }}{% endif %}ok`, nil)
	require.NoError(t, err)
	out, err := tmpl.Render(Conversation{Messages: []Message{{Role: "user"}}})
	require.NoError(t, err)
	assert.Equal(t, "ok", out)
	_, err = tmpl.Render(Conversation{Messages: []Message{{Role: "assistant"}}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Conversation roles must alternate")
}

// strftime_now reads Template.Now and formats as Python's strftime.
func TestStrftimeNow(t *testing.T) {
	tmpl, err := New(`{{ strftime_now("%d %b %Y|%Y-%m-%d %H:%M:%S|%A %B %j %I%p %y %e|%%|%Q") }}`, nil)
	require.NoError(t, err)
	tmpl.Now = func() time.Time { return time.Date(2024, 7, 6, 15, 4, 5, 0, time.UTC) }
	out, err := tmpl.Render(Conversation{})
	require.NoError(t, err)
	assert.Equal(t, "06 Jul 2024|2024-07-06 15:04:05|Saturday July 188 03PM 24  6|%|%Q", out)
}

// Message keys beyond role and content reach the template in order, with
// JSON numbers keeping int/float, and tojson writes them as Python's
// json.dumps does in Hugging Face's tojson (ensure_ascii=False).
func TestExtraFieldsAndToJSON(t *testing.T) {
	conv, err := ParseConversation([]byte(`{"messages": [{"role": "assistant", "content": null,
		"tool_calls": [{"function": {"name": "search", "arguments": {"query": "café <b>", "k": 3, "w": 1.5, "ok": true}}}]}],
		"add_generation_prompt": false, "date_string": "1 Jan 2025", "tools": null}`))
	require.NoError(t, err)
	tmpl, err := New(`{{ messages[0].content is none }}|{{ messages[0].tool_calls[0].function.arguments | tojson }}|{{ date_string }}|{{ tools is none }}`, nil)
	require.NoError(t, err)
	out, err := tmpl.Render(conv)
	require.NoError(t, err)
	assert.Equal(t, `True|{"query": "café <b>", "k": 3, "w": 1.5, "ok": true}|1 Jan 2025|True`, out)
}

// enable_thinking is undefined unless set, as when a caller of
// apply_chat_template leaves it out.
func TestEnableThinking(t *testing.T) {
	tmpl, err := New(`{% if enable_thinking is defined %}{{ enable_thinking }}{% else %}undefined{% endif %}`, nil)
	require.NoError(t, err)
	for want, v := range map[string]*bool{"undefined": nil, "True": Bool(true), "False": Bool(false)} {
		out, err := tmpl.Render(Conversation{EnableThinking: v})
		require.NoError(t, err)
		assert.Equal(t, want, out)
	}
}

func TestParseConversationErrors(t *testing.T) {
	for name, in := range map[string]string{
		"not json":           `{`,
		"not object":         `[]`,
		"no messages":        `{}`,
		"messages not list":  `{"messages": {}}`,
		"message not object": `{"messages": [1]}`,
		"no role":            `{"messages": [{"content": "x"}]}`,
		"role not string":    `{"messages": [{"role": 1}]}`,
		"bad generation":     `{"messages": [], "add_generation_prompt": "yes"}`,
	} {
		_, err := ParseConversation([]byte(in))
		assert.Error(t, err, name)
	}
	c, err := ParseConversation([]byte(`{"messages": [{"role": "user", "content": "hi"}], "enable_thinking": false, "x": [1, {"b": 2, "a": 1}]}`))
	require.NoError(t, err)
	require.NotNil(t, c.EnableThinking)
	assert.False(t, *c.EnableThinking)
	assert.JSONEq(t, `[1, {"b": 2, "a": 1}]`, string(c.Kwargs["x"]))
}

func TestThinkingFlag(t *testing.T) {
	var th Thinking
	assert.Equal(t, "auto", th.String())
	assert.Nil(t, th.Enable())
	require.NoError(t, th.Set("off"))
	assert.Equal(t, Bool(false), th.Enable())
	require.NoError(t, th.Set("on"))
	assert.Equal(t, Bool(true), th.Enable())
	assert.Equal(t, "on", th.String())
	assert.Error(t, th.Set("maybe"))
}

// range is Python's, and a template cannot make it allocate without bound.
func TestBoundedRange(t *testing.T) {
	for src, want := range map[string]string{
		`{{ range(3)|list }}`:        "[0, 1, 2]",
		`{{ range(1, 7, 2)|list }}`:  "[1, 3, 5]",
		`{{ range(5, 0, -2)|list }}`: "[5, 3, 1]",
		`{{ range(2, 1)|list }}`:     "[]",
	} {
		tmpl, err := New(src, nil)
		require.NoError(t, err)
		out, err := tmpl.Render(Conversation{})
		require.NoError(t, err, src)
		assert.Equal(t, want, out, src)
	}
	for _, src := range []string{`{% for i in range(100000000000) %}x{% endfor %}`, `{{ range(1, 2, 0) }}`, `{{ range('a') }}`} {
		tmpl, err := New(src, nil)
		require.NoError(t, err)
		_, err = tmpl.Render(Conversation{})
		assert.Error(t, err, src)
	}
}
