package dashboard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"

	"github.com/goarpo/arpo/internal/atomicfile"
	"github.com/goarpo/arpo/rl"
)

// TreeRecord is one prompt's rollout tree in a run's
// samples/trees-stepNNNN.jsonl (one line per saved prompt): every node's
// tokens as text, the policy's entropies, the branch points and, per leaf
// (trajectory), its reward and advantage. The tree explorer draws it.
type TreeRecord struct {
	Step     int    `json:"step"`
	Prompt   int    `json:"prompt"` // index among the step's prompts
	ID       string `json:"id,omitempty"`
	Family   string `json:"family,omitempty"`
	Question string `json:"question"`
	Gold     string `json:"gold"`
	// Vocab is the vocabulary size V: entropies are divided by ln V, so 1
	// is a uniform distribution.
	Vocab  int        `json:"vocab"`
	Nodes  []TreeNode `json:"nodes"`
	Leaves []TreeLeaf `json:"leaves"`
}

// TreeNode is one segment of the tree; node 0 is the prompt.
type TreeNode struct {
	Parent int `json:"parent"` // -1 for the root
	// Spans are the node's tokens in runs of one kind: "prompt", "policy"
	// (the model's tokens) or "result" (tool output inserted).
	Spans     []TreeSpan `json:"spans"`
	ToolCalls int        `json:"tool_calls"` // tool calls executed inside this node
	// Branch is set on a node that ends with a tool result whose entropy
	// look-ahead closed: ARPO's branching decision there.
	Branch *TreeBranch `json:"branch,omitempty"`
}

// TreeSpan is a run of tokens of one kind.
type TreeSpan struct {
	Kind   string   `json:"kind"`
	Tokens []string `json:"tokens"`
	// Entropy is each policy token's entropy / ln V, rounded to 1e-4; empty
	// for prompt and result spans.
	Entropy []float64 `json:"entropy,omitempty"`
}

// TreeBranch is ARPO's decision at a branch point (rl.BranchPoint).
type TreeBranch struct {
	DeltaH   float64 `json:"delta_h"`  // entropy rise after the tool result
	Prob     float64 `json:"prob"`     // branch probability alpha + beta*dH
	Branched bool    `json:"branched"` // whether it branched
	Children int     `json:"children"` // branches started here
}

// TreeLeaf is one trajectory: the path from the root to Node.
type TreeLeaf struct {
	Node     int     `json:"node"`
	Reward   float64 `json:"reward"`
	Score    float64 `json:"score"`
	Adv      float64 `json:"adv"`
	FormatOK bool    `json:"format_ok"`
	Answer   string  `json:"answer"`
	Stop     string  `json:"stop"`
	Branched bool    `json:"branched"` // began as a branch, not a root
}

// TreeInput is what RecordTree needs of one prompt's rollout.
type TreeInput struct {
	Step, Prompt int
	Example      rl.Prompt
	Tree         *rl.Tree
	// Trajs are the prompt's scored trajectories (any order); advantages
	// are 0 for a group the update left out.
	Trajs []rl.Scored
}

