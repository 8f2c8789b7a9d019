package backend

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestInvFreqLlama3 checks the three bands of Llama 3's remapping against
// its definition, at Llama 3.2-1B's parameters (head_dim 64).
func TestInvFreqLlama3(t *testing.T) {
	plain := Theta(5e5).InvFreq(64)
	r := RoPEParams{Theta: 5e5, Scaling: RoPEScalingLlama3, Factor: 32, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPos: 8192}
	got := r.InvFreq(64)
	var high, low, mid int
	for j, f := range plain {
		wavelen := 2 * math.Pi / f
		switch {
		case wavelen < 8192/4.0:
			require.Equal(t, f, got[j], "pair %d (high frequency) is kept", j)
			high++
		case wavelen > 8192/1.0:
			require.InDelta(t, f/32, got[j], 1e-15, "pair %d (low frequency) is divided", j)
			low++
		default:
			s := (8192/wavelen - 1) / 3
			require.InDelta(t, (1-s)*f/32+s*f, got[j], 1e-15, "pair %d is blended", j)
			require.Less(t, got[j], f)
			require.Greater(t, got[j], f/32)
			mid++
		}
	}
	require.Positive(t, high)
	require.Positive(t, low)
	require.Positive(t, mid)

	lin := RoPEParams{Theta: 5e5, Scaling: RoPEScalingLinear, Factor: 4}.InvFreq(64)
	for j, f := range plain {
		require.Equal(t, f/4, lin[j])
	}
}

func TestRoPEParamsValidate(t *testing.T) {
	require.NoError(t, Theta(1e4).Validate())
	for _, r := range []RoPEParams{
		{Theta: 0},
		{Theta: math.Inf(1)},
		{Theta: 1e4, Scaling: "yarn", Factor: 4},
		{Theta: 1e4, Scaling: RoPEScalingLinear},
		{Theta: 1e4, Scaling: RoPEScalingLlama3, Factor: 8, LowFreqFactor: 4, HighFreqFactor: 4, OriginalMaxPos: 8192},
		{Theta: 1e4, Scaling: RoPEScalingLlama3, Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4},
	} {
		require.Error(t, r.Validate(), "%+v", r)
		require.Panics(t, func() { r.InvFreq(8) })
	}
}
