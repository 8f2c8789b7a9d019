package dist

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"regexp"

	"github.com/goarpo/arpo/rl"
)

// FormatVersion is the version of WorkItem and Result; a message of another
// version is rejected, never guessed at.
const FormatVersion = 1

// MaxMessage bounds the size of a message this package decodes (and the
// payload size of the embedded server): a group of 16 trajectories of 4096
// tokens is about 6 MiB of JSON.
const MaxMessage = 8 << 20

// Bounds on what a work item may ask for, so that a hostile item cannot make
// a worker allocate without limit.
const (
	maxTrajectories = 4096    // M
	maxTokenBudget  = 1 << 17 // tokens per trajectory
)

// WorkItem is one prompt group to roll out: the prompt, its index in the
// step (which seeds its generators), the policy version, and the whole
// rollout configuration. RolloutConfig travels as the struct, so a field
// added to it is carried without a change here; a worker built before the
// field existed rejects the item (unknown fields are an error) instead of
// rolling out with a different configuration.
type WorkItem struct {
	Version int    `json:"v"`
	Run     string `json:"run"`
	// ID is a digest of everything else (itemID): a result answers the
	// item it names, so one made for an earlier version of the item (other
	// policy, other configuration) is never taken for it, while a trainer
	// restarted from the same state recognises its results.
	ID string `json:"id"`
	// Step is the rollout step as rl.Trainer numbers it (RL step << 4 |
	// refill round): it seeds the generators.
	Step   int `json:"step"`
	Index  int `json:"index"`  // the prompt's index in the step
	Policy int `json:"policy"` // policy version: RL steps applied to the weights
	// Stale lets the worker use a newer policy when Policy is gone from the
	// object store (asynchronous mode); in synchronous mode the exact
	// version is required.
	Stale   bool             `json:"stale_ok,omitempty"`
	Prompt  []int32          `json:"prompt"`
	Rollout rl.RolloutConfig `json:"rollout"`
}

// Result is a rolled-out group, or the reason it could not be.
type Result struct {
	Version int    `json:"v"`
	Run     string `json:"run"`
	Step    int    `json:"step"`
	Index   int    `json:"index"`
	Item    string `json:"item"`   // the WorkItem's ID
	Policy  int    `json:"policy"` // the version the group was generated with
	Worker  string `json:"worker"`
	// Error is set when the worker could not roll the item out (e.g. its
	// configuration is invalid); the trainer fails the step with it.
	Error        string          `json:"error,omitempty"`
	Tree         *rl.Tree        `json:"tree,omitempty"`
	Trajectories []rl.Trajectory `json:"trajectories,omitempty"`
	// Texts holds each trajectory's Text, which JSON strings would not
	// carry intact (a byte-level token may split a UTF-8 character); the
	// trajectories' own Text is empty on the wire.
	Texts   [][]byte        `json:"texts,omitempty"`
	Stats   rl.RolloutStats `json:"stats"`
	Seconds float64         `json:"seconds"` // the worker's wall time for the group
}

var (
	runName    = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	itemIDForm = regexp.MustCompile(`^[0-9a-f]{16}$`)
)

// checkRun reports a run name that cannot be part of a subject or object name.
func checkRun(run string) error {
	if !runName.MatchString(run) {
		return fmt.Errorf("run name %q: want 1 to 64 of A-Z a-z 0-9 _ -", run)
	}
	return nil
}

// decodeStrict decodes one JSON value of at most MaxMessage bytes into v,
// refusing unknown fields and trailing data.
func decodeStrict(data []byte, v any) error {
	if len(data) > MaxMessage {
		return fmt.Errorf("message of %d bytes exceeds %d", len(data), MaxMessage)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after the message")
	}
	return nil
}

// Encode marshals a message; it fails for values JSON cannot hold (NaN).
func Encode(v any) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if len(data) > MaxMessage {
		return nil, fmt.Errorf("message of %d bytes exceeds %d", len(data), MaxMessage)
	}
	return data, nil
}

// DecodeWorkItem decodes and checks a work item (its prompt's tokens are
// checked against the model's vocabulary once the worker has the model).
func DecodeWorkItem(data []byte) (WorkItem, error) {
	var w WorkItem
	if err := decodeStrict(data, &w); err != nil {
		return w, fmt.Errorf("work item: %w", err)
	}
	if err := w.check(); err != nil {
		return w, fmt.Errorf("work item: %w", err)
	}
	return w, nil
}

func (w WorkItem) check() error {
	c := w.Rollout
	switch {
	case w.Version != FormatVersion:
		return fmt.Errorf("format version %d, want %d", w.Version, FormatVersion)
	case w.Step < 0 || w.Index < 0 || w.Policy < 0:
		return fmt.Errorf("negative step %d, index %d or policy %d", w.Step, w.Index, w.Policy)
	case len(w.Prompt) == 0:
		return fmt.Errorf("empty prompt")
	case !itemIDForm.MatchString(w.ID):
		return fmt.Errorf("item ID %q: want 16 hex digits", w.ID)
	case c.M > maxTrajectories:
		return fmt.Errorf("M = %d exceeds %d", c.M, maxTrajectories)
	case c.TokenBudget > maxTokenBudget:
		return fmt.Errorf("token budget %d exceeds %d", c.TokenBudget, maxTokenBudget)
	case len(w.Prompt) >= c.TokenBudget:
		return fmt.Errorf("prompt of %d tokens leaves no room in the token budget %d", len(w.Prompt), c.TokenBudget)
	}
	if err := checkRun(w.Run); err != nil {
		return err
	}
	return c.Validate()
}

