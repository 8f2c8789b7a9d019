package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/goarpo/arpo/backend"
	"github.com/stretchr/testify/require"
)

// buf returns a view of a new CPU buffer holding a copy of x.
func buf(x []float32) backend.View {
	b := &Buffer{data: append([]float32(nil), x...)}
	return backend.Whole(b)
}

// data returns the whole contents of the view's buffer.
func data(v backend.View) []float32 { return v.Buf.(*Buffer).data }

// randVec returns n values uniform in [-scale, scale) from a fixed seed.
func randVec(rng *rand.Rand, n int, scale float32) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = (2*rng.Float32() - 1) * scale
	}
	return x
}

func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

func to64(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}

// requireClose checks max|got-want| <= tol * max(1, max|want|): an error
// normalised by the size of the reference, so one tolerance fits values of
// any magnitude.
func requireClose(t *testing.T, want []float64, got []float32, tol float64, what string) {
	t.Helper()
	require.Len(t, got, len(want), what)
	var maxErr, maxRef float64
	at := -1
	for i, w := range want {
		g := float64(got[i])
		if math.IsNaN(g) || math.IsInf(g, 0) {
			require.Failf(t, "non-finite result", "%s[%d] = %v, want %v", what, i, g, w)
		}
		if e := math.Abs(g - w); e > maxErr {
			maxErr, at = e, i
		}
		maxRef = max(maxRef, math.Abs(w))
	}
	norm := maxErr / max(1, maxRef)
	if norm > tol {
		require.Failf(t, "not close", "%s: normalised error %.3g > %.3g (at %d: got %v, want %v)",
			what, norm, tol, at, got[at], want[at])
	}
}

// numGrad returns the central-difference gradient of f at x, in float64.
func numGrad(x []float64, f func() float64) []float64 {
	const h = 1e-6
	g := make([]float64, len(x))
	for i := range x {
		old := x[i]
		x[i] = old + h
		fp := f()
		x[i] = old - h
		fm := f()
		x[i] = old
		g[i] = (fp - fm) / (2 * h)
	}
	return g
}

// dot64 is sum(a[i]*b[i]) in float64.
func dot64(a []float64, b []float32) float64 {
	var s float64
	for i, v := range a {
		s += v * float64(b[i])
	}
	return s
}
