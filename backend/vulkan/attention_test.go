//go:build vulkan && cgo

package vulkan

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/goarpo/arpo/backend"
	"github.com/goarpo/arpo/backend/backendtest"
	"github.com/goarpo/arpo/backend/cpu"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// attnCases cover every head-dimension class of the flash kernels (HD 64,
// 128, 256, with head dims that are not multiples of 64), grouped-query
// heads, and packs whose sequences start and end inside a block of rows.
var attnCases = []struct {
	seqs               []backend.Seq
	heads, kvHeads, hd int
}{
	{[]backend.Seq{{Start: 0, Len: 1}}, 1, 1, 1},
	{[]backend.Seq{{Start: 0, Len: 5}, {Start: 5, Len: 20}, {Start: 25, Len: 0}, {Start: 25, Len: 16}}, 4, 2, 24},
	{[]backend.Seq{{Start: 0, Len: 33}, {Start: 33, Len: 7}}, 2, 1, 96},
	{[]backend.Seq{{Start: 0, Len: 19}, {Start: 19, Len: 18}}, 2, 2, 200},
	{[]backend.Seq{{Start: 0, Len: 17}}, 3, 1, 256},
}

// TestFlashAttentionAgainstCPU runs flash_attention.comp (and the per-row
// kernel, kept for devices with little shared memory) on every head-dimension class (HD 64, 128,
// 256, with head dims that are not multiples of 64), grouped-query heads,
// and packs whose sequences start and end inside a block of query rows;
// out and lse are compared with the CPU backend.
func TestFlashAttentionAgainstCPU(t *testing.T) {
	b := open(t)
	ref := cpu.New(1)
	defer func() { b.perRowAttention = false }()
	for i, c := range attnCases {
		T := c.seqs[len(c.seqs)-1].Start + c.seqs[len(c.seqs)-1].Len
		qn, kn, ln := T*c.heads*c.hd, T*c.kvHeads*c.hd, T*c.heads
		rng := rand.New(rand.NewPCG(uint64(i), 9))
		q, k, v := randSlice(rng, qn), randSlice(rng, kn), randSlice(rng, kn)
		for j := range q {
			q[j] *= 3 // sharper softmax
		}
		scale := float32(1 / math.Sqrt(float64(c.hd)))
		run := func(be backend.Backend) ([]float32, []float32) {
			ov, lv := be.Alloc(qn), be.Alloc(ln)
			qv, kv, vv := be.Alloc(qn), be.Alloc(kn), be.Alloc(kn)
			be.Write(backend.Whole(qv), q)
			be.Write(backend.Whole(kv), k)
			be.Write(backend.Whole(vv), v)
			be.Attention(backend.Whole(ov), backend.Whole(lv), backend.Whole(qv), backend.Whole(kv), backend.Whole(vv), c.seqs, c.heads, c.kvHeads, c.hd, scale)
			o, l := read(t, be, backend.Whole(ov), qn), read(t, be, backend.Whole(lv), ln)
			for _, x := range []backend.Buffer{ov, lv, qv, kv, vv} {
				be.Free(x)
			}
			return o, l
		}
		wantO, wantL := run(ref)
		for _, perRow := range []bool{false, true} {
			b.perRowAttention = perRow
			if _, _, ok := b.flashShape(c.hd); !perRow && !ok {
				t.Fatalf("flash attention unavailable for head dim %d", c.hd)
			}
			name := fmt.Sprintf("case %d per-row=%v", i, perRow)
			o, l := run(b)
			require.NoError(t, backendtest.Compare(o, wantO, 1e-4), name)
			require.NoError(t, backendtest.Compare(l, wantL, 1e-4), name)
		}
	}
}

