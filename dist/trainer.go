package dist

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/rl"
)

// SourceOptions configure the trainer's side.
type SourceOptions struct {
	Run string // names the run's subjects and objects; see checkRun
	// AckWait is how long a work item may go without its worker's heartbeat
	// before it is redelivered to another worker (0: DefaultAckWait).
	AckWait time.Duration
	// MaxStaleness K > 0 is asynchronous mode: the next K steps' groups are
	// generated while the trainer updates, with a policy at most K versions
	// old. 0 is synchronous: a step's groups use the current policy.
	MaxStaleness int
	// Ahead returns the prompts of RL step s (its first round), for
	// asynchronous mode to publish work ahead.
	Ahead func(step int) [][]int32
	Log   io.Writer // rejected messages and redeliveries; nil: discarded
	// Healthy, when set, is asked while a step waits for results; an error
	// (e.g. every local worker process has exited) ends the wait with it.
	Healthy func() error
}

// Source rolls out a trainer's prompts on rollout workers: it implements
// rl.RolloutSource. Each prompt is one work item; a worker's result is
// checked, deduplicated by (step, prompt index) and assembled in prompt
// order, so the step sees what Roller.Rollout would have returned (the
// trajectories of each prompt in the order they finished).
type Source struct {
	js      jetstream.JetStream
	work    jetstream.Stream
	workers jetstream.Consumer
	results jetstream.Consumer
	obs     jetstream.ObjectStore
	o       SourceOptions
	// Vocab is the model's vocabulary, which results are checked against.
	Vocab int

	policy    int // the current version
	versions  []int
	items     map[key]*pending
	published map[int]bool // RL steps whose first round went out ahead
	last      StepInfo
}

type key struct{ step, index int }

// pending is a published work item and what came back for it.
type pending struct {
	item     WorkItem
	res      *Result
	failures int
}

// StepInfo describes the rollout of the last step, for metrics.jsonl.
type StepInfo struct {
	Groups  int            `json:"groups"`
	Workers map[string]int `json:"workers"` // groups per worker
	// Staleness is, per group in prompt order, how many versions older than
	// the current one the policy that generated it was.
	Staleness []int `json:"staleness"`
	// Rejected counts results dropped: malformed, duplicates, stale.
	Rejected    int     `json:"rejected"`
	Republished int     `json:"republished"` // items sent out again after a bad result
	QueueDepth  int     `json:"queue_depth"` // work items waiting when the step's rollout ended
	Seconds     float64 `json:"seconds"`
	// WorkerSeconds sums the workers' wall time over the step's groups.
	WorkerSeconds float64 `json:"worker_seconds"`
	// MessagingSeconds is the trainer's own time on messages: encoding and
	// publishing work items, decoding and checking results.
	MessagingSeconds float64 `json:"messaging_seconds"`
	ResultBytes      int     `json:"result_bytes"`
}

// maxFailures is how many bad results one item may get before the step fails.
const maxFailures = 3

// NewSource attaches to the run's streams on js: it creates the layout if
// needed, drops work items a previous trainer of the run left unclaimed
// (they are published again as needed) and reattaches to the run's results.
func NewSource(ctx context.Context, js jetstream.JetStream, o SourceOptions) (*Source, error) {
	if err := checkRun(o.Run); err != nil {
		return nil, err
	}
	if o.AckWait <= 0 {
		o.AckWait = DefaultAckWait
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.MaxStaleness < 0 {
		return nil, fmt.Errorf("max staleness must be >= 0, got %d", o.MaxStaleness)
	}
	work, workers, obs, err := layout(ctx, js, o.AckWait, true)
	if err != nil {
		return nil, err
	}
	if err := work.Purge(ctx, jetstream.WithPurgeSubject(workSubject(o.Run))); err != nil {
		return nil, fmt.Errorf("nats: purge old work: %w", err)
	}
	rs, err := js.Stream(ctx, resultStream)
	if err != nil {
		return nil, fmt.Errorf("nats: %w", err)
	}
	results, err := rs.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable: "trainer-" + o.Run, FilterSubject: resultSubject(o.Run),
		AckPolicy: jetstream.AckExplicitPolicy, AckWait: time.Minute, MaxDeliver: -1,
	})
	if err != nil {
		return nil, fmt.Errorf("nats: %w", err)
	}
	return &Source{js: js, work: work, workers: workers, results: results, obs: obs, o: o,
		items: map[key]*pending{}, published: map[int]bool{}}, nil
}

// PublishSpec stores the run's tokenizer and tools for workers.
func (s *Source) PublishSpec(ctx context.Context, spec RunSpec) error {
	spec.Version = FormatVersion
	data, err := Encode(spec)
	if err != nil {
		return err
	}
	if _, err := s.obs.PutBytes(ctx, specObject(s.o.Run), data); err != nil {
		return fmt.Errorf("nats: store the run spec: %w", err)
	}
	return nil
}

