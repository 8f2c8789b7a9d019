package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

// readConfig applies eos_token and pad_token from a Hugging Face
// tokenizer_config.json, when the file exists; otherwise it guesses
// "<|endoftext|>" for both, the GPT-2 convention.
func (t *Tokenizer) readConfig(path string) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if id, ok := t.TokenID("<|endoftext|>"); ok {
			t.eos, t.pad = id, id
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("tokenizer: %w", err)
	}
	var cfg struct {
		EOS json.RawMessage `json:"eos_token"`
		Pad json.RawMessage `json:"pad_token"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return fmt.Errorf("tokenizer: %s: %w", path, err)
	}
	for _, f := range []struct {
		raw json.RawMessage
		set func(string) error
	}{{cfg.EOS, t.SetEOS}, {cfg.Pad, t.SetPad}} {
		s, err := configToken(f.raw)
		if err != nil {
			return fmt.Errorf("tokenizer: %s: %w", path, err)
		}
		if s == "" {
			continue
		}
		if err := f.set(s); err != nil {
			return fmt.Errorf("%w (from %s)", err, path)
		}
	}
	return nil
}

// configToken reads a token written as "text", {"content": "text"} or null.
func configToken(raw json.RawMessage) (string, error) {
	if isNull(raw) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var o struct {
		Content string `json:"content"`
	}
	if err := json.Unmarshal(raw, &o); err != nil {
		return "", fmt.Errorf("token %s: %w", raw, err)
	}
	return o.Content, nil
}
