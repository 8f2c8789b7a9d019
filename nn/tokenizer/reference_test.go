package tokenizer

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"

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
	qwenOnce, gpt2Once sync.Once
	qwenTok, gpt2Tok   *Tokenizer
	qwenErr, gpt2Err   error
)

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