// SetPolicy makes m's weights version v, the one new work items use, and
// deletes versions no item may still need.
func (s *Source) SetPolicy(ctx context.Context, v int, m *nn.Model) error {
	data, err := encodeWeights(m)
	if err != nil {
		return err
	}
	if _, err := s.obs.PutBytes(ctx, policyObject(s.o.Run, v), data); err != nil {
		return fmt.Errorf("nats: store policy %d: %w", v, err)
	}
	if _, err := s.obs.PutBytes(ctx, currentObject(s.o.Run), []byte(fmt.Sprint(v))); err != nil {
		return fmt.Errorf("nats: store policy %d: %w", v, err)
	}
	s.policy = v
	s.versions = append(s.versions, v)
	kept := s.versions[:0]
	for _, old := range s.versions {
		if old < v-s.o.MaxStaleness {
			if err := s.obs.Delete(ctx, policyObject(s.o.Run, old)); err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
				return fmt.Errorf("nats: delete policy %d: %w", old, err)
			}
			continue
		}
		kept = append(kept, old)
	}
	s.versions = kept
	return nil
}

// clock adds the time since t0 to the step's messaging time.
func (s *Source) clock(t0 time.Time) { s.last.MessagingSeconds += time.Since(t0).Seconds() }

// Last describes the last Rollout call.
func (s *Source) Last() StepInfo { return s.last }

// publish sends one work item out.
func (s *Source) publish(ctx context.Context, item WorkItem) error {
	defer s.clock(time.Now())
	data, err := Encode(item)
	if err != nil {
		return err
	}
	if _, err := s.js.Publish(ctx, workSubject(s.o.Run), data); err != nil {
		return fmt.Errorf("nats: publish work: %w", err)
	}
	return nil
}

func (s *Source) newItem(cfg rl.RolloutConfig, step, index int, prompt []int32) WorkItem {
	w := WorkItem{Version: FormatVersion, Run: s.o.Run, Step: step, Index: index, Policy: s.policy,
		Stale: s.o.MaxStaleness > 0, Prompt: prompt, Rollout: cfg}
	w.ID = itemID(w)
	return w
}

