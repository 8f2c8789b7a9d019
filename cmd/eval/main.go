// Command eval evaluates a checkpoint or a Hugging Face model with the tools
// on ToolWorld or a dataset file: pass@1 (greedy, or sampled with
// --temperature), pass@k, accuracy per question family, average tool calls
// and the format-error rate; it writes every graded trajectory as JSONL.
//
//	go run ./cmd/eval --model runs/X/checkpoints/final.safetensors
//	go run ./cmd/eval --model runs/X --k 8 --temperature 1 --out preds.jsonl
//	go run ./cmd/eval --model hf/Qwen2.5-0.5B --task jsonl:questions.jsonl
//
// For ToolWorld, a model inside a run folder is evaluated on that run's
// world (its config.json), so the test questions are the ones it never saw.
// It does not train; see cmd/train.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/goarpo/arpo/backend"
	_ "github.com/goarpo/arpo/backend/cpu"    // the default backend
	_ "github.com/goarpo/arpo/backend/vulkan" // --backend vulkan, in a build with -tags vulkan
	"github.com/goarpo/arpo/internal/exitcode"
	"github.com/goarpo/arpo/internal/runconfig"
	"github.com/goarpo/arpo/internal/runlog"
	"github.com/goarpo/arpo/internal/sysmem"
	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/chat"
	"github.com/goarpo/arpo/nn/engine"
	"github.com/goarpo/arpo/nn/load"
	"github.com/goarpo/arpo/rl"
	"github.com/goarpo/arpo/run"
	"github.com/goarpo/arpo/tasks"
	"github.com/goarpo/arpo/tasks/toolworld"
	"github.com/goarpo/arpo/tools"
	"github.com/goarpo/arpo/tools/python"
)

