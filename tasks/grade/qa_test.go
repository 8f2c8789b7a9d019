package grade

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestNormalize(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"The Eiffel Tower!", "eiffel tower"},
		{"  a  cat,   an apple ", "cat apple"},
		{"Theory", "theory"}, // an article only as a whole word
		{"1.95 m", "195 m"},  // SQuAD strips the decimal point too
		{"", ""},
		{"Ünïcode—dash", "ünïcodedash"},
	} {
		assert.Equal(t, c.want, Normalize(c.in), c.in)
	}
}

func TestExactMatchAndF1(t *testing.T) {
	for _, c := range []struct {
		pred  string
		golds []string
		em    float64
		f1    float64
	}{
		{"Frank Lowy", []string{"Frank Lowy"}, 1, 1},
		{"frank lowy.", []string{"Frank Lowy"}, 1, 1},
		{"Lowy", []string{"Frank Lowy"}, 0, 2.0 / 3},
		{"New York", []string{"NYC", "New York City"}, 0, 0.8},
		{"NYC", []string{"New York City", "NYC"}, 1, 1}, // best over golds
		{"no", []string{"yes"}, 0, 0},
		{"yes it is", []string{"yes"}, 0, 0}, // yes/no only by exact match
		{"", []string{"x"}, 0, 0},
		{"the the the", []string{"a"}, 1, 1}, // both normalise to ""
		{"cat cat", []string{"cat"}, 0, 2.0 / 3},
		{"anything", nil, 0, 0},
	} {
		assert.Equal(t, c.em, ExactMatch(c.pred, c.golds...), "EM %q %q", c.pred, c.golds)
		assert.InDelta(t, c.f1, F1(c.pred, c.golds...), 1e-12, "F1 %q %q", c.pred, c.golds)
	}
}

// TestF1Properties checks, on random token strings: F1 lies in [0, 1], is
// symmetric in its two arguments, EM implies F1 = 1, F1 = 1 implies the same
// token multiset, and adding golds never lowers the score.
func TestF1Properties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	vocab := []string{"a", "the", "cat", "dog", "Paris", "yes", "no", "1,000", "x.", "Cat"}
	phrase := func() string {
		n := rng.IntN(5)
		w := make([]string, n)
		for i := range w {
			w[i] = vocab[rng.IntN(len(vocab))]
		}
		return strings.Join(w, " ")
	}
	for range 5000 {
		p, g, h := phrase(), phrase(), phrase()
		f := F1(p, g)
		assert.GreaterOrEqual(t, f, 0.0)
		assert.LessOrEqual(t, f, 1.0)
		assert.InDelta(t, f, F1(g, p), 1e-12, "symmetry %q %q", p, g)
		if ExactMatch(p, g) == 1 {
			assert.Equal(t, 1.0, f, "EM => F1=1: %q %q", p, g)
		}
		if f == 1 {
			assert.ElementsMatch(t, strings.Fields(Normalize(p)), strings.Fields(Normalize(g)))
		}
		assert.GreaterOrEqual(t, F1(p, g, h), f)
		assert.GreaterOrEqual(t, ExactMatch(p, g, h), ExactMatch(p, g))
	}
}
