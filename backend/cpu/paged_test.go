package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/goarpo/arpo/backend"
	"github.com/stretchr/testify/require"
)

// refCausal is float64 attention of query rows [from, to) of one sequence
// against its keys [0, row] (rows of width heads*D and kvHeads*D).
func refCausal(q, k, v []float32, from, to, heads, kvHeads, D int, scale float64) []float64 {
	qw, kw := heads*D, kvHeads*D
	out := make([]float64, (to-from)*qw)
	for i := from; i < to; i++ {
		for h := 0; h < heads; h++ {
			kvh := h / (heads / kvHeads)
			s := make([]float64, i+1)
			m := math.Inf(-1)
			for p := 0; p <= i; p++ {
				var d float64
				for j := 0; j < D; j++ {
					d += float64(q[i*qw+h*D+j]) * float64(k[p*kw+kvh*D+j])
				}
				s[p] = d * scale
				m = math.Max(m, s[p])
			}
			var z float64
			for p := range s {
				s[p] = math.Exp(s[p] - m)
				z += s[p]
			}
			for p := range s {
				for j := 0; j < D; j++ {
					out[(i-from)*qw+h*D+j] += s[p] / z * float64(v[p*kw+kvh*D+j])
				}
			}
		}
	}
	return out
}

func TestPagedAttentionMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	const heads, kvHeads, D, bs = 4, 2, 8, 4
	qw, kw := heads*D, kvHeads*D
	lens := []int{1, 5, 9, 16}
	nBlocks := 0
	for _, n := range lens {
		nBlocks += (n + bs - 1) / bs
	}
	// Blocks handed out in a shuffled order, as after forks and frees.
	perm := r.Perm(nBlocks + 3)
	for _, threads := range []int{1, 3} {
		c := New(threads)
		kc, vc := c.Alloc((nBlocks+3)*bs*kw), c.Alloc((nBlocks+3)*bs*kw)
		var seqs []backend.PagedSeq
		var qAll []float32
		var want []float64
		next := 0
		for _, n := range lens {
			q, k, v := pagedRandn(r, n*qw), pagedRandn(r, n*kw), pagedRandn(r, n*kw)
			blocks := make([]int32, (n+bs-1)/bs)
			for b := range blocks {
				blocks[b] = int32(perm[next])
				next++
			}
			slots := make([]int32, n)
			for p := range slots {
				slots[p] = blocks[p/bs]*bs + int32(p%bs)
			}
			kb, vb := c.Alloc(n*kw), c.Alloc(n*kw)
			c.Write(backend.Whole(kb), k)
			c.Write(backend.Whole(vb), v)
			c.ScatterRows(backend.Whole(kc), backend.Whole(kb), slots, kw)
			c.ScatterRows(backend.Whole(vc), backend.Whole(vb), slots, kw)
			// Query the last min(n, 3) positions: a prefill tail (or a decode step).
			from := max(0, n-3)
			seqs = append(seqs, backend.PagedSeq{Row: len(qAll) / qw, N: n - from, Pos: from, Blocks: blocks})
			qAll = append(qAll, q[from*qw:]...)
			want = append(want, refCausal(q, k, v, from, n, heads, kvHeads, D, 1/math.Sqrt(D))...)
		}
		qb, ob := c.Alloc(len(qAll)), c.Alloc(len(qAll))
		c.Write(backend.Whole(qb), qAll)
		c.PagedAttention(backend.Whole(ob), backend.Whole(qb), backend.Whole(kc), backend.Whole(vc), seqs, bs, heads, kvHeads, D, float32(1/math.Sqrt(D)))
		got := make([]float32, len(qAll))
		require.NoError(t, c.Read(got, backend.Whole(ob)))
		for i := range got {
			require.InDelta(t, want[i], float64(got[i]), 2e-5, "threads=%d i=%d", threads, i)
		}
	}
}

func pagedRandn(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}
