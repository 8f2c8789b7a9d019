package backendtest

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/goarpo/arpo/backend"
	"github.com/goarpo/arpo/backend/cpu"
)

// pad is how far into its buffer every input and output view starts, so that
// a backend ignoring View.Off fails.
const pad = 3

// session tracks the buffers a case allocates on one backend.
type session struct {
	b    backend.Backend
	bufs []backend.Buffer
	rng  *rand.Rand
}

func newSession(b backend.Backend, seed uint64) *session {
	return &session{b: b, rng: rand.New(rand.NewPCG(seed, 0xc0ffee))}
}

// up uploads x into a new buffer and returns its view.
func (s *session) up(x []float32) backend.View {
	buf := s.b.Alloc(len(x) + 2*pad)
	s.bufs = append(s.bufs, buf)
	v := backend.Whole(buf).At(pad)
	s.b.Write(v, x)
	return v
}

// rand returns n values uniform in [-scale, scale).
func (s *session) rand(n int, scale float32) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = (2*s.rng.Float32() - 1) * scale
	}
	return x
}

// ids returns n values in [0, hi).
func (s *session) ids(n, hi int) []int32 {
	x := make([]int32, n)
	for i := range x {
		x[i] = int32(s.rng.IntN(hi))
	}
	return x
}

// read returns n elements of v.
func (s *session) read(v backend.View, n int) ([]float32, error) {
	x := make([]float32, n)
	if err := s.b.Read(x, v); err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	return x, nil
}

// outputs reads each named view of the given length.
func (s *session) outputs(names []string, views []backend.View, lens []int) (map[string][]float32, error) {
	out := map[string][]float32{}
	for i, name := range names {
		x, err := s.read(views[i], lens[i])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out[name] = x
	}
	return out, nil
}

func (s *session) free() {
	for _, b := range s.bufs {
		s.b.Free(b)
	}
}

// opCase builds a case whose body gets a fresh session.
func opCase(op backend.Op, name string, tol float64, seed uint64, body func(s *session) (map[string][]float32, error)) Case {
	return Case{Op: op, Name: name, Tol: tol, Run: func(b backend.Backend) (map[string][]float32, error) {
		s := newSession(b, seed)
		defer s.free()
		return body(s)
	}}
}

// one reads a single output.
func one(s *session, name string, v backend.View, n int) (map[string][]float32, error) {
	return s.outputs([]string{name}, []backend.View{v}, []int{n})
}

// Sizes chosen to be odd and to span several pieces of the CPU backend's
// parallel split.
const (
	vecN             = 3*16384 + 7
	rows, cols       = 301, 77
	wideCols         = 600
	attnHeads, attnK = 6, 2
)

