//go:build vulkan && cgo

package vulkan

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/goarpo/arpo/asm"
	"github.com/goarpo/arpo/backend"
	"github.com/goarpo/arpo/backend/backendtest"
	"github.com/goarpo/arpo/backend/cpu"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func readBF16(t *testing.T, b backend.BF16, v backend.View, n int) []uint16 {
	t.Helper()
	out := make([]uint16, n)
	require.NoError(t, b.ReadBF16(out, v))
	return out
}

// bf16EdgeBits are float32 bit patterns at the edges of the rounding: ties
// both ways, just above and below a tie, denormals, the largest finite
// values (which round to infinity), infinities, NaNs (signalling, quiet,
// negative, all ones) and signed zeros.
var bf16EdgeBits = []uint32{
	0x00000000, 0x80000000, // ±0
	0x00000001, 0x807fffff, 0x00400000, // denormals: signed zero
	0x00800000, 0x80800000, // smallest normals
	0x3f808000, 0x3f818000, 0xbf808000, 0xbf818000, // ties: to even (down, up)
	0x3f808001, 0x3f807fff, // just above and below a tie
	0x7f7fffff, 0xff7fffff, 0x7f7f8000, 0x7f7f7fff, // largest finite: to ±inf; the last tie rounds up to inf
	0x7f800000, 0xff800000, // ±inf
	0x7f800001, 0xff800001, 0x7fc00000, 0xffc00000, 0x7fffffff, 0xffffffff, 0x7fbfffff, // NaNs
}

// TestToBF16MatchesCPU: the device rounds random bit patterns (every class:
// denormals, NaNs and infinities among them) and the edge cases bitwise as
// asm.BF16FromF32, at even and odd offsets and lengths, and leaves the
// elements around the view (in the same words) as they were.
func TestToBF16MatchesCPU(t *testing.T) {
	b := open(t)
	rng := rand.New(rand.NewPCG(1, 2))
	src := make([]float32, 5000)
	for i := range src {
		src[i] = math.Float32frombits(rng.Uint32())
	}
	for i, x := range bf16EdgeBits {
		src[100+i] = math.Float32frombits(x)
	}
	sb := b.Alloc(len(src) + 3)
	defer b.Free(sb)
	b.Write(backend.Whole(sb).At(3), src)
	const total = 5003
	db := b.AllocBF16(total)
	defer b.Free(db)
	require.Equal(t, total, db.Len())
	for _, c := range []struct{ dOff, sOff, n int }{{0, 3, 5000}, {1, 3, 5000}, {2, 4, 4999}, {3, 5, 1}, {0, 3, 1}, {4, 3, 2}, {1, 3, 2}} {
		sentinel := make([]uint16, total)
		for i := range sentinel {
			sentinel[i] = uint16(0xa000 + i%0x1000)
		}
		b.WriteBF16(backend.Whole(db), sentinel)
		b.ToBF16(backend.Whole(db).At(c.dOff), backend.Whole(sb).At(c.sOff), c.n)
		got := readBF16(t, b, backend.Whole(db), total)
		want := append([]uint16(nil), sentinel...)
		for i := range c.n {
			want[c.dOff+i] = asm.BF16FromF32(src[c.sOff-3+i])
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("dOff=%d sOff=%d n=%d: element %d is %#04x, want %#04x (from %#08x)", c.dOff, c.sOff, c.n, i, got[i], want[i],
					math.Float32bits(src[min(max(c.sOff-3+i-c.dOff, 0), len(src)-1)]))
			}
		}
	}
}

// TestBF16BufferViews: a bf16 buffer is zeroed, half a float32 buffer's
// bytes, and Write/ReadBF16 at odd offsets and lengths touch exactly their
// elements; float32 ops refuse it.
func TestBF16BufferViews(t *testing.T) {
	b := open(t)
	x := b.AllocBF16(7)
	defer b.Free(x)
	require.Equal(t, []uint16{0, 0, 0, 0, 0, 0, 0}, readBF16(t, b, backend.Whole(x), 7))
	b.WriteBF16(backend.Whole(x).At(1), []uint16{0x3f80, 0x4000, 0x4040})
	b.WriteBF16(backend.Whole(x).At(6), []uint16{0xbf80})
	require.Equal(t, []uint16{0, 0x3f80, 0x4000, 0x4040, 0, 0, 0xbf80}, readBF16(t, b, backend.Whole(x), 7))
	require.Equal(t, []uint16{0x4000, 0x4040, 0}, readBF16(t, b, backend.Whole(x).At(2), 3))
	require.Equal(t, []uint16{0x3f80}, readBF16(t, b, backend.Whole(x).At(1), 1))

	_, _, before := b.MemoryStats()
	y := b.AllocBF16(1000)
	_, _, after := b.MemoryStats()
	assert.Equal(t, uint64(2000), after-before, "1000 bf16 elements take 2000 bytes")
	b.Free(y)

	f := b.Alloc(4)
	defer b.Free(f)
	require.Panics(t, func() { b.Copy(backend.Whole(f), backend.Whole(x), 4) }, "a float32 op on a bf16 buffer")
	require.Panics(t, func() { b.ToBF16(backend.Whole(f), backend.Whole(f), 4) }, "ToBF16 into a float32 buffer")
	require.Panics(t, func() { b.WriteBF16(backend.Whole(x).At(5), []uint16{1, 2, 3}) }, "past the end")
	assert.True(t, b.Supports(backend.OpGemmBF16) && b.Supports(backend.OpToBF16))
	_, ok := backend.AsBF16(b)
	assert.True(t, ok)
	require.NoError(t, b.Sync())
}

