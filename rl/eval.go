package rl

import (
	"context"
	"fmt"
	"sort"

	"github.com/goarpo/arpo/nn/sample"
)

// EvalConfig sets up an evaluation.
type EvalConfig struct {
	// K is the number of samples per question, e.g. 1 for pass@1 or 8 for
	// pass@8. Greedy decoding (Sampling.Temperature 0) gives the same
	// trajectory every time, so it always draws one.
	K int
	// Sampling is how tokens are drawn; the zero value is greedy.
	Sampling sample.Params
	// Seed of the sampled trajectories; unused when greedy.
	Seed uint64
	// Batch is the number of questions rolled out together, e.g. 64: more
	// is faster per question and needs more memory.
	Batch int
	// Window is the number of policy tokens on each side of a tool result
	// that EvalResult.Entropy covers, e.g. 16; 0 turns it off.
	Window int
	// Progress, when set, is called after each batch with the questions done.
	Progress func(done, total int)
}

// Prediction is one evaluated trajectory, written as a JSON line.
type Prediction struct {
	ID        string         `json:"id,omitempty"`
	Family    string         `json:"family,omitempty"`
	Novel     bool           `json:"novel,omitempty"`
	Sample    int            `json:"sample"` // 0 .. K-1
	Question  string         `json:"question"`
	Gold      string         `json:"gold"`
	Response  string         `json:"response"` // the policy's text with the tool results inserted
	Answer    string         `json:"answer"`   // the extracted final answer
	Reward    float64        `json:"reward"`
	Score     float64        `json:"score"`
	FormatOK  bool           `json:"format_ok"`
	FormatErr string         `json:"format_error,omitempty"`
	Calls     map[string]int `json:"calls"` // tool calls made, by tag
	Stop      string         `json:"stop"`  // why generation ended
	// Entropies are the policy tokens' entropies in nats, in order.
	Entropies []float32 `json:"entropies,omitempty"`
}

// FamilyResult is the evaluation of one question family, or of all of them.
type FamilyResult struct {
	Family    string  `json:"family"`
	Novel     bool    `json:"novel,omitempty"`
	Questions int     `json:"questions"`
	Pass1     float64 `json:"pass1"`      // mean score of each question's first trajectory
	PassK     float64 `json:"pass_k"`     // mean of each question's best score over K trajectories
	MeanK     float64 `json:"mean_k"`     // mean score over all trajectories
	ToolCalls float64 `json:"tool_calls"` // mean tool calls per trajectory
	// FormatErrors is the share of trajectories with an invalid turn format.
	FormatErrors float64 `json:"format_errors"`
}

// EntropyProfile is the mean normalised entropy (entropy / ln V, in [0, 1])
// of the policy's tokens by position relative to tool results: Offset -1 is
// the last policy token before a result (the end of the call), 0 the first
// policy token after it.
type EntropyProfile struct {
	Offsets []int     `json:"offsets"`
	Mean    []float64 `json:"mean"`
	Count   []int     `json:"count"`
}

// EvalResult is an evaluation: overall, per family (sorted by name) and
// every trajectory.
type EvalResult struct {
	K           int            `json:"k"`
	Overall     FamilyResult   `json:"overall"`
	Families    []FamilyResult `json:"families"`
	Entropy     EntropyProfile `json:"entropy"`
	Predictions []Prediction   `json:"-"`
}

// Evaluate rolls every prompt out K times without branching (greedy once
// when Sampling is greedy), grades each trajectory with its task's reward
// and aggregates. roller.Cfg supplies the token budget, tool lag and EOS;
// the rest of it is left as it was. The result is a function of the
// prompts, the model and cfg: the same inputs give the same numbers.
func Evaluate(ctx context.Context, roller *Roller, prompts []Prompt, cfg EvalConfig) (EvalResult, error) {
	k := cfg.K
	if cfg.Sampling.Temperature == 0 || k < 1 {
		k = 1
	}
	batch := cfg.Batch
	if batch < 1 {
		batch = 64
	}
	rc := roller.Cfg
	rc.M, rc.N, rc.Branch = k, k, false
	rc.Sampling, rc.Seed = cfg.Sampling, cfg.Seed
	if err := rc.Validate(); err != nil {
		return EvalResult{}, fmt.Errorf("evaluate: %w", err)
	}
	r := &Roller{Engine: roller.Engine, Tok: roller.Tok, Protocol: roller.Protocol, Tools: roller.Tools, Cfg: rc}
	norm := entropyNorm(roller.Engine.VocabSize())
	prof := newProfile(cfg.Window)
	preds := make([]Prediction, 0, len(prompts)*k)
	for lo := 0; lo < len(prompts); lo += batch {
		hi := min(lo+batch, len(prompts))
		toks := make([][]int32, hi-lo)
		for i := range toks {
			toks[i] = prompts[lo+i].Tokens
		}
		// The batch index is the rollout's step, so batches draw apart.
		trees, trajs, _, err := r.Rollout(ctx, toks, lo/batch)
		if err != nil {
			return EvalResult{}, fmt.Errorf("evaluate: %w", err)
		}
		// Trajectories come in finishing order; put them in prompt order.
		sort.SliceStable(trajs, func(a, b int) bool { return trajs[a].Prompt < trajs[b].Prompt })
		seen := map[int]int{}
		for _, t := range trajs {
			p := prompts[lo+t.Prompt]
			tree := trees[t.Prompt]
			rw := p.Example.Reward(t.Text, t.Calls)
			pr := Prediction{
				ID: p.Example.ID, Family: familyOf(p), Novel: p.Example.Novel, Sample: seen[t.Prompt],
				Question: p.Example.Question, Gold: p.Example.Answer, Response: t.Text,
				Answer: rw.Format.Answer, Reward: rw.Value, Score: rw.Score, FormatOK: rw.Format.Valid(),
				Calls: t.Calls, Stop: string(t.Stop), Entropies: policyEntropies(tree, t.Leaf),
			}
			if rw.Format.Err != nil {
				pr.FormatErr = rw.Format.Err.Error()
			}
			if pr.Calls == nil {
				pr.Calls = map[string]int{}
			}
			seen[t.Prompt]++
			prof.add(tree, t.Leaf, norm)
			preds = append(preds, pr)
		}
		if cfg.Progress != nil {
			cfg.Progress(hi, len(prompts))
		}
	}
	res := EvalResult{K: k, Predictions: preds, Entropy: prof.result()}
	res.Overall, res.Families = aggregate(preds, k)
	return res, nil
}

