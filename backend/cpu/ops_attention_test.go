package cpu

import (
	"math"
	"testing"

	"github.com/goarpo/arpo/backend"
	"github.com/stretchr/testify/require"
)

// attentionRef is causal packed GQA attention in float64: q is (T, heads*hd),
// k and v are (T, kvHeads*hd); it returns out (T, heads*hd) and lse (T, heads).
func attentionRef(q, k, v []float64, seqs []backend.Seq, heads, kvHeads, hd int, scale float64) (out, lse []float64) {
	T := 0
	for _, s := range seqs {
		T += s.Len
	}
	out, lse = make([]float64, T*heads*hd), make([]float64, T*heads)
	qs, ks := heads*hd, kvHeads*hd
	for _, s := range seqs {
		for h := 0; h < heads; h++ {
			g := h / (heads / kvHeads)
			for i := s.Start; i < s.Start+s.Len; i++ {
				sc := make([]float64, i-s.Start+1)
				m := math.Inf(-1)
				for j := s.Start; j <= i; j++ {
					var d float64
					for e := 0; e < hd; e++ {
						d += q[i*qs+h*hd+e] * k[j*ks+g*hd+e]
					}
					sc[j-s.Start] = d * scale
					m = max(m, d*scale)
				}
				var l float64
				for j := range sc {
					sc[j] = math.Exp(sc[j] - m)
					l += sc[j]
				}
				for j := s.Start; j <= i; j++ {
					for e := 0; e < hd; e++ {
						out[i*qs+h*hd+e] += sc[j-s.Start] / l * v[j*ks+g*hd+e]
					}
				}
				lse[i*heads+h] = m + math.Log(l)
			}
		}
	}
	return out, lse
}

var attnCases = []struct {
	name           string
	seqs           []backend.Seq
	heads, kvHeads int
	hd             int
}{
	{"gqa", packSeqs(5, 1, 7), 4, 2, 8},
	{"mha", packSeqs(3, 0, 6), 2, 2, 8},
	{"mqa", packSeqs(9), 3, 1, 4},
}

// packSeqs returns sequences of the given lengths packed back to back.
func packSeqs(lens ...int) []backend.Seq {
	var ss []backend.Seq
	start := 0
	for _, n := range lens {
		ss = append(ss, backend.Seq{Start: start, Len: n})
		start += n
	}
	return ss
}

func TestAttention(t *testing.T) {
	c := New(3)
	rng := newRNG(9)
	for _, tc := range attnCases {
		T := 0
		for _, s := range tc.seqs {
			T += s.Len
		}
		scale := 1 / math.Sqrt(float64(tc.hd))
		qn, kn := T*tc.heads*tc.hd, T*tc.kvHeads*tc.hd
		q, k, v := randVec(rng, qn, 2), randVec(rng, kn, 2), randVec(rng, kn, 1)
		out, lse := buf(make([]float32, qn)), buf(make([]float32, T*tc.heads))
		c.Attention(out, lse, buf(q), buf(k), buf(v), tc.seqs, tc.heads, tc.kvHeads, tc.hd, float32(scale))
		wantOut, wantLSE := attentionRef(to64(q), to64(k), to64(v), tc.seqs, tc.heads, tc.kvHeads, tc.hd, scale)
		requireClose(t, wantOut, data(out), 2e-6, tc.name+" out")
		requireClose(t, wantLSE, data(lse), 2e-6, tc.name+" lse")

		// Backward against central differences of the float64 reference
		// for the loss sum(dout*out).
		dout := randVec(rng, qn, 1)
		q64, k64, v64 := to64(q), to64(k), to64(v)
		loss := func() float64 {
			o, _ := attentionRef(q64, k64, v64, tc.seqs, tc.heads, tc.kvHeads, tc.hd, scale)
			return dot64(o, dout)
		}
		wantDQ, wantDK, wantDV := numGrad(q64, loss), numGrad(k64, loss), numGrad(v64, loss)
		// Outputs start as NaN: the op must overwrite, not accumulate.
		nan := func(n int) backend.View {
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(math.NaN())
			}
			return buf(x)
		}
		dq, dk, dv := nan(qn), nan(kn), nan(kn)
		c.AttentionBackward(dq, dk, dv, buf(dout), buf(q), buf(k), buf(v), out, lse,
			tc.seqs, tc.heads, tc.kvHeads, tc.hd, float32(scale))
		requireClose(t, wantDQ, data(dq), 1e-5, tc.name+" dq")
		requireClose(t, wantDK, data(dk), 1e-5, tc.name+" dk")
		requireClose(t, wantDV, data(dv), 1e-5, tc.name+" dv")
	}
}

