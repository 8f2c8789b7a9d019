package asm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBF16FromF32Edges(t *testing.T) {
	for _, c := range []struct {
		in   uint32
		want uint16
	}{
		{0x3f800000, 0x3f80}, // 1
		{0x00000000, 0x0000}, // +0
		{0x80000000, 0x8000}, // -0
		{0x3f808000, 0x3f80}, // tie, even below: stays
		{0x3f818000, 0x3f82}, // tie, odd below: up to even
		{0x3f808001, 0x3f81}, // above the tie: up
		{0x3f807fff, 0x3f80}, // below the tie: down
		{0xbf818000, 0xbf82}, // negative tie
		{0x00000001, 0x0000}, // denormals: signed zero
		{0x807fffff, 0x8000},
		{0x00800000, 0x0080}, // smallest normal
		{0x7f7fffff, 0x7f80}, // largest float rounds to +Inf
		{0x7f7f7fff, 0x7f7f}, // largest bf16
		{0x7f800000, 0x7f80}, // +Inf
		{0xff800000, 0xff80}, // -Inf
		{0x7fc00000, 0x7fc0}, // quiet NaN
		{0x7f800001, 0x7fc0}, // signalling NaN with only low bits: quieted, still NaN
		{0xff80ffff, 0xffc0},
		{0x7fffffff, 0x7fff},
	} {
		got := BF16FromF32(math.Float32frombits(c.in))
		require.Equalf(t, c.want, got, "%#08x", c.in)
	}
}

// bf16Nearest is an independent reference for finite normal x: the nearer
// of the two bf16 values around x, measured in float64, ties to even.
func bf16Nearest(x float32) uint16 {
	b := math.Float32bits(x)
	lo := uint16(b >> 16)
	hi := lo + 1
	dl := math.Abs(float64(x)) - math.Abs(float64(F32FromBF16(lo)))
	vh := math.Abs(float64(F32FromBF16(hi)))
	if hi&0x7fff == 0x7f80 { // past the largest bf16: rounds as if to 2^128
		vh = math.Ldexp(1, 128)
	}
	dh := vh - math.Abs(float64(x))
	if b&0xffff == 0 || dl < dh || (dl == dh && lo&1 == 0) {
		return lo
	}
	return hi
}

func TestBF16FromF32Reference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 200000 {
		b := rng.Uint32()
		if e := b & 0x7f800000; e == 0 || e == 0x7f800000 {
			continue
		}
		x := math.Float32frombits(b)
		require.Equalf(t, bf16Nearest(x), BF16FromF32(x), "%#08x", b)
	}
}

// bf16Inputs returns random float32 bit patterns (every class: NaN, Inf,
// denormal, ties) followed by the edge values.
func bf16Inputs(rng *rand.Rand, n int) []float32 {
	edges := []uint32{0, 0x80000000, 1, 0x807fffff, 0x00800000, 0x7f7fffff, 0x7f800000, 0xff800000,
		0x7fc00000, 0x7f800001, 0xffffffff, 0x3f808000, 0x3f818000, 0xbf818000, 0x3f808001}
	x := make([]float32, n)
	for i := range x {
		var b uint32
		switch i % 4 {
		case 0:
			b = rng.Uint32()
		case 1: // ties
			b = rng.Uint32()&^0xffff | 0x8000
		case 2: // near the edges of the exponent range
			b = rng.Uint32()&0x807fffff | []uint32{0, 0x7f800000, 0x00800000, 0x7f000000}[rng.IntN(4)]
		default:
			b = math.Float32bits(rng.Float32()*2 - 1)
		}
		x[i] = math.Float32frombits(b)
	}
	for i, e := range edges {
		if i < n {
			x[i] = math.Float32frombits(e)
		}
	}
	return x
}

