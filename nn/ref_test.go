package nn

import (
	"math"

	"github.com/goarpo/arpo/backend"
)

// refBackend is a test oracle: every backend op written as the plainest loop,
// accumulating in float64, single-threaded. nn's tests run on it so they do
// not depend on the speed or the progress of backend/cpu, and on "cpu" too
// when that backend is registered. The embedded interface (nil) makes ops
// nn does not use, e.g. those added for inference, panic when called.
type refBackend struct{ backend.Backend }

type refBuf struct{ d []float32 }

func (b *refBuf) Len() int { return len(b.d) }

func rs(v backend.View, n int) []float32 { return v.Buf.(*refBuf).d[v.Off : v.Off+n] }

func (refBackend) Name() string                          { return "ref" }
func (refBackend) Supports(backend.Op) bool              { return true }
func (refBackend) Alloc(n int) backend.Buffer            { return &refBuf{d: make([]float32, n)} }
func (refBackend) Free(b backend.Buffer)                 { b.(*refBuf).d = nil }
func (refBackend) Write(dst backend.View, src []float32) { copy(rs(dst, len(src)), src) }
func (refBackend) Read(dst []float32, src backend.View) error {
	copy(dst, rs(src, len(dst)))
	return nil
}
func (refBackend) Sync() error { return nil }

func (refBackend) Copy(dst, src backend.View, n int) { copy(rs(dst, n), rs(src, n)) }
func (refBackend) Fill(dst backend.View, v float32, n int) {
	d := rs(dst, n)
	for i := range d {
		d[i] = v
	}
}
func (refBackend) Add(dst, a, b backend.View, n int) {
	d, x, y := rs(dst, n), rs(a, n), rs(b, n)
	for i := range d {
		d[i] = x[i] + y[i]
	}
}
func (refBackend) Mul(dst, a, b backend.View, n int) {
	d, x, y := rs(dst, n), rs(a, n), rs(b, n)
	for i := range d {
		d[i] = x[i] * y[i]
	}
}
func (refBackend) Scale(x backend.View, alpha float32, n int) {
	d := rs(x, n)
	for i := range d {
		d[i] *= alpha
	}
}
func (refBackend) Axpy(alpha float32, x, y backend.View, n int) {
	a, b := rs(x, n), rs(y, n)
	for i := range a {
		b[i] += alpha * a[i]
	}
}
func (refBackend) AddBias(x, bias backend.View, rows, cols int) {
	d, b := rs(x, rows*cols), rs(bias, cols)
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			d[r*cols+c] += b[c]
		}
	}
}
func (refBackend) SumRows(dst, x backend.View, rows, cols int) {
	d, s := rs(dst, cols), rs(x, rows*cols)
	for c := 0; c < cols; c++ {
		var acc float64
		for r := 0; r < rows; r++ {
			acc += float64(s[r*cols+c])
		}
		d[c] += float32(acc)
	}
}
func (refBackend) SumSquares(x backend.View, n int) (float32, error) {
	var acc float64
	for _, v := range rs(x, n) {
		acc += float64(v) * float64(v)
	}
	return float32(acc), nil
}

func (refBackend) Gemm(transA, transB bool, m, n, k int, alpha float32, a backend.View, lda int, b backend.View, ldb int, beta float32, c backend.View, ldc int) {
	A, B, C := a.Buf.(*refBuf).d[a.Off:], b.Buf.(*refBuf).d[b.Off:], c.Buf.(*refBuf).d[c.Off:]
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				var x, y float32
				if transA {
					x = A[p*lda+i]
				} else {
					x = A[i*lda+p]
				}
				if transB {
					y = B[j*ldb+p]
				} else {
					y = B[p*ldb+j]
				}
				s += float64(x) * float64(y)
			}
			if beta == 0 {
				C[i*ldc+j] = alpha * float32(s)
			} else {
				C[i*ldc+j] = alpha*float32(s) + beta*C[i*ldc+j]
			}
		}
	}
}

func (refBackend) Embedding(out, table backend.View, ids []int32, dim int) {
	o := rs(out, len(ids)*dim)
	for i, id := range ids {
		copy(o[i*dim:(i+1)*dim], rs(table.At(int(id)*dim), dim))
	}
}
func (refBackend) EmbeddingBackward(dtable, dout backend.View, ids []int32, dim int) {
	g := rs(dout, len(ids)*dim)
	for i, id := range ids {
		row := rs(dtable.At(int(id)*dim), dim)
		for j := range row {
			row[j] += g[i*dim+j]
		}
	}
}

