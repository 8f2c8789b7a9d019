package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/goarpo/arpo/backend"
	"github.com/goarpo/arpo/dist"
	"github.com/goarpo/arpo/internal/runconfig"
	"github.com/goarpo/arpo/internal/runlog"
	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/engine"
	"github.com/goarpo/arpo/nn/sample"
	"github.com/goarpo/arpo/nn/tokenizer"
	"github.com/goarpo/arpo/rl"
	"github.com/goarpo/arpo/tasks/toolworld"
)

func init() {
	register("rollouts", "rollout throughput in this process and on 1, 2, 4, 8 NATS rollout workers (docs/SCALE.md)", runRollouts)
	register("rollout-worker", "a rollout worker process (started by the rollouts suite)", runRolloutWorker)
}

// rolloutsResult is one line of the rollouts suite: one rollout of the same
// prompts, in this process (Workers 0) or on worker processes.
type rolloutsResult struct {
	Suite        string  `json:"suite"`
	Workers      int     `json:"workers"` // 0: in this process
	Threads      int     `json:"threads"` // per process
	Batch        int     `json:"batch"`   // work items a worker rolls out together
	Invariant    bool    `json:"batch_invariant"`
	Prompts      int     `json:"prompts"`
	Trajectories int     `json:"trajectories"`
	ToolCalls    int     `json:"tool_calls"`
	Seconds      float64 `json:"seconds"`
	TrajPerS     float64 `json:"trajectories_per_s"`
	SearchURL    string  `json:"search_url"`
	// PolicyUploadS is the time to store the weights in the object store,
	// which a training step pays once (not part of Seconds).
	PolicyUploadS float64 `json:"policy_upload_s,omitempty"`
	PolicyBytes   int     `json:"policy_bytes,omitempty"`
	// MessagingS is the trainer's time encoding, publishing, decoding and
	// checking messages during the rollout (part of Seconds).
	MessagingS  float64 `json:"messaging_s,omitempty"`
	ResultBytes int     `json:"result_bytes,omitempty"`
}

func runRolloutWorker(args []string) error {
	fs := pflag.NewFlagSet("rollout-worker", pflag.ContinueOnError)
	o := dist.ServeOptions{Backend: "cpu"}
	fs.StringVar(&o.URL, "nats", "", "NATS URL")
	fs.StringVar(&o.SearchURL, "search-url", "", "retriever URL")
	fs.IntVar(&o.Threads, "threads", 1, "threads")
	fs.StringVar(&o.Name, "name", "", "worker name")
	fs.IntVar(&o.Batch, "batch", dist.DefaultBatch, "work items rolled out together")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	ctx, stop := signalCtx()
	defer stop()
	return dist.Serve(ctx, o, log.New(logOut, "", 0))
}

func runRollouts(args []string) error {
	fs := pflag.NewFlagSet("rollouts", pflag.ContinueOnError)
	runDir := fs.String("run", "", "a cmd/train run folder: its SFT checkpoint, tokenizer and ToolWorld are used (required)")
	searchURL := fs.String("search-url", "", "retriever (cmd/searchd, e.g. with --delay 200ms) for search calls; empty: the local index")
	workers := fs.IntSlice("workers", []int{0, 1, 2, 4, 8}, "worker counts to run; 0 is this process")
	threads := fs.Int("threads", 1, "CPU threads of each process")
	prompts := fs.Int("prompts", 16, "prompts per rollout")
	m := fs.Int("m", 8, "trajectories per prompt")
	n := fs.Int("n", 4, "initial trajectories per prompt (ARPO branching up to m)")
	budget := fs.Int("token-budget", 256, "tokens per trajectory")
	batch := fs.Int("batch", dist.DefaultBatch, "work items a worker rolls out together")
	invariant := fs.Bool("batch-invariant", true, "in this process (workers 0), roll out with the batch-invariant engine, as cmd/train does; false measures what it costs")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *runDir == "" || *prompts < 1 || *m < 1 || *n < 1 || *n > *m || *threads < 1 {
		return badInput("give --run DIR; --prompts, --m, --n (<= m) and --threads must be >= 1")
	}
	var world runconfig.World
	if err := runlog.ReadJSON(filepath.Join(*runDir, "config.json"), &world); err != nil {
		return badInput("--run: %v", err)
	}
	tok, err := tokenizer.Load(filepath.Join(*runDir, "tokenizer.json"))
	if err != nil {
		return badInput("--run: %v", err)
	}
	b, err := backend.Open("cpu", backend.Options{Threads: *threads})
	if err != nil {
		return err
	}
	ck, err := nn.LoadCheckpoint(filepath.Join(*runDir, "checkpoints", "sft.safetensors"), b)
	if err != nil {
		return badInput("--run: %v", err)
	}
	ck.Opt.Free()
	model := ck.Model
	d, err := toolworld.Generate(world.Config())
	if err != nil {
		return err
	}
	bpe := rl.BPE{T: tok}
	var toks [][]int32
	for _, e := range d.Train {
		if p := rl.RenderPrompt(bpe, "", e.Question); len(p)+32 <= *budget && len(toks) < *prompts {
			toks = append(toks, p)
		}
	}
	cfg := rl.DefaultAlgoConfig(rl.ARPO, *m).Rollout
	cfg.N, cfg.TokenBudget, cfg.Seed = *n, min(*budget, model.Cfg.MaxPositionEmbeddings), 1
	cfg.Sampling = sample.Params{Temperature: 1}
	cfg.EOS = []int32{int32(tok.EOS())}
	if id, ok := tok.TokenID("<|im_end|>"); ok {
		cfg.EOS = append(cfg.EOS, int32(id))
	}
	spec := runconfig.ToolSpec{Task: "toolworld", World: world, SearchTopK: 2, MaxResult: 512, CallLimit: 4}
	ctx := context.Background()
	report := func(w int, trajs []rl.Trajectory, st rl.RolloutStats, sec float64, up upload) error {
		return emit(rolloutsResult{Suite: "rollouts", Workers: w, Threads: *threads, Batch: *batch, Invariant: w > 0 || *invariant, Prompts: len(toks),
			Trajectories: len(trajs), ToolCalls: st.ToolCalls, Seconds: sec, TrajPerS: float64(len(trajs)) / sec, SearchURL: *searchURL,
			PolicyUploadS: up.seconds, PolicyBytes: up.bytes, MessagingS: up.messaging, ResultBytes: up.resultBytes})
	}
	var srv *dist.Embedded
	defer func() {
		if srv != nil {
			srv.Close()
		}
	}()
	for _, w := range *workers {
		if w == 0 {
			ex, proto, err := spec.Build(*searchURL)
			if err != nil {
				return err
			}
			eo := dist.EngineOptions()
			eo.BatchInvariant = *invariant
			r := &rl.Roller{Engine: engine.New(model, eo), Tok: bpe, Protocol: proto, Tools: ex}
			// The same untimed warm-up as the workers get (cache grown,
			// scratch allocated, tools started).
			if _, _, _, err := r.RolloutWith(ctx, warmConfig(cfg), toks[:min(2, len(toks))], 0); err != nil {
				return err
			}
			t0 := time.Now()
			_, trajs, st, err := r.RolloutWith(ctx, cfg, toks, 1)
			r.Engine.Close()
			if err != nil {
				return err
			}
			if err := report(0, trajs, st, time.Since(t0).Seconds(), upload{}); err != nil {
				return err
			}
			continue
		}
		if srv == nil {
			if srv, err = dist.StartEmbedded(); err != nil {
				return err
			}
		}
		if err := distributedRollout(ctx, srv.URL(), w, *threads, *searchURL, *batch, model, tok, spec, cfg, toks, report); err != nil {
			return err
		}
	}
	return nil
}

