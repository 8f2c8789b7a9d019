package cpu

import (
	"fmt"
	"sync"

	"github.com/goarpo/arpo/asm"
	"github.com/goarpo/arpo/backend"
)

// Blocking of the packed GEMM (Goto/BLIS). The values are fixed, never
// derived from the thread count: each C element then sees the same kernel
// calls over the same K blocks in the same order, whatever the threads.
const (
	// gemmKC is the depth of one packed block: the kernel sweeps the B
	// slivers of its task with one A sliver (14*512*4 = 28 KiB for the
	// AVX-512 tile) held near L1. Deeper blocks mean fewer passes over C;
	// 256 to 768 measured within noise of each other on Zen 4 (whose
	// 512-bit FMAs leave the caches plenty of time), 512 slightly best.
	gemmKC = 512
	// gemmNC and gemmMB bound the packed B (KC x NC) and A (MB x KC) blocks,
	// so the pack buffers stay a few MiB for any problem size.
	gemmNC = 4096
	gemmMB = 2048
	// A task computes a tile block of about gemmMT x gemmNT elements of C:
	// its B block (KC x NT, 512 KiB) stays in L2 while its A slivers stream.
	// Small tasks keep two or more threads evenly loaded.
	gemmMT       = 112
	gemmNT       = 256
	gemmMinTasks = 8
	// gemmRowGrain is the smallest column piece of the small-m row path (a
	// multiple of 16, the assembly's vector width); gemmDotGrain the number
	// of dot products per piece of the dot paths (a multiple of 4, its row
	// group).
	gemmRowGrain = 256
	gemmDotGrain = 64
	// With B stored k x n, up to gemmRowsMaxM rows of A stream B once
	// through per-row accumulators (asm.SgemmRows) instead of packing it.
	gemmRowsMaxM = 8
	// With B stored n x k (the weights of a linear layer), up to
	// gemmDotsMaxM rows of A take the dot-product path: it reads B once and
	// packs nothing, where the blocked path would pack all of B for a few
	// rows of arithmetic (16x2048x2048: 69 vs 40 GFLOP/s, 64 rows: 86 vs
	// 81, 128 rows: 84 vs 91 on Zen 4). Beyond gemmDotsSmallM rows, A must
	// also fit in L2 (gemmDotsMaxA elements), as every group of four B rows
	// sweeps all of it.
	gemmDotsMaxM   = 64
	gemmDotsSmallM = 8
	gemmDotsMaxA   = 1 << 17
	// Below gemmDotsMinK, a dot product is too short to pay for its
	// horizontal sum, and with more than one row of A the blocked path is
	// faster however many B rows it packs: an LM head of hidden 64 against
	// a 151,936-token vocabulary (32 x 151936 x 64) ran at ~20 GFLOP/s on
	// the dot path.
	gemmDotsMinK = 128
	// Problems up to gemmTiny multiply-adds use the plain loop: packing and
	// dispatch would cost more than the arithmetic.
	gemmTiny = 2048
)

// gemmKernel is the micro-kernel the backend uses; tests swap it to check
// every variant through the whole driver.
var gemmKernel = asm.Sgemm()

// Gemm implements backend.Backend: C = alpha*op(A)*op(B) + beta*C with op(A)
// m x k, op(B) k x n and C m x n, all row-major. transA means A is stored
// k x m; transB means B is stored n x k. C must not overlap A or B. Bad
// sizes or leading dimensions, or operands past their buffers, panic.
func (c *CPU) Gemm(transA, transB bool, m, n, k int, alpha float32, a backend.View, lda int, b backend.View, ldb int, beta float32, cv backend.View, ldc int) {
	A := slice(a, gemmExtent("A", transA, m, k, lda))
	B := slice(b, gemmExtent("B", transB, k, n, ldb))
	C := slice(cv, gemmExtent("C", false, m, n, ldc))
	gemm(c.pool, gemmKernel, transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc)
}

