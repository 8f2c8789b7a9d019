package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/goarpo/arpo/backend"
	"github.com/goarpo/arpo/nn"
)

func init() {
	register("hf-random", "write a Hugging Face folder of a tiny random model with a real tokenizer (e.g. Qwen's 151,936 ids)", runHFRandom)
}

// hfRandomResult is the one line hf-random prints.
type hfRandomResult struct {
	Suite  string `json:"suite"`
	Out    string `json:"out"`
	Params int    `json:"params"`
	Vocab  int    `json:"vocab"`
}

// runHFRandom writes config.json, model.safetensors (random weights,
// nothing downloaded) and the tokenizer's files into --out, so that
// commands that take --model can be measured with a real vocabulary on a
// model whose trunk costs next to nothing (docs/PERFORMANCE-real.md).
func runHFRandom(args []string) error {
	fs := pflag.NewFlagSet("hf-random", pflag.ContinueOnError)
	outDir := fs.String("out", "", "folder to write (created; files in it are replaced)")
	tokDir := fs.String("tokenizer", "", "folder with tokenizer.json (and tokenizer_config.json) to copy beside the weights")
	modelType := fs.String("model-type", "qwen2", "llama or qwen2")
	vocab := fs.Int("vocab", 151936, "vocab_size (at least the tokenizer's)")
	hidden := fs.Int("hidden", 64, "hidden_size")
	layers := fs.Int("layers", 3, "num_hidden_layers")
	heads := fs.Int("heads", 4, "num_attention_heads")
	kvHeads := fs.Int("kv-heads", 2, "num_key_value_heads")
	ffn := fs.Int("ffn", 256, "intermediate_size")
	context := fs.Int("context", 4096, "max_position_embeddings")
	tie := fs.Bool("tie", false, "tie_word_embeddings")
	seed := fs.Uint64("seed", 1, "weights seed")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *outDir == "" || *tokDir == "" {
		return badInput("--out and --tokenizer are required")
	}
	if *heads < 1 || *hidden%*heads != 0 {
		return badInput("--hidden %d is not a multiple of --heads %d", *hidden, *heads)
	}
	cfg := nn.Config{
		ModelType: *modelType, VocabSize: *vocab, HiddenSize: *hidden, NumLayers: *layers, NumHeads: *heads,
		NumKVHeads: *kvHeads, HeadDim: *hidden / *heads, IntermediateSize: *ffn, RopeTheta: 1e6, RMSNormEps: 1e-6,
		MaxPositionEmbeddings: *context, HiddenAct: "silu", InitializerRange: 0.02, TieWordEmbeddings: *tie,
	}
	b, err := backend.Open("cpu", backend.Options{})
	if err != nil {
		return err
	}
	m, err := nn.New(cfg, b)
	if err != nil {
		return badInput("model: %v", err)
	}
	defer m.Free()
	m.Init(*seed)
	if err := m.SaveHF(*outDir); err != nil {
		return err
	}
	for _, name := range []string{"tokenizer.json", "tokenizer_config.json"} {
		data, err := os.ReadFile(filepath.Join(*tokDir, name))
		if os.IsNotExist(err) && name != "tokenizer.json" {
			continue
		}
		if err != nil {
			return badInput("--tokenizer: %v", err)
		}
		if err := os.WriteFile(filepath.Join(*outDir, name), data, 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
	}
	return emit(hfRandomResult{Suite: "hf-random", Out: *outDir, Params: m.NumParams(), Vocab: cfg.VocabSize})
}
