package cpu

import (
	"math"
	"testing"

	"github.com/goarpo/arpo/backend"
	"github.com/stretchr/testify/require"
)

// headCase is one fused-head problem with its float64 reference.
type headCase struct {
	rows, vocab, hidden int
	h, w                []float32
	targets             []int32
	dlogp, dent         []float32
}

func newHeadCase(seed uint64, rows, vocab, hidden int, withEnt bool) headCase {
	rng := newRNG(seed)
	c := headCase{rows: rows, vocab: vocab, hidden: hidden,
		h: randVec(rng, rows*hidden, 1), w: randVec(rng, vocab*hidden, 3/float32(math.Sqrt(float64(hidden))))}
	c.targets = make([]int32, rows)
	c.dlogp = randVec(rng, rows, 1)
	for r := range c.targets {
		c.targets[r] = int32(rng.IntN(vocab))
	}
	c.targets[0] = -1 // no label: its dlogp must be ignored
	if rows > 2 {
		c.dlogp[2] = 0 // no gradient: the row is skipped
	}
	if withEnt {
		c.dent = randVec(rng, rows, 1)
		if rows > 2 {
			c.dent[2] = 0
		}
	}
	return c
}

// reference returns logp, entropy, dh and dw (the gradient alone) in
// float64 from the full logits matrix.
func (c headCase) reference() (logp, ent, dh, dw []float64) {
	R, V, C := c.rows, c.vocab, c.hidden
	x := make([]float64, R*V)
	for r := 0; r < R; r++ {
		for v := 0; v < V; v++ {
			var s float64
			for k := 0; k < C; k++ {
				s += float64(c.h[r*C+k]) * float64(c.w[v*C+k])
			}
			x[r*V+v] = s
		}
	}
	logp, ent = logProbsRef(x, c.targets, R, V)
	dh, dw = make([]float64, R*C), make([]float64, V*C)
	for r := 0; r < R; r++ {
		row := x[r*V : (r+1)*V]
		lse := row[0]
		for _, v := range row {
			lse = max(lse, v)
		}
		var s float64
		for _, v := range row {
			s += math.Exp(v - lse)
		}
		lse += math.Log(s)
		a := float64(c.dlogp[r])
		if c.targets[r] < 0 {
			a = 0
		}
		var b float64
		if c.dent != nil {
			b = float64(c.dent[r])
		}
		for v, xv := range row {
			lp := xv - lse
			p := math.Exp(lp)
			d := -a*p - b*p*(lp+ent[r])
			if int32(v) == c.targets[r] {
				d += a
			}
			for k := 0; k < C; k++ {
				dh[r*C+k] += d * float64(c.w[v*C+k])
				dw[v*C+k] += d * float64(c.h[r*C+k])
			}
		}
	}
	return logp, ent, dh, dw
}

// run runs the fused head forward and backward on c with dw starting from
// dw0, and returns logp, ent, dh and dw.
func (c headCase) run(b *CPU, dw0 []float32) (logp, ent, dh, dw []float32) {
	R := c.rows
	lp, en, lse := buf(make([]float32, R)), buf(make([]float32, R)), buf(make([]float32, R))
	h, w := buf(c.h), buf(c.w)
	b.HeadLogProbs(lp, en, lse, h, w, c.targets, R, c.vocab, c.hidden)
	dhv, dwv := buf(make([]float32, R*c.hidden)), buf(dw0)
	dent := backend.View{}
	if c.dent != nil {
		dent = buf(c.dent)
	}
	b.HeadLogProbsBackward(dhv, dwv, h, w, lse, en, buf(c.dlogp), dent, c.targets, R, c.vocab, c.hidden)
	return data(lp), data(en), data(dhv), data(dwv)
}

func TestHeadLogProbsMatchesReference(t *testing.T) {
	// Shapes cross the tile edges: rows past a row block, a vocabulary
	// that is not a multiple of the block, a hidden size that is not a
	// multiple of the kernel's tile, one block and many groups.
	for _, sh := range [][3]int{{1, 7, 3}, {5, 300, 16}, {130, 1000, 40}, {17, 2400, 64}} {
		for _, withEnt := range []bool{false, true} {
			c := newHeadCase(uint64(sh[0]*7+sh[1]), sh[0], sh[1], sh[2], withEnt)
			wantLP, wantEnt, wantDH, wantDW := c.reference()
			dw0 := randVec(newRNG(3), c.vocab*c.hidden, 1)
			lp, ent, dh, dw := c.run(New(3), dw0)
			requireClose(t, wantLP, lp, 2e-6, "logp")
			requireClose(t, wantEnt, ent, 2e-6, "entropy")
			requireClose(t, wantDH, dh, 2e-6, "dh")
			for i := range dw {
				dw[i] -= dw0[i] // the op accumulates
			}
			requireClose(t, wantDW, dw, 2e-6, "dw")
			// The row without a gradient gets an exact zero dh.
			if c.rows > 2 {
				for _, v := range dh[2*c.hidden : 3*c.hidden] {
					require.Zero(t, v)
				}
			}
		}
	}
}

