package run

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/goarpo/arpo/internal/exitcode"
	"github.com/goarpo/arpo/internal/runconfig"
	"github.com/goarpo/arpo/nn/chat"
	"github.com/goarpo/arpo/nn/export"
	"github.com/goarpo/arpo/rl"
)

// Config is everything a run depends on. Its JSON and YAML keys are the
// flag names, so a config file reads like the command line; the effective
// Config is saved as config.json in the run folder.
type Config struct {
	Preset string `json:"preset"`
	Algo   string `json:"algo"`
	Task   string `json:"task"`
	Model  string `json:"model"`
	// Thinking is the chat template's thinking switch (Qwen3's
	// enable_thinking) for a Hugging Face --model: auto (the template's
	// default), on or off; "" is auto.
	Thinking string `json:"thinking,omitempty"`
	// Data is the shared data folder of --task gsm8k and hotpotqa-local; empty means
	// tasks.DefaultDataDir ($ARPO_SHARED_DATA, else ../shared/data).
	Data string `json:"data,omitempty"`
	Seed uint64 `json:"seed"`
	// DataSeed picks the ToolWorld data and the RL prompts of each step; 0
	// means Seed. A grid of runs that differ only in Seed keeps it fixed so
	// that every run sees the same questions in the same order. e.g. 1
	DataSeed uint64 `json:"data-seed"`
	Threads  int    `json:"threads"`
	Backend  string `json:"backend"`
	Device   int    `json:"device"`
	Out      string `json:"out"`

	// ToolWorld.
	TrainEntities  int     `json:"tw-train-entities"`
	TestEntities   int     `json:"tw-test-entities"`
	TrainQuestions int     `json:"tw-train"`
	TestQuestions  int     `json:"tw-test"`
	Families       string  `json:"tw-families"`
	Novel          string  `json:"tw-novel"`
	NovelDemoRate  float64 `json:"tw-novel-demo-rate"`
	SearchTopK     int     `json:"search-topk"`
	MaxResult      int     `json:"max-result"`
	// ToolIsolation is where the Python tool runs model-written code:
	// "" or none in this process, process in a child process per call under
	// an address-space limit (runconfig.IsolationProcess). Omitted when
	// empty, so that the identity of runs from before the flag is unchanged.
	ToolIsolation string `json:"tool-isolation,omitempty"`

	// Tokenizer and model (ignored with --model).
	Vocab   int `json:"vocab"`
	DModel  int `json:"d-model"`
	Layers  int `json:"layers"`
	Heads   int `json:"heads"`
	KVHeads int `json:"kv-heads"`
	FFN     int `json:"ffn"`
	Context int `json:"context"`
	// InitStd is the weights' initial standard deviation; 0: nn.SmallInitStd.
	InitStd float64 `json:"init-std"`
	// TieEmbeddings makes the LM head reuse the embedding matrix.
	TieEmbeddings bool `json:"tie-embeddings"`

	// SFT.
	SFTSteps    int     `json:"sft-steps"`
	SFTBatch    int     `json:"sft-batch"`
	SFTLR       float64 `json:"sft-lr"`
	SFTWarmup   int     `json:"sft-warmup"`
	MicroTokens int     `json:"micro-tokens"`

	// RL.
	RLSteps      int     `json:"rl-steps"`
	RLBatch      int     `json:"rl-batch"`
	RLFamilies   string  `json:"rl-families"`
	LR           float64 `json:"lr"`
	M            int     `json:"m"`
	N            int     `json:"n"`
	Z            int     `json:"z"`
	K            int     `json:"k"`
	Alpha        float64 `json:"alpha"`
	Beta         float64 `json:"beta"`
	Tau          float64 `json:"tau"`
	BranchRule   string  `json:"branch-rule"`
	BranchScale  string  `json:"branch-scale"`
	CallLimit    int     `json:"call-limit"`
	TokenBudget  int     `json:"token-budget"`
	EpsLow       float64 `json:"eps-low"`
	EpsHigh      float64 `json:"eps-high"`
	DualClip     float64 `json:"dual-clip"`
	KLCoef       float64 `json:"kl-coef"`
	EntropyCoef  float64 `json:"entropy-coef"`
	Attribution  string  `json:"attribution"`
	PPOEpochs    int     `json:"ppo-epochs"`
	MiniBatches  int     `json:"mini-batches"`
	CheckpointEv int     `json:"checkpoint-every"`
	// SFTCheckpointEv is the SFT steps between checkpoints, so that a
	// killed cold start loses at most this many steps. e.g. 100
	SFTCheckpointEv int `json:"sft-checkpoint-every"`
	// SaveTrees is the number of prompts per RL step whose rollout trees go
	// to samples/trees-stepNNNN.jsonl for the dashboard; 0 saves none.
	SaveTrees int `json:"save-trees"`

	// Distributed rollouts (workers.go, package dist).
	Workers      int    `json:"workers"`       // local worker processes on an embedded NATS server
	NATS         string `json:"nats"`          // an existing NATS server or cluster instead
	MaxStaleness int    `json:"max-staleness"` // 0: synchronous

	// Evaluation.
	EvalQuestions int     `json:"eval-questions"`
	EvalK         int     `json:"eval-k"`
	Temperature   float64 `json:"temperature"`
	TopP          float64 `json:"top-p"`
	EvalEvery     int     `json:"eval-every"`

	// ExportDType is the dtype of RUN/hf/model.safetensors: bf16, f16 or
	// f32; "" keeps the dtype the model came in (F32 when trained here).
	ExportDType string `json:"export-dtype,omitempty"`

	// Precision, RolloutPrecision and KVCache: f32 or bf16, "" is f32
	// (precision.go).
	Precision        string `json:"precision,omitempty"`
	RolloutPrecision string `json:"rollout-precision,omitempty"`
	KVCache          string `json:"kv-cache,omitempty"`

	LoRAOptions // lora.go
}

