package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMcNemarExact(t *testing.T) {
	// 2·P(X <= 2), X ~ Bin(12, 1/2) = 2·(1 + 12 + 66)/4096.
	assert.InDelta(t, 158.0/4096, mcNemarExact(10, 2), 1e-12)
	assert.InDelta(t, 158.0/4096, mcNemarExact(2, 10), 1e-12, "two-sided: symmetric")
	assert.Equal(t, 1.0, mcNemarExact(0, 0))
	assert.Equal(t, 1.0, mcNemarExact(5, 5), "capped at 1")
	assert.Less(t, mcNemarExact(60, 20), 1e-5)
}

// synthetic builds seeds x questions scores where question q is right when
// right(seed, q).
func synthetic(seeds, questions int, right func(s, q int) bool) []questionScores {
	out := make([]questionScores, seeds)
	for s := range out {
		out[s] = questionScores{}
		for q := 0; q < questions; q++ {
			v := 0.0
			if right(s, q) {
				v = 1
			}
			out[s][fmt.Sprintf("q%03d", q)] = v
		}
	}
	return out
}

func TestPairedComparison(t *testing.T) {
	base := synthetic(3, 200, func(s, q int) bool { return q%2 == 0 })
	better := synthetic(3, 200, func(s, q int) bool { return q%2 == 0 || q%5 == 1 }) // +20 questions of 200
	same := synthetic(2, 200, func(s, q int) bool { return q%2 == 0 })
	// A run that missed a question: the comparison uses the questions all have.
	delete(same[1], "q199")
	res := pairedComparison([]string{"base", "better", "same", "absent"}, "base",
		map[string][]questionScores{"base": base, "better": better, "same": same}, 1000, 7)
	require.Len(t, res, 2)

	b := res[0]
	assert.Equal(t, "better", b.Arm)
	assert.Equal(t, [2]int{3, 3}, b.Seeds)
	assert.Equal(t, 200, b.Questions)
	assert.InDelta(t, 0.1, b.Diff, 1e-12)
	assert.Greater(t, b.Lo, 0.0, "the interval excludes no difference")
	assert.Less(t, b.Lo, 0.1)
	assert.Greater(t, b.Hi, 0.1)
	assert.Equal(t, 60, b.Wins, "20 questions x 3 seed pairs")
	assert.Zero(t, b.Losses)
	assert.Less(t, b.P, 1e-10)

	s := res[1]
	assert.Equal(t, 199, s.Questions)
	assert.Zero(t, s.Diff)
	assert.Zero(t, s.Lo)
	assert.Zero(t, s.Hi)
	assert.Equal(t, 1.0, s.P)

	again := pairedComparison([]string{"base", "better"}, "base", map[string][]questionScores{"base": base, "better": better}, 1000, 7)
	assert.Equal(t, res[0], again[0], "the bootstrap is seeded")

	var md strings.Builder
	require.NoError(t, writePaired(&md, res))
	assert.Contains(t, md.String(), "| better | 3 vs 3 | 200 | +0.100 |")
}
