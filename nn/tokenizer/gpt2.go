package tokenizer

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// LoadGPT2 reads the original GPT-2 files: encoder.json (byte-level token ->
// id) and vocab.bpe (a "#version" line, then one "a b" merge per line). The
// tokens that are not byte-level BPE tokens, "<|endoftext|>", become special
// added tokens, as in the Hugging Face conversion.
func LoadGPT2(encoderPath, mergesPath string) (*Tokenizer, error) {
	data, err := os.ReadFile(encoderPath)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	var vocab map[string]int
	if err := json.Unmarshal(data, &vocab); err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", encoderPath, err)
	}
	f, err := os.Open(mergesPath)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	defer f.Close()
	var merges [][2]string
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimRight(sc.Text(), "\r")
		if s == "" || (line == 1 && strings.HasPrefix(s, "#version")) {
			continue
		}
		a, b, ok := strings.Cut(s, " ")
		if !ok || strings.Contains(b, " ") {
			return nil, fmt.Errorf("tokenizer: %s:%d: merge %q is not two tokens", mergesPath, line, s)
		}
		merges = append(merges, [2]string{a, b})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", mergesPath, err)
	}
	var added []AddedToken
	for _, s := range []string{"<|endoftext|>"} {
		if id, ok := vocab[s]; ok {
			added = append(added, AddedToken{ID: id, Content: s, Special: true})
			delete(vocab, s)
		}
	}
	t := &Tokenizer{pattern: PatternGPT2}
	if err := t.build(vocab, merges, added); err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", encoderPath, err)
	}
	return t, nil
}