// presets are the named starting points; flags and files change them.
var presets = map[string]func() Config{
	"quick": quickPreset,
	"smoke": smokePreset,
	"base":  basePreset,
	"large": largePreset,
}

// quickPreset is the default: the whole job on a 2-core CPU in under 15
// minutes (see docs/TRAINING.md for the measurements behind it).
func quickPreset() Config {
	return Config{
		Preset: "quick", Algo: "arpo", Task: "toolworld", Seed: 1, Threads: 0, Backend: "cpu",
		TrainEntities: 10_000, TestEntities: 1_000, TrainQuestions: 20_000, TestQuestions: 500,
		NovelDemoRate: 0.05, SearchTopK: 2, MaxResult: 512,
		// A vocabulary of the bytes and a few dozen merges keeps made-up
		// names in pieces the model has seen often, which it learns to copy
		// sooner than the rare pieces of a 512- or 1024-token vocabulary
		// (measured: docs/TRAINING.md).
		Vocab: 320, DModel: 128, Layers: 4, Heads: 4, KVHeads: 4, FFN: 352, Context: 512,
		SFTSteps: 1200, SFTBatch: 24, SFTLR: 2e-3, SFTWarmup: 30, MicroTokens: 4096,
		// 100 steps are about 35 s of the quick preset (1,200 steps in 7
		// minutes); a checkpoint of its model and optimizer (10.6 MB) took
		// 22 to 342 ms here, the SHA-256 of it 10 to 55 ms (docs/TRAINING.md).
		SFTCheckpointEv: 100,
		// 32 prompts a step, not 16: RL fits single prompts within a few
		// steps, so a step's update is mostly about its own prompts, and
		// twice the prompts halve that noise. At 16, 30 steps ended within
		// noise of the SFT model; at 32, 3 seeds gained 2.6 to 5.0 points;
		// lr 2e-4 drifted (docs/TRAINING.md).
		RLSteps: 30, RLBatch: 32, RLFamilies: "", LR: 1e-4,
		M: 8, N: 4, Z: 1, K: 8, Alpha: 0.5, Beta: 0.2, Tau: 0.5, BranchRule: "stochastic", BranchScale: "reference",
		CallLimit: 6, TokenBudget: 384, EpsLow: 0.2, EpsHigh: 0.2, DualClip: 3,
		Attribution: "soft", PPOEpochs: 1, MiniBatches: 1, CheckpointEv: 10, SaveTrees: 4,
		EvalQuestions: 500, EvalK: 1, Temperature: 0, TopP: 1, EvalEvery: 0,
	}
}

