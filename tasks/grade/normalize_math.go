package grade

import (
	"regexp"
	"strings"
)

var (
	reLeftRight = regexp.MustCompile(`\\(left|right)([^a-zA-Z]|$)`)
	reTextCmd   = regexp.MustCompile(`\\(text|textbf|textit|textnormal|mbox|mathrm|mathbf|operatorname)\{([^{}]*)\}`)
	reFracShort = regexp.MustCompile(`\\frac(\d)(\d)`)
	reFracHalf  = regexp.MustCompile(`\\frac\{([^{}]*)\}(\d)`)
	reFracHalf2 = regexp.MustCompile(`\\frac(\d)\{`)
	reSqrtShort = regexp.MustCompile(`\\sqrt(\d+)`)
	reVarPrefix = regexp.MustCompile(`^[a-zA-Z]\s*=\s*`)
	reUnitTail  = regexp.MustCompile(`^([-+]?[\d.,/]*\d%?)\s*([a-zA-Z][a-zA-Z ]*\.?)$`)
	reDegrees   = regexp.MustCompile(`\^\s*\{?\\circ\}?`)
)

// NormalizeMath puts a final math answer into a canonical string: LaTeX
// spacing, \left/\right, \dfrac and \tfrac, $ signs, degrees, \text{...}
// wrappers, unit words after a number, a leading "x =" and spaces all go;
// "\frac12" becomes "\frac{1}{2}" and "\%" becomes "%".
func NormalizeMath(s string) string {
	s = strings.TrimSpace(s)
	s = strings.ReplaceAll(s, "\n", " ")
	for _, sp := range []string{`\!`, `\,`, `\;`, `\:`, `\quad`, `\qquad`} {
		s = strings.ReplaceAll(s, sp, " ")
	}
	s = strings.ReplaceAll(s, `\ `, " ")
	s = reLeftRight.ReplaceAllString(s, "$2")
	s = strings.NewReplacer(`\dfrac`, `\frac`, `\tfrac`, `\frac`, `\displaystyle`, "",
		`\%`, "%", `\$`, "", "$", "", "°", "").Replace(s)
	s = reDegrees.ReplaceAllString(s, "")
	for reTextCmd.MatchString(s) {
		s = reTextCmd.ReplaceAllString(s, " $2 ")
	}
	s = strings.TrimSpace(s)
	s = reVarPrefix.ReplaceAllString(s, "")
	if m := reUnitTail.FindStringSubmatch(s); m != nil {
		// "18 dollars", "5 cm": keep the number, drop the unit words.
		s = m[1]
	}
	s = strings.TrimSuffix(strings.TrimSpace(s), ".")
	s = strings.Join(strings.Fields(s), "")
	s = reFracShort.ReplaceAllString(s, `\frac{$1}{$2}`)
	s = reFracHalf2.ReplaceAllString(s, `\frac{$1}{`)
	s = reFracHalf.ReplaceAllString(s, `\frac{$1}{$2}`)
	s = reSqrtShort.ReplaceAllString(s, `\sqrt{$1}`)
	if strings.HasPrefix(s, ".") {
		s = "0" + s
	}
	return s
}
