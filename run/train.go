package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/goarpo/arpo/backend"
	"github.com/goarpo/arpo/dist"
	"github.com/goarpo/arpo/internal/exitcode"
	"github.com/goarpo/arpo/internal/faultinject"
	"github.com/goarpo/arpo/internal/runlog"
	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/engine"
	"github.com/goarpo/arpo/nn/load"
	"github.com/goarpo/arpo/nn/tokenizer"
	"github.com/goarpo/arpo/rl"
)

// ErrInterrupted ends a run stopped by Ctrl-C (a cancelled context) after
// its checkpoint is saved: the run folder can be resumed.
var ErrInterrupted = errors.New("interrupted")

// job is one run in progress.
type job struct {
	c      Config
	dir    string
	out    io.Writer
	tty    bool
	st     state
	log    *runlog.JSONL // the log of the phase running, made durable before each checkpoint
	lock   *runlog.Lock  // held while the run folder is written
	resume bool
	td     *taskData
	tok    *tokenizer.Tokenizer
	b      backend.Backend
	model  *nn.Model
	merged *nn.Model // with LoRA: the model the rollout engine decodes (policy)
	opt    *nn.AdamW
	roller *rl.Roller
	test   []rl.Prompt
	start  time.Time
}

// resumable lists the flags that may change when a run is resumed: they
// change how long or how fast it runs, not what it computes (and what it
// exports). configIdentity leaves the same fields out.
var resumable = map[string]bool{"rl-steps": true, "threads": true, "checkpoint-every": true, "eval-every": true,
	"sft-checkpoint-every": true, "save-trees": true, "serve": true, "export-dtype": true, "workers": true, "nats": true,
	"tool-isolation": true}

// Options are how a run is driven, beyond what it computes.
type Options struct {
	// Out receives the progress lines and the summary; progress bars draw
	// when it is a terminal.
	Out io.Writer
	// Serve is the address of the live dashboard ("" for none).
	Serve string
}

// Start runs c from the beginning in a new run folder, c.Out (default
// runs/<time>-<algo>): it validates c, sets the run up, cold-starts with SFT
// (unless c.Model), trains with RL, evaluates and exports. Bad input is an
// exitcode.UsageError before anything is written; a cancelled ctx saves a
// checkpoint and returns ErrInterrupted (wrapped), after which Resume
// continues the run.
func Start(ctx context.Context, c Config, o Options) error {
	j := newJob(o, false)
	defer func() { j.lock.Unlock() }()
	j.c = c
	if err := j.c.Validate(); err != nil {
		return err
	}
	j.dir = j.c.Out
	if j.dir == "" {
		j.dir = filepath.Join("runs", time.Now().Format("20060102-150405")+"-"+j.c.Algo)
	}
	if err := runlog.CheckNew(j.dir); err != nil {
		return exitcode.Usagef("--out: %v", err)
	}
	j.c.Out = j.dir
	j.st.Phase = "sft"
	return j.execute(ctx, o)
}

// Resume continues the run in dir from its latest checkpoint, also after a
// kill at any moment (runstate.go). changed names the flags given with
// --resume, whose values are in c; only the Resumable ones may change, the
// rest of the configuration is the run's own config.json.
func Resume(ctx context.Context, dir string, c Config, changed []string, o Options) error {
	j := newJob(o, true)
	defer func() { j.lock.Unlock() }()
	if err := j.openResume(dir, c, changed); err != nil {
		return err
	}
	return j.execute(ctx, o)
}

func newJob(o Options, resume bool) *job {
	if o.Out == nil {
		o.Out = io.Discard
	}
	return &job{out: o.Out, tty: runlog.IsTerminal(o.Out), start: time.Now(), resume: resume}
}

func (j *job) execute(ctx context.Context, o Options) error {
	stopServing, err := j.serve(ctx, o.Serve)
	if err != nil {
		return err
	}
	defer stopServing()
	if err := j.setup(ctx); err != nil {
		return err
	}
	if j.st.Phase == "sft" {
		if err := j.sft(ctx); err != nil {
			return err
		}
	}
	before, err := j.evaluation(ctx, "sft", 0)
	if err != nil {
		return err
	}
	if j.st.Phase == "rl" {
		if err := j.rlPhase(ctx); err != nil {
			return err
		}
	}
	// Tagged by step, so that a run extended with --resume --rl-steps
	// evaluates its new final model instead of reading the old result.
	after, err := j.evaluation(ctx, rlTag(j.st.RLStep), j.st.RLStep)
	if err != nil {
		return err
	}
	if err := j.saveAs("final"); err != nil {
		return err
	}
	if err := j.exportHF(); err != nil {
		return err
	}
	if err := j.exportPEFT(); err != nil {
		return err
	}
	return j.finish(before, after)
}