// RolloutWith implements rl.RolloutSource: it publishes the prompts that are
// not out yet and waits for every one's group.
func (s *Source) RolloutWith(ctx context.Context, cfg rl.RolloutConfig, prompts [][]int32, step int) ([]*rl.Tree, []rl.Trajectory, rl.RolloutStats, error) {
	t0 := time.Now()
	s.last = StepInfo{Workers: map[string]int{}}
	fail := func(err error) ([]*rl.Tree, []rl.Trajectory, rl.RolloutStats, error) {
		return nil, nil, rl.RolloutStats{}, err
	}
	for i, p := range prompts {
		k := key{step, i}
		if pd, ok := s.items[k]; ok && equalTokens(pd.item.Prompt, p) {
			// Published ahead (asynchronous mode) with the configuration
			// of its time, e.g. an earlier entropy scale: part of the
			// behaviour policy, as the weights are.
			continue
		}
		s.items[k] = &pending{item: s.newItem(cfg, step, i, p)}
		if err := s.publish(ctx, s.items[k].item); err != nil {
			return fail(err)
		}
	}
	if err := s.publishAhead(ctx, cfg, step); err != nil {
		return fail(err)
	}
	for {
		missing := 0
		for i := range prompts {
			if s.items[key{step, i}].res == nil {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if err := s.receive(ctx); err != nil {
			return fail(err)
		}
	}
	if info, err := s.workers.Info(ctx); err == nil {
		s.last.QueueDepth = int(info.NumPending)
	}
	var trees []*rl.Tree
	var trajs []rl.Trajectory
	st := rl.RolloutStats{ToolCallsByTool: map[string]int{}}
	for i := range prompts {
		k := key{step, i}
		r := s.items[k].res
		delete(s.items, k)
		trees = append(trees, r.Tree)
		for j, t := range r.Trajectories {
			t.Prompt, t.Text, t.Tree = i, string(r.Texts[j]), r.Tree
			trajs = append(trajs, t)
		}
		// What the tree holds is taken from the tree, not from the
		// worker's counts: the look-ahead windows feed the entropy scale.
		own := groupStats(r.Tree)
		r.Stats.Points, r.Stats.ToolCalls, r.Stats.ToolCallsFlat = own.Points, own.ToolCalls, own.ToolCallsFlat
		addStats(&st, r.Stats)
		s.last.Workers[r.Worker]++
		s.last.Staleness = append(s.last.Staleness, s.policy-r.Policy)
		s.last.WorkerSeconds += r.Seconds
	}
	st.Trajectories = len(trajs)
	s.last.Groups = len(prompts)
	s.last.Seconds = time.Since(t0).Seconds()
	return trees, trajs, st, nil
}

// publishAhead sends out, in asynchronous mode, the first round of the next
// MaxStaleness RL steps.
func (s *Source) publishAhead(ctx context.Context, cfg rl.RolloutConfig, step int) error {
	if s.o.MaxStaleness == 0 || s.o.Ahead == nil {
		return nil
	}
	rlStep := step >> 4
	for a := rlStep + 1; a <= rlStep+s.o.MaxStaleness; a++ {
		if s.published[a] {
			continue
		}
		s.published[a] = true
		for i, p := range s.o.Ahead(a) {
			k := key{a << 4, i}
			s.items[k] = &pending{item: s.newItem(cfg, a<<4, i, p)}
			if err := s.publish(ctx, s.items[k].item); err != nil {
				return err
			}
		}
	}
	return nil
}

// receive takes the results that are there (waiting up to a second) and
// files each under its item, or rejects it with a logged reason.
func (s *Source) receive(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.o.Healthy != nil {
		if err := s.o.Healthy(); err != nil {
			return err
		}
	}
	batch, err := s.results.Fetch(16, jetstream.FetchMaxWait(time.Second))
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		fmt.Fprintf(s.o.Log, "dist: fetch results: %v\n", err)
		time.Sleep(time.Second)
		return nil
	}
	for msg := range batch.Messages() {
		if err := s.file(ctx, msg.Data()); err != nil {
			return err
		}
		if err := msg.Ack(); err != nil {
			fmt.Fprintf(s.o.Log, "dist: ack a result: %v\n", err)
		}
	}
	return nil
}

// file checks one result message and keeps it if it answers an open item.
// Only a group that fails on maxFailures workers is an error.
func (s *Source) file(ctx context.Context, data []byte) error {
	defer s.clock(time.Now())
	s.last.ResultBytes += len(data)
	r, err := DecodeResult(data)
	if err != nil {
		s.last.Rejected++
		fmt.Fprintf(s.o.Log, "dist: rejected a message: %v\n", err)
		return nil
	}
	pd, ok := s.items[key{r.Step, r.Index}]
	if !ok || pd.res != nil || r.Run != s.o.Run || r.Item != pd.item.ID {
		s.last.Rejected++
		fmt.Fprintf(s.o.Log, "dist: dropped a result for step %d prompt %d from %s: no open item %s (a duplicate, or an earlier version of the item)\n",
			r.Step, r.Index, r.Worker, r.Item)
		return nil
	}
	if r.Error == "" && (r.Policy < pd.item.Policy || r.Policy > s.policy || s.policy-r.Policy > s.o.MaxStaleness) {
		// The version the worker had is too old for this step (or not the
		// one asked for): generate it again with the current policy.
		s.last.Rejected++
		s.last.Republished++
		fmt.Fprintf(s.o.Log, "dist: result for step %d prompt %d has policy %d; the current one is %d (max staleness %d): published again\n",
			r.Step, r.Index, r.Policy, s.policy, s.o.MaxStaleness)
		return s.republish(ctx, pd)
	}
	if r.Error == "" {
		if err := checkGroup(r, pd.item, s.Vocab); err != nil {
			// Malformed: not this item's answer. The worker that holds the
			// item still delivers (or it is redelivered if that one died).
			s.last.Rejected++
			fmt.Fprintf(s.o.Log, "dist: rejected a result for step %d prompt %d from %s: %v\n", r.Step, r.Index, r.Worker, err)
			return nil
		}
		pd.res = &r
		return nil
	}
	// The worker could not roll the item out: another worker tries, and
	// the step fails once maxFailures workers have said so.
	reason := r.Error
	s.last.Rejected++
	pd.failures++
	fmt.Fprintf(s.o.Log, "dist: rejected the result for step %d prompt %d from %s: %s\n", r.Step, r.Index, r.Worker, reason)
	if pd.failures >= maxFailures {
		return fmt.Errorf("dist: step %d prompt %d failed on %d workers, last: %s", r.Step, r.Index, pd.failures, reason)
	}
	s.last.Republished++
	return s.republish(ctx, pd)
}

// republish sends an item out again with the current policy.
func (s *Source) republish(ctx context.Context, pd *pending) error {
	pd.item.Policy = s.policy
	pd.item.ID = itemID(pd.item)
	return s.publish(ctx, pd.item)
}

// addStats adds a group's rollout counts to the step's.
func addStats(st *rl.RolloutStats, g rl.RolloutStats) {
	st.ToolCalls += g.ToolCalls
	st.ToolCallsFlat += g.ToolCallsFlat
	keys := make([]string, 0, len(g.ToolCallsByTool))
	for k := range g.ToolCallsByTool {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		st.ToolCallsByTool[k] += g.ToolCallsByTool[k]
	}
	st.InvalidCalls += g.InvalidCalls
	st.Branches += g.Branches
	st.Points = append(st.Points, g.Points...)
	st.LookaheadsSkipped += g.LookaheadsSkipped
	st.TokensGenerated += g.TokensGenerated
	st.TokensPrefilled += g.TokensPrefilled
	st.GenTime += g.GenTime
	st.ToolWait += g.ToolWait
}

// sameConfig reports whether two configurations are the same.
func sameConfig(a, b rl.RolloutConfig) bool {
	x, err1 := Encode(a)
	y, err2 := Encode(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}
