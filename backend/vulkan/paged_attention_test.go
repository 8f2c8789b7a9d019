//go:build vulkan && cgo

package vulkan

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	"github.com/goarpo/arpo/backend"
	"github.com/goarpo/arpo/backend/backendtest"
	"github.com/goarpo/arpo/backend/cpu"
	"github.com/stretchr/testify/require"
)

// pagedShape is one paged attention of TestPagedAttentionShapes: every
// context of pagedContexts as a decode row, a prefill of 7 rows and a
// chunked prefill of 3 rows at position 100, over shuffled blocks, the
// bf16 caches at element offsets kOff and vOff.
type pagedShape struct {
	hd, heads, kvHeads, blockSize int
	kOff, vOff                    int
}

// pagedContexts are the decode rows' keys: one key, both sides of the
// 64-key softmax block, and long rows that a split cuts into many chunks.
var pagedContexts = []int{1, 2, 31, 63, 64, 65, 129, 200, 600}

// pagedShapes cover head dims below, at and above the shared-memory tile
// of the score phase (32 dims), not a multiple of it (72, 33: an odd head
// dim puts every other row at the high half of a bf16 word), up to the
// largest (256); grouped-query and plain heads; blocks of 5 and 16 rows;
// bf16 caches at even and odd element offsets.
var pagedShapes = func() []pagedShape {
	var s []pagedShape
	for _, bs := range []int{5, 16} {
		s = append(s,
			pagedShape{hd: 32, heads: 4, kvHeads: 2, blockSize: bs, kOff: 0, vOff: 0},
			pagedShape{hd: 64, heads: 8, kvHeads: 2, blockSize: bs, kOff: 3, vOff: 1},
			pagedShape{hd: 72, heads: 6, kvHeads: 2, blockSize: bs, kOff: 1, vOff: 2},
			pagedShape{hd: 128, heads: 4, kvHeads: 1, blockSize: bs, kOff: 2, vOff: 3},
			pagedShape{hd: 256, heads: 2, kvHeads: 1, blockSize: bs, kOff: 1, vOff: 1},
			pagedShape{hd: 33, heads: 3, kvHeads: 3, blockSize: bs, kOff: 0, vOff: 1},
		)
	}
	return s
}()

func (s pagedShape) String() string {
	return fmt.Sprintf("hd%d_h%d_kv%d_bs%d_off%d%d", s.hd, s.heads, s.kvHeads, s.blockSize, s.kOff, s.vOff)
}

// pagedData is a pagedShape's inputs: the float32 caches hold bf16 values
// widened, so that the bf16 run must give the float32 run's bits.
type pagedData struct {
	seqs            []backend.PagedSeq
	T               int
	q, kWide, vWide []float32
	k16, v16        []uint16
	scale           float32
}

func newPagedData(s pagedShape, seed uint64) pagedData {
	rng := rand.New(rand.NewPCG(seed, 19))
	var d pagedData
	type row struct{ n, pos int }
	var rows []row
	for _, c := range pagedContexts {
		rows = append(rows, row{1, c - 1})
	}
	rows = append(rows, row{7, 0}, row{3, 100})
	blocks := 0
	for _, r := range rows {
		blocks += (r.pos + r.n + s.blockSize - 1) / s.blockSize
	}
	blocks += 3 // blocks no sequence uses
	perm := rng.Perm(blocks)
	for _, r := range rows {
		nb := (r.pos + r.n + s.blockSize - 1) / s.blockSize
		bt := make([]int32, nb)
		for i := range bt {
			bt[i] = int32(perm[0])
			perm = perm[1:]
		}
		d.seqs = append(d.seqs, backend.PagedSeq{Row: d.T, N: r.n, Pos: r.pos, Blocks: bt})
		d.T += r.n
	}
	n := blocks * s.blockSize * s.kvHeads * s.hd
	d.k16, d.kWide = randBF16(rng, n, 2)
	d.v16, d.vWide = randBF16(rng, n, 1)
	d.q = make([]float32, d.T*s.heads*s.hd)
	for i := range d.q {
		d.q[i] = (2*rng.Float32() - 1) * 2
	}
	d.scale = float32(1 / math.Sqrt(float64(s.hd)))
	return d
}

