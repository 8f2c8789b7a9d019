package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/goarpo/arpo/backend"
	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/tokenizer"
)

// openBackend opens --backend with --threads (CPU) or --device (GPU); a GPU
// run says which device it got, with its limits.
func openBackend(c Config) (backend.Backend, error) {
	b, err := backend.Open(c.Backend, backend.Options{Threads: c.Threads, Device: c.Device})
	if err != nil {
		return nil, badInput("--backend: %v", err)
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
		return nil, badInput("model: %v", err)
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

// loadPretrained loads --model (a checkpoint file, a folder with one
// checkpoint, or a Hugging Face folder) and its tokenizer, found beside it
// or one folder up (a run folder keeps tokenizer.json above checkpoints/).
func loadPretrained(path string, b backend.Backend) (*nn.Model, *tokenizer.Tokenizer, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, badInput("--model: %v", err)
	}
	dir := path
	var m *nn.Model
	if st.IsDir() {
		if isHF(dir) {
			if m, err = nn.LoadHF(dir, b); err != nil {
				return nil, nil, badInput("--model: %v", err)
			}
		} else if path, err = findCheckpoint(dir); err != nil {
			return nil, nil, badInput("--model: %v", err)
		}
	} else {
		dir = filepath.Dir(path)
	}
	if m == nil {
		ck, err := nn.LoadCheckpoint(path, b)
		if err != nil {
			return nil, nil, badInput("--model: %v", err)
		}
		ck.Opt.Free()
		m = ck.Model
	}
	tok, err := findTokenizer(dir)
	if err != nil {
		m.Free()
		return nil, nil, badInput("--model: %v", err)
	}
	if tok.VocabSize() > m.Cfg.VocabSize {
		m.Free()
		return nil, nil, badInput("--model: tokenizer has %d tokens, the model only %d", tok.VocabSize(), m.Cfg.VocabSize)
	}
	return m, tok, nil
}

func findTokenizer(dir string) (*tokenizer.Tokenizer, error) {
	for _, d := range []string{dir, filepath.Dir(dir)} {
		p := filepath.Join(d, "tokenizer.json")
		if _, err := os.Stat(p); err == nil {
			return tokenizer.Load(p)
		}
	}
	return nil, fmt.Errorf("no tokenizer.json in %s or its parent", dir)
}

// findCheckpoint picks final.safetensors, else latest.safetensors, else the
// only .safetensors file of dir (or of dir/checkpoints).
func findCheckpoint(dir string) (string, error) {
	for _, d := range []string{dir, filepath.Join(dir, "checkpoints")} {
		for _, n := range []string{"final.safetensors", "latest.safetensors"} {
			if p := filepath.Join(d, n); fileExists(p) {
				return p, nil
			}
		}
		files, _ := filepath.Glob(filepath.Join(d, "*.safetensors"))
		if len(files) == 1 {
			return files[0], nil
		}
	}
	return "", fmt.Errorf("%s has neither config.json (a Hugging Face model) nor one .safetensors checkpoint", dir)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// isHF reports whether --model is a Hugging Face folder.
func isHF(path string) bool {
	return fileExists(filepath.Join(path, "config.json")) && !fileExists(filepath.Join(path, "state.json"))
}
