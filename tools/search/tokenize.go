package search

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Tokenize lower-cases text, splits it at anything that is not a letter or
// a digit, drops English stop words and stems each word lightly (see Stem).
// Index and queries use the same function, so they always agree.
func Tokenize(text string) []string {
	var out []string
	start := -1
	for i, r := range text {
		word := unicode.IsLetter(r) || unicode.IsDigit(r)
		if word && start < 0 {
			start = i
		}
		if !word && start >= 0 {
			out = appendTerm(out, text[start:i])
			start = -1
		}
	}
	if start >= 0 {
		out = appendTerm(out, text[start:])
	}
	return out
}

func appendTerm(out []string, w string) []string {
	w = lower(w)
	if stopWords[w] {
		return out
	}
	return append(out, Stem(w))
}

// lower avoids an allocation for words that are already lower-case ASCII,
// which is most of them.
func lower(w string) string {
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= utf8.RuneSelf || c >= 'A' && c <= 'Z' {
			return strings.ToLower(w)
		}
	}
	return w
}

// Stem is Harman's S-stemmer (1991): it folds plurals and little else, so
// "cities"→"city", "horses"→"horse", "cats"→"cat" while "glass" and "status"
// stay. Heavier stemmers (Porter) conflate more and are slower; for short
// passages and entity-heavy questions plural folding gets most of the gain.
func Stem(w string) string {
	n := len(w)
	switch {
	case n > 3 && strings.HasSuffix(w, "ies") && !strings.HasSuffix(w, "eies") && !strings.HasSuffix(w, "aies"):
		return w[:n-3] + "y"
	case n > 3 && strings.HasSuffix(w, "es") && !strings.HasSuffix(w, "aes") && !strings.HasSuffix(w, "ees") && !strings.HasSuffix(w, "oes"):
		return w[:n-1]
	case n > 2 && w[n-1] == 's' && w[n-2] != 'u' && w[n-2] != 's':
		return w[:n-1]
	}
	return w
}

// stopWords are words too common to help ranking; dropping them also keeps
// the longest posting lists out of every query.
var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a an and are as at be but by for from has have he her his i if in
		into is it its of on or she that the their them then there these they this to was were which
		who whom will with what when where why how do does did been being than so such not no nor`) {
		m[w] = true
	}
	return m
}()