// smokePreset runs every phase on a toy scale in seconds, for CI.
func smokePreset() Config {
	c := quickPreset()
	c.Preset = "smoke"
	c.TrainEntities, c.TestEntities, c.TrainQuestions, c.TestQuestions = 200, 100, 300, 20
	c.Vocab, c.DModel, c.Layers, c.Heads, c.KVHeads, c.FFN, c.Context = 300, 32, 1, 2, 2, 64, 320
	c.SFTSteps, c.SFTBatch, c.SFTWarmup, c.SFTCheckpointEv = 3, 8, 1, 2
	c.RLSteps, c.RLBatch, c.M, c.N, c.K, c.CheckpointEv = 2, 2, 4, 2, 4, 1
	c.TokenBudget, c.CallLimit = 256, 4
	c.EvalQuestions = 10
	return c
}

// basePreset trains longer and RLs longer (about an hour here).
func basePreset() Config {
	c := quickPreset()
	c.Preset = "base"
	c.TestQuestions, c.EvalQuestions = 500, 500
	c.SFTSteps, c.RLSteps, c.M, c.N = 3000, 150, 16, 8
	return c
}

// largePreset is a bigger model for a machine with time to spare.
func largePreset() Config {
	c := basePreset()
	c.Preset = "large"
	c.TestQuestions, c.EvalQuestions = 1000, 1000
	c.DModel, c.Layers, c.Heads, c.KVHeads, c.FFN = 192, 6, 6, 6, 512
	c.SFTSteps, c.RLSteps = 6000, 300
	return c
}

