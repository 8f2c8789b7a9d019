package engine

import (
	"math/rand/v2"
	"testing"

	"github.com/goarpo/arpo/asm"
	"github.com/goarpo/arpo/backend"
	"github.com/goarpo/arpo/backend/cpu"
	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/nntest"
	"github.com/stretchr/testify/require"
)

// roundingCache is the CPU backend with a float32 KV cache whose writes
// round keys and values to bf16: the cache a bf16 cache must match bit
// for bit, since bf16 storage may change what is stored, never how
// attention sums.
type roundingCache struct{ *cpu.CPU }

func (r roundingCache) ScatterRows(dst, src backend.View, rows []int32, width int) {
	s := cpu.Slice(src, len(rows)*width)
	rounded := make([]float32, len(s))
	for i, x := range s {
		rounded[i] = asm.F32FromBF16(asm.BF16FromF32(x))
	}
	buf := r.Alloc(len(rounded))
	defer r.Free(buf)
	r.Write(backend.Whole(buf), rounded)
	r.CPU.ScatterRows(dst, backend.Whole(buf), rows, width)
}

// cacheRun prefills two prompts, forks one mid-block (the copy-on-write
// of a shared block) and decodes all three in batches, on an engine whose
// cache starts at 2 blocks (so it grows, copying what it holds). It
// returns every logit it computed.
func cacheRun(t *testing.T, e *Engine, vocab int) []float32 {
	r := rand.New(rand.NewPCG(11, 12))
	a, b := e.NewSeq(), e.NewSeq()
	var all []float32
	got, err := e.Forward([]Feed{{Seq: a, Tokens: randTokens(r, 21, vocab), All: true}, {Seq: b, Tokens: randTokens(r, 6, vocab), All: true}})
	require.NoError(t, err)
	all = append(all, got...)
	c := e.Fork(a)
	for i := 0; i < 12; i++ {
		feeds := []Feed{{Seq: a, Tokens: randTokens(r, 1, vocab)}, {Seq: c, Tokens: randTokens(r, 1+i%3, vocab), All: true}}
		if i%2 == 0 {
			feeds = append(feeds, Feed{Seq: b, Tokens: randTokens(r, 1, vocab)})
		}
		got, err := e.Forward(feeds)
		require.NoError(t, err)
		all = append(all, got...)
	}
	for _, s := range []*Seq{a, b, c} {
		e.Release(s)
	}
	require.Zero(t, e.BlocksInUse())
	return all
}

// TestBF16CacheMatchesRoundedF32Cache: an engine with a bf16 KV cache
// gives, bit for bit, the logits of an engine whose float32 cache holds
// keys and values rounded to bf16: through prefill, batched decode, a fork
// that copies a shared block, and growth of the cache; for each model
// family's attention (grouped-query, biases, Qwen3's q/k norms), and with
// bf16 weights as well.
func TestBF16CacheMatchesRoundedF32Cache(t *testing.T) {
	for _, mt := range []string{"llama", "qwen2", "qwen3"} {
		for _, weights := range []nn.Precision{nn.F32, nn.BF16} {
			t.Run(mt+"/"+weights.String(), func(t *testing.T) {
				m := testModel(t, mt, 2)
				e := New(m, Options{BlockSize: 4, InitialBlocks: 2})
				defer e.Close()
				require.NoError(t, e.SetCachePrecision(nn.BF16))
				require.NoError(t, e.SetPrecision(weights))
				got := cacheRun(t, e, m.Cfg.VocabSize)

				ref, err := nn.New(m.Cfg, roundingCache{cpu.New(2)})
				require.NoError(t, err)
				nntest.RandomWeights(ref, 3, 5, 0.3) // testModel's weights
				re := New(ref, Options{BlockSize: 4, InitialBlocks: 2})
				defer re.Close()
				require.NoError(t, re.SetPrecision(weights))
				want := cacheRun(t, re, m.Cfg.VocabSize)
				require.Equal(t, f32bits(want), f32bits(got))
			})
		}
	}
}

// TestBF16CacheCloseToF32: rounding keys and values to bf16 moves the
// logits of the float32 cache by about bf16's relative precision, not more.
func TestBF16CacheCloseToF32(t *testing.T) {
	m := testModel(t, "qwen2", 1)
	run := func(p nn.Precision) []float32 {
		e := New(m, Options{BlockSize: 4, InitialBlocks: 2})
		defer e.Close()
		require.NoError(t, e.SetCachePrecision(p))
		return cacheRun(t, e, m.Cfg.VocabSize)
	}
	f32, bf16 := run(nn.F32), run(nn.BF16)
	d := maxRel(f32, bf16)
	require.Greater(t, d, 0.0, "the bf16 cache changed nothing: is it in use?")
	require.Less(t, d, 2e-2)
}

// TestBF16CacheBatchInvariant is TestBatchInvariant with a bf16 cache.
func TestBF16CacheBatchInvariant(t *testing.T) {
	for _, c := range checkBatchInvariant(t, func(threads int) *Engine {
		e := New(testModel(t, "llama", threads), Options{BlockSize: 8, BatchInvariant: true})
		require.NoError(t, e.SetCachePrecision(nn.BF16))
		return e
	}) {
		require.Equal(t, c.alone, c.got, c.name)
	}
}

func TestSetCachePrecision(t *testing.T) {
	m := testModel(t, "llama", 1)
	e := New(m, Options{BlockSize: 4, InitialBlocks: 8})
	defer e.Close()
	require.Equal(t, nn.F32, e.CachePrecision())
	require.Zero(t, e.CacheBytes(), "the cache allocates at its first use")
	s := e.NewSeq()
	_, err := e.Forward([]Feed{{Seq: s, Tokens: []int32{1, 2, 3}}})
	require.NoError(t, err)
	f32Bytes := e.CacheBytes()
	require.Equal(t, int64(2*2*8*4*m.Cfg.NumKVHeads*m.Cfg.HeadDim*4), f32Bytes)
	require.ErrorContains(t, e.SetCachePrecision(nn.BF16), "no sequence holds cache blocks")
	require.Equal(t, nn.F32, e.CachePrecision())
	require.NoError(t, e.SetCachePrecision(nn.F32), "setting the precision it has is no change")
	e.Release(s)
	require.NoError(t, e.SetCachePrecision(nn.BF16))
	require.Equal(t, nn.BF16, e.CachePrecision())
	require.Equal(t, f32Bytes/2, e.CacheBytes())
	require.NoError(t, e.SetCachePrecision(nn.F32))
	require.Equal(t, f32Bytes, e.CacheBytes())

	// Set before first use, the bf16 cache's first allocation is its only
	// one.
	e2 := New(m, Options{BlockSize: 4, InitialBlocks: 8})
	defer e2.Close()
	require.NoError(t, e2.SetCachePrecision(nn.BF16))
	require.Zero(t, e2.CacheBytes())
	s2 := e2.NewSeq()
	_, err = e2.Forward([]Feed{{Seq: s2, Tokens: []int32{1, 2, 3}}})
	require.NoError(t, err)
	require.Equal(t, f32Bytes/2, e2.CacheBytes())
	e2.Release(s2)

	m3, err := nn.New(m.Cfg, f32Backend{cpu.New(1)})
	require.NoError(t, err)
	e3 := New(m3, Options{})
	defer e3.Close()
	require.ErrorContains(t, e3.SetCachePrecision(nn.BF16), "has none")
	require.Equal(t, nn.F32, e3.CachePrecision())
}
