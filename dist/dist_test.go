package dist

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/backend/cpu"
	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/engine"
	"github.com/goarpo/arpo/nn/tokenizer"
	"github.com/goarpo/arpo/rl"
	"github.com/goarpo/arpo/tasks"
	"github.com/goarpo/arpo/tasks/grade"
	"github.com/goarpo/arpo/tools"
)

// The test binary doubles as a rollout worker process (for the kill test):
// DIST_TEST_WORKER holds the server URL.
func TestMain(m *testing.M) {
	if url := os.Getenv("DIST_TEST_WORKER"); url != "" {
		os.Exit(workerProcess(url))
	}
	os.Exit(m.Run())
}

func workerProcess(url string) int {
	nc, js, err := Connect(url, "test-worker")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer nc.Close()
	w := &Worker{Name: os.Getenv("DIST_TEST_NAME"), Backend: cpu.New(1), Tools: fakeToolsFactory, Batch: 2,
		Log: log.New(os.Stderr, "", 0)}
	if os.Getenv("DIST_TEST_STALL") != "" {
		w.stall = func() { fmt.Fprintln(os.Stderr, "stalling mid-group"); select {} }
	}
	w.Run(context.Background(), js)
	return 0
}

type fakeTools struct{}

func (fakeTools) Result(_ context.Context, ev tools.Event) string {
	return tools.FormatResult("the answer is x", 0)
}

func fakeToolsFactory(RunSpec) (rl.ToolRunner, *tools.Protocol, error) {
	return fakeTools{}, &tools.Protocol{Tools: []string{"search"}, MaxCalls: 3}, nil
}

// fixture is a tiny model, tokenizer and task shared by the tests.
type fixture struct {
	tok     *tokenizer.Tokenizer
	prompts []rl.Prompt
	ac      rl.AlgoConfig
	prec    nn.Precision // of the rollout engine's weights
	kv      nn.Precision // of its KV cache
}

func newFixture(t *testing.T) fixture {
	texts := []string{"what is x? <search> x </search> <answer> x </answer>", "the answer is x", "where is y"}
	tok, err := tokenizer.Train(texts, 280, tokenizer.DefaultSpecials)
	require.NoError(t, err)
	bpe := rl.BPE{T: tok}
	ex := &tasks.Example{Question: "q", Answer: "x", Metric: grade.MetricEM}
	var ps []rl.Prompt
	for _, q := range []string{"what is x?", "where is y", "x or y?"} {
		ps = append(ps, rl.Prompt{Example: ex, Tokens: rl.RenderPrompt(bpe, "", q)})
	}
	ac := rl.DefaultAlgoConfig(rl.ARPO, 4)
	ac.Rollout.N, ac.Rollout.K, ac.Rollout.TokenBudget, ac.Rollout.Seed = 2, 3, 40, 5
	ac.Rollout.EOS = []int32{int32(tok.EOS())}
	return fixture{tok: tok, prompts: ps, ac: ac}
}

func (f fixture) model(t *testing.T) (*nn.Model, *nn.AdamW) {
	cfg := nn.Config{ModelType: "llama", VocabSize: f.tok.VocabSize(), HiddenSize: 16, NumLayers: 1, NumHeads: 2,
		NumKVHeads: 1, HeadDim: 8, IntermediateSize: 24, RopeTheta: 10000, RMSNormEps: 1e-6, MaxPositionEmbeddings: 64}
	m, err := nn.New(cfg, cpu.New(2))
	require.NoError(t, err)
	m.Init(9)
	opt, err := nn.NewAdamW(m, nn.DefaultAdamW(1e-2))
	require.NoError(t, err)
	return m, opt
}

func (f fixture) trainer(t *testing.T) *rl.Trainer {
	m, opt := f.model(t)
	e := engine.New(m, EngineOptions())
	require.NoError(t, e.SetPrecision(f.prec))
	require.NoError(t, e.SetCachePrecision(f.kv))
	return &rl.Trainer{Model: m, Opt: opt, Cfg: f.ac, Roller: &rl.Roller{
		Engine: e, Tok: rl.BPE{T: f.tok},
		Protocol: &tools.Protocol{Tools: []string{"search"}, MaxCalls: 3}, Tools: fakeTools{}, Cfg: f.ac.Rollout,
	}}
}