// distributedRollout starts w worker processes of this binary, warms them
// up (policy and tools loaded) and times one rollout of toks on them.
func distributedRollout(ctx context.Context, url string, w, threads int, searchURL string, batch int, model *nn.Model, tok *tokenizer.Tokenizer,
	spec runconfig.ToolSpec, cfg rl.RolloutConfig, toks [][]int32, report func(int, []rl.Trajectory, rl.RolloutStats, float64, upload) error) error {
	nc, js, err := dist.Connect(url, "bench")
	if err != nil {
		return err
	}
	defer nc.Close()
	src, err := dist.NewSource(ctx, js, dist.SourceOptions{Run: fmt.Sprintf("bench-%d", w), Log: logOut})
	if err != nil {
		return err
	}
	tj, err := tok.MarshalHF()
	if err != nil {
		return err
	}
	if err := src.PublishSpec(ctx, dist.RunSpec{Tokenizer: tj, Tools: spec}); err != nil {
		return err
	}
	t0 := time.Now()
	if err := src.SetPolicy(ctx, 0, model); err != nil {
		return err
	}
	up := upload{seconds: time.Since(t0).Seconds(), bytes: 4 * model.NumParams()}
	src.Vocab = model.Cfg.VocabSize
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	var procs []*exec.Cmd
	defer func() {
		for _, p := range procs {
			p.Process.Signal(os.Interrupt)
			p.Wait()
		}
	}()
	for i := range w {
		p := exec.Command(exe, "rollout-worker", "--nats", url, "--search-url", searchURL,
			"--threads", fmt.Sprint(threads), "--name", fmt.Sprintf("bench-%d", i), "--batch", fmt.Sprint(batch))
		if err := p.Start(); err != nil {
			return err
		}
		procs = append(procs, p)
	}
	// Warm-up, untimed: workers load the spec, their tools and the policy
	// (with a work queue, a fast worker may take several of these and a
	// slow one none).
	var warm [][]int32
	for i := 0; i < 2*w; i++ {
		warm = append(warm, toks[i%len(toks)])
	}
	if _, _, _, err := src.RolloutWith(ctx, warmConfig(cfg), warm, 0); err != nil {
		return err
	}
	t0 = time.Now()
	_, trajs, st, err := src.RolloutWith(ctx, cfg, toks, 1)
	if err != nil {
		return err
	}
	sec := time.Since(t0).Seconds()
	up.messaging, up.resultBytes = src.Last().MessagingSeconds, src.Last().ResultBytes
	return report(w, trajs, st, sec, up)
}

// warmConfig is cfg cut down to one trajectory per prompt, for warm-ups.
func warmConfig(cfg rl.RolloutConfig) rl.RolloutConfig {
	cfg.M, cfg.N, cfg.Branch = 1, 1, false
	return cfg
}

// upload is the cost of publishing a policy version.
type upload struct {
	seconds     float64
	bytes       int
	messaging   float64
	resultBytes int
}

func signalCtx() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}