// bf16Product is one GemmBF16 case: operands of either type at odd
// offsets with padded leading dimensions.
type bf16Product struct {
	transA, transB bool
	m, n, k, pad   int
	aBF16, bBF16   bool // operand stored as bf16 (else float32, rounded by the GEMM)
	alpha, beta    float32
}

func (p bf16Product) String() string {
	return fmt.Sprintf("transA=%v transB=%v m=%d n=%d k=%d pad=%d bf16A=%v bf16B=%v alpha=%v beta=%v",
		p.transA, p.transB, p.m, p.n, p.k, p.pad, p.aBF16, p.bBF16, p.alpha, p.beta)
}

// bf16Data is a product's host data: A and B as float32 (with values that
// are not bf16, so that the rounding matters) and C.
type bf16Data struct {
	a, b, c0               []float32
	lda, ldb, ldc          int
	offA, offB, offC       int
	ar, ac, br, bc, lenOut int
}

func newBF16Data(p bf16Product) bf16Data {
	rng := rand.New(rand.NewPCG(uint64(p.m*1000003+p.n*1009+p.k), uint64(p.pad)))
	var d bf16Data
	d.ar, d.ac = p.m, p.k
	if p.transA {
		d.ar, d.ac = p.k, p.m
	}
	d.br, d.bc = p.k, p.n
	if p.transB {
		d.br, d.bc = p.n, p.k
	}
	d.lda, d.ldb, d.ldc = d.ac+p.pad, d.bc+p.pad, p.n+p.pad
	d.offA, d.offB, d.offC = p.pad, 2*p.pad+1, 3*p.pad
	d.a, d.b, d.c0 = randSlice(rng, d.offA+d.ar*d.lda), randSlice(rng, d.offB+d.br*d.ldb), randSlice(rng, d.offC+p.m*d.ldc)
	if p.beta == 0 {
		for i := range d.c0 {
			d.c0[i] = float32(math.NaN()) // beta = 0 ignores C
		}
	}
	return d
}

// run computes the product on be and returns the m x n part of C.
func (d bf16Data) run(t *testing.T, be backend.Backend, p bf16Product) []float32 {
	t.Helper()
	bf := be.(backend.BF16)
	up := func(x []float32, asBF16 bool) backend.Buffer {
		if !asBF16 {
			buf := be.Alloc(len(x))
			be.Write(backend.Whole(buf), x)
			return buf
		}
		h := make([]uint16, len(x))
		asm.F32ToBF16(h, x)
		buf := bf.AllocBF16(len(x))
		bf.WriteBF16(backend.Whole(buf), h)
		return buf
	}
	av, bv, cv := up(d.a, p.aBF16), up(d.b, p.bBF16), up(d.c0, false)
	defer func() {
		for _, x := range []backend.Buffer{av, bv, cv} {
			be.Free(x)
		}
	}()
	bf.GemmBF16(p.transA, p.transB, p.m, p.n, p.k, p.alpha, backend.Whole(av).At(d.offA), d.lda, backend.Whole(bv).At(d.offB), d.ldb, p.beta, backend.Whole(cv).At(d.offC), d.ldc)
	out := read(t, be, backend.Whole(cv), len(d.c0))
	var c []float32
	for r := range p.m {
		c = append(c, out[d.offC+r*d.ldc:d.offC+r*d.ldc+p.n]...)
	}
	return c
}