// TestHeadLogProbsMatchesUnfused compares the fused head with the ops it
// replaces (Gemm, LogProbs, LogProbsBackward, Gemm) at a size with many
// groups and row blocks.
func TestHeadLogProbsMatchesUnfused(t *testing.T) {
	c := newHeadCase(5, 300, 5000, 64, true)
	b := New(2)
	R, V, C := c.rows, c.vocab, c.hidden
	lg := buf(make([]float32, R*V))
	b.Gemm(false, true, R, V, C, 1, buf(c.h), C, buf(c.w), C, 0, lg, V)
	lp, en := buf(make([]float32, R)), buf(make([]float32, R))
	b.LogProbs(lp, en, lg, c.targets, R, V)
	dlg := buf(make([]float32, R*V))
	b.LogProbsBackward(dlg, lg, buf(c.dlogp), buf(c.dent), c.targets, R, V)
	dh, dw := buf(make([]float32, R*C)), buf(make([]float32, V*C))
	b.Gemm(false, false, R, C, V, 1, dlg, V, buf(c.w), C, 0, dh, C)
	b.Gemm(true, false, V, C, R, 1, dlg, V, buf(c.h), C, 0, dw, C)

	flp, fent, fdh, fdw := c.run(b, make([]float32, V*C))
	requireClose(t, to64(data(lp)), flp, 1e-5, "logp")
	requireClose(t, to64(data(en)), fent, 1e-5, "entropy")
	requireClose(t, to64(data(dh)), fdh, 1e-5, "dh")
	requireClose(t, to64(data(dw)), fdw, 1e-5, "dw")
}

func TestHeadLogProbsThreadInvariant(t *testing.T) {
	c := newHeadCase(9, 250, 3000, 48, true)
	dw0 := randVec(newRNG(4), c.vocab*c.hidden, 1)
	lp1, ent1, dh1, dw1 := c.run(New(1), dw0)
	for _, threads := range []int{2, 3, 8} {
		lp, ent, dh, dw := c.run(New(threads), dw0)
		require.Equal(t, lp1, lp, "logp, %d threads", threads)
		require.Equal(t, ent1, ent, "entropy, %d threads", threads)
		require.Equal(t, dh1, dh, "dh, %d threads", threads)
		require.Equal(t, dw1, dw, "dw, %d threads", threads)
	}
}

// BenchmarkHead times the fused head's forward and backward on the tiny
// Qwen-vocabulary model's shape (hidden 64, 151,936 tokens); GFLOP/s
// counts 2*rows*vocab*hidden per GEMM (one forward, three backward).
func BenchmarkHead(b *testing.B) {
	const rows, vocab, hidden = 512, 151936, 64
	c := newHeadCase(1, rows, vocab, hidden, false)
	cpu := New(1)
	lp, en, lse := buf(make([]float32, rows)), buf(make([]float32, rows)), buf(make([]float32, rows))
	h, w := buf(c.h), buf(c.w)
	dh, dw, dl := buf(make([]float32, rows*hidden)), buf(make([]float32, vocab*hidden)), buf(c.dlogp)
	flop := 2 * float64(rows) * vocab * hidden
	b.Run("forward", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			cpu.HeadLogProbs(lp, en, lse, h, w, c.targets, rows, vocab, hidden)
		}
		b.ReportMetric(flop*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
	b.Run("backward", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			cpu.HeadLogProbsBackward(dh, dw, h, w, lse, en, dl, backend.View{}, c.targets, rows, vocab, hidden)
		}
		b.ReportMetric(3*flop*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
}

// TestHeadLogProbsFullVocabulary: at Qwen's 151,936 tokens with
// near-uniform logits (a freshly initialised model), where the entropy
// gradient p*(log p + H) is a small difference of large terms, the fused
// head's gradient stays within 5e-6 of float64 (the chunked float32 path
// measured 1.3e-5 here).
func TestHeadLogProbsFullVocabulary(t *testing.T) {
	if testing.Short() {
		t.Skip("a float64 reference over 151,936 tokens")
	}
	c := newHeadCase(5, 4, 151936, 32, true)
	for i := range c.w {
		c.w[i] *= 0.05
	}
	wantLP, wantEnt, wantDH, _ := c.reference()
	lp, ent, dh, _ := c.run(New(2), make([]float32, c.vocab*c.hidden))
	requireClose(t, wantLP, lp, 1e-6, "logp")
	requireClose(t, wantEnt, ent, 1e-6, "entropy")
	requireClose(t, wantDH, dh, 5e-6, "dh")
}

// TestHeadLogProbsBackwardWithoutDW: a dw without a buffer (a frozen LM
// head, as under LoRA) skips the weight gradient and leaves dh bit for bit
// what it is with one.
func TestHeadLogProbsBackwardWithoutDW(t *testing.T) {
	for _, sh := range [][3]int{{5, 300, 16}, {130, 1000, 40}} {
		c := newHeadCase(uint64(sh[0]), sh[0], sh[1], sh[2], true)
		b := New(2)
		_, _, want, _ := c.run(b, make([]float32, c.vocab*c.hidden))
		R := c.rows
		lp, en, lse := buf(make([]float32, R)), buf(make([]float32, R)), buf(make([]float32, R))
		h, w := buf(c.h), buf(c.w)
		b.HeadLogProbs(lp, en, lse, h, w, c.targets, R, c.vocab, c.hidden)
		dh := buf(make([]float32, R*c.hidden))
		b.HeadLogProbsBackward(dh, backend.View{}, h, w, lse, en, buf(c.dlogp), buf(c.dent), c.targets, R, c.vocab, c.hidden)
		require.Equal(t, want, data(dh))
	}
}
