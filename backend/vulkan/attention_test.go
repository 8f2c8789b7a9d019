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
	"github.com/stretchr/testify/require"
)

// TestFlashAttentionAgainstCPU runs flash_attention.comp (and the per-row
// kernel, kept for devices with little shared memory) on every head-dimension class (HD 64, 128,
// 256, with head dims that are not multiples of 64), grouped-query heads,
// and packs whose sequences start and end inside a block of query rows;
// out and lse are compared with the CPU backend.
func TestFlashAttentionAgainstCPU(t *testing.T) {
	b := open(t)
	ref := cpu.New(1)
	defer func() { b.perRowAttention = false }()
	cases := []struct {
		seqs               []backend.Seq
		heads, kvHeads, hd int
	}{
		{[]backend.Seq{{Start: 0, Len: 1}}, 1, 1, 1},
		{[]backend.Seq{{Start: 0, Len: 5}, {Start: 5, Len: 20}, {Start: 25, Len: 0}, {Start: 25, Len: 16}}, 4, 2, 24},
		{[]backend.Seq{{Start: 0, Len: 33}, {Start: 33, Len: 7}}, 2, 1, 96},
		{[]backend.Seq{{Start: 0, Len: 19}, {Start: 19, Len: 18}}, 2, 2, 200},
		{[]backend.Seq{{Start: 0, Len: 17}}, 3, 1, 256},
	}
	for i, c := range cases {
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
