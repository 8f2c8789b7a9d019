package engine

import (
	"fmt"
	"math"

	"github.com/goarpo/arpo/backend"
	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/tensor"
)

// Options configure an Engine.
type Options struct {
	// BlockSize is the number of positions per KV-cache block, e.g. 16.
	// Smaller blocks make forks copy less; larger ones make attention walk
	// fewer block-table entries.
	BlockSize int
	// InitialBlocks is the cache size to start with, e.g. 256, allocated
	// when the first block is used (after SetCachePrecision, if called); it
	// grows by doubling when full.
	InitialBlocks int
	// BatchInvariant makes every sequence's logits independent of the other
	// sequences in a Forward call, so that a prompt rolled out alone (on a
	// rollout worker) gives the bits it gets in a batch with others. The
	// CPU backend picks its GEMM kernel by the shape (a plain loop for tiny
	// products, dot products up to 64 rows, a blocked kernel beyond), and
	// the kernels round differently; the dot-product kernel's sums depend
	// on neither the row count, nor a row's place, nor the threads. So every
	// matrix product runs in pieces of at most dotRows rows, each padded to
	// more than tinyProduct multiply-adds (see invariantGemm).
	BatchInvariant bool
}

// The CPU backend's dispatch thresholds that invariantGemm keeps to
// (backend/cpu/gemm.go: gemmDotsMaxM, gemmDotsSmallM, gemmDotsMaxA,
// gemmDotsMinK, gemmTiny); TestBatchInvariant fails if they drift apart.
const (
	dotRows      = 64
	dotRowsSmall = 8
	dotMaxA      = 1 << 17
	dotMinK      = 128 // below it, 2+ rows take the blocked kernel
	tinyProduct  = 2048
	// invariantPad bounds the scratch rows a padded piece reads and writes
	// past the last row.
	invariantPad = dotRows
)

// Engine runs a model's forward pass over a paged KV cache. It uses the
// model's weights in place, so a training step on the model is seen by the
// next forward. An Engine is not safe for concurrent use.
type Engine struct {
	m         *nn.Model
	b         backend.Backend
	cache     *cache
	s         scratch
	invariant bool       // Options.BatchInvariant
	w16       *weights16 // bf16 copy of the linear weights (SetPrecision), or nil
}

// Seq is one sequence in the engine: the tokens fed so far and the cache
// blocks that hold their keys and values.
type Seq struct {
	blocks   []int32
	tokens   []int32
	released bool
}

// Len is the number of tokens fed to the sequence.
func (s *Seq) Len() int { return len(s.tokens) }

// Tokens returns the tokens fed so far; the caller must not modify them.
func (s *Seq) Tokens() []int32 { return s.tokens }

// New returns an engine for m.
func New(m *nn.Model, o Options) *Engine {
	if m.LoRA != nil {
		// The engine reads the base weights in place: it would decode as
		// if the adapters were not there.
		panic("engine: the model has LoRA adapters: decode its merged copy (nn.Model.MergedCopy, refreshed by MergeInto)")
	}
	if o.BlockSize <= 0 {
		o.BlockSize = 16
	}
	if o.InitialBlocks <= 0 {
		o.InitialBlocks = 64
	}
	c := m.Cfg
	e := &Engine{
		m:         m,
		b:         m.B,
		cache:     newCache(m.B, c.NumLayers, c.NumKVHeads*c.HeadDim, o.BlockSize, o.InitialBlocks),
		invariant: o.BatchInvariant,
	}
	if m.BF16Base() {
		// Its linear weights are bf16 already; only the LM head gets a
		// bf16 copy. NewBF16Base checked the backend.
		if err := e.SetPrecision(nn.BF16); err != nil {
			panic(fmt.Sprintf("engine: %v", err))
		}
	}
	return e
}

// Close frees the cache and scratch buffers; the engine must not be used after.
func (e *Engine) Close() {
	e.freeWeights16()
	e.cache.freeAll()
	e.s.free(e.b)
}

// NewSeq returns an empty sequence.
func (e *Engine) NewSeq() *Seq { return &Seq{} }

// Fork returns a sequence with the same tokens as s that shares s's cache
// blocks; either may then grow independently. Its cost is one reference per
// block, whatever the length of s.
func (e *Engine) Fork(s *Seq) *Seq {
	if s.released {
		panic("engine: Fork of a released sequence")
	}
	e.cache.share(s.blocks)
	return &Seq{
		blocks: append([]int32(nil), s.blocks...),
		tokens: append(make([]int32, 0, len(s.tokens)+64), s.tokens...),
	}
}

