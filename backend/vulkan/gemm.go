//go:build vulkan && cgo

package vulkan

import (
	"fmt"

	"github.com/goarpo/arpo/backend"
)

// extent is the number of elements a row-major (rows, cols) matrix with
// leading dimension ld spans.
func extent(rows, cols, ld int) int {
	if rows == 0 || cols == 0 {
		return 0
	}
	return (rows-1)*ld + cols
}

// gemmShapes checks the sizes and leading dimensions of a GEMM named op
// (panicking: bad ones are a programmer's error) and returns the stored
// shapes of A (ar x ac) and B (br x bc).
func gemmShapes(op string, transA, transB bool, m, n, k, lda, ldb, ldc int) (ar, ac, br, bc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("vulkan: %s with m=%d n=%d k=%d", op, m, n, k))
	}
	ar, ac = m, k
	if transA {
		ar, ac = k, m
	}
	br, bc = k, n
	if transB {
		br, bc = n, k
	}
	if m > 0 && n > 0 && (lda < max(ac, 1) || ldb < max(bc, 1) || ldc < n) {
		panic(fmt.Sprintf("vulkan: %s leading dimensions lda=%d ldb=%d ldc=%d too small for m=%d n=%d k=%d", op, lda, ldb, ldc, m, n, k))
	}
	return ar, ac, br, bc
}

// Gemm implements backend.Backend: C = alpha*op(A)*op(B) + beta*C with
// op(A) (m, k), op(B) (k, n), C (m, n). The kernel is chosen by shape
// (planGemm): gemv for decode-sized m, a register-tiled kernel in one of
// three tile sizes otherwise, split over k when the tiles alone would
// leave the device idle; gemm_noshared on software drivers.
func (b *Backend) Gemm(transA, transB bool, m, n, k int, alpha float32, a backend.View, lda int, bv backend.View, ldb int, beta float32, c backend.View, ldc int) {
	ar, ac, br, bc := gemmShapes("Gemm", transA, transB, m, n, k, lda, ldb, ldc)
	if m == 0 || n == 0 {
		return
	}
	b.op()
	ab, ao := b.view(a, extent(ar, ac, lda), false)
	bb, bo := b.view(bv, extent(br, bc, ldb), false)
	cb, co := b.view(c, extent(m, n, ldc), true)
	plan := planGemm(m, n, k, transB, b.software, b.maxInvocations())
	if b.gemmPlan != nil {
		plan = b.gemmPlan(m, n, k, transB)
	}
	// vec4 loads need the operand's start and every row start on 16 bytes.
	aVec := b2u(ao%4 == 0 && lda%4 == 0)
	bVec := b2u(bo%4 == 0 && ldb%4 == 0)
	switch plan.kernel {
	case kernelNoShared:
		pc := []uint32{uint32(m), uint32(n), uint32(k), uint32(lda), uint32(ldb), uint32(ldc),
			ao, bo, co, b2u(transA), b2u(transB), f32(alpha), f32(beta)}
		// 8x8 invocations of 4x4 outputs: 32x32 of C per work group.
		b.dispatch("gemm_noshared", []binding{ab, bb, cb}, pc, uint32((n+31)/32), uint32((m+31)/32))
	case kernelGemv:
		pc := []uint32{uint32(m), uint32(n), uint32(k), uint32(lda), uint32(ldb), uint32(ldc),
			ao, bo, co, b2u(transA), bVec, f32(alpha), f32(beta)}
		b.dispatch("gemv", []binding{ab, bb, cb}, pc, uint32((n+gemvCols-1)/gemvCols), 1)
	case kernelTiled:
		b.gemmTiled(gemmDispatch{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, beta: beta,
			a: ab, b: bb, c: cb, aOff: ao, bOff: bo, cOff: co, lda: lda, ldb: ldb, ldc: ldc, aVec: aVec, bVec: bVec},
			plan, plan.tile.spec(), "gemm_tiled/"+plan.tile.name)
	default:
		panic(fmt.Sprintf("vulkan: gemm plan with kernel %d", plan.kernel))
	}
}