// Cases returns the conformance table: at least one case per op of
// backend.AllOps.
func Cases() []Case {
	cs := []Case{
		opCase(backend.OpCopy, "copy", 1e-6, 1, func(s *session) (map[string][]float32, error) {
			dst := s.up(s.rand(vecN, 1))
			s.b.Copy(dst, s.up(s.rand(vecN, 1)), vecN)
			return one(s, "dst", dst, vecN)
		}),
		opCase(backend.OpFill, "fill", 1e-6, 2, func(s *session) (map[string][]float32, error) {
			dst := s.up(s.rand(vecN, 1))
			s.b.Fill(dst, -0.625, vecN)
			return one(s, "dst", dst, vecN)
		}),
		opCase(backend.OpAdd, "add", 1e-6, 3, func(s *session) (map[string][]float32, error) {
			a, b := s.up(s.rand(vecN, 1)), s.up(s.rand(vecN, 1))
			dst := s.up(make([]float32, vecN))
			s.b.Add(dst, a, b, vecN)
			s.b.Add(a, a, b, vecN) // dst aliasing a
			return s.outputs([]string{"dst", "a"}, []backend.View{dst, a}, []int{vecN, vecN})
		}),
		opCase(backend.OpMul, "mul", 1e-6, 4, func(s *session) (map[string][]float32, error) {
			a, b := s.up(s.rand(vecN, 2)), s.up(s.rand(vecN, 2))
			dst := s.up(make([]float32, vecN))
			s.b.Mul(dst, a, b, vecN)
			s.b.Mul(b, a, b, vecN) // dst aliasing b
			return s.outputs([]string{"dst", "b"}, []backend.View{dst, b}, []int{vecN, vecN})
		}),
		opCase(backend.OpScale, "scale", 1e-6, 5, func(s *session) (map[string][]float32, error) {
			x := s.up(s.rand(vecN, 3))
			s.b.Scale(x, -1.7, vecN)
			return one(s, "x", x, vecN)
		}),
		opCase(backend.OpAxpy, "axpy", 1e-6, 6, func(s *session) (map[string][]float32, error) {
			x, y := s.up(s.rand(vecN, 1)), s.up(s.rand(vecN, 1))
			s.b.Axpy(0.3, x, y, vecN)
			return one(s, "y", y, vecN)
		}),
		opCase(backend.OpAddBias, "add_bias", 1e-6, 7, func(s *session) (map[string][]float32, error) {
			x := s.up(s.rand(rows*cols, 1))
			s.b.AddBias(x, s.up(s.rand(cols, 1)), rows, cols)
			return one(s, "x", x, rows*cols)
		}),
		opCase(backend.OpSumRows, "sum_rows", 1e-5, 8, func(s *session) (map[string][]float32, error) {
			dst := s.up(s.rand(wideCols, 1)) // accumulates
			s.b.SumRows(dst, s.up(s.rand(rows*wideCols, 1)), rows, wideCols)
			return one(s, "dst", dst, wideCols)
		}),
		opCase(backend.OpSumSquares, "sum_squares", 1e-5, 9, func(s *session) (map[string][]float32, error) {
			v, err := s.b.SumSquares(s.up(s.rand(vecN, 2)), vecN)
			if err != nil {
				return nil, err
			}
			return map[string][]float32{"sum": {v}}, nil
		}),
		opCase(backend.OpEmbedding, "embedding", 1e-6, 10, func(s *session) (map[string][]float32, error) {
			const vocab, dim, n = 1000, 96, 517
			out := s.up(make([]float32, n*dim))
			s.b.Embedding(out, s.up(s.rand(vocab*dim, 1)), s.ids(n, vocab), dim)
			return one(s, "out", out, n*dim)
		}),
		opCase(backend.OpEmbeddingBackward, "embedding_backward", 1e-5, 11, func(s *session) (map[string][]float32, error) {
			const vocab, dim, n = 100, 96, 517 // many repeated ids
			table := s.up(s.rand(vocab*dim, 1))
			s.b.EmbeddingBackward(table, s.up(s.rand(n*dim, 1)), s.ids(n, vocab), dim)
			return one(s, "dtable", table, vocab*dim)
		}),
		opCase(backend.OpRMSNorm, "rmsnorm", 1e-5, 12, func(s *session) (map[string][]float32, error) {
			out, rstd := s.up(make([]float32, rows*cols)), s.up(make([]float32, rows))
			s.b.RMSNorm(out, rstd, s.up(s.rand(rows*cols, 2)), s.up(s.rand(cols, 1)), rows, cols, 1e-6)
			return s.outputs([]string{"out", "rstd"}, []backend.View{out, rstd}, []int{rows * cols, rows})
		}),
		// Qwen3's q_norm/k_norm: one short row per head, many rows, one
		// weight shared by all of them.
		opCase(backend.OpRMSNorm, "rmsnorm/heads", 1e-5, 30, func(s *session) (map[string][]float32, error) {
			const r, c = 37 * 14, 128
			out, rstd := s.up(make([]float32, r*c)), s.up(make([]float32, r))
			s.b.RMSNorm(out, rstd, s.up(s.rand(r*c, 2)), s.up(s.rand(c, 1)), r, c, 1e-6)
			return s.outputs([]string{"out", "rstd"}, []backend.View{out, rstd}, []int{r * c, r})
		}),
		opCase(backend.OpRMSNormBackward, "rmsnorm_backward/heads", 1e-4, 31, func(s *session) (map[string][]float32, error) {
			const r, c = 37 * 14, 128
			x := s.rand(r*c, 2)
			rstd := make([]float32, r)
			for i := range rstd {
				var ss float64
				for _, v := range x[i*c : (i+1)*c] {
					ss += float64(v) * float64(v)
				}
				rstd[i] = float32(1 / math.Sqrt(ss/c+1e-6))
			}
			dx, dw := s.up(make([]float32, r*c)), s.up(s.rand(c, 1))
			s.b.RMSNormBackward(dx, dw, s.up(s.rand(r*c, 1)), s.up(x), s.up(s.rand(c, 1)), s.up(rstd), r, c)
			return s.outputs([]string{"dx", "dw"}, []backend.View{dx, dw}, []int{r * c, c})
		}),
		opCase(backend.OpRMSNormBackward, "rmsnorm_backward", 1e-4, 13, func(s *session) (map[string][]float32, error) {
			x := s.rand(rows*wideCols, 2)
			rstd := make([]float32, rows)
			for r := range rstd {
				var ss float64
				for _, v := range x[r*wideCols : (r+1)*wideCols] {
					ss += float64(v) * float64(v)
				}
				rstd[r] = float32(1 / math.Sqrt(ss/wideCols+1e-6))
			}
			dx, dw := s.up(s.rand(rows*wideCols, 1)), s.up(s.rand(wideCols, 1)) // accumulate
			s.b.RMSNormBackward(dx, dw, s.up(s.rand(rows*wideCols, 1)), s.up(x), s.up(s.rand(wideCols, 1)), s.up(rstd), rows, wideCols)
			return s.outputs([]string{"dx", "dw"}, []backend.View{dx, dw}, []int{rows * wideCols, wideCols})
		}),
		opCase(backend.OpSwiGLU, "swiglu", 1e-6, 14, func(s *session) (map[string][]float32, error) {
			out := s.up(make([]float32, vecN))
			s.b.SwiGLU(out, s.up(s.rand(vecN, 8)), s.up(s.rand(vecN, 2)), vecN)
			return one(s, "out", out, vecN)
		}),
		opCase(backend.OpSwiGLUBackward, "swiglu_backward", 1e-5, 15, func(s *session) (map[string][]float32, error) {
			dg, du := s.up(make([]float32, vecN)), s.up(make([]float32, vecN))
			s.b.SwiGLUBackward(dg, du, s.up(s.rand(vecN, 1)), s.up(s.rand(vecN, 8)), s.up(s.rand(vecN, 2)), vecN)
			return s.outputs([]string{"dgate", "dup"}, []backend.View{dg, du}, []int{vecN, vecN})
		}),
		opCase(backend.OpSoftmax, "softmax", 1e-6, 16, func(s *session) (map[string][]float32, error) {
			const r, c = 33, 1001
			out := s.up(make([]float32, r*c))
			s.b.Softmax(out, s.up(s.rand(r*c, 12)), r, c)
			return one(s, "out", out, r*c)
		}),
		adamWCase(),
	}
	cs = append(cs, gemmCases()...)
	cs = append(cs, ropeCases()...)
	cs = append(cs, attentionCases()...)
	cs = append(cs, pagedCases()...)
	cs = append(cs, logProbsCases()...)
	return cs
}