// Release returns s's blocks to the cache; s must not be used afterwards.
func (e *Engine) Release(s *Seq) {
	if s.released {
		return
	}
	e.cache.release(s.blocks)
	s.blocks, s.released = nil, true
}

// BlocksInUse is the number of cache blocks referenced by live sequences.
func (e *Engine) BlocksInUse() int { return e.cache.inUse() }

// Feed is one sequence's share of a Forward call.
type Feed struct {
	Seq *Seq
	// Tokens to append: a prompt or a tool result (prefill), or the one token
	// just sampled (decode).
	Tokens []int32
	// All asks for the logits of every new position (for scoring); by
	// default only the last position's logits come back.
	All bool
}

// Forward appends each feed's tokens to its sequence and returns the logits
// that the feeds ask for, row after row in feed order: one row of VocabSize
// for a default feed, len(Tokens) rows for a feed with All.
func (e *Engine) Forward(feeds []Feed) ([]float32, error) {
	cfg := e.m.Cfg
	T, R := 0, 0
	for i, f := range feeds {
		if len(f.Tokens) == 0 {
			return nil, fmt.Errorf("engine: feed %d has no tokens", i)
		}
		if f.Seq.released {
			return nil, fmt.Errorf("engine: feed %d uses a released sequence", i)
		}
		if n := f.Seq.Len() + len(f.Tokens); cfg.MaxPositionEmbeddings > 0 && n > cfg.MaxPositionEmbeddings {
			return nil, fmt.Errorf("engine: sequence of %d tokens exceeds the model's %d positions", n, cfg.MaxPositionEmbeddings)
		}
		for _, t := range f.Tokens {
			if t < 0 || int(t) >= cfg.VocabSize {
				return nil, fmt.Errorf("engine: token id %d out of range [0, %d)", t, cfg.VocabSize)
			}
		}
		T += len(f.Tokens)
		if f.All {
			R += len(f.Tokens)
		} else {
			R++
		}
	}
	if T == 0 {
		return nil, nil
	}
	e.refreshIfStale()
	pad := 0
	if e.invariant {
		pad = invariantPad
	}
	e.s.ensure(e.b, cfg, T+pad, R+e.padPast(R, cfg.VocabSize, cfg.HiddenSize))
	ids := make([]int32, 0, T)
	pos := make([]int32, 0, T)
	slots := make([]int32, 0, T)
	seqs := make([]backend.PagedSeq, 0, len(feeds))
	want := make([]int, 0, R) // rows whose logits are returned
	bs := int32(e.cache.blockSize)
	for _, f := range feeds {
		s := f.Seq
		start := len(s.tokens)
		// A shared, partly filled last block is copied before we write into it.
		if start%int(bs) != 0 {
			last := len(s.blocks) - 1
			s.blocks[last] = e.cache.private(s.blocks[last], start%int(bs))
		}
		seqs = append(seqs, backend.PagedSeq{Row: len(ids), N: len(f.Tokens), Pos: start})
		for i, t := range f.Tokens {
			p := int32(start + i)
			if p%bs == 0 {
				s.blocks = append(s.blocks, e.cache.alloc())
			}
			if f.All || i == len(f.Tokens)-1 {
				want = append(want, len(ids))
			}
			ids = append(ids, t)
			pos = append(pos, p)
			slots = append(slots, s.blocks[p/bs]*bs+p%bs)
		}
		s.tokens = append(s.tokens, f.Tokens...)
	}
	// Block tables are final only now (the cache may have grown meanwhile).
	for i, f := range feeds {
		seqs[i].Blocks = f.Seq.blocks
	}
	e.layers(ids, pos, slots, seqs)
	return e.head(want)
}

