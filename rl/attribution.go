package rl

import "fmt"

// Attribution: how a rollout tree's rewards become per-token advantages in
// the loss (../shared/docs/arpo.md, "Advantages"). Soft attribution (the
// reference's and our default) gives every trajectory its whole path with
// its own advantage; hard attribution (the paper's) gives each node's tokens
// one copy with the mean advantage of the trajectories below it.

// Sequence is one training sequence: a trajectory's tokens with, per token,
// the loss mask, the rollout log-probs and the advantage.
type Sequence struct {
	Tokens   []int32
	LossMask []float32
	OldLogP  []float32
	Adv      []float32
}

// Sequences flattens the tree into one training sequence per trajectory
// (len(Leaves)), with per-trajectory advantages adv (len(Leaves)).
//
// Soft attribution (hard = false): every trajectory carries all of its
// tokens, shared prefixes included, each with the trajectory's own
// advantage, so a shared token enters the loss once per trajectory through it.
//
// Hard attribution (hard = true): each node's policy tokens enter the loss
// exactly once, in the first trajectory that passes through the node, with
// the mean advantage of all the trajectories below the node; the copies of
// that node in the other trajectories are masked out. A node below the last
// branch point has one trajectory under it, so it keeps that trajectory's
// own advantage.
func (t *Tree) Sequences(adv []float32, hard bool) []Sequence {
	if len(adv) != len(t.Leaves) {
		panic(fmt.Sprintf("rl: %d advantages for %d trajectories", len(adv), len(t.Leaves)))
	}
	var nodeAdv []float32
	owner := make([]int, len(t.Nodes)) // first trajectory through each node
	for i := range owner {
		owner[i] = -1
	}
	if hard {
		nodeAdv = t.NodeAdvantages(adv)
	}
	seqs := make([]Sequence, len(t.Leaves))
	for j, leaf := range t.Leaves {
		var s Sequence
		for _, i := range t.Path(leaf) {
			nd := &t.Nodes[i]
			a := adv[j]
			keep := true
			if hard {
				a = nodeAdv[i]
				if owner[i] < 0 {
					owner[i] = j
				}
				keep = owner[i] == j
			}
			s.Tokens = append(s.Tokens, nd.Tokens...)
			s.OldLogP = append(s.OldLogP, nd.LogProbs...)
			for k := range nd.Tokens {
				m := nd.LossMask[k]
				if !keep {
					m = 0
				}
				s.LossMask = append(s.LossMask, m)
				s.Adv = append(s.Adv, a)
			}
		}
		seqs[j] = s
	}
	return seqs
}

// NodeAdvantages returns, for every node (len(Nodes)), the mean advantage of
// the trajectories whose path passes through it; 0 for a node no trajectory
// reaches. adv is (len(Leaves)).
func (t *Tree) NodeAdvantages(adv []float32) []float32 {
	sum := make([]float64, len(t.Nodes))
	cnt := make([]int, len(t.Nodes))
	for j, leaf := range t.Leaves {
		for n := leaf; n >= 0; n = t.Nodes[n].Parent {
			sum[n] += float64(adv[j])
			cnt[n]++
		}
	}
	out := make([]float32, len(t.Nodes))
	for i := range out {
		if cnt[i] > 0 {
			out[i] = float32(sum[i] / float64(cnt[i]))
		}
	}
	return out
}
