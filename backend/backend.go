// Package backend defines the compute interface that every engine of this
// project (the CPU backend in backend/cpu, the Vulkan backend in
// backend/vulkan) implements, and a registry to pick one by name.
//
// The interface is shaped for a device that owns its memory and runs ops
// asynchronously:
//
//   - Buffers are allocated by the backend and may live on a device; the host
//     reaches their contents only through Write and Read.
//   - Ops are enqueued. Only Read (and Sync) wait for the queued work, so a
//     backend may batch ops into command buffers. The CPU backend simply runs
//     each op before returning, which satisfies the same contract.
//   - Every op works on float32 data in row-major order. Small integer inputs
//     (token ids, positions, sequence boundaries) are passed as host slices;
//     a device backend uploads them as it needs.
//   - A backend reports which ops it implements with Supports, so callers can
//     fall back or refuse early instead of failing mid-run.
//
// Unless an op's comment says "accumulates", it overwrites its outputs. Shape
// and range errors inside an op are programming errors and panic; errors from
// the device itself (lost device, out of memory) are reported by Sync and Read.
//
// What this package is not for: autograd, shapes or broadcasting. Those live
// in tensor/ and nn/, which call these ops with explicit sizes.
package backend

// Buffer is a block of float32 storage owned by a backend.
type Buffer interface {
	// Len is the number of float32 elements.
	Len() int
}

// View is a position inside a Buffer: ops read or write elements
// Buf[Off], Buf[Off+1], ... as their sizes say.
type View struct {
	Buf Buffer
	Off int
}

// At returns the view moved forward by n elements.
func (v View) At(n int) View { return View{Buf: v.Buf, Off: v.Off + n} }

// Whole returns a view of the start of b.
func Whole(b Buffer) View { return View{Buf: b} }

// Seq is one sequence of a packed batch: its tokens are rows
// Start, Start+1, ..., Start+Len-1 of the packed activations.
type Seq struct {
	Start, Len int
}

// PagedSeq is one sequence of a PagedAttention call: query rows
// [Row, Row+N), whose first row sits at cache position Pos; Blocks is the
// sequence's block table.
type PagedSeq struct {
	Row, N, Pos int
	Blocks      []int32
}

