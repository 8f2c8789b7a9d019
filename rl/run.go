package rl

import (
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/goarpo/arpo/nn/engine"
	"github.com/goarpo/arpo/nn/sample"
	"github.com/goarpo/arpo/tools"
)

// run is the state of one Rollout call.
type run struct {
	r       *Roller
	cfg     RolloutConfig
	step    int
	gen     engine.GenConfig
	prompts []*promptState
	live    []*traj // every trajectory not yet finished, in creation order
	done    []Trajectory
	stats   RolloutStats
	norm    float64 // 1 / ln V
	clock   int     // decode steps so far: the time base of ToolLag
}

// promptState is one prompt's tree and trajectory budget.
type promptState struct {
	idx       int
	tree      *Tree
	root      *engine.Stream // the prompt, fed once; roots fork from it
	committed int            // trajectories started (live or finished): never above M
	finished  int
	nextID    uint64      // for the generators of new trajectories
	decide    *sample.RNG // branch decisions
}

// traj is one trajectory being generated.
type traj struct {
	p    *promptState
	s    *engine.Stream
	node int // the tree node its tokens go to
	text strings.Builder
	// proto parses the policy's text as it streams in; it knows where
	// results were inserted, so a result's content is never read as a call.
	proto  *tools.Stream
	calls  map[string]int
	branch bool
	start  int // its first own node: a root's child of node 0, or a branch's of the result node

	hInit float64   // step entropy (StepEntropy) of its root's first k tokens; < 0 until known
	init  []float64 // normalised entropies of those tokens while they come

	look *lookahead // set while measuring the entropy after a tool result
	wait *toolWait  // set while a tool call runs
	dead bool
}

// lookahead measures the entropy of the k tokens after a tool result; snap
// is the trajectory forked right after the result, kept for branches.
type lookahead struct {
	snap       *engine.Stream
	snapText   string
	snapProto  *tools.Stream
	snapCalls  map[string]int
	resultNode int
	ents       []float64 // normalised entropies of the look-ahead tokens so far
}

// toolWait is a tool call in flight: its result is due at a fixed clock.
type toolWait struct {
	due    int
	result chan string
	tool   string
	// invalid marks the explanation of a call that did not run.
	invalid bool
}

func newRun(r *Roller, cfg RolloutConfig, step int) *run {
	stops := []string{"</answer>"}
	for _, t := range r.Protocol.Tools {
		stops = append(stops, "</"+t+">")
	}
	return &run{
		r:    r,
		cfg:  cfg,
		step: step,
		gen:  engine.GenConfig{EOS: cfg.EOS, Stops: stops, TokenText: r.Tok.TokenText},
		stats: RolloutStats{
			ToolCallsByTool: map[string]int{},
		},
	}
}

// streamSeed mixes the run's identity into one generator stream number
// (FNV-1a, so it is the same in every process).
func (u *run) streamSeed(prompt int, kind string, id uint64) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%d/%s/%d", u.step, prompt, kind, id)
	return h.Sum64()
}

// addPrompt adds a prompt whose identity in the step is idx: its
// trajectories draw from generators seeded by (seed, step, idx), so a prompt
// rolled out on its own (on a rollout worker) draws what it draws in a batch.
func (u *run) addPrompt(tokens []int32, idx int) {
	c := u.cfg
	p := &promptState{idx: idx, tree: &Tree{}}
	p.decide = sample.NewRNG(c.Seed, u.streamSeed(p.idx, "decide", 0))
	p.root = u.r.Engine.NewStream(tokens, c.Sampling, nil, c.TokenBudget, u.gen)
	p.tree.AddNode(Node{
		Parent: -1, Tokens: append([]int32(nil), tokens...), LossMask: make([]float32, len(tokens)),
		LogProbs: make([]float32, len(tokens)), Entropies: make([]float32, len(tokens)),
	})
	u.prompts = append(u.prompts, p)
}

// start feeds every prompt once and forks N roots from each.
func (u *run) start() error {
	var roots []*engine.Stream
	for _, p := range u.prompts {
		roots = append(roots, p.root)
		u.stats.TokensPrefilled += len(p.root.Pending())
	}
	u.norm = entropyNorm(u.r.Engine.VocabSize())
	t0 := time.Now()
	err := u.r.Engine.Feed(roots)
	u.stats.GenTime += time.Since(t0)
	if err != nil {
		return fmt.Errorf("rollout: prefill of prompts: %w", err)
	}
	for _, p := range u.prompts {
		u.addRoots(p, u.cfg.N)
	}
	return nil
}

// addRoots starts n fresh trajectories of prompt p.
func (u *run) addRoots(p *promptState, n int) {
	for i := 0; i < n; i++ {
		rng := sample.NewRNG(u.cfg.Seed, u.streamSeed(p.idx, "traj", p.nextID))
		p.nextID++
		t := &traj{p: p, s: u.r.Engine.ForkStream(p.root, rng), calls: map[string]int{}, hInit: -1, proto: u.r.Protocol.NewStream()}
		t.node = p.tree.AddNode(Node{Parent: 0})
		t.start = t.node
		p.committed++
		u.live = append(u.live, t)
	}
}
