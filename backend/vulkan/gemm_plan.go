package vulkan

// This file holds the Vulkan GEMM's choice of kernel by shape. It has no
// cgo or build tag, so its rules are tested by every `go test`.

// gemmKernel names the shaders a Gemm can run.
type gemmKernel int

const (
	kernelTiled    gemmKernel = iota // gemm_tiled.comp (+ gemm_splitk_reduce.comp)
	kernelGemv                       // gemv.comp (gemv_bf16.comp for GemmBF16)
	kernelNoShared                   // gemm_noshared.comp
)

// gemmTileShape is one specialisation of gemm_tiled.comp: a bm x bn tile of
// C per work group, bk-deep slices of k in shared memory, tm x tn outputs
// per invocation.
type gemmTileShape struct {
	name       string
	bm, bn, bk int
	tm, tn     int
}

// invocations is the work-group size the shape needs.
func (t gemmTileShape) invocations() int { return (t.bm / t.tm) * (t.bn / t.tn) }

// spec is the shape as gemm_tiled.comp's specialization constants 0..5.
func (t gemmTileShape) spec() []uint32 {
	return []uint32{uint32(t.invocations()), uint32(t.bm), uint32(t.bn), uint32(t.bk), uint32(t.tm), uint32(t.tn)}
}

// The three tile shapes, largest first. Large tiles read each loaded
// element more often (8 multiply-adds per shared-memory read) but need
// many rows and columns to fill a GPU; small ones keep work groups busy on
// thin products.
var (
	tileLarge  = gemmTileShape{"128x128", 128, 128, 8, 8, 8}
	tileMedium = gemmTileShape{"64x64", 64, 64, 16, 4, 4}
	tileSmall  = gemmTileShape{"32x32", 32, 32, 16, 4, 4}
	gemmTiles  = []gemmTileShape{tileLarge, tileMedium, tileSmall}
)

// gemvRows is the most rows of op(A) gemv.comp takes; gemvCols is the
// columns of C one of its work groups computes (MR and NR there).
const (
	gemvRows = 4
	gemvCols = 4
)

// Split-K thresholds: a product split over k when its tiles give fewer
// than splitMinGroups work groups and k is at least splitMinK; each split
// gets at least splitMinChunk of k, and there are at most maxSplits.
const (
	splitMinGroups = 32
	splitMinK      = 1024
	splitMinChunk  = 256
	maxSplits      = 8
	largeMinGroups = 64    // the 128x128 tile only when it still gives this many groups
	maxGroupsX     = 65535 // the work groups every device allows along x
)

// gemmPlan is a chosen kernel: for kernelTiled the tile shape, the number
// of splits of k (1: none) and the k range of each split; for a BF16 GEMM
// also the length of its k segments (kSeg, see gemmBF16Segments; a split
// is then one segment).
type gemmPlan struct {
	kernel gemmKernel
	tile   gemmTileShape
	splits int
	kChunk int
	kSeg   int
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// planGemm chooses the kernel for an (m, n, k) product. The choice depends
// only on the shape (and the device's work-group limit), so a product gets
// the same kernel, and the same bits, every time. All tiled shapes without
// a split sum k in the same order and give the same bits; gemv and split-K
// add in other orders.
func planGemm(m, n, k int, transB, software bool, maxInvocations int) gemmPlan {
	if software {
		// On a CPU driver barriers are expensive and caches do the work of
		// shared memory.
		return gemmPlan{kernel: kernelNoShared, splits: 1}
	}
	if m <= gemvRows && transB && ceilDiv(n, gemvCols) <= maxGroupsX {
		return gemmPlan{kernel: kernelGemv, splits: 1}
	}
	tile := tileSmall
	switch {
	case ceilDiv(m, 128)*ceilDiv(n, 128) >= largeMinGroups && tileLarge.invocations() <= maxInvocations:
		tile = tileLarge
	case m > 32 && n > 32 && tileMedium.invocations() <= maxInvocations:
		tile = tileMedium
	}
	p := gemmPlan{kernel: kernelTiled, tile: tile, splits: 1, kChunk: k}
	groups := ceilDiv(m, tile.bm) * ceilDiv(n, tile.bn)
	if groups < splitMinGroups && k >= splitMinK {
		s := min(maxSplits, k/splitMinChunk, ceilDiv(2*splitMinGroups, groups))
		if s > 1 {
			p.kChunk = ceilDiv(ceilDiv(k, s), tile.bk) * tile.bk
			p.splits = ceilDiv(k, p.kChunk)
		}
	}
	return p
}

// bf16SegmentAlign is what a BF16 GEMM's k segments are a multiple of: every
// tile shape's bk, so that no bk slice straddles two segments.
const bf16SegmentAlign = 16

// gemmBF16Segments returns the k segments of a BF16 GEMM: their number and
// length (the last may be shorter). It depends on k alone: the segments
// fix the order of the sums (each segment summed from zero, the segment
// sums added in order), so every row of C gets the same bits whatever m
// and n are. A k short of splitMinK is one segment.
func gemmBF16Segments(k int) (segs, kSeg int) {
	if k < splitMinK {
		return 1, ceilDiv(max(k, 1), bf16SegmentAlign) * bf16SegmentAlign
	}
	s := min(maxSplits, k/splitMinChunk)
	kSeg = ceilDiv(ceilDiv(k, s), bf16SegmentAlign) * bf16SegmentAlign
	return ceilDiv(k, kSeg), kSeg
}

// gemvBF16Cols is the columns of C one work group of gemv_bf16.comp
// computes (one per invocation).
const gemvBF16Cols = 64

// planGemmBF16 chooses the schedule of a BF16 GEMM, on every device: the
// order of its sums is fixed by the segments of gemmBF16Segments. For m <=
// gemvRows with B stored n x k (decode), gemv_bf16.comp (one invocation
// per column of C); otherwise gemm_tiled.comp (SEGMENTED) with the tile
// chosen by m and n as planGemm does. Either way the segments run as
// split-K work groups (one segment each, reduced in order) when the work
// groups alone would leave the device idle. No choice changes a bit of C:
// both kernels sum each segment in k order by fma and add the segment sums
// as the reduce adds the splits'. So, although m picks the schedule, the
// rows of C do not depend on m.
func planGemmBF16(m, n, k int, transB bool, maxInvocations int) gemmPlan {
	segs, kSeg := gemmBF16Segments(k)
	if m <= gemvRows && transB && ceilDiv(n, gemvBF16Cols) <= maxGroupsX {
		p := gemmPlan{kernel: kernelGemv, splits: 1, kChunk: k, kSeg: kSeg}
		if segs > 1 && ceilDiv(n, gemvBF16Cols) < splitMinGroups {
			p.splits, p.kChunk = segs, kSeg
		}
		return p
	}
	tile := tileSmall
	switch {
	case ceilDiv(m, 128)*ceilDiv(n, 128) >= largeMinGroups && tileLarge.invocations() <= maxInvocations:
		tile = tileLarge
	case m > 32 && n > 32 && tileMedium.invocations() <= maxInvocations:
		tile = tileMedium
	}
	p := gemmPlan{kernel: kernelTiled, tile: tile, splits: 1, kChunk: k, kSeg: kSeg}
	if segs > 1 && ceilDiv(m, tile.bm)*ceilDiv(n, tile.bn) < splitMinGroups {
		p.splits, p.kChunk = segs, kSeg
	}
	return p
}