// rlTag names the evaluation after RL step `step`.
func rlTag(step int) string { return fmt.Sprintf("rl-step%04d", step) }

// Resumable reports whether a flag may change when a run is resumed.
func Resumable(name string) bool { return resumable[name] }

// openResume reads a run folder's config and state; flags other than the
// resumable ones must not change the run.
func (j *job) openResume(dir string, flags Config, changed []string) error {
	j.dir = dir
	set := map[string]bool{}
	for _, name := range changed {
		set[name] = true
	}
	var c Config
	if err := runlog.ReadJSON(filepath.Join(j.dir, "config.json"), &c); err != nil {
		return exitcode.Usagef("--resume: %v", err)
	}
	if c.SFTCheckpointEv == 0 {
		c.SFTCheckpointEv = quickPreset().SFTCheckpointEv // a config.json from before the flag
	}
	for _, name := range changed {
		if name == "resume" {
			continue
		}
		if !resumable[name] {
			return exitcode.Usagef("--resume: --%s cannot change in a resumed run (only --rl-steps, --threads, --checkpoint-every, --sft-checkpoint-every, --eval-every, --save-trees, --serve, --export-dtype, --workers, --nats, --tool-isolation)", name)
		}
	}
	pick := func(name string, flag, saved int) int {
		if set[name] {
			return flag
		}
		return saved
	}
	c.SaveTrees = pick("save-trees", flags.SaveTrees, c.SaveTrees)
	c.Workers, c.NATS = flags.Workers, flags.NATS // where rollouts run is not part of the run
	c.RLSteps, c.Threads, c.CheckpointEv, c.EvalEvery = pick("rl-steps", flags.RLSteps, c.RLSteps),
		pick("threads", flags.Threads, c.Threads), pick("checkpoint-every", flags.CheckpointEv, c.CheckpointEv),
		pick("eval-every", flags.EvalEvery, c.EvalEvery)
	c.SFTCheckpointEv = pick("sft-checkpoint-every", flags.SFTCheckpointEv, c.SFTCheckpointEv)
	if set["export-dtype"] {
		c.ExportDType = flags.ExportDType
	}
	if set["tool-isolation"] {
		c.ToolIsolation = flags.ToolIsolation // where tools run is not part of the run
	}
	if err := c.Validate(); err != nil {
		return err
	}
	if err := j.openState(c); err != nil {
		return err
	}
	if j.st.Phase == "done" && c.RLSteps > j.st.RLStep {
		j.st.Phase = "rl" // more RL steps asked for: carry on
	}
	j.c = c
	return nil
}

func (j *job) ckpt(name string) string {
	return filepath.Join(j.dir, "checkpoints", name+".safetensors")
}

func (j *job) printf(format string, args ...any) { fmt.Fprintf(j.out, format, args...) }