// Flags registers every Config field as a flag of fs writing into c, named
// as its JSON key, with c's values as the defaults. It lives here, beside the
// fields, so that every command that takes a run's flags (cmd/train, and
// cmd/experiment for its spec keys) accepts the same names and values.
func (c *Config) Flags(fs *pflag.FlagSet) {
	fs.StringVar(&c.Preset, "preset", c.Preset, "starting point: quick (default, <15 min on 2 cores), smoke (<1 min), base, large")
	fs.StringVar(&c.Algo, "algo", c.Algo, "RL algorithm: arpo, grpo, dapo or reinforce++")
	fs.StringVar(&c.Thinking, "thinking", c.Thinking, "a Hugging Face --model's thinking switch (Qwen3's enable_thinking): auto, on or off")
	fs.StringVar(&c.Task, "task", c.Task, "toolworld, gsm8k, hotpotqa-local, jsonl:FILE or parquet:FILE (FILE alone works too)")
	fs.StringVar(&c.Data, "data", c.Data, "shared data folder for --task gsm8k and hotpotqa-local (default $ARPO_SHARED_DATA, else ../shared/data)")
	fs.StringVar(&c.Model, "model", c.Model, "start from a run folder, a checkpoint file or folder, or a Hugging Face folder (skips SFT)")
	fs.Uint64Var(&c.Seed, "seed", c.Seed, "seed of everything; the same seed gives the same run")
	fs.Uint64Var(&c.DataSeed, "data-seed", c.DataSeed, "seed of the ToolWorld data and the RL prompt order; 0 uses --seed")
	fs.IntVar(&c.Threads, "threads", c.Threads, "CPU threads (0: all)")
	fs.StringVar(&c.Backend, "backend", c.Backend, "compute backend: cpu, or vulkan (in a build with -tags vulkan)")
	fs.IntVar(&c.Device, "device", c.Device, "GPU index for --backend vulkan")
	fs.StringVar(&c.Out, "out", c.Out, "run folder (default runs/<time>-<algo>); must be new or empty")

	fs.IntVar(&c.TrainEntities, "tw-train-entities", c.TrainEntities, "ToolWorld: entities of the train world")
	fs.IntVar(&c.TestEntities, "tw-test-entities", c.TestEntities, "ToolWorld: entities of the test world")
	fs.IntVar(&c.TrainQuestions, "tw-train", c.TrainQuestions, "ToolWorld: train questions")
	fs.IntVar(&c.TestQuestions, "tw-test", c.TestQuestions, "ToolWorld: test questions")
	fs.StringVar(&c.Families, "tw-families", c.Families, "ToolWorld: comma-separated families (default all)")
	fs.StringVar(&c.Novel, "tw-novel", c.Novel, "ToolWorld: comma-separated families without demonstrations (default the level-3 ones)")
	fs.Float64Var(&c.NovelDemoRate, "tw-novel-demo-rate", c.NovelDemoRate, "ToolWorld: share of novel-family train questions that keep a demonstration")
	fs.IntVar(&c.SearchTopK, "search-topk", c.SearchTopK, "passages per search")
	fs.IntVar(&c.MaxResult, "max-result", c.MaxResult, "bytes of a tool result shown to the model")
	fs.StringVar(&c.ToolIsolation, "tool-isolation", c.ToolIsolation, "where the Python tool runs model-written code: none (default: in this process, under the sandbox's limits) or process (a child process per call with a 2 GiB address-space cap: for servers and unread models; slower)")

	fs.IntVar(&c.Vocab, "vocab", c.Vocab, "tokenizer vocabulary size")
	fs.IntVar(&c.DModel, "d-model", c.DModel, "model width")
	fs.IntVar(&c.Layers, "layers", c.Layers, "decoder layers")
	fs.IntVar(&c.Heads, "heads", c.Heads, "attention heads")
	fs.IntVar(&c.KVHeads, "kv-heads", c.KVHeads, "key/value heads")
	fs.IntVar(&c.FFN, "ffn", c.FFN, "SwiGLU width")
	fs.IntVar(&c.Context, "context", c.Context, "positions of the model")
	fs.BoolVar(&c.TieEmbeddings, "tie-embeddings", c.TieEmbeddings, "the LM head reuses the token embeddings")
	fs.Float64Var(&c.InitStd, "init-std", c.InitStd, "standard deviation of the initial weights (0: sqrt(2/(5 d-model)))")

	fs.IntVar(&c.SFTSteps, "sft-steps", c.SFTSteps, "supervised steps (cold start)")
	fs.IntVar(&c.SFTBatch, "sft-batch", c.SFTBatch, "sequences per SFT step")
	fs.Float64Var(&c.SFTLR, "sft-lr", c.SFTLR, "SFT peak learning rate (cosine decay to 10%)")
	fs.IntVar(&c.SFTWarmup, "sft-warmup", c.SFTWarmup, "SFT warm-up steps")
	fs.IntVar(&c.MicroTokens, "micro-tokens", c.MicroTokens, "most tokens per forward pass (gradient accumulation)")
	fs.IntVar(&c.SFTCheckpointEv, "sft-checkpoint-every", c.SFTCheckpointEv, "SFT steps between checkpoints")

	fs.IntVar(&c.RLSteps, "rl-steps", c.RLSteps, "RL steps")
	fs.IntVar(&c.RLBatch, "rl-batch", c.RLBatch, "prompts per RL step")
	fs.StringVar(&c.RLFamilies, "rl-families", c.RLFamilies, "comma-separated families RL draws prompts from (default all)")
	fs.Float64Var(&c.LR, "lr", c.LR, "RL learning rate")
	fs.IntVar(&c.M, "m", c.M, "trajectories per prompt")
	fs.IntVar(&c.N, "n", c.N, "ARPO: initial trajectories per prompt (others: set to m)")
	fs.IntVar(&c.Z, "z", c.Z, "ARPO: branches per branching point")
	fs.IntVar(&c.K, "k", c.K, "ARPO: tokens of look-ahead entropy")
	fs.Float64Var(&c.Alpha, "alpha", c.Alpha, "ARPO: base branch probability")
	fs.Float64Var(&c.Beta, "beta", c.Beta, "ARPO: weight of the entropy rise")
	fs.Float64Var(&c.Tau, "tau", c.Tau, "ARPO: threshold of the threshold rule")
	fs.StringVar(&c.BranchRule, "branch-rule", c.BranchRule, "ARPO: stochastic or threshold")
	fs.StringVar(&c.BranchScale, "branch-scale", c.BranchScale, "ARPO: reference (P = alpha + beta*dH) or calibrated (dH standardised by earlier steps' rises; try --beta 0.25)")
	fs.IntVar(&c.CallLimit, "call-limit", c.CallLimit, "tool calls per trajectory (0: no limit)")
	fs.IntVar(&c.TokenBudget, "token-budget", c.TokenBudget, "tokens per trajectory: prompt, text and results")
	fs.Float64Var(&c.EpsLow, "eps-low", c.EpsLow, "PPO clip below")
	fs.Float64Var(&c.EpsHigh, "eps-high", c.EpsHigh, "PPO clip above (DAPO: 0.28)")
	fs.Float64Var(&c.DualClip, "dual-clip", c.DualClip, "dual-clip bound for negative advantages (0: off)")
	fs.Float64Var(&c.KLCoef, "kl-coef", c.KLCoef, "KL penalty to the SFT model (0: off)")
	fs.Float64Var(&c.EntropyCoef, "entropy-coef", c.EntropyCoef, "entropy bonus (0: off)")
	fs.StringVar(&c.Attribution, "attribution", c.Attribution, "ARPO advantage attribution: soft or hard")
	fs.IntVar(&c.PPOEpochs, "ppo-epochs", c.PPOEpochs, "passes over each step's data")
	fs.IntVar(&c.MiniBatches, "mini-batches", c.MiniBatches, "optimizer steps per pass")
	fs.IntVar(&c.CheckpointEv, "checkpoint-every", c.CheckpointEv, "RL steps between checkpoints")
	fs.IntVar(&c.SaveTrees, "save-trees", c.SaveTrees, "prompts per RL step whose rollout trees are saved for the dashboard (samples/trees-stepNNNN.jsonl)")
	fs.IntVar(&c.Workers, "workers", c.Workers, "roll out on N local worker processes over an embedded NATS server (0: in this process)")
	fs.StringVar(&c.NATS, "nats", c.NATS, "roll out on the workers of this NATS server, e.g. nats://host:4222 (see cmd/rollout-worker)")
	fs.IntVar(&c.MaxStaleness, "max-staleness", c.MaxStaleness, "asynchronous rollouts: groups may come from a policy up to K versions old (0: synchronous)")

	fs.IntVar(&c.EvalQuestions, "eval-questions", c.EvalQuestions, "test questions per evaluation (0: all)")
	fs.IntVar(&c.EvalK, "eval-k", c.EvalK, "samples per question for pass@k (needs --temperature > 0)")
	fs.Float64Var(&c.Temperature, "temperature", c.Temperature, "evaluation temperature (0: greedy)")
	fs.Float64Var(&c.TopP, "top-p", c.TopP, "evaluation top-p")
	fs.IntVar(&c.EvalEvery, "eval-every", c.EvalEvery, "RL steps between extra evaluations (0: before and after only)")
	fs.StringVar(&c.ExportDType, "export-dtype", c.ExportDType, "dtype of the run's hf/ export: bf16, f16 or f32 (default: as the model came in)")
	c.precisionFlags(fs)
	c.loraFlags(fs)
}

