package tokenizer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// Save writes t as a Hugging Face tokenizer.json file at path. When path is
// named tokenizer.json, a tokenizer_config.json with the end-of-sequence and
// padding tokens and a ChatML chat template is written beside it, so that
// the folder loads with transformers' AutoTokenizer.
func (t *Tokenizer) Save(path string) error {
	data, err := t.MarshalHF()
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("tokenizer: %w", err)
	}
	if filepath.Base(path) != "tokenizer.json" {
		return nil
	}
	cfg := map[string]any{
		"tokenizer_class":              "PreTrainedTokenizerFast",
		"add_bos_token":                false,
		"clean_up_tokenization_spaces": false,
		"model_max_length":             1 << 20,
		"chat_template":                ChatMLTemplate,
	}
	if s, ok := t.DecodeToken(t.eos); ok {
		cfg["eos_token"] = s
	}
	if s, ok := t.DecodeToken(t.pad); ok {
		cfg["pad_token"] = s
	}
	cdata, err := marshalIndent(cfg)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(path), "tokenizer_config.json"), cdata, 0o644); err != nil {
		return fmt.Errorf("tokenizer: %w", err)
	}
	return nil
}

// ChatMLTemplate is the Jinja chat template of ChatML: what ChatML renders,
// and what Hugging Face renders from a tokenizer_config.json holding it.
const ChatMLTemplate = "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"

func marshalIndent(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep "<think>" readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	return buf.Bytes(), nil
}

// MarshalHF returns t in the Hugging Face tokenizer.json format. Added
// tokens are also listed in the model vocabulary: the Hugging Face loader
// only keeps an added token's id when the model knows it.
func (t *Tokenizer) MarshalHF() ([]byte, error) {
	byteLevel := map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false}
	var pre any
	switch {
	case t.preJSON != nil:
		pre = t.preJSON // several stages: written back as read
	case t.pattern == PatternGPT2:
		pre = map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}
	default:
		pre = map[string]any{"type": "Sequence", "pretokenizers": []any{
			map[string]any{"type": "Split", "pattern": map[string]string{"Regex": t.SplitRegex()}, "behavior": "Isolated", "invert": false},
			byteLevel,
		}}
	}
	var post any = byteLevel
	if len(t.specialPrefix)+len(t.specialSuffix) > 0 {
		post = map[string]any{"type": "Sequence", "processors": []any{byteLevel, t.templateProcessing()}}
	}
	var normalizer any
	if t.nfc {
		normalizer = map[string]string{"type": "NFC"}
	}
	added := make([]map[string]any, len(t.added))
	for i, a := range t.added {
		added[i] = map[string]any{"id": a.ID, "content": a.Content, "single_word": false,
			"lstrip": false, "rstrip": false, "normalized": false, "special": a.Special}
	}
	merges := make([][2]string, len(t.model.list))
	for i, m := range t.model.list {
		merges[i] = [2]string{t.vocabString(int(m[0])), t.vocabString(int(m[1]))}
	}
	f := map[string]any{
		"version":        "1.0",
		"truncation":     nil,
		"padding":        nil,
		"added_tokens":   added,
		"normalizer":     normalizer,
		"pre_tokenizer":  pre,
		"post_processor": post,
		"decoder":        byteLevel,
		"model": map[string]any{
			"type": "BPE", "dropout": nil, "unk_token": nil,
			"continuing_subword_prefix": "", "end_of_word_suffix": "",
			"fuse_unk": false, "byte_fallback": false, "ignore_merges": t.model.ignoreMerges,
			"vocab": orderedVocab{t}, "merges": merges,
		},
	}
	return marshalIndent(f)
}

// vocabString is the vocabulary form of id: the content of an added token,
// the byte-level string of any other.
func (t *Tokenizer) vocabString(id int) string {
	if i, ok := t.addedByID[id]; ok {
		return t.added[i].Content
	}
	return byteLevelEncode(t.tokens[id])
}

// orderedVocab writes the vocabulary in id order (a Go map would be sorted
// by key, which makes the file hard to read).
type orderedVocab struct{ t *Tokenizer }

func (v orderedVocab) MarshalJSON() ([]byte, error) {
	var buf, key bytes.Buffer
	enc := json.NewEncoder(&key)
	enc.SetEscapeHTML(false)
	seen := make(map[string]bool, len(v.t.tokens))
	buf.WriteByte('{')
	for id, b := range v.t.tokens {
		if b == nil {
			continue
		}
		s := v.t.vocabString(id)
		if seen[s] {
			// An added token whose text is also a model token's byte-level
			// string: the file format cannot hold both.
			return nil, fmt.Errorf("tokenizer: vocabulary string %q used by two ids", s)
		}
		seen[s] = true
		if len(seen) > 1 {
			buf.WriteByte(',')
		}
		key.Reset()
		if err := enc.Encode(s); err != nil {
			return nil, err
		}
		buf.Write(bytes.TrimSuffix(key.Bytes(), []byte("\n")))
		fmt.Fprintf(&buf, ":%d", id)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// templateProcessing writes the post-processor that adds the special
// prefix and suffix tokens, for one sequence and for a pair (each sequence
// between them, as Llama 3 writes it).
func (t *Tokenizer) templateProcessing() map[string]any {
	special := map[string]any{}
	var single, pair []any
	piece := func(list *[]any, ids []int, typeID int) {
		for _, id := range ids {
			name := string(t.tokens[id])
			*list = append(*list, map[string]any{"SpecialToken": map[string]any{"id": name, "type_id": typeID}})
			special[name] = map[string]any{"id": name, "ids": []int{id}, "tokens": []string{t.vocabString(id)}}
		}
	}
	seq := func(list *[]any, id string, typeID int) {
		*list = append(*list, map[string]any{"Sequence": map[string]any{"id": id, "type_id": typeID}})
	}
	piece(&single, t.specialPrefix, 0)
	seq(&single, "A", 0)
	piece(&single, t.specialSuffix, 0)
	piece(&pair, t.specialPrefix, 0)
	seq(&pair, "A", 0)
	piece(&pair, t.specialSuffix, 0)
	piece(&pair, t.specialPrefix, 1)
	seq(&pair, "B", 1)
	piece(&pair, t.specialSuffix, 1)
	return map[string]any{"type": "TemplateProcessing", "single": single, "pair": pair, "special_tokens": special}
}
