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
	k := u.r.Cfg.K
	if t.hInit < 0 && k > 0 {
		t.initSm += h
		t.initN++
		if t.initN >= k {
			t.hInit = t.initSm / float64(t.initN)
		}
	}
	if t.look != nil {
		t.look.sum += h
		t.look.n++
		if t.look.n >= k {
			u.decide(t)
		}
	}
	if s.Stopped == engine.NotStopped {
		return
	}
	// The turn ended: close the measurements with the tokens there are.
	if t.hInit < 0 && t.initN > 0 {
		t.hInit = t.initSm / float64(t.initN)
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
		w := &toolWait{due: u.clock + u.r.Cfg.ToolLag, result: make(chan string, 1), tool: ev.Tag}
		go func() { w.result <- u.r.Tools.Result(ctx, ev) }()
		t.wait = w
	case tools.Invalid:
		// Nothing runs: the explanation goes in as the result right away.
		u.stats.InvalidCalls++
		w := &toolWait{due: u.clock, result: make(chan string, 1)}
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
		t.wait = nil
		toks := u.r.Tok.EncodeResult(res)
		if t.s.Len()+len(toks) >= u.r.Cfg.TokenBudget {
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
	for _, t := range fed {
		resultNode := t.node
		t.node = t.p.tree.AddNode(Node{Parent: resultNode})
		if u.r.Cfg.Branch {
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
// entropy rise after the tool result, and Z branches from the snapshot taken
// right after the result when the prompt's budget allows.
func (u *run) decide(t *traj) {
	c, lk, p := u.r.Cfg, t.look, t.p
	t.look = nil
	defer u.r.Engine.ReleaseStream(lk.snap)
	if lk.n == 0 {
		return
	}
	dH := lk.sum/float64(lk.n) - max(t.hInit, 0)
	u.stats.DeltaH = append(u.stats.DeltaH, dH)
	prob := c.Alpha + c.Beta*dH
	var branch bool
	if c.Rule == BranchThreshold {
		branch = prob > c.Tau
	} else {
		branch = float64(p.decide.Float32()) < min(max(prob, 0), 1)
	}
	if !branch {
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
		p.committed++
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
		Prompt: p.idx, Leaf: t.node, Text: t.text.String(), Calls: t.calls,
		Stop: t.s.Stopped, Branched: t.branch,
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
		if liveOf[p] == 0 && p.finished < u.r.Cfg.M {
			u.addRoots(p, u.r.Cfg.M-p.finished)
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