// RecordTree turns a rollout tree into its record; tok turns token ids into
// text and vocab is the model's vocabulary size.
func RecordTree(in TreeInput, tok rl.Tokenizer, vocab int) TreeRecord {
	norm := 1 / math.Log(float64(max(vocab, 2)))
	rec := TreeRecord{Step: in.Step, Prompt: in.Prompt, Vocab: vocab}
	if ex := in.Example.Example; ex != nil {
		rec.ID, rec.Question, rec.Gold = ex.ID, ex.Question, ex.Answer
		rec.Family = ex.Family
		if rec.Family == "" {
			rec.Family = ex.Source
		}
	}
	for i, nd := range in.Tree.Nodes {
		out := TreeNode{Parent: nd.Parent, ToolCalls: nd.ToolCalls, Branch: branchOf(nd)}
		for k, id := range nd.Tokens {
			kind := "policy"
			switch {
			case i == 0:
				kind = "prompt"
			case k < len(nd.LossMask) && nd.LossMask[k] == 0:
				kind = "result"
			}
			if len(out.Spans) == 0 || out.Spans[len(out.Spans)-1].Kind != kind {
				out.Spans = append(out.Spans, TreeSpan{Kind: kind, Tokens: []string{}})
			}
			sp := &out.Spans[len(out.Spans)-1]
			sp.Tokens = append(sp.Tokens, tok.TokenText(id))
			if kind == "policy" {
				var h float64
				if k < len(nd.Entropies) {
					h = math.Round(float64(nd.Entropies[k])*norm*1e4) / 1e4
				}
				sp.Entropy = append(sp.Entropy, h)
			}
		}
		rec.Nodes = append(rec.Nodes, out)
	}
	for _, t := range in.Trajs {
		rec.Leaves = append(rec.Leaves, TreeLeaf{
			Node: t.Leaf, Reward: t.Reward.Value, Score: t.Reward.Score, Adv: float64(t.Adv),
			FormatOK: t.Reward.Format.Valid(), Answer: t.Reward.Format.Answer, Stop: string(t.Stop), Branched: t.Branched,
		})
	}
	sort.Slice(rec.Leaves, func(a, b int) bool { return rec.Leaves[a].Node < rec.Leaves[b].Node })
	return rec
}

// TreesPath is the file of step's trees in a run folder.
func TreesPath(runDir string, step int) string {
	return filepath.Join(runDir, "samples", fmt.Sprintf("trees-step%04d.jsonl", step))
}

// WriteTrees writes a step's tree records, replacing the file atomically so
// that a reader never sees half a step.
func WriteTrees(path string, recs []TreeRecord) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for _, r := range recs {
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, func(w io.Writer) error {
		_, err := w.Write(buf.Bytes())
		return err
	})
}

var treesFile = regexp.MustCompile(`^trees-step(\d{1,9})\.jsonl$`)

// treeSteps lists the steps with saved trees, ascending.
func treeSteps(runDir string) ([]int, error) {
	entries, err := os.ReadDir(filepath.Join(runDir, "samples"))
	if err != nil {
		if os.IsNotExist(err) {
			return []int{}, nil
		}
		return nil, err
	}
	steps := []int{}
	for _, e := range entries {
		if m := treesFile.FindStringSubmatch(e.Name()); m != nil && e.Type().IsRegular() {
			n, _ := strconv.Atoi(m[1])
			steps = append(steps, n)
		}
	}
	sort.Ints(steps)
	return steps, nil
}

// TreeSummary is one saved prompt of a step, as the explorer lists them.
type TreeSummary struct {
	Prompt     int     `json:"prompt"`
	ID         string  `json:"id,omitempty"`
	Family     string  `json:"family,omitempty"`
	Question   string  `json:"question"`
	Nodes      int     `json:"nodes"`
	Leaves     int     `json:"leaves"`
	Branches   int     `json:"branches"` // branch points that branched
	ToolCalls  int     `json:"tool_calls"`
	RewardMean float64 `json:"reward_mean"`
	Correct    int     `json:"correct"` // leaves with score 1
}

func summarise(r TreeRecord) TreeSummary {
	s := TreeSummary{Prompt: r.Prompt, ID: r.ID, Family: r.Family, Question: r.Question, Nodes: len(r.Nodes), Leaves: len(r.Leaves)}
	for _, n := range r.Nodes {
		s.ToolCalls += n.ToolCalls
		if n.Branch != nil && n.Branch.Branched {
			s.Branches++
		}
	}
	for _, l := range r.Leaves {
		s.RewardMean += l.Reward
		if l.Score >= 1 {
			s.Correct++
		}
	}
	if len(r.Leaves) > 0 {
		s.RewardMean /= float64(len(r.Leaves))
	}
	return s
}

// branchOf copies a node's branching decision, if it has one.
func branchOf(nd rl.Node) *TreeBranch {
	b := nd.Branch
	if b == nil {
		return nil
	}
	return &TreeBranch{DeltaH: b.DeltaH, Prob: b.Prob, Branched: b.Branched, Children: b.Children}
}
