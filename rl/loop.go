package rl

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/goarpo/arpo/nn/engine"
	"github.com/goarpo/arpo/nn/sample"
	"github.com/goarpo/arpo/tools"
)

// loop advances all trajectories of all prompts together until every prompt
// has M finished trajectories. One iteration is one decode step of every
// trajectory that is not waiting for a tool.
func (u *run) loop(ctx context.Context) error {
	for len(u.live) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := u.applyResults(ctx); err != nil {
			return err
		}
		var stepping []*traj
		var streams []*engine.Stream
		for _, t := range u.live {
			if t.wait == nil && !t.dead {
				stepping = append(stepping, t)
				streams = append(streams, t.s)
			}
		}
		if len(streams) > 0 {
			t0 := time.Now()
			err := u.r.Engine.Step(streams, u.gen, &u.r.sampler)
			u.stats.GenTime += time.Since(t0)
			if err != nil {
				return fmt.Errorf("rollout: decode: %w", err)
			}
			for _, t := range stepping {
				u.afterToken(ctx, t)
			}
		}
		u.clock++
		u.compact()
	}
	return nil
}

// afterToken records the token a trajectory just sampled and acts on a stop.
func (u *run) afterToken(ctx context.Context, t *traj) {
	s := t.s
	last := len(s.Tokens) - 1
	tok, lp, ent := s.Tokens[last], s.LogProbs[last], s.Entropies[last]
	nd := &t.p.tree.Nodes[t.node]
	nd.Tokens = append(nd.Tokens, tok)
	nd.LossMask = append(nd.LossMask, 1)
	nd.LogProbs = append(nd.LogProbs, lp)
	nd.Entropies = append(nd.Entropies, ent)
	piece := u.r.Tok.TokenText(tok)
	t.text.WriteString(piece)
	u.stats.TokensGenerated++
	ev := t.proto.Feed(piece)
	if ev.Kind != tools.None && s.Stopped == engine.NotStopped {
		// A turn boundary the stop strings do not cover (an unknown tool's
		// closing tag): the protocol ends the turn all the same.
		s.Stopped = engine.StopString
	}

	h := float64(ent) * u.norm
	k := u.cfg.K
	if t.hInit < 0 && k > 0 {
		t.init = append(t.init, h)
		if len(t.init) >= k {
			t.hInit = StepEntropy(t.init)
		}
	}
	if t.look != nil {
		t.look.ents = append(t.look.ents, h)
		if len(t.look.ents) >= k {
			u.decide(t)
		}
	}
	if s.Stopped == engine.NotStopped {
		return
	}
	// The turn ended: close the measurements with the tokens there are.
	if t.hInit < 0 && len(t.init) > 0 {
		t.hInit = StepEntropy(t.init)
	}
	if t.look != nil {
		u.decide(t)
	}
	if s.Stopped != engine.StopString {
		u.finish(t)
		return
	}
	switch ev.Kind {
	case tools.Answer:
		u.finish(t)
	case tools.Call:
		nd.ToolCalls++
		t.calls[ev.Tag]++
		u.stats.ToolCallsByTool[ev.Tag]++
		w := &toolWait{due: u.clock + u.cfg.ToolLag, result: make(chan string, 1), tool: ev.Tag}
		go func() { w.result <- u.r.Tools.Result(ctx, ev) }()
		t.wait = w
	case tools.Invalid:
		// Nothing runs: the explanation goes in as the result right away,
		// and no look-ahead opens after it (see applyResults).
		u.stats.InvalidCalls++
		w := &toolWait{due: u.clock, result: make(chan string, 1), invalid: true}
		w.result <- u.r.Tools.Result(ctx, ev)
		t.wait = w
	default:
		// A stop string that is not a turn boundary (e.g. inside reasoning).
		s.Stopped, s.Stop = engine.NotStopped, ""
	}
}

