package tokenizer

import (
	"strings"
	"testing"

	"github.com/goarpo/arpo/internal/shareddata"
)

// gsm8kText is the first n bytes of GSM8K questions and answers: English
// with numbers, the kind of text the project encodes.
func gsm8kText(b *testing.B, n int) string {
	p := shareddata.Path(b, "train/gsm8k_train.jsonl")
	return strings.Join(readGSM8K(b, p, n), "\n")
}

// BenchmarkEncodeQwen3 measures steady-state encoding (word cache warm).
func BenchmarkEncodeQwen3(b *testing.B) {
	tok := qwen3(b)
	text := gsm8kText(b, 4<<20)
	tok.Encode(text)
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for b.Loop() {
		tok.Encode(text)
	}
}

// BenchmarkEncodeQwen3NoCache measures encoding with every word merged
// from bytes: the worst case, text with no repeated words.
func BenchmarkEncodeQwen3NoCache(b *testing.B) {
	tok := qwen3(b)
	text := gsm8kText(b, 1<<20)
	b.SetBytes(int64(len(text)))
	var ids []int
	for b.Loop() {
		ids = ids[:0]
		for i := 0; i < len(text); {
			j := tok.pattern.next(text, i)
			ids = tok.model.appendWord(ids, text[i:j])
			i = j
		}
	}
}

func BenchmarkEncodeGPT2(b *testing.B) {
	tok := gpt2(b)
	text := gsm8kText(b, 4<<20)
	tok.Encode(text)
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for b.Loop() {
		tok.Encode(text)
	}
}

// BenchmarkTrain8k trains on 4 MB of GSM8K to 8192 tokens.
func BenchmarkTrain8k(b *testing.B) {
	texts := readGSM8K(b, shareddata.Path(b, "train/gsm8k_train.jsonl"), 4<<20)
	n := 0
	for _, s := range texts {
		n += len(s)
	}
	b.SetBytes(int64(n))
	for b.Loop() {
		if _, err := Train(texts, 8192, DefaultSpecials); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSplitLlama3 compares the Llama 3 split of 1 MB of GSM8K by the
// hand-written scanner and by the general regex engine (which tokenizers
// with other split regexes use).
func BenchmarkSplitLlama3(b *testing.B) {
	text := gsm8kText(b, 1<<20)
	re, err := CompileRegex(regexLlama3)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("scanner", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		for b.Loop() {
			for i := 0; i < len(text); {
				i = PatternLlama3.next(text, i)
			}
		}
	})
	b.Run("regexp2", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		for b.Loop() {
			re.each(text, func(string) {})
		}
	})
}

// BenchmarkEncodeLlama3 measures steady-state encoding (word cache warm).
func BenchmarkEncodeLlama3(b *testing.B) {
	tok := llama3(b)
	text := gsm8kText(b, 4<<20)
	tok.Encode(text)
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for b.Loop() {
		tok.Encode(text)
	}
}
