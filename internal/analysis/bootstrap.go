package analysis

import (
	"math"
	"math/rand/v2"
	"slices"
)

// Stat is a mean with its bootstrap 95% confidence interval.
type Stat struct {
	Mean   float64 `json:"mean"`
	Lo     float64 `json:"lo"` // 2.5th percentile of the bootstrap means
	Hi     float64 `json:"hi"` // 97.5th percentile
	Tokens int     `json:"tokens"`
	Units  int     `json:"units"` // trajectories contributing tokens
}

// Bootstrap estimates the pooled mean sum(sums) / sum(counts) of units
// (here trajectories: sums and counts are (U), a unit's summed values and
// how many it has) and its percentile 95% interval from b resamples of the
// units with replacement drawn from rng. Resampling units rather than
// values keeps the interval honest when a unit's values are correlated.
// Units with a zero count are ignored; with none, Stat is zero.
func Bootstrap(sums, counts []float64, b int, rng *rand.Rand) Stat {
	if len(sums) != len(counts) {
		panic("analysis: Bootstrap needs as many sums as counts")
	}
	var s, c []float64
	for i := range sums {
		if counts[i] > 0 {
			s, c = append(s, sums[i]), append(c, counts[i])
		}
	}
	if len(s) == 0 {
		return Stat{}
	}
	st := Stat{Mean: total(s) / total(c), Tokens: int(total(c)), Units: len(s)}
	st.Lo, st.Hi = st.Mean, st.Mean
	if b < 1 {
		return st
	}
	means := make([]float64, b)
	for r := range means {
		var rs, rc float64
		for range s {
			j := rng.IntN(len(s))
			rs += s[j]
			rc += c[j]
		}
		means[r] = rs / rc
	}
	slices.Sort(means)
	st.Lo, st.Hi = quantile(means, 0.025), quantile(means, 0.975)
	return st
}

func total(x []float64) float64 {
	t := 0.0
	for _, v := range x {
		t += v
	}
	return t
}

// quantile interpolates linearly between the order statistics of sorted.
func quantile(sorted []float64, q float64) float64 {
	pos := q * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(sorted)-1)
	f := pos - float64(lo)
	return sorted[lo]*(1-f) + sorted[hi]*f
}
