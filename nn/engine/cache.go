package engine

import (
	"fmt"

	"github.com/goarpo/arpo/backend"
	"github.com/goarpo/arpo/nn"
)

// cache is the paged KV cache of all layers. Block b of layer l holds the
// keys (and, in vs, the values) of blockSize consecutive positions of one
// sequence: rows b*blockSize ... b*blockSize+blockSize-1 of ks[l], each of
// width kvHeads*headDim. Blocks are reference counted: a forked sequence
// shares its parent's blocks until one of them writes into a shared block.
// The buffers are float32, or bf16 when kv is set (SetCachePrecision).
type cache struct {
	b         backend.Backend
	bf        backend.BF16   // with kv: the cache is bf16
	kv        backend.BF16KV // nil: the cache is float32
	blockSize int
	width     int // kvHeads*headDim
	layers    int
	ks, vs    []backend.Buffer
	refs      []int32 // per block; 0 means free
	free      []int32 // free blocks, used from the end
	nBlocks   int
	initial   int // blocks of the first allocation
}

// newCache returns an empty cache; its first block allocates initial
// blocks (so that SetCachePrecision, before any use, allocates nothing
// twice).
func newCache(b backend.Backend, layers, width, blockSize, initial int) *cache {
	return &cache{b: b, blockSize: blockSize, width: width, layers: layers, initial: initial}
}

// grow makes room for at least n blocks in all, copying what is cached.
func (c *cache) grow(n int) {
	if n <= c.nBlocks {
		return
	}
	rows := n * c.blockSize * c.width
	newKs := make([]backend.Buffer, c.layers)
	newVs := make([]backend.Buffer, c.layers)
	old := c.nBlocks * c.blockSize * c.width
	for l := 0; l < c.layers; l++ {
		newKs[l], newVs[l] = c.alloc1(rows), c.alloc1(rows)
		if old > 0 {
			c.copy(backend.Whole(newKs[l]), backend.Whole(c.ks[l]), old)
			c.copy(backend.Whole(newVs[l]), backend.Whole(c.vs[l]), old)
			c.b.Free(c.ks[l])
			c.b.Free(c.vs[l])
		}
	}
	c.ks, c.vs = newKs, newVs
	for blk := n - 1; blk >= c.nBlocks; blk-- {
		c.free = append(c.free, int32(blk))
	}
	c.refs = append(c.refs, make([]int32, n-c.nBlocks)...)
	c.nBlocks = n
}

// alloc1 allocates one layer's keys or values of n elements.
func (c *cache) alloc1(n int) backend.Buffer {
	if c.kv != nil {
		return c.bf.AllocBF16(n)
	}
	return c.b.Alloc(n)
}

// copy copies n elements of one layer's keys or values.
func (c *cache) copy(dst, src backend.View, n int) {
	if c.kv != nil {
		c.kv.CopyBF16(dst, src, n)
		return
	}
	c.b.Copy(dst, src, n)
}

// write puts the rows of k and v ((len(slots), width) float32) into the
// cache rows slots of layer l.
func (c *cache) write(l int, k, v backend.View, slots []int32) {
	if c.kv != nil {
		c.kv.ScatterRowsBF16(backend.Whole(c.ks[l]), k, slots, c.width)
		c.kv.ScatterRowsBF16(backend.Whole(c.vs[l]), v, slots, c.width)
		return
	}
	c.b.ScatterRows(backend.Whole(c.ks[l]), k, slots, c.width)
	c.b.ScatterRows(backend.Whole(c.vs[l]), v, slots, c.width)
}

// attend runs paged attention of the query rows q against layer l.
func (c *cache) attend(l int, out, q backend.View, seqs []backend.PagedSeq, heads, kvHeads, headDim int, scale float32) {
	k, v := backend.Whole(c.ks[l]), backend.Whole(c.vs[l])
	if c.kv != nil {
		c.kv.PagedAttentionBF16(out, q, k, v, seqs, c.blockSize, heads, kvHeads, headDim, scale)
		return
	}
	c.b.PagedAttention(out, q, k, v, seqs, c.blockSize, heads, kvHeads, headDim, scale)
}

// setBF16 switches an unused cache between float32 (kv nil) and bf16
// storage, reallocating the blocks it has.
func (c *cache) setBF16(bf backend.BF16, kv backend.BF16KV) {
	if c.inUse() != 0 {
		panic("engine: cache precision changed with blocks in use")
	}
	n := c.nBlocks
	c.freeAll()
	c.bf, c.kv = bf, kv
	if n > 0 {
		c.grow(n)
	}
}

