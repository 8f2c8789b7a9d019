package grade

import (
	"strings"
	"unicode"
)

// Normalize applies the SQuAD answer normalisation: lower-case, drop
// punctuation, drop the articles "a", "an", "the", collapse white space.
func Normalize(s string) string {
	s = strings.ToLower(s)
	var b strings.Builder
	for _, r := range s {
		if unicode.IsPunct(r) || unicode.IsSymbol(r) {
			continue
		}
		b.WriteRune(r)
	}
	words := strings.Fields(b.String())
	out := words[:0]
	for _, w := range words {
		if w == "a" || w == "an" || w == "the" {
			continue
		}
		out = append(out, w)
	}
	return strings.Join(out, " ")
}

// ExactMatch returns 1 when pred equals one of golds after Normalize, else 0.
func ExactMatch(pred string, golds ...string) float64 {
	p := Normalize(pred)
	for _, g := range golds {
		if p == Normalize(g) {
			return 1
		}
	}
	return 0
}

// F1 returns the best SQuAD token F1 of pred against any of golds. As in the
// HotpotQA evaluation, a yes/no/noanswer answer scores only by exact match,
// since one shared token would otherwise give partial credit to "no" for "yes".
func F1(pred string, golds ...string) float64 {
	best := 0.0
	for _, g := range golds {
		if f := f1(Normalize(pred), Normalize(g)); f > best {
			best = f
		}
	}
	return best
}

func f1(p, g string) float64 {
	special := func(s string) bool { return s == "yes" || s == "no" || s == "noanswer" }
	if (special(p) || special(g)) && p != g {
		return 0
	}
	pt, gt := strings.Fields(p), strings.Fields(g)
	if len(pt) == 0 || len(gt) == 0 {
		// Two empty answers agree; one empty answer shares nothing.
		if len(pt) == len(gt) {
			return 1
		}
		return 0
	}
	counts := make(map[string]int, len(gt))
	for _, t := range gt {
		counts[t]++
	}
	common := 0
	for _, t := range pt {
		if counts[t] > 0 {
			counts[t]--
			common++
		}
	}
	if common == 0 {
		return 0
	}
	precision := float64(common) / float64(len(pt))
	recall := float64(common) / float64(len(gt))
	return 2 * precision * recall / (precision + recall)
}
