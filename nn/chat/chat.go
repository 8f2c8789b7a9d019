// Package chat renders conversations into prompt text with a model's own
// chat template: the Jinja `chat_template` of its tokenizer_config.json, run
// the way Hugging Face's apply_chat_template runs it (trim_blocks,
// lstrip_blocks, the special tokens and the caller's keyword arguments in
// the context, raise_exception and strftime_now as globals).
//
// The API, for the model resolver (nn/load) and for rl/cmd code:
//
//	t, err := chat.Load(dir)          // dir holds tokenizer_config.json
//	text, err := t.Render(chat.Conversation{
//		Messages:            []chat.Message{{Role: "user", Content: "Hi"}},
//		AddGenerationPrompt: true,
//		EnableThinking:      chat.Bool(false), // Qwen3's switch; nil = not passed
//	})
//	t.EndOfTurn // texts that end an assistant turn ("<|im_end|>", "<|eot_id|>", ...)
//	t.EndOfTurnIDs(tok.TokenID) // their ids in a tokenizer
//
// Encode the rendered text with the model's tokenizer treating special
// tokens as such (tokenizer.Encode), as apply_chat_template(tokenize=True)
// does; the template itself writes any BOS token it wants.
//
// The Jinja engine is github.com/ardanlabs/jinja, chosen because it renders
// the real Qwen2.5, Qwen3, Llama 3.1 and Llama 3.2 templates byte-for-byte as
// @huggingface/jinja does (testdata/reference.json) and keeps dictionary key
// order. Its tojson filter matches Hugging Face's (Python json.dumps with
// ensure_ascii=False) without arguments and with separators; with indent it
// sorts keys and escapes <, > and &, it ignores ensure_ascii and
// sort_keys, and it writes a whole float such as 1.0 as 1. The engine gives no way to replace a filter, so that stays a
// known difference: the templates above use tojson(indent) only for tool
// definitions, which this project does not pass.
package chat

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ardanlabs/jinja"
)

// ErrNoTemplate is returned (wrapped) when a folder or tokenizer_config.json
// has no chat template.
var ErrNoTemplate = errors.New("no chat_template")

// Message is one turn of a conversation.
type Message struct {
	Role    string // "system", "user", "assistant" or "tool"
	Content string
	// Extra holds the message's other keys in order (reasoning_content,
	// tool_calls, name, ...), as JSON. A "role" or "content" key here
	// replaces the field above (a null or list content, say).
	Extra []Field
}

// Field is one key of a JSON object with its raw value.
type Field struct {
	Key   string
	Value json.RawMessage
}

// Conversation is what apply_chat_template takes: the messages and the
// keyword arguments the template may read.
type Conversation struct {
	Messages            []Message
	AddGenerationPrompt bool
	// EnableThinking is Qwen3's thinking switch. nil leaves the variable
	// undefined, as when a caller of apply_chat_template does not pass it
	// (Qwen3 then thinks).
	EnableThinking *bool
	// Kwargs are the other keyword arguments (date_string, tools, ...) as
	// JSON values. They are set last, so they override anything else.
	Kwargs map[string]json.RawMessage
}

// Bool returns a pointer to b, for Conversation.EnableThinking.
func Bool(b bool) *bool { return &b }

// Template is a compiled chat template with the special tokens of its
// tokenizer. Render is safe for concurrent use.
type Template struct {
	// Source is the Jinja text.
	Source string
	// SpecialTokens are the tokenizer's special tokens by attribute name
	// (bos_token, eos_token, pad_token, ...), passed to the template as
	// Hugging Face passes them; only those that are set.
	SpecialTokens map[string]string
	// AdditionalSpecialTokens is tokenizer_config.json's
	// additional_special_tokens, passed as a list.
	AdditionalSpecialTokens []string
	// EndOfTurn are the texts that end an assistant turn: the EOS token and
	// each known end-of-turn marker that the template writes. Generation
	// stops at any of them.
	EndOfTurn []string
	// Now is strftime_now's clock; nil means time.Now. Tests pin it.
	Now func() time.Time

	compiled *jinja.Template
}

// EndOfTurnIDs returns the ids of EndOfTurn that the vocabulary holds as
// single tokens, looked up by text (tokenizer.Tokenizer.TokenID).
func (t *Template) EndOfTurnIDs(tokenID func(text string) (int, bool)) []int {
	var ids []int
	for _, s := range t.EndOfTurn {
		if id, ok := tokenID(s); ok {
			ids = append(ids, id)
		}
	}
	return ids
}

