package main

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strings"

	"github.com/goarpo/arpo/internal/runlog"
)

// Paired comparison of arms on the same test questions. Every cell of a
// grid evaluates the same questions, so two arms are compared question by
// question: the difference in pass@1 with a bootstrap interval that resamples
// the questions (the same draw for both arms, which keeps the pairing) and
// each arm's seeds, and McNemar's test on the questions where one arm is
// right and the other wrong.

// questionScores are one run's final-evaluation scores by question ID
// (the first sample of each question: pass@1).
type questionScores map[string]float64

// readScores reads the per-question scores of a run's final evaluation
// (samples/eval-<tag>.jsonl, tag from summary.json).
func readScores(runDir string) (questionScores, error) {
	var sum struct {
		After struct {
			Tag string `json:"tag"`
		} `json:"after"`
	}
	if err := runlog.ReadJSON(filepath.Join(runDir, "summary.json"), &sum); err != nil {
		return nil, err
	}
	if sum.After.Tag == "" {
		return nil, fmt.Errorf("%s: summary.json names no final evaluation", runDir)
	}
	type pred struct {
		ID     string  `json:"id"`
		Sample int     `json:"sample"`
		Score  float64 `json:"score"`
	}
	preds, err := runlog.ReadJSONL[pred](filepath.Join(runDir, "samples", "eval-"+sum.After.Tag+".jsonl"))
	if err != nil {
		return nil, err
	}
	out := questionScores{}
	for _, p := range preds {
		if p.Sample == 0 && p.ID != "" {
			out[p.ID] = p.Score
		}
	}
	return out, nil
}

// PairedResult compares one arm with the baseline arm.
type PairedResult struct {
	Arm, Baseline string
	Seeds         [2]int // seeds of the arm and of the baseline
	Questions     int    // questions every run of both arms evaluated
	Diff          float64
	Lo, Hi        float64 // 95% bootstrap interval of Diff
	// McNemar pools the seed pairs (the i-th seed of each arm): Wins are
	// questions the arm got right and the baseline wrong, Losses the
	// reverse; P is the exact two-sided binomial p-value.
	Wins, Losses int
	P            float64
}

// pairedComparison compares every arm's runs (scores by arm, one map per
// seed) with the baseline's. boot resamples, rng seeded for reproducibility.
func pairedComparison(arms []string, base string, scores map[string][]questionScores, boot int, seed uint64) []PairedResult {
	var out []PairedResult
	bs := scores[base]
	if len(bs) == 0 {
		return nil
	}
	for _, arm := range arms {
		as := scores[arm]
		if arm == base || len(as) == 0 {
			continue
		}
		qs := commonQuestions(append(append([]questionScores{}, as...), bs...))
		if len(qs) == 0 {
			continue
		}
		r := PairedResult{Arm: arm, Baseline: base, Seeds: [2]int{len(as), len(bs)}, Questions: len(qs)}
		a, b := matrix(as, qs), matrix(bs, qs)
		r.Diff = meanOf(a) - meanOf(b)
		rng := rand.New(rand.NewPCG(seed, 0x9a1d))
		diffs := make([]float64, boot)
		qi := make([]int, len(qs))
		for i := range diffs {
			for j := range qi {
				qi[j] = rng.IntN(len(qs))
			}
			diffs[i] = resampledMean(a, qi, rng) - resampledMean(b, qi, rng)
		}
		sort.Float64s(diffs)
		if boot > 0 {
			r.Lo, r.Hi = diffs[int(0.025*float64(boot))], diffs[min(boot-1, int(0.975*float64(boot)))]
		}
		for s := 0; s < min(len(a), len(b)); s++ {
			for q := range qs {
				ra, rb := a[s][q] >= 1, b[s][q] >= 1
				switch {
				case ra && !rb:
					r.Wins++
				case rb && !ra:
					r.Losses++
				}
			}
		}
		r.P = mcNemarExact(r.Wins, r.Losses)
		out = append(out, r)
	}
	return out
}

// commonQuestions are the IDs every run evaluated, sorted.
func commonQuestions(runs []questionScores) []string {
	var qs []string
	for id := range runs[0] {
		in := true
		for _, r := range runs[1:] {
			if _, ok := r[id]; !ok {
				in = false
				break
			}
		}
		if in {
			qs = append(qs, id)
		}
	}
	sort.Strings(qs)
	return qs
}

// matrix lays runs' scores out as [seed][question].
func matrix(runs []questionScores, qs []string) [][]float64 {
	m := make([][]float64, len(runs))
	for s, r := range runs {
		m[s] = make([]float64, len(qs))
		for i, q := range qs {
			m[s][i] = r[q]
		}
	}
	return m
}

func meanOf(m [][]float64) float64 {
	var s float64
	var n int
	for _, row := range m {
		for _, v := range row {
			s += v
			n++
		}
	}
	return s / float64(n)
}

// resampledMean is the mean over a bootstrap draw of seeds (its own, with
// replacement) and the given draw of questions.
func resampledMean(m [][]float64, qi []int, rng *rand.Rand) float64 {
	var s float64
	for range m {
		row := m[rng.IntN(len(m))]
		for _, q := range qi {
			s += row[q]
		}
	}
	return s / float64(len(m)*len(qi))
}

// mcNemarExact is the exact two-sided McNemar p-value: twice the binomial
// tail of the smaller discordant count under Bin(b+c, 1/2), capped at 1.
func mcNemarExact(b, c int) float64 {
	n := b + c
	if n == 0 {
		return 1
	}
	k := min(b, c)
	var tail float64
	for i := 0; i <= k; i++ {
		lg, _ := math.Lgamma(float64(n + 1))
		li, _ := math.Lgamma(float64(i + 1))
		lr, _ := math.Lgamma(float64(n - i + 1))
		tail += math.Exp(lg - li - lr - float64(n)*math.Ln2)
	}
	return min(1, 2*tail)
}

// writePaired appends the paired table to a results page.
func writePaired(w io.Writer, res []PairedResult) error {
	if len(res) == 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nPaired against %s on the same test questions: difference in pass@1 with a 95%% bootstrap interval "+
		"(questions resampled together, each arm's seeds resampled), and McNemar's exact test pooled over seed pairs "+
		"(right here and wrong there, and the reverse).\n\n", res[0].Baseline)
	b.WriteString("| arm | seeds | questions | Δ pass@1 | 95% CI | wins | losses | McNemar p |\n|---|---|---|---|---|---|---|---|\n")
	for _, r := range res {
		fmt.Fprintf(&b, "| %s | %d vs %d | %d | %+.3f | [%+.3f, %+.3f] | %d | %d | %.3g |\n",
			r.Arm, r.Seeds[0], r.Seeds[1], r.Questions, r.Diff, r.Lo, r.Hi, r.Wins, r.Losses, r.P)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
