package tokenizer

import (
	"math/rand/v2"
	"strings"
)

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

// randomText returns n pieces drawn from a mix chosen to hit every branch of
// the scanners: ASCII classes, newlines, Unicode letters and spaces, emoji,
// combining marks, apostrophes and invalid bytes.
func randomText(rng *rand.Rand, n int) string {
	parts := []string{
		"a", "Z", "the", " ", "  ", "\t", "\n", "\r\n", "'", "'s", "'LL", "1", "42",
		"!", "?.", "<", ">", "é", "e\u0301", "日本", "\u3000", "\u00a0", "\u0085",
		"\U0001F600", "\xff", "\xc3", "\xe4\xbd", "\x00", "Ⅻ", "½", "<think>", "<|im_end|>",
	}
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString(parts[rng.IntN(len(parts))])
	}
	return b.String()
}

// randomBytes returns n uniformly random bytes.
func randomBytes(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.IntN(256))
	}
	return string(b)
}

// corpusWords make a synthetic English-like corpus for training tests that
// must run without the shared data.
var corpusWords = strings.Fields(`the of and to in is was for that with as on by at from
his her they we you it this be are were which an or has had have not but all one two
three city river founded year population country search answer result think python
question number people first new time after where when what who how many more than
about into over only other some such these them then there would could should`)

func syntheticCorpus(rng *rand.Rand, words int) string {
	var b strings.Builder
	for i := 0; i < words; i++ {
		w := corpusWords[rng.IntN(len(corpusWords))]
		switch rng.IntN(12) {
		case 0:
			b.WriteString(". ")
			w = strings.ToUpper(w[:1]) + w[1:]
		case 1:
			b.WriteString(", ")
		case 2:
			b.WriteString(" 19")
			b.WriteByte(byte('0' + rng.IntN(10)))
			b.WriteByte(byte('0' + rng.IntN(10)))
			b.WriteString(" ")
		case 3:
			b.WriteString("\n")
		default:
			b.WriteString(" ")
		}
		b.WriteString(w)
	}
	return b.String()
}