func adamWCase() Case {
	return opCase(backend.OpAdamW, "adamw", 1e-5, 17, func(s *session) (map[string][]float32, error) {
		p0 := s.rand(vecN, 1)
		v0 := s.rand(vecN, 1e-3)
		for i := range v0 {
			v0[i] *= v0[i]
		}
		p, m, v := s.up(p0), s.up(s.rand(vecN, 1e-2)), s.up(v0)
		s.b.AdamW(p, s.up(s.rand(vecN, 0.1)), m, v, vecN, 3e-3, 0.9, 0.95, 1e-8, 0.1, 7)
		out, err := s.outputs([]string{"p", "m", "v"}, []backend.View{p, m, v}, []int{vecN, vecN, vecN})
		if err != nil {
			return nil, err
		}
		// The update is about lr; compared as p it would drown in |p| ~ 1.
		for i := range p0 {
			out["p"][i] -= p0[i]
		}
		return out, nil
	})
}

func gemmCases() []Case {
	var cs []Case
	for i, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
		transA, transB := tr[0], tr[1]
		for _, beta := range []float32{0, 0.3} {
			name := fmt.Sprintf("gemm/transA=%v,transB=%v,beta=%v", transA, transB, beta)
			cs = append(cs, opCase(backend.OpGemm, name, 1e-4, uint64(100+i), func(s *session) (map[string][]float32, error) {
				const m, n, k = 67, 45, 133
				ar, ac := m, k
				if transA {
					ar, ac = k, m
				}
				br, bc := k, n
				if transB {
					br, bc = n, k
				}
				lda, ldb, ldc := ac+3, bc+1, n+5
				c0 := s.rand(m*ldc, 1)
				if beta == 0 {
					for j := range c0 {
						c0[j] = float32(math.NaN()) // beta = 0 must ignore C
					}
				}
				c := s.up(c0)
				s.b.Gemm(transA, transB, m, n, k, 0.7, s.up(s.rand(ar*lda, 1)), lda, s.up(s.rand(br*ldb, 1)), ldb, beta, c, ldc)
				out, err := one(s, "c", c, m*ldc)
				if err != nil {
					return nil, err
				}
				// Only the m x n part is defined: drop the padding columns.
				cc := make([]float32, 0, m*n)
				for r := 0; r < m; r++ {
					cc = append(cc, out["c"][r*ldc:r*ldc+n]...)
				}
				return map[string][]float32{"c": cc}, nil
			}))
		}
	}
	return cs
}

