package nn

import (
	"fmt"

	"github.com/goarpo/arpo/backend"
	"github.com/goarpo/arpo/tensor"
)

// Param is one named weight with its gradient. All weights of a model live in
// one buffer and all gradients in another, in the order of Model.Params, so
// zeroing the gradients or taking their norm is a single op.
type Param struct {
	// Name is the Hugging Face name, e.g. "model.layers.0.self_attn.q_proj.weight".
	Name string
	W, G *tensor.Tensor
	// Decay says whether AdamW applies weight decay: matrices yes, norms
	// and biases no.
	Decay bool
}

// Layer holds one decoder layer's weights and gradients. Linear weights are
// (out, in) as in PyTorch, so Hugging Face checkpoints load without
// transposing. Bias fields are nil when the config has none.
type Layer struct {
	AttnNorm, AttnNormG *tensor.Tensor // (C)
	Q, QG               *tensor.Tensor // (H*D, C)
	K, KG               *tensor.Tensor // (KV*D, C)
	V, VG               *tensor.Tensor // (KV*D, C)
	O, OG               *tensor.Tensor // (C, H*D)
	QB, QBG             *tensor.Tensor // (H*D) or nil
	KB, KBG             *tensor.Tensor // (KV*D) or nil
	VB, VBG             *tensor.Tensor // (KV*D) or nil
	OB, OBG             *tensor.Tensor // (C) or nil
	QNorm, QNormG       *tensor.Tensor // (D) or nil: Qwen3's q_norm, shared by the heads
	KNorm, KNormG       *tensor.Tensor // (D) or nil: Qwen3's k_norm
	MLPNorm, MLPNormG   *tensor.Tensor // (C)
	Gate, GateG         *tensor.Tensor // (F, C)
	Up, UpG             *tensor.Tensor // (F, C)
	Down, DownG         *tensor.Tensor // (C, F)
	// LoRA holds the layer's adapters when the model has LoRA attached
	// (AttachLoRA), else nil: then the layer runs as it always has.
	LoRA *LayerLoRA
}

// Model is a decoder-only transformer with its gradients.
type Model struct {
	Cfg Config
	B   backend.Backend

	Embed, EmbedG *tensor.Tensor // (V, C)
	Layers        []Layer
	Norm, NormG   *tensor.Tensor // (C)
	// LMHead is (V, C); with tied embeddings it is Embed (and LMHeadG is EmbedG).
	LMHead, LMHeadG *tensor.Tensor

	Params []Param
	// W and G are the whole weight and gradient storage, e.g. for one Fill.
	// G (and every gradient above) is nil once LoRA freezes the base, and
	// in a bf16 base.
	W, G *tensor.Tensor
	// W16 is a bf16 base's storage of its linear weights (q, k, v, o,
	// gate, up, down), bf16 with no float32 copy (NewBF16Base); W then
	// holds the other weights. nil in a float32 model.
	W16 *tensor.Tensor
	// packed is the backend's packed bf16 GEMM in a packed bf16 base
	// (NewPackedBF16Base), whose linear weights (packedW) each own a
	// packed buffer of packed16 elements in all; nil otherwise.
	packed   backend.PackedBF16
	packedW  map[*tensor.Tensor]bool
	packed16 int
	// sharedW says W belongs to another model: a bf16 merged copy shares
	// its LoRA source's float32 weights, which adapters never change
	// (mergedCopy).
	sharedW bool
	// LoRA is the attached adapters, the model's trainable parameters in
	// place of the base's; nil without LoRA.
	LoRA *LoRA

	chunk int // LM-head rows per chunk when > 0 (tests); see chunkRows
	// headMode forces the fused LM head on (> 0) or off (< 0) whatever
	// the vocabulary (tests); see fusedHead.
	headMode int

	// idle holds the activation and temporary buffers of the last freed
	// pass, by slot, for the next pass to reuse: a training step then
	// allocates (and zeroes, and collects) nothing on the steady path.
	idle map[slotKey]*tensor.Tensor

	// version counts weight changes (WeightsChanged), so that copies of
	// the weights (the rollout engine's bf16 copy) know when to refresh.
	version uint64
}

// slotKey names one buffer of a pass: an activation of a layer (layer >= 0)
// or a temporary shared by all layers (layer -1).
type slotKey struct {
	name  string
	layer int
}

// passMem is the set of buffers one pass holds, taken from and given back to
// its model's idle set. A nil *passMem allocates fresh tensors (the layer
// tests run layers outside any pass).
type passMem struct {
	m    *Model
	held map[slotKey]*tensor.Tensor
}

