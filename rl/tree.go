package rl

import "fmt"

// Tree is the rollout tree of one prompt. Node 0 is the root, whose segment
// is the prompt; every other node continues its parent's text. ARPO branches
// right after a tool result, so a node typically ends with a tool result and
// its children start with the policy's next tokens. A trajectory is the path
// from the root to one of Leaves.
type Tree struct {
	Nodes []Node
	// Leaves lists each trajectory's last node, in trajectory order.
	Leaves []int
}

// Node is one token segment of a rollout tree.
type Node struct {
	// Parent is the index of the parent node; -1 for the root.
	Parent int
	// Tokens of the segment.
	Tokens []int32
	// LossMask is 1 for tokens the policy wrote and 0 for prompt and tool
	// result tokens (Tokens).
	LossMask []float32
	// LogProbs and Entropies are the rollout policy's values for the policy's
	// tokens, 0 elsewhere (Tokens).
	LogProbs, Entropies []float32
	// ToolCalls counts the tool calls executed inside this segment.
	ToolCalls int
}

// AddNode appends a node and returns its index.
func (t *Tree) AddNode(n Node) int {
	if n.Parent >= len(t.Nodes) || (n.Parent < 0 && len(t.Nodes) > 0) {
		panic(fmt.Sprintf("rl: node parent %d out of range (%d nodes)", n.Parent, len(t.Nodes)))
	}
	t.Nodes = append(t.Nodes, n)
	return len(t.Nodes) - 1
}

// Path returns the node indices from the root to node, root first.
func (t *Tree) Path(node int) []int {
	var p []int
	for n := node; n >= 0; n = t.Nodes[n].Parent {
		p = append(p, n)
	}
	for i, j := 0, len(p)-1; i < j; i, j = i+1, j-1 {
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// ToolCallsExecuted counts the tool calls the tree actually ran: each node's
// calls once, however many trajectories share it.
func (t *Tree) ToolCallsExecuted() int {
	n := 0
	for _, nd := range t.Nodes {
		n += nd.ToolCalls
	}
	return n
}

// ToolCallsFlat counts the tool calls that trajectory-level rollout of the
// same trajectories would have run: every trajectory pays for its whole path.
func (t *Tree) ToolCallsFlat() int {
	n := 0
	for _, leaf := range t.Leaves {
		for _, i := range t.Path(leaf) {
			n += t.Nodes[i].ToolCalls
		}
	}
	return n
}

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