// steps runs RL steps 1..n and returns the final weights and each step's
// trajectory texts.
func (f fixture) steps(t *testing.T, tr *rl.Trainer, n int, before func(step int)) ([]float32, [][]string) {
	var texts [][]string
	for step := 1; step <= n; step++ {
		if before != nil {
			before(step)
		}
		_, scored, err := tr.Step(context.Background(), step, f.prompts, nil)
		require.NoError(t, err)
		var ts []string
		for _, s := range scored {
			ts = append(ts, fmt.Sprint(s.Prompt, s.Text))
		}
		texts = append(texts, ts)
	}
	w, err := tr.Model.W.Data()
	require.NoError(t, err)
	return w, texts
}

// cluster is an embedded server with a source for run "test".
type cluster struct {
	srv *Embedded
	src *Source
	ctx context.Context
}

func newCluster(t *testing.T, f fixture, ackWait time.Duration, run string) *cluster {
	srv, err := StartEmbedded()
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	return &cluster{srv: srv, src: attach(t, srv, f, ackWait, run), ctx: context.Background()}
}

func attach(t *testing.T, srv *Embedded, f fixture, ackWait time.Duration, run string) *Source {
	nc, js, err := Connect(srv.URL(), "trainer")
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	src, err := NewSource(ctx, js, SourceOptions{Run: run, AckWait: ackWait, Log: testLog{t}})
	require.NoError(t, err)
	tj, err := f.tok.MarshalHF()
	require.NoError(t, err)
	spec := RunSpec{Tokenizer: tj}
	if f.prec != nn.F32 {
		spec.RolloutPrecision = f.prec.String()
	}
	if f.kv != nn.F32 {
		spec.KVCache = f.kv.String()
	}
	require.NoError(t, src.PublishSpec(ctx, spec))
	src.Vocab = f.tok.VocabSize()
	return src
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// goWorkers runs n workers in this process until the test ends.
func goWorkers(t *testing.T, url string, n int) []*Worker {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var ws []*Worker
	for i := range n {
		nc, js, err := Connect(url, "worker")
		require.NoError(t, err)
		w := &Worker{Name: fmt.Sprintf("w%d", i), Backend: cpu.New(1), Tools: fakeToolsFactory, Batch: 2, Log: log.New(io.Discard, "", 0)}
		ws = append(ws, w)
		wg.Add(1)
		go func() { defer wg.Done(); defer nc.Close(); w.Run(ctx, js) }()
	}
	t.Cleanup(func() { cancel(); wg.Wait() })
	return ws
}

// distributed runs the steps with the cluster's source.
func (f fixture) distributed(t *testing.T, c *cluster, n int) ([]float32, [][]string) {
	tr := f.trainer(t)
	tr.Source = c.src
	return f.steps(t, tr, n, func(step int) {
		require.NoError(t, c.src.SetPolicy(c.ctx, step-1, tr.Model))
	})
}

// TestSynchronousMatchesSingleProcess: two RL steps with two workers give
// the weights of the single-process run, bit for bit.
func TestSynchronousMatchesSingleProcess(t *testing.T) {
	f := newFixture(t)
	m, _ := f.model(t)
	initial, err := m.W.Data()
	require.NoError(t, err)
	want, wantTexts := f.steps(t, f.trainer(t), 2, nil)
	require.NotEqual(t, initial, want, "the steps must learn something for the comparison to mean anything")
	c := newCluster(t, f, 0, "sync")
	ws := goWorkers(t, c.srv.URL(), 2)
	got, gotTexts := f.distributed(t, c, 2)
	assert.Equal(t, wantTexts, gotTexts)
	require.Equal(t, want, got)
	assert.Equal(t, 2*len(f.prompts), ws[0].Groups+ws[1].Groups)
	info := c.src.Last()
	assert.Equal(t, []int{0, 0, 0}, info.Staleness)
	assert.Zero(t, info.Rejected)
}

// TestSynchronousMatchesSingleProcessBF16: with bf16 rollout weights and
// a bf16 KV cache (the run spec's RolloutPrecision and KVCache) the workers
// roll out what the trainer's own engine would, bit for bit, and that
// differs from the float32 rollouts.
func TestSynchronousMatchesSingleProcessBF16(t *testing.T) {
	f := newFixture(t)
	_, scored32, err := f.trainer(t).Step(context.Background(), 1, f.prompts, nil)
	require.NoError(t, err)
	f.prec, f.kv = nn.BF16, nn.BF16
	_, want, err := f.trainer(t).Step(context.Background(), 1, f.prompts, nil)
	require.NoError(t, err)
	require.NotEqual(t, treeLogProbs(scored32), treeLogProbs(want), "bf16 rollouts must differ from float32 ones for the comparison to mean anything")

	c := newCluster(t, f, 0, "sync-bf16")
	goWorkers(t, c.srv.URL(), 2)
	tr := f.trainer(t)
	tr.Source = c.src
	require.NoError(t, c.src.SetPolicy(c.ctx, 0, tr.Model))
	_, got, err := tr.Step(context.Background(), 1, f.prompts, nil)
	require.NoError(t, err)
	require.Equal(t, treeLogProbs(want), treeLogProbs(got))
	w1, err := f.trainer(t).Model.W.Data()
	require.NoError(t, err)
	w2, err := tr.Model.W.Data()
	require.NoError(t, err)
	require.NotEqual(t, w1, w2, "the step must learn something")
}

// treeLogProbs lists the rollout log-probs of every node of the scored
// trajectories' trees.
func treeLogProbs(scored []rl.Scored) [][]float32 {
	var out [][]float32
	for _, s := range scored {
		for _, n := range s.Tree.Nodes {
			out = append(out, n.LogProbs)
		}
	}
	return out
}

// TestKilledWorkerGroupIsRedelivered: a worker process killed while it
// holds a group loses nothing: the group goes to another worker after the
// ack wait and the step ends with the single-process result.
func TestKilledWorkerGroupIsRedelivered(t *testing.T) {
	f := newFixture(t)
	want, _ := f.steps(t, f.trainer(t), 1, nil)
	c := newCluster(t, f, 500*time.Millisecond, "kill")
	tr := f.trainer(t)
	tr.Source = c.src
	require.NoError(t, c.src.SetPolicy(c.ctx, 0, tr.Model))

	exe, err := os.Executable()
	require.NoError(t, err)
	stalled := exec.Command(exe)
	stalled.Env = append(os.Environ(), "DIST_TEST_WORKER="+c.srv.URL(), "DIST_TEST_NAME=doomed", "DIST_TEST_STALL=1")
	stderr, err := stalled.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, stalled.Start())
	t.Cleanup(func() { stalled.Process.Kill(); stalled.Wait() })
	killed := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "stalling mid-group") {
				stalled.Process.Kill()
				close(killed)
				break
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	done := make(chan error, 1)
	go func() { _, _, err := tr.Step(context.Background(), 1, f.prompts, nil); done <- err }()
	select {
	case <-killed:
	case err := <-done:
		t.Fatalf("the step ended before the worker was killed: %v", err)
	case <-time.After(2 * time.Minute):
		t.Fatal("the doomed worker never took a group")
	}
	healthy := exec.Command(exe)
	healthy.Env = append(os.Environ(), "DIST_TEST_WORKER="+c.srv.URL(), "DIST_TEST_NAME=healthy")
	require.NoError(t, healthy.Start())
	t.Cleanup(func() { healthy.Process.Kill(); healthy.Wait() })
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(2 * time.Minute):
		t.Fatal("the step did not complete after the worker was killed")
	}
	got, err := tr.Model.W.Data()
	require.NoError(t, err)
	require.Equal(t, want, got)
	assert.Equal(t, map[string]int{"healthy": 3}, c.src.Last().Workers)
}

