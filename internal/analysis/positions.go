package analysis

import (
	"strings"

	"github.com/goarpo/arpo/rl"
)

// Trajectory is the response of one rollout trajectory (the prompt left
// out), token by token.
type Trajectory struct {
	// Mask is 1 for tokens the policy wrote and 0 for tool-result tokens (T).
	Mask []float32
	// Entropy is each policy token's normalised entropy, entropy / ln V in
	// [0, 1]; values where Mask is 0 are ignored (T).
	Entropy []float64
	// Tools names the tool of each maximal run of result tokens, in order:
	// the tag of the call that produced it, or Invalid for a malformed call.
	Tools []string
}

// Invalid is the tool name of a result that answers no well-formed call.
const Invalid = "invalid"

// FromTree extracts the trajectory that ends at leaf. tok decodes the
// policy's tokens to find which tool each result answers; tools are the
// protocol's tool tags (e.g. "search", "python"); norm is 1 / ln V.
func FromTree(t *rl.Tree, leaf int, tok rl.Tokenizer, tools []string, norm float64) Trajectory {
	var tr Trajectory
	var ids []int32
	for _, i := range t.Path(leaf)[1:] {
		nd := &t.Nodes[i]
		ids = append(ids, nd.Tokens...)
		tr.Mask = append(tr.Mask, nd.LossMask...)
		for _, e := range nd.Entropies {
			tr.Entropy = append(tr.Entropy, float64(e)*norm)
		}
	}
	segStart := 0 // first policy token after the previous result
	for s := 0; s < len(tr.Mask); s++ {
		if tr.Mask[s] > 0 {
			continue
		}
		var text strings.Builder
		for _, id := range ids[segStart:s] {
			text.WriteString(tok.TokenText(id))
		}
		tr.Tools = append(tr.Tools, callTool(text.String(), tools))
		for s < len(tr.Mask) && tr.Mask[s] == 0 {
			s++
		}
		segStart = s
	}
	return tr
}

// callTool returns the tool whose closing tag comes last in the policy's
// segment before a result: the call the result answers.
func callTool(seg string, tools []string) string {
	best, at := Invalid, -1
	for _, name := range tools {
		if i := strings.LastIndex(seg, "</"+name+">"); i > at {
			best, at = name, i
		}
	}
	return best
}

// Bucket is a position class of a policy token relative to tool results.
type Bucket string

// The buckets, in reading order.
const (
	// Initial: policy tokens before the first tool call's window.
	Initial Bucket = "initial"
	// Before: the K policy tokens just before a tool result, i.e. the end
	// of the call that produced it.
	Before Bucket = "before"
	// After: the first K policy tokens after a tool result.
	After Bucket = "after"
	// Later: the other policy tokens after a result.
	Later Bucket = "later"
)

// Buckets lists the buckets in reading order.
var Buckets = []Bucket{Initial, Before, After, Later}

// Position is where one policy token sits.
type Position struct {
	Bucket Bucket
	// Tool is the tool of the result the position is measured from: the
	// next result for Before, the previous one for After and Later, "" for
	// Initial.
	Tool string
	// Offset is -d for the d-th token before a result (-1 is the last),
	// d-1 for the d-th token after one (0 is the first), and the index
	// among the response's policy tokens for Initial.
	Offset int
}

// Positions classifies every token of tr with window k: ok[i] is false for
// result tokens. A token within k of both the previous result's end and the
// next result's start counts as After, because the rise after a result is
// what the analysis looks for and a short turn is mostly reaction to it.
func Positions(tr Trajectory, k int) (pos []Position, ok []bool) {
	n := len(tr.Mask)
	pos, ok = make([]Position, n), make([]bool, n)
	// Policy-token distance to the previous result's end and the tool of
	// that result; -1 before any result.
	prev, prevTool := -1, ""
	run := -1 // index into tr.Tools of the last result run seen
	for i := 0; i < n; i++ {
		if tr.Mask[i] == 0 {
			if i == 0 || tr.Mask[i-1] > 0 {
				run++
			}
			prev, prevTool = 0, toolAt(tr.Tools, run)
			continue
		}
		ok[i] = true
		if prev >= 0 {
			pos[i] = Position{Bucket: Later, Tool: prevTool, Offset: prev}
			if prev < k {
				pos[i].Bucket = After
			}
			prev++
		} else {
			pos[i] = Position{Bucket: Initial, Offset: i}
		}
	}
	// Walk back for the Before window of every result run.
	next, nextTool := -1, ""
	run++
	for i := n - 1; i >= 0; i-- {
		if tr.Mask[i] == 0 {
			if i == n-1 || tr.Mask[i+1] > 0 {
				run--
			}
			next, nextTool = 1, toolAt(tr.Tools, run)
			continue
		}
		if next > 0 && next <= k && pos[i].Bucket != After {
			pos[i] = Position{Bucket: Before, Tool: nextTool, Offset: -next}
		}
		if next > 0 {
			next++
		}
	}
	return pos, ok
}

func toolAt(tools []string, i int) string {
	if i >= 0 && i < len(tools) {
		return tools[i]
	}
	return Invalid
}