// setup builds the task, the tokenizer, the model and the roller.
func (j *job) setup(ctx context.Context) error {
	var err error
	if j.b, err = openBackend(j.c); err != nil {
		return err
	}
	t0 := time.Now()
	if j.td, err = loadTask(ctx, j.c); err != nil {
		return err
	}
	j.printf("%-10s %s (%s)\n", "task", j.td.summary, time.Since(t0).Round(100*time.Millisecond))
	resuming := j.resume
	switch {
	case resuming:
		if j.tok, err = tokenizer.Load(filepath.Join(j.dir, "tokenizer.json")); err != nil {
			return exitcode.Usagef("--resume: %v", err)
		}
		ck, lora, err := j.resumeLoRA(j.ckpt("latest"))
		if err == nil && !lora {
			ck, err = nn.LoadCheckpoint(j.ckpt("latest"), j.b)
		}
		if err != nil {
			return exitcode.Usagef("--resume: %v", err)
		}
		j.model, j.opt = ck.Model, ck.Opt
		if j.st.Phase == "sft" && j.opt.Step != j.st.SFTStep {
			return exitcode.Usagef("--resume: %s has taken %d optimizer steps, state.json says sft step %d (damaged)",
				j.ckpt("latest"), j.opt.Step, j.st.SFTStep)
		}
		j.printf("%-10s %s at %s\n", "resume", j.dir, j.st.at())
	case j.c.Model != "":
		l, err := j.loadPretrained(j.c.Model)
		if err != nil {
			return err
		}
		j.model, j.tok = l.Model, l.Tokenizer
		j.st.Phase = "rl"
		if err := j.attachLoRA(); err != nil {
			return err
		}
	default:
		t0 := time.Now()
		if j.tok, err = trainTokenizer(j.td, j.c.Vocab); err != nil {
			return err
		}
		if j.model, err = newModel(j.c, j.tok.VocabSize(), j.b); err != nil {
			return err
		}
		j.printf("%-10s %d tokens; model %.2fM parameters (%s)\n", "tokenizer", j.tok.VocabSize(),
			float64(j.model.NumParams())/1e6, time.Since(t0).Round(100*time.Millisecond))
	}
	if err := j.setPrecision(); err != nil {
		return err
	}
	if j.td.demos == nil && j.c.Model == "" && !resuming {
		return exitcode.Usagef("--task %s has no demonstrations: give --model", j.c.Task)
	}
	hfDir := pretrainedHF(j.c.Model)
	if err := j.promptFormat(hfDir); err != nil {
		return err
	}
	if !resuming {
		// Everything is checked: only now is the run folder made.
		if err := runlog.Create(j.dir); err != nil {
			return exitcode.Usagef("--out: %v", err)
		}
		if j.lock, err = runlog.LockDir(j.dir); err != nil {
			return exitcode.Usagef("--out: %v", err)
		}
		if err := os.MkdirAll(filepath.Join(j.dir, "checkpoints"), 0o755); err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(j.dir, "samples"), 0o755); err != nil {
			return err
		}
		if err := runlog.WriteJSON(filepath.Join(j.dir, "config.json"), j.c); err != nil {
			return err
		}
		if err := j.tok.Save(filepath.Join(j.dir, "tokenizer.json")); err != nil {
			return err
		}
		if j.st.Phase == "sft" {
			j.opt, err = j.sftOptimizer()
		} else {
			j.opt, err = j.rlOptimizer()
		}
		if err != nil {
			return err
		}
		if err := j.startState(); err != nil {
			return err
		}
	}
	bpe := rl.BPE{T: j.tok}
	ac, _ := j.c.algoConfig()
	tmpl, err := j.chatTemplate(hfDir)
	if err != nil {
		return exitcode.Usagef("--model: %v", err)
	}
	if ac.Rollout.EOS, err = load.EOSIDs(j.tok, tmpl, j.model.Cfg, hfDir); err != nil {
		return exitcode.Usagef("--model: %v", err)
	}
	if ac.Rollout.TokenBudget > j.model.Cfg.MaxPositionEmbeddings {
		ac.Rollout.TokenBudget = j.model.Cfg.MaxPositionEmbeddings
	}
	policy, err := j.policy()
	if err != nil {
		return err
	}
	eng := engine.New(policy, dist.EngineOptions()) // batch-invariant: the same bits on rollout workers
	if err := j.setRolloutPrecision(eng); err != nil {
		eng.Close()
		return err
	}
	j.roller = &rl.Roller{Engine: eng, Tok: bpe, Protocol: j.td.proto, Tools: j.td.exec, Cfg: ac.Rollout}
	test, err := prompts(bpe, j.td.tmpl, j.c.thinking(), j.td.system, j.td.test, ac.Rollout.TokenBudget)
	if err != nil {
		return err
	}
	j.test = test
	if n := len(j.td.test) - len(j.test); n > 0 {
		j.printf("skipping %d of %d test questions: their prompts leave no room in the token budget of %d\n", n, len(j.td.test), ac.Rollout.TokenBudget)
	}
	return nil
}

// saveAs writes a named checkpoint (weights and optimizer), e.g. "sft".
func (j *job) saveAs(name string) error {
	return nn.Checkpoint{Model: j.model, Opt: j.opt, Base: j.loraBase()}.Save(j.ckpt(name))
}

func (j *job) interrupted() error {
	if err := j.save(); err != nil {
		return fmt.Errorf("interrupted, and saving the checkpoint failed: %w", err)
	}
	return fmt.Errorf("%w at %s: checkpoint saved; continue with --resume %s", ErrInterrupted, j.st.at(), j.dir)
}