// BOS returns the beginning-of-sequence token text, or "" when none.
func (t *Template) BOS() string { return t.SpecialTokens["bos_token"] }

// EOS returns the end-of-sequence token text, or "" when none.
func (t *Template) EOS() string { return t.SpecialTokens["eos_token"] }

// endOfTurnMarkers are the end-of-turn tokens of common chat formats; those
// that a template writes join its EndOfTurn.
var endOfTurnMarkers = []string{
	"<|im_end|>",      // ChatML: Qwen, SmolLM
	"<|eot_id|>",      // Llama 3
	"<|eom_id|>",      // Llama 3 after a tool call
	"<|end|>",         // Phi-3
	"<end_of_turn>",   // Gemma
	"<|endoftext|>",   // GPT-2 style
	"<|end_of_text|>", // Llama 3 base
}

// New compiles source with the given special tokens (attribute name ->
// token text; empty values are dropped).
func New(source string, specialTokens map[string]string) (*Template, error) {
	compiled, err := jinja.Compile(source)
	if err != nil {
		return nil, fmt.Errorf("chat: compiling template: %w", err)
	}
	t := &Template{Source: source, SpecialTokens: map[string]string{}, compiled: compiled}
	for k, v := range specialTokens {
		if v != "" {
			t.SpecialTokens[k] = v
		}
	}
	seen := map[string]bool{}
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			t.EndOfTurn = append(t.EndOfTurn, s)
		}
	}
	add(t.EOS())
	for _, m := range endOfTurnMarkers {
		if strings.Contains(source, m) {
			add(m)
		}
	}
	return t, nil
}

// Load reads the chat template of a Hugging Face model or tokenizer folder,
// where transformers saves it: chat_template.jinja, else chat_template.json,
// else the chat_template of tokenizer_config.json (its "default" template
// when it holds a list of named ones). The special tokens always come from
// tokenizer_config.json. A folder without a template gives an error that
// wraps ErrNoTemplate.
func Load(dir string) (*Template, error) {
	cfgPath := filepath.Join(dir, "tokenizer_config.json")
	data, err := os.ReadFile(cfgPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("chat: %s has no tokenizer_config.json to read a chat template from: %w", dir, ErrNoTemplate)
	}
	if err != nil {
		return nil, fmt.Errorf("chat: %w", err)
	}
	cfg, err := parseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("chat: %s: %w", cfgPath, err)
	}
	source := ""
	if b, err := os.ReadFile(filepath.Join(dir, "chat_template.jinja")); err == nil {
		source = string(b)
	} else if b, err := os.ReadFile(filepath.Join(dir, "chat_template.json")); err == nil {
		var f struct {
			ChatTemplate json.RawMessage `json:"chat_template"`
		}
		if err := json.Unmarshal(b, &f); err != nil {
			return nil, fmt.Errorf("chat: %s: %w", filepath.Join(dir, "chat_template.json"), err)
		}
		if source, err = pickTemplate(f.ChatTemplate, ""); err != nil {
			return nil, fmt.Errorf("chat: %s: %w", filepath.Join(dir, "chat_template.json"), err)
		}
	} else if source, err = pickTemplate(cfg.ChatTemplate, ""); err != nil {
		return nil, fmt.Errorf("chat: %s: %w", cfgPath, err)
	}
	t, err := New(source, cfg.special)
	if err != nil {
		return nil, err
	}
	t.AdditionalSpecialTokens = cfg.additional
	return t, nil
}

// Parse reads the contents of a tokenizer_config.json. name picks one of a
// list of named templates ("" means "default").
func Parse(tokenizerConfig []byte, name string) (*Template, error) {
	cfg, err := parseConfig(tokenizerConfig)
	if err != nil {
		return nil, fmt.Errorf("chat: tokenizer_config.json: %w", err)
	}
	source, err := pickTemplate(cfg.ChatTemplate, name)
	if err != nil {
		return nil, fmt.Errorf("chat: tokenizer_config.json: %w", err)
	}
	t, err := New(source, cfg.special)
	if err != nil {
		return nil, err
	}
	t.AdditionalSpecialTokens = cfg.additional
	return t, nil
}

