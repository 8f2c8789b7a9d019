package backendtest

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/goarpo/arpo/asm"
	"github.com/goarpo/arpo/backend"
	"github.com/goarpo/arpo/backend/cpu"
)

// RunBF16KV checks b's bf16 KV-cache ops (backend.BF16KV): CopyBF16 and
// ScatterRowsBF16 bit for bit, PagedAttentionBF16 bit for bit against b's
// own PagedAttention over float32 caches holding the widened values (the
// interface's promise), and against the CPU backend within the paged
// attention case's tolerance. It skips when b has no BF16KV.
func RunBF16KV(t *testing.T, b backend.Backend) {
	t.Helper()
	bf, kv, ok := backend.AsBF16KV(b)
	if !ok {
		t.Skipf("%s has no bf16 KV cache", b.Name())
	}
	t.Run("copy_bf16", func(t *testing.T) { checkCopyBF16(t, b, bf, kv) })
	t.Run("scatter_rows_bf16", func(t *testing.T) { checkScatterRowsBF16(t, b, bf, kv) })
	for _, c := range pagedBF16Shapes {
		t.Run("paged_attention_bf16/"+c.name, func(t *testing.T) { checkPagedAttentionBF16(t, b, bf, kv, c) })
	}
}

// bf16Session allocates bf16 and float32 buffers on one backend and frees
// them at the end of a check.
type bf16Session struct {
	b    backend.Backend
	bf   backend.BF16
	bufs []backend.Buffer
}

func (s *bf16Session) bf16(n, off int, x []uint16) backend.View {
	buf := s.bf.AllocBF16(off + n + 5)
	s.bufs = append(s.bufs, buf)
	v := backend.Whole(buf).At(off)
	if x != nil {
		s.bf.WriteBF16(v, x)
	}
	return v
}

func (s *bf16Session) f32(x []float32) backend.View {
	buf := s.b.Alloc(len(x) + 2*pad)
	s.bufs = append(s.bufs, buf)
	v := backend.Whole(buf).At(pad)
	s.b.Write(v, x)
	return v
}

func (s *bf16Session) readBF16(v backend.View, n int) ([]uint16, error) {
	x := make([]uint16, n)
	return x, s.bf.ReadBF16(x, v)
}

func (s *bf16Session) free() {
	for _, buf := range s.bufs {
		s.b.Free(buf)
	}
}

// randomBits returns n bf16 bit patterns of every kind: NaNs, infinities,
// zeros and subnormals among them, as a cache copy must move any bits.
func randomBits(rng *rand.Rand, n int) []uint16 {
	x := make([]uint16, n)
	for i := range x {
		x[i] = uint16(rng.Uint32())
	}
	return x
}

func checkCopyBF16(t *testing.T, b backend.Backend, bf backend.BF16, kv backend.BF16KV) {
	s := &bf16Session{b: b, bf: bf}
	defer s.free()
	rng := rand.New(rand.NewPCG(600, 1))
	// Every parity of offsets and lengths: a device storing pairs of bf16
	// in one word must keep the neighbours of a range's odd ends.
	for _, c := range []struct{ dstOff, srcOff, n int }{{0, 0, 64}, {1, 0, 33}, {2, 5, 1}, {3, 7, 250}, {4, 4, 0}} {
		const size = 300
		src, dst := randomBits(rng, size), randomBits(rng, size)
		sv, dv := s.bf16(size, 0, src), s.bf16(size, 0, dst)
		kv.CopyBF16(dv.At(c.dstOff), sv.At(c.srcOff), c.n)
		got, err := s.readBF16(dv, size)
		if err != nil {
			t.Fatal(err)
		}
		want := append([]uint16(nil), dst...)
		copy(want[c.dstOff:c.dstOff+c.n], src[c.srcOff:c.srcOff+c.n])
		if i := firstDiff16(got, want); i >= 0 {
			t.Fatalf("copy of %d at %d to %d: element %d is %#04x, want %#04x", c.n, c.srcOff, c.dstOff, i, got[i], want[i])
		}
	}
}

func checkScatterRowsBF16(t *testing.T, b backend.Backend, bf backend.BF16, kv backend.BF16KV) {
	s := &bf16Session{b: b, bf: bf}
	defer s.free()
	rng := rand.New(rand.NewPCG(601, 1))
	const dstRows, n, width, off = 100, 37, 96, 4
	src := make([]float32, n*width)
	for i := range src {
		src[i] = (2*rng.Float32() - 1) * 3
	}
	// Values whose rounding is easy to get wrong: ties both ways, a
	// subnormal, the largest finite values, infinities and a NaN.
	copy(src, []float32{
		math.Float32frombits(0x3f808000), math.Float32frombits(0x3f818000), math.Float32frombits(0x00000001),
		math.MaxFloat32, -math.MaxFloat32, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()),
	})
	rows := make([]int32, n)
	for i, r := range rng.Perm(dstRows)[:n] {
		rows[i] = int32(r)
	}
	rows[n-1] = rows[n-5] // a repeated destination: the last row listed wins
	dst := randomBits(rng, dstRows*width)
	dv := s.bf16(dstRows*width, off, dst)
	kv.ScatterRowsBF16(dv, s.f32(src), rows, width)
	got, err := s.readBF16(dv, dstRows*width)
	if err != nil {
		t.Fatal(err)
	}
	want := append([]uint16(nil), dst...)
	for i, r := range rows {
		asm.F32ToBF16(want[int(r)*width:int(r+1)*width], src[i*width:(i+1)*width])
	}
	if i := firstDiff16(got, want); i >= 0 {
		t.Fatalf("row %d column %d is %#04x, want %#04x", i/width, i%width, got[i], want[i])
	}
}