// run returns PagedAttention over the float32 caches or, with useBF16,
// PagedAttentionBF16 over the bf16 caches at the shape's offsets.
func (d pagedData) run(t *testing.T, b backend.Backend, s pagedShape, useBF16 bool) []float32 {
	t.Helper()
	var bufs []backend.Buffer
	defer func() {
		for _, x := range bufs {
			b.Free(x)
		}
	}()
	f32 := func(x []float32, off int) backend.View {
		buf := b.Alloc(len(x) + off)
		bufs = append(bufs, buf)
		v := backend.Whole(buf).At(off)
		b.Write(v, x)
		return v
	}
	qw := s.heads * s.hd
	out, q := f32(make([]float32, d.T*qw), 1), f32(d.q, 2)
	if useBF16 {
		bf, kv, ok := backend.AsBF16KV(b)
		require.True(t, ok)
		bf16 := func(x []uint16, off int) backend.View {
			buf := bf.AllocBF16(len(x) + off)
			bufs = append(bufs, buf)
			v := backend.Whole(buf).At(off)
			bf.WriteBF16(v, x)
			return v
		}
		kv.PagedAttentionBF16(out, q, bf16(d.k16, s.kOff), bf16(d.v16, s.vOff), d.seqs, s.blockSize, s.heads, s.kvHeads, s.hd, d.scale)
	} else {
		b.PagedAttention(out, q, f32(d.kWide, s.kOff), f32(d.vWide, s.vOff), d.seqs, s.blockSize, s.heads, s.kvHeads, s.hd, d.scale)
	}
	got := make([]float32, d.T*qw)
	require.NoError(t, b.Read(got, out))
	return got
}

// TestPagedAttentionShapes runs paged attention over float32 and bf16
// caches on every pagedShape, unsplit and split into forced chunks of 16
// and 64 keys, with the key slices staged in shared memory (the GPU path)
// and walked by each invocation (the software drivers' path): staging
// gives the walk's bits, the bf16 cache gives the float32 cache's bits,
// and both stay near the CPU backend.
//
// With ARPO_PAGED_ATTENTION_BITS=FILE it also records every output's bits
// in FILE when FILE does not exist, and otherwise requires the same bits
// as FILE holds: run it once before changing the paged kernels and once
// after, on the same driver, to prove a change leaves every bit as it was
// (the bits of a kernel depend on the driver, so no file is committed).
func TestPagedAttentionShapes(t *testing.T) {
	b := open(t)
	soft := b.software
	defer func() { b.software, b.pagedStagedForced, b.pagedChunkForced = soft, false, 0 }()
	// As on a software driver (so chunk 0 is unsplit on every device),
	// with staging forced or not.
	b.software = true
	ref := cpu.New(1)
	outs := map[string][]float32{}
	for i, s := range pagedShapes {
		d := newPagedData(s, uint64(i))
		want := d.run(t, ref, s, false)
		for _, chunk := range []int{0, 16, 64} {
			b.pagedChunkForced = chunk
			var walked []float32
			for _, staged := range []bool{false, true} {
				b.pagedStagedForced = staged
				wide := d.run(t, b, s, false)
				got := d.run(t, b, s, true)
				requireSameBits(t, got, wide, "%v chunk %d staged=%v: over the bf16 cache, over the widened float32 cache", s, chunk, staged)
				if staged {
					requireSameBits(t, wide, walked, "%v chunk %d: staged, walked", s, chunk)
				}
				require.NoError(t, backendtest.Compare(wide, want, 1e-4), "%v chunk %d staged=%v against the cpu backend", s, chunk, staged)
				walked = wide
			}
			outs[fmt.Sprintf("%v_chunk%d", s, chunk)] = walked
		}
	}
	if path := os.Getenv("ARPO_PAGED_ATTENTION_BITS"); path != "" {
		checkBitsFile(t, path, outs)
	}
}

// requireSameBits fails the test at the first element where got and want
// differ in their bits, saying what the two are.
func requireSameBits(t *testing.T, got, want []float32, format string, args ...any) {
	t.Helper()
	require.Len(t, got, len(want))
	for e := range got {
		if math.Float32bits(got[e]) != math.Float32bits(want[e]) {
			t.Fatalf("%s: element %d is %v, %v", fmt.Sprintf(format, args...), e, got[e], want[e])
		}
	}
}

// checkBitsFile writes outs to path when no file is there, else requires
// every output to have the bits the file holds.
func checkBitsFile(t *testing.T, path string, outs map[string][]float32) {
	t.Helper()
	names := slices.Sorted(maps.Keys(outs))
	old, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		var buf bytes.Buffer
		for _, k := range names {
			fmt.Fprintf(&buf, "%s %d\n", k, len(outs[k]))
			require.NoError(t, binary.Write(&buf, binary.LittleEndian, outs[k]))
		}
		require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
		t.Logf("recorded the bits of %d outputs in %s", len(names), path)
		return
	}
	require.NoError(t, err)
	r := bytes.NewReader(old)
	for _, k := range names {
		var name string
		var n int
		_, err := fmt.Fscanf(r, "%s %d\n", &name, &n)
		require.NoError(t, err, "%s: reading the record of %s", path, k)
		require.Equal(t, k, name, "%s records other outputs", path)
		x := make([]float32, n)
		require.NoError(t, binary.Read(r, binary.LittleEndian, x))
		require.Len(t, outs[k], n, "%s: output size", k)
		for e := range x {
			if math.Float32bits(x[e]) != math.Float32bits(outs[k][e]) {
				t.Fatalf("%s: element %d is %v, recorded %v", k, e, outs[k][e], x[e])
			}
		}
	}
	require.Zero(t, r.Len(), "%s records more outputs", path)
	t.Logf("all %d outputs have the bits recorded in %s", len(names), path)
}