// check compares got with a float64 reference of the bf16-rounded
// operands: |got - ref| within float32 summation error, (k+2) units of
// 2^-24 of sum |alpha a b| + |beta c|, per element.
func (d bf16Data) check(t *testing.T, p bf16Product, got []float32) {
	t.Helper()
	r := func(x float32) float64 { return float64(asm.F32FromBF16(asm.BF16FromF32(x))) }
	for i := range p.m {
		for j := range p.n {
			var s, mag float64
			for q := range p.k {
				ia, ib := d.offA+i*d.lda+q, d.offB+q*d.ldb+j
				if p.transA {
					ia = d.offA + q*d.lda + i
				}
				if p.transB {
					ib = d.offB + j*d.ldb + q
				}
				x := r(d.a[ia]) * r(d.b[ib])
				s += x
				mag += math.Abs(x)
			}
			want := float64(p.alpha) * s
			mag *= math.Abs(float64(p.alpha))
			if p.beta != 0 {
				c := float64(d.c0[d.offC+i*d.ldc+j])
				want += float64(p.beta) * c
				mag += math.Abs(float64(p.beta) * c)
			}
			g := float64(got[i*p.n+j])
			if tol := float64(p.k+2) * math.Pow(2, -24) * mag; math.Abs(g-want) > tol || math.IsNaN(g) {
				t.Fatalf("%v: C[%d][%d] = %v, want %v (tolerance %.3g)", p, i, j, g, want, tol)
			}
		}
	}
}

// bf16Schedules are GemmBF16 schedules to force: every tile shape and, for
// m <= 4 with B stored n x k, gemv_bf16; each with and without split-K, all
// over the segments of gemmBF16Segments(k). A schedule that does not
// apply to a product says so (false).
func bf16Schedules(maxInvocations int) map[string]func(m, n, k int, transB bool) (gemmPlan, bool) {
	s := map[string]func(m, n, k int, transB bool) (gemmPlan, bool){}
	for _, split := range []bool{false, true} {
		suffix := ""
		if split {
			suffix = "/splitk"
		}
		plan := func(p gemmPlan, k int) gemmPlan {
			segs, kSeg := gemmBF16Segments(k)
			p.splits, p.kChunk, p.kSeg = 1, k, kSeg
			if split && segs > 1 {
				p.splits, p.kChunk = segs, kSeg
			}
			return p
		}
		for _, tile := range gemmTiles {
			if tile.invocations() > maxInvocations {
				continue
			}
			s[tile.name+suffix] = func(m, n, k int, transB bool) (gemmPlan, bool) {
				return plan(gemmPlan{kernel: kernelTiled, tile: tile}, k), true
			}
		}
		s["gemv"+suffix] = func(m, n, k int, transB bool) (gemmPlan, bool) {
			return plan(gemmPlan{kernel: kernelGemv}, k), m <= gemvRows && transB
		}
	}
	return s
}

// TestGemmBF16 runs every transpose case, each operand as bf16 or float32,
// odd offsets and padded leading dimensions, beta 0 (C NaN), 0.5 and 1:
// each result is within float32 summation error of a float64 reference of
// the bf16-rounded operands and close to the CPU backend's GemmBF16. On
// the shapes in forced, every schedule (tile, split-K or not) gives the
// bits of planGemmBF16's: the segments, not the schedule, fix the order of
// the sums. (The forced schedules run with float32 A and bf16 B only, the
// engine's case: each specialisation is a pipeline to compile, seconds on
// a software driver.)
func TestGemmBF16(t *testing.T) {
	b := open(t)
	ref := cpu.New(1)
	defer func() { b.gemmBF16Plan = nil }()
	type shape struct {
		m, n, k int
		forced  bool
	}
	shapes := []shape{{1, 1, 1, false}, {7, 33, 5, false}, {33, 7, 257, false}, {4, 40, 1100, true}, {70, 67, 40, true}, {3, 70, 45, true}}
	for si, s := range shapes {
		for i, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			j := si*4 + i
			p := bf16Product{transA: tr[0], transB: tr[1], m: s.m, n: s.n, k: s.k, aBF16: i%2 == 0, bBF16: i < 2, alpha: 0.75}
			if s.forced {
				p.aBF16, p.bBF16 = false, true
			}
			switch j % 3 {
			case 0: // tight operands: four-element loads
			case 1:
				p.pad, p.beta = 3, 0.5
			case 2:
				p.pad, p.beta = 1, 1
			}
			d := newBF16Data(p)
			b.gemmBF16Plan = nil
			want := d.run(t, b, p)
			d.check(t, p, want)
			require.NoError(t, backendtest.Compare(want, d.run(t, ref, p), 1e-5), "%v: against the CPU backend", p)
			if !s.forced {
				continue
			}
			for name, sched := range bf16Schedules(b.maxInvocations()) {
				if _, ok := sched(p.m, p.n, p.k, p.transB); !ok {
					continue
				}
				b.gemmBF16Plan = func(m, n, k int, transB bool) gemmPlan {
					plan, _ := sched(m, n, k, transB)
					return plan
				}
				require.Equal(t, want, d.run(t, b, p), "%v: schedule %s", p, name)
			}
		}
	}
}

