package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/goarpo/arpo/asm"
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

// pagedCase is a paged KV cache holding some sequences (all positions filled)
// for PagedAttention calls that query the last rows of each.
type pagedCase struct {
	c                     *CPU
	kc, vc                backend.Buffer
	heads, kvHeads, D, bs int
	blocks                [][]int32
	q                     [][]float32 // per sequence, (n, heads*D)
	k, v                  [][]float32 // per sequence, (n, kvHeads*D)
}

// newPagedCase fills the cache; contiguous gives each sequence consecutive
// blocks, otherwise blocks come in a shuffled order, as after forks.
func newPagedCase(threads int, lens []int, heads, kvHeads, D, bs int, contiguous bool, seed uint64) *pagedCase {
	r := rand.New(rand.NewPCG(seed, 1))
	qw, kw := heads*D, kvHeads*D
	nBlocks := 0
	for _, n := range lens {
		nBlocks += (n + bs - 1) / bs
	}
	perm := r.Perm(nBlocks + 2)
	if contiguous {
		for i := range perm {
			perm[i] = i
		}
	}
	c := New(threads)
	pc := &pagedCase{c: c, heads: heads, kvHeads: kvHeads, D: D, bs: bs,
		kc: c.Alloc((nBlocks + 2) * bs * kw), vc: c.Alloc((nBlocks + 2) * bs * kw)}
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
			slots[p] = blocks[p/bs]*int32(bs) + int32(p%bs)
		}
		kb, vb := c.Alloc(n*kw), c.Alloc(n*kw)
		c.Write(backend.Whole(kb), k)
		c.Write(backend.Whole(vb), v)
		c.ScatterRows(backend.Whole(pc.kc), backend.Whole(kb), slots, kw)
		c.ScatterRows(backend.Whole(pc.vc), backend.Whole(vb), slots, kw)
		pc.blocks = append(pc.blocks, blocks)
		pc.q, pc.k, pc.v = append(pc.q, q), append(pc.k, k), append(pc.v, v)
	}
	return pc
}

// run queries the last tails[i] rows of each sequence named in which, in
// that order, and returns the output rows per sequence.
func (pc *pagedCase) run(t *testing.T, which, tails []int) [][]float32 {
	qw := pc.heads * pc.D
	var seqs []backend.PagedSeq
	var qAll []float32
	for i, s := range which {
		n := len(pc.q[s]) / qw
		from := n - tails[i]
		seqs = append(seqs, backend.PagedSeq{Row: len(qAll) / qw, N: tails[i], Pos: from, Blocks: pc.blocks[s]})
		qAll = append(qAll, pc.q[s][from*qw:]...)
	}
	qb, ob := pc.c.Alloc(len(qAll)), pc.c.Alloc(len(qAll))
	pc.c.Write(backend.Whole(qb), qAll)
	pc.c.PagedAttention(backend.Whole(ob), backend.Whole(qb), backend.Whole(pc.kc), backend.Whole(pc.vc), seqs, pc.bs, pc.heads, pc.kvHeads, pc.D, float32(1/math.Sqrt(float64(pc.D))))
	got := make([]float32, len(qAll))
	require.NoError(t, pc.c.Read(got, backend.Whole(ob)))
	outs := make([][]float32, len(which))
	for i := range which {
		outs[i] = got[seqs[i].Row*qw : (seqs[i].Row+seqs[i].N)*qw]
	}
	return outs
}

func TestPagedAttentionWideHeadsMatchReference(t *testing.T) {
	// Head dim 40 (a masked tail in the kernels), block size 16, contexts
	// across several blocks, grouped-query attention with 3 heads per group.
	const heads, kvHeads, D, bs = 6, 2, 40, 16
	lens := []int{1, 15, 16, 17, 70}
	pc := newPagedCase(2, lens, heads, kvHeads, D, bs, false, 11)
	which, tails := []int{0, 1, 2, 3, 4}, []int{1, 2, 1, 4, 5}
	outs := pc.run(t, which, tails)
	for i, s := range which {
		n := lens[s]
		want := refCausal(pc.q[s], pc.k[s], pc.v[s], n-tails[i], n, heads, kvHeads, D, 1/math.Sqrt(D))
		for j := range want {
			require.InDelta(t, want[j], float64(outs[i][j]), 2e-5, "seq %d element %d", s, j)
		}
	}
}

