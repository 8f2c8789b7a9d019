package cpu

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// ropeRef rotates x (len(pos), heads*hd) by sign*angle in float64, rotate-half
// layout.
func ropeRef(x []float64, pos []int32, heads, hd int, theta float64, sign float64) []float64 {
	y := append([]float64(nil), x...)
	half := hd / 2
	for i, p := range pos {
		for h := 0; h < heads; h++ {
			b := i*heads*hd + h*hd
			for j := 0; j < half; j++ {
				a := float64(p) * math.Pow(theta, -2*float64(j)/float64(hd))
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
	c.RoPE(vx, pos, heads, hd, theta)
	requireClose(t, ropeRef(to64(x), pos, heads, hd, theta, 1), data(vx), 2e-6, "rope")

	// Backward is the transpose: <RoPE(x), y> = <x, RoPEBackward(y)>, and
	// it undoes the forward.
	y := randVec(rng, len(x), 1)
	vy := buf(y)
	c.RoPEBackward(vy, pos, heads, hd, theta)
	requireClose(t, ropeRef(to64(y), pos, heads, hd, theta, -1), data(vy), 2e-6, "rope backward")
	require.InDelta(t, dot64(to64(data(vx)), y), dot64(to64(x), data(vy)), 1e-4)
	c.RoPEBackward(vx, pos, heads, hd, theta)
	requireClose(t, to64(x), data(vx), 2e-6, "rope round trip")
}

func TestRoPEBadInput(t *testing.T) {
	c := New(1)
	x := buf(make([]float32, 8))
	require.Panics(t, func() { c.RoPE(x, []int32{-1}, 1, 8, 10000) })
	require.Panics(t, func() { c.RoPE(x, []int32{0}, 1, 7, 10000) })
}