// take returns a (rows, cols) tensor for slot k: the one this pass already
// holds under k, else a reused idle buffer with enough rows (its first rows),
// else a new one. Reused contents are stale: every caller overwrites what it
// takes before reading it. Buffers more than twice the rows needed are
// dropped, so a long batch does not pin its memory for all later short ones.
func (pm *passMem) take(b backend.Backend, k slotKey, rows, cols int) *tensor.Tensor {
	if pm == nil {
		return tensor.New(b, rows, cols)
	}
	t := pm.held[k]
	if t == nil {
		t = pm.m.idle[k]
		if t != nil {
			delete(pm.m.idle, k)
			if t.Dim(-1) != cols || t.Dim(0) < rows || t.Dim(0) > 2*rows {
				t.Free()
				t = nil
			}
		}
		if t == nil {
			t = tensor.New(b, rows, cols)
		}
		pm.held[k] = t
	}
	if t.Dim(-1) != cols || t.Dim(0) < rows {
		panic(fmt.Sprintf("nn: pass slot %v is %v, taken as (%d, %d)", k, t.Shape(), rows, cols))
	}
	return t.Rows(0, rows)
}

// release gives the pass's buffers back to the model, replacing (and
// freeing) idle ones under the same slots.
func (pm *passMem) release() {
	if pm.m.idle == nil {
		pm.m.idle = make(map[slotKey]*tensor.Tensor, len(pm.held))
	}
	for k, t := range pm.held {
		if old := pm.m.idle[k]; old != nil {
			old.Free()
		}
		pm.m.idle[k] = t
	}
	pm.held = nil
}

// dropIdle frees the buffers kept for reuse.
func (m *Model) dropIdle() {
	for _, t := range m.idle {
		t.Free()
	}
	m.idle = nil
}

// New allocates a model with zero weights and gradients on b; fill the
// weights with Init or a loader.
func New(cfg Config, b backend.Backend) (*Model, error) { return newModel(cfg, b, nil) }

// newModel is New, or with bf (a bf16 base) the linear weights in one bf16
// buffer and no gradients at all.
func newModel(cfg Config, b backend.Backend, bf backend.BF16) (*Model, error) {
	return newModelOn(cfg, b, bf, nil, nil)
}

