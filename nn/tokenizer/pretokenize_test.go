package tokenizer

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSplitGPT2(t *testing.T) {
	cases := map[string][]string{
		"Hello world":       {"Hello", " world"},
		"I'm   here  ":      {"I", "'m", "  ", " here", "  "},
		"a\n\nb":            {"a", "\n", "\n", "b"},
		"x=42!?":            {"x", "=", "42", "!?"},
		" 'S 're":           {" '", "S", " '", "re"},
		"\xff\xfeA \xff":    {"\xff\xfe", "A", " \xff"},
		"日本 語":              {"日本", " 語"},
		"tab\t\tx":          {"tab", "\t", "\t", "x"},
		"":                  nil,
		"end   ":            {"end", "   "},
		"a\u00a0\u00a0b":    {"a", "\u00a0", "\u00a0", "b"},
		"hi \U0001F600 you": {"hi", " \U0001F600", " you"},
	}
	for in, want := range cases {
		assert.Equal(t, want, PatternGPT2.Split(in), "%q", in)
	}
}

func TestSplitQwen2(t *testing.T) {
	cases := map[string][]string{
		"Hello world":       {"Hello", " world"},
		"I'M here":          {"I", "'M", " here"},
		"x=42!?\n\ny":       {"x", "=", "4", "2", "!?\n\n", "y"},
		"(word) ?x":         {"(word", ")", " ?", "x"},
		"  \n  hello":       {"  \n", " ", " hello"},
		"a \n \n b":         {"a", " \n \n", " b"},
		"\r\n":              {"\r\n"},
		"\xff\xfeA\xff":     {"\xff\xfe", "A", "\xff"},
		"日本語、カタ":            {"日本語", "、カタ"},
		"end  ":             {"end", "  "},
		" ::\r\nx":          {" ::\r\n", "x"},
		"\tword":            {"\tword"},
		"\nword":            {"\n", "word"},
		"hi \U0001F600 you": {"hi", " \U0001F600", " you"},
	}
	for in, want := range cases {
		assert.Equal(t, want, PatternQwen2.Split(in), "%q", in)
	}
}

// The pieces of any byte string concatenate back to it, for both patterns.
func TestSplitCoversInput(t *testing.T) {
	rng := newRand(1)
	for i := 0; i < 2000; i++ {
		s := randomText(rng, rng.IntN(40))
		for _, p := range []Pattern{PatternGPT2, PatternQwen2} {
			pieces := p.Split(s)
			require.Equal(t, s, strings.Join(pieces, ""), "%v %q", p, s)
			for _, x := range pieces {
				require.NotEmpty(t, x)
			}
		}
	}
}
