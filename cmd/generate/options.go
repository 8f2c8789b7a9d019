package main

import (
	"bytes"
	"errors"
	"io"

	"github.com/spf13/pflag"

	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/sample"
)

// options are the parsed command-line flags.
type options struct {
	model, tokenizer string
	prompt           string
	promptSet        bool // --prompt was given (an empty prompt is an error, not "read stdin")
	system           string
	chatml           bool
	ids              bool
	score            bool

	params       sample.Params
	seed         uint64
	maxNewTokens int
	stops        []string
	ignoreEOS    bool

	threads int
	backend string
	device  int
	// precision is the weights the engine decodes with (--precision).
	precision nn.Precision
	precFlag  string
	// kvCache is the storage of the engine's KV cache (--kv-cache).
	kvCache nn.Precision
	kvFlag  string
}

// errHelp is returned by parseFlags for --help.
var errHelp = errors.New("help requested")

func newFlagSet(o *options) *pflag.FlagSet {
	fs := pflag.NewFlagSet("generate", pflag.ContinueOnError)
	fs.SortFlags = false
	fs.StringVar(&o.model, "model", "", "run folder, training checkpoint (.safetensors file, or a folder with one), or Hugging Face folder")
	fs.StringVar(&o.tokenizer, "tokenizer", "", "tokenizer.json, encoder.json, or a folder with one (default: from the model folder)")
	fs.StringVar(&o.prompt, "prompt", "", "prompt text (default: read stdin)")
	fs.BoolVar(&o.ids, "ids", false, "the prompt is a JSON array of token ids, and the output is one")
	fs.BoolVar(&o.chatml, "chatml", false, "render the prompt as a ChatML user turn with an assistant generation prompt")
	fs.StringVar(&o.system, "system", "", "with --chatml: a system message before the user turn")
	fs.BoolVar(&o.score, "score", false, "print each token's log-probability and entropy as JSON lines instead of generating")
	fs.Float32Var(&o.params.Temperature, "temperature", 1, "sampling temperature; 0 is greedy")
	fs.IntVar(&o.params.TopK, "top-k", 0, "keep the K most probable tokens; 0 keeps all")
	fs.Float32Var(&o.params.TopP, "top-p", 1, "keep the smallest set of tokens with this much probability; 1 keeps all")
	fs.Uint64Var(&o.seed, "seed", 1, "random seed; the same seed gives the same tokens")
	fs.IntVar(&o.maxNewTokens, "max-new-tokens", 128, "most tokens to generate")
	fs.StringArrayVar(&o.stops, "stop", nil, "stop when the generated text ends with this string (repeatable)")
	fs.BoolVar(&o.ignoreEOS, "ignore-eos", false, "do not stop at the end-of-sequence token")
	fs.IntVar(&o.threads, "threads", 0, "worker threads; 0 uses all cores")
	fs.StringVar(&o.backend, "backend", "cpu", "compute backend: cpu, or vulkan (in a build with -tags vulkan)")
	fs.IntVar(&o.device, "device", 0, "GPU index for --backend vulkan")
	fs.StringVar(&o.precFlag, "precision", "f32", "weights the engine decodes with: f32, or bf16 (bf16 linear weights, f32 sums; a Hugging Face folder's load straight into bf16 with no f32 copy; cpu and vulkan)")
	fs.StringVar(&o.kvFlag, "kv-cache", "f32", "the engine's KV cache: f32, or bf16 (half the memory per position, keys and values rounded to bf16, f32 sums; cpu and vulkan)")
	return fs
}

// usageText is the --help output.
func usageText() string {
	var o options
	fs := newFlagSet(&o)
	var b bytes.Buffer
	b.WriteString("usage: generate --model DIR [flags] [--prompt TEXT | < prompt]\n       generate --model DIR --score [--ids] < text\n\nflags:\n")
	fs.SetOutput(&b)
	fs.PrintDefaults()
	return b.String()
}

// parseFlags parses and checks the flags; every error is bad input (exitcode.Usagef).
func parseFlags(args []string) (options, error) {
	var o options
	fs := newFlagSet(&o)
	fs.SetOutput(io.Discard) // we print one message of our own
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return o, errHelp
		}
		return o, badInput("%v (see --help)", err)
	}
	o.promptSet = fs.Changed("prompt")
	switch {
	case fs.NArg() > 0:
		return o, badInput("unexpected argument %q (the prompt goes in --prompt or on stdin)", fs.Arg(0))
	case o.model == "":
		return o, badInput("--model is required (see --help)")
	case o.maxNewTokens < 1:
		return o, badInput("--max-new-tokens must be at least 1, got %d", o.maxNewTokens)
	case o.threads < 0:
		return o, badInput("--threads must be >= 0, got %d", o.threads)
	case o.device < 0:
		return o, badInput("--device must be >= 0, got %d", o.device)
	case o.chatml && o.ids:
		return o, badInput("--chatml needs a text prompt, not --ids")
	case o.system != "" && !o.chatml:
		return o, badInput("--system needs --chatml")
	}
	if err := o.params.Validate(); err != nil {
		return o, badInput("%v", err)
	}
	p, err := nn.ParsePrecision(o.precFlag)
	if err != nil {
		return o, badInput("--precision: %v", err)
	}
	o.precision = p
	if o.kvCache, err = nn.ParsePrecision(o.kvFlag); err != nil {
		return o, badInput("--kv-cache: %v", err)
	}
	for _, s := range o.stops {
		if s == "" {
			return o, badInput("--stop must not be empty")
		}
	}
	return o, nil
}