// layers runs the decoder stack over the T new rows; the residual stream
// ends in e.s.x.
func (e *Engine) layers(ids, pos, slots []int32, seqs []backend.PagedSeq) {
	m, b, s, cfg := e.m, e.b, &e.s, e.m.Cfg
	T := len(ids)
	C, H, KV, D, F := cfg.HiddenSize, cfg.NumHeads, cfg.NumKVHeads, cfg.HeadDim, cfg.IntermediateSize
	eps, rope := float32(cfg.RMSNormEps), cfg.RoPE()
	scale := float32(1 / math.Sqrt(float64(D)))
	x, h := s.x.View(), s.h.View()
	b.Embedding(x, m.Embed.View(), ids, C)
	for li := range m.Layers {
		l := &m.Layers[li]
		b.RMSNorm(h, s.rstd.View(), x, l.AttnNorm.View(), T, C, eps)
		if l.QNorm != nil {
			// Qwen3: RMS-norm each head of q and k before RoPE.
			e.linear(s.qr, s.h, l.Q, l.QB, T)
			e.linear(s.kr, s.h, l.K, l.KB, T)
			b.RMSNorm(s.q.View(), s.hrstd.View(), s.qr.View(), l.QNorm.View(), T*H, D, eps)
			b.RMSNorm(s.k.View(), s.hrstd.View(), s.kr.View(), l.KNorm.View(), T*KV, D, eps)
		} else {
			e.linear(s.q, s.h, l.Q, l.QB, T)
			e.linear(s.k, s.h, l.K, l.KB, T)
		}
		e.linear(s.v, s.h, l.V, l.VB, T)
		b.RoPE(s.q.View(), pos, H, D, rope)
		b.RoPE(s.k.View(), pos, KV, D, rope)
		e.cache.write(li, s.k.View(), s.v.View(), slots)
		e.cache.attend(li, s.att.View(), s.q.View(), seqs, H, KV, D, scale)
		e.linear(s.o, s.att, l.O, l.OB, T)
		b.Add(x, x, s.o.View(), T*C)

		b.RMSNorm(h, s.rstd.View(), x, l.MLPNorm.View(), T, C, eps)
		e.linear(s.g, s.h, l.Gate, nil, T)
		e.linear(s.u, s.h, l.Up, nil, T)
		b.SwiGLU(s.g.View(), s.g.View(), s.u.View(), T*F)
		e.linear(s.o, s.g, l.Down, nil, T)
		b.Add(x, x, s.o.View(), T*C)
	}
}

// head normalises the wanted rows of the residual stream and returns their
// logits (len(want), V) on the host.
func (e *Engine) head(want []int) ([]float32, error) {
	m, b, s, cfg := e.m, e.b, &e.s, e.m.Cfg
	C, V, R := cfg.HiddenSize, cfg.VocabSize, len(want)
	for r, row := range want {
		if r != row { // rows are increasing, so r <= row: an in-place gather
			b.Copy(s.x.View().At(r*C), s.x.View().At(row*C), C)
		}
	}
	b.RMSNorm(s.h.View(), s.rstd.View(), s.x.View(), m.Norm.View(), R, C, float32(cfg.RMSNormEps))
	if _, host := s.logits.Buffer().(hostBuffer); host {
		// The buffers are host memory (the CPU backend): the logits go
		// straight into a new buffer that is returned as is, instead of
		// into the scratch and then copied (R x V floats, 600 KB a row with
		// a 150k vocabulary). Streams keep their rows across calls, so the
		// buffer is never reused.
		buf := b.Alloc((R + e.padPast(R, V, C)) * V)
		e.gemm(R, V, C, s.h.View(), m.LMHead, backend.Whole(buf))
		return buf.(hostBuffer).Data()[: R*V : R*V], nil
	}
	e.gemm(R, V, C, s.h.View(), m.LMHead, s.logits.View())
	out := make([]float32, R*V)
	if err := b.Read(out, s.logits.View()); err != nil {
		return nil, fmt.Errorf("engine: reading logits: %w", err)
	}
	return out, nil
}

// hostBuffer is a backend buffer in host memory, whose contents the host
// may use directly (cpu.Buffer).
type hostBuffer interface{ Data() []float32 }

// linear computes y = x W^T (+ bias) for T rows; W is (out, in).
func (e *Engine) linear(y, x, w, bias *tensor.Tensor, T int) {
	out, in := w.Dim(0), w.Dim(1)
	e.gemm(T, out, in, x.View(), w, y.View())
	if bias != nil {
		e.b.AddBias(y.View(), bias.View(), T, out)
	}
}

// gemm computes the m rows of y = x W^T, W (n, k); with BatchInvariant
// (see invariantGemm) in pieces whose results do not depend on m. With a
// bf16 copy of W (SetPrecision) it runs on GemmBF16, whose rows never
// depend on m.
func (e *Engine) gemm(m, n, k int, x backend.View, wt *tensor.Tensor, y backend.View) {
	if e.gemm16(m, n, k, x, wt, y) {
		return
	}
	w := wt.View()
	if !e.invariant {
		e.b.Gemm(false, true, m, n, k, 1, x, k, w, k, 0, y, n)
		return
	}
	invariantGemm(e.b, m, n, k, x, w, y)
}

