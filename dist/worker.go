package dist

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/goarpo/arpo/backend"
	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/engine"
	"github.com/goarpo/arpo/nn/tokenizer"
	"github.com/goarpo/arpo/rl"
	"github.com/goarpo/arpo/tools"
)

// Worker pulls work items, rolls each group out with the run's policy and
// tools (rl.Roller.RolloutAt, the code a single-process run uses) and
// publishes the result. It keeps one run's tools and one policy version,
// and fetches another only when an item needs it.
type Worker struct {
	Name    string          // in results and logs, e.g. host-pid
	Backend backend.Backend // where the policy runs
	// SearchURL, when set, sends search calls to a retriever server instead
	// of indexing the corpus here.
	SearchURL string
	// Tools builds a run's tools from its spec; nil: spec.Tools.Build.
	Tools func(spec RunSpec) (rl.ToolRunner, *tools.Protocol, error)
	Log   *log.Logger // nil: the standard logger
	// Batch is the most work items pulled and rolled out together, e.g. 8.
	Batch int

	run    string
	tok    rl.Tokenizer
	runner rl.ToolRunner
	proto  *tools.Protocol
	model  *nn.Model
	policy int
	eng    *engine.Engine
	// rolloutPrec and kvPrec are the run's RolloutPrecision and KVCache,
	// set by loadRun.
	rolloutPrec, kvPrec nn.Precision
	// stall, in tests, is called once a group has been rolled out and
	// before its result goes out (to kill a worker mid-group).
	stall func()
	// Groups counts the groups this worker published.
	Groups int
}

func (w *Worker) logf(format string, args ...any) {
	if w.Log != nil {
		w.Log.Printf(format, args...)
	} else {
		log.Printf(format, args...)
	}
}

