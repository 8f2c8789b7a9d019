package tokenizer

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goarpo/arpo/internal/shareddata"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func trainSynthetic(t *testing.T, vocab int) *Tokenizer {
	t.Helper()
	rng := newRand(5)
	texts := []string{syntheticCorpus(rng, 20000), "<think>the city</think><answer>1984</answer><|endoftext|>"}
	tok, err := Train(texts, vocab, DefaultSpecials)
	require.NoError(t, err)
	return tok
}

func TestTrainLayout(t *testing.T) {
	tok := trainSynthetic(t, 400)
	assert.Equal(t, 400, tok.VocabSize())
	for i, s := range DefaultSpecials {
		assert.Equal(t, []int{i}, tok.Encode(s), s)
		assert.True(t, tok.IsSpecial(i))
	}
	assert.Equal(t, 0, tok.EOS())
	assert.Equal(t, 1, tok.Pad())
	// Frequent words of the corpus became single tokens.
	for _, w := range []string{" the", " search", " answer"} {
		_, ok := tok.TokenID(w)
		assert.True(t, ok, "%q should be learnt", w)
	}
	ids := tok.Encode("<think>the city</think>")
	assert.Equal(t, 4, ids[0])
	assert.Equal(t, 5, ids[len(ids)-1])
	// Digits are never merged (Qwen2 pattern splits them one by one).
	assert.Len(t, tok.Encode("1984"), 4)
}

func TestTrainRoundTrip(t *testing.T) {
	tok := trainSynthetic(t, 600)
	rng := newRand(6)
	for i := 0; i < 500; i++ {
		s := randomText(rng, rng.IntN(30))
		if i%2 == 0 {
			s = randomBytes(rng, rng.IntN(100))
		}
		require.Equal(t, s, tok.Decode(tok.Encode(s)), "%q", s)
	}
}

func TestTrainDeterministic(t *testing.T) {
	a, err := trainSynthetic(t, 500).MarshalHF()
	require.NoError(t, err)
	b, err := trainSynthetic(t, 500).MarshalHF()
	require.NoError(t, err)
	assert.Equal(t, a, b)
}

func TestTrainErrors(t *testing.T) {
	_, err := Train([]string{"x"}, 100, nil)
	assert.Error(t, err, "vocab smaller than the byte alphabet")
	_, err = Train([]string{"x"}, 300, []string{"<a>", "<a>"})
	assert.Error(t, err, "repeated special")
	// A corpus too small for the size asked stops early without error.
	tok, err := Train([]string{"ab ab"}, 1000, nil)
	require.NoError(t, err)
	assert.Less(t, tok.VocabSize(), 1000)
	assert.Equal(t, []int{tok.MustTokenID("ab"), tok.MustTokenID(" ab")}, tok.Encode("ab ab"))
}

// Save writes a tokenizer.json that Load reads back to the same tokenizer,
// with the Hugging Face structure (merges as pairs, specials in the vocab).
func TestSaveLoad(t *testing.T) {
	tok := trainSynthetic(t, 500)
	dir := t.TempDir()
	path := filepath.Join(dir, "tokenizer.json")
	require.NoError(t, tok.Save(path))
	back, err := Load(dir)
	require.NoError(t, err)
	assert.Equal(t, tok.VocabSize(), back.VocabSize())
	assert.Equal(t, tok.EOS(), back.EOS())
	assert.Equal(t, tok.Pad(), back.Pad())
	assert.Equal(t, tok.AddedTokens(), back.AddedTokens())
	rng := newRand(7)
	for i := 0; i < 300; i++ {
		s := randomText(rng, rng.IntN(30))
		require.Equal(t, tok.Encode(s), back.Encode(s), "%q", s)
	}
	again, err := back.MarshalHF()
	require.NoError(t, err)
	first, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(first), string(again))

	var f struct {
		Model struct {
			Vocab  map[string]int
			Merges [][2]string
		}
	}
	require.NoError(t, json.Unmarshal(first, &f))
	assert.Equal(t, 0, f.Model.Vocab["<|endoftext|>"])
	assert.Equal(t, 4, f.Model.Vocab["<think>"])
	assert.Contains(t, f.Model.Vocab, "Ġthe")
	assert.Len(t, f.Model.Merges, 500-len(DefaultSpecials)-256)
	cfg, err := os.ReadFile(filepath.Join(dir, "tokenizer_config.json"))
	require.NoError(t, err)
	assert.Contains(t, string(cfg), `"eos_token": "<|endoftext|>"`)
}

// Qwen3 saved and parsed again encodes the same.
func TestSaveLoadQwen3(t *testing.T) {
	tok := qwen3(t)
	data, err := tok.MarshalHF()
	require.NoError(t, err)
	back, err := ParseHF(data)
	require.NoError(t, err)
	for _, c := range loadReference(t) {
		s := c.input(t)
		require.Equal(t, c.Qwen3, back.Encode(s), "%q", s)
	}
}