// bytes is the memory the cache's blocks take.
func (c *cache) bytes() int64 {
	per := int64(4)
	if c.kv != nil {
		per = 2
	}
	return 2 * int64(c.layers) * int64(c.nBlocks) * int64(c.blockSize) * int64(c.width) * per
}

// alloc returns a fresh block with one reference, growing the cache when
// every block is in use.
func (c *cache) alloc() int32 {
	if len(c.free) == 0 {
		if c.nBlocks == 0 {
			c.grow(max(c.initial, 1))
		} else {
			c.grow(max(2*c.nBlocks, 16))
		}
	}
	blk := c.free[len(c.free)-1]
	c.free = c.free[:len(c.free)-1]
	c.refs[blk] = 1
	return blk
}

// release drops one reference to each block.
func (c *cache) release(blocks []int32) {
	for _, blk := range blocks {
		if c.refs[blk] <= 0 {
			panic(fmt.Sprintf("engine: block %d released more often than taken", blk))
		}
		c.refs[blk]--
		if c.refs[blk] == 0 {
			c.free = append(c.free, blk)
		}
	}
}

// share adds one reference to each block.
func (c *cache) share(blocks []int32) {
	for _, blk := range blocks {
		c.refs[blk]++
	}
}

// private returns a block holding the same first `used` rows as blk that
// only the caller references: blk itself when unshared, else a copy.
func (c *cache) private(blk int32, used int) int32 {
	if c.refs[blk] == 1 {
		return blk
	}
	cp := c.alloc()
	n := used * c.width
	for l := 0; l < c.layers; l++ {
		src := int(blk) * c.blockSize * c.width
		dst := int(cp) * c.blockSize * c.width
		c.copy(backend.View{Buf: c.ks[l], Off: dst}, backend.View{Buf: c.ks[l], Off: src}, n)
		c.copy(backend.View{Buf: c.vs[l], Off: dst}, backend.View{Buf: c.vs[l], Off: src}, n)
	}
	c.refs[blk]--
	return cp
}

// inUse counts blocks with at least one reference.
func (c *cache) inUse() int { return c.nBlocks - len(c.free) }

func (c *cache) freeAll() {
	for l := range c.ks {
		c.b.Free(c.ks[l])
		c.b.Free(c.vs[l])
	}
	c.ks, c.vs, c.refs, c.free, c.nBlocks = nil, nil, nil, nil, 0
}

// SetCachePrecision chooses how the KV cache stores keys and values:
// nn.F32 (the default) or nn.BF16, half the bytes: twice the positions
// (branches, context) in the same memory, and half the bytes a decode
// step's attention reads. Keys and values are rounded to bf16 as they
// enter the cache and widened as attention reads them; every sum stays
// float32 (backend.BF16KV). It is independent of the weights' precision
// (SetPrecision). BatchInvariant holds in both: a row's attention reads
// only its own sequence's cache. It may be called only while no sequence
// holds cache blocks, and returns an error, changing nothing, when the
// backend has no bf16 KV cache.
func (e *Engine) SetCachePrecision(p nn.Precision) error {
	switch p {
	case nn.F32, nn.BF16:
	default:
		return fmt.Errorf("engine: unknown KV-cache precision %v", p)
	}
	if p == e.CachePrecision() {
		return nil
	}
	if n := e.cache.inUse(); n != 0 {
		return fmt.Errorf("engine: the KV-cache precision can change only while no sequence holds cache blocks (%d held)", n)
	}
	if p == nn.F32 {
		e.cache.setBF16(nil, nil)
		return nil
	}
	bf, kv, ok := backend.AsBF16KV(e.b)
	if !ok {
		return fmt.Errorf("engine: bf16 KV cache: the %s backend has none", e.b.Name())
	}
	e.cache.setBF16(bf, kv)
	return nil
}

// CachePrecision is the KV cache's storage precision (SetCachePrecision).
func (e *Engine) CachePrecision() nn.Precision {
	if e.cache.kv != nil {
		return nn.BF16
	}
	return nn.F32
}

// CacheBytes is the memory the KV cache holds now, in use or free; it
// doubles when the cache grows.
func (e *Engine) CacheBytes() int64 { return e.cache.bytes() }
