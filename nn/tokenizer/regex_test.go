package tokenizer

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// The general engine's \s, \p{L} and \p{N} are, over every code point, the
// classes the scanners use (and Oniguruma's: White_Space, L, N), so a split
// regex means the same in both.
func TestRegexClassesMatchScanners(t *testing.T) {
	var b strings.Builder
	var runes []rune
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if utf8.ValidRune(r) {
			b.WriteRune(r)
			runes = append(runes, r)
		}
	}
	all := b.String()
	for _, c := range []struct {
		re  string
		cls uint8
	}{{`\s`, clsSpace}, {`\p{L}`, clsLetter}, {`\p{N}`, clsNumber}} {
		re, err := CompileRegex(c.re + "+") // runs: far fewer matches to list
		require.NoError(t, err)
		idx, err := re.re.FindAllStringIndex(all, -1)
		require.NoError(t, err)
		matched := make([]bool, len(all))
		for _, m := range idx {
			for i := m[0]; i < m[1]; i++ {
				matched[i] = true
			}
		}
		off := 0
		for _, r := range runes {
			cls, _ := classAt(all, off)
			if (cls == c.cls) != matched[off] {
				t.Fatalf("%s on U+%04X: engine %v, scanner class %d", c.re, r, matched[off], cls)
			}
			off += utf8.RuneLen(r)
		}
	}
}

// (?i:'s|'t|...) in the general engine folds as the scanners' contraction
// does, except that it also folds U+017F (long s) to s, as Oniguruma (the
// Rust tokenizers) does and tokenizers.js and the scanners do not.
func TestRegexCaseFold(t *testing.T) {
	re, err := CompileRegex(`(?i:'s|'t|'re|'ve|'m|'ll|'d)`)
	require.NoError(t, err)
	chars := []string{"s", "S", "t", "T", "r", "R", "e", "E", "v", "V", "m", "M", "l", "L", "d", "D", "x", "\u017f", "\u212a", "\u0130", ""}
	for _, a := range chars {
		for _, b := range chars {
			s := "'" + a + b
			want := contraction(s, 0, true)
			if strings.HasPrefix(s, "'\u017f") {
				want = len("'\u017f") // 'ſ is matched as 's
			}
			got := 0
			if idx, err := re.re.FindAllStringIndex(s, 1); err == nil && len(idx) == 1 && idx[0][0] == 0 {
				got = idx[0][1]
			}
			require.Equal(t, want, got, "%q", s)
		}
	}
}

// The hand-written scanners split every string as the general engine splits
// it with the same regex: random texts from every branch of the patterns,
// including invalid UTF-8, and the reference texts.
func TestScannersMatchRegex(t *testing.T) {
	texts := []string{"", "1234567", "x\xff\xfe 12\xff345", " \n\r\n  \t x"}
	for _, c := range loadReference(t) {
		texts = append(texts, c.input(t))
	}
	rng := newRand(7)
	for i := 0; i < 3000; i++ {
		texts = append(texts, randomText(rng, rng.IntN(40)))
	}
	for _, p := range []struct {
		pattern Pattern
		src     string
	}{{PatternGPT2, regexGPT2}, {PatternQwen2, regexQwen2}, {PatternLlama3, regexLlama3}} {
		re, err := CompileRegex(p.src)
		require.NoError(t, err)
		for _, s := range texts {
			require.Equal(t, re.Split(s), p.pattern.Split(s), "%v %q", p.pattern, s)
		}
	}
}

// Split with behavior Isolated keeps the text between matches as pieces.
func TestRegexSplitKeepsGaps(t *testing.T) {
	re, err := CompileRegex(`\d+`)
	require.NoError(t, err)
	require.Equal(t, []string{"ab", "12", "c", "3"}, re.Split("ab12c3"))
	require.Equal(t, []string{"x y"}, re.Split("x y"))
	re, err = CompileRegex(`(?=x)`) // empty matches split but make no piece
	require.NoError(t, err)
	require.Equal(t, []string{"a", "x", "x"}, re.Split("axx"))
}

// A Split with a literal String pattern splits on that string, not on a
// regex it might spell.
func TestSplitStringPattern(t *testing.T) {
	doc := `{"added_tokens":[],"normalizer":null,"pre_tokenizer":{"type":"Sequence","pretokenizers":[` +
		`{"type":"Split","pattern":{"String":"."},"behavior":"Isolated","invert":false},{"type":"ByteLevel","use_regex":false}]},` +
		`"post_processor":null,"decoder":{"type":"ByteLevel"},"model":{"type":"BPE","vocab":{"a":0,"b":1,".":2,"ab":3},"merges":["a b"]}}`
	tok, err := ParseHF([]byte(doc))
	require.NoError(t, err)
	require.Equal(t, PatternRegex, tok.Pattern())
	require.Equal(t, []string{"ab", ".", "ab"}, tok.regex.Split("ab.ab"))
	require.Equal(t, []int{3, 2, 3}, tok.Encode("ab.ab"))
}

// Digits splits every \p{N} character (Rust's char::is_numeric), before the
// byte-level regex splits each piece; without individual_digits it keeps
// runs together.
func TestDigitsStages(t *testing.T) {
	pieces := func(pre string, s string) []string {
		pt, err := parsePreTokenizer([]byte(pre))
		require.NoError(t, err)
		var out []string
		eachStage(pt.stages, s, func(p string) { out = append(out, p) })
		return out
	}
	byteLevel := `{"type": "ByteLevel", "add_prefix_space": false, "use_regex": true}`
	individual := `{"type": "Sequence", "pretokenizers": [{"type": "Digits", "individual_digits": true}, ` + byteLevel + `]}`
	runs := `{"type": "Sequence", "pretokenizers": [{"type": "Digits", "individual_digits": false}, ` + byteLevel + `]}`
	require.Equal(t, []string{"x", " ", "1", "2", "3", "\u0661", "\u00bd", "a"}, pieces(individual, "x 123\u0661\u00bda"))
	require.Equal(t, []string{"x", " ", "123\u0661\u00bd", "a"}, pieces(runs, "x 123\u0661\u00bda"))
	_, err := parsePreTokenizer([]byte(`{"type": "Sequence", "pretokenizers": [{"type": "Digits"}, {"type": "Digits"}, ` + byteLevel + `]}`))
	require.Error(t, err)
}