type tokenizerConfig struct {
	ChatTemplate json.RawMessage `json:"chat_template"`
	special      map[string]string
	additional   []string
}

// specialTokenKeys are the special-token attributes Hugging Face passes to
// chat templates.
var specialTokenKeys = []string{"bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"}

func parseConfig(data []byte) (tokenizerConfig, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return tokenizerConfig{}, err
	}
	cfg := tokenizerConfig{ChatTemplate: raw["chat_template"], special: map[string]string{}}
	for _, k := range specialTokenKeys {
		v, ok := raw[k]
		if !ok {
			continue
		}
		s, err := tokenText(v)
		if err != nil {
			return cfg, fmt.Errorf("%s: %w", k, err)
		}
		if s != "" {
			cfg.special[k] = s
		}
	}
	if v, ok := raw["additional_special_tokens"]; ok && !isNull(v) {
		var list []json.RawMessage
		if err := json.Unmarshal(v, &list); err != nil {
			return cfg, fmt.Errorf("additional_special_tokens: %w", err)
		}
		for _, item := range list {
			s, err := tokenText(item)
			if err != nil {
				return cfg, fmt.Errorf("additional_special_tokens: %w", err)
			}
			cfg.additional = append(cfg.additional, s)
		}
	}
	return cfg, nil
}

// tokenText reads a special token written as a string, null, or an
// AddedToken object {"content": ...}.
func tokenText(v json.RawMessage) (string, error) {
	if isNull(v) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		return s, nil
	}
	var obj struct {
		Content *string `json:"content"`
	}
	if err := json.Unmarshal(v, &obj); err != nil || obj.Content == nil {
		return "", fmt.Errorf("not a string or an object with content: %s", v)
	}
	return *obj.Content, nil
}

func isNull(v json.RawMessage) bool {
	s := strings.TrimSpace(string(v))
	return s == "" || s == "null"
}

// pickTemplate returns the template text of a chat_template value: a string,
// or a list of {"name", "template"} from which it takes name ("default" when
// name is "").
func pickTemplate(v json.RawMessage, name string) (string, error) {
	if isNull(v) {
		return "", ErrNoTemplate
	}
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		if name != "" && name != "default" {
			return "", fmt.Errorf("chat_template is a single template, not a list holding %q", name)
		}
		if s == "" {
			return "", ErrNoTemplate
		}
		return s, nil
	}
	var list []struct {
		Name     string `json:"name"`
		Template string `json:"template"`
	}
	if err := json.Unmarshal(v, &list); err != nil {
		return "", fmt.Errorf("chat_template is neither a string nor a list of named templates: %w", err)
	}
	if name == "" {
		name = "default"
	}
	var names []string
	for _, e := range list {
		if e.Name == name {
			return e.Template, nil
		}
		names = append(names, e.Name)
	}
	return "", fmt.Errorf("no chat template named %q (have %s): %w", name, strings.Join(names, ", "), ErrNoTemplate)
}

// Render renders c, as apply_chat_template(tokenize=False) does. A template
// that calls raise_exception gives its message as the error.
func (t *Template) Render(c Conversation) (out string, err error) {
	ctx, err := t.context(c)
	if err != nil {
		return "", err
	}
	// Templates come from model folders: an engine panic on a template it
	// mishandles is an error of that folder, not a crash of the program.
	defer func() {
		if r := recover(); r != nil {
			out, err = "", fmt.Errorf("chat: rendering: template failed: %v", r)
		}
	}()
	out, err = t.compiled.RenderValues(ctx)
	if err != nil {
		return "", fmt.Errorf("chat: rendering: %w", err)
	}
	return out, nil
}

