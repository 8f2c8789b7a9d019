package run

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/goarpo/arpo/backend"
	"github.com/goarpo/arpo/internal/exitcode"
	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/chat"
	"github.com/goarpo/arpo/nn/load"
)

// openBackend opens --backend with --threads (CPU) or --device (GPU); a GPU
// run says which device it got, with its limits.
func openBackend(c Config) (backend.Backend, error) {
	b, err := backend.Open(c.Backend, backend.Options{Threads: c.Threads, Device: c.Device})
	if err != nil {
		return nil, exitcode.Usagef("--backend: %v", err)
	}
	if c.Backend != "cpu" {
		fmt.Fprintf(os.Stderr, "backend: %s\n", b.Name())
	}
	return b, nil
}

// newModel is a freshly initialised Llama-style model for the vocabulary.
func newModel(c Config, vocab int, b backend.Backend) (*nn.Model, error) {
	m, err := nn.New(c.modelConfig(vocab), b)
	if err != nil {
		return nil, exitcode.Usagef("model: %v", err)
	}
	m.Init(c.Seed)
	return m, nil
}

// modelConfig is the shape of the model the flags describe.
func (c Config) modelConfig(vocab int) nn.Config {
	return nn.Config{
		ModelType: "llama", VocabSize: vocab, HiddenSize: c.DModel, NumLayers: c.Layers, NumHeads: c.Heads,
		NumKVHeads: c.KVHeads, HeadDim: c.DModel / c.Heads, IntermediateSize: c.FFN, RopeTheta: 10000,
		RMSNormEps: 1e-6, MaxPositionEmbeddings: c.Context, HiddenAct: "silu", // as a checkpoint reads back
		InitializerRange: c.InitStd, TieWordEmbeddings: c.TieEmbeddings,
	}
}

// loadPretrained loads --model (anything package nn/load resolves: a run
// folder, a checkpoint, a Hugging Face folder) with its tokenizer, as a
// bf16 base when the run keeps one (bf16BaseFor).
func (j *job) loadPretrained(path string) (*load.Loaded, error) {
	l, err := load.Load(path, load.Options{Backend: j.b, RequireTokenizer: true, BF16Base: j.c.bf16BaseFor(path)})
	if err != nil {
		return nil, exitcode.Usagef("%v", err)
	}
	return l, nil
}

// pretrainedHF returns the Hugging Face folder --model names, or "" when it
// names a model trained here (or nothing).
func pretrainedHF(model string) string {
	if model == "" {
		return ""
	}
	if f, err := load.Resolve(model); err == nil && f.IsHF() {
		return f.Dir
	}
	return ""
}

// chatTemplate is the run's chat template: its Hugging Face origin's, else
// the one saved with the run's tokenizer (ChatML); nil when neither has one.
func (j *job) chatTemplate(hfDir string) (*chat.Template, error) {
	dir := j.dir
	if hfDir != "" {
		dir = hfDir
	}
	return load.ChatTemplate(filepath.Join(dir, "tokenizer_config.json"))
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