// attentionBackwardRef is the analytic backward of attentionRef in float64,
// for shapes too large for finite differences.
func attentionBackwardRef(dout, q, k, v []float64, seqs []backend.Seq, heads, kvHeads, hd int, scale float64) (dq, dk, dv []float64) {
	out, lse := attentionRef(q, k, v, seqs, heads, kvHeads, hd, scale)
	dq, dk, dv = make([]float64, len(q)), make([]float64, len(k)), make([]float64, len(v))
	qs, ks := heads*hd, kvHeads*hd
	for _, s := range seqs {
		for h := 0; h < heads; h++ {
			g := h / (heads / kvHeads)
			for i := s.Start; i < s.Start+s.Len; i++ {
				qi, doi := q[i*qs+h*hd:i*qs+(h+1)*hd], dout[i*qs+h*hd:i*qs+(h+1)*hd]
				var D float64
				for e := range doi {
					D += doi[e] * out[i*qs+h*hd+e]
				}
				for j := s.Start; j <= i; j++ {
					kj, vj := k[j*ks+g*hd:j*ks+(g+1)*hd], v[j*ks+g*hd:j*ks+(g+1)*hd]
					var qk, dp float64
					for e := range qi {
						qk += qi[e] * kj[e]
						dp += doi[e] * vj[e]
					}
					p := math.Exp(qk*scale - lse[i*heads+h])
					ds := p * (dp - D) * scale
					for e := range qi {
						dq[i*qs+h*hd+e] += ds * kj[e]
						dk[j*ks+g*hd+e] += ds * qi[e]
						dv[j*ks+g*hd+e] += p * doi[e]
					}
				}
			}
		}
	}
	return dq, dk, dv
}

// Sizes that take the blocked GEMM path: several query blocks per sequence.
func TestAttentionLarge(t *testing.T) {
	c := New(2)
	rng := newRNG(16)
	const heads, kvHeads, hd = 4, 2, 64
	seqs := packSeqs(70, 150, 1)
	T := 221
	scale := 0.125
	qn, kn := T*heads*hd, T*kvHeads*hd
	q, k, v, d := randVec(rng, qn, 2), randVec(rng, kn, 2), randVec(rng, kn, 1), randVec(rng, qn, 1)
	out, lse := buf(make([]float32, qn)), buf(make([]float32, T*heads))
	c.Attention(out, lse, buf(q), buf(k), buf(v), seqs, heads, kvHeads, hd, float32(scale))
	wantOut, wantLSE := attentionRef(to64(q), to64(k), to64(v), seqs, heads, kvHeads, hd, scale)
	requireClose(t, wantOut, data(out), 1e-5, "out")
	requireClose(t, wantLSE, data(lse), 1e-5, "lse")

	dq, dk, dv := buf(make([]float32, qn)), buf(make([]float32, kn)), buf(make([]float32, kn))
	c.AttentionBackward(dq, dk, dv, buf(d), buf(q), buf(k), buf(v), out, lse, seqs, heads, kvHeads, hd, float32(scale))
	wantDQ, wantDK, wantDV := attentionBackwardRef(to64(d), to64(q), to64(k), to64(v), seqs, heads, kvHeads, hd, scale)
	requireClose(t, wantDQ, data(dq), 1e-5, "dq")
	requireClose(t, wantDK, data(dk), 1e-5, "dk")
	requireClose(t, wantDV, data(dv), 1e-5, "dv")
}

func TestAttentionBadShapes(t *testing.T) {
	c := New(1)
	x := buf(make([]float32, 64))
	require.Panics(t, func() { c.Attention(x, x, x, x, x, packSeqs(2), 3, 2, 4, 1) })
	require.Panics(t, func() { c.Attention(x, x, x, x, x, []backend.Seq{{Start: 1, Len: 2}}, 2, 2, 4, 1) })
}

// BenchmarkAttention times forward and backward on one packed batch shaped
// like Qwen2.5-0.5B's attention (14 heads, 2 kv heads, head dim 64) over
// four 256-token sequences.
func BenchmarkAttention(b *testing.B) {
	c := New(0)
	rng := newRNG(14)
	const heads, kvHeads, hd = 14, 2, 64
	seqs := packSeqs(256, 256, 256, 256)
	T := 1024
	qn, kn := T*heads*hd, T*kvHeads*hd
	q, k, v, d := buf(randVec(rng, qn, 1)), buf(randVec(rng, kn, 1)), buf(randVec(rng, kn, 1)), buf(randVec(rng, qn, 1))
	out, lse := buf(make([]float32, qn)), buf(make([]float32, T*heads))
	dq, dk, dv := buf(make([]float32, qn)), buf(make([]float32, kn)), buf(make([]float32, kn))
	// Causal: each (query, key) pair costs 2*hd flops per matmul-like step.
	pairs := float64(4*256*257/2) * heads
	b.Run("forward", func(b *testing.B) {
		for b.Loop() {
			c.Attention(out, lse, q, k, v, seqs, heads, kvHeads, hd, 0.125)
		}
		b.ReportMetric(pairs*4*hd*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
	c.Attention(out, lse, q, k, v, seqs, heads, kvHeads, hd, 0.125)
	b.Run("backward", func(b *testing.B) {
		for b.Loop() {
			c.AttentionBackward(dq, dk, dv, d, q, k, v, out, lse, seqs, heads, kvHeads, hd, 0.125)
		}
		b.ReportMetric(pairs*10*hd*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
}
