package grade

import (
	"math"
	"regexp"
	"strconv"
	"strings"
)

// MathScore returns 1 when pred is mathematically equivalent to one of golds
// (see MathEqual), else 0. A \boxed{...} in pred or a gold is unwrapped first.
func MathScore(pred string, golds ...string) float64 {
	for _, g := range golds {
		if MathEqual(pred, g) {
			return 1
		}
	}
	return 0
}

// MathEqual reports whether two final answers are the same number or the same
// normalised expression. Numbers compare exactly when both are integers (so a
// product off by one is wrong however large), else within a relative 1e-4 (so
// "0.6667" matches "2/3" and "9.80" matches "9.8"). A percentage matches both
// its number and its fraction ("50%" = "50" = "0.5"). Tuples and intervals
// compare element by element.
func MathEqual(pred, gold string) bool {
	if b, ok := ExtractBoxed(pred); ok {
		pred = b
	}
	if b, ok := ExtractBoxed(gold); ok {
		gold = b
	}
	p, g := NormalizeMath(pred), NormalizeMath(gold)
	if p == "" || g == "" {
		return false
	}
	return mathEqualNorm(p, g)
}

func mathEqualNorm(p, g string) bool {
	if p == g {
		return true
	}
	if pv, ok := parseNumber(p); ok {
		if gv, ok := parseNumber(g); ok {
			return numbersEqual(pv, gv)
		}
	}
	pp, popen, pclose := splitTuple(p)
	gp, gopen, gclose := splitTuple(g)
	if len(pp) > 1 && len(pp) == len(gp) && popen == gopen && pclose == gclose {
		for i := range pp {
			if !mathEqualNorm(pp[i], gp[i]) {
				return false
			}
		}
		return true
	}
	return false
}

// number is a parsed answer; percent marks "50%", which may mean 50 or 0.5.
type number struct {
	v       float64
	percent bool
}

func numbersEqual(a, b number) bool {
	for _, x := range a.values() {
		for _, y := range b.values() {
			if closeEnough(x, y) {
				return true
			}
		}
	}
	return false
}

func (n number) values() []float64 {
	if n.percent {
		return []float64{n.v, n.v / 100}
	}
	return []float64{n.v}
}

func closeEnough(x, y float64) bool {
	if x == y {
		return true
	}
	if isInt(x) && isInt(y) {
		return false
	}
	return math.Abs(x-y) <= 1e-4*math.Max(math.Abs(x), math.Abs(y))
}

func isInt(x float64) bool { return x == math.Trunc(x) && math.Abs(x) < 1<<53 }

var (
	reThousands = regexp.MustCompile(`^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$`)
	reDecimal   = regexp.MustCompile(`^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$`)
	reSlash     = regexp.MustCompile(`^([-+]?\d+(?:\.\d+)?)/(\d+(?:\.\d+)?)$`)
	reFrac      = regexp.MustCompile(`^([-+]?)\\frac\{([-+]?\d+(?:\.\d+)?)\}\{([-+]?\d+(?:\.\d+)?)\}$`)
)

// parseNumber reads a normalised answer as a number: integers (with
// thousands commas), decimals, a/b, \frac{a}{b}, each optionally with "%".
func parseNumber(s string) (number, bool) {
	n := number{}
	if strings.HasSuffix(s, "%") {
		n.percent = true
		s = strings.TrimSuffix(s, "%")
	}
	if reThousands.MatchString(s) {
		s = strings.ReplaceAll(s, ",", "")
	}
	if reDecimal.MatchString(s) {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return n, false
		}
		n.v = v
		return n, true
	}
	if m := reSlash.FindStringSubmatch(s); m != nil {
		return ratio(n, "", m[1], m[2])
	}
	if m := reFrac.FindStringSubmatch(s); m != nil {
		return ratio(n, m[1], m[2], m[3])
	}
	return n, false
}

func ratio(n number, sign, num, den string) (number, bool) {
	a, err1 := strconv.ParseFloat(num, 64)
	b, err2 := strconv.ParseFloat(den, 64)
	if err1 != nil || err2 != nil || b == 0 {
		return n, false
	}
	n.v = a / b
	if sign == "-" {
		n.v = -n.v
	}
	return n, true
}

// splitTuple splits "(a,b)" or "[a,b)" into its top-level parts and brackets;
// an answer without outer brackets ("1,2") splits too, with empty brackets.
func splitTuple(s string) (parts []string, open, close byte) {
	if len(s) >= 2 && strings.ContainsRune("([{", rune(s[0])) && strings.ContainsRune(")]}", rune(s[len(s)-1])) {
		open, close = s[0], s[len(s)-1]
		s = s[1 : len(s)-1]
	}
	depth, last := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
		case ',':
			if depth == 0 {
				parts = append(parts, s[last:i])
				last = i + 1
			}
		}
	}
	return append(parts, s[last:]), open, close
}
