package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/goarpo/arpo/backend"
	"github.com/goarpo/arpo/internal/analysis"
	"github.com/goarpo/arpo/internal/runconfig"
	"github.com/goarpo/arpo/internal/runlog"
	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/engine"
	"github.com/goarpo/arpo/nn/load"
	"github.com/goarpo/arpo/nn/sample"
	"github.com/goarpo/arpo/nn/tokenizer"
	"github.com/goarpo/arpo/rl"
	"github.com/goarpo/arpo/run"
	"github.com/goarpo/arpo/tasks/toolworld"
	"github.com/goarpo/arpo/tools"
)

// entropyOpts are the entropy analysis's inputs.
type entropyOpts struct {
	Model     string // a cmd/train checkpoint or run folder
	Tokenizer string // default: tokenizer.json beside the checkpoint or in its run folder
	RunConfig string // cmd/train's config.json: the world and tools; default the run folder's
	Out       string // folder for entropy.json, entropy.md, entropy.png
	Threads   int
	Seed      uint64
	EntropySpec
}

func parseEntropyArgs(args []string) (entropyOpts, error) {
	o := entropyOpts{EntropySpec: EntropySpec{}}
	fs := pflag.NewFlagSet("entropy", pflag.ContinueOnError)
	fs.SetOutput(&bytes.Buffer{})
	fs.StringVar(&o.Model, "model", "", "cmd/train checkpoint (.safetensors) to analyse")
	fs.StringVar(&o.Tokenizer, "tokenizer", "", "tokenizer.json (default: beside the checkpoint or in its run folder)")
	fs.StringVar(&o.RunConfig, "run-config", "", "cmd/train config.json giving the world and tools (default: the checkpoint's run folder)")
	fs.StringVar(&o.Out, "out", "", "folder for entropy.json, entropy.md and entropy.png (default: <run folder>/entropy-<checkpoint>)")
	fs.IntVar(&o.Threads, "threads", 0, "CPU threads (0: all)")
	fs.Uint64Var(&o.Seed, "seed", 1, "seed of the sampled rollouts and of the bootstrap")
	fs.IntVar(&o.Questions, "questions", 50, "test questions")
	fs.IntVar(&o.M, "m", 4, "sampled trajectories per question")
	fs.IntVar(&o.K, "k", 20, "tokens before and after a tool result in the window buckets")
	fs.IntVar(&o.Boot, "boot", 1000, "bootstrap resamples")
	fs.Float64Var(&o.Temperature, "temperature", 1, "sampling temperature of the rollouts")
	if err := fs.Parse(args); err != nil {
		if err == pflag.ErrHelp {
			return o, err
		}
		return o, badSpec("entropy: %v (see entropy --help)", err)
	}
	if fs.NArg() > 0 {
		return o, badSpec("entropy: unexpected argument %q", fs.Arg(0))
	}
	if o.Model == "" {
		return o, badSpec("entropy: --model CHECKPOINT is required")
	}
	if o.Questions < 1 || o.M < 1 || o.K < 1 || o.Boot < 1 || !(o.Temperature > 0) || o.Threads < 0 {
		return o, badSpec("entropy: --questions, --m, --k, --boot and --temperature must be positive")
	}
	return o, nil
}

// runDirOf is the run folder of a checkpoint: the folder above checkpoints/.
func runDirOf(ckpt string) string {
	d := filepath.Dir(ckpt)
	if filepath.Base(d) == "checkpoints" {
		return filepath.Dir(d)
	}
	return d
}

