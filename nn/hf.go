package nn

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/goarpo/arpo/backend"
	"github.com/goarpo/arpo/internal/atomicfile"
	"github.com/goarpo/arpo/nn/safetensors"
)

// LoadHF loads a Hugging Face model folder (config.json and model.safetensors
// or a sharded index; F32, F16 or BF16) onto b.
func LoadHF(dir string, b backend.Backend) (*Model, error) {
	cfg, err := LoadConfig(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, err
	}
	ts, err := safetensors.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", dir, err)
	}
	m, err := New(cfg, b)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", dir, err)
	}
	if err := m.checkWeights(ts, configDType(filepath.Join(dir, "config.json"))); err != nil {
		m.Free()
		return nil, fmt.Errorf("load %s: %w", dir, err)
	}
	if err := m.SetWeights(ts); err != nil {
		m.Free()
		return nil, fmt.Errorf("load %s: %w", dir, err)
	}
	return m, nil
}

// SetWeights copies weights by Hugging Face name into the model. Every
// parameter must be present with its shape; lm_head.weight of a tied model
// and RoPE's stored inv_freq buffers are ignored; any other unknown name is
// an error (it would mean a different architecture).
func (m *Model) SetWeights(ts map[string]safetensors.Tensor) error {
	for _, p := range m.Params {
		t, ok := ts[p.Name]
		if !ok {
			return fmt.Errorf("weights lack %s", p.Name)
		}
		if !slices.Equal(t.Shape, p.W.Shape()) {
			return fmt.Errorf("%s has shape %v, want %v", p.Name, t.Shape, p.W.Shape())
		}
		p.W.Set(t.Data)
	}
	m.WeightsChanged()
	var unknown []string
	for name := range ts {
		if m.Param(name) == nil && !strings.HasSuffix(name, "rotary_emb.inv_freq") &&
			!(name == "lm_head.weight" && m.Cfg.TieWordEmbeddings) {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return fmt.Errorf("weights have %d tensors this model does not use, e.g. %s", len(unknown), unknown[0])
	}
	return nil
}

// Weights reads every parameter back to the host, by Hugging Face name.
func (m *Model) Weights() (map[string]safetensors.Tensor, error) {
	out := make(map[string]safetensors.Tensor, len(m.Params))
	for _, p := range m.Params {
		d, err := p.W.Data()
		if err != nil {
			return nil, err
		}
		out[p.Name] = safetensors.Tensor{Shape: slices.Clone(p.W.Shape()), Data: d}
	}
	return out, nil
}

// SaveHF writes the model as a Hugging Face folder: config.json and
// model.safetensors (F32), each file written atomically.
func (m *Model) SaveHF(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	ws, err := m.Weights()
	if err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	if err := safetensors.WriteFile(filepath.Join(dir, "model.safetensors"), ws, map[string]string{"format": "pt"}); err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	return atomicfile.WriteFile(filepath.Join(dir, "config.json"), func(w io.Writer) error {
		cfg := m.Cfg
		cfg.TorchDtype = "float32" // the weights just written
		_, err := w.Write(cfg.HFJSON())
		return err
	})
}