// Run serves work items until ctx ends; NATS errors are logged and retried.
func (w *Worker) Run(ctx context.Context, js jetstream.JetStream) error {
	defer w.free()
	var cons jetstream.Consumer
	for ctx.Err() == nil {
		if cons == nil {
			var err error
			if _, cons, _, err = layout(ctx, js, DefaultAckWait, false); err != nil {
				w.logf("%v; retrying", err)
				sleep(ctx, 2*time.Second)
				continue
			}
		}
		batch, err := cons.Fetch(max(w.Batch, 1), jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			if ctx.Err() == nil {
				w.logf("nats: fetch work: %v; retrying", err)
				cons = nil
				sleep(ctx, 2*time.Second)
			}
			continue
		}
		var msgs []jetstream.Msg
		for msg := range batch.Messages() {
			msgs = append(msgs, msg)
		}
		w.handle(ctx, js, msgs)
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// job is one work item a worker holds, with its message.
type job struct {
	msg  jetstream.Msg
	item WorkItem
	res  Result
}

// handle rolls out a batch of messages. A malformed item is logged and
// terminated (it would be malformed on every worker); an item this worker
// cannot serve right now (NATS trouble) goes back to the queue. Items of the
// same run, step, policy and configuration are rolled out together in one
// RolloutAt call: the engine is batch-invariant, so each group gets the bits
// it would get alone, and the tool waits of one group overlap the decoding
// of the others.
func (w *Worker) handle(ctx context.Context, js jetstream.JetStream, msgs []jetstream.Msg) {
	beat := DefaultAckWait
	if c, err := js.Consumer(ctx, workStream, workConsumer); err == nil {
		beat = c.CachedInfo().Config.AckWait
	}
	var jobs []*job
	for _, msg := range msgs {
		item, err := DecodeWorkItem(msg.Data())
		if err != nil {
			w.logf("rejected a work item: %v", err)
			w.refuse(ctx, js, msg.Data(), err)
			msg.TermWithReason("malformed")
			continue
		}
		jobs = append(jobs, &job{msg: msg, item: item})
	}
	// Beat while the groups run so that the items stay ours; a worker that
	// dies stops beating and its items go to others after the ack wait.
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		t := time.NewTicker(max(beat/3, 50*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				for _, j := range jobs {
					j.msg.InProgress()
				}
			}
		}
	}()
	for len(jobs) > 0 {
		// The first job and every later one that can share its call.
		var batch, rest []*job
		for _, j := range jobs {
			if len(batch) == 0 || sameCall(batch[0].item, j.item) {
				batch = append(batch, j)
			} else {
				rest = append(rest, j)
			}
		}
		jobs = rest
		if w.rollout(ctx, js, batch) {
			for _, j := range batch {
				j.msg.NakWithDelay(time.Second)
			}
			continue
		}
		if w.stall != nil {
			w.stall()
		}
		for _, j := range batch {
			w.publish(ctx, js, j)
		}
	}
}

// refuse tells the trainer that an item it can name cannot be rolled out
// here (e.g. it carries a configuration field this worker does not know),
// so that the step fails with the reason instead of waiting.
func (w *Worker) refuse(ctx context.Context, js jetstream.JetStream, data []byte, why error) {
	var h struct {
		Version int    `json:"v"`
		Run     string `json:"run"`
		ID      string `json:"id"`
		Step    int    `json:"step"`
		Index   int    `json:"index"`
	}
	if len(data) > MaxMessage || json.Unmarshal(data, &h) != nil || h.Version != FormatVersion || checkRun(h.Run) != nil || h.ID == "" {
		return
	}
	res := Result{Version: FormatVersion, Run: h.Run, Step: h.Step, Index: h.Index, Item: h.ID, Worker: w.Name, Error: why.Error()}
	if data, err := Encode(res); err == nil {
		if _, err := js.Publish(ctx, resultSubject(h.Run), data); err != nil {
			w.logf("nats: report a refused item: %v", err)
		}
	}
}

// sameCall says whether two items can be rolled out in one call.
func sameCall(a, b WorkItem) bool {
	return a.Run == b.Run && a.Step == b.Step && a.Policy == b.Policy && a.Stale == b.Stale &&
		a.Index != b.Index && sameConfig(a.Rollout, b.Rollout)
}

// publish sends a job's result and acknowledges its item.
func (w *Worker) publish(ctx context.Context, js jetstream.JetStream, j *job) {
	data, err := Encode(j.res)
	if err != nil {
		r := j.res
		j.res = Result{Version: FormatVersion, Run: r.Run, Step: r.Step, Index: r.Index, Item: r.Item, Policy: r.Policy,
			Worker: w.Name, Error: fmt.Sprintf("encoding the result: %v", err)}
		data, _ = Encode(j.res)
	}
	if _, err := js.Publish(ctx, resultSubject(j.item.Run), data); err != nil {
		w.logf("nats: publish the result of step %d prompt %d: %v; the item goes back", j.item.Step, j.item.Index, err)
		j.msg.NakWithDelay(time.Second)
		return
	}
	if err := j.msg.DoubleAck(ctx); err != nil {
		w.logf("nats: ack step %d prompt %d: %v", j.item.Step, j.item.Index, err)
	}
	w.Groups++
}

// rollout runs a batch of items that share a call and fills in their
// results. An error an item causes (bad configuration, tokens outside the
// vocabulary) comes back in its result; retry says the batch could not be
// served for a passing reason.
func (w *Worker) rollout(ctx context.Context, js jetstream.JetStream, batch []*job) (retry bool) {
	first := batch[0].item
	for _, j := range batch {
		j.res = Result{Version: FormatVersion, Run: j.item.Run, Step: j.item.Step, Index: j.item.Index, Item: j.item.ID, Worker: w.Name}
	}
	fail := func(msg string) bool {
		for _, j := range batch {
			j.res.Error = msg
		}
		return false
	}
	if err := w.load(ctx, js, first); err != nil {
		w.logf("step %d: %v", first.Step, err)
		var perm permanent
		if errors.As(err, &perm) {
			return fail(err.Error())
		}
		return true
	}
	var live []*job
	var prompts [][]int32
	var indices []int
	for _, j := range batch {
		j.res.Policy = w.policy
		if err := checkTokens(j.item.Prompt, w.model.Cfg.VocabSize); err != nil {
			j.res.Error = "prompt: " + err.Error()
			continue
		}
		live = append(live, j)
		prompts = append(prompts, j.item.Prompt)
		indices = append(indices, j.item.Index)
	}
	if max := w.model.Cfg.MaxPositionEmbeddings; max > 0 && first.Rollout.TokenBudget > max {
		return fail(fmt.Sprintf("token budget %d exceeds the model's %d positions", first.Rollout.TokenBudget, max))
	}
	if len(live) == 0 {
		return false
	}
	w.logf("step %d: rolling out %d prompts (first %d) with policy %d", first.Step, len(live), indices[0], w.policy)
	t0 := time.Now()
	r := &rl.Roller{Engine: w.eng, Tok: w.tok, Protocol: w.proto, Tools: w.runner}
	trees, trajs, st, err := r.RolloutAt(ctx, first.Rollout, prompts, indices, first.Step)
	if err != nil {
		if ctx.Err() != nil {
			return true
		}
		return fail(err.Error())
	}
	sec := time.Since(t0).Seconds()
	for i, j := range live {
		j.res.Tree, j.res.Stats = trees[i], groupStats(trees[i])
		j.res.Seconds = sec / float64(len(live))
		for _, t := range trajs {
			if t.Prompt == i {
				t.Prompt, t.Tree = 0, nil
				j.res.Texts = append(j.res.Texts, []byte(t.Text))
				t.Text = ""
				j.res.Trajectories = append(j.res.Trajectories, t)
			}
		}
		j.res.Stats.Trajectories = len(j.res.Trajectories)
		for _, t := range j.res.Trajectories {
			if t.Branched {
				j.res.Stats.Branches++
			}
		}
	}
	// The call's other counters are not kept per prompt: they go with the
	// first group of the call.
	f := &live[0].res.Stats
	f.ToolCallsByTool, f.InvalidCalls, f.LookaheadsSkipped = st.ToolCallsByTool, st.InvalidCalls, st.LookaheadsSkipped
	f.TokensPrefilled, f.GenTime, f.ToolWait = st.TokensPrefilled, st.GenTime, st.ToolWait
	return false
}

// groupStats are the counts of one prompt's rollout that its tree holds:
// tool calls, generated tokens and the closed look-ahead windows (in node
// order; the trainer sorts what it sums).
func groupStats(t *rl.Tree) rl.RolloutStats {
	st := rl.RolloutStats{ToolCalls: t.ToolCallsExecuted(), ToolCallsFlat: t.ToolCallsFlat()}
	for _, n := range t.Nodes {
		if n.Branch != nil {
			st.Points = append(st.Points, *n.Branch)
		}
		for _, m := range n.LossMask {
			if m > 0 {
				st.TokensGenerated++
			}
		}
	}
	return st
}

// permanent marks a load error that retrying cannot fix.
type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

// load makes the item's run and policy version the worker's. A version
// that is gone from the store (asynchronous mode moved on) is replaced by
// the current one.
func (w *Worker) load(ctx context.Context, js jetstream.JetStream, item WorkItem) error {
	obs, err := js.ObjectStore(ctx, bucket)
	if err != nil {
		return fmt.Errorf("nats: object store: %w", err)
	}
	if w.run != item.Run {
		data, err := obs.GetBytes(ctx, specObject(item.Run))
		if errors.Is(err, jetstream.ErrObjectNotFound) {
			return permanent{fmt.Errorf("run %s has no spec in the object store", item.Run)}
		} else if err != nil {
			return fmt.Errorf("nats: run spec: %w", err)
		}
		if err := w.loadRun(item.Run, data); err != nil {
			return permanent{err}
		}
	}
	if w.model != nil && w.policy == item.Policy && w.eng != nil {
		return nil
	}
	v := item.Policy
	data, err := obs.GetBytes(ctx, policyObject(item.Run, v))
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		if !item.Stale {
			return permanent{fmt.Errorf("policy %d of run %s is not in the object store", v, item.Run)}
		}
		cur, err := obs.GetBytes(ctx, currentObject(item.Run))
		if err != nil {
			return fmt.Errorf("nats: current policy: %w", err)
		}
		if v, err = strconv.Atoi(strings.TrimSpace(string(cur))); err != nil {
			return permanent{fmt.Errorf("current policy %q: %w", cur, err)}
		}
		if w.model != nil && w.policy == v {
			return nil
		}
		w.logf("policy %d is gone; fetching the current one, %d", item.Policy, v)
		data, err = obs.GetBytes(ctx, policyObject(item.Run, v))
	}
	if err != nil {
		return fmt.Errorf("nats: policy %d: %w", v, err)
	}
	m, err := decodeWeights(data, w.model, w.Backend)
	if err != nil {
		w.model, w.eng = nil, nil
		return permanent{fmt.Errorf("policy %d: %w", v, err)}
	}
	if m != w.model || w.eng == nil {
		if w.eng != nil {
			w.eng.Close()
		}
		w.eng = engine.New(m, EngineOptions())
		err := w.eng.SetPrecision(w.rolloutPrec)
		if err == nil {
			err = w.eng.SetCachePrecision(w.kvPrec)
		}
		if err != nil {
			w.eng.Close()
			w.model, w.eng = nil, nil
			return permanent{fmt.Errorf("policy %d: %w", v, err)}
		}
	}
	w.model, w.policy = m, v
	w.logf("run %s: policy %d loaded (%.2fM parameters)", item.Run, v, float64(m.NumParams())/1e6)
	return nil
}

