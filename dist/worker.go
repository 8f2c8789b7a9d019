package dist

import (
	"context"
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

	run    string
	tok    rl.Tokenizer
	runner rl.ToolRunner
	proto  *tools.Protocol
	model  *nn.Model
	policy int
	eng    *engine.Engine
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
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			if ctx.Err() == nil {
				w.logf("nats: fetch work: %v; retrying", err)
				cons = nil
				sleep(ctx, 2*time.Second)
			}
			continue
		}
		for msg := range batch.Messages() {
			w.handle(ctx, js, msg)
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// handle rolls out one item. A malformed item is logged and terminated (it
// would be malformed on every worker); an item this worker cannot serve
// right now (NATS trouble) goes back to the queue.
func (w *Worker) handle(ctx context.Context, js jetstream.JetStream, msg jetstream.Msg) {
	item, err := DecodeWorkItem(msg.Data())
	if err != nil {
		w.logf("rejected a work item: %v", err)
		msg.TermWithReason("malformed")
		return
	}
	// Beat while the group runs so that the item stays ours; a worker that
	// dies stops beating and the item goes to another after the ack wait.
	beat := DefaultAckWait
	if info, err := js.Consumer(ctx, workStream, workConsumer); err == nil {
		beat = info.CachedInfo().Config.AckWait
	}
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(max(beat/3, 50*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				msg.InProgress()
			}
		}
	}()
	res, retry := w.rollout(ctx, js, item)
	close(stop)
	if retry {
		msg.NakWithDelay(time.Second)
		return
	}
	if w.stall != nil {
		w.stall()
	}
	data, err := Encode(res)
	if err != nil {
		res = Result{Version: FormatVersion, Run: item.Run, Step: item.Step, Index: item.Index, Item: item.ID, Policy: res.Policy,
			Worker: w.Name, Error: fmt.Sprintf("encoding the result: %v", err)}
		data, _ = Encode(res)
	}
	if _, err := js.Publish(ctx, resultSubject(item.Run), data); err != nil {
		w.logf("nats: publish the result of step %d prompt %d: %v; the item goes back", item.Step, item.Index, err)
		msg.NakWithDelay(time.Second)
		return
	}
	if err := msg.DoubleAck(ctx); err != nil {
		w.logf("nats: ack step %d prompt %d: %v", item.Step, item.Index, err)
	}
	w.Groups++
}

// rollout runs the item. An error the item causes (bad configuration,
// tokens outside the vocabulary) comes back in the result; retry says the
// item could not be served for a passing reason.
func (w *Worker) rollout(ctx context.Context, js jetstream.JetStream, item WorkItem) (res Result, retry bool) {
	res = Result{Version: FormatVersion, Run: item.Run, Step: item.Step, Index: item.Index, Item: item.ID, Worker: w.Name}
	if err := w.load(ctx, js, item); err != nil {
		w.logf("step %d prompt %d: %v", item.Step, item.Index, err)
		var perm permanent
		if errors.As(err, &perm) {
			res.Error = err.Error()
			return res, false
		}
		return res, true
	}
	res.Policy = w.policy
	if err := checkTokens(item.Prompt, w.model.Cfg.VocabSize); err != nil {
		res.Error = "prompt: " + err.Error()
		return res, false
	}
	if max := w.model.Cfg.MaxPositionEmbeddings; max > 0 && item.Rollout.TokenBudget > max {
		res.Error = fmt.Sprintf("token budget %d exceeds the model's %d positions", item.Rollout.TokenBudget, max)
		return res, false
	}
	w.logf("step %d prompt %d: rolling out with policy %d", item.Step, item.Index, w.policy)
	t0 := time.Now()
	r := &rl.Roller{Engine: w.eng, Tok: w.tok, Protocol: w.proto, Tools: w.runner, Cfg: item.Rollout}
	trees, trajs, st, err := r.RolloutAt(ctx, item.Rollout, [][]int32{item.Prompt}, []int{item.Index}, item.Step)
	if err != nil {
		if ctx.Err() != nil {
			return res, true
		}
		res.Error = err.Error()
		return res, false
	}
	res.Tree, res.Trajectories, res.Stats = trees[0], trajs, st
	for i := range res.Trajectories {
		res.Texts = append(res.Texts, []byte(res.Trajectories[i].Text))
		res.Trajectories[i].Text = ""
	}
	res.Seconds = time.Since(t0).Seconds()
	return res, false
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
	}
	w.model, w.policy = m, v
	w.logf("run %s: policy %d loaded (%.2fM parameters)", item.Run, v, float64(m.NumParams())/1e6)
	return nil
}

// EngineOptions are the engine settings of every rollout, in workers and in
// the trainer alike: batch-invariant, so that a group's bits do not depend
// on which other groups share its batches.
func EngineOptions() engine.Options {
	return engine.Options{BlockSize: 16, InitialBlocks: 256, BatchInvariant: true}
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
	w.run, w.tok, w.runner, w.proto = run, rl.BPE{T: tk}, runner, proto
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
