package load

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/chat"
	"github.com/goarpo/arpo/nn/tokenizer"
)

// EndOfTurn are the end-of-turn tokens every model stops at when its
// vocabulary has them, template or not: ChatML's (ours, Qwen's) and
// Llama 3's.
var EndOfTurn = []string{"<|im_end|>", "<|eot_id|>"}

// EOSIDs is the one list of token ids that end a reply: the tokenizer's
// end-of-sequence token, the end-of-turn tokens of the chat template tmpl
// (nil: none) and of EndOfTurn that the vocabulary holds, the eos_token_id
// of generation_config.json in hfDir (a number or a list; hfDir may be ""),
// then the model config's eos_token_id (config.json's, which a
// checkpoint's config keeps). tok may be nil. No id repeats.
func EOSIDs(tok *tokenizer.Tokenizer, tmpl *chat.Template, cfg nn.Config, hfDir string) ([]int32, error) {
	var ids []int32
	add := func(id int32) {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if tok != nil {
		if id := tok.EOS(); id >= 0 {
			add(int32(id))
		}
		var texts []string
		if tmpl != nil {
			texts = tmpl.EndOfTurn
		}
		for _, s := range slices.Concat(texts, EndOfTurn) {
			if id, ok := tok.TokenID(s); ok {
				add(int32(id))
			}
		}
	}
	if hfDir != "" {
		got, err := configEOS(filepath.Join(hfDir, "generation_config.json"))
		if err != nil {
			return nil, err
		}
		for _, id := range got {
			add(id)
		}
	}
	for _, id := range cfg.EOSTokenID {
		if id < 0 || id > math.MaxInt32 {
			return nil, fmt.Errorf("config: eos_token_id %d is out of range", id)
		}
		add(int32(id))
	}
	return ids, nil
}

// configEOS reads eos_token_id (a number, a list or null) from a JSON file;
// a missing file has none.
func configEOS(path string) ([]int32, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var cfg struct {
		EOS json.RawMessage `json:"eos_token_id"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	raw := strings.TrimSpace(string(cfg.EOS))
	if raw == "" || raw == "null" {
		return nil, nil
	}
	var ids []int32
	if strings.HasPrefix(raw, "[") {
		err = json.Unmarshal(cfg.EOS, &ids)
	} else {
		var id int32
		err = json.Unmarshal(cfg.EOS, &id)
		ids = []int32{id}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: eos_token_id: %w", path, err)
	}
	for _, id := range ids {
		if id < 0 {
			return nil, fmt.Errorf("%s: eos_token_id %d is negative", path, id)
		}
	}
	return ids, nil
}