// TestRestartedTrainerReattaches: a trainer that stops mid-step (results
// published, some never read) and starts again gets every group exactly
// once and the single-process result.
func TestRestartedTrainerReattaches(t *testing.T) {
	f := newFixture(t)
	want, _ := f.steps(t, f.trainer(t), 1, nil)
	c := newCluster(t, f, 0, "restart")
	tr := f.trainer(t)
	require.NoError(t, c.src.SetPolicy(c.ctx, 0, tr.Model))
	ws := goWorkers(t, c.srv.URL(), 1)
	// The first trainer publishes the step and dies before it reads a result.
	cfg := stepConfig(tr)
	for i, p := range f.prompts {
		require.NoError(t, c.src.publish(c.ctx, c.src.newItem(cfg, 1<<4, i, p.Tokens)))
	}
	deadline := time.Now().Add(2 * time.Minute)
	for ws[0].Groups < len(f.prompts) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	require.Equal(t, len(f.prompts), ws[0].Groups)
	// The second one reattaches, publishes the step again and completes it.
	src := attach(t, c.srv, f, 0, "restart")
	require.NoError(t, src.SetPolicy(c.ctx, 0, tr.Model))
	tr.Source = src
	_, scored, err := tr.Step(context.Background(), 1, f.prompts, nil)
	require.NoError(t, err)
	assert.Len(t, scored, 4*len(f.prompts), "each group once")
	got, err := tr.Model.W.Data()
	require.NoError(t, err)
	require.Equal(t, want, got)
}