func (refBackend) RMSNorm(out, rstd, x, w backend.View, rows, cols int, eps float32) {
	o, r, xs, ws := rs(out, rows*cols), rs(rstd, rows), rs(x, rows*cols), rs(w, cols)
	for i := 0; i < rows; i++ {
		var ss float64
		for j := 0; j < cols; j++ {
			v := float64(xs[i*cols+j])
			ss += v * v
		}
		rr := 1 / math.Sqrt(ss/float64(cols)+float64(eps))
		r[i] = float32(rr)
		for j := 0; j < cols; j++ {
			o[i*cols+j] = float32(float64(xs[i*cols+j]) * rr * float64(ws[j]))
		}
	}
}
func (refBackend) RMSNormBackward(dx, dw, dout, x, w, rstd backend.View, rows, cols int) {
	d, dws, g, xs, ws, r := rs(dx, rows*cols), rs(dw, cols), rs(dout, rows*cols), rs(x, rows*cols), rs(w, cols), rs(rstd, rows)
	for i := 0; i < rows; i++ {
		rr := float64(r[i])
		var dot float64 // sum_j dout*w*x
		for j := 0; j < cols; j++ {
			dot += float64(g[i*cols+j]) * float64(ws[j]) * float64(xs[i*cols+j])
		}
		for j := 0; j < cols; j++ {
			xv, gv := float64(xs[i*cols+j]), float64(g[i*cols+j])
			d[i*cols+j] += float32(rr*gv*float64(ws[j]) - rr*rr*rr*xv*dot/float64(cols))
		}
	}
	for j := 0; j < cols; j++ {
		var s float64
		for i := 0; i < rows; i++ {
			s += float64(g[i*cols+j]) * float64(xs[i*cols+j]) * float64(r[i])
		}
		dws[j] += float32(s)
	}
}

func ropeRef(x []float32, pos []int32, heads, headDim int, rope backend.RoPEParams, sign float64) {
	half := headDim / 2
	invFreq := rope.InvFreq(headDim)
	w := heads * headDim
	for i, p := range pos {
		for h := 0; h < heads; h++ {
			row := x[i*w+h*headDim:]
			for j := 0; j < half; j++ {
				ang := float64(p) * invFreq[j]
				c, s := math.Cos(ang), sign*math.Sin(ang)
				a, b := float64(row[j]), float64(row[j+half])
				row[j] = float32(a*c - b*s)
				row[j+half] = float32(b*c + a*s)
			}
		}
	}
}
func (refBackend) RoPE(x backend.View, pos []int32, heads, headDim int, rope backend.RoPEParams) {
	ropeRef(rs(x, len(pos)*heads*headDim), pos, heads, headDim, rope, 1)
}
func (refBackend) RoPEBackward(dx backend.View, pos []int32, heads, headDim int, rope backend.RoPEParams) {
	ropeRef(rs(dx, len(pos)*heads*headDim), pos, heads, headDim, rope, -1)
}

func seqTotal(seqs []backend.Seq) int {
	t := 0
	for _, s := range seqs {
		t += s.Len
	}
	return t
}

func (refBackend) Attention(out, lse, q, k, v backend.View, seqs []backend.Seq, heads, kvHeads, headDim int, scale float32) {
	T := seqTotal(seqs)
	qw, kw := heads*headDim, kvHeads*headDim
	O, L, Q, K, V := rs(out, T*qw), rs(lse, T*heads), rs(q, T*qw), rs(k, T*kw), rs(v, T*kw)
	grp := heads / kvHeads
	for _, s := range seqs {
		for i := s.Start; i < s.Start+s.Len; i++ {
			for h := 0; h < heads; h++ {
				kh := h / grp
				n := i - s.Start + 1
				sc := make([]float64, n)
				mx := math.Inf(-1)
				for j := 0; j < n; j++ {
					var d float64
					for e := 0; e < headDim; e++ {
						d += float64(Q[i*qw+h*headDim+e]) * float64(K[(s.Start+j)*kw+kh*headDim+e])
					}
					sc[j] = d * float64(scale)
					mx = math.Max(mx, sc[j])
				}
				var z float64
				for j := range sc {
					sc[j] = math.Exp(sc[j] - mx)
					z += sc[j]
				}
				L[i*heads+h] = float32(mx + math.Log(z))
				for e := 0; e < headDim; e++ {
					var acc float64
					for j := 0; j < n; j++ {
						acc += sc[j] / z * float64(V[(s.Start+j)*kw+kh*headDim+e])
					}
					O[i*qw+h*headDim+e] = float32(acc)
				}
			}
		}
	}
}