// gemmExtent checks the shape of one operand, op(X) rows x cols stored with
// leading dimension ld, and returns how many elements it spans.
func gemmExtent(name string, trans bool, rows, cols, ld int) int {
	if rows < 0 || cols < 0 {
		panic(fmt.Sprintf("cpu: Gemm: %s is %d x %d", name, rows, cols))
	}
	if trans {
		rows, cols = cols, rows
	}
	if ld < max(cols, 1) {
		panic(fmt.Sprintf("cpu: Gemm: leading dimension of %s is %d, below its width %d", name, ld, cols))
	}
	if rows == 0 || cols == 0 {
		return 0
	}
	return (rows-1)*ld + cols
}

// gemm dispatches on the shape. A, B, C hold op(A) (m x k), op(B) (k x n)
// and C (m x n) as described for Gemm. Skinny products (m == 1, the decode
// step, and n == 1) skip packing: they stream each operand once anyway.
func gemm(p *pool, s *asm.SgemmKernel, ta, tb bool, m, n, k int, alpha float32, A []float32, lda int, B []float32, ldb int, beta float32, C []float32, ldc int) {
	switch {
	case m == 0 || n == 0:
	case k == 0 || alpha == 0:
		// BLAS semantics: op(A)*op(B) is not referenced.
		for i := 0; i < m; i++ {
			gemmScale(C[i*ldc:i*ldc+n], beta)
		}
	case m*n*k <= gemmTiny:
		gemmNaive(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc)
	case m <= gemmRowsMaxM && !tb:
		gemmRows(p, ta, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc)
	case !ta && tb && (m == 1 || k >= gemmDotsMinK) && (m <= gemmDotsSmallM || (m <= gemmDotsMaxM && m*k <= gemmDotsMaxA)):
		gemmDots(p, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, 1)
	case n == 1 && !ta && tb:
		// The roles swap: the one row of B against the m rows of A.
		gemmDots(p, 1, m, k, alpha, B, 0, A, lda, beta, C, 0, ldc)
	default:
		gemmBlocked(p, s, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc)
	}
}

// gemmScale sets x = beta*x, or x = 0 when beta is 0 (NaN included).
func gemmScale(x []float32, beta float32) {
	switch beta {
	case 0:
		clear(x)
	case 1:
	default:
		asm.Scale(beta, x)
	}
}

// gemmNaive is the reference triple loop for tiny problems; one sum per
// element in order p = 0..k-1.
func gemmNaive(ta, tb bool, m, n, k int, alpha float32, A []float32, lda int, B []float32, ldb int, beta float32, C []float32, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float32
			for p := 0; p < k; p++ {
				ia, ib := i*lda+p, p*ldb+j
				if ta {
					ia = p*lda + i
				}
				if tb {
					ib = j*ldb + p
				}
				x, y := A[ia], B[ib]
				s += x * y
			}
			if beta == 0 {
				C[i*ldc+j] = alpha * s
			} else {
				C[i*ldc+j] = alpha*s + beta*C[i*ldc+j]
			}
		}
	}
}

// gemmRows is the small-m, op(B) = B case (decode steps against weights
// stored k x n): C (m x n) = alpha * op(A) * B + beta*C by fixed column
// chunks, each element summed over p in order (asm.SgemmRows).
func gemmRows(pl *pool, ta bool, m, n, k int, alpha float32, A []float32, lda int, B []float32, ldb int, beta float32, C []float32, ldc int) {
	rowStep, inca := lda, 1
	if ta { // A is stored k x m: row i of op(A) is column i of A
		rowStep, inca = 1, lda
	}
	// One contiguous piece per thread: SgemmRows reads B faster in wide
	// chunks. Each element's sum runs over p in order whatever the chunk,
	// so this split by the thread count changes no output bit.
	grain := max(gemmRowGrain, (gemmCeilDiv(n, pl.threads)+15)&^15)
	pl.chunksWork(n, grain, m*n*k, func(lo, hi int) {
		asm.SgemmRows(m, hi-lo, k, alpha, A, rowStep, inca, B[lo:], ldb, beta, C[lo:], ldc)
	})
}