// Load builds the effective configuration of a command line: the preset
// (named by the flags, else by the file, else quick), then the file's keys
// (file is --config, "" for none), then the flags set in fs. fs holds
// (*Config).Flags of a scratch Config and has been parsed; flags in it that
// are not Config fields (a command's own, like --resume) are left alone.
func Load(file string, fs *pflag.FlagSet) (Config, error) {
	var m map[string]any
	if file != "" {
		var err error
		if m, err = readConfigFile(file); err != nil {
			return Config{}, exitcode.Usagef("--config: %v", err)
		}
	}
	preset := "quick"
	if p, ok := m["preset"].(string); ok {
		preset = p
	}
	if f := fs.Lookup("preset"); f != nil && f.Changed {
		preset = f.Value.String()
	}
	c, err := Preset(preset)
	if err != nil {
		return Config{}, err
	}
	if m != nil {
		if err := applyMap(&c, m); err != nil {
			return Config{}, exitcode.Usagef("--config %s: %v", file, err)
		}
	}
	final := pflag.NewFlagSet("train", pflag.ContinueOnError)
	c.Flags(final)
	var setErr error
	fs.Visit(func(f *pflag.Flag) {
		if setErr != nil || final.Lookup(f.Name) == nil {
			return
		}
		if err := final.Set(f.Name, f.Value.String()); err != nil {
			setErr = exitcode.Usagef("--%s: %v", f.Name, err)
		}
	})
	return c, setErr
}

