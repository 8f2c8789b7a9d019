package tokenizer

import (
	"fmt"

	"github.com/dlclark/regexp2/v2"
)

// Regex is a pre-tokenizer Split pattern run by a general regex engine
// (github.com/dlclark/regexp2, a port of .NET's backtracking engine), for
// the split regexes that have no hand-written scanner. Hugging Face runs
// them with Oniguruma; for what these patterns use the two agree: \s is
// Unicode White_Space (.NET's [\f\n\r\t\v\x85\p{Z}], the same set), \p{L}
// and \p{N} are the Unicode categories, lookahead works, and (?i:...)
// folds case by simple lower-casing (regex_test.go checks all three classes
// over every code point against the scanners' definitions). \w and \b
// differ slightly between the engines (.NET's \w lacks some marks); no
// known tokenizer uses them.
//
// Invalid UTF-8 bytes are one character each, matched as U+FFFD (class
// other), as in the scanners.
type Regex struct {
	src string
	re  *regexp2.Regexp
}

// CompileRegex compiles a tokenizer.json Split regex.
func CompileRegex(src string) (*Regex, error) {
	// A run of thousands of spaces backtracks through \s+(?!\S) once per
	// character; the stack grows with the input, never without bound, so
	// the default limit would only make long inputs fail.
	re, err := regexp2.Compile(src, regexp2.None, regexp2.OptionMaxBacktrackingStackSize(-1))
	if err != nil {
		return nil, fmt.Errorf("split pattern %q: %w", src, err)
	}
	return &Regex{src: src, re: re}, nil
}

// String returns the regex source.
func (r *Regex) String() string { return r.src }

// each calls fn with the pieces of s in order, as Hugging Face's Split with
// behavior Isolated makes them: every match is a piece, and so is the text
// between matches. Empty matches make no piece.
func (r *Regex) each(s string, fn func(piece string)) {
	idx, err := r.re.FindAllStringIndex(s, -1)
	if err != nil {
		// Only a timeout or the backtracking limit fail a match, and
		// CompileRegex sets neither.
		panic(fmt.Sprintf("tokenizer: split regex failed: %v", err))
	}
	prev := 0
	for _, m := range idx {
		if m[0] > prev {
			fn(s[prev:m[0]])
		}
		if m[1] > m[0] {
			fn(s[m[0]:m[1]])
		}
		prev = m[1]
	}
	if prev < len(s) {
		fn(s[prev:])
	}
}

// Split returns the pieces of s; their concatenation is s.
func (r *Regex) Split(s string) []string {
	var out []string
	r.each(s, func(p string) { out = append(out, p) })
	return out
}

// splitter is one split step: a scanner Pattern or a Regex.
type splitter interface {
	each(s string, fn func(piece string))
}

// each calls fn with the pieces of s for a scanner pattern.
func (p Pattern) each(s string, fn func(piece string)) {
	for i := 0; i < len(s); {
		j := p.next(s, i)
		fn(s[i:j])
		i = j
	}
}

// eachStage splits s by the first stage, each piece by the next, and so on,
// as a Sequence of pre-tokenizers does, calling fn with the final pieces.
func eachStage(stages []splitter, s string, fn func(piece string)) {
	if len(stages) == 0 {
		fn(s)
		return
	}
	stages[0].each(s, func(piece string) { eachStage(stages[1:], piece, fn) })
}
