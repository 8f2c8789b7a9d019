package tokenizer

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// Pattern names a pre-tokenizer split pattern. The three named ones are
// hand-written scanners equivalent to the Hugging Face (Oniguruma) regexes
// below, because a scanner is several times faster than a regex engine
// (and Go's regexp has no lookahead); any other split regex runs through
// the general engine in regex.go (PatternRegex).
type Pattern int

const (
	// PatternGPT2 is the GPT-2 pattern:
	//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
	PatternGPT2 Pattern = iota + 1
	// PatternQwen2 is the Qwen2/Qwen3 pattern, which splits digits one by
	// one and keeps newlines apart from other whitespace:
	//   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
	PatternQwen2
	// PatternLlama3 is the Llama 3 pattern: Qwen2's with numbers split in
	// runs of up to three digits (\p{N}{1,3} instead of \p{N}).
	PatternLlama3
	// PatternRegex is any other split regex, run by a general engine.
	PatternRegex
)

// The regex source of each pattern, as it appears in tokenizer.json files.
const (
	regexGPT2   = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
	regexQwen2  = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	regexLlama3 = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
)

func (p Pattern) String() string {
	switch p {
	case PatternGPT2:
		return "gpt2"
	case PatternQwen2:
		return "qwen2"
	case PatternLlama3:
		return "llama3"
	case PatternRegex:
		return "regex"
	}
	return "unknown"
}

// Character classes of the patterns: \p{L}, \p{N}, \s (Unicode White_Space,
// which is what unicode.IsSpace tests) and everything else.
const (
	clsOther uint8 = iota
	clsLetter
	clsNumber
	clsSpace
)

var asciiClass [utf8.RuneSelf]uint8

func init() {
	for c := 0; c < utf8.RuneSelf; c++ {
		r := rune(c)
		switch {
		case unicode.IsLetter(r):
			asciiClass[c] = clsLetter
		case unicode.IsNumber(r):
			asciiClass[c] = clsNumber
		case unicode.IsSpace(r):
			asciiClass[c] = clsSpace
		}
	}
}

// classAt returns the class and byte length of the character at s[i]. An
// invalid UTF-8 byte is a one-byte character of class other, as U+FFFD is.
func classAt(s string, i int) (uint8, int) {
	if c := s[i]; c < utf8.RuneSelf {
		return asciiClass[c], 1
	}
	r, n := utf8.DecodeRuneInString(s[i:])
	switch {
	case r == utf8.RuneError && n == 1:
		return clsOther, 1
	case unicode.IsLetter(r):
		return clsLetter, n
	case unicode.IsNumber(r):
		return clsNumber, n
	case unicode.IsSpace(r):
		return clsSpace, n
	}
	return clsOther, n
}

// runOf returns the end of the run of characters of class cls starting at i.
func runOf(s string, i int, cls uint8) int {
	for i < len(s) {
		c, n := classAt(s, i)
		if c != cls {
			break
		}
		i += n
	}
	return i
}

// contraction returns the length of 's 't 're 've 'm 'll 'd at s[i] (which
// is '\”), or 0. fold makes the match ASCII case-insensitive, as the Qwen2
// pattern's (?i:) group does in transformers.js; Oniguruma would also fold
// U+017F (long s) to 's', a difference we accept.
func contraction(s string, i int, fold bool) int {
	lower := func(c byte) byte {
		if fold && 'A' <= c && c <= 'Z' {
			return c + 'a' - 'A'
		}
		return c
	}
	if i+1 >= len(s) {
		return 0
	}
	switch lower(s[i+1]) {
	case 's', 't', 'm', 'd':
		return 2
	}
	if i+2 >= len(s) {
		return 0
	}
	switch string([]byte{lower(s[i+1]), lower(s[i+2])}) {
	case "re", "ve", "ll":
		return 3
	}
	return 0
}

