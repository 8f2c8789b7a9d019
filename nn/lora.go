package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/goarpo/arpo/tensor"
)

// LoRA (Hu et al., 2021) trains a low-rank update of chosen linears on a
// frozen base: a targeted weight W (out, in) acts as W + scale*B*A with A
// (r, in), B (out, r) and scale = alpha/r. The forward adds
// scale*(x*A^T)*B^T to x*W^T; the backward computes the gradients of A and B
// and carries the adapter's path into dx, and computes no gradient of the
// base at all (its gradient storage is freed), which skips the weight-
// gradient GEMMs, a third of a training step's arithmetic.

// LoRAConfig says which linears get adapters and how large.
type LoRAConfig struct {
	// Rank is r, e.g. 16.
	Rank int `json:"rank"`
	// Alpha sets the adapter's scale alpha/r, e.g. 32.
	Alpha float64 `json:"alpha"`
	// Targets are among LoRATargets, e.g. ["q", "v"]; every layer's
	// linears of those kinds get an adapter.
	Targets []string `json:"targets"`
}

// LoRATargets are the linears an adapter may target, in the order their
// adapters are laid out.
var LoRATargets = []string{"q", "k", "v", "o", "gate", "up", "down"}

// loraTarget indexes LoRATargets.
type loraTarget int

const (
	loraQ loraTarget = iota
	loraK
	loraV
	loraO
	loraGate
	loraUp
	loraDown
	numLoRATargets
)

// hfModule is each target's module name in Hugging Face checkpoints (and
// PEFT's target_modules).
var hfModule = [numLoRATargets]string{"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"}

// LoRAModuleName is the Hugging Face module name of target t, e.g. "q_proj"
// for "q"; "" for an unknown target.
func LoRAModuleName(t string) string {
	i := slices.Index(LoRATargets, t)
	if i < 0 {
		return ""
	}
	_, name, _ := strings.Cut(hfModule[i], ".")
	return name
}

// ParseLoRATargets parses a comma-separated target list, e.g. "q,k,v".
func ParseLoRATargets(s string) []string {
	var ts []string
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			ts = append(ts, t)
		}
	}
	return ts
}

// Validate reports a configuration that cannot be used, in one line.
func (c LoRAConfig) Validate() error {
	if c.Rank < 1 {
		return fmt.Errorf("lora: rank %d, want at least 1", c.Rank)
	}
	if !(c.Alpha > 0) || math.IsInf(c.Alpha, 0) {
		return fmt.Errorf("lora: alpha %g, want a positive number", c.Alpha)
	}
	if len(c.Targets) == 0 {
		return fmt.Errorf("lora: no target (want some of %s)", strings.Join(LoRATargets, ","))
	}
	seen := map[string]bool{}
	for _, t := range c.Targets {
		if !slices.Contains(LoRATargets, t) {
			return fmt.Errorf("lora: unknown target %q (want some of %s)", t, strings.Join(LoRATargets, ","))
		}
		if seen[t] {
			return fmt.Errorf("lora: target %q given twice", t)
		}
		seen[t] = true
	}
	return nil
}

// Scale is alpha/r, the factor of the adapters' product.
func (c LoRAConfig) Scale() float32 { return float32(c.Alpha / float64(c.Rank)) }

// Adapter is one linear's low-rank update with its gradients.
type Adapter struct {
	A, AG *tensor.Tensor // (r, in)
	B, BG *tensor.Tensor // (out, r)
	Scale float32        // alpha/r
}

// LayerLoRA is one layer's adapters, indexed like LoRATargets; nil where
// the linear is not targeted.
type LayerLoRA struct {
	Adapters [numLoRATargets]*Adapter
	s        *loraScratch
}

// Adapter returns the adapter of target t ("q", ..., "down"), or nil.
func (ll *LayerLoRA) Adapter(t string) *Adapter {
	i := slices.Index(LoRATargets, t)
	if ll == nil || i < 0 {
		return nil
	}
	return ll.Adapters[i]
}

// LoRA is a model's attached adapters: the trainable parameters, laid out
// in one weight and one gradient buffer as Model's are.
type LoRA struct {
	Cfg    LoRAConfig
	Params []Param // "model.layers.0.self_attn.q_proj.lora_A.weight", ...
	W, G   *tensor.Tensor
	s      loraScratch
	// baseHash caches BaseHash: the base is frozen while LoRA is attached.
	baseHash string
}

// Param returns the adapter parameter named name, or nil.
func (l *LoRA) Param(name string) *Param {
	for i := range l.Params {
		if l.Params[i].Name == name {
			return &l.Params[i]
		}
	}
	return nil
}

// loraScratch holds the (T, r) intermediates of the adapters, shared by
// every layer: a pass runs one linear at a time.
type loraScratch struct {
	xa, dxa *tensor.Tensor
}

// take returns the two (T, r) scratch tensors, growing them when needed.
func (s *loraScratch) take(like *tensor.Tensor, T, r int) (xa, dxa *tensor.Tensor) {
	if s.xa == nil || s.xa.Dim(0) < T {
		s.free()
		s.xa, s.dxa = tensor.New(like.B, T, r), tensor.New(like.B, T, r)
	}
	return s.xa.Rows(0, T), s.dxa.Rows(0, T)
}

func (s *loraScratch) free() {
	if s.xa != nil {
		s.xa.Free()
		s.dxa.Free()
		s.xa, s.dxa = nil, nil
	}
}

