package cpu

import (
	"math"
	"testing"

	"github.com/goarpo/arpo/backend"
	"github.com/stretchr/testify/require"
)

// ropeRef rotates x (len(pos), heads*hd) by sign*angle in float64, rotate-half
// layout.
func ropeRef(x []float64, pos []int32, heads, hd int, theta float64, sign float64) []float64 {
	inv := make([]float64, hd/2)
	for j := range inv {
		inv[j] = math.Pow(theta, -2*float64(j)/float64(hd))
	}
	return ropeRefFreq(x, pos, heads, hd, inv, sign)
}

// ropeRefFreq is ropeRef with pair j turning at inverse frequency inv[j].
func ropeRefFreq(x []float64, pos []int32, heads, hd int, inv []float64, sign float64) []float64 {
	y := append([]float64(nil), x...)
	half := hd / 2
	for i, p := range pos {
		for h := 0; h < heads; h++ {
			b := i*heads*hd + h*hd
			for j := 0; j < half; j++ {
				a := float64(p) * inv[j]
				cs, sn := math.Cos(a), sign*math.Sin(a)
				x1, x2 := x[b+j], x[b+j+half]
				y[b+j] = x1*cs - x2*sn
				y[b+j+half] = x2*cs + x1*sn
			}
		}
	}
	return y
}

func TestRoPE(t *testing.T) {
	c := New(3)
	rng := newRNG(8)
	const heads, hd, theta = 3, 8, 10000
	// The last positions lie beyond the cached table.
	pos := []int32{0, 1, 2, 5, 1000, 4095, ropeCachedPositions + 3, 1 << 20}
	x := randVec(rng, len(pos)*heads*hd, 1)
	vx := buf(x)
	c.RoPE(vx, pos, heads, hd, backend.Theta(theta))
	requireClose(t, ropeRef(to64(x), pos, heads, hd, theta, 1), data(vx), 2e-6, "rope")

	// Backward is the transpose: <RoPE(x), y> = <x, RoPEBackward(y)>, and
	// it undoes the forward.
	y := randVec(rng, len(x), 1)
	vy := buf(y)
	c.RoPEBackward(vy, pos, heads, hd, backend.Theta(theta))
	requireClose(t, ropeRef(to64(y), pos, heads, hd, theta, -1), data(vy), 2e-6, "rope backward")
	require.InDelta(t, dot64(to64(data(vx)), y), dot64(to64(x), data(vy)), 1e-4)
	c.RoPEBackward(vx, pos, heads, hd, backend.Theta(theta))
	requireClose(t, to64(x), data(vx), 2e-6, "rope round trip")
}

// TestRoPEScaled checks that scaled RoPE (Llama 3's remapping, linear)
// rotates by its own frequencies, from the cached table and beyond it, and
// that the tables of differently scaled RoPEs with one theta are kept apart.
func TestRoPEScaled(t *testing.T) {
	c := New(2)
	rng := newRNG(9)
	const heads, hd = 2, 16
	pos := []int32{0, 3, 700, 9000, ropeCachedPositions + 1}
	x := randVec(rng, len(pos)*heads*hd, 1)
	for _, rope := range []backend.RoPEParams{
		backend.Theta(5e5),
		{Theta: 5e5, Scaling: backend.RoPEScalingLlama3, Factor: 32, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPos: 8192},
		{Theta: 5e5, Scaling: backend.RoPEScalingLinear, Factor: 4},
	} {
		vx := buf(x)
		c.RoPE(vx, pos, heads, hd, rope)
		requireClose(t, ropeRefFreq(to64(x), pos, heads, hd, rope.InvFreq(hd), 1), data(vx), 2e-6, rope.Scaling)
	}
}

func TestRoPEBadInput(t *testing.T) {
	c := New(1)
	x := buf(make([]float32, 8))
	require.Panics(t, func() { c.RoPE(x, []int32{-1}, 1, 8, backend.Theta(10000)) })
	require.Panics(t, func() { c.RoPE(x, []int32{0}, 1, 7, backend.Theta(10000)) })
	require.Panics(t, func() { c.RoPE(x, []int32{0}, 1, 8, backend.RoPEParams{Theta: 1e4, Scaling: "yarn"}) })
}