// sft is the cold start: supervised steps on the demonstrations.
func (j *job) sft(ctx context.Context) error {
	c := j.c
	bpe := rl.BPE{T: j.tok}
	var data []rl.SFTExample
	skipped := 0
	for _, e := range j.td.demos {
		ex := rl.NewSFTExample(bpe, rl.RenderPrompt(bpe, j.td.system, e.Question), e.Gold)
		if len(ex.Tokens) > j.model.Cfg.MaxPositionEmbeddings || len(ex.Tokens) > c.TokenBudget {
			skipped++
			continue
		}
		data = append(data, ex)
	}
	if len(data) == 0 {
		return exitcode.Usagef("sft: no demonstration fits in --token-budget %d", c.TokenBudget)
	}
	s, err := rl.NewSFT(j.model, j.opt, data, rl.SFTConfig{BatchSeqs: c.SFTBatch, MicroTokens: c.MicroTokens, Seed: c.Seed})
	if err != nil {
		return err
	}
	log, err := runlog.OpenJSONL(filepath.Join(j.dir, "sft.jsonl"))
	if err != nil {
		return err
	}
	defer log.Close()
	j.log = log
	defer func() { j.log = nil }()
	bar := runlog.NewBar(j.out, j.tty, "sft", c.SFTSteps)
	var ema float64
	tokens, t0 := 0, time.Now()
	every := max(1, c.SFTSteps/10)
	for j.opt.Step < c.SFTSteps {
		if ctx.Err() != nil {
			bar.Clear()
			j.st.SFTStep = j.opt.Step
			return j.interrupted()
		}
		loss, info, n, err := s.Step()
		if err != nil {
			return fmt.Errorf("sft step %d: %w", j.opt.Step, err)
		}
		tokens += n
		if ema == 0 {
			ema = float64(loss)
		}
		ema = 0.95*ema + 0.05*float64(loss)
		tps := float64(tokens) / time.Since(t0).Seconds()
		if err := log.Add(map[string]any{"step": j.opt.Step, "loss": loss, "lr": info.LR, "grad_norm": info.GradNorm,
			"tokens": n, "tokens_per_s": tps}); err != nil {
			return err
		}
		bar.Set(j.opt.Step, fmt.Sprintf("loss %.3f  %.0f tok/s", ema, tps))
		if j.opt.Step%every == 0 && j.tty {
			bar.Clear()
			j.printf("sft step %4d  loss %.3f  lr %.2g  %.0f tok/s\n", j.opt.Step, ema, info.LR, tps)
		}
		faultinject.At("sft-step")
		if j.opt.Step%c.SFTCheckpointEv == 0 && j.opt.Step < c.SFTSteps {
			j.st.SFTStep = j.opt.Step
			if err := j.save(); err != nil {
				return err
			}
		}
	}
	bar.Done(fmt.Sprintf("%d steps on %d demonstrations (%d too long), loss %.3f, %.0f tokens/s", c.SFTSteps, len(data), skipped, ema,
		float64(tokens)/max(time.Since(t0).Seconds(), 1e-9)))
	if err := j.saveAs("sft"); err != nil {
		return err
	}
	if j.st.SFT, err = fileSHA256(j.ckpt("sft")); err != nil {
		return err
	}
	j.st.position = position{Phase: "rl", SFTStep: c.SFTSteps, Config: j.st.Config}
	return j.startRL()
}

// sftOptimizer is the optimizer of the cold start.
func (j *job) sftOptimizer() (*nn.AdamW, error) {
	c := j.c
	cfg := nn.DefaultAdamW(c.SFTLR)
	cfg.Beta2, cfg.WeightDecay = 0.95, 0.1
	cfg.Schedule = nn.Schedule{Decay: "cosine", Warmup: c.SFTWarmup, Total: c.SFTSteps, MinRatio: 0.1}
	return nn.NewAdamW(j.model, cfg)
}

// rlOptimizer is the optimizer of the RL phase.
func (j *job) rlOptimizer() (*nn.AdamW, error) {
	cfg := nn.DefaultAdamW(j.c.LR)
	cfg.Beta2, cfg.WeightDecay = 0.95, 0
	return nn.NewAdamW(j.model, cfg)
}

// startRL replaces the SFT optimizer with the RL one and checkpoints.
func (j *job) startRL() error {
	j.opt.Free()
	var err error
	if j.opt, err = j.rlOptimizer(); err != nil {
		return err
	}
	return j.save()
}