// newModelOn is newModel for a bf16 base whose float32 weights are the
// tensor w of another bf16 base of the same config (nil: its own); with pk
// a packed bf16 base (NewPackedBF16Base), each linear weight in a packed
// buffer of its own.
func newModelOn(cfg Config, b backend.Backend, bf backend.BF16, w *tensor.Tensor, pk backend.PackedBF16) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &Model{Cfg: cfg, B: b}
	C, H, KV, D, F, V := cfg.HiddenSize, cfg.NumHeads, cfg.NumKVHeads, cfg.HeadDim, cfg.IntermediateSize, cfg.VocabSize

	// First pass lays out the parameters; the second carves tensors.
	type spec struct {
		name  string
		shape []int
		decay bool
		w, g  **tensor.Tensor
	}
	var specs []spec
	add := func(name string, w, g **tensor.Tensor, decay bool, shape ...int) {
		specs = append(specs, spec{name, shape, decay, w, g})
	}

	add("model.embed_tokens.weight", &m.Embed, &m.EmbedG, true, V, C)
	m.Layers = make([]Layer, cfg.NumLayers)
	for i := range m.Layers {
		l := &m.Layers[i]
		p := fmt.Sprintf("model.layers.%d.", i)
		add(p+"input_layernorm.weight", &l.AttnNorm, &l.AttnNormG, false, C)
		add(p+"self_attn.q_proj.weight", &l.Q, &l.QG, true, H*D, C)
		add(p+"self_attn.k_proj.weight", &l.K, &l.KG, true, KV*D, C)
		add(p+"self_attn.v_proj.weight", &l.V, &l.VG, true, KV*D, C)
		if cfg.QKVBias() {
			add(p+"self_attn.q_proj.bias", &l.QB, &l.QBG, false, H*D)
			add(p+"self_attn.k_proj.bias", &l.KB, &l.KBG, false, KV*D)
			add(p+"self_attn.v_proj.bias", &l.VB, &l.VBG, false, KV*D)
		}
		add(p+"self_attn.o_proj.weight", &l.O, &l.OG, true, C, H*D)
		if cfg.OBias() {
			add(p+"self_attn.o_proj.bias", &l.OB, &l.OBG, false, C)
		}
		if cfg.QKNorm() {
			add(p+"self_attn.q_norm.weight", &l.QNorm, &l.QNormG, false, D)
			add(p+"self_attn.k_norm.weight", &l.KNorm, &l.KNormG, false, D)
		}
		add(p+"post_attention_layernorm.weight", &l.MLPNorm, &l.MLPNormG, false, C)
		add(p+"mlp.gate_proj.weight", &l.Gate, &l.GateG, true, F, C)
		add(p+"mlp.up_proj.weight", &l.Up, &l.UpG, true, F, C)
		add(p+"mlp.down_proj.weight", &l.Down, &l.DownG, true, C, F)
	}
	add("model.norm.weight", &m.Norm, &m.NormG, false, C)
	if !cfg.TieWordEmbeddings {
		add("lm_head.weight", &m.LMHead, &m.LMHeadG, true, V, C)
	}

	if bf != nil {
		// A bf16 base: the linear weights in one bf16 buffer, the rest in
		// W, no gradients.
		var total, total16 int
		for _, s := range specs {
			if IsLinearWeight(s.name) {
				total16 += prod(s.shape)
			} else {
				total += prod(s.shape)
			}
		}
		if w != nil {
			if w.Len() != total {
				panic(fmt.Sprintf("nn: sharing %d float32 weights with a model of %d", w.Len(), total))
			}
			m.W, m.sharedW = w, true
		} else {
			m.W = tensor.New(b, total)
		}
		if pk != nil {
			m.packed, m.packedW = pk, map[*tensor.Tensor]bool{}
		} else {
			m.W16 = tensor.On(b, bf.AllocBF16(total16), 0, total16)
			m.W16.SetPrecision(BF16)
		}
		var off, off16 int
		for _, s := range specs {
			if IsLinearWeight(s.name) && pk != nil {
				*s.w = tensor.On(b, pk.AllocPackedBF16(s.shape[0], s.shape[1]), 0, s.shape...)
				(*s.w).SetPrecision(BF16)
				m.packedW[*s.w] = true
				m.packed16 += prod(s.shape)
			} else if IsLinearWeight(s.name) {
				*s.w = tensor.On(b, m.W16.Buffer(), off16, s.shape...)
				(*s.w).SetPrecision(BF16)
				off16 += prod(s.shape)
			} else {
				*s.w = tensor.On(b, m.W.Buffer(), off, s.shape...)
				off += prod(s.shape)
			}
			m.Params = append(m.Params, Param{Name: s.name, W: *s.w, Decay: s.decay})
		}
		if cfg.TieWordEmbeddings {
			m.LMHead = m.Embed
		}
		// Every product with a linear weight is bf16, the LM head's too.
		m.LMHead.SetPrecision(BF16)
		return m, nil
	}
	total := 0
	for _, s := range specs {
		total += prod(s.shape)
	}
	m.W, m.G = tensor.New(b, total), tensor.New(b, total)
	off := 0
	for _, s := range specs {
		*s.w = tensor.On(b, m.W.Buffer(), off, s.shape...)
		*s.g = tensor.On(b, m.G.Buffer(), off, s.shape...)
		m.Params = append(m.Params, Param{Name: s.name, W: *s.w, G: *s.g, Decay: s.decay})
		off += prod(s.shape)
	}
	if cfg.TieWordEmbeddings {
		m.LMHead, m.LMHeadG = m.Embed, m.EmbedG
	}
	return m, nil
}

// NumParams is the number of scalars of the base model (trainable unless
// LoRA is attached; see Trainable).
func (m *Model) NumParams() int {
	if m.W16 != nil {
		return m.W.Len() + m.W16.Len()
	}
	return m.W.Len() + m.packed16
}

// Trainable returns what the optimizer updates: the parameters and their
// weight and gradient storage, the base's or, with LoRA attached, the
// adapters' alone.
func (m *Model) Trainable() (params []Param, w, g *tensor.Tensor) {
	if m.LoRA != nil {
		return m.LoRA.Params, m.LoRA.W, m.LoRA.G
	}
	return m.Params, m.W, m.G
}

// ZeroGrad clears every trainable gradient. Backward passes accumulate, so
// gradient accumulation over micro-batches is: ZeroGrad, then several
// backwards.
func (m *Model) ZeroGrad() {
	if _, _, g := m.Trainable(); g != nil { // a frozen base has none
		g.Zero()
	}
}

// Param returns the parameter named name, or nil.
func (m *Model) Param(name string) *Param {
	for i := range m.Params {
		if m.Params[i].Name == name {
			return &m.Params[i]
		}
	}
	return nil
}

// Free releases the model's storage, and the activation buffers it keeps
// for reuse by the next pass.
func (m *Model) Free() {
	m.dropIdle()
	if !m.sharedW {
		m.W.Free()
	}
	if m.W16 != nil {
		m.W16.Free()
	}
	for t := range m.packedW {
		t.Free()
	}
	if m.G != nil {
		m.G.Free()
	}
	if m.LoRA != nil {
		m.LoRA.free()
	}
}

func prod(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}