func TestPagedAttentionRowIndependentBitwise(t *testing.T) {
	const heads, kvHeads, D, bs = 4, 2, 32, 16
	lens := []int{40, 3, 77, 16, 33}
	shuffled := newPagedCase(1, lens, heads, kvHeads, D, bs, false, 5)
	alone := shuffled.run(t, []int{2}, []int{1})[0]
	// In a batch, at another row, with other sequences before and after.
	batch := shuffled.run(t, []int{0, 1, 2, 3, 4}, []int{1, 1, 1, 1, 1})
	require.Equal(t, alone, batch[2])
	// With more threads.
	shuffled.c = New(3)
	require.Equal(t, alone, shuffled.run(t, []int{4, 2, 0}, []int{1, 1, 1})[1])
	// Prefill-style: the last row of a multi-row query equals the decode row.
	tail := shuffled.run(t, []int{2}, []int{5})[0]
	require.Equal(t, alone, tail[4*heads*D:])
	// With the blocks consecutive in the cache (longer DotRows runs).
	contiguous := newPagedCase(1, lens, heads, kvHeads, D, bs, true, 5)
	require.Equal(t, alone, contiguous.run(t, []int{2}, []int{1})[0])
}

// BenchmarkPagedAttentionDecode: one decode step's attention for 16
// sequences of 2,048 cached positions each, over a float32 and a bf16
// cache, at the attention shapes of qwen2.5-0.5b and Llama 3 8B. The
// cache is far larger than the CPU's caches, so the step streams it from
// memory; GB/s counts the cache bytes read.
func BenchmarkPagedAttentionDecode(b *testing.B) {
	const batch, ctx, blockSize = 16, 2048, 16
	for _, sh := range []struct {
		name               string
		heads, kvHeads, hd int
	}{{"qwen2.5-0.5b", 14, 2, 64}, {"llama3-8b", 32, 8, 128}} {
		kw, qw := sh.kvHeads*sh.hd, sh.heads*sh.hd
		rng := newRNG(15)
		n := batch * ctx * kw
		kf, vf := randVec(rng, n, 1), randVec(rng, n, 1)
		k16, v16 := make([]uint16, n), make([]uint16, n)
		asm.F32ToBF16(k16, kf)
		asm.F32ToBF16(v16, vf)
		seqs := make([]backend.PagedSeq, batch)
		perSeq := ctx / blockSize
		for i := range seqs {
			seqs[i] = backend.PagedSeq{Row: i, N: 1, Pos: ctx - 1, Blocks: make([]int32, perSeq)}
			for j := range perSeq {
				seqs[i].Blocks[j] = int32(j*batch + i) // interleaved, as sequences grown together are
			}
		}
		q, out := buf(randVec(rng, batch*qw, 1)), buf(make([]float32, batch*qw))
		for _, threads := range []int{1, 2} {
			c := New(threads)
			for _, prec := range []string{"f32", "bf16"} {
				b.Run(fmt.Sprintf("%s/%s/threads=%d", sh.name, prec, threads), func(b *testing.B) {
					kc, vc, bytes := buf(kf), buf(vf), 4*2*n
					run := c.PagedAttention
					if prec == "bf16" {
						kc, vc, bytes = backend.Whole(&BF16Buffer{data: k16}), backend.Whole(&BF16Buffer{data: v16}), 2*2*n
						run = c.PagedAttentionBF16
					}
					for b.Loop() {
						run(out, q, kc, vc, seqs, blockSize, sh.heads, sh.kvHeads, sh.hd, 0.125)
					}
					b.ReportMetric(float64(bytes)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
					b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/step")
				})
			}
		}
	}
}
