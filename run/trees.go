package run

import (
	"slices"

	"github.com/goarpo/arpo/dashboard"
	"github.com/goarpo/arpo/rl"
)

// saveTrees writes the rollout trees of the step's first --save-trees
// prompts (in the order the trainer returned them) to
// samples/trees-stepNNNN.jsonl for the dashboard's tree explorer. drawn are
// the step's prompts, DAPO's refills included: a tree's root holds its
// prompt's tokens, which finds its question.
func (j *job) saveTrees(step int, drawn []rl.Prompt, scored []rl.Scored) error {
	if j.c.SaveTrees <= 0 || len(scored) == 0 {
		return nil
	}
	var order []*rl.Tree
	byTree := map[*rl.Tree][]rl.Scored{}
	for _, s := range scored {
		if s.Tree == nil {
			continue
		}
		if _, seen := byTree[s.Tree]; !seen {
			if len(order) == j.c.SaveTrees {
				continue
			}
			order = append(order, s.Tree)
		}
		byTree[s.Tree] = append(byTree[s.Tree], s)
	}
	used := make([]bool, len(drawn))
	recs := make([]dashboard.TreeRecord, 0, len(order))
	for _, t := range order {
		in := dashboard.TreeInput{Step: step, Prompt: -1, Tree: t, Trajs: byTree[t]}
		for i, p := range drawn {
			if !used[i] && slices.Equal(p.Tokens, t.Nodes[0].Tokens) {
				used[i], in.Prompt, in.Example = true, i, p
				break
			}
		}
		recs = append(recs, dashboard.RecordTree(in, rl.BPE{T: j.tok}, j.model.Cfg.VocabSize))
	}
	return dashboard.WriteTrees(dashboard.TreesPath(j.dir, step), recs)
}