// EngineOptions are the engine settings of every training rollout, in
// workers and in the trainer alike: engine.DefaultOptions made
// batch-invariant, so that a group's bits do not depend on which other
// groups share its batches.
func EngineOptions() engine.Options {
	o := engine.DefaultOptions()
	o.BatchInvariant = true
	return o
}

// loadRun builds a run's tokenizer and tools from its spec.
func (w *Worker) loadRun(run string, data []byte) error {
	var spec RunSpec
	if err := decodeStrict(data, &spec); err != nil {
		return fmt.Errorf("run %s spec: %w", run, err)
	}
	if spec.Version != FormatVersion {
		return fmt.Errorf("run %s spec: format version %d, want %d", run, spec.Version, FormatVersion)
	}
	tk, err := tokenizer.ParseHF(spec.Tokenizer)
	if err != nil {
		return fmt.Errorf("run %s spec: %w", run, err)
	}
	build := w.Tools
	if build == nil {
		build = func(spec RunSpec) (rl.ToolRunner, *tools.Protocol, error) {
			ex, proto, err := spec.Tools.Build(w.SearchURL)
			return ex, proto, err
		}
	}
	runner, proto, err := build(spec)
	if err != nil {
		return fmt.Errorf("run %s tools: %w", run, err)
	}
	prec := nn.F32
	if spec.RolloutPrecision != "" {
		if prec, err = nn.ParsePrecision(spec.RolloutPrecision); err != nil {
			return fmt.Errorf("run %s spec: rollout precision: %w", run, err)
		}
	}
	kvPrec := nn.F32
	if spec.KVCache != "" {
		if kvPrec, err = nn.ParsePrecision(spec.KVCache); err != nil {
			return fmt.Errorf("run %s spec: KV cache: %w", run, err)
		}
	}
	if w.eng != nil && (w.eng.Precision() != prec || w.eng.CachePrecision() != kvPrec) {
		w.eng.Close()
		w.eng = nil // rebuilt with the run's precisions by the next policy load
	}
	w.run, w.tok, w.runner, w.proto, w.rolloutPrec, w.kvPrec = run, rl.BPE{T: tk}, runner, proto, prec, kvPrec
	w.policy = -1 // another run's versions are not this one's
	w.logf("run %s: tokenizer of %d tokens, tools %v", run, tk.VocabSize(), proto.Tools)
	return nil
}

func (w *Worker) free() {
	if w.eng != nil {
		w.eng.Close()
	}
	if w.model != nil {
		w.model.Free()
	}
}
