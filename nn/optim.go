package nn

import (
	"fmt"
	"math"

	"github.com/goarpo/arpo/tensor"
)

// Schedule gives the learning rate of each optimizer step: a linear warm-up
// from 0 over Warmup steps, then Decay until Total steps, down to
// MinRatio*base.
type Schedule struct {
	// Decay is "constant" (or ""), "linear" or "cosine".
	Decay string
	// Warmup is the number of warm-up steps, e.g. 100; 0 for none.
	Warmup int
	// Total is the step at which the decay ends, e.g. 10000; unused by
	// "constant".
	Total int
	// MinRatio is the final learning rate as a fraction of the base, e.g. 0.1.
	MinRatio float64
}

// LR returns the learning rate of step (1-based) for base rate base.
func (s Schedule) LR(base float64, step int) float64 {
	if s.Warmup > 0 && step <= s.Warmup {
		return base * float64(step) / float64(s.Warmup)
	}
	if s.Decay == "" || s.Decay == "constant" || s.Total <= s.Warmup {
		return base
	}
	prog := math.Min(1, float64(step-s.Warmup)/float64(s.Total-s.Warmup))
	switch s.Decay {
	case "linear":
		return base * (1 - (1-s.MinRatio)*prog)
	case "cosine":
		return base * (s.MinRatio + (1-s.MinRatio)*0.5*(1+math.Cos(math.Pi*prog)))
	}
	panic("nn: unknown schedule decay " + s.Decay) // Validate catches it first
}

// Validate reports a schedule that cannot be used.
func (s Schedule) Validate() error {
	switch s.Decay {
	case "", "constant", "linear", "cosine":
	default:
		return fmt.Errorf("schedule: unknown decay %q (want constant, linear or cosine)", s.Decay)
	}
	if s.Warmup < 0 || s.Total < 0 || s.MinRatio < 0 || s.MinRatio > 1 {
		return fmt.Errorf("schedule: warmup %d, total %d, min ratio %g out of range", s.Warmup, s.Total, s.MinRatio)
	}
	return nil
}

// AdamWConfig holds the optimizer's hyper-parameters.
type AdamWConfig struct {
	LR          float64  // base learning rate, e.g. 1e-5
	Beta1       float64  // e.g. 0.9
	Beta2       float64  // e.g. 0.999
	Eps         float64  // e.g. 1e-8
	WeightDecay float64  // decoupled, on matrices only, e.g. 0.01
	ClipNorm    float64  // global gradient-norm limit, e.g. 1.0; 0 turns clipping off
	Schedule    Schedule // learning-rate schedule over steps
}

// DefaultAdamW is PyTorch's AdamW default with clipping at 1.
func DefaultAdamW(lr float64) AdamWConfig {
	return AdamWConfig{LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01, ClipNorm: 1}
}

// AdamW is the optimizer state: first and second moments laid out like the
// model's trainable parameters (Model.Trainable), and the number of steps
// taken.
type AdamW struct {
	Cfg  AdamWConfig
	M, V *tensor.Tensor // like Model.W, or LoRA.W with LoRA attached
	Step int
}

// NewAdamW returns a fresh optimizer for m.
func NewAdamW(m *Model, cfg AdamWConfig) (*AdamW, error) {
	if err := cfg.Schedule.Validate(); err != nil {
		return nil, err
	}
	if !(cfg.LR >= 0) || cfg.Beta1 < 0 || cfg.Beta1 >= 1 || cfg.Beta2 < 0 || cfg.Beta2 >= 1 || !(cfg.Eps > 0) || cfg.WeightDecay < 0 || cfg.ClipNorm < 0 {
		return nil, fmt.Errorf("adamw: hyper-parameters out of range: %+v", cfg)
	}
	if m.LoRA == nil {
		if err := m.refuseBF16Base("adamw over the base's weights"); err != nil {
			return nil, err
		}
	}
	_, w, _ := m.Trainable()
	return &AdamW{Cfg: cfg, M: tensor.New(m.B, w.Len()), V: tensor.New(m.B, w.Len())}, nil
}

// StepInfo reports one optimizer step.
type StepInfo struct {
	GradNorm float32 // global L2 norm of the gradients before clipping
	LR       float64 // learning rate used
}

// Update clips the accumulated gradients to the global norm limit and takes
// one AdamW step; it leaves the gradients (clipped) for the caller to zero.
// Norm and bias weights get no weight decay.
func (o *AdamW) Update(m *Model) (StepInfo, error) {
	params, W, G := m.Trainable()
	if W.Len() != o.M.Len() {
		panic(fmt.Sprintf("nn: AdamW over %d values updates a model with %d trainable", o.M.Len(), W.Len()))
	}
	ss, err := G.SumSquares()
	if err != nil {
		return StepInfo{}, fmt.Errorf("adamw: gradient norm: %w", err)
	}
	norm := float32(math.Sqrt(float64(ss)))
	if math.IsNaN(float64(norm)) || math.IsInf(float64(norm), 0) {
		return StepInfo{GradNorm: norm}, fmt.Errorf("adamw: gradient norm is %v", norm)
	}
	// As torch.nn.utils.clip_grad_norm_.
	if o.Cfg.ClipNorm > 0 {
		if coef := o.Cfg.ClipNorm / (float64(norm) + 1e-6); coef < 1 {
			G.Scale(float32(coef))
		}
	}
	o.Step++
	lr := o.Cfg.Schedule.LR(o.Cfg.LR, o.Step)
	for _, p := range params {
		wd := 0.0
		if p.Decay {
			wd = o.Cfg.WeightDecay
		}
		off := p.W.View().Off - W.View().Off
		m.B.AdamW(p.W.View(), p.G.View(), o.M.View().At(off), o.V.View().At(off), p.W.Len(),
			float32(lr), float32(o.Cfg.Beta1), float32(o.Cfg.Beta2), float32(o.Cfg.Eps), float32(wd), o.Step)
	}
	m.WeightsChanged()
	return StepInfo{GradNorm: norm, LR: lr}, nil
}

// Free releases the optimizer state.
func (o *AdamW) Free() {
	o.M.Free()
	o.V.Free()
}