// TestFlashAttentionBackwardAgainstCPU runs flash_attention_dq/dkv (and
// the per-row kernels) on attnCases from the CPU forward's out and lse,
// and compares dq, dk, dv with the CPU backend.
func TestFlashAttentionBackwardAgainstCPU(t *testing.T) {
	b := open(t)
	ref := cpu.New(1)
	defer func() { b.perRowAttention = false }()
	for i, c := range attnCases {
		T := c.seqs[len(c.seqs)-1].Start + c.seqs[len(c.seqs)-1].Len
		qn, kn, ln := T*c.heads*c.hd, T*c.kvHeads*c.hd, T*c.heads
		rng := rand.New(rand.NewPCG(uint64(i), 11))
		q, k, v, dout := randSlice(rng, qn), randSlice(rng, kn), randSlice(rng, kn), randSlice(rng, qn)
		for j := range q {
			q[j] *= 3
		}
		scale := float32(1 / math.Sqrt(float64(c.hd)))
		up := func(be backend.Backend, x []float32) backend.View {
			buf := be.Alloc(len(x))
			be.Write(backend.Whole(buf), x)
			return backend.Whole(buf)
		}
		qc, kc, vc := up(ref, q), up(ref, k), up(ref, v)
		oc, lc := backend.Whole(ref.Alloc(qn)), backend.Whole(ref.Alloc(ln))
		ref.Attention(oc, lc, qc, kc, vc, c.seqs, c.heads, c.kvHeads, c.hd, scale)
		out, lse := read(t, ref, oc, qn), read(t, ref, lc, ln)
		run := func(be backend.Backend) [3][]float32 {
			dq, dk, dv := backend.Whole(be.Alloc(qn)), backend.Whole(be.Alloc(kn)), backend.Whole(be.Alloc(kn))
			be.AttentionBackward(dq, dk, dv, up(be, dout), up(be, q), up(be, k), up(be, v), up(be, out), up(be, lse), c.seqs, c.heads, c.kvHeads, c.hd, scale)
			return [3][]float32{read(t, be, dq, qn), read(t, be, dk, kn), read(t, be, dv, kn)}
		}
		want := run(ref)
		for _, perRow := range []bool{false, true} {
			b.perRowAttention = perRow
			if _, _, ok := b.flashBackwardShape(c.hd); !perRow && !ok {
				t.Fatalf("flash attention backward unavailable for head dim %d", c.hd)
			}
			got := run(b)
			for n, name := range []string{"dq", "dk", "dv"} {
				require.NoError(t, backendtest.Compare(got[n], want[n], 5e-4), "case %d per-row=%v %s", i, perRow, name)
			}
		}
	}
}

// TestPagedAttentionSplitAgainstCPU runs the conformance suite's paged
// attention case (rows with 1 to 51 keys over shuffled blocks) with the
// keys split into chunks of 16 (some chunks past a row's keys) and 64, and
// checks that a split gives the same bits twice.
func TestPagedAttentionSplitAgainstCPU(t *testing.T) {
	b := open(t)
	ref := cpu.New(1)
	defer func() { b.pagedChunkForced = 0 }()
	soft := b.software
	b.software = false
	chunk := b.pagedChunk(14, 1000) // decode: 14 heads, one row
	assert.Positive(t, chunk)
	assert.Zero(t, chunk%64)
	assert.LessOrEqual(t, ceilDiv(1000, chunk), pagedMaxSplits)
	assert.Zero(t, b.pagedChunk(16*14, 100), "short context")
	assert.Zero(t, b.pagedChunk(64*14, 4000), "enough rows")
	b.software = soft
	for _, c := range backendtest.Cases() {
		if c.Op != backend.OpPagedAttention {
			continue
		}
		want, err := c.Run(ref)
		require.NoError(t, err)
		for _, chunk := range []int{16, 64} {
			b.pagedChunkForced = chunk
			got, err := c.Run(b)
			require.NoError(t, err)
			again, err := c.Run(b)
			require.NoError(t, err)
			for name, w := range want {
				require.NoError(t, backendtest.Compare(got[name], w, c.Tol), "%s chunk %d output %s", c.Name, chunk, name)
				require.Equal(t, got[name], again[name], "%s chunk %d: same bits twice", c.Name, chunk)
			}
		}
	}
}