// MetricsLine is one line of metrics.jsonl: the trainer's numbers and the
// tool executor's counters for the step.
type MetricsLine struct {
	rl.StepMetrics
	ToolFailures int64              `json:"tool_failures"`
	ToolTimeouts int64              `json:"tool_timeouts"`
	ToolCacheHit int64              `json:"tool_cache_hits"`
	ToolLatency  map[string]float64 `json:"tool_latency_ms"` // mean per executed call, by tool
	Invalid      map[string]int64   `json:"invalid_by_problem"`
	Elapsed      float64            `json:"elapsed_s"`
	Dist         *dist.StepInfo     `json:"dist,omitempty"` // rollouts on workers (workers.go)
}

// rlPhase runs RL steps until --rl-steps, checkpointing on the way.
func (j *job) rlPhase(ctx context.Context) error {
	c := j.c
	ac, _ := c.algoConfig()
	ac.Rollout = j.roller.Cfg
	tr := &rl.Trainer{Model: j.model, Opt: j.opt, Roller: j.roller, Cfg: ac, DeltaH: j.st.DeltaH}
	if j.model.LoRA != nil {
		tr.Rollout = j.merged // refreshed after each update
	}
	if ac.Loss.KLCoef > 0 {
		ref, err := j.reference()
		if err != nil {
			return err
		}
		defer ref.Free()
		// The KL term's reference log-probs in the policy's precision.
		if err := ref.SetPrecision(j.model.Precision()); err != nil {
			return err
		}
		tr.Ref = ref
	}
	pool, err := prompts(rl.BPE{T: j.tok}, j.td.tmpl, j.c.thinking(), j.td.system, j.td.train, tr.Cfg.Rollout.TokenBudget)
	if err != nil {
		return err
	}
	if n := len(j.td.train) - len(pool); n > 0 {
		j.printf("skipping %d of %d training questions: their prompts leave no room in the token budget of %d\n", n, len(j.td.train), tr.Cfg.Rollout.TokenBudget)
	}
	draw := func(step, round, n int) []rl.Prompt {
		// A step's prompts depend only on (data seed, step): resumed runs
		// see the same ones, and so do runs that differ only in --seed.
		rng := rand.New(rand.NewPCG(c.dataSeed(), uint64(step)<<8|uint64(round)))
		out := make([]rl.Prompt, n)
		for i := range out {
			out[i] = pool[rng.IntN(len(pool))]
		}
		return out
	}
	ro, err := j.startRollouts(ctx, tr, func(step int) [][]int32 { return tokensOf(draw(step, 0, c.RLBatch)) })
	if err != nil {
		return err
	}
	defer ro.stop()
	log, err := runlog.OpenJSONL(filepath.Join(j.dir, "metrics.jsonl"))
	if err != nil {
		return err
	}
	defer log.Close()
	j.log = log
	defer func() { j.log = nil }()
	bar := runlog.NewBar(j.out, j.tty, c.Algo, c.RLSteps)
	bar.Set(j.st.RLStep, "")
	var first, last rl.StepMetrics
	for step := j.st.RLStep + 1; step <= c.RLSteps; step++ {
		j.td.exec.ResetStats()
		round := 0
		drawn := draw(step, 0, c.RLBatch) // and DAPO's refills: saveTrees looks prompts up here
		refill := func(n int) []rl.Prompt {
			round++
			ps := draw(step, round, n)
			drawn = append(drawn, ps...)
			return ps
		}
		if err := ro.beforeStep(ctx, j, step); err != nil {
			return err
		}
		met, scored, err := tr.Step(ctx, step, drawn[:c.RLBatch:c.RLBatch], refill)
		if ctx.Err() != nil {
			bar.Clear()
			return j.interrupted()
		}
		if err != nil {
			return fmt.Errorf("rl step %d: %w", step, err)
		}
		line := MetricsLine{StepMetrics: met, ToolLatency: map[string]float64{}, Invalid: map[string]int64{},
			Elapsed: time.Since(j.start).Seconds()}
		st := j.td.exec.Stats()
		tot := st.Total()
		line.ToolFailures, line.ToolTimeouts, line.ToolCacheHit = tot.Failures, tot.Timeouts, tot.CacheHits
		for name, ts := range st.Tools {
			if ts.Executed > 0 {
				line.ToolLatency[name] = float64(ts.Time.Microseconds()) / 1e3 / float64(ts.Executed)
			}
		}
		for p, n := range st.Invalid {
			line.Invalid[string(p)] = n
		}
		ro.afterStep(j, &line)
		if err := log.Add(line); err != nil {
			return err
		}
		if err := j.saveTrees(step, drawn, scored); err != nil {
			return err
		}
		if first.Step == 0 {
			first = met
		}
		last = met
		j.st.RLStep = step
		j.st.DeltaH = tr.DeltaH
		faultinject.At("rl-step")
		status := fmt.Sprintf("reward %.2f acc %.2f calls %d/%d", met.RewardMean, met.Accuracy, met.ToolCalls, met.ToolCallsFlat)
		bar.Set(step, status)
		if j.tty {
			bar.Clear()
			j.printf("%s step %3d  %s  branches %d  kl %.3f  %.1fs\n", c.Algo, step, status, met.Branches, met.ApproxKL,
				met.TimeRollout+met.TimeUpdate)
		}
		if step%c.CheckpointEv == 0 || step == c.RLSteps {
			if err := j.save(); err != nil {
				return err
			}
		}
		if c.EvalEvery > 0 && step%c.EvalEvery == 0 && step < c.RLSteps {
			bar.Clear()
			if _, err := j.evaluation(ctx, rlTag(step), step); err != nil {
				return err
			}
		}
	}
	bar.Done(fmt.Sprintf("%d steps; train reward %.2f -> %.2f, accuracy %.2f -> %.2f", c.RLSteps,
		first.RewardMean, last.RewardMean, first.Accuracy, last.Accuracy))
	j.st.Phase = "done"
	return j.save()
}