func main() {
	python.ServeChild() // --tool-isolation process runs each Python call in a child of this binary
	defer exitcode.OnPanic("eval")
	sysmem.LimitHeap()
	ctx, stop := exitcode.SignalContext("eval", os.Stderr)
	code := command(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// bad is bad input: one line, exit status 2.
func bad(format string, args ...any) error { return exitcode.Usagef(format, args...) }

type options struct {
	model, task, backend, out, system string
	isolation                         string // --tool-isolation
	data                              string // shared data folder (hotpotqa-local)
	thinking                          chat.Thinking
	threads, k, questions, budget     int
	device                            int
	calls, topk, maxResult            int
	temperature, topP                 float64
	seed                              uint64
	precision                         string // --precision
	kvCache                           string // --kv-cache
}

func command(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	err := evaluate(ctx, args, stdout)
	switch {
	case err == nil:
		return exitcode.OK
	case errors.Is(err, pflag.ErrHelp):
		return exitcode.OK
	case exitcode.IsUsage(err):
		fmt.Fprintln(stderr, "eval:", err)
		return exitcode.BadInput
	}
	fmt.Fprintln(stderr, "eval:", err)
	return exitcode.Failure
}

func evaluate(ctx context.Context, args []string, stdout io.Writer) error {
	var o options
	// The defaults of the settings a run also has are the run's (the quick
	// preset), so that an evaluation asks as training did.
	d := run.Default()
	fs := pflag.NewFlagSet("eval", pflag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.StringVar(&o.model, "model", "", "checkpoint file, run folder or Hugging Face folder (required)")
	fs.StringVar(&o.task, "task", "toolworld", "toolworld, hotpotqa-local, jsonl:FILE or parquet:FILE")
	fs.StringVar(&o.data, "data", tasks.DefaultDataDir(), "shared data folder for --task hotpotqa-local ($"+tasks.DataDirEnv+" sets the default)")
	fs.StringVar(&o.backend, "backend", "cpu", "compute backend: cpu, or vulkan (in a build with -tags vulkan)")
	fs.IntVar(&o.device, "device", 0, "GPU index for --backend vulkan")
	fs.StringVar(&o.out, "out", "", "write the graded trajectories here as JSONL (must not exist)")
	fs.StringVar(&o.system, "system", "", "system prompt (default: none for models trained here, the paper's tag-protocol prompt for a Hugging Face model)")
	fs.Var(&o.thinking, "thinking", "a Hugging Face model's thinking switch (Qwen3's enable_thinking): auto, on or off")
	fs.IntVar(&o.threads, "threads", 0, "CPU threads (0: all)")
	fs.IntVar(&o.k, "k", 1, "samples per question for pass@k (needs --temperature > 0)")
	fs.IntVar(&o.questions, "questions", 200, "test questions (0: all)")
	fs.IntVar(&o.budget, "token-budget", d.TokenBudget, "tokens per trajectory")
	fs.IntVar(&o.calls, "call-limit", d.CallLimit, "tool calls per trajectory")
	fs.IntVar(&o.topk, "search-topk", d.SearchTopK, "passages per search")
	fs.IntVar(&o.maxResult, "max-result", d.MaxResult, "bytes of a tool result shown to the model")
	fs.StringVar(&o.isolation, "tool-isolation", d.ToolIsolation, "where the Python tool runs model-written code: none (default: in this process) or process (a child process per call with a 2 GiB address-space cap: for servers and unread models; slower)")
	fs.Float64Var(&o.temperature, "temperature", d.Temperature, "sampling temperature (0: greedy)")
	fs.Float64Var(&o.topP, "top-p", d.TopP, "top-p")
	fs.Uint64Var(&o.seed, "seed", d.Seed, "sampling seed")
	fs.StringVar(&o.precision, "precision", "f32", "weights the engine decodes with: f32, or bf16 (bf16 linear weights, f32 sums; a Hugging Face folder's load straight into bf16 with no f32 copy; cpu and vulkan)")
	fs.StringVar(&o.kvCache, "kv-cache", "f32", "the engine's KV cache: f32, or bf16 (half the memory per position, keys and values rounded to bf16, f32 sums; cpu and vulkan)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return bad("%v", err)
	}
	switch {
	case o.model == "":
		return bad("--model is required")
	case o.k < 1 || o.k > 1 && o.temperature == 0:
		return bad("--k %d: pass@k needs k >= 1 and --temperature > 0", o.k)
	case o.temperature < 0 || o.topP < 0 || o.topP > 1 || o.budget < 16 || o.questions < 0:
		return bad("--temperature, --top-p, --token-budget or --questions out of range")
	}
	prec, err := nn.ParsePrecision(o.precision)
	if err != nil {
		return bad("--precision: %v", err)
	}
	kvCache, err := nn.ParsePrecision(o.kvCache)
	if err != nil {
		return bad("--kv-cache: %v", err)
	}
	if err := runconfig.CheckIsolation(o.isolation); err != nil {
		return bad("--tool-isolation: %v", err)
	}
	if o.out != "" {
		if _, err := os.Stat(o.out); err == nil {
			return bad("--out %s exists; not overwriting it", o.out)
		}
	}
	b, err := backend.Open(o.backend, backend.Options{Threads: o.threads, Device: o.device})
	if err != nil {
		return bad("--backend: %v", err)
	}
	// With bf16, a Hugging Face folder loads as a packed bf16 base (see
	// load.Options.BF16Base and Packed), which the engine decodes with in
	// place; only the engine reads the model here.
	l, err := load.Load(o.model, load.Options{Backend: b, RequireTokenizer: true, BF16Base: prec == nn.BF16, Packed: true})
	if err != nil {
		return bad("%v", err)
	}
	defer l.Free()
	m, tok := l.Model, l.Tokenizer
	test, ts, err := loadTask(o, l.Found.RunDir)
	if err != nil {
		return err
	}
	reg, err := tools.NewRegistry(ts...)
	if err != nil {
		return err
	}
	exec := runconfig.Executor(reg, o.maxResult)
	bpe := rl.BPE{T: tok}
	eng := engine.New(m, engine.DefaultOptions())
	defer eng.Close()
	if err := eng.SetPrecision(prec); err != nil {
		return bad("--precision: %v", err)
	}
	if err := eng.SetCachePrecision(kvCache); err != nil {
		return bad("--kv-cache: %v", err)
	}
	roller := &rl.Roller{
		// Not batch-invariant (engine.DefaultOptions says why): the same
		// flags give the same bits, which may differ in the last bits from
		// the evaluations inside the training run, whose engine is.
		Engine: eng, Tok: bpe,
		Protocol: reg.Protocol(o.calls), Tools: exec,
		Cfg: rl.RolloutConfig{M: 1, N: 1, TokenBudget: min(o.budget, m.Cfg.MaxPositionEmbeddings), ToolLag: 1, EOS: l.EOS},
	}
	prompts, err := renderPrompts(l, bpe, o, test)
	if err != nil {
		return err
	}
	bar := runlog.NewBar(stdout, runlog.IsTerminal(stdout), "eval", len(prompts))
	cfg := rl.EvalConfig{K: o.k, Seed: o.seed, Batch: 50, Window: 16, Progress: func(d, _ int) { bar.Set(d, "") }}
	cfg.Sampling.Temperature, cfg.Sampling.TopP = float32(o.temperature), float32(o.topP)
	res, err := rl.Evaluate(ctx, roller, prompts, cfg)
	if err != nil {
		return err
	}
	bar.Done(fmt.Sprintf("%d questions, %d samples each", len(prompts), res.K))
	fmt.Fprintf(stdout, "%-16s %5s %7s %7s %7s %7s\n", "family", "n", "pass@1", fmt.Sprintf("pass@%d", res.K), "calls", "fmt err")
	row := func(f rl.FamilyResult) {
		name := f.Family
		if f.Novel {
			name += " *"
		}
		// pass@1 is the mean over all K samples: the same expectation as the
		// first sample's score, with K times less variance.
		fmt.Fprintf(stdout, "%-16s %5d %7.3f %7.3f %7.2f %6.1f%%\n", name, f.Questions, f.MeanK, f.PassK, f.ToolCalls, 100*f.FormatErrors)
	}
	for _, f := range res.Families {
		row(f)
	}
	row(res.Overall)
	if o.out != "" {
		if err := runlog.WriteJSONL(o.out, res.Predictions); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "predictions: %s\n", o.out)
	}
	return nil
}

// loadTask returns the test questions and the tools that answer them.
func loadTask(o options, runDir string) ([]tasks.Example, []tools.Tool, error) {
	var ex []tasks.Example
	var corpus []tasks.Passage
	var err error
	switch t := o.task; {
	case t == "toolworld":
		wc := toolworld.DefaultConfig()
		if runDir != "" {
			rc, err := run.ReadConfig(runDir)
			if err != nil {
				return nil, nil, bad("run config: %v", err)
			}
			wc = rc.World().Config()
		}
		d, err := toolworld.Generate(wc)
		if err != nil {
			return nil, nil, bad("toolworld: %v", err)
		}
		ex, corpus = d.Test, d.Corpus
	case t == "hotpotqa-local":
		if ex, corpus, err = tasks.LoadShared(o.data, t); err != nil {
			return nil, nil, bad("--task: %v", err)
		}
	default:
		if ex, err = tasks.Load(t, tasks.Options{}); err != nil { // honours a jsonl: or parquet: prefix
			return nil, nil, bad("--task: %v", err)
		}
	}
	if o.questions > 0 && o.questions < len(ex) {
		ex = ex[:o.questions]
	}
	for i, e := range ex {
		if strings.TrimSpace(e.Answer) == "" {
			return nil, nil, bad("--task: question %d (%q) has no answer", i, e.ID)
		}
	}
	ts := []tools.Tool{runconfig.Python(o.isolation)}
	if corpus != nil {
		ts = append(ts, runconfig.Search(corpus, o.topk))
	}
	return ex, ts, nil
}

// renderPrompts asks each question as cmd/train does: a Hugging Face model
// in its own chat template with the paper's system prompt (unless --system
// gives one), a model trained here in the ChatML it learnt.
func renderPrompts(l *load.Loaded, bpe rl.BPE, o options, test []tasks.Example) ([]rl.Prompt, error) {
	var tmpl *chat.Template
	system := o.system
	if l.Pretrained() {
		tmpl = l.Chat
		if system == "" {
			system = tasks.SystemPrompt
		}
	}
	prompts := make([]rl.Prompt, len(test))
	for i := range test {
		sys := system
		if test[i].System != "" {
			sys = test[i].System
		}
		toks, err := rl.RenderChatPrompt(bpe, tmpl, o.thinking, sys, test[i].Question)
		if err != nil {
			return nil, bad("--model %s: rendering question %q with its chat template: %v", o.model, test[i].ID, err)
		}
		prompts[i] = rl.Prompt{Example: &test[i], Tokens: toks}
	}
	return prompts, nil
}
