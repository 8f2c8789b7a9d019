package asm

import (
	"math"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/require"
)

// stridedBF16 is strided with bf16 rows: the gaps and guard bands hold a
// bf16 NaN, so a kernel that reads them gets NaN where the twin does not.
type stridedBF16 struct {
	buf       []uint16
	off, n, d int
	ld        int
}

const sentinelBF16 = 0x7fc1

func newStridedBF16(rng *rand.Rand, n, d, ld, salt int) stridedBF16 {
	s := stridedBF16{off: 1 + (n*5+d*3+salt)%15, n: n, d: d, ld: ld}
	extent := 0
	if n > 0 {
		extent = (n-1)*ld + d
	}
	s.buf = make([]uint16, s.off+extent+16)
	for i := range s.buf {
		s.buf[i] = sentinelBF16
	}
	for j := 0; j < n; j++ {
		for i := 0; i < d; i++ {
			s.buf[s.off+j*ld+i] = BF16FromF32(float32(rng.NormFloat64()))
		}
	}
	return s
}

func (s stridedBF16) s() []uint16 {
	end := s.off
	if s.n > 0 {
		end += (s.n-1)*s.ld + s.d
	}
	return s.buf[s.off:end:end]
}

// widened is the run as float32, for the float32 kernels.
func (s stridedBF16) widened() []float32 {
	w := make([]float32, len(s.s()))
	BF16ToF32(w, s.s())
	return w
}

// TestDotRowsBF16MatchesDotRows: every variant of DotRowsBF16 gives the
// bits of the generic DotRows on the widened rows (so of every DotRows
// variant), reads nothing between or after the rows and writes nothing
// outside out, for lengths around the 16-lane vectors and the 4-row steps.
func TestDotRowsBF16MatchesDotRows(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	type shape struct{ n, d int }
	var shapes []shape
	for d := 0; d <= 150; d += 1 + d/40 {
		for _, n := range []int{0, 1, 3, 4, 5, 8, 9, 17} {
			shapes = append(shapes, shape{n, d})
		}
	}
	for n := 0; n <= 40; n++ {
		for _, d := range []int{1, 16, 17, 64, 128} {
			shapes = append(shapes, shape{n, d})
		}
	}
	for si, sh := range shapes {
		for _, extra := range []int{0, 3, 16} {
			ld := sh.d + extra
			q := randGuarded(rng, sh.d, si, -1, 1)
			k := newStridedBF16(rng, sh.n, sh.d, ld, si+extra)
			want := make([]float32, sh.n)
			dotRowsGeneric(want, q.s(), k.widened(), ld)
			for _, v := range rowsBF16Variants() {
				got := newGuarded(sh.n, 1+si%15)
				v.dot(got.s(), q.s(), k.s(), ld)
				got.check(t, v.name)
				for j := range want {
					require.Equalf(t, math.Float32bits(want[j]), math.Float32bits(got.s()[j]), "%s n=%d d=%d ld=%d row %d: %v vs %v", v.name, sh.n, sh.d, ld, j, got.s()[j], want[j])
				}
			}
		}
	}
}

// TestAxpyRowsBF16MatchesAxpyRows is TestDotRowsBF16MatchesDotRows for
// AxpyRowsBF16, including the sign of a zero sum (out = -0 with no
// products to add keeps -0).
func TestAxpyRowsBF16MatchesAxpyRows(t *testing.T) {
	rng := rand.New(rand.NewSource(6))
	type shape struct{ n, m int }
	var shapes []shape
	for m := 0; m <= 150; m += 1 + m/40 {
		for _, n := range []int{0, 1, 2, 3, 16, 17} {
			shapes = append(shapes, shape{n, m})
		}
	}
	for n := 0; n <= 40; n++ {
		for _, m := range []int{1, 15, 16, 33, 64, 100, 128} {
			shapes = append(shapes, shape{n, m})
		}
	}
	for si, sh := range shapes {
		for _, extra := range []int{0, 5, 32} {
			ld := sh.m + extra
			p := randGuarded(rng, sh.n, si, 0, 1)
			v := newStridedBF16(rng, sh.n, sh.m, ld, si+extra)
			init := randGuarded(rng, sh.m, si+1, -1, 1)
			if sh.m > 0 {
				init.s()[0] = float32(math.Copysign(0, -1))
			}
			want := copyGuarded(init)
			axpyRowsGeneric(want.s(), p.s(), v.widened(), ld)
			for _, vr := range rowsBF16Variants() {
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

func TestRowsBF16ExportedAndPanics(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	q := randGuarded(rng, 37, 0, -1, 1)
	k := newStridedBF16(rng, 21, 37, 40, 0)
	want, got := make([]float32, 21), make([]float32, 21)
	dotRowsBF16Generic(want, q.s(), k.s(), 40)
	DotRowsBF16(got, q.s(), k.s(), 40)
	require.Equal(t, want, got)
	p := randGuarded(rng, 21, 0, 0, 1)
	want, got = make([]float32, 37), make([]float32, 37)
	axpyRowsBF16Generic(want, p.s(), k.s(), 40)
	AxpyRowsBF16(got, p.s(), k.s(), 40)
	require.Equal(t, want, got)

	kk := make([]uint16, 3*10+7)
	require.NotPanics(t, func() { DotRowsBF16(make([]float32, 4), make([]float32, 7), kk, 10) })
	require.Panics(t, func() { DotRowsBF16(make([]float32, 4), make([]float32, 8), kk, 10) })
	require.Panics(t, func() { DotRowsBF16(make([]float32, 2), make([]float32, 7), kk, 5) })
	require.NotPanics(t, func() { AxpyRowsBF16(make([]float32, 7), make([]float32, 4), kk, 10) })
	require.Panics(t, func() { AxpyRowsBF16(make([]float32, 7), make([]float32, 5), kk, 10) })
	require.Panics(t, func() { AxpyRowsBF16(make([]float32, 7), make([]float32, 2), kk, 5) })
}

// BenchmarkRowsBF16: every variant of the float32 and bf16 row kernels on a
// decode-shaped run (16 keys of head dim 128, 1,024 floats apart, as in a
// cache of 8 key/value heads), the rows in L1/L2.
func BenchmarkRowsBF16(b *testing.B) {
	const n, d, ld = 16, 128, 1024
	rng := rand.New(rand.NewSource(9))
	q := randGuarded(rng, d, 0, -1, 1).s()
	p := randGuarded(rng, n, 0, 0, 1).s()
	k := newStrided(rng, n, d, ld, 0)
	k16 := newStridedBF16(rng, n, d, ld, 0)
	out, acc := make([]float32, n), make([]float32, d)
	for _, v := range rowsVariants() {
		b.Run("dot/f32/"+v.name, func(b *testing.B) {
			for b.Loop() {
				v.dot(out, q, k.s(), ld)
			}
		})
		b.Run("axpy/f32/"+v.name, func(b *testing.B) {
			for b.Loop() {
				v.axpy(acc, p, k.s(), ld)
			}
		})
	}
	for _, v := range rowsBF16Variants() {
		b.Run("dot/bf16/"+v.name, func(b *testing.B) {
			for b.Loop() {
				v.dot(out, q, k16.s(), ld)
			}
		})
		b.Run("axpy/bf16/"+v.name, func(b *testing.B) {
			for b.Loop() {
				v.axpy(acc, p, k16.s(), ld)
			}
		})
	}
}
