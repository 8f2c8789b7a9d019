package tokenizer

import (
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/unicode/norm"
)

// The simple merge loop and the heap merge must agree on every word.
func TestMergeLoopMatchesHeap(t *testing.T) {
	for _, tok := range testTokenizers(t) {
		testMergeLoopMatchesHeap(t, tok)
	}
}

func testMergeLoopMatchesHeap(t *testing.T, tok *Tokenizer) {
	rng := newRand(2)
	for i := 0; i < 3000; i++ {
		var w string
		switch i % 3 {
		case 0:
			w = randomText(rng, 1+rng.IntN(12))
		case 1:
			w = randomBytes(rng, 1+rng.IntN(60))
		default:
			w = syntheticCorpus(rng, 1+rng.IntN(20))
		}
		syms := make([]int32, len(w))
		for j := 0; j < len(w); j++ {
			syms[j] = tok.model.byteID[w[j]]
		}
		loop := tok.model.mergeLoop(append([]int32(nil), syms...))
		hp := tok.model.mergeHeap(append([]int32(nil), syms...))
		require.Equal(t, loop, hp, "%q", w)
	}
}

func TestRoundTripBytes(t *testing.T) {
	rng := newRand(3)
	for _, tc := range []struct {
		name string
		tok  func(testing.TB) *Tokenizer
	}{{"gpt2", gpt2}, {"qwen3", qwen3}} {
		t.Run(tc.name, func(t *testing.T) {
			tok := tc.tok(t)
			for i := 0; i < 500; i++ {
				s := randomText(rng, rng.IntN(30))
				if i%3 == 0 {
					s = randomBytes(rng, rng.IntN(200))
				}
				want := s
				if tok.nfc {
					want = norm.NFC.String(s) // the reference normalizes too
				}
				require.Equal(t, want, tok.Decode(tok.Encode(s)), "%q", s)
				require.Equal(t, tok.Encode(s), tok.EncodeBytes([]byte(s)))
			}
		})
	}
}

func TestQwen3Specials(t *testing.T) {
	tok := qwen3(t)
	assert.Equal(t, 151669, tok.VocabSize())
	assert.Equal(t, 151645, tok.EOS(), "eos_token from tokenizer_config.json")
	assert.Equal(t, 151643, tok.Pad())
	for s, id := range map[string]int{"<|im_start|>": 151644, "<think>": 151667, "</think>": 151668, " the": 279} {
		got, ok := tok.TokenID(s)
		require.True(t, ok, s)
		assert.Equal(t, id, got, s)
		text, ok := tok.DecodeToken(id)
		require.True(t, ok)
		assert.Equal(t, s, text)
	}
	assert.True(t, tok.IsSpecial(151644))
	assert.False(t, tok.IsSpecial(151667), "<think> is an added token but not special in Qwen3")
	_, ok := tok.TokenID("Ġthe")
	assert.False(t, ok, "TokenID takes decoded text, not the byte-level form")
	_, ok = tok.DecodeToken(-1)
	assert.False(t, ok)

	ids := tok.Encode("<think>a</think>")
	assert.Equal(t, []int{151667, 64, 151668}, ids)
	ord := tok.EncodeOrdinary("<think>a</think>")
	assert.NotContains(t, ord, 151667)
	assert.Equal(t, "<think>a</think>", tok.Decode(ord))
}

func TestGPT2Specials(t *testing.T) {
	tok := gpt2(t)
	assert.Equal(t, 50257, tok.VocabSize())
	assert.Equal(t, 50256, tok.EOS())
	assert.Equal(t, []int{50256}, tok.Encode("<|endoftext|>"))
	assert.Equal(t, PatternGPT2, tok.Pattern())
}

func TestChatML(t *testing.T) {
	msgs := []Message{{"system", "Be brief."}, {"user", "Hi"}}
	got := ChatML(msgs, ChatOptions{AddGenerationPrompt: true})
	assert.Equal(t, "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", got)
	got = ChatML(msgs[1:], ChatOptions{AddGenerationPrompt: true, NoThinking: true})
	assert.Equal(t, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n", got)
	assert.Equal(t, "<|im_start|>user\nHi<|im_end|>\n", ChatML(msgs[1:], ChatOptions{}))

	tok := qwen3(t)
	ids := tok.EncodeChat(msgs[1:], ChatOptions{AddGenerationPrompt: true})
	// <|im_start|> user \n Hi <|im_end|> \n <|im_start|> assistant \n
	assert.Equal(t, []int{151644, 872, 198, 13048, 151645, 198, 151644, 77091, 198}, ids)
}

func TestStreamDecoder(t *testing.T) {
	for _, tok := range testTokenizers(t) {
		testStreamDecoder(t, tok)
	}
}

func testStreamDecoder(t *testing.T, tok *Tokenizer) {
	rng := newRand(4)
	texts := []string{"héllo 日本語 🤗👨‍👩‍👧 ok", randomBytes(rng, 100), randomText(rng, 50)}
	for _, s := range texts {
		ids := tok.Encode(s)
		d := tok.NewStreamDecoder()
		var out string
		for _, id := range ids {
			piece := d.Add(id)
			if utf8.ValidString(s) {
				require.True(t, utf8.ValidString(piece), "piece %q of valid text", piece)
			}
			out += piece
		}
		out += d.Flush()
		assert.Equal(t, tok.Decode(ids), out)
	}
	// Random ids (any order of bytes) still concatenate to Decode.
	for i := 0; i < 200; i++ {
		ids := make([]int, 1+rng.IntN(10))
		for j := range ids {
			ids[j] = rng.IntN(tok.VocabSize())
		}
		d := tok.NewStreamDecoder()
		var out string
		for _, id := range ids {
			out += d.Add(id)
		}
		out += d.Flush()
		require.Equal(t, tok.Decode(ids), out)
	}
}

func TestCompletePrefix(t *testing.T) {
	for in, want := range map[string]int{
		"":                 0,
		"abc":              3,
		"a\xe4\xbd":        1, // 你 missing its last byte
		"a\xe4\xbd\xa0":    4,
		"\xf0\x9f\x98":     0,
		"\xff":             1, // invalid: never completes
		"a\xed\xa0":        3, // a surrogate lead is invalid at once
		"\x80\x80\x80\x80": 4,
	} {
		assert.Equal(t, want, completePrefix([]byte(in)), "%q", in)
	}
}

// Encoders running at once share the word cache and get the same ids.
func TestConcurrentEncode(t *testing.T) {
	tok := testTokenizers(t)[0]
	rng := newRand(8)
	texts := make([]string, 64)
	want := make([][]int, len(texts))
	for i := range texts {
		texts[i] = randomText(rng, 40)
		want[i] = tok.Encode(texts[i])
	}
	tok.model.cache = [cacheShards]cache{} // start cold so goroutines race to fill it
	var wg sync.WaitGroup
	errs := make(chan string, 8*len(texts))
	for g := 0; g < 8; g++ {
		wg.Go(func() {
			for i := range texts {
				j := (i + g*7) % len(texts)
				if got := tok.Encode(texts[j]); !assert.ObjectsAreEqual(want[j], got) {
					errs <- texts[j]
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for s := range errs {
		t.Errorf("concurrent encode differs for %q", s)
	}
}