// Preset is the named starting point (quick, smoke, base or large).
func Preset(name string) (Config, error) {
	mk, ok := presets[name]
	if !ok {
		return Config{}, exitcode.Usagef("--preset: unknown preset %q (want %s)", name, strings.Join(PresetNames(), ", "))
	}
	return mk(), nil
}

// Default is the quick preset: what a run is without flags.
func Default() Config { return quickPreset() }

// PresetNames lists the presets, sorted.
func PresetNames() []string {
	var n []string
	for k := range presets {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// readConfigFile reads a JSON or YAML file of flag-name keys.
func readConfigFile(path string) (map[string]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m := map[string]any{}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		if err = duplicateKeys(data); err == nil {
			err = json.Unmarshal(data, &m)
		}
	default:
		err = yaml.Unmarshal(data, &m)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// applyMap sets the fields named by m's keys, refusing unknown keys, by a
// JSON round trip that is strict about names and types.
func applyMap(c *Config, m map[string]any) error {
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(c); err != nil {
		return err
	}
	return nil
}

// thinking is c.Thinking parsed; auto when empty or invalid (validate
// refuses an invalid one).
func (c Config) thinking() chat.Thinking {
	var t chat.Thinking
	if c.Thinking != "" {
		_ = t.Set(c.Thinking)
	}
	return t
}

// algoConfig turns the RL part of c into the rl package's configuration.
func (c Config) algoConfig() (rl.AlgoConfig, error) {
	algo, err := rl.ParseAlgo(c.Algo)
	if err != nil {
		return rl.AlgoConfig{}, err
	}
	ac := rl.DefaultAlgoConfig(algo, c.M)
	r := &ac.Rollout
	if algo == rl.ARPO {
		r.N = c.N
	}
	r.Z, r.K, r.Alpha, r.Beta, r.Tau, r.Rule = c.Z, c.K, c.Alpha, c.Beta, c.Tau, rl.BranchRule(c.BranchRule)
	if r.Scale, err = rl.ParseBranchScale(c.BranchScale); err != nil {
		return rl.AlgoConfig{}, err
	}
	r.TokenBudget, r.Seed = c.TokenBudget, c.Seed
	ac.Loss.EpsLow, ac.Loss.EpsHigh, ac.Loss.DualClip = float32(c.EpsLow), float32(c.EpsHigh), float32(c.DualClip)
	if algo == rl.DAPO && c.EpsHigh == c.EpsLow {
		ac.Loss.EpsHigh = 0.28 // DAPO's clip-higher unless asked otherwise
	}
	ac.Loss.KLCoef, ac.Loss.EntropyCoef = float32(c.KLCoef), float32(c.EntropyCoef)
	ac.HardAttribution = c.Attribution == "hard"
	ac.PPOEpochs, ac.MiniBatches, ac.MicroTokens = c.PPOEpochs, c.MiniBatches, c.MicroTokens
	return ac, nil
}

// Validate checks every value before any long work starts.
func (c Config) Validate() error {
	if _, err := c.algoConfig(); err != nil {
		return exitcode.Usagef("--algo: %v", err)
	}
	if _, _, err := parseTask(c.Task); err != nil {
		return exitcode.Usagef("--task: %v", err)
	}
	if c.Device < 0 {
		return exitcode.Usagef("--device must be >= 0, got %d", c.Device)
	}
	if _, err := export.ParseDType(c.ExportDType); err != nil {
		return exitcode.Usagef("--export-dtype: %v", err)
	}
	if err := c.validatePrecision(); err != nil {
		return err
	}
	if err := runconfig.CheckIsolation(c.ToolIsolation); err != nil {
		return exitcode.Usagef("--tool-isolation: %v", err)
	}
	if c.Backend != "cpu" && c.Backend != "vulkan" {
		return exitcode.Usagef("--backend: unknown backend %q (want cpu or vulkan)", c.Backend)
	}
	for _, p := range []struct {
		name string
		v    int
		min  int
	}{
		{"threads", c.Threads, 0}, {"tw-train-entities", c.TrainEntities, 1}, {"tw-test-entities", c.TestEntities, 1},
		{"tw-train", c.TrainQuestions, 1}, {"tw-test", c.TestQuestions, 1}, {"search-topk", c.SearchTopK, 1},
		{"max-result", c.MaxResult, 0}, {"vocab", c.Vocab, 300}, {"d-model", c.DModel, 8}, {"layers", c.Layers, 1},
		{"heads", c.Heads, 1}, {"kv-heads", c.KVHeads, 1}, {"ffn", c.FFN, 1}, {"context", c.Context, 16},
		{"sft-steps", c.SFTSteps, 0}, {"sft-batch", c.SFTBatch, 1}, {"sft-warmup", c.SFTWarmup, 0},
		{"micro-tokens", c.MicroTokens, 1}, {"rl-steps", c.RLSteps, 0}, {"rl-batch", c.RLBatch, 1},
		{"m", c.M, 1}, {"n", c.N, 1}, {"z", c.Z, 1}, {"k", c.K, 1}, {"call-limit", c.CallLimit, 0},
		{"token-budget", c.TokenBudget, 16}, {"ppo-epochs", c.PPOEpochs, 1}, {"mini-batches", c.MiniBatches, 1},
		{"checkpoint-every", c.CheckpointEv, 1}, {"sft-checkpoint-every", c.SFTCheckpointEv, 1}, {"eval-questions", c.EvalQuestions, 0}, {"eval-k", c.EvalK, 1},
		{"eval-every", c.EvalEvery, 0}, {"save-trees", c.SaveTrees, 0}, {"workers", c.Workers, 0}, {"max-staleness", c.MaxStaleness, 0},
	} {
		if p.v < p.min {
			return exitcode.Usagef("--%s must be >= %d, got %d", p.name, p.min, p.v)
		}
	}
	for _, p := range []struct {
		name string
		v    float64
	}{
		{"tw-novel-demo-rate", c.NovelDemoRate}, {"sft-lr", c.SFTLR}, {"lr", c.LR}, {"alpha", c.Alpha},
		{"beta", c.Beta}, {"tau", c.Tau}, {"eps-low", c.EpsLow}, {"eps-high", c.EpsHigh}, {"dual-clip", c.DualClip},
		{"kl-coef", c.KLCoef}, {"entropy-coef", c.EntropyCoef}, {"init-std", c.InitStd}, {"temperature", c.Temperature}, {"top-p", c.TopP},
	} {
		if !(p.v >= 0) || p.v > 1e6 {
			return exitcode.Usagef("--%s must be a finite number >= 0, got %v", p.name, p.v)
		}
	}
	switch {
	case c.Algo == "arpo" && c.N > c.M:
		return exitcode.Usagef("--n (%d) must not exceed --m (%d): ARPO starts n trajectories and branches up to m", c.N, c.M)
	case c.NovelDemoRate > 1:
		return exitcode.Usagef("--tw-novel-demo-rate must be in [0, 1], got %v", c.NovelDemoRate)
	case c.TopP > 1:
		return exitcode.Usagef("--top-p must be in [0, 1], got %v", c.TopP)
	case c.BranchRule != "stochastic" && c.BranchRule != "threshold":
		return exitcode.Usagef("--branch-rule: want stochastic or threshold, got %q", c.BranchRule)
	case c.Thinking != "" && c.thinking() == chat.ThinkingAuto && c.Thinking != "auto":
		return exitcode.Usagef("--thinking: want auto, on or off, got %q", c.Thinking)
	case c.BranchScale != "" && c.BranchScale != string(rl.ScaleReference) && c.BranchScale != string(rl.ScaleCalibrated):
		return exitcode.Usagef("--branch-scale: want reference or calibrated, got %q", c.BranchScale)
	case c.Attribution != "soft" && c.Attribution != "hard":
		return exitcode.Usagef("--attribution: want soft or hard, got %q", c.Attribution)
	case c.Attribution == "hard" && c.Algo != "arpo":
		return exitcode.Usagef("--attribution hard needs a rollout tree: only with --algo arpo")
	case c.MaxStaleness > 0 && c.Workers == 0 && c.NATS == "":
		return exitcode.Usagef("--max-staleness needs rollout workers: --workers N or --nats URL")
	case c.EvalK > 1 && c.Temperature == 0:
		return exitcode.Usagef("--eval-k %d needs sampling: set --temperature > 0", c.EvalK)
	case c.DModel%c.Heads != 0 || c.Heads%c.KVHeads != 0:
		return exitcode.Usagef("--d-model (%d) must be a multiple of --heads (%d), and --heads of --kv-heads (%d)", c.DModel, c.Heads, c.KVHeads)
	case c.TokenBudget > c.Context && c.Model == "":
		return exitcode.Usagef("--token-budget (%d) must not exceed --context (%d)", c.TokenBudget, c.Context)
	}
	if c.Task != "toolworld" && c.Model == "" {
		return exitcode.Usagef("--task %s has no demonstrations to cold-start from: give --model (a checkpoint or Hugging Face folder)", c.Task)
	}
	if c.Model != "" {
		if _, err := os.Stat(c.Model); err != nil {
			return exitcode.Usagef("--model: %v", err)
		}
	}
	if err := c.validateLoRA(); err != nil {
		return err
	}
	return c.checkSizes()
}

// parseTask splits --task into a kind (toolworld, gsm8k, hotpotqa-local, jsonl,
// parquet, or file: the format from the extension) and a file.
func parseTask(s string) (kind, path string, err error) {
	switch s {
	case "toolworld", "gsm8k", "hotpotqa-local":
		return s, "", nil
	}
	kind = "file"
	for _, k := range []string{"jsonl", "parquet"} {
		for _, sep := range []string{":", "=", " "} {
			if p, ok := strings.CutPrefix(s, k+sep); ok {
				path, kind = strings.TrimSpace(p), k
			}
		}
		if path != "" {
			break
		}
	}
	if path == "" && (strings.HasSuffix(s, ".jsonl") || strings.HasSuffix(s, ".json") || strings.HasSuffix(s, ".parquet")) {
		path = s
	}
	if path == "" {
		return "", "", fmt.Errorf("unknown task %q (want toolworld, gsm8k, hotpotqa-local, jsonl:FILE or parquet:FILE)", s)
	}
	if _, err := os.Stat(path); err != nil {
		return "", "", err
	}
	return kind, path, nil
}

// dataSeed is the seed of the data and of the RL prompt order.
func (c Config) dataSeed() uint64 { return c.World().WorldSeed() }
