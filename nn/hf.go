package nn

import (
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/goarpo/arpo/backend"
	"github.com/goarpo/arpo/internal/atomicfile"
	"github.com/goarpo/arpo/nn/safetensors"
)

// LoadHF loads a Hugging Face model folder (config.json and model.safetensors
// or a sharded index; F32, F16 or BF16) onto b, as float32. It streams the
// checkpoint tensor by tensor into the model (readWeights), so loading holds
// the model plus its largest tensor.
func LoadHF(dir string, b backend.Backend) (*Model, error) { return loadHF(dir, b, New) }

// LoadHFBF16Base loads a Hugging Face model folder as a bf16 base
// (NewBF16Base): the linear weights go straight from the file into bf16
// storage (BF16 copied, F32 and F16 rounded as GemmBF16 rounds them: see
// safetensors.File.ReadBF16Into), with no float32 copy at any moment.
func LoadHFBF16Base(dir string, b backend.Backend) (*Model, error) {
	return loadHF(dir, b, NewBF16Base)
}

// LoadHFPackedBF16Base loads a Hugging Face model folder as a packed bf16
// base (NewPackedBF16Base; a plain bf16 base where the backend has no
// packed layout), for the rollout engine alone: each linear weight is read
// as bf16 (as LoadHFBF16Base reads it) into one staging buffer and packed
// from there, so loading holds the model plus its largest tensor.
func LoadHFPackedBF16Base(dir string, b backend.Backend) (*Model, error) {
	return loadHF(dir, b, NewPackedBF16Base)
}

func loadHF(dir string, b backend.Backend, alloc func(Config, backend.Backend) (*Model, error)) (*Model, error) {
	cfgPath := filepath.Join(dir, "config.json")
	cfg, err := LoadConfig(cfgPath)
	if err != nil {
		return nil, err
	}
	d, err := safetensors.OpenDir(dir)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", dir, err)
	}
	defer d.Close()
	m, err := alloc(cfg, b)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", dir, err)
	}
	if err := m.readWeights(d, configDType(cfgPath)); err != nil {
		m.Free()
		return nil, fmt.Errorf("load %s: %w", dir, err)
	}
	return m, nil
}

// readWeights streams every parameter from d into the model, straight
// into the backend's buffers when they are host memory (the CPU backend's),
// else through one staging buffer: each must be present with its shape, stored in a
// floating dtype the config allows (want, see checkTensor) and finite.
// Unknown names are refused as in SetWeights.
func (m *Model) readWeights(d *safetensors.Dir, want string) error {
	n, n16 := 0, 0 // the largest parameter, and packed weight (staged as bf16)
	for _, p := range m.Params {
		n = max(n, p.W.Len())
		if _, _, packed := m.PackedWeight(p.W); packed {
			n16 = max(n16, p.W.Len())
		}
	}
	var f32 []float32
	var h []uint16
	var stage backend.Buffer // a packed base's bf16 staging buffer
	defer func() {
		if stage != nil {
			m.B.Free(stage)
		}
	}()
	for _, p := range m.Params {
		ti, ok := d.Info(p.Name)
		if !ok {
			return fmt.Errorf("weights lack %s", p.Name)
		}
		if !slices.Equal(ti.Shape, p.W.Shape()) {
			return fmt.Errorf("%s has shape %v, want %v", p.Name, ti.Shape, p.W.Shape())
		}
		if err := checkDType(p.Name, ti.DType, want); err != nil {
			return err
		}
		w, k := p.W.View(), p.W.Len()
		_, _, packed := m.PackedWeight(p.W)
		if packed || m.StoredBF16(p.W) {
			// bf16 storage: read into the weight itself, or for a packed
			// one into the staging buffer it is then packed from.
			dst := w
			if packed {
				if stage == nil {
					stage = m.bf16().AllocBF16(n16)
				}
				dst = backend.Whole(stage)
			}
			v, host := hostBF16(dst, k)
			if !host {
				if h == nil {
					h = make([]uint16, n)
				}
				v = h[:k]
			}
			if err := d.ReadBF16Into(p.Name, v); err != nil {
				return err
			}
			if err := checkFiniteBF16(p.Name, v); err != nil {
				return err
			}
			if !host {
				m.bf16().WriteBF16(dst, v)
			}
			if packed {
				m.packed.PackBF16(p.W.Buffer(), dst, p.W.Dim(1))
			}
			continue
		}
		v, host := hostF32(w, k)
		if !host {
			if f32 == nil {
				f32 = make([]float32, n)
			}
			v = f32[:k]
		}
		if err := d.ReadInto(p.Name, v); err != nil {
			return err
		}
		if err := checkFinite(p.Name, v); err != nil {
			return err
		}
		if !host {
			p.W.Set(v)
		}
	}
	m.WeightsChanged()
	return m.checkUnknown(d.Names())
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
	}
	var scratch []uint16
	for _, p := range m.Params {
		scratch = m.setParam(p.W, ts[p.Name].Data, scratch)
	}
	m.WeightsChanged()
	return m.checkUnknown(slices.Collect(maps.Keys(ts)))
}

// checkUnknown refuses names the model does not use (SetWeights).
func (m *Model) checkUnknown(names []string) error {
	var unknown []string
	for _, name := range names {
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

// Weights reads every parameter back to the host, by Hugging Face name, as
// float32 (a bf16 base's linear weights widened exactly).
func (m *Model) Weights() (map[string]safetensors.Tensor, error) {
	out := make(map[string]safetensors.Tensor, len(m.Params))
	for _, p := range m.Params {
		d, err := m.paramData(p.W)
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

// loadIntoHost lets readWeights read into host buffers directly; tests
// turn it off to run the staging path a device backend takes.
var loadIntoHost = true

// hostF32 returns the n float32 elements at v when its buffer is host
// memory the host may write (the CPU backend's), so that a loader reads
// into the model with no staging copy (which for a large vocabulary's
// embedding is hundreds of MB more at the peak).
func hostF32(v backend.View, n int) ([]float32, bool) {
	if h, ok := v.Buf.(interface{ Data() []float32 }); ok && loadIntoHost {
		return h.Data()[v.Off : v.Off+n], true
	}
	return nil, false
}

// hostBF16 is hostF32 for a bf16 buffer.
func hostBF16(v backend.View, n int) ([]uint16, bool) {
	if h, ok := v.Buf.(interface{ Data() []uint16 }); ok && loadIntoHost {
		return h.Data()[v.Off : v.Off+n], true
	}
	return nil, false
}