// gemmDots computes C[i*ldc+j*incc] = alpha*dot(X[i*ldx:], Y[j*ldy:]) +
// beta*C[...] over k for i < rows, j < cols, by fixed chunks of j. It serves
// small m with op(B) = B^T (decode steps against weights stored
// n x k: X holds the activation rows) and n == 1 with op(A) = A.
func gemmDots(pl *pool, rows, cols, k int, alpha float32, X []float32, ldx int, Y []float32, ldy int, beta float32, C []float32, ldc, incc int) {
	pl.chunksWork(cols, gemmDotGrain, rows*cols*k, func(lo, hi int) {
		asm.SgemmDots(rows, hi-lo, k, alpha, X, ldx, Y[lo*ldy:], ldy, beta, C[lo*incc:], ldc, incc)
	})
}

// gemmScratch holds the pack buffers of one Gemm call.
type gemmScratch struct {
	a, b, tiles []float32
}

// scratchList keeps the pack buffers of finished calls for the next
// ones. Unlike a sync.Pool it is not emptied by garbage collection, so a
// training loop that allocates a lot does not re-allocate megabytes of pack
// buffers per call; it holds one set per call that ever ran concurrently
// with others (usually one per backend in use).
type scratchList[T any] struct {
	sync.Mutex
	list []*T
}

func (f *scratchList[T]) get() *T {
	f.Lock()
	defer f.Unlock()
	if n := len(f.list); n > 0 {
		s := f.list[n-1]
		f.list = f.list[:n-1]
		return s
	}
	return new(T)
}

func (f *scratchList[T]) put(s *T) {
	f.Lock()
	f.list = append(f.list, s)
	f.Unlock()
}

var gemmScratchFree scratchList[gemmScratch]

// gemmGrow returns x with length n, reallocated only when too small.
func gemmGrow[E any](x []E, n int) []E {
	if cap(x) < n {
		return make([]E, n)
	}
	return x[:n]
}

// gemmBlocked is the Goto/BLIS loop nest. For each NC-wide column block of
// C and each KC-deep block of K (in order), B's block is packed, then for
// each MB-tall row block A's block is packed and the tile blocks of C are
// computed in parallel. Work is split over rows and columns of C only, so
// every C element accumulates its K blocks in the same order whatever the
// thread count.
func gemmBlocked(pl *pool, s *asm.SgemmKernel, ta, tb bool, m, n, k int, alpha float32, A []float32, lda int, B []float32, ldb int, beta float32, C []float32, ldc int) {
	mr, nr := s.MR, s.NR
	mt, nt := gemmTaskShape(min(m, gemmMB), min(n, gemmNC), mr, nr)
	nc := min(n, gemmNC)
	mb := min(m, gemmMB)
	kc := min(k, gemmKC)

	sc := gemmScratchFree.get()
	defer gemmScratchFree.put(sc)
	sc.a = gemmGrow(sc.a, s.PackedASize(mb, kc))
	sc.b = gemmGrow(sc.b, s.PackedBSize(kc, nc))
	sc.tiles = gemmGrow(sc.tiles, gemmCeilDiv(mb, mt)*gemmCeilDiv(nc, nt)*mr*nr)
	pa, pb, tiles := sc.a, sc.b, sc.tiles

	for jc := 0; jc < n; jc += gemmNC {
		nb := min(gemmNC, n-jc)
		for pc := 0; pc < k; pc += gemmKC {
			kb := min(gemmKC, k-pc)
			bt := beta // later K blocks accumulate onto the first
			if pc > 0 {
				bt = 1
			}
			// B is packed in pieces of two slivers, so that even a narrow B
			// (n = 256) packs on every thread.
			packB := func(g int) {
				j0 := g * 2 * nr
				off := pc*ldb + jc + j0
				if tb {
					off = (jc+j0)*ldb + pc
				}
				s.PackB(pb[j0*kb:], B[off:], ldb, tb, kb, min(2*nr, nb-j0))
			}
			nbPieces := gemmCeilDiv(nb, 2*nr)
			for ic := 0; ic < m; ic += gemmMB {
				mbb := min(gemmMB, m-ic)
				packA := func(g int) {
					i0 := g * mt
					off := (ic+i0)*lda + pc
					if ta {
						off = pc*lda + ic + i0
					}
					s.PackA(pa[i0*kb:], A[off:], lda, ta, min(mt, mbb-i0), kb)
				}
				naPieces := gemmCeilDiv(mbb, mt)
				if ic == 0 {
					// Pack B's block with the first A block: one barrier less.
					pl.run(nbPieces+naPieces, func(g int) {
						if g < nbPieces {
							packB(g)
						} else {
							packA(g - nbPieces)
						}
					})
				} else {
					pl.run(naPieces, packA)
				}
				tm, tn := gemmCeilDiv(mbb, mt), gemmCeilDiv(nb, nt)
				pl.run(tm*tn, func(t int) {
					// Column-block-major order: consecutive tasks share a B block.
					i0, j0 := (t%tm)*mt, (t/tm)*nt
					tile := tiles[t*mr*nr : (t+1)*mr*nr]
					gemmTask(s, kb, min(mt, mbb-i0), min(nt, nb-j0), alpha, pa[i0*kb:], pb[j0*kb:], bt, C[(ic+i0)*ldc+jc+j0:], ldc, tile)
				})
			}
		}
	}
}

