package asm

import (
	"math"
	"math/big"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/require"
)

// strided is a run of n rows of length d, ld floats apart, at an unaligned
// offset inside a buffer whose other elements (guard bands and the gaps
// between rows) hold the sentinel: a kernel that reads them gets a result
// far from the generic twin's, one that writes them fails check.
type strided struct {
	buf       []float32
	off, n, d int
	ld        int
}

func newStrided(rng *rand.Rand, n, d, ld, salt int) strided {
	s := strided{off: 1 + (n*5+d*3+salt)%15, n: n, d: d, ld: ld}
	extent := 0
	if n > 0 {
		extent = (n-1)*ld + d
	}
	s.buf = make([]float32, s.off+extent+16)
	for i := range s.buf {
		s.buf[i] = math.Float32frombits(sentinel)
	}
	for j := 0; j < n; j++ {
		for i := 0; i < d; i++ {
			s.buf[s.off+j*ld+i] = float32(rng.NormFloat64())
		}
	}
	return s
}

// s is the run from its first element to the end of its last row.
func (s strided) s() []float32 {
	end := s.off
	if s.n > 0 {
		end += (s.n-1)*s.ld + s.d
	}
	return s.buf[s.off:end:end]
}

func (s strided) row(j int) []float32 { return s.buf[s.off+j*s.ld : s.off+j*s.ld+s.d] }

func TestFmaExact32MatchesBigFloat(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	exact := func(a, b, c float32) float32 {
		x := new(big.Float).SetPrec(400).SetFloat64(float64(a))
		x.Mul(x, new(big.Float).SetPrec(400).SetFloat64(float64(b)))
		x.Add(x, new(big.Float).SetPrec(400).SetFloat64(float64(c)))
		f, _ := x.Float32()
		return f
	}
	check := func(a, b, c float32) {
		require.Equalf(t, math.Float32bits(exact(a, b, c)), math.Float32bits(fmaExact32(a, b, c)), "fma(%g, %g, %g)", a, b, c)
	}
	for i := 0; i < 200000; i++ {
		a := float32(rng.NormFloat64())
		b := float32(rng.NormFloat64())
		// c near -a*b makes long cancellations; a tiny c makes the sum land
		// next to float32 midpoints, where double rounding would show.
		var c float32
		switch i % 4 {
		case 0:
			c = float32(rng.NormFloat64())
		case 1:
			c = -a*b + float32(rng.NormFloat64())*1e-7
		case 2:
			c = float32(rng.NormFloat64() * math.Ldexp(1, -30-rng.Intn(40)))
		default:
			c = float32(rng.NormFloat64() * 1e30)
		}
		check(a, b, c)
	}
	// A product exactly halfway between two float32s plus a tiny c: one
	// rounding gives the upper neighbour, two would give the even one.
	check(1+1.0/(1<<12), 1+1.0/(1<<12), 1e-30)
	check(1+1.0/(1<<12), 1+1.0/(1<<12), -1e-30)
	check(3e38, 3e38, 0)
	check(1e-30, 1e-30, 0)
}

// dotRef is DotRows in float64.
func dotRef(q []float32, k strided) []float64 {
	out := make([]float64, k.n)
	for j := range out {
		for i, x := range q {
			out[j] += float64(x) * float64(k.row(j)[i])
		}
	}
	return out
}

func TestDotRowsVariantsMatchGeneric(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	type shape struct{ n, d int }
	var shapes []shape
	for d := 0; d <= 150; d++ {
		for _, n := range []int{0, 1, 2, 3, 4, 5, 7, 8, 9, 16, 17} {
			shapes = append(shapes, shape{n, d})
		}
	}
	for n := 0; n <= 70; n++ {
		for _, d := range []int{1, 15, 16, 17, 32, 37, 64, 128} {
			shapes = append(shapes, shape{n, d})
		}
	}
	vs := rowsVariants()
	for si, sh := range shapes {
		for _, extra := range []int{0, 3, 16} {
			ld := sh.d + extra
			q := randGuarded(rng, sh.d, si, -1, 1)
			k := newStrided(rng, sh.n, sh.d, ld, si+extra)
			want := newGuarded(sh.n, 1+si%15)
			dotRowsGeneric(want.s(), q.s(), k.s(), ld)
			ref := dotRef(q.s(), k)
			for j, w := range want.s() {
				require.InDeltaf(t, ref[j], float64(w), 1e-5*(1+float64(sh.d)), "generic n=%d d=%d ld=%d row %d", sh.n, sh.d, ld, j)
			}
			for _, v := range vs[1:] {
				got := newGuarded(sh.n, 1+si%15)
				v.dot(got.s(), q.s(), k.s(), ld)
				got.check(t, v.name)
				for j := range want.s() {
					require.Equalf(t, math.Float32bits(want.s()[j]), math.Float32bits(got.s()[j]), "%s n=%d d=%d ld=%d row %d: %v vs %v", v.name, sh.n, sh.d, ld, j, got.s()[j], want.s()[j])
				}
			}
		}
	}
}