func (refBackend) AttentionBackward(dq, dk, dv, dout, q, k, v, out, lse backend.View, seqs []backend.Seq, heads, kvHeads, headDim int, scale float32) {
	T := seqTotal(seqs)
	qw, kw := heads*headDim, kvHeads*headDim
	DQ, DK, DV := rs(dq, T*qw), rs(dk, T*kw), rs(dv, T*kw)
	G, Q, K, V, O, L := rs(dout, T*qw), rs(q, T*qw), rs(k, T*kw), rs(v, T*kw), rs(out, T*qw), rs(lse, T*heads)
	acc := struct{ q, k, v []float64 }{make([]float64, T*qw), make([]float64, T*kw), make([]float64, T*kw)}
	grp := heads / kvHeads
	for _, s := range seqs {
		for i := s.Start; i < s.Start+s.Len; i++ {
			for h := 0; h < heads; h++ {
				kh := h / grp
				var D float64 // sum_e dout*out
				for e := 0; e < headDim; e++ {
					D += float64(G[i*qw+h*headDim+e]) * float64(O[i*qw+h*headDim+e])
				}
				for j := s.Start; j <= i; j++ {
					var d float64
					for e := 0; e < headDim; e++ {
						d += float64(Q[i*qw+h*headDim+e]) * float64(K[j*kw+kh*headDim+e])
					}
					p := math.Exp(d*float64(scale) - float64(L[i*heads+h]))
					var dp float64
					for e := 0; e < headDim; e++ {
						dp += float64(G[i*qw+h*headDim+e]) * float64(V[j*kw+kh*headDim+e])
						acc.v[j*kw+kh*headDim+e] += p * float64(G[i*qw+h*headDim+e])
					}
					ds := p * (dp - D) * float64(scale)
					for e := 0; e < headDim; e++ {
						acc.q[i*qw+h*headDim+e] += ds * float64(K[j*kw+kh*headDim+e])
						acc.k[j*kw+kh*headDim+e] += ds * float64(Q[i*qw+h*headDim+e])
					}
				}
			}
		}
	}
	for i := range DQ {
		DQ[i] = float32(acc.q[i])
	}
	for i := range DK {
		DK[i] = float32(acc.k[i])
		DV[i] = float32(acc.v[i])
	}
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func (refBackend) SwiGLU(out, gate, up backend.View, n int) {
	o, g, u := rs(out, n), rs(gate, n), rs(up, n)
	for i := range o {
		x := float64(g[i])
		o[i] = float32(x * sigmoid(x) * float64(u[i]))
	}
}
func (refBackend) SwiGLUBackward(dgate, dup, dout, gate, up backend.View, n int) {
	dg, du, d, g, u := rs(dgate, n), rs(dup, n), rs(dout, n), rs(gate, n), rs(up, n)
	for i := range d {
		x := float64(g[i])
		sg := sigmoid(x)
		du[i] = float32(float64(d[i]) * x * sg)
		dg[i] = float32(float64(d[i]) * float64(u[i]) * sg * (1 + x*(1-sg)))
	}
}

// refSoftmax returns p and log p of one row, in float64.
func refSoftmax(row []float32) (p, lp []float64) {
	mx := math.Inf(-1)
	for _, v := range row {
		mx = math.Max(mx, float64(v))
	}
	var z float64
	for _, v := range row {
		z += math.Exp(float64(v) - mx)
	}
	lz := mx + math.Log(z)
	p, lp = make([]float64, len(row)), make([]float64, len(row))
	for j, v := range row {
		lp[j] = float64(v) - lz
		p[j] = math.Exp(lp[j])
	}
	return p, lp
}

func (refBackend) LogProbs(logp, ent, logits backend.View, targets []int32, rows, vocab int) {
	lg, lp := rs(logits, rows*vocab), rs(logp, rows)
	for r := 0; r < rows; r++ {
		p, l := refSoftmax(lg[r*vocab : (r+1)*vocab])
		if t := targets[r]; t >= 0 {
			lp[r] = float32(l[t])
		} else {
			lp[r] = 0
		}
		if ent.Buf != nil {
			var h float64
			for j := range p {
				h -= p[j] * l[j]
			}
			rs(ent, rows)[r] = float32(h)
		}
	}
}

func (refBackend) LogProbsBackward(dlogits, logits, dlogp, dent backend.View, targets []int32, rows, vocab int) {
	dl, lg, dp := rs(dlogits, rows*vocab), rs(logits, rows*vocab), rs(dlogp, rows)
	for r := 0; r < rows; r++ {
		p, l := refSoftmax(lg[r*vocab : (r+1)*vocab])
		var h, de float64
		for j := range p {
			h -= p[j] * l[j]
		}
		if dent.Buf != nil {
			de = float64(rs(dent, rows)[r])
		}
		for j := range p {
			var g float64
			if targets[r] >= 0 {
				one := 0.0
				if int32(j) == targets[r] {
					one = 1
				}
				g = float64(dp[r]) * (one - p[j])
			}
			g -= de * p[j] * (l[j] + h)
			dl[r*vocab+j] = float32(g)
		}
	}
}

func (refBackend) Softmax(out, x backend.View, rows, cols int) {
	o, s := rs(out, rows*cols), rs(x, rows*cols)
	for r := 0; r < rows; r++ {
		p, _ := refSoftmax(s[r*cols : (r+1)*cols])
		for j := range p {
			o[r*cols+j] = float32(p[j])
		}
	}
}

func (refBackend) AdamW(p, g, m, v backend.View, n int, lr, b1, b2, eps, wd float32, t int) {
	P, G, M, V := rs(p, n), rs(g, n), rs(m, n), rs(v, n)
	bc1 := 1 - math.Pow(float64(b1), float64(t))
	bc2 := 1 - math.Pow(float64(b2), float64(t))
	for i := range P {
		gi := G[i]
		M[i] = b1*M[i] + (1-b1)*gi
		V[i] = b2*V[i] + (1-b2)*gi*gi
		mh := float64(M[i]) / bc1
		vh := float64(V[i]) / bc2
		P[i] = float32(float64(P[i]) - float64(lr)*(mh/(math.Sqrt(vh)+float64(eps))+float64(wd)*float64(P[i])))
	}
}

var _ backend.Backend = refBackend{}