// Training 1 MB of real English (GSM8K) to 4k tokens gives a tokenizer that
// compresses its text well.
func TestTrainGSM8K(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on 1 MB")
	}
	p := shareddata.Path(t, "train/gsm8k_train.jsonl")
	texts := readGSM8K(t, p, 1<<20)
	tok, err := Train(texts, 4096, DefaultSpecials)
	require.NoError(t, err)
	require.Equal(t, 4096, tok.VocabSize())
	n, ids := 0, 0
	for _, s := range texts[:200] {
		n += len(s)
		got := tok.Encode(s)
		ids += len(got)
		require.Equal(t, s, tok.Decode(got))
	}
	// In-domain, 4k tokens compress about as well as Qwen3's 151k (2.8
	// bytes a token on GSM8K, where digits split one by one pull it down).
	assert.Greater(t, float64(n)/float64(ids), 2.6)
}

// readGSM8K returns question + answer texts of the GSM8K training file, up
// to about limit bytes.
func readGSM8K(t testing.TB, path string, limit int) []string {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var texts []string
	total := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() && total < limit {
		var r struct{ Question, Answer string }
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r))
		s := r.Question + "\n" + r.Answer
		texts = append(texts, s)
		total += len(s)
	}
	require.NoError(t, sc.Err())
	return texts
}

func TestParseHFErrors(t *testing.T) {
	base := func(pre string) string {
		return `{"added_tokens":[],"normalizer":null,"pre_tokenizer":` + pre +
			`,"post_processor":null,"decoder":{"type":"ByteLevel"},"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]}}`
	}
	_, err := ParseHF([]byte(base(`{"type":"ByteLevel","add_prefix_space":false}`)))
	require.NoError(t, err)
	for name, doc := range map[string]string{
		"whitespace pre-tokenizer": base(`{"type":"Whitespace"}`),
		"invalid regex":            base(`{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"(a"},"behavior":"Isolated"},{"type":"ByteLevel","use_regex":false}]}`),
		"split removed":            base(`{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"a"},"behavior":"Removed"},{"type":"ByteLevel","use_regex":false}]}`),
		"two splits":               base(`{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"a"},"behavior":"Isolated"},{"type":"Split","pattern":{"Regex":"b"},"behavior":"Isolated"},{"type":"ByteLevel","use_regex":false}]}`),
		"unknown post-processor":   strings.Replace(base(`{"type":"ByteLevel"}`), `"post_processor":null`, `"post_processor":{"type":"BertProcessing"}`, 1),
		"no pre-tokenizer":         base(`null`),
		"prefix space":             base(`{"type":"ByteLevel","add_prefix_space":true}`),
		"wordpiece":                strings.Replace(base(`{"type":"ByteLevel"}`), `"type":"BPE"`, `"type":"WordPiece"`, 1),
		"merge out of vocab":       strings.Replace(base(`{"type":"ByteLevel"}`), `"a b"`, `"a c"`, 1),
		"bad merge":                strings.Replace(base(`{"type":"ByteLevel"}`), `"a b"`, `"ab"`, 1),
		"lowercase normalizer":     strings.Replace(base(`{"type":"ByteLevel"}`), `"normalizer":null`, `"normalizer":{"type":"Lowercase"}`, 1),
		"not json":                 `{"model":`,
	} {
		_, err := ParseHF([]byte(doc))
		assert.Error(t, err, name)
	}
}

// Merges may be written "a b" or ["a", "b"]; both mean the same.
func TestParseHFMergeForms(t *testing.T) {
	doc := func(merges string) []byte {
		return []byte(`{"added_tokens":[{"id":3,"content":"<s>","special":true}],"normalizer":{"type":"NFC"},` +
			`"pre_tokenizer":{"type":"ByteLevel"},"decoder":null,"post_processor":null,` +
			`"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":` + merges + `}}`)
	}
	x, err := ParseHF(doc(`["a b"]`))
	require.NoError(t, err)
	y, err := ParseHF(doc(`[["a","b"]]`))
	require.NoError(t, err)
	assert.Equal(t, []int{2, 3, 0}, x.Encode("ab<s>a"))
	assert.Equal(t, x.Encode("abab<s>ba"), y.Encode("abab<s>ba"))
	assert.True(t, x.nfc)
}

// With ignore_merges a word that is a vocabulary token is emitted whole,
// even when the merges would not build it.
func TestIgnoreMerges(t *testing.T) {
	doc := func(ignore string) []byte {
		return []byte(`{"added_tokens":[],"normalizer":null,"pre_tokenizer":{"type":"ByteLevel"},` +
			`"decoder":null,"post_processor":null,"model":{"type":"BPE","ignore_merges":` + ignore +
			`,"vocab":{"a":0,"b":1,"c":2,"ab":3,"abc":4},"merges":["a b"]}}`)
	}
	plain, err := ParseHF(doc("false"))
	require.NoError(t, err)
	assert.Equal(t, []int{3, 2}, plain.Encode("abc"))
	ignore, err := ParseHF(doc("true"))
	require.NoError(t, err)
	assert.Equal(t, []int{4}, ignore.Encode("abc"))
	assert.Equal(t, []int{3}, ignore.Encode("ab"))
	data, err := ignore.MarshalHF()
	require.NoError(t, err)
	back, err := ParseHF(data)
	require.NoError(t, err)
	assert.Equal(t, []int{4}, back.Encode("abc"))
}

func TestLoadErrors(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "missing.json"))
	assert.Error(t, err)
	_, err = Load(t.TempDir())
	assert.Error(t, err)
	p := filepath.Join(t.TempDir(), "tokenizer.json")
	require.NoError(t, os.WriteFile(p, []byte("not json"), 0o644))
	_, err = Load(p)
	assert.ErrorContains(t, err, p)
}