// pagedBF16Shape is one paged-attention configuration of RunBF16KV.
type pagedBF16Shape struct {
	name               string
	blockSize, nBlocks int
	heads, kvHeads, hd int
	seqs               []backend.PagedSeq // Blocks index a shuffle of the cache's blocks
}

func (p pagedBF16Shape) rows() int {
	r := 0
	for _, s := range p.seqs {
		r = max(r, s.Row+s.N)
	}
	return r
}

var pagedBF16Shapes = []pagedBF16Shape{
	// The conformance table's mix: a prefill, a one-row decode, an
	// extension.
	{"mixed", 16, 20, attnHeads, attnK, 64, []backend.PagedSeq{
		{Row: 0, N: 20, Pos: 0, Blocks: []int32{0, 1}},
		{Row: 20, N: 1, Pos: 50, Blocks: []int32{2, 3, 4, 5}},
		{Row: 21, N: 4, Pos: 33, Blocks: []int32{6, 7, 8}},
	}},
	// Decode of two long sequences at head dim 128, one key/value head:
	// few (row, head) pairs facing many keys, where a device splits the
	// keys.
	{"long_decode", 16, 48, 4, 1, 128, []backend.PagedSeq{
		{Row: 0, N: 1, Pos: 380, Blocks: seqBlocks(0, 24)},
		{Row: 1, N: 1, Pos: 299, Blocks: seqBlocks(24, 19)},
	}},
	// Odd block size, head dim 32, multi-head.
	{"small_blocks", 5, 30, 3, 3, 32, []backend.PagedSeq{
		{Row: 0, N: 7, Pos: 40, Blocks: seqBlocks(0, 10)},
		{Row: 7, N: 12, Pos: 0, Blocks: seqBlocks(10, 3)},
	}},
}

func seqBlocks(first, n int) []int32 {
	b := make([]int32, n)
	for i := range b {
		b[i] = int32(first + i)
	}
	return b
}

func checkPagedAttentionBF16(t *testing.T, b backend.Backend, bf backend.BF16, kv backend.BF16KV, p pagedBF16Shape) {
	rng := rand.New(rand.NewPCG(602, uint64(p.hd)))
	perm := rng.Perm(p.nBlocks)
	seqs := make([]backend.PagedSeq, len(p.seqs))
	for i, sq := range p.seqs {
		sq.Blocks = append([]int32(nil), sq.Blocks...)
		for j, blk := range sq.Blocks {
			sq.Blocks[j] = int32(perm[blk])
		}
		seqs[i] = sq
	}
	kw, qw, T := p.kvHeads*p.hd, p.heads*p.hd, p.rows()
	cacheN := p.nBlocks * p.blockSize * kw
	random := func(n int, scale float32) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = (2*rng.Float32() - 1) * scale
		}
		return x
	}
	k16, v16 := make([]uint16, cacheN), make([]uint16, cacheN)
	asm.F32ToBF16(k16, random(cacheN, 2))
	asm.F32ToBF16(v16, random(cacheN, 1))
	kWide, vWide := make([]float32, cacheN), make([]float32, cacheN)
	asm.BF16ToF32(kWide, k16)
	asm.BF16ToF32(vWide, v16)
	q := random(T*qw, 2)
	scale := float32(1 / math.Sqrt(float64(p.hd)))

	run := func(b backend.Backend, useBF16 bool) ([]float32, error) {
		bf, kv, _ := backend.AsBF16KV(b)
		s := &bf16Session{b: b, bf: bf}
		defer s.free()
		out := s.f32(make([]float32, T*qw))
		if useBF16 {
			kv.PagedAttentionBF16(out, s.f32(q), s.bf16(cacheN, 2, k16), s.bf16(cacheN, 6, v16), seqs, p.blockSize, p.heads, p.kvHeads, p.hd, scale)
		} else {
			b.PagedAttention(out, s.f32(q), s.f32(kWide), s.f32(vWide), seqs, p.blockSize, p.heads, p.kvHeads, p.hd, scale)
		}
		x := make([]float32, T*qw)
		return x, b.Read(x, out)
	}
	got, err := run(b, true)
	if err != nil {
		t.Fatal(err)
	}
	wide, err := run(b, false)
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(wide[i]) {
			t.Fatalf("element %d (row %d) is %v over the bf16 cache, %v over the widened float32 cache", i, i/qw, got[i], wide[i])
		}
	}
	want, err := run(cpu.New(0), false)
	if err != nil {
		t.Fatal(err)
	}
	if err := Compare(got, want, 1e-4); err != nil {
		t.Fatalf("against the cpu backend: %v", err)
	}
}

func firstDiff16(a, b []uint16) int {
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}