// reference loads the frozen policy of the KL term: the SFT model, or the
// --model the run started from.
func (j *job) reference() (*nn.Model, error) {
	if j.c.Model != "" {
		l, err := j.loadPretrained(j.c.Model)
		if err != nil {
			return nil, err
		}
		return l.Model, nil
	}
	if err := j.checkSFT(); err != nil {
		return nil, err
	}
	ck, err := nn.LoadCheckpoint(j.ckpt("sft"), j.b)
	if err != nil {
		return nil, err
	}
	ck.Opt.Free()
	return ck.Model, nil
}

// evalRecord is one line of evals.jsonl.
type evalRecord struct {
	Tag      string            `json:"tag"`
	Step     int               `json:"step"`
	Overall  rl.FamilyResult   `json:"overall"`
	Families []rl.FamilyResult `json:"families"`
	Entropy  rl.EntropyProfile `json:"entropy"`
	Seconds  float64           `json:"seconds"`
}

// evaluation evaluates the model on the test questions, or reads the
// result back when a resumed run already has it.
func (j *job) evaluation(ctx context.Context, tag string, step int) (evalRecord, error) {
	path := filepath.Join(j.dir, "samples", "eval-"+tag+".json")
	var rec evalRecord
	if err := runlog.ReadJSON(path, &rec); err == nil {
		return rec, j.logEval(rec)
	}
	bar := runlog.NewBar(j.out, j.tty, "eval "+tag, len(j.test))
	t0 := time.Now()
	res, err := rl.Evaluate(ctx, j.roller, j.test, j.evalConfig(func(done, total int) { bar.Set(done, "") }))
	if ctx.Err() != nil {
		bar.Clear()
		return rec, j.interrupted()
	}
	if err != nil {
		return rec, err
	}
	rec = evalRecord{Tag: tag, Step: step, Overall: res.Overall, Families: res.Families, Entropy: res.Entropy,
		Seconds: time.Since(t0).Seconds()}
	if err := runlog.WriteJSONL(filepath.Join(j.dir, "samples", "eval-"+tag+".jsonl"), res.Predictions); err != nil {
		return rec, err
	}
	if err := runlog.WriteJSON(path, rec); err != nil {
		return rec, err
	}
	if err := j.logEval(rec); err != nil {
		return rec, err
	}
	o := res.Overall
	passK := ""
	if res.K > 1 {
		passK = fmt.Sprintf("  pass@%d %.3f", res.K, o.PassK)
	}
	bar.Done(fmt.Sprintf("pass@1 %.3f%s  tool calls %.2f  format errors %.1f%%", o.Pass1, passK, o.ToolCalls, 100*o.FormatErrors))
	return rec, nil
}

func (j *job) evalConfig(progress func(int, int)) rl.EvalConfig {
	cfg := rl.EvalConfig{K: j.c.EvalK, Seed: j.c.Seed, Batch: 50, Window: 16, Progress: progress}
	cfg.Sampling.Temperature, cfg.Sampling.TopP = float32(j.c.Temperature), float32(j.c.TopP)
	return cfg
}