// gemmTaskShape returns the rows and columns of a task for an m x n block
// of C: about gemmMT x gemmNT, multiples of the tile, halved (columns
// first) while the block would give fewer than gemmMinTasks tasks, so that
// small products (a 256 x 256 weight gradient) still spread over threads.
// It depends on the shape only; any task shape gives the same bits.
func gemmTaskShape(m, n, mr, nr int) (mt, nt int) {
	mt = max(1, gemmMT/mr) * mr
	nt = max(1, gemmNT/nr) * nr
	for gemmCeilDiv(m, mt)*gemmCeilDiv(n, nt) < gemmMinTasks {
		switch {
		case nt >= 2*nr && n > nt/2:
			nt = max(1, nt/nr/2) * nr
		case mt >= 2*mr && m > mt/2:
			mt = max(1, mt/mr/2) * mr
		default:
			return mt, nt
		}
	}
	return mt, nt
}

// gemmTask computes one rows x cols block of C from packed A (rows x kb) and
// B (kb x cols): C = alpha*A*B + beta*C. For each A sliver (kept in L1) it
// sweeps the B slivers; edge tiles go through the scratch tile.
func gemmTask(s *asm.SgemmKernel, kb, rows, cols int, alpha float32, pa, pb []float32, beta float32, C []float32, ldc int, tile []float32) {
	mr, nr := s.MR, s.NR
	for i := 0; i < rows; i += mr {
		a := pa[i*kb:]
		h := min(mr, rows-i)
		for j := 0; j < cols; j += nr {
			b := pb[j*kb:]
			w := min(nr, cols-j)
			if h == mr && w == nr {
				s.Kernel(kb, a, b, C[i*ldc+j:], ldc, alpha, beta)
				continue
			}
			s.Kernel(kb, a, b, tile, nr, 1, 0)
			for ii := 0; ii < h; ii++ {
				c := C[(i+ii)*ldc+j : (i+ii)*ldc+j+w]
				t := tile[ii*nr : ii*nr+w]
				for jj := range c {
					if beta == 0 {
						c[jj] = alpha * t[jj]
					} else {
						c[jj] = alpha*t[jj] + beta*c[jj]
					}
				}
			}
		}
	}
}

func gemmCeilDiv(a, b int) int { return (a + b - 1) / b }
