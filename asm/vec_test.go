package asm

import (
	"math"
	"math/rand"
	"os"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// variant is one implementation of every vector and row kernel.
type variant struct {
	name       string
	dot        func(x, y []float32) float32
	axpy       func(alpha float32, x, y []float32)
	scale      func(alpha float32, x []float32)
	add, mul   func(dst, a, b []float32)
	sum        func(x []float32) float32
	max        func(x []float32) float32
	argmax     func(x []float32) int
	exp        func(dst, x []float32)
	expSub     func(dst, x []float32, m float32) float32
	expSums    func(x []float32, m float32) (s, sx float32)
	softmax    func(dst, x []float32)
	logSoftmax func(dst, x []float32)
	entropy    func(x []float32) float32
	rmsNorm    func(dst, x, w []float32, eps float32) float32
	silu       func(dst, x []float32)
}

func genericVariant() variant {
	return variant{
		name: "generic", dot: dotGeneric, axpy: axpyGeneric, scale: scaleGeneric,
		add: addGeneric, mul: mulGeneric, sum: sumGeneric, max: maxGeneric, argmax: argmaxGeneric,
		exp: expGeneric, expSub: expSubGeneric, expSums: expSumsGeneric, softmax: softmaxGeneric, logSoftmax: logSoftmaxGeneric,
		entropy: entropyGeneric, rmsNorm: rmsNormGeneric, silu: siluGeneric,
	}
}

// testLengths covers every tail and unroll boundary up to 300, then a few
// long rows (a vocabulary row among them).
func testLengths() []int {
	var ns []int
	for n := 0; n <= 300; n++ {
		ns = append(ns, n)
	}
	return append(ns, 1000, 4099, 65543)
}

// sentinel fills the guard bands; a kernel that writes outside its slice
// changes it.
const sentinel = 0xdeadbeef

// guarded is a slice of n elements at element offset off inside a buffer
// whose other elements, 16 before and 16 after, hold the sentinel.
type guarded struct {
	buf    []float32
	off, n int
}

func newGuarded(n, off int) guarded {
	g := guarded{buf: make([]float32, off+n+16), off: off, n: n}
	for i := range g.buf {
		g.buf[i] = math.Float32frombits(sentinel)
	}
	return g
}

// s is the slice itself, with its capacity cut to its length so that no
// reslicing can reach the guard band.
func (g guarded) s() []float32 { return g.buf[g.off : g.off+g.n : g.off+g.n] }

func (g guarded) check(t *testing.T, what string) {
	t.Helper()
	for i, v := range g.buf {
		if i >= g.off && i < g.off+g.n {
			continue
		}
		require.Equalf(t, uint32(sentinel), math.Float32bits(v), "%s: guard band element %d of %d (slice at %d, len %d) overwritten", what, i, len(g.buf), g.off, g.n)
	}
}

// randGuarded returns a guarded slice at an unaligned offset (1..15, from
// the length and a salt) filled with values uniform in [lo, hi).
func randGuarded(rng *rand.Rand, n, salt int, lo, hi float64) guarded {
	g := newGuarded(n, 1+(n*7+salt)%15)
	s := g.s()
	for i := range s {
		s[i] = float32(lo + (hi-lo)*rng.Float64())
	}
	return g
}

func copyGuarded(g guarded) guarded {
	c := newGuarded(g.n, g.off)
	copy(c.s(), g.s())
	return c
}

// near reports whether got is within atol + rtol*|want| of want; NaNs must
// match NaNs and infinities must match exactly.
func near(got, want float32, rtol, atol float64) bool {
	g, w := float64(got), float64(want)
	switch {
	case math.IsNaN(w) || math.IsNaN(g):
		return math.IsNaN(w) && math.IsNaN(g)
	case math.IsInf(w, 0) || math.IsInf(g, 0):
		return g == w
	}
	return math.Abs(g-w) <= atol+rtol*math.Abs(w)
}

func requireNearSlice(t *testing.T, got, want []float32, rtol, atol float64, what string) {
	t.Helper()
	require.Equal(t, len(want), len(got), what)
	for i := range want {
		if !near(got[i], want[i], rtol, atol) {
			require.Failf(t, what, "element %d of %d: got %v, want %v (rtol %g, atol %g)", i, len(want), got[i], want[i], rtol, atol)
		}
	}
}

// sumTol bounds the rounding of a float32 sum of n terms whose magnitudes
// add up to mag, for any order of summation (the twins sum left to right,
// the assembly in several lanes).
func sumTol(n int, mag float64) float64 { return float64(n+2) * 0x1p-24 * mag }

// rowTol is the relative tolerance of the row kernels, whose one sum over the
// row is ordered differently in each variant; random rows stay far from the
// worst case of sumTol.
func rowTol(n int) float64 { return 2e-6 * (1 + math.Sqrt(float64(n))) }

func TestVectorKernels(t *testing.T) {
	for _, v := range variants() {
		t.Run(v.name, func(t *testing.T) {
			rng := rand.New(rand.NewSource(1))
			for _, n := range testLengths() {
				x := randGuarded(rng, n, 1, -2, 2)
				y := randGuarded(rng, n, 2, -2, 2)

				var mag, magSum float64
				for i, a := range x.s() {
					mag += math.Abs(float64(a) * float64(y.s()[i]))
					magSum += math.Abs(float64(a))
				}
				require.InDelta(t, dotGeneric(x.s(), y.s()), v.dot(x.s(), y.s()), sumTol(n, mag), "dot n=%d", n)
				require.InDelta(t, sumGeneric(x.s()), v.sum(x.s()), sumTol(n, magSum), "sum n=%d", n)

				// Axpy fuses alpha*x[i] + y[i] in assembly: one rounding fewer.
				got, want := copyGuarded(y), copyGuarded(y)
				v.axpy(0.75, x.s(), got.s())
				axpyGeneric(0.75, x.s(), want.s())
				got.check(t, "axpy")
				requireNearSlice(t, got.s(), want.s(), 2.5e-7, 1e-6, "axpy")

				got = copyGuarded(x)
				v.scale(-1.5, got.s())
				want = copyGuarded(x)
				scaleGeneric(-1.5, want.s())
				got.check(t, "scale")
				require.Equal(t, want.s(), got.s(), "scale n=%d", n)

				dst, ref := newGuarded(n, 15-x.off), make([]float32, n)
				v.add(dst.s(), x.s(), y.s())
				addGeneric(ref, x.s(), y.s())
				dst.check(t, "add")
				require.Equal(t, ref, dst.s(), "add n=%d", n)

				v.mul(dst.s(), x.s(), y.s())
				mulGeneric(ref, x.s(), y.s())
				dst.check(t, "mul")
				require.Equal(t, ref, dst.s(), "mul n=%d", n)

				require.Equal(t, maxGeneric(x.s()), v.max(x.s()), "max n=%d", n)
				require.Equal(t, argmaxGeneric(x.s()), v.argmax(x.s()), "argmax n=%d", n)
				x.check(t, "inputs")
				y.check(t, "inputs")
			}
		})
	}
}

func TestRowKernels(t *testing.T) {
	for _, v := range variants() {
		t.Run(v.name, func(t *testing.T) {
			rng := rand.New(rand.NewSource(2))
			for _, n := range append(testLengths(), 152_064) {
				x := randGuarded(rng, n, 3, -12, 12)
				w := randGuarded(rng, n, 4, 0.5, 1.5)
				dst, ref := newGuarded(n, 15-x.off), make([]float32, n)
				tol := rowTol(n)

				expGeneric(ref, x.s())
				v.exp(dst.s(), x.s())
				dst.check(t, "exp")
				requireNearSlice(t, dst.s(), ref, 2.4e-7, 0, "exp")

				// ExpSub and ExpSums against a shift that is not the max (the
				// fused LM head shifts by a running max).
				m := float32(3)
				ws := expSubGeneric(ref, x.s(), m)
				gs := v.expSub(dst.s(), x.s(), m)
				dst.check(t, "expsub")
				requireNearSlice(t, dst.s(), ref, 2.4e-7, 0, "expsub")
				require.InDelta(t, ws, gs, tol*float64(ws), "expsub sum n=%d", n)
				ws, wsx := expSumsGeneric(x.s(), m)
				gs, gsx := v.expSums(x.s(), m)
				require.InDelta(t, ws, gs, tol*float64(ws), "expsums s n=%d", n)
				require.InDelta(t, wsx, gsx, tol*float64(ws)*16, "expsums sx n=%d", n)
				// The sampler relies on ExpSub and ExpSums summing alike.
				require.Equal(t, math.Float32bits(gs), math.Float32bits(v.expSub(dst.s(), x.s(), m)), "expsub vs expsums sum n=%d", n)

				softmaxGeneric(ref, x.s())
				v.softmax(dst.s(), x.s())
				dst.check(t, "softmax")
				requireNearSlice(t, dst.s(), ref, tol, 0, "softmax")

				logSoftmaxGeneric(ref, x.s())
				v.logSoftmax(dst.s(), x.s())
				dst.check(t, "logsoftmax")
				requireNearSlice(t, dst.s(), ref, 1e-6, tol, "logsoftmax")

				h := entropyGeneric(x.s())
				require.InDelta(t, h, v.entropy(x.s()), tol*(1+float64(h)), "entropy n=%d", n)

				r := rmsNormGeneric(ref, x.s(), w.s(), 1e-5)
				require.InDelta(t, r, v.rmsNorm(dst.s(), x.s(), w.s(), 1e-5), tol*float64(r), "rmsnorm r n=%d", n)
				dst.check(t, "rmsnorm")
				requireNearSlice(t, dst.s(), ref, tol, 0, "rmsnorm")

				siluGeneric(ref, x.s())
				v.silu(dst.s(), x.s())
				dst.check(t, "silu")
				requireNearSlice(t, dst.s(), ref, 4e-7, 1e-37, "silu")
				x.check(t, "inputs")
				w.check(t, "inputs")
			}
		})
	}
}

// TestRowKernelsInPlace runs the kernels whose dst may alias x in place.
func TestRowKernelsInPlace(t *testing.T) {
	for _, v := range variants() {
		t.Run(v.name, func(t *testing.T) {
			rng := rand.New(rand.NewSource(3))
			for _, n := range []int{0, 1, 7, 8, 15, 16, 17, 33, 64, 100, 257, 4099} {
				x := randGuarded(rng, n, 5, -12, 12)
				ref := make([]float32, n)
				for _, k := range []struct {
					name    string
					f, twin func(dst, x []float32)
					rtol    float64
				}{
					{"exp", v.exp, expGeneric, 2.4e-7},
					{"softmax", v.softmax, softmaxGeneric, rowTol(n)},
					{"silu", v.silu, siluGeneric, 4e-7},
				} {
					k.twin(ref, x.s())
					got := copyGuarded(x)
					k.f(got.s(), got.s())
					got.check(t, k.name)
					requireNearSlice(t, got.s(), ref, k.rtol, 1e-37, k.name+" in place")
				}
				logSoftmaxGeneric(ref, x.s())
				got := copyGuarded(x)
				v.logSoftmax(got.s(), got.s())
				got.check(t, "logsoftmax")
				requireNearSlice(t, got.s(), ref, 1e-6, rowTol(n), "logsoftmax in place")
			}
		})
	}
}

// TestOffsets runs a few lengths at every element offset 0..15 of a buffer,
// for inputs and output independently.
func TestOffsets(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	for _, v := range variants() {
		for _, n := range []int{5, 31, 67} {
			for off := 0; off < 16; off++ {
				x := newGuarded(n, off)
				for i := range x.s() {
					x.s()[i] = float32(rng.NormFloat64())
				}
				dst, ref := newGuarded(n, (off*5)%16), make([]float32, n)
				addGeneric(ref, x.s(), x.s())
				v.add(dst.s(), x.s(), x.s())
				dst.check(t, v.name+" add")
				require.Equal(t, ref, dst.s())
				expGeneric(ref, x.s())
				v.exp(dst.s(), x.s())
				dst.check(t, v.name+" exp")
				requireNearSlice(t, dst.s(), ref, 2.4e-7, 0, v.name+" exp")
				require.Equal(t, argmaxGeneric(x.s()), v.argmax(x.s()))
				require.InDelta(t, sumGeneric(x.s()), v.sum(x.s()), 1e-4)
			}
		}
	}
}

func TestMaxArgmaxSpecialValues(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	negZero := float32(math.Copysign(0, -1))
	for _, v := range variants() {
		t.Run(v.name, func(t *testing.T) {
			require.True(t, math.IsInf(float64(v.max(nil)), -1))
			require.Equal(t, -1, v.argmax(nil))
			for _, n := range []int{1, 5, 8, 16, 23, 64, 77, 300} {
				for _, at := range []int{0, n / 2, n - 1} {
					x := make([]float32, n)
					for i := range x {
						x[i] = float32(i%7) - 10
					}
					x[at] = nan
					require.True(t, math.IsNaN(float64(v.max(x))), "max with NaN at %d of %d", at, n)
					require.Equal(t, argmaxGeneric(x), v.argmax(x), "argmax with NaN at %d of %d", at, n)

					for i := range x {
						x[i] = nan
					}
					require.Equal(t, -1, v.argmax(x), "argmax all NaN, n=%d", n)
					x[at] = -inf
					require.Equal(t, at, v.argmax(x), "argmax of the only -Inf among NaNs")
					require.Equal(t, n > 1, math.IsNaN(float64(v.max(x))), "max of NaNs and one -Inf, n=%d", n)

					// Ties: the first index wins; -0 and +0 tie.
					for i := range x {
						x[i] = -1
					}
					x[at] = negZero
					x[n-1] = 0
					require.Equal(t, at, v.argmax(x), "first of tied zeros, n=%d", n)
					require.Equal(t, float32(0), v.max(x))
					x[n-1] = inf
					require.Equal(t, inf, v.max(x))
					require.Equal(t, n-1, v.argmax(x))
				}
			}
		})
	}
}

func TestElementwiseSpecialValues(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	negZero := float32(math.Copysign(0, -1))
	specials := []float32{nan, inf, -inf, 0, negZero, 1, -1, 88, 88.7, 88.72284, 88.72285, 89, -87, -87.5, -88,
		-88.00001, -89, -100, 1e30, -1e30, math.MaxFloat32, -math.MaxFloat32, 1e-40, -1e-40, 0.5, -0.5}
	// Repeat so that the values land both in the vector loops and in the tails.
	var x []float32
	for range 3 {
		x = append(x, specials...)
	}
	y := make([]float32, len(x))
	copy(y, x[3:])
	for _, v := range variants() {
		t.Run(v.name, func(t *testing.T) {
			for n := 0; n <= len(x); n++ {
				got, want := make([]float32, n), make([]float32, n)
				v.exp(got, x[:n])
				expGeneric(want, x[:n])
				requireNearSlice(t, got, want, 2.4e-7, 0, "exp")
				for i, w := range want {
					// The twin follows the range rules of the reference.
					require.True(t, near(w, exp32(x[i]), 2e-7, 0), "exp(%v) = %v, reference %v", x[i], w, exp32(x[i]))
				}
				v.silu(got, x[:n])
				siluGeneric(want, x[:n])
				requireNearSlice(t, got, want, 4e-7, 1e-37, "silu")
				v.add(got, x[:n], y[:n])
				addGeneric(want, x[:n], y[:n])
				requireNearSlice(t, got, want, 0, 0, "add")
				v.mul(got, x[:n], y[:n])
				mulGeneric(want, x[:n], y[:n])
				requireNearSlice(t, got, want, 0, 0, "mul")
			}
		})
	}
}

// TestExpAccuracy measures every variant's exp against float64 exp densely on
// [-88, 88]: the documented bound is a relative error of 2e-7.
func TestExpAccuracy(t *testing.T) {
	var x []float32
	for i := -88000; i <= 88000; i++ {
		x = append(x, float32(i)*1e-3)
	}
	rng := rand.New(rand.NewSource(5))
	for range 200_000 {
		x = append(x, float32(rng.Float64()*176-88))
	}
	for i := range x {
		x[i] = max(x[i], -88) // float32(-88000 * 1e-3) may round below -88
	}
	got := make([]float32, len(x))
	for _, v := range variants() {
		v.exp(got, x)
		worst, at := 0.0, float32(0)
		for i, g := range got {
			want := math.Exp(float64(x[i]))
			if e := math.Abs(float64(g)-want) / want; e > worst {
				worst, at = e, x[i]
			}
		}
		t.Logf("%s: max relative error %.3g at x = %v", v.name, worst, at)
		require.LessOrEqual(t, worst, 2e-7, "%s: exp(%v)", v.name, at)
	}
}

func TestLengthChecks(t *testing.T) {
	short, long := make([]float32, 3), make([]float32, 4)
	require.Panics(t, func() { Dot(long, short) })
	require.Panics(t, func() { Axpy(1, long, short) })
	require.Panics(t, func() { Add(long, long, short) })
	require.Panics(t, func() { Mul(long, short, long) })
	require.Panics(t, func() { Exp(long, short) })
	require.Panics(t, func() { Softmax(long, short) })
	require.Panics(t, func() { LogSoftmax(long, short) })
	require.Panics(t, func() { RMSNorm(long, long, short, 1e-5) })
	require.Panics(t, func() { SiLU(long, short) })
	require.NotPanics(t, func() { Dot(short, long) })
}

func TestLevel(t *testing.T) {
	vs := variants()
	require.Equal(t, vs[len(vs)-1].name, Level(), "the exported kernels use the best variant")
}

// TestHeaderConstants checks the constant table of the assembly (every lane)
// against the Go constants of expPoly.
func TestHeaderConstants(t *testing.T) {
	want := map[string]uint32{
		"HI": math.Float32bits(expHi), "LOG2E": math.Float32bits(expLog2e),
		"LN2HI": math.Float32bits(expLn2Hi), "LN2LO": math.Float32bits(expLn2Lo),
		"P0": math.Float32bits(expP0), "P1": math.Float32bits(expP1), "P2": math.Float32bits(expP2),
		"P3": math.Float32bits(expP3), "P4": math.Float32bits(expP4), "P5": math.Float32bits(expP5),
		"ONE": math.Float32bits(1), "MIN": math.Float32bits(expMin), "BIAS": 127,
		"SIGN": 0x80000000, "NEGINF": math.Float32bits(float32(math.Inf(-1))), "NAN": 0x7fc00000,
	}
	src, err := os.ReadFile("vec_amd64.h")
	require.NoError(t, err)
	data := map[int]uint32{}
	for _, m := range regexp.MustCompile(`DATA vconst<>\+(\d+)\(SB\)/4, \$0x([0-9a-f]{8})`).FindAllStringSubmatch(string(src), -1) {
		off, _ := strconv.Atoi(m[1])
		bits, _ := strconv.ParseUint(m[2], 16, 32)
		data[off] = uint32(bits)
	}
	defs := regexp.MustCompile(`#define C_(\w+) vconst<>\+(\d+)\(SB\)`).FindAllStringSubmatch(string(src), -1)
	require.Len(t, defs, len(want))
	for _, d := range defs {
		w, ok := want[d[1]]
		require.True(t, ok, "unknown constant C_%s", d[1])
		off, _ := strconv.Atoi(d[2])
		for lane := range 8 {
			require.Equal(t, w, data[off+4*lane], "C_%s lane %d", d[1], lane)
		}
	}
}

// TestRowSpecialValues: masked logits (-Inf) must give probability 0 and
// log-probability -Inf; a NaN or +Inf logit poisons the row in every variant alike.
func TestRowSpecialValues(t *testing.T) {
	inf := float32(math.Inf(1))
	for _, v := range variants() {
		t.Run(v.name, func(t *testing.T) {
			for _, n := range []int{1, 2, 9, 17, 40, 100} {
				for _, poison := range []float32{-inf, inf, float32(math.NaN())} {
					x := make([]float32, n)
					for i := range x {
						x[i] = float32(i%5) - 2
					}
					for i := 1; i < n; i += 3 {
						x[i] = poison
					}
					got, want := make([]float32, n), make([]float32, n)
					v.softmax(got, x)
					softmaxGeneric(want, x)
					requireNearSlice(t, got, want, 1e-6, 0, "softmax")
					v.logSoftmax(got, x)
					logSoftmaxGeneric(want, x)
					requireNearSlice(t, got, want, 1e-6, 1e-6, "logsoftmax")
					require.True(t, near(v.entropy(x), entropyGeneric(x), 1e-5, 1e-6), "entropy")
					if poison == -inf {
						for i := 1; i < n; i += 3 {
							require.True(t, math.IsInf(float64(got[i]), -1), "masked logit %d: log-prob %v", i, got[i])
						}
					}
				}
			}
		})
	}
}