// TestHostileMessages: garbage and malformed work items and results are
// rejected with a reason; trainer and workers carry on and the step ends
// with the single-process result.
func TestHostileMessages(t *testing.T) {
	f := newFixture(t)
	want, _ := f.steps(t, f.trainer(t), 1, nil)
	c := newCluster(t, f, 0, "hostile")
	tr := f.trainer(t)
	tr.Source = c.src
	require.NoError(t, c.src.SetPolicy(c.ctx, 0, tr.Model))
	nc, js, err := Connect(c.srv.URL(), "attacker")
	require.NoError(t, err)
	defer nc.Close()
	good := WorkItem{Version: 1, Run: "hostile", Step: 1 << 4, Index: 0, Prompt: f.prompts[0].Tokens, Rollout: f.ac.Rollout, ID: "0123456789abcdef"}
	mutate := func(fn func(w *WorkItem)) []byte {
		w := good
		fn(&w)
		b, err := json.Marshal(w)
		require.NoError(t, err)
		return b
	}
	badWork := [][]byte{
		nil, []byte("not json"), []byte(`{"v":1}`), []byte(`{"v":2}`), []byte(`[1,2]`), []byte(`{"v":1,"run":"hostile","extra":1}`),
		mutate(func(w *WorkItem) { w.Rollout.M = 1 << 30 }),
		mutate(func(w *WorkItem) { w.Rollout.TokenBudget = -1 }),
		mutate(func(w *WorkItem) { w.Run = "../../etc" }),
		mutate(func(w *WorkItem) { w.Prompt = []int32{-5, 1 << 30} }),
		mutate(func(w *WorkItem) { w.Run = "nosuchrun" }),
		mutate(func(w *WorkItem) { w.Policy = 99 }), // a version that does not exist
		append(mutate(func(*WorkItem) {}), "{}"...),
	}
	for _, b := range badWork {
		_, err := js.Publish(c.ctx, workSubject("hostile"), b)
		require.NoError(t, err)
	}
	item := c.src.newItem(stepConfig(tr), 1<<4, 1, f.prompts[1].Tokens)
	id := item.ID
	tree := func(fn func(r *Result)) []byte {
		r := Result{Version: 1, Run: "hostile", Step: 1 << 4, Index: 1, Item: id, Worker: "evil", Texts: [][]byte{nil},
			Tree:         &rl.Tree{Nodes: []rl.Node{{Parent: -1, Tokens: f.prompts[1].Tokens, LossMask: make([]float32, len(f.prompts[1].Tokens)), LogProbs: make([]float32, len(f.prompts[1].Tokens)), Entropies: make([]float32, len(f.prompts[1].Tokens))}, {Parent: 0, Tokens: []int32{5}, LossMask: []float32{1}, LogProbs: []float32{-1}, Entropies: []float32{1}}}, Leaves: []int{1}},
			Trajectories: []rl.Trajectory{{Leaf: 1}}}
		fn(&r)
		b, err := json.Marshal(r)
		require.NoError(t, err)
		return b
	}
	badResults := [][]byte{
		[]byte("\x00\xff"), []byte(`{"v":1,"run":"hostile","step":-1}`),
		tree(func(r *Result) { r.Tree.Nodes[1].Parent = 7 }),
		tree(func(r *Result) { r.Tree.Nodes[1].Tokens = []int32{1 << 20} }),
		tree(func(r *Result) { r.Tree.Nodes[1].LogProbs = nil }),
		tree(func(r *Result) { r.Tree.Leaves = []int{42} }),
		tree(func(r *Result) { r.Trajectories[0].Leaf = -3 }),
		tree(func(r *Result) { r.Tree = nil }),
		tree(func(r *Result) { r.Step = 12345 }),
		tree(func(r *Result) { r.Texts = nil }),
		tree(func(r *Result) { r.Tree.Nodes[1].LogProbs[0] = 3 }),
		tree(func(r *Result) { r.Tree.Nodes[0].Tokens = []int32{1} }),
		tree(func(r *Result) { r.Item = "other" }),
	}
	require.NoError(t, checkGroup(mustDecode(t, tree(func(*Result) {})), item, f.tok.VocabSize()),
		"the template of the bad results is itself valid")
	for _, b := range badResults {
		_, err := js.Publish(c.ctx, resultSubject("hostile"), b)
		require.NoError(t, err)
	}
	ws := goWorkers(t, c.srv.URL(), 1)
	_, _, err = tr.Step(context.Background(), 1, f.prompts, nil)
	require.NoError(t, err)
	got, err := tr.Model.W.Data()
	require.NoError(t, err)
	require.Equal(t, want, got)
	assert.Positive(t, ws[0].Groups)
}