func TestBF16ConversionVariants(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, c := range bf16Converters() {
		if !c.usable {
			t.Logf("%s: not supported by this CPU, skipped", c.name)
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			for _, n := range []int{0, 1, 15, 16, 17, 31, 32, 33, 64, 100, 1000, 4099} {
				src := bf16Inputs(rng, n)
				got := make([]uint16, n+1)
				got[n] = 0xabcd // past the end: untouched
				c.from(got, src)
				want := make([]uint16, n)
				bf16FromF32Generic(want, src)
				require.Equal(t, want, got[:n], "n=%d", n)
				require.Equal(t, uint16(0xabcd), got[n])

				wide := make([]float32, n+1)
				wide[n] = 7
				c.to(wide, got[:n])
				for i := range n {
					require.Equal(t, uint32(got[i])<<16, math.Float32bits(wide[i]))
				}
				require.Equal(t, float32(7), wide[n])
			}
			// Every bf16 value widens and narrows back to itself, except
			// denormals (to signed zero) and NaNs (quieted).
			all := make([]uint16, 1<<16)
			for i := range all {
				all[i] = uint16(i)
			}
			wide := make([]float32, len(all))
			c.to(wide, all)
			back := make([]uint16, len(all))
			c.from(back, wide)
			for i, h := range all {
				want := h
				switch {
				case h&0x7f80 == 0:
					want = h & 0x8000
				case h&0x7fff > 0x7f80:
					want = h | 0x40
				}
				require.Equalf(t, want, back[i], "%#04x", h)
			}
		})
	}
}

func TestBF16ConversionPanicsOnShortDst(t *testing.T) {
	require.Panics(t, func() { F32ToBF16(make([]uint16, 3), make([]float32, 4)) })
	require.Panics(t, func() { BF16ToF32(make([]float32, 3), make([]uint16, 4)) })
}

// randBF16 returns n bf16 values of uniform [-1, 1) floats.
func randBF16(rng *rand.Rand, n int) []uint16 {
	x := make([]uint16, n)
	for i := range x {
		x[i] = BF16FromF32(rng.Float32()*2 - 1)
	}
	return x
}

// TestBgemmKernels runs each variant on one tile against a float32 sum
// that adds each pair's odd k before its even one (VDPBF16PS's order, which
// the generic twin and the AVX-512F fallback follow): bit for bit, since
// uniform [-1, 1) operands give no denormal products or sums for
// VDPBF16PS to flush. A float64 sum checks the reference itself, within
// the error bound of any float32 summation order, k*2^-24*sum|a*b|.
func TestBgemmKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, s := range BgemmKernels() {
		for _, k := range []int{1, 2, 3, 7, 8, 9, 64, 255, 512} {
			name := fmt.Sprintf("%s/k=%d", s.Name, k)
			a := randBF16(rng, s.MR*k) // MR x k, row-major
			b := randBF16(rng, k*s.NR) // k x NR, row-major
			pa := make([]uint32, s.PackedASize(s.MR, k))
			pb := make([]uint32, s.PackedBSize(k, s.NR))
			s.PackA(pa, a, k, false, s.MR, k)
			s.PackB(pb, b, s.NR, false, k, s.NR)
			const ldc = 41 + 32
			c0 := randSlice(rng, s.MR*ldc)
			for _, ab := range [][2]float32{{1, 0}, {0.5, 2}} {
				c := append([]float32(nil), c0...)
				if ab[1] == 0 {
					for i := range c {
						c[i] = float32(math.NaN()) // beta == 0 must not read C
					}
				}
				s.Kernel(Pairs(k), pa, pb, c, ldc, ab[0], ab[1])
				for i := 0; i < s.MR; i++ {
					for j := 0; j < s.NR; j++ {
						var s32 float32
						var s64, mag float64
						for q := 0; q < Pairs(k); q++ {
							for _, p := range [2]int{2*q + 1, 2 * q} {
								if p >= k {
									continue
								}
								x, y := F32FromBF16(a[i*k+p]), F32FromBF16(b[p*s.NR+j])
								s32 += float32(x * y)
								s64 += float64(x) * float64(y)
								mag += math.Abs(float64(x) * float64(y))
							}
						}
						want := ab[0] * s32
						if ab[1] != 0 {
							want = ab[0]*s32 + ab[1]*c0[i*ldc+j]
						}
						got := c[i*ldc+j]
						require.Equalf(t, want, got, "%s (%d,%d) alpha=%v beta=%v", name, i, j, ab[0], ab[1])
						want64 := float64(ab[0])*s64 + float64(ab[1])*float64(c0[i*ldc+j])
						tol := float64(k)*0x1p-24*mag*float64(ab[0]) + 4*0x1p-24*math.Abs(want64)
						require.InDeltaf(t, want64, float64(got), tol, "%s (%d,%d)", name, i, j)
					}
				}
				for i := 0; i < s.MR; i++ { // columns past NR untouched
					for j := s.NR; j < ldc; j++ {
						if ab[1] != 0 {
							require.Equal(t, c0[i*ldc+j], c[i*ldc+j])
						}
					}
				}
			}
		}
	}
}

