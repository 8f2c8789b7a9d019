package engine

import (
	"fmt"

	"github.com/goarpo/arpo/backend"
)

// cache is the paged KV cache of all layers. Block b of layer l holds the
// keys (and, in vs, the values) of blockSize consecutive positions of one
// sequence: rows b*blockSize ... b*blockSize+blockSize-1 of ks[l], each of
// width kvHeads*headDim. Blocks are reference counted: a forked sequence
// shares its parent's blocks until one of them writes into a shared block.
type cache struct {
	b         backend.Backend
	blockSize int
	width     int // kvHeads*headDim
	layers    int
	ks, vs    []backend.Buffer
	refs      []int32 // per block; 0 means free
	free      []int32 // free blocks, used from the end
	nBlocks   int
}

func newCache(b backend.Backend, layers, width, blockSize, blocks int) *cache {
	c := &cache{b: b, blockSize: blockSize, width: width, layers: layers}
	c.grow(blocks)
	return c
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
		newKs[l], newVs[l] = c.b.Alloc(rows), c.b.Alloc(rows)
		if old > 0 {
			c.b.Copy(backend.Whole(newKs[l]), backend.Whole(c.ks[l]), old)
			c.b.Copy(backend.Whole(newVs[l]), backend.Whole(c.vs[l]), old)
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

// alloc returns a fresh block with one reference, growing the cache when
// every block is in use.
func (c *cache) alloc() int32 {
	if len(c.free) == 0 {
		c.grow(max(2*c.nBlocks, 16))
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
		c.b.Copy(backend.View{Buf: c.ks[l], Off: dst}, backend.View{Buf: c.ks[l], Off: src}, n)
		c.b.Copy(backend.View{Buf: c.vs[l], Off: dst}, backend.View{Buf: c.vs[l], Off: src}, n)
	}
	c.refs[blk]--
	return cp
}

// inUse counts blocks with at least one reference.
func (c *cache) inUse() int { return c.nBlocks - len(c.free) }

func (c *cache) freeAll() {
	for l := 0; l < c.layers; l++ {
		c.b.Free(c.ks[l])
		c.b.Free(c.vs[l])
	}
	c.ks, c.vs, c.refs, c.free, c.nBlocks = nil, nil, nil, nil, 0
}
