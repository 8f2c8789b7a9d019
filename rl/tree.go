package rl

import "fmt"

// Tree is the rollout tree of one prompt. Node 0 is the root, whose segment
// is the prompt; every other node continues its parent's text. ARPO branches
// right after a tool result, so a node typically ends with a tool result and
// its children start with the policy's next tokens. A trajectory is the path
// from the root to one of Leaves.
type Tree struct {
	Nodes []Node `json:"nodes"`
	// Leaves lists each trajectory's last node, in trajectory order.
	Leaves []int `json:"leaves"`
}

// Node is one token segment of a rollout tree.
type Node struct {
	// Parent is the index of the parent node; -1 for the root.
	Parent int `json:"parent"`
	// Tokens of the segment.
	Tokens []int32 `json:"tokens"`
	// LossMask is 1 for tokens the policy wrote and 0 for prompt and tool
	// result tokens (Tokens).
	LossMask []float32 `json:"loss_mask"`
	// LogProbs and Entropies are the rollout policy's values for the policy's
	// tokens, 0 elsewhere (Tokens). Entropies are in nats, not normalised.
	LogProbs  []float32 `json:"log_probs"`
	Entropies []float32 `json:"entropies"`
	// ToolCalls counts the tool calls executed inside this segment.
	ToolCalls int `json:"tool_calls"`
	// Branch is set on a node that ends with a tool result whose entropy
	// look-ahead closed (ARPO): the rise, the probability and the decision.
	// Branches taken there are this node's children beyond the first.
	Branch *BranchPoint `json:"branch,omitempty"`
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
