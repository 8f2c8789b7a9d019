package rl

import (
	"fmt"
	"math"
)

// stdEps keeps a group with identical rewards from dividing by zero, as in
// GRPO: Â = (R - mean) / (std + 1e-6).
const stdEps = 1e-6

// GroupAdvantages returns GRPO advantages. rewards is (P*G): P groups of G
// trajectories of the same prompt, group after group. Each trajectory's
// advantage is its reward minus its group's mean, divided by the group's
// standard deviation (the unbiased estimate, as torch.std in the reference)
// plus 1e-6 when normStd is true. A group of one has no baseline to compare
// with and gets advantage 0 (the reference gives it its raw reward).
func GroupAdvantages(rewards []float32, groupSize int, normStd bool) []float32 {
	if groupSize <= 0 || len(rewards)%groupSize != 0 {
		panic(fmt.Sprintf("rl: %d rewards do not form groups of %d", len(rewards), groupSize))
	}
	adv := make([]float32, len(rewards))
	for g := 0; g < len(rewards); g += groupSize {
		if groupSize == 1 {
			continue
		}
		mean, std := meanStd(rewards[g : g+groupSize])
		for i := g; i < g+groupSize; i++ {
			a := float64(rewards[i]) - mean
			if normStd {
				a /= std + stdEps
			}
			adv[i] = float32(a)
		}
	}
	return adv
}

// GroupAdvantagesVar is GroupAdvantages for groups of different sizes:
// sizes[j] trajectories of group j, in order; sum(sizes) == len(rewards).
// ARPO's fill-up keeps every group at exactly M, but DAPO's refill and the
// tree engine under a token budget may not.
func GroupAdvantagesVar(rewards []float32, sizes []int, normStd bool) []float32 {
	adv := make([]float32, len(rewards))
	at := 0
	for _, n := range sizes {
		if n < 0 || at+n > len(rewards) {
			panic("rl: group sizes do not tile the rewards")
		}
		copy(adv[at:at+n], GroupAdvantages(rewards[at:at+n], max(n, 1), normStd)[:n])
		at += n
	}
	if at != len(rewards) {
		panic("rl: group sizes do not tile the rewards")
	}
	return adv
}

// BatchAdvantages returns REINFORCE++ advantages: rewards (N) whitened over
// the whole batch, (R - mean) / (std + 1e-6), with no per-prompt baseline.
func BatchAdvantages(rewards []float32) []float32 {
	mean, std := meanStd(rewards)
	adv := make([]float32, len(rewards))
	for i, r := range rewards {
		adv[i] = float32((float64(r) - mean) / (std + stdEps))
	}
	return adv
}

// InformativeGroups returns the indices of the groups whose rewards are not
// all equal: DAPO's dynamic sampling keeps only those, since a group of
// identical rewards has zero advantage everywhere and only dilutes the
// gradient. rewards is (P*G).
func InformativeGroups(rewards []float32, groupSize int) []int {
	if groupSize <= 0 || len(rewards)%groupSize != 0 {
		panic(fmt.Sprintf("rl: %d rewards do not form groups of %d", len(rewards), groupSize))
	}
	var keep []int
	for g := 0; g*groupSize < len(rewards); g++ {
		grp := rewards[g*groupSize : (g+1)*groupSize]
		for _, r := range grp[1:] {
			if r != grp[0] {
				keep = append(keep, g)
				break
			}
		}
	}
	return keep
}

// meanStd returns the mean and the unbiased (n-1) standard deviation, in
// float64; the deviation of a single value is 0.
func meanStd(x []float32) (mean, std float64) {
	if len(x) == 0 {
		return 0, 0
	}
	for _, v := range x {
		mean += float64(v)
	}
	mean /= float64(len(x))
	for _, v := range x {
		d := float64(v) - mean
		std += d * d
	}
	if len(x) == 1 {
		return mean, 0
	}
	return mean, math.Sqrt(std / float64(len(x)-1))
}