func TestBgemmKernelPanics(t *testing.T) {
	s := Bgemm()
	a := make([]uint32, s.PackedASize(s.MR, 4))
	b := make([]uint32, s.PackedBSize(4, s.NR))
	c := make([]float32, s.MR*s.NR)
	require.Panics(t, func() { s.Kernel(3, a, b, c, s.NR, 1, 0) })
	require.Panics(t, func() { s.Kernel(2, a, b, c[:len(c)-1], s.NR, 1, 0) })
	require.Panics(t, func() { s.Kernel(0, a, b, c, s.NR, 1, 0) })
	require.NotPanics(t, func() { s.Kernel(2, a, b, c, s.NR, 1, 0) })
}

// TestBgemmPackLayout checks PackA/PackB against the documented layout for
// both transposes, edge slivers and odd k.
func TestBgemmPackLayout(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, s := range BgemmKernels() {
		for _, trans := range []bool{false, true} {
			// k >= 32 with an even ld takes the register transpose (A, and
			// B stored n x k); an odd ld or k takes the Go loops.
			for _, sz := range [][3]int{{1, 1, 3}, {s.MR, 2, 3}, {s.MR + 1, 5, 3}, {2*s.MR - 1, 8, 3}, {s.NR + 3, 7, 3}, {3 * s.NR, 16, 3},
				{2*s.MR + 1, 70, 4}, {2*s.MR + 1, 70, 3}, {s.NR, 64, 4}, {s.MR, 67, 4}} {
				w, k := sz[0], sz[1]
				ld := max(w, k) + sz[2]
				src := randBF16(rng, ld*max(w, k)+ld)
				at := func(i, p int) uint16 {
					if i >= w || p >= k {
						return 0
					}
					if trans {
						return src[p*ld+i]
					}
					return src[i*ld+p]
				}
				kq := Pairs(k)
				pa := make([]uint32, s.PackedASize(w, k))
				s.PackA(pa, src, ld, trans, w, k)
				pb := make([]uint32, s.PackedBSize(k, w))
				// PackB's block is k x w: with trans it is stored w x k.
				s.PackB(pb, src, ld, !trans, k, w)
				for i := 0; i < ceilDiv(w, s.MR)*s.MR; i++ {
					for q := 0; q < kq; q++ {
						base := (i/s.MR)*s.MR*kq + q*s.MR + i%s.MR
						if s.wideA {
							require.Equal(t, uint32(at(i, 2*q))<<16, pa[2*base])
							require.Equal(t, uint32(at(i, 2*q+1))<<16, pa[2*base+1])
						} else {
							require.Equal(t, uint32(at(i, 2*q))|uint32(at(i, 2*q+1))<<16, pa[base])
						}
					}
				}
				for j := 0; j < ceilDiv(w, s.NR)*s.NR; j++ {
					for q := 0; q < kq; q++ {
						got := pb[(j/s.NR)*s.NR*kq+q*s.NR+j%s.NR]
						require.Equal(t, uint32(at(j, 2*q))|uint32(at(j, 2*q+1))<<16, got)
					}
				}
			}
		}
	}
}

func BenchmarkBgemmKernel(b *testing.B) {
	rng := rand.New(rand.NewPCG(11, 12))
	const k = 512
	for _, s := range BgemmKernels() {
		b.Run(s.Name, func(b *testing.B) {
			const slivers = 8
			pa := make([]uint32, slivers*s.PackedASize(s.MR, k))
			pb := make([]uint32, s.PackedBSize(k, s.NR))
			for i := 0; i < slivers; i++ {
				s.PackA(pa[i*s.PackedASize(s.MR, k):], randBF16(rng, s.MR*k), k, false, s.MR, k)
			}
			s.PackB(pb, randBF16(rng, k*s.NR), s.NR, false, k, s.NR)
			c := randSlice(rng, slivers*s.MR*s.NR)
			for b.Loop() {
				for i := 0; i < slivers; i++ {
					s.Kernel(Pairs(k), pa[i*s.PackedASize(s.MR, k):], pb, c[i*s.MR*s.NR:], s.NR, 1, 1)
				}
			}
			flops := 2 * float64(slivers*s.MR*s.NR*k) * float64(b.N)
			b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
