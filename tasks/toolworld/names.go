package toolworld

import (
	"math/rand/v2"
	"strings"
)

// Syllables are consonant-vowel(-consonant) pieces; names of two or three of
// them are pronounceable, short, and almost never English words.
var (
	// Repeats weigh the draw towards short syllables: names stay a few
	// BPE tokens long, since every letter is one a small model must copy.
	onsets  = []string{"b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "dr", "kr", "tr"}
	vowels  = []string{"a", "e", "i", "o", "u", "a", "e", "o", "ai", "ou"}
	codas   = []string{"", "", "", "", "", "n", "r", "l", "s", "k"}
	affixes = map[Kind][]string{
		Country: {"ia", "land", "ara", "mark"},
		Company: {"Corp", "Works", "Labs", "Group", "Motors", "Foods"},
	}
)

// namer hands out unique names: one namer serves the train and the test
// worlds and the distractors, so no two things share a name.
type namer struct {
	rng   *rand.Rand
	taken map[string]bool
	first []string // a pool of first names, shared by many people
}

func newNamer(rng *rand.Rand) *namer {
	n := &namer{rng: rng, taken: map[string]bool{}}
	seen := map[string]bool{}
	for len(n.first) < 300 {
		f := n.word(2)
		if !seen[f] {
			seen[f] = true
			n.first = append(n.first, f)
		}
	}
	return n
}

func (n *namer) syllable() string {
	return onsets[n.rng.IntN(len(onsets))] + vowels[n.rng.IntN(len(vowels))] + codas[n.rng.IntN(len(codas))]
}

// word returns a capitalised word of k syllables.
func (n *namer) word(k int) string {
	var b strings.Builder
	for range k {
		b.WriteString(n.syllable())
	}
	w := b.String()
	return strings.ToUpper(w[:1]) + w[1:]
}

// claim marks name as used and reports whether it was free.
func (n *namer) claim(name string) bool {
	if n.taken[name] {
		return false
	}
	n.taken[name] = true
	return true
}

// name returns a fresh name for an entity of kind k.
func (n *namer) name(k Kind) string {
	for {
		var s string
		switch k {
		case Person:
			s = n.first[n.rng.IntN(len(n.first))] + " " + n.word(2)
		case Country:
			a := affixes[Country]
			s = n.word(1+n.rng.IntN(2)) + a[n.rng.IntN(len(a))]
		case Company:
			a := affixes[Company]
			s = n.word(2) + " " + a[n.rng.IntN(len(a))]
		case River:
			s = n.word(2) + " River"
		default:
			s = n.word(2 + n.rng.IntN(5)/4) // mostly two syllables
		}
		if n.claim(s) {
			return s
		}
	}
}

// similar returns a fresh name that shares the distinctive word of name, for
// a distractor: "Kalven" -> "Port Kalven", "Ilsa Varnok" -> "Tomas Varnok",
// "Dravik Corp" -> "Dravik Labs", "Tesna River" -> "Little Tesna River".
func (n *namer) similar(k Kind, name string) (string, bool) {
	for range 20 {
		var s string
		switch k {
		case Person:
			_, last, _ := strings.Cut(name, " ")
			s = n.first[n.rng.IntN(len(n.first))] + " " + last
		case Company:
			base, _, _ := strings.Cut(name, " ")
			a := affixes[Company]
			s = base + " " + a[n.rng.IntN(len(a))]
		case River:
			s = []string{"Little ", "Upper ", "Old "}[n.rng.IntN(3)] + name
		case Country:
			s = []string{"North ", "South ", "New "}[n.rng.IntN(3)] + name
		default:
			s = []string{"Port ", "New ", "Old ", "East "}[n.rng.IntN(4)] + name
		}
		if n.claim(s) {
			return s, true
		}
	}
	return "", false
}