// stepConfig is the rollout configuration tr.Step gives its first step.
func stepConfig(tr *rl.Trainer) rl.RolloutConfig {
	cfg := tr.Cfg.Rollout
	cfg.DeltaHMean, cfg.DeltaHStd = tr.DeltaH.Mean, tr.DeltaH.Std()
	return cfg
}

func mustDecode(t *testing.T, data []byte) Result {
	r, err := DecodeResult(data)
	require.NoError(t, err)
	return r
}

// TestAsynchronousStaleness: with max staleness 1 the next step's groups
// go out ahead and come back generated with the previous policy; metrics
// record it.
func TestAsynchronousStaleness(t *testing.T) {
	f := newFixture(t)
	srv, err := StartEmbedded()
	require.NoError(t, err)
	defer srv.Close()
	nc, js, err := Connect(srv.URL(), "trainer")
	require.NoError(t, err)
	defer nc.Close()
	ctx := context.Background()
	src, err := NewSource(ctx, js, SourceOptions{Run: "async", MaxStaleness: 1, Log: testLog{t},
		Ahead: func(int) [][]int32 { return [][]int32{f.prompts[0].Tokens, f.prompts[1].Tokens, f.prompts[2].Tokens} }})
	require.NoError(t, err)
	tj, err := f.tok.MarshalHF()
	require.NoError(t, err)
	spec := RunSpec{Tokenizer: tj}
	if f.prec != nn.F32 {
		spec.RolloutPrecision = f.prec.String()
	}
	if f.kv != nn.F32 {
		spec.KVCache = f.kv.String()
	}
	require.NoError(t, src.PublishSpec(ctx, spec))
	src.Vocab = f.tok.VocabSize()
	goWorkers(t, srv.URL(), 2)
	tr := f.trainer(t)
	tr.Source = src
	var stale []int
	for step := 1; step <= 3; step++ {
		require.NoError(t, src.SetPolicy(ctx, step-1, tr.Model))
		_, _, err := tr.Step(ctx, step, f.prompts, nil)
		require.NoError(t, err)
		for _, s := range src.Last().Staleness {
			require.True(t, s == 0 || s == 1, "staleness %d", s)
		}
		stale = append(stale, src.Last().Staleness...)
	}
	assert.Equal(t, []int{0, 0, 0}, stale[:3], "step 1 goes out with the current policy")
	assert.Contains(t, stale[3:], 1, "later steps were generated ahead")
}

// TestUnknownConfigFieldIsReported: an item a worker cannot decode (here a
// configuration field it does not know, as from a newer trainer) comes back
// as an error result naming the item, which the trainer counts towards
// failing the step, instead of silence and a hang.
func TestUnknownConfigFieldIsReported(t *testing.T) {
	f := newFixture(t)
	c := newCluster(t, f, 0, "unknown")
	tr := f.trainer(t)
	require.NoError(t, c.src.SetPolicy(c.ctx, 0, tr.Model))
	goWorkers(t, c.srv.URL(), 1)
	item := c.src.newItem(f.ac.Rollout, 1<<4, 0, f.prompts[0].Tokens)
	data, err := json.Marshal(item)
	require.NoError(t, err)
	data = []byte(strings.Replace(string(data), `"rollout":{`, `"rollout":{"NewKnob":1,`, 1))
	_, err = c.src.js.Publish(c.ctx, workSubject("unknown"), data)
	require.NoError(t, err)
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		batch, err := c.src.results.Fetch(1, jetstream.FetchMaxWait(time.Second))
		require.NoError(t, err)
		for msg := range batch.Messages() {
			r, err := DecodeResult(msg.Data())
			require.NoError(t, err)
			assert.Equal(t, item.ID, r.Item)
			assert.Contains(t, r.Error, "NewKnob")
			return
		}
	}
	t.Fatal("no result came back for the undecodable item")
}