// applyResults inserts the results that are due, feeds them in one batched
// prefill, and opens the look-ahead window of each trajectory.
func (u *run) applyResults(ctx context.Context) error {
	var fed []*traj
	var streams []*engine.Stream
	// look says which of fed get a look-ahead window: only those after a
	// tool that ran. The explanation of an invalid call is not a tool
	// result, and the entropy after it says nothing about one (the
	// reference ends such trajectories instead).
	var look []bool
	for _, t := range u.live {
		if t.wait == nil || t.wait.due > u.clock || t.dead {
			continue
		}
		t0 := time.Now()
		var res string
		select {
		case res = <-t.wait.result:
		case <-ctx.Done():
			return ctx.Err()
		}
		u.stats.ToolWait += time.Since(t0)
		invalid := t.wait.invalid
		t.wait = nil
		toks := u.r.Tok.EncodeResult(res)
		if t.s.Len()+len(toks) >= u.cfg.TokenBudget {
			// No room for the result and an answer: the budget ends it.
			t.s.Stopped = engine.StopLength
			u.finish(t)
			continue
		}
		nd := &t.p.tree.Nodes[t.node]
		nd.Tokens = append(nd.Tokens, toks...)
		nd.LossMask = append(nd.LossMask, make([]float32, len(toks))...)
		nd.LogProbs = append(nd.LogProbs, make([]float32, len(toks))...)
		nd.Entropies = append(nd.Entropies, make([]float32, len(toks))...)
		t.text.WriteString(res)
		t.proto.AppendResult(res)
		t.s.Append(toks)
		u.stats.TokensPrefilled += len(t.s.Pending())
		fed = append(fed, t)
		streams = append(streams, t.s)
		look = append(look, u.cfg.Branch && !invalid)
		if u.cfg.Branch && invalid {
			u.stats.LookaheadsSkipped++
		}
	}
	if len(fed) == 0 {
		return nil
	}
	t0 := time.Now()
	err := u.r.Engine.Feed(streams)
	u.stats.GenTime += time.Since(t0)
	if err != nil {
		return fmt.Errorf("rollout: prefill of tool results: %w", err)
	}
	for i, t := range fed {
		resultNode := t.node
		t.node = t.p.tree.AddNode(Node{Parent: resultNode})
		if look[i] {
			t.look = &lookahead{
				snap:       u.r.Engine.ForkStream(t.s, nil),
				snapText:   t.text.String(),
				snapProto:  t.proto.Clone(),
				snapCalls:  maps.Clone(t.calls),
				resultNode: resultNode,
			}
		}
	}
	return nil
}

// decide closes a look-ahead window: ARPO's branch probability from the
// entropy rise after the tool result (branch.go), and Z branches from the
// snapshot taken right after the result when the prompt's budget allows.
func (u *run) decide(t *traj) {
	c, lk, p := u.cfg, t.look, t.p
	t.look = nil
	defer u.r.Engine.ReleaseStream(lk.snap)
	if len(lk.ents) == 0 {
		return
	}
	dH := StepEntropy(lk.ents) - max(t.hInit, 0)
	bp := &BranchPoint{DeltaH: dH, Prob: BranchProbability(BranchInputs{
		DeltaH: dH, Alpha: c.Alpha, Beta: c.Beta, Scale: c.Scale, Mean: c.DeltaHMean, Std: c.DeltaHStd,
	})}
	// The draw is taken under either rule so that the decision stream of a
	// prompt does not depend on the rule.
	bp.Branched = ShouldBranch(c.Rule, bp.Prob, c.Tau, p.decide.Float32())
	p.tree.Nodes[lk.resultNode].Branch = bp
	defer func() { u.stats.Points = append(u.stats.Points, *bp) }()
	if !bp.Branched {
		return
	}
	for z := 0; z < c.Z && p.committed < c.M; z++ {
		rng := sample.NewRNG(c.Seed, u.streamSeed(p.idx, "traj", p.nextID))
		p.nextID++
		b := &traj{
			p: p, s: u.r.Engine.ForkStream(lk.snap, rng), calls: maps.Clone(lk.snapCalls),
			branch: true, hInit: t.hInit, proto: lk.snapProto.Clone(),
		}
		b.text.WriteString(lk.snapText)
		b.node = p.tree.AddNode(Node{Parent: lk.resultNode})
		b.start = b.node
		p.committed++
		bp.Children++
		u.stats.Branches++
		u.live = append(u.live, b)
	}
}

// finish records a finished trajectory and frees its cache.
func (u *run) finish(t *traj) {
	if t.look != nil {
		u.r.Engine.ReleaseStream(t.look.snap)
		t.look = nil
	}
	p := t.p
	p.tree.Leaves = append(p.tree.Leaves, t.node)
	p.finished++
	u.done = append(u.done, Trajectory{
		Prompt: p.idx, Leaf: t.node, Start: t.start, Text: t.text.String(), Calls: t.calls,
		Stop: t.s.Stopped, Branched: t.branch, Tree: p.tree,
	})
	u.r.Engine.ReleaseStream(t.s)
	t.dead = true
}

// compact drops finished trajectories and refills prompts that have no live
// trajectory but fewer than M finished ones.
func (u *run) compact() {
	liveOf := map[*promptState]int{}
	kept := u.live[:0]
	for _, t := range u.live {
		if !t.dead {
			kept = append(kept, t)
			liveOf[t.p]++
		}
	}
	clear(u.live[len(kept):])
	u.live = kept
	for _, p := range u.prompts {
		if liveOf[p] == 0 && p.finished < u.cfg.M {
			u.addRoots(p, u.cfg.M-p.finished)
		}
	}
}

// release frees the prompts' streams and anything a failed run left behind.
func (u *run) release() {
	for _, t := range u.live {
		if !t.dead {
			if t.look != nil {
				u.r.Engine.ReleaseStream(t.look.snap)
			}
			u.r.Engine.ReleaseStream(t.s)
		}
	}
	for _, p := range u.prompts {
		u.r.Engine.ReleaseStream(p.root)
	}
}