func familyOf(p Prompt) string {
	switch {
	case p.Example.Family != "":
		return p.Example.Family
	case p.Example.Source != "":
		return p.Example.Source
	}
	return "all"
}

// aggregate groups predictions (K per question, consecutive) into the
// overall result and one result per family.
func aggregate(preds []Prediction, k int) (FamilyResult, []FamilyResult) {
	type acc struct {
		FamilyResult
		n int // trajectories
	}
	all := &acc{FamilyResult: FamilyResult{Family: "all"}}
	by := map[string]*acc{}
	for q := 0; q+k <= len(preds); q += k {
		group := preds[q : q+k]
		f := by[group[0].Family]
		if f == nil {
			f = &acc{FamilyResult: FamilyResult{Family: group[0].Family, Novel: group[0].Novel}}
			by[group[0].Family] = f
		}
		best := 0.0
		for _, p := range group {
			best = max(best, p.Score)
			calls := 0
			for _, c := range p.Calls {
				calls += c
			}
			for _, a := range []*acc{all, f} {
				a.MeanK += p.Score
				a.ToolCalls += float64(calls)
				if !p.FormatOK {
					a.FormatErrors++
				}
				a.n++
			}
		}
		for _, a := range []*acc{all, f} {
			a.Questions++
			a.Pass1 += group[0].Score
			a.PassK += best
		}
	}
	finish := func(a *acc) FamilyResult {
		r := a.FamilyResult
		if r.Questions > 0 {
			r.Pass1 /= float64(r.Questions)
			r.PassK /= float64(r.Questions)
		}
		if a.n > 0 {
			r.MeanK /= float64(a.n)
			r.ToolCalls /= float64(a.n)
			r.FormatErrors /= float64(a.n)
		}
		return r
	}
	names := make([]string, 0, len(by))
	for n := range by {
		names = append(names, n)
	}
	sort.Strings(names)
	fams := make([]FamilyResult, len(names))
	for i, n := range names {
		fams[i] = finish(by[n])
	}
	return finish(all), fams
}

// responseTokens returns the mask and entropies (T) of a trajectory's
// response: its path without the prompt (node 0).
func responseTokens(t *Tree, leaf int) (mask, ent []float32) {
	for _, i := range t.Path(leaf)[1:] {
		mask = append(mask, t.Nodes[i].LossMask...)
		ent = append(ent, t.Nodes[i].Entropies...)
	}
	return mask, ent
}

// policyEntropies returns the entropies of the policy-written tokens of a
// trajectory, in order.
func policyEntropies(t *Tree, leaf int) []float32 {
	mask, ent := responseTokens(t, leaf)
	var out []float32
	for i, m := range mask {
		if m > 0 {
			out = append(out, ent[i])
		}
	}
	return out
}

// profile accumulates an EntropyProfile; sum and cnt are (2W) for offsets
// -W .. W-1.
type profile struct {
	w   int
	sum []float64
	cnt []int
}

func newProfile(w int) *profile {
	return &profile{w: w, sum: make([]float64, 2*w), cnt: make([]int, 2*w)}
}

// add counts a trajectory: around every maximal run of result tokens, the
// contiguous policy tokens within W on each side.
func (p *profile) add(t *Tree, leaf int, norm float64) {
	if p.w == 0 {
		return
	}
	mask, ent := responseTokens(t, leaf)
	for s := 0; s < len(mask); s++ {
		if mask[s] > 0 {
			continue
		}
		e := s
		for e < len(mask) && mask[e] == 0 {
			e++
		}
		for d := 1; d <= p.w && s-d >= 0 && mask[s-d] > 0; d++ {
			p.sum[p.w-d] += float64(ent[s-d]) * norm
			p.cnt[p.w-d]++
		}
		for d := 0; d < p.w && e+d < len(mask) && mask[e+d] > 0; d++ {
			p.sum[p.w+d] += float64(ent[e+d]) * norm
			p.cnt[p.w+d]++
		}
		s = e
	}
}

func (p *profile) result() EntropyProfile {
	var r EntropyProfile
	for i := range p.sum {
		r.Offsets = append(r.Offsets, i-p.w)
		r.Count = append(r.Count, p.cnt[i])
		m := 0.0
		if p.cnt[i] > 0 {
			m = p.sum[i] / float64(p.cnt[i])
		}
		r.Mean = append(r.Mean, m)
	}
	return r
}
