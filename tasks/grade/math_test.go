package grade

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestExtractBoxed(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string
		ok   bool
	}{
		{`so \boxed{42}.`, "42", true},
		{`\boxed{\frac{\sqrt{3}}{2}}`, `\frac{\sqrt{3}}{2}`, true},
		{`\boxed{1} then \boxed{2}`, "2", true}, // the last one counts
		{`\fbox{7}`, "7", true},
		{`\boxed 5$`, "5", true},
		{"\\[ \x08oxed{9} \\]", "9", true},
		{`\boxed{unclosed`, "", false},
		{`no box`, "", false},
		{`\boxed`, "", false},
	} {
		got, ok := ExtractBoxed(c.in)
		assert.Equal(t, c.ok, ok, c.in)
		assert.Equal(t, c.want, got, c.in)
	}
}

func TestMathEqual(t *testing.T) {
	for _, c := range []struct {
		pred, gold string
		want       bool
	}{
		{"18", "18", true},
		{"1,000", "1000", true},
		{"1,450,000", "1450000", true},
		{"12.0", "12", true},
		{"9.80", "9.8", true},
		{"0.5", `\frac{1}{2}`, true},
		{`\boxed{\frac{1}{2}}`, "1/2", true},
		{`\dfrac{3}{4}`, "3/4", true},
		{`\tfrac34`, `\frac{3}{4}`, true},
		{`\frac12`, "0.5", true},
		{`-\frac{2}{3}`, "-0.6667", true},
		{"50%", "50", true},
		{`50\%`, "0.5", true},
		{`\$18`, "18", true},
		{"18 dollars", "18", true},
		{`5\text{ cm}`, "5", true},
		{`10^\circ`, "10", true},
		{`10^{\circ}`, "10", true},
		{"x = 5", "5", true},
		{`\left( 3, \frac{\pi}{2} \right)`, `(3,\frac{\pi}{2})`, true},
		{"(1, 2.0)", "(1,2)", true},
		{"[1,2)", "(1,2)", false},
		{"p - q", "p-q", true},
		{`\sqrt2`, `\sqrt{2}`, true},
		{".5", "0.5", true},
		{"1234567", "1234568", false}, // integers compare exactly
		{"0.33", "1/3", false},
		{"2", "3", false},
		{"", "0", false},
		{"0", "", false},
		{"abc", "abd", false},
		{`\text{(C)}`, "(C)", true},
		{"1/0", "1/0", true}, // same string, although not a number
		{"1/0", "2/0", false},
	} {
		assert.Equal(t, c.want, MathEqual(c.pred, c.gold), "%q vs %q", c.pred, c.gold)
		assert.Equal(t, c.want, MathEqual(c.gold, c.pred), "symmetry: %q vs %q", c.gold, c.pred)
	}
	assert.Equal(t, 1.0, MathScore("7", "6", "7"))
	assert.Equal(t, 0.0, MathScore("7"))
}

func TestNormalizeMathIdempotent(t *testing.T) {
	for _, s := range []string{`\left( 3, \dfrac{\pi}{2} \right)`, `18 dollars`, `x = \frac12`, `\$1,000.`, `10^\circ`} {
		n := NormalizeMath(s)
		assert.Equal(t, n, NormalizeMath(n), s)
	}
}
