package backend

import (
	"fmt"
	"math"
)

// RoPE scaling kinds of RoPEParams.Scaling.
const (
	RoPEScalingNone   = ""
	RoPEScalingLinear = "linear" // every frequency divided by Factor
	RoPEScalingLlama3 = "llama3" // Llama 3.1's low/high-frequency remapping
)

// RoPEParams say how fast each pair of a head rotates: pair j of a head of
// width D turns by pos*InvFreq(D)[j] radians. The struct is comparable, so a
// backend can key its cos/sin tables by it.
type RoPEParams struct {
	// Theta is the RoPE base, e.g. 1e6.
	Theta float64
	// Scaling is RoPEScalingNone, RoPEScalingLinear or RoPEScalingLlama3.
	Scaling string
	// Factor divides the frequencies (linear) or the low ones (llama3), e.g. 32.
	Factor float64
	// LowFreqFactor and HighFreqFactor bound llama3's smoothly remapped
	// band, e.g. 1 and 4.
	LowFreqFactor, HighFreqFactor float64
	// OriginalMaxPos is llama3's pre-training context, e.g. 8192.
	OriginalMaxPos int
}

// Theta returns plain RoPE with base theta.
func Theta(theta float64) RoPEParams { return RoPEParams{Theta: theta} }

// Validate reports parameters InvFreq cannot use.
func (r RoPEParams) Validate() error {
	if !(r.Theta > 0) || math.IsInf(r.Theta, 0) {
		return fmt.Errorf("rope theta must be positive and finite, got %g", r.Theta)
	}
	switch r.Scaling {
	case RoPEScalingNone:
	case RoPEScalingLinear, RoPEScalingLlama3:
		if !(r.Factor > 0) || math.IsInf(r.Factor, 0) {
			return fmt.Errorf("rope %s factor must be positive and finite, got %g", r.Scaling, r.Factor)
		}
		if r.Scaling == RoPEScalingLlama3 {
			if !(r.LowFreqFactor > 0) || !(r.HighFreqFactor > r.LowFreqFactor) || math.IsInf(r.HighFreqFactor, 0) {
				return fmt.Errorf("rope llama3 needs 0 < low_freq_factor < high_freq_factor, got %g and %g", r.LowFreqFactor, r.HighFreqFactor)
			}
			if r.OriginalMaxPos <= 0 {
				return fmt.Errorf("rope llama3 original_max_position_embeddings must be positive, got %d", r.OriginalMaxPos)
			}
		}
	default:
		return fmt.Errorf("rope scaling %q is not supported (want linear or llama3)", r.Scaling)
	}
	return nil
}

// InvFreq returns the inverse frequency of each of the headDim/2 pairs, in
// float64: theta^(-2j/headDim), then remapped as Hugging Face's
// _compute_linear_scaling_rope_parameters or _compute_llama3_parameters do.
// Llama 3 leaves wavelengths below OriginalMaxPos/HighFreqFactor alone,
// divides those above OriginalMaxPos/LowFreqFactor by Factor, and blends the
// two in between. It panics on parameters Validate refuses.
func (r RoPEParams) InvFreq(headDim int) []float64 {
	if err := r.Validate(); err != nil {
		panic("backend: " + err.Error())
	}
	f := make([]float64, headDim/2)
	for j := range f {
		f[j] = math.Pow(r.Theta, -float64(2*j)/float64(headDim))
	}
	switch r.Scaling {
	case RoPEScalingLinear:
		for j := range f {
			f[j] /= r.Factor
		}
	case RoPEScalingLlama3:
		old := float64(r.OriginalMaxPos)
		lowWavelen, highWavelen := old/r.LowFreqFactor, old/r.HighFreqFactor
		for j, inv := range f {
			wavelen := 2 * math.Pi / inv
			switch {
			case wavelen < highWavelen:
			case wavelen > lowWavelen:
				f[j] = inv / r.Factor
			default:
				smooth := (old/wavelen - r.LowFreqFactor) / (r.HighFreqFactor - r.LowFreqFactor)
				f[j] = (1-smooth)*inv/r.Factor + smooth*inv
			}
		}
	}
	return f
}
