package tokenizer

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unicode"

	"github.com/goarpo/arpo/internal/shareddata"
	"github.com/stretchr/testify/require"
)

// referenceCase is one line of testdata/reference.json, made by
// scripts/tokenizer_reference.mjs with the JavaScript port of Hugging Face
// tokenizers. Text cases are plain strings; hex cases hold invalid UTF-8.
type referenceCase struct {
	Text  *string `json:"text"`
	Hex   string  `json:"hex"`
	GPT2  []int   `json:"gpt2"`
	Qwen3 []int   `json:"qwen3"`
	// Llama3 is Llama 3.1's ids; Llama3Special its ids when encoding with
	// special tokens (text cases only).
	Llama3        []int `json:"llama3"`
	Llama3Special []int `json:"llama3_special"`
	// GPT2Digits is GPT-2 with a Digits pre-tokenizer first (text cases).
	GPT2Digits []int `json:"gpt2_digits"`
}

func (c referenceCase) input(t *testing.T) string {
	if c.Text != nil {
		return *c.Text
	}
	b, err := hex.DecodeString(c.Hex)
	require.NoError(t, err)
	return string(b)
}

func loadReference(t *testing.T) []referenceCase {
	data, err := os.ReadFile(filepath.Join("testdata", "reference.json"))
	require.NoError(t, err)
	var f struct{ Cases []referenceCase }
	require.NoError(t, json.Unmarshal(data, &f))
	require.NotEmpty(t, f.Cases)
	return f.Cases
}

// The reference tokenizers are loaded once: Qwen's file is 11 MB.
var (
	qwenOnce, gpt2Once, llamaOnce sync.Once
	qwenTok, gpt2Tok, llamaTok    *Tokenizer
	qwenErr, gpt2Err, llamaErr    error
)

func llama3(t testing.TB) *Tokenizer {
	p := shareddata.Path(t, "tokenizers/llama3_1/tokenizer.json")
	llamaOnce.Do(func() { llamaTok, llamaErr = Load(p) })
	require.NoError(t, llamaErr)
	return llamaTok
}

func qwen3(t testing.TB) *Tokenizer {
	p := shareddata.Path(t, "tokenizers/qwen3/tokenizer.json")
	qwenOnce.Do(func() { qwenTok, qwenErr = Load(p) })
	require.NoError(t, qwenErr)
	return qwenTok
}

func gpt2(t testing.TB) *Tokenizer {
	p := shareddata.Path(t, "tokenizers/gpt2/encoder.json")
	gpt2Once.Do(func() { gpt2Tok, gpt2Err = Load(p) })
	require.NoError(t, gpt2Err)
	return gpt2Tok
}

// testTokenizers returns Qwen3 when the shared data is present and a small
// trained tokenizer always, for tests that hold for any tokenizer.
func testTokenizers(t *testing.T) []*Tokenizer {
	var out []*Tokenizer
	if dir, err := shareddata.Dir(); err == nil {
		if _, err := os.Stat(filepath.Join(dir, "tokenizers/qwen3/tokenizer.json")); err == nil {
			out = append(out, qwen3(t))
		}
	}
	return append(out, trainSynthetic(t, 600))
}

func TestReferenceQwen3(t *testing.T) {
	tok := qwen3(t)
	for _, c := range loadReference(t) {
		s := c.input(t)
		require.Equal(t, c.Qwen3, tok.Encode(s), "qwen3 %q", s)
	}
}

func TestReferenceGPT2(t *testing.T) {
	tok := gpt2(t)
	for _, c := range loadReference(t) {
		s := c.input(t)
		require.Equal(t, c.GPT2, tok.Encode(s), "gpt2 %q", s)
	}
}

func TestReferenceLlama3(t *testing.T) {
	tok := llama3(t)
	require.Equal(t, PatternLlama3, tok.Pattern(), "Llama 3's split regex should get its scanner")
	for _, c := range loadReference(t) {
		s := c.input(t)
		require.Equal(t, c.Llama3, tok.Encode(s), "llama3 %q", s)
		if c.Text != nil {
			require.Equal(t, c.Llama3Special, tok.EncodeWithSpecial(s), "llama3 with special tokens %q", s)
		}
	}
}

// TestReferenceLlama3Regex runs Llama 3.1's tokenizer with its split regex
// through the general engine (the regex wrapped in a group, so that it is no
// longer recognised) and checks tokenizers.js's ids: the engine, not only
// the scanner, agrees with the reference.
func TestReferenceLlama3Regex(t *testing.T) {
	data, err := os.ReadFile(shareddata.Path(t, "tokenizers/llama3_1/tokenizer.json"))
	require.NoError(t, err)
	quoted, err := json.Marshal(regexLlama3)
	require.NoError(t, err)
	wrapped, err := json.Marshal("(?:" + regexLlama3 + ")")
	require.NoError(t, err)
	require.Equal(t, 1, bytes.Count(data, quoted))
	tok, err := ParseHF(bytes.Replace(data, quoted, wrapped, 1))
	require.NoError(t, err)
	require.Equal(t, PatternRegex, tok.Pattern())
	for _, c := range loadReference(t) {
		s := c.input(t)
		require.Equal(t, c.Llama3, tok.Encode(s), "llama3 (regex engine) %q", s)
	}
}

// Llama 3.1's tokenizer saved as tokenizer.json and loaded back keeps its
// split pattern, ignore_merges and <|begin_of_text|> post-processor.
func TestSaveLoadLlama3(t *testing.T) {
	data, err := llama3(t).MarshalHF()
	require.NoError(t, err)
	back, err := ParseHF(data)
	require.NoError(t, err)
	require.Equal(t, PatternLlama3, back.Pattern())
	for _, c := range loadReference(t) {
		s := c.input(t)
		require.Equal(t, c.Llama3, back.Encode(s), "%q", s)
		if c.Text != nil {
			require.Equal(t, c.Llama3Special, back.EncodeWithSpecial(s), "%q", s)
		}
	}
}

// GPT-2 behind a Digits pre-tokenizer, written as SmolLM2 and StarCoder
// write it (Digits, then ByteLevel with its regex), gives tokenizers.js's
// ids for the same pre-tokenizer with the regex as an explicit Split; and it
// saves and loads back unchanged. Texts with numbers beyond ASCII digits are
// left out: the Rust tokenizers' Digits splits every \p{N} (char::is_numeric),
// as we do, tokenizers.js only [0-9].
func TestReferenceGPT2Digits(t *testing.T) {
	data, err := gpt2(t).MarshalHF()
	require.NoError(t, err)
	var f map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(data, &f))
	f["pre_tokenizer"] = json.RawMessage(`{"type": "Sequence", "pretokenizers": [{"type": "Digits", "individual_digits": true},
		{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}]}`)
	data, err = json.Marshal(f)
	require.NoError(t, err)
	tok, err := ParseHF(data)
	require.NoError(t, err)
	saved, err := tok.MarshalHF()
	require.NoError(t, err)
	back, err := ParseHF(saved)
	require.NoError(t, err)
	n := 0
	for _, c := range loadReference(t) {
		if c.Text == nil || strings.ContainsFunc(*c.Text, func(r rune) bool { return unicode.IsNumber(r) && (r < '0' || r > '9') }) {
			continue
		}
		require.Equal(t, c.GPT2Digits, tok.Encode(*c.Text), "%q", *c.Text)
		require.Equal(t, c.GPT2Digits, back.Encode(*c.Text), "saved and loaded: %q", *c.Text)
		n++
	}
	require.Greater(t, n, 100)
}