// entropy runs the analysis and writes its files; it returns the report.
func entropy(ctx context.Context, o entropyOpts) (analysis.Report, error) {
	var rep analysis.Report
	b, err := backend.Open("cpu", backend.Options{Threads: o.Threads})
	if err != nil {
		return rep, err
	}
	l, err := load.Load(o.Model, load.Options{Backend: b, Tokenizer: o.Tokenizer, RequireTokenizer: true})
	if err != nil {
		return rep, badSpec("entropy: %v", err)
	}
	defer l.Free()
	runDir := l.Found.RunDir
	if runDir == "" {
		runDir = runDirOf(l.Found.Weights[0])
	}
	if o.RunConfig == "" {
		o.RunConfig = filepath.Join(runDir, "config.json")
	}
	if o.Out == "" {
		o.Out = filepath.Join(runDir, "entropy-"+strings.TrimSuffix(filepath.Base(l.Found.Weights[0]), ".safetensors"))
	}
	tc, err := run.ReadConfig(o.RunConfig)
	if err != nil {
		return rep, badSpec("entropy: --run-config: %v", err)
	}
	if tc.Task != "toolworld" {
		return rep, badSpec("entropy: the run's task is %q; only toolworld runs can be rebuilt here", tc.Task)
	}
	tok := l.Tokenizer
	t0 := time.Now()
	roller, prompts, names, err := toolWorldRoller(ctx, tc, tok, l.Model, l.EOS, o)
	if err != nil {
		return rep, err
	}
	trajs, err := analysis.Collect(ctx, roller, prompts, 16, names)
	if err != nil {
		return rep, err
	}
	rep = analysis.Analyze(trajs, analysis.Config{K: o.K, Boot: o.Boot, Seed: o.Seed})
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return rep, err
	}
	if err := runlog.WriteJSON(filepath.Join(o.Out, "entropy.json"), rep); err != nil {
		return rep, err
	}
	var md bytes.Buffer
	fmt.Fprintf(&md, "Checkpoint %s: %d test questions x %d trajectories at temperature %g (%.1fs).\n\n",
		o.Model, len(prompts), o.M, o.Temperature, time.Since(t0).Seconds())
	if err := rep.WriteMarkdown(&md); err != nil {
		return rep, err
	}
	if err := os.WriteFile(filepath.Join(o.Out, "entropy.md"), md.Bytes(), 0o644); err != nil {
		return rep, err
	}
	return rep, rep.SavePlot(filepath.Join(o.Out, "entropy.png"), "Entropy around tool results: "+filepath.Base(runDir))
}

// toolWorldRoller rebuilds the run's ToolWorld test questions and tools
// (as cmd/train does) and a roller that samples M plain trajectories per
// question from model.
func toolWorldRoller(ctx context.Context, tc run.Config, tok *tokenizer.Tokenizer, model *nn.Model, eos []int32, o entropyOpts) (*rl.Roller, [][]int32, []string, error) {
	d, err := toolworld.Generate(tc.World().Config())
	if err != nil {
		return nil, nil, nil, badSpec("entropy: toolworld: %v", err)
	}
	reg, err := tools.NewRegistry(runconfig.Search(d.Corpus, tc.SearchTopK), runconfig.Python(tc.ToolIsolation))
	if err != nil {
		return nil, nil, nil, err
	}
	exec := runconfig.Executor(reg, tc.MaxResult)
	bpe := rl.BPE{T: tok}
	rc := rl.DefaultAlgoConfig(rl.GRPO, o.M).Rollout
	rc.Sampling = sample.Params{Temperature: float32(o.Temperature)}
	rc.TokenBudget = min(tc.TokenBudget, model.Cfg.MaxPositionEmbeddings)
	rc.Seed = o.Seed
	rc.EOS = eos
	roller := &rl.Roller{Engine: engine.New(model, engine.DefaultOptions()),
		Tok: bpe, Protocol: reg.Protocol(tc.CallLimit), Tools: exec, Cfg: rc}
	var prompts [][]int32
	for _, e := range d.Test[:min(o.Questions, len(d.Test))] {
		p := rl.RenderPrompt(bpe, "", e.Question)
		if len(p) < rc.TokenBudget {
			prompts = append(prompts, p)
		}
	}
	if len(prompts) == 0 {
		return nil, nil, nil, badSpec("entropy: no test question fits the token budget %d", rc.TokenBudget)
	}
	return roller, prompts, reg.Names(), ctx.Err()
}