// gemmDispatch is one product for gemm_tiled.comp: shapes, scalars, the
// bound operands with their element offsets in the bindings, and whether
// each of A and B may be read four elements at a time.
type gemmDispatch struct {
	transA, transB   bool
	m, n, k          int
	alpha, beta      float32
	a, b, c          binding
	aOff, bOff, cOff uint32
	lda, ldb, ldc    int
	aVec, bVec       uint32
	kSeg             int // k segment length of a SEGMENTED module (0 otherwise)
}

// gemmTiled records a product on gemm_tiled.comp specialised with spec,
// split over k as plan says: each split writes its partial product to
// scratch, then gemm_splitk_reduce.comp adds the partials in order of the
// split. kind names the dispatches in the profile.
func (b *Backend) gemmTiled(g gemmDispatch, plan gemmPlan, spec []uint32, kind string) {
	t := plan.tile
	gx, gy := uint32((g.n+t.bn-1)/t.bn), uint32((g.m+t.bm-1)/t.bm)
	b.gemmSplitK("gemm_tiled", g, plan, spec, kind, gx, gy, func(c uint32, ldc int, alpha, beta float32, kChunk, zStride, split int) []uint32 {
		return []uint32{uint32(g.m), uint32(g.n), uint32(g.k), uint32(g.lda), uint32(g.ldb), uint32(ldc),
			g.aOff, g.bOff, c, b2u(g.transA), b2u(g.transB), f32(alpha), f32(beta), uint32(kChunk), uint32(zStride), g.aVec, g.bVec, uint32(split), uint32(g.kSeg)}
	})
}

// gemvBF16 records a GemmBF16 of few rows on gemv_bf16.comp, split over k
// as plan says.
func (b *Backend) gemvBF16(g gemmDispatch, plan gemmPlan, spec []uint32) {
	gx := uint32(ceilDiv(g.n, gemvBF16Cols))
	b.gemmSplitK("gemv_bf16", g, plan, spec, "gemv_bf16", gx, 1, func(c uint32, ldc int, alpha, beta float32, kChunk, zStride, split int) []uint32 {
		return []uint32{uint32(g.m), uint32(g.n), uint32(g.k), uint32(g.lda), uint32(g.ldb), uint32(ldc),
			g.aOff, g.bOff, c, b2u(g.transA), f32(alpha), f32(beta), uint32(kChunk), uint32(zStride), g.aVec, g.bVec, uint32(split), uint32(g.kSeg)}
	})
}

// gemmSplitK records shader over gx x gy work groups, once (push gives its
// push constants for C at element c of the binding, ldc, alpha, beta, the
// k range of a split, the stride between splits' partials and whether
// they are partials), or, with plan.splits > 1, once per split into
// scratch, followed by gemm_splitk_reduce.comp.
func (b *Backend) gemmSplitK(shader string, g gemmDispatch, plan gemmPlan, spec []uint32, kind string, gx, gy uint32,
	push func(c uint32, ldc int, alpha, beta float32, kChunk, zStride, split int) []uint32) {
	m, n := g.m, g.n
	defer func() { b.kind = "" }()
	if plan.splits <= 1 {
		b.kind = kind
		b.dispatchSpec(shader, spec, []binding{g.a, g.b, g.c}, push(g.cOff, g.ldc, g.alpha, g.beta, g.k, 0, 0), gx, gy, 1)
		return
	}
	mn := m * n
	scratch := b.alloc(plan.splits*mn, false)
	if b.err != nil {
		return
	}
	pw, po := b.bindView(scratch, 0, plan.splits*mn, true)
	b.kind = kind + "/splitk"
	b.dispatchSpec(shader, spec, []binding{g.a, g.b, pw}, push(po, n, 1, 0, plan.kChunk, mn, 1), gx, gy, uint32(plan.splits))
	b.kind = ""
	pr, _ := b.bindView(scratch, 0, plan.splits*mn, false)
	b.dispatch("gemm_splitk_reduce", []binding{pr, g.c},
		[]uint32{uint32(m), uint32(n), uint32(g.ldc), po, g.cOff, uint32(mn), uint32(plan.splits), f32(g.alpha), f32(g.beta)},
		groups(mn, 256), 1)
	b.Free(scratch)
}

func b2u(x bool) uint32 {
	if x {
		return 1
	}
	return 0
}

// maxInvocations is the device's limit on invocations per work group.
func (b *Backend) maxInvocations() int { return int(b.d.limits.MaxComputeWorkGroupInvocations) }