func ropeCases() []Case {
	var cs []Case
	for i, op := range []backend.Op{backend.OpRoPE, backend.OpRoPEBackward} {
		for j, rc := range []struct {
			name string
			rope backend.RoPEParams
		}{
			{"theta=10000", backend.Theta(1e4)},
			{"theta=1e+06", backend.Theta(1e6)},
			// Llama 3.1's remapping, positions past its original context.
			{"llama3", backend.RoPEParams{Theta: 5e5, Scaling: backend.RoPEScalingLlama3, Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPos: 512}},
			{"linear", backend.RoPEParams{Theta: 1e4, Scaling: backend.RoPEScalingLinear, Factor: 4}},
		} {
			name := fmt.Sprintf("%s/%s", op, rc.name)
			cs = append(cs, opCase(op, name, 1e-6, uint64(200+4*i+j), func(s *session) (map[string][]float32, error) {
				const n, heads, hd = 130, 3, 64
				pos := s.ids(n, 5000)
				x := s.up(s.rand(n*heads*hd, 2))
				if op == backend.OpRoPE {
					s.b.RoPE(x, pos, heads, hd, rc.rope)
				} else {
					s.b.RoPEBackward(x, pos, heads, hd, rc.rope)
				}
				return one(s, "x", x, n*heads*hd)
			}))
		}
	}
	return cs
}

// attnShape is one attention configuration of the table.
type attnShape struct {
	name           string
	seqs           []backend.Seq
	heads, kvHeads int
	hd             int
}

var attnShapes = []attnShape{
	{"gqa", []backend.Seq{{Start: 0, Len: 100}, {Start: 100, Len: 1}, {Start: 101, Len: 250}, {Start: 351, Len: 37}}, attnHeads, attnK, 64},
	{"mha", []backend.Seq{{Start: 0, Len: 77}, {Start: 77, Len: 0}, {Start: 77, Len: 130}}, 3, 3, 32},
}

func (a attnShape) T() int { return a.seqs[len(a.seqs)-1].Start + a.seqs[len(a.seqs)-1].Len }

func attentionCases() []Case {
	var cs []Case
	for i, a := range attnShapes {
		T := a.T()
		qn, kn, ln := T*a.heads*a.hd, T*a.kvHeads*a.hd, T*a.heads
		scale := float32(1 / math.Sqrt(float64(a.hd)))
		cs = append(cs, opCase(backend.OpAttention, "attention/"+a.name, 1e-4, uint64(300+i), func(s *session) (map[string][]float32, error) {
			out, lse := s.up(make([]float32, qn)), s.up(make([]float32, ln))
			s.b.Attention(out, lse, s.up(s.rand(qn, 2)), s.up(s.rand(kn, 2)), s.up(s.rand(kn, 1)), a.seqs, a.heads, a.kvHeads, a.hd, scale)
			return s.outputs([]string{"out", "lse"}, []backend.View{out, lse}, []int{qn, ln})
		}))
		cs = append(cs, opCase(backend.OpAttentionBackward, "attention_backward/"+a.name, 5e-4, uint64(310+i), func(s *session) (map[string][]float32, error) {
			q, k, v, dout := s.rand(qn, 2), s.rand(kn, 2), s.rand(kn, 1), s.rand(qn, 1)
			// The forward's out and lse come from the CPU backend, so the
			// backward is checked on its own.
			out, lse, err := cpuAttention(q, k, v, a, scale)
			if err != nil {
				return nil, err
			}
			dq, dk, dv := s.up(make([]float32, qn)), s.up(make([]float32, kn)), s.up(make([]float32, kn))
			s.b.AttentionBackward(dq, dk, dv, s.up(dout), s.up(q), s.up(k), s.up(v), s.up(out), s.up(lse), a.seqs, a.heads, a.kvHeads, a.hd, scale)
			return s.outputs([]string{"dq", "dk", "dv"}, []backend.View{dq, dk, dv}, []int{qn, kn, kn})
		}))
	}
	return cs
}