// itemID is the digest of an item without its ID.
func itemID(w WorkItem) string {
	w.ID = ""
	data, err := json.Marshal(w)
	if err != nil {
		return ""
	}
	h := fnv.New64a()
	h.Write(data)
	return fmt.Sprintf("%016x", h.Sum64())
}

// checkTokens reports a token outside [0, vocab).
func checkTokens(toks []int32, vocab int) error {
	for _, t := range toks {
		if t < 0 || int(t) >= vocab {
			return fmt.Errorf("token %d outside the vocabulary of %d", t, vocab)
		}
	}
	return nil
}

// DecodeResult decodes a result and checks its header; checkGroup checks
// its tree against the work item it answers.
func DecodeResult(data []byte) (Result, error) {
	var r Result
	if err := decodeStrict(data, &r); err != nil {
		return r, fmt.Errorf("result: %w", err)
	}
	switch {
	case r.Version != FormatVersion:
		return r, fmt.Errorf("result: format version %d, want %d", r.Version, FormatVersion)
	case r.Step < 0 || r.Index < 0 || r.Policy < 0:
		return r, fmt.Errorf("result: negative step %d, index %d or policy %d", r.Step, r.Index, r.Policy)
	}
	if err := checkRun(r.Run); err != nil {
		return r, fmt.Errorf("result: %w", err)
	}
	return r, nil
}

// checkGroup checks a result's tree and trajectories against the item it
// answers.
func checkGroup(r Result, item WorkItem, vocab int) error {
	t, c := r.Tree, item.Rollout
	if t == nil || len(t.Nodes) == 0 {
		return fmt.Errorf("no tree")
	}
	if len(r.Trajectories) == 0 || len(r.Trajectories) > c.M || len(t.Leaves) != len(r.Trajectories) {
		return fmt.Errorf("%d trajectories and %d leaves, want 1 to M=%d of each", len(r.Trajectories), len(t.Leaves), c.M)
	}
	depth := make([]int, len(t.Nodes)) // tokens from the root to each node's end
	for i, n := range t.Nodes {
		if (i == 0) != (n.Parent == -1) || n.Parent >= i || n.Parent < -1 {
			return fmt.Errorf("node %d has parent %d", i, n.Parent)
		}
		k := len(n.Tokens)
		if len(n.LossMask) != k || len(n.LogProbs) != k || len(n.Entropies) != k {
			return fmt.Errorf("node %d: %d tokens, %d mask, %d log-probs, %d entropies", i, k, len(n.LossMask), len(n.LogProbs), len(n.Entropies))
		}
		if err := checkTokens(n.Tokens, vocab); err != nil {
			return fmt.Errorf("node %d: %w", i, err)
		}
		for j := range k {
			m, lp, h := n.LossMask[j], n.LogProbs[j], n.Entropies[j]
			if (m != 0 && m != 1) || lp > 0 || math.IsNaN(float64(lp)) || math.IsInf(float64(lp), 0) || !(h >= 0) || math.IsInf(float64(h), 0) {
				return fmt.Errorf("node %d token %d: mask %v, log-prob %v, entropy %v", i, j, m, lp, h)
			}
		}
		if n.ToolCalls < 0 {
			return fmt.Errorf("node %d: %d tool calls", i, n.ToolCalls)
		}
		depth[i] = k
		if i > 0 {
			depth[i] += depth[n.Parent]
		}
		if depth[i] > c.TokenBudget {
			return fmt.Errorf("node %d ends at %d tokens, over the budget %d", i, depth[i], c.TokenBudget)
		}
	}
	if !equalTokens(t.Nodes[0].Tokens, item.Prompt) {
		return fmt.Errorf("the root is not the item's prompt")
	}
	if len(r.Texts) != len(r.Trajectories) {
		return fmt.Errorf("%d texts for %d trajectories", len(r.Texts), len(r.Trajectories))
	}
	for i, tr := range r.Trajectories {
		if tr.Text != "" {
			return fmt.Errorf("trajectory %d carries its text outside Texts", i)
		}
		if tr.Prompt != 0 || tr.Leaf != t.Leaves[i] || tr.Leaf <= 0 || tr.Leaf >= len(t.Nodes) {
			return fmt.Errorf("trajectory %d: prompt %d, leaf %d (tree leaf %d of %d nodes)", i, tr.Prompt, tr.Leaf, t.Leaves[i], len(t.Nodes))
		}
	}
	return nil
}

func equalTokens(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