// TestGemmBF16Scalars: alpha = 0 reads neither operand (an infinite one
// gives beta*C, not NaN), k = 0 gives beta*C, and beta = 0 with alpha = 0
// gives zeros over a NaN C.
func TestGemmBF16Scalars(t *testing.T) {
	b := open(t)
	const m, n, k = 3, 5, 4
	a, bm, c := b.Alloc(m*k), b.AllocBF16(k*n), b.Alloc(m*n)
	defer func() { b.Free(a); b.Free(bm); b.Free(c) }()
	inf := make([]float32, m*k)
	for i := range inf {
		inf[i] = float32(math.Inf(1))
	}
	b.Write(backend.Whole(a), inf)
	c0 := make([]float32, m*n)
	for i := range c0 {
		c0[i] = float32(i)
	}
	b.Write(backend.Whole(c), c0)
	b.GemmBF16(false, false, m, n, k, 0, backend.Whole(a), k, backend.Whole(bm), n, 2, backend.Whole(c), n)
	got := read(t, b, backend.Whole(c), m*n)
	for i := range got {
		require.Equal(t, 2*c0[i], got[i], "alpha = 0")
	}
	b.GemmBF16(false, false, m, n, 0, 1, backend.Whole(a), 1, backend.Whole(bm), n, 0.5, backend.Whole(c), n)
	got = read(t, b, backend.Whole(c), m*n)
	for i := range got {
		require.Equal(t, c0[i], got[i], "k = 0")
	}
	nan := make([]float32, m*n)
	for i := range nan {
		nan[i] = float32(math.NaN())
	}
	b.Write(backend.Whole(c), nan)
	b.GemmBF16(false, false, m, n, k, 0, backend.Whole(a), k, backend.Whole(bm), n, 0, backend.Whole(c), n)
	require.Equal(t, make([]float32, m*n), read(t, b, backend.Whole(c), m*n), "alpha = beta = 0")
}

// TestGemmBF16RowsIndependentOfM: the rows of C are bitwise the same for
// m = 1, 37 and 200 (and a single row taken from the middle), with the
// schedules planGemmBF16 picks for each (different tiles, split-K or not:
// checked below), and the same twice.
func TestGemmBF16RowsIndependentOfM(t *testing.T) {
	b := open(t)
	const M, n, k = 200, 512, 1100
	rng := rand.New(rand.NewPCG(7, 8))
	av, bv, cv := b.Alloc(M*k), b.AllocBF16(n*k), b.Alloc(M*n)
	defer func() { b.Free(av); b.Free(bv); b.Free(cv) }()
	b.Write(backend.Whole(av), randSlice(rng, M*k))
	wb := make([]uint16, n*k)
	asm.F32ToBF16(wb, randSlice(rng, n*k))
	b.WriteBF16(backend.Whole(bv), wb)
	run := func(row0, rows int) []float32 {
		b.GemmBF16(false, true, rows, n, k, 1, backend.Whole(av).At(row0*k), k, backend.Whole(bv), k, 0, backend.Whole(cv).At(row0*n), n)
		return read(t, b, backend.Whole(cv).At(row0*n), rows*n)
	}
	all := run(0, M)
	require.Equal(t, all, run(0, M), "run to run")
	plans := map[string]bool{}
	for _, r := range [][2]int{{0, 1}, {0, 37}, {100, 1}, {150, 50}} {
		p := planGemmBF16(r[1], n, k, true, b.maxInvocations())
		plans[fmt.Sprintf("%d/%s/%d", p.kernel, p.tile.name, p.splits)] = true
		require.Equal(t, all[r[0]*n:(r[0]+r[1])*n], run(r[0], r[1]), "rows %d..%d computed %d at a time (%+v)", r[0], r[0]+r[1], r[1], p)
	}
	p := planGemmBF16(M, n, k, true, b.maxInvocations())
	plans[fmt.Sprintf("%d/%s/%d", p.kernel, p.tile.name, p.splits)] = true
	t.Logf("schedules: %v", plans)
	require.GreaterOrEqual(t, len(plans), 3, "the shapes reach gemv, different tiles and split-K")
}