// cpuAttention runs the forward on the CPU backend; it returns out and lse.
func cpuAttention(q, k, v []float32, a attnShape, scale float32) (out, lse []float32, err error) {
	s := newSession(cpu.New(1), 0)
	defer s.free()
	ov, lv := s.up(make([]float32, len(q))), s.up(make([]float32, a.T()*a.heads))
	s.b.Attention(ov, lv, s.up(q), s.up(k), s.up(v), a.seqs, a.heads, a.kvHeads, a.hd, scale)
	if out, err = s.read(ov, len(q)); err != nil {
		return nil, nil, err
	}
	lse, err = s.read(lv, a.T()*a.heads)
	return out, lse, err
}

func logProbsCases() []Case {
	var cs []Case
	for i, sh := range [][2]int{{9, 50257}, {40, 3}} {
		r, vocab := sh[0], sh[1]
		targets := func(s *session) []int32 {
			t := s.ids(r, vocab)
			t[1] = -1 // a row without a label
			return t
		}
		name := fmt.Sprintf("%dx%d", r, vocab)
		cs = append(cs, opCase(backend.OpLogProbs, "logprobs/"+name, 1e-4, uint64(400+i), func(s *session) (map[string][]float32, error) {
			lp, ent := s.up(make([]float32, r)), s.up(make([]float32, r))
			logits := s.up(s.rand(r*vocab, 10))
			s.b.LogProbs(lp, ent, logits, targets(s), r, vocab)
			return s.outputs([]string{"logp", "ent"}, []backend.View{lp, ent}, []int{r, r})
		}))
		for j, withEnt := range []bool{false, true} {
			cs = append(cs, opCase(backend.OpLogProbsBackward, fmt.Sprintf("logprobs_backward/%s,entropy=%v", name, withEnt), 1e-4, uint64(410+2*i+j), func(s *session) (map[string][]float32, error) {
				dl := s.up(make([]float32, r*vocab))
				logits, dlogp := s.up(s.rand(r*vocab, 10)), s.up(s.rand(r, 1))
				dent := backend.View{}
				if withEnt {
					dent = s.up(s.rand(r, 1))
				}
				s.b.LogProbsBackward(dl, logits, dlogp, dent, targets(s), r, vocab)
				return one(s, "dlogits", dl, r*vocab)
			}))
		}
	}
	return cs
}

func pagedCases() []Case {
	const blockSize, nBlocks, heads, kvHeads, hd = 16, 20, attnHeads, attnK, 64
	const kw = kvHeads * hd
	return []Case{
		opCase(backend.OpScatterRows, "scatter_rows", 1e-6, 500, func(s *session) (map[string][]float32, error) {
			const dstRows, n, width = 100, 37, 96
			dst := s.up(s.rand(dstRows*width, 1))
			rows := make([]int32, n)
			for i, r := range s.rng.Perm(dstRows)[:n] {
				rows[i] = int32(r)
			}
			s.b.ScatterRows(dst, s.up(s.rand(n*width, 1)), rows, width)
			return one(s, "dst", dst, dstRows*width)
		}),
		opCase(backend.OpPagedAttention, "paged_attention", 1e-4, 501, func(s *session) (map[string][]float32, error) {
			// A prefill of 20 rows, a one-row decode at position 50 and a
			// 4-row extension at position 33, over shuffled cache blocks.
			perm := s.rng.Perm(nBlocks)
			blocks := func(ids ...int) []int32 {
				b := make([]int32, len(ids))
				for i, id := range ids {
					b[i] = int32(perm[id])
				}
				return b
			}
			seqs := []backend.PagedSeq{
				{Row: 0, N: 20, Pos: 0, Blocks: blocks(0, 1)},
				{Row: 20, N: 1, Pos: 50, Blocks: blocks(2, 3, 4, 5)},
				{Row: 21, N: 4, Pos: 33, Blocks: blocks(6, 7, 8)},
			}
			const T = 25
			out := s.up(make([]float32, T*heads*hd))
			kc, vc := s.up(s.rand(nBlocks*blockSize*kw, 2)), s.up(s.rand(nBlocks*blockSize*kw, 1))
			s.b.PagedAttention(out, s.up(s.rand(T*heads*hd, 2)), kc, vc, seqs, blockSize, heads, kvHeads, hd, 0.125)
			return one(s, "out", out, T*heads*hd)
		}),
	}
}