// padPast is how many rows past m the matrix product of m rows by a (n, k)
// weight reads and writes (only with BatchInvariant, and only for tiny
// products: see invariantGemm).
func (e *Engine) padPast(m, n, k int) int {
	if !e.invariant || m == 0 {
		return 0
	}
	piece, least := invariantPieces(m, k)
	last := m - (m-1)/piece*piece // rows of the last piece
	rows := max(last, least)
	for rows*n*k <= tinyProduct {
		rows++
	}
	return rows - last
}

// invariantPieces returns the rows of each piece of an invariant product
// of m rows with inner size k, and the fewest rows a piece may have.
// Inner sizes of dotMinK and more take the dot-product kernel, whose sums
// depend on neither the rows nor the threads: pieces of at most dotRows
// rows (dotRowsSmall when such a piece of x would not stay in cache, as
// the backend decides). Shorter inner sizes take the blocked kernel, whose
// sums do not depend on the rows either, for any 2 rows or more: one piece
// of at least 2 rows.
func invariantPieces(m, k int) (piece, least int) {
	switch {
	case k < dotMinK:
		return max(m, 1), 2
	case dotRows*k > dotMaxA:
		return dotRowsSmall, 1
	}
	return dotRows, 1
}

// invariantGemm runs y = x W^T in the pieces of invariantPieces, each
// padded with the scratch rows after it to its least rows and past
// tinyProduct multiply-adds (so that the plain loop never runs). Pieces
// run in order, so a piece's padding rows are written before the next
// piece writes them again; the last piece may use padPast rows past m.
func invariantGemm(b backend.Backend, m, n, k int, x, w, y backend.View) {
	piece, least := invariantPieces(m, k)
	for r := 0; r < m; r += piece {
		rows := max(min(piece, m-r), least)
		for rows*n*k <= tinyProduct {
			rows++
		}
		b.Gemm(false, true, rows, n, k, 1, x.At(r*k), k, w, k, 0, y.At(r*n), n)
	}
}

// scratch holds the activations of one Forward call, reused across calls
// and grown when a call has more rows.
type scratch struct {
	rows, logitRows                   int
	x, h, rstd, q, k, v, att, o, g, u *tensor.Tensor
	logits                            *tensor.Tensor
	// Qwen3's q and k before their head norms, and the norms' rstd
	// (T*H); nil for models without q_norm/k_norm.
	qr, kr, hrstd *tensor.Tensor
}

func (s *scratch) ensure(b backend.Backend, cfg nn.Config, T, R int) {
	if T <= s.rows && R <= s.logitRows {
		return
	}
	T, R = max(T, s.rows), max(R, s.logitRows)
	s.free(b)
	C, HD, KVD, F := cfg.HiddenSize, cfg.NumHeads*cfg.HeadDim, cfg.NumKVHeads*cfg.HeadDim, cfg.IntermediateSize
	s.rows, s.logitRows = T, R
	s.x, s.h, s.o = tensor.New(b, T, C), tensor.New(b, T, C), tensor.New(b, T, C)
	s.rstd = tensor.New(b, T)
	s.q, s.att = tensor.New(b, T, HD), tensor.New(b, T, HD)
	s.k, s.v = tensor.New(b, T, KVD), tensor.New(b, T, KVD)
	s.g, s.u = tensor.New(b, T, F), tensor.New(b, T, F)
	s.logits = tensor.New(b, R, cfg.VocabSize)
	if cfg.QKNorm() {
		s.qr, s.kr = tensor.New(b, T, HD), tensor.New(b, T, KVD)
		s.hrstd = tensor.New(b, T*cfg.NumHeads)
	}
}

func (s *scratch) free(b backend.Backend) {
	for _, t := range []*tensor.Tensor{s.x, s.h, s.rstd, s.q, s.k, s.v, s.att, s.o, s.g, s.u, s.logits, s.qr, s.kr, s.hrstd} {
		if t != nil {
			t.Free()
		}
	}
	*s = scratch{}
}

// VocabSize is the model's vocabulary size.
func (e *Engine) VocabSize() int { return e.m.Cfg.VocabSize }