func (l *LoRA) free() {
	l.s.free()
	l.W.Free()
	l.G.Free()
}

// AttachLoRA freezes the base and attaches adapters as cfg says: A drawn
// as PEFT's default (kaiming_uniform_ with a = sqrt(5), which is uniform
// in +-1/sqrt(in)) from a generator seeded by seed, B zero, so the model
// computes what the base did. The base's gradient storage is freed; from
// now on Trainable, ZeroGrad and AdamW see the adapters only.
func (m *Model) AttachLoRA(cfg LoRAConfig, seed uint64) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if m.LoRA != nil {
		return fmt.Errorf("lora: the model already has adapters")
	}
	if err := m.refusePacked("lora adapters"); err != nil {
		return err
	}
	m.freezeBase()
	c := m.Cfg
	C, H, KV, D, F, r := c.HiddenSize, c.NumHeads, c.NumKVHeads, c.HeadDim, c.IntermediateSize, cfg.Rank
	// in and out of each target's weight.
	dims := [numLoRATargets][2]int{{C, H * D}, {C, KV * D}, {C, KV * D}, {H * D, C}, {C, F}, {C, F}, {F, C}}
	var on [numLoRATargets]bool
	for _, t := range cfg.Targets {
		on[slices.Index(LoRATargets, t)] = true
	}
	total := 0
	for range m.Layers {
		for t := range numLoRATargets {
			if on[t] {
				total += r * (dims[t][0] + dims[t][1])
			}
		}
	}
	lr := &LoRA{Cfg: cfg, W: tensor.New(m.B, total), G: tensor.New(m.B, total)}
	rng := rand.New(rand.NewPCG(seed, 0x4c6f5241)) // "LoRA"
	scale := cfg.Scale()
	off := 0
	carve := func(name string, rows, cols int) (w, g *tensor.Tensor) {
		w = tensor.On(m.B, lr.W.Buffer(), off, rows, cols)
		g = tensor.On(m.B, lr.G.Buffer(), off, rows, cols)
		lr.Params = append(lr.Params, Param{Name: name, W: w, G: g, Decay: true})
		off += rows * cols
		return w, g
	}
	for i := range m.Layers {
		ll := &LayerLoRA{s: &lr.s}
		for t := range numLoRATargets {
			if !on[t] {
				continue
			}
			in, out := dims[t][0], dims[t][1]
			p := fmt.Sprintf("model.layers.%d.%s.", i, hfModule[t])
			ad := &Adapter{Scale: scale}
			ad.A, ad.AG = carve(p+"lora_A.weight", r, in)
			ad.B, ad.BG = carve(p+"lora_B.weight", out, r)
			bound := 1 / math.Sqrt(float64(in))
			a := make([]float32, r*in)
			for j := range a {
				a[j] = float32((2*rng.Float64() - 1) * bound)
			}
			ad.A.Set(a)
			ll.Adapters[t] = ad
		}
		m.Layers[i].LoRA = ll
	}
	m.LoRA = lr
	return nil
}

// freezeBase frees the base's gradients: nothing computes them under LoRA.
func (m *Model) freezeBase() {
	if m.G == nil {
		return
	}
	m.G.Free()
	m.G = nil
	for i := range m.Params {
		m.Params[i].G = nil
	}
	m.EmbedG, m.NormG, m.LMHeadG = nil, nil, nil
	for i := range m.Layers {
		l := &m.Layers[i]
		for _, g := range []**tensor.Tensor{&l.AttnNormG, &l.QG, &l.KG, &l.VG, &l.OG, &l.QBG, &l.KBG, &l.VBG, &l.OBG,
			&l.QNormG, &l.KNormG, &l.MLPNormG, &l.GateG, &l.UpG, &l.DownG} {
			*g = nil
		}
	}
}

// add sets y += scale*(x*A^T)*B^T for target t's adapter; nothing without
// one. x is (T, in), y (T, out).
func (ll *LayerLoRA) add(t loraTarget, y, x *tensor.Tensor) {
	if ll == nil || ll.Adapters[t] == nil {
		return
	}
	ad := ll.Adapters[t]
	xa, _ := ll.s.take(x, x.Dim(0), ad.A.Dim(0))
	tensor.MatMul(xa, x, ad.A, false, true, 1, 0)
	tensor.MatMul(y, xa, ad.B, false, true, ad.Scale, 1)
}

// backward accumulates target t's adapter gradients from dy (T, out), the
// gradient at the linear's output, and x (T, in), its input, and adds the
// adapter's path to dx (T, in); nothing without an adapter. x*A^T is
// recomputed (T*in*r multiply-adds) rather than kept by the forward.
func (ll *LayerLoRA) backward(t loraTarget, dx, dy, x *tensor.Tensor) {
	if ll == nil || ll.Adapters[t] == nil {
		return
	}
	ad := ll.Adapters[t]
	xa, dxa := ll.s.take(x, x.Dim(0), ad.A.Dim(0))
	tensor.MatMul(xa, x, ad.A, false, true, 1, 0)
	tensor.MatMul(ad.BG, dy, xa, true, false, ad.Scale, 1)  // dB += scale * dy^T (xA^T)
	tensor.MatMul(dxa, dy, ad.B, false, false, ad.Scale, 0) // d(xA^T) = scale * dy B
	tensor.MatMul(ad.AG, dxa, x, true, false, 1, 1)         // dA += d(xA^T)^T x
	tensor.MatMul(dx, dxa, ad.A, false, false, 1, 1)        // dx += d(xA^T) A
}