// spaceRunEnd handles the whitespace alternatives \s+(?!\S)|\s+ at s[i],
// given that the whitespace run is [i, j) and its last character starts at
// last: a run that reaches the end of text is taken whole; one followed by a
// non-space gives its last character to the next piece (so " word" keeps its
// space) unless it is a single character.
func spaceRunEnd(s string, i, j, last int) int {
	if j == len(s) || last == i {
		return j
	}
	return last
}

// nextGPT2 returns the end of the GPT-2 piece that starts at s[i].
func nextGPT2(s string, i int) int {
	if s[i] == '\'' {
		if n := contraction(s, i, false); n > 0 {
			return i + n
		}
	}
	c0, n0 := classAt(s, i)
	if s[i] == ' ' && i+1 < len(s) {
		if c1, _ := classAt(s, i+1); c1 != clsSpace {
			return runOf(s, i+1, c1)
		}
	}
	if c0 != clsSpace {
		return runOf(s, i+n0, c0)
	}
	j, last := i, i
	for j < len(s) {
		c, n := classAt(s, j)
		if c != clsSpace {
			break
		}
		last = j
		j += n
	}
	return spaceRunEnd(s, i, j, last)
}

// isCRLF reports whether c is '\r' or '\n'.
func isCRLF(c byte) bool { return c == '\r' || c == '\n' }

// crlfRun returns the end of the run of '\r' and '\n' starting at i.
func crlfRun(s string, i int) int {
	for i < len(s) && isCRLF(s[i]) {
		i++
	}
	return i
}

// nextQwen2 returns the end of the Qwen2 piece that starts at s[i]; with
// maxDigits 3 it is the Llama 3 piece, whose numbers are runs of up to three.
func nextQwen2(s string, i int, maxDigits int) int {
	if s[i] == '\'' {
		if n := contraction(s, i, true); n > 0 {
			return i + n
		}
	}
	c0, n0 := classAt(s, i)
	switch {
	case c0 == clsLetter:
		return runOf(s, i+n0, clsLetter)
	case c0 == clsNumber:
		j := i + n0
		for k := 1; k < maxDigits && j < len(s); k++ {
			c, n := classAt(s, j)
			if c != clsNumber {
				break
			}
			j += n
		}
		return j
	case isCRLF(s[i]):
		// Only the whitespace alternatives can match.
	case i+n0 < len(s):
		// [^\r\n\p{L}\p{N}]?\p{L}+ : one space or symbol glued to a word.
		if c1, n1 := classAt(s, i+n0); c1 == clsLetter {
			return runOf(s, i+n0+n1, clsLetter)
		}
	}
	if c0 == clsOther {
		return crlfRun(s, runOf(s, i+n0, clsOther))
	}
	if s[i] == ' ' && i+1 < len(s) {
		if c1, n1 := classAt(s, i+1); c1 == clsOther {
			return crlfRun(s, runOf(s, i+1+n1, clsOther))
		}
	}
	// \s*[\r\n]+ ends after the last newline of the whitespace run.
	j, last, afterNL := i, i, -1
	for j < len(s) {
		c, n := classAt(s, j)
		if c != clsSpace {
			break
		}
		last = j
		j += n
		if isCRLF(s[last]) {
			afterNL = j
		}
	}
	if afterNL > 0 {
		return afterNL
	}
	return spaceRunEnd(s, i, j, last)
}

// next returns the end of the piece of pattern p that starts at s[i]. p is
// one of the hand-written patterns.
func (p Pattern) next(s string, i int) int {
	switch p {
	case PatternGPT2:
		return nextGPT2(s, i)
	case PatternQwen2:
		return nextQwen2(s, i, 1)
	case PatternLlama3:
		return nextQwen2(s, i, 3)
	}
	panic(fmt.Sprintf("tokenizer: pattern %v has no scanner", p))
}

// Split returns the pre-tokenizer pieces of s for a hand-written pattern;
// their concatenation is s. (A general regex splits with Regex.Split.)
func (p Pattern) Split(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		j := p.next(s, i)
		out = append(out, s[i:j])
		i = j
	}
	return out
}