func TestAxpyRowsVariantsMatchGeneric(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	type shape struct{ n, m int } // n rows of p, m columns of out
	var shapes []shape
	for m := 0; m <= 150; m++ {
		for _, n := range []int{0, 1, 2, 3, 4, 5, 16, 17} {
			shapes = append(shapes, shape{n, m})
		}
	}
	for n := 0; n <= 70; n++ {
		for _, m := range []int{1, 8, 15, 16, 31, 32, 33, 64, 100, 128} {
			shapes = append(shapes, shape{n, m})
		}
	}
	vs := rowsVariants()
	for si, sh := range shapes {
		for _, extra := range []int{0, 5, 32} {
			ld := sh.m + extra
			p := randGuarded(rng, sh.n, si, 0, 1)
			v := newStrided(rng, sh.n, sh.m, ld, si+extra)
			init := randGuarded(rng, sh.m, si+1, -1, 1)
			want := copyGuarded(init)
			axpyRowsGeneric(want.s(), p.s(), v.s(), ld)
			for i := range want.s() {
				r := float64(init.s()[i])
				for j := 0; j < sh.n; j++ {
					r += float64(p.s()[j]) * float64(v.row(j)[i])
				}
				require.InDeltaf(t, r, float64(want.s()[i]), 1e-5*(1+float64(sh.n)), "generic n=%d m=%d col %d", sh.n, sh.m, i)
			}
			for _, vr := range vs[1:] {
				got := copyGuarded(init)
				vr.axpy(got.s(), p.s(), v.s(), ld)
				got.check(t, vr.name)
				for i := range want.s() {
					require.Equalf(t, math.Float32bits(want.s()[i]), math.Float32bits(got.s()[i]), "%s n=%d m=%d ld=%d col %d: %v vs %v", vr.name, sh.n, sh.m, ld, i, got.s()[i], want.s()[i])
				}
			}
		}
	}
}

func TestRowsExportedUseBestVariant(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	q := randGuarded(rng, 37, 0, -1, 1)
	k := newStrided(rng, 21, 37, 40, 0)
	want, got := make([]float32, 21), make([]float32, 21)
	dotRowsGeneric(want, q.s(), k.s(), 40)
	DotRows(got, q.s(), k.s(), 40)
	require.Equal(t, want, got)

	p := randGuarded(rng, 21, 0, 0, 1)
	v := newStrided(rng, 21, 37, 40, 1)
	want, got = make([]float32, 37), make([]float32, 37)
	axpyRowsGeneric(want, p.s(), v.s(), 40)
	AxpyRows(got, p.s(), v.s(), 40)
	require.Equal(t, want, got)
}

func TestRowsPanicOnShortSlices(t *testing.T) {
	k := make([]float32, 3*10+7)
	require.NotPanics(t, func() { DotRows(make([]float32, 4), make([]float32, 7), k, 10) })
	require.Panics(t, func() { DotRows(make([]float32, 4), make([]float32, 8), k, 10) })
	require.Panics(t, func() { DotRows(make([]float32, 5), make([]float32, 7), k, 10) })
	require.Panics(t, func() { DotRows(make([]float32, 2), make([]float32, 7), k, 5) })
	require.NotPanics(t, func() { AxpyRows(make([]float32, 7), make([]float32, 4), k, 10) })
	require.Panics(t, func() { AxpyRows(make([]float32, 8), make([]float32, 4), k, 10) })
	require.Panics(t, func() { AxpyRows(make([]float32, 7), make([]float32, 5), k, 10) })
	require.Panics(t, func() { AxpyRows(make([]float32, 7), make([]float32, 2), k, 5) })
}