// context builds the template variables in Hugging Face's order: messages,
// tools and documents (none), add_generation_prompt, the special tokens,
// then the keyword arguments, each overriding what came before.
func (t *Template) context(c Conversation) (map[string]jinja.Value, error) {
	msgs := make([]jinja.Value, len(c.Messages))
	for i, m := range c.Messages {
		v, err := m.value()
		if err != nil {
			return nil, fmt.Errorf("chat: message %d: %w", i, err)
		}
		msgs[i] = v
	}
	ctx := map[string]jinja.Value{
		"messages":              jinja.NewList(msgs),
		"tools":                 jinja.None(),
		"documents":             jinja.None(),
		"add_generation_prompt": jinja.NewBool(c.AddGenerationPrompt),
		"raise_exception":       jinja.NewCallable("raise_exception", raiseException),
		"strftime_now":          jinja.NewCallable("strftime_now", t.strftimeNow),
		"range":                 jinja.NewCallable("range", boundedRange),
	}
	for k, v := range t.SpecialTokens {
		ctx[k] = jinja.NewString(v)
	}
	if t.AdditionalSpecialTokens != nil {
		list := make([]jinja.Value, len(t.AdditionalSpecialTokens))
		for i, s := range t.AdditionalSpecialTokens {
			list[i] = jinja.NewString(s)
		}
		ctx["additional_special_tokens"] = jinja.NewList(list)
	}
	if c.EnableThinking != nil {
		ctx["enable_thinking"] = jinja.NewBool(*c.EnableThinking)
	}
	for k, raw := range c.Kwargs {
		v, err := jsonValue(raw)
		if err != nil {
			return nil, fmt.Errorf("chat: keyword argument %q: %w", k, err)
		}
		ctx[k] = v
	}
	return ctx, nil
}

// value returns the message as a template dictionary: role, content, then
// the extra keys in order.
func (m Message) value() (jinja.Value, error) {
	d := jinja.NewDict()
	dict := d.AsDict()
	dict.Set("role", jinja.NewString(m.Role))
	dict.Set("content", jinja.NewString(m.Content))
	for _, f := range m.Extra {
		v, err := jsonValue(f.Value)
		if err != nil {
			return jinja.Value{}, fmt.Errorf("key %q: %w", f.Key, err)
		}
		dict.Set(f.Key, v)
	}
	return d, nil
}

// raiseException is Hugging Face's raise_exception: the template aborts
// with the message.
func raiseException(args []jinja.Value, _ map[string]jinja.Value) (jinja.Value, error) {
	if len(args) == 0 {
		return jinja.Undefined(), errors.New("raise_exception called without a message")
	}
	msg := args[0].String()
	if args[0].IsString() {
		msg = args[0].AsString()
	}
	return jinja.Undefined(), fmt.Errorf("template raised: %s", msg)
}

// maxRange bounds range(): chat templates loop over messages, and a
// template from a model folder must not make us allocate without bound.
const maxRange = 1 << 20

// boundedRange is Python's range (as a list), refusing more than maxRange
// items.
func boundedRange(args []jinja.Value, _ map[string]jinja.Value) (jinja.Value, error) {
	var start, stop, step int64 = 0, 0, 1
	for _, a := range args {
		if !a.IsInt() {
			return jinja.Undefined(), fmt.Errorf("range: argument %s is not an integer", a.String())
		}
	}
	switch len(args) {
	case 1:
		stop = args[0].AsInt()
	case 2:
		start, stop = args[0].AsInt(), args[1].AsInt()
	case 3:
		start, stop, step = args[0].AsInt(), args[1].AsInt(), args[2].AsInt()
	default:
		return jinja.Undefined(), fmt.Errorf("range: expected 1 to 3 arguments, got %d", len(args))
	}
	if step == 0 {
		return jinja.Undefined(), errors.New("range: step must not be zero")
	}
	var n int64
	switch {
	case step > 0 && stop > start:
		n = (stop - start + step - 1) / step
	case step < 0 && stop < start:
		n = (start - stop - step - 1) / -step
	}
	if n > maxRange || n < 0 {
		return jinja.Undefined(), fmt.Errorf("range: %d items is more than the %d a chat template may use", n, maxRange)
	}
	items := make([]jinja.Value, n)
	for i := range items {
		items[i] = jinja.NewInt(start + int64(i)*step)
	}
	return jinja.NewList(items), nil
}

// strftimeNow is Hugging Face's strftime_now: the local time now, formatted
// by Python's strftime.
func (t *Template) strftimeNow(args []jinja.Value, _ map[string]jinja.Value) (jinja.Value, error) {
	if len(args) != 1 || !args[0].IsString() {
		return jinja.Undefined(), errors.New("strftime_now takes one format string")
	}
	now := time.Now
	if t.Now != nil {
		now = t.Now
	}
	s, err := Strftime(now(), args[0].AsString())
	if err != nil {
		return jinja.Undefined(), err
	}
	return jinja.NewString(s), nil
}