// Backend is a compute engine. Implementations must be safe for use by one
// goroutine at a time; they may use many threads inside an op.
//
// Determinism: for the same inputs, every op must give bitwise identical
// results from run to run and for any thread count (reductions run in a fixed
// order). Reinforcement-learning runs are reproduced from a seed on this
// guarantee.
type Backend interface {
	// Name identifies the backend and device, e.g. "cpu (avx512, 2 threads)".
	Name() string
	// Supports reports whether the backend implements op.
	Supports(op Op) bool

	// Alloc returns a zeroed buffer of n float32 elements.
	Alloc(n int) Buffer
	// Free releases b; using b afterwards is a programming error.
	Free(b Buffer)
	// Write copies src into dst starting at dst.Off.
	Write(dst View, src []float32)
	// Read copies len(dst) elements starting at src.Off into dst. It waits for
	// all queued ops that precede it and returns any deferred device error.
	Read(dst []float32, src View) error
	// Sync waits for all queued ops and returns any deferred device error.
	Sync() error

	// ----- elementwise, n elements -----

	// Copy: dst[i] = src[i].
	Copy(dst, src View, n int)
	// Fill: dst[i] = v.
	Fill(dst View, v float32, n int)
	// Add: dst[i] = a[i] + b[i]. dst may alias a or b.
	Add(dst, a, b View, n int)
	// Mul: dst[i] = a[i] * b[i]. dst may alias a or b.
	Mul(dst, a, b View, n int)
	// Scale: x[i] *= alpha.
	Scale(x View, alpha float32, n int)
	// Axpy: y[i] += alpha * x[i].
	Axpy(alpha float32, x, y View, n int)
	// AddBias adds bias (cols) to every row of x (rows, cols) in place.
	AddBias(x, bias View, rows, cols int)
	// SumRows accumulates the column sums of x (rows, cols) into dst (cols):
	// the backward of AddBias for the bias.
	SumRows(dst, x View, rows, cols int)
	// SumSquares returns sum(x[i]^2) over n elements; it synchronises.
	SumSquares(x View, n int) (float32, error)

	// ----- matrix multiply -----

	// Gemm: C = alpha * op(A) * op(B) + beta * C, where op(A) is m x k and
	// op(B) is k x n, row-major with leading dimensions lda, ldb, ldc.
	// transA means A is stored k x m (op(A) = A^T); likewise transB.
	// beta = 0 ignores the previous contents of C (NaN included).
	Gemm(transA, transB bool, m, n, k int, alpha float32, a View, lda int, b View, ldb int, beta float32, c View, ldc int)

	// ----- transformer ops; shapes in (rows, cols) of row-major data -----

	// Embedding: out is (len(ids), dim); out[i] = table[ids[i]].
	Embedding(out, table View, ids []int32, dim int)
	// EmbeddingBackward accumulates dtable[ids[i]] += dout[i]; dout is (len(ids), dim).
	EmbeddingBackward(dtable, dout View, ids []int32, dim int)

	// RMSNorm: x, out are (rows, cols); w is (cols); rstd is (rows), kept for
	// backward. out[r] = x[r] * rstd[r] * w, rstd[r] = 1/sqrt(mean(x[r]^2)+eps).
	RMSNorm(out, rstd, x, w View, rows, cols int, eps float32)
	// RMSNormBackward accumulates into dx (rows, cols) and dw (cols).
	RMSNormBackward(dx, dw, dout, x, w, rstd View, rows, cols int)

	// RoPE rotates q-or-k rows in place with the Hugging Face rotate-half
	// layout: x is (len(pos), heads*headDim); row i uses position pos[i].
	// Pairs are (j, j+headDim/2) with frequency rope.InvFreq(headDim)[j]
	// (theta^(-2j/headDim) without scaling).
	RoPE(x View, pos []int32, heads, headDim int, rope RoPEParams)
	// RoPEBackward applies the inverse rotation to gradient rows in place.
	RoPEBackward(dx View, pos []int32, heads, headDim int, rope RoPEParams)

	// Attention is causal self-attention over a packed batch. q is
	// (T, heads*headDim), k and v are (T, kvHeads*headDim) with heads a
	// multiple of kvHeads (grouped-query attention); out is (T, heads*headDim);
	// lse is (T, heads), the log-sum-exp of each row's scaled scores, kept for
	// backward. A token attends to tokens of its own sequence at or before
	// its position. T = sum of seq lengths; seqs tile [0, T) in order.
	Attention(out, lse, q, k, v View, seqs []Seq, heads, kvHeads, headDim int, scale float32)
	// AttentionBackward writes dq, dk, dv (shapes of q, k, v) from dout and
	// the forward's inputs, out and lse.
	AttentionBackward(dq, dk, dv, dout, q, k, v, out, lse View, seqs []Seq, heads, kvHeads, headDim int, scale float32)

	// ScatterRows copies row i of src (len(rows), width) to row rows[i] of
	// dst: how new keys and values enter a paged KV cache.
	ScatterRows(dst, src View, rows []int32, width int)
	// PagedAttention is causal attention of new query rows against a paged
	// KV cache. kCache and vCache are (blocks*blockSize, kvHeads*headDim):
	// position p of a sequence lives in row Blocks[p/blockSize]*blockSize +
	// p%blockSize. q and out are (T, heads*headDim); each PagedSeq names its
	// query rows, its blocks and the cache position of its first query row;
	// query row r of the sequence attends to positions [0, Pos+r]. The new
	// rows' own keys and values must already be in the cache.
	PagedAttention(out, q, kCache, vCache View, seqs []PagedSeq, blockSize, heads, kvHeads, headDim int, scale float32)

	// SwiGLU: out[i] = silu(gate[i]) * up[i], n elements.
	SwiGLU(out, gate, up View, n int)
	// SwiGLUBackward writes dgate and dup from dout.
	SwiGLUBackward(dgate, dup, dout, gate, up View, n int)

	// LogProbs: logits is (rows, vocab). For each row r it writes
	// logp[r] = log softmax(logits[r])[targets[r]] and, when ent.Buf is not
	// nil, ent[r] = Shannon entropy (nats) of softmax(logits[r]).
	// A target < 0 gives logp[r] = 0.
	LogProbs(logp, ent, logits View, targets []int32, rows, vocab int)
	// LogProbsBackward writes dlogits (rows, vocab) given the gradient of a
	// loss with respect to logp (dlogp, rows) and, when dent.Buf is not nil,
	// with respect to ent (rows):
	//   dlogits[r][j] = dlogp[r]*(1[j==t] - p_j) - dent[r]*p_j*(log p_j + H_r).
	LogProbsBackward(dlogits, logits, dlogp, dent View, targets []int32, rows, vocab int)
	// Softmax writes the softmax of each row of x (rows, cols) into out.
	Softmax(out, x View, rows, cols int)

	// AdamW updates n parameters in place (decoupled weight decay, bias
	// correction with step t >= 1), in the operation order of PyTorch's
	// torch.optim.AdamW, with the bias corrections computed in float64:
	//   p *= 1 - lr*wd
	//   m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2
	//   p -= (lr/(1-b1^t)) * m / (sqrt(v)/sqrt(1-b2^t) + eps)
	AdamW(p, g, m, v View, n int, lr, b1, b2, eps, wd float32, t int)
}

// Op names an operation for Supports.
type Op string

// The ops of the Backend interface.
const (
	OpCopy              Op = "copy"
	OpFill              Op = "fill"
	OpAdd               Op = "add"
	OpMul               Op = "mul"
	OpScale             Op = "scale"
	OpAxpy              Op = "axpy"
	OpAddBias           Op = "add_bias"
	OpSumRows           Op = "sum_rows"
	OpSumSquares        Op = "sum_squares"
	OpGemm              Op = "gemm"
	OpEmbedding         Op = "embedding"
	OpEmbeddingBackward Op = "embedding_backward"
	OpRMSNorm           Op = "rmsnorm"
	OpRMSNormBackward   Op = "rmsnorm_backward"
	OpRoPE              Op = "rope"
	OpRoPEBackward      Op = "rope_backward"
	OpAttention         Op = "attention"
	OpAttentionBackward Op = "attention_backward"
	OpScatterRows       Op = "scatter_rows"
	OpPagedAttention    Op = "paged_attention"
	OpSwiGLU            Op = "swiglu"
	OpSwiGLUBackward    Op = "swiglu_backward"
	OpLogProbs          Op = "logprobs"
	OpLogProbsBackward  Op = "logprobs_backward"
	OpSoftmax           Op = "softmax"
	OpAdamW             Op = "adamw"
)

// AllOps lists every op of the interface, for conformance tests.
var AllOps = []Op{
	OpCopy, OpFill, OpAdd, OpMul, OpScale, OpAxpy, OpAddBias, OpSumRows, OpSumSquares, OpGemm,
	OpEmbedding, OpEmbeddingBackward, OpRMSNorm, OpRMSNormBackward,
	OpRoPE, OpRoPEBackward, OpAttention, OpAttentionBackward, OpScatterRows, OpPagedAttention,
	OpSwiGLU, OpSwiGLUBackward, OpLogProbs, OpLogProbsBackward, OpSoftmax, OpAdamW,
}
