//go:build vulkan && cgo

package vulkan

import (
	"fmt"
	"slices"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

// Buffer is device memory holding Len float32 elements (or, with bf16,
// Len bf16 elements, two per 32-bit word: AllocBF16): a range of a memory
// block, from byte base on. It stays on the device for its whole life; the
// host reaches it only through Write and Read (WriteBF16, ReadBF16).
type Buffer struct {
	n     int
	bf16  bool
	block *memBlock // nil when the allocation failed
	buf   vk.Buffer // block.buf
	base  uint64    // bytes
	size  uint64    // bytes reserved in the block
	owner *Backend
	freed bool
}

// memBlock is one VkDeviceMemory allocation with one VkBuffer over all of
// it; buffers are ranges of it. Buffers of more than a quarter of
// blockSize get a dedicated block of their own.
type memBlock struct {
	buf       vk.Buffer
	mem       vk.DeviceMemory
	ra        *rangeAlloc
	dedicated bool
}

// blockSize is the size of an ordinary memory block. Drivers cap the
// number of allocations (maxMemoryAllocationCount, 4096 on many), and an
// allocation is slow; with blocks a model's hundreds of buffers take a
// handful.
const blockSize = 256 << 20

// blockAlign is the alignment of every buffer inside a block: the device's
// storage-buffer offset alignment, and at least 16 bytes for vec4 loads.
func (b *Backend) blockAlign() uint64 { return uint64(max(b.align, 16)) }

// reserve finds size bytes for a buffer: in an existing block, else in a
// new one (device-local where the device has it).
func (b *Backend) reserve(size uint64) (*memBlock, uint64, error) {
	align := b.blockAlign()
	size = (size + align - 1) &^ (align - 1)
	if size > blockSize/4 {
		blk, err := b.newBlock(size, true)
		if err != nil {
			return nil, 0, err
		}
		off, _ := blk.ra.alloc(size, align)
		return blk, off, nil
	}
	for _, blk := range b.blocks {
		if blk.dedicated {
			continue
		}
		if off, ok := blk.ra.alloc(size, align); ok {
			return blk, off, nil
		}
	}
	blk, err := b.newBlock(blockSize, false)
	if err != nil {
		return nil, 0, err
	}
	off, _ := blk.ra.alloc(size, align)
	return blk, off, nil
}

func (b *Backend) newBlock(size uint64, dedicated bool) (*memBlock, error) {
	buf, mem, err := b.d.newVkBuffer(size, vk.MemoryPropertyDeviceLocalBit, 0)
	if err != nil {
		// Some devices expose no device-local type a buffer may use; any
		// memory will do there.
		var err2 error
		if buf, mem, err2 = b.d.newVkBuffer(size, 0, 0); err2 != nil {
			return nil, err
		}
	}
	blk := &memBlock{buf: buf, mem: mem, ra: newRangeAlloc(size), dedicated: dedicated}
	b.blocks = append(b.blocks, blk)
	return blk, nil
}

// unreserve returns a buffer's range to its block once no queued work can
// touch it; a dedicated block, or an ordinary one left empty while others
// exist, is released.
func (b *Backend) unreserve(x *Buffer) {
	blk := x.block
	blk.ra.release(x.base, x.size)
	if !blk.ra.empty() {
		return
	}
	ordinary := 0
	for _, o := range b.blocks {
		if !o.dedicated {
			ordinary++
		}
	}
	if !blk.dedicated && ordinary <= 1 {
		return // keep one block for the next buffers
	}
	b.d.freeVkBuffer(blk.buf, blk.mem)
	b.blocks = slices.DeleteFunc(b.blocks, func(o *memBlock) bool { return o == blk })
}

// MemoryStats returns the number of device memory blocks, the bytes they
// hold, and the bytes handed out to live buffers.
func (b *Backend) MemoryStats() (blocks int, reserved, used uint64) {
	for _, blk := range b.blocks {
		reserved += blk.ra.size
		used += blk.ra.used
	}
	return len(b.blocks), reserved, used
}

// Len implements backend.Buffer.
func (b *Buffer) Len() int { return b.n }

const bufferUsage = vk.BufferUsageFlags(vk.BufferUsageStorageBufferBit | vk.BufferUsageTransferSrcBit | vk.BufferUsageTransferDstBit)

// newVkBuffer creates a buffer of size bytes bound to fresh memory with the
// wanted properties (and the preferred ones where a memory type has them).
func (d *device) newVkBuffer(size uint64, want, prefer vk.MemoryPropertyFlagBits) (vk.Buffer, vk.DeviceMemory, error) {
	var buf vk.Buffer
	r := vk.CreateBuffer(d.dev, &vk.BufferCreateInfo{
		SType:       vk.StructureTypeBufferCreateInfo,
		Size:        vk.DeviceSize(size),
		Usage:       bufferUsage,
		SharingMode: vk.SharingModeExclusive,
	}, nil, &buf)
	if err := vkErr(fmt.Sprintf("create buffer of %d bytes", size), r); err != nil {
		return nil, nil, err
	}
	var req vk.MemoryRequirements
	vk.GetBufferMemoryRequirements(d.dev, buf, &req)
	req.Deref()
	typ, ok := d.memoryType(req.MemoryTypeBits, want, prefer)
	if !ok {
		vk.DestroyBuffer(d.dev, buf, nil)
		return nil, nil, fmt.Errorf("no memory type with properties %#x for a buffer", want)
	}
	var mem vk.DeviceMemory
	r = vk.AllocateMemory(d.dev, &vk.MemoryAllocateInfo{
		SType:           vk.StructureTypeMemoryAllocateInfo,
		AllocationSize:  req.Size,
		MemoryTypeIndex: typ,
	}, nil, &mem)
	if err := vkErr(fmt.Sprintf("allocate %d bytes of device memory", req.Size), r); err != nil {
		vk.DestroyBuffer(d.dev, buf, nil)
		return nil, nil, err
	}
	if err := vkErr("bind buffer memory", vk.BindBufferMemory(d.dev, buf, mem, 0)); err != nil {
		vk.FreeMemory(d.dev, mem, nil)
		vk.DestroyBuffer(d.dev, buf, nil)
		return nil, nil, err
	}
	return buf, mem, nil
}

func (d *device) freeVkBuffer(buf vk.Buffer, mem vk.DeviceMemory) {
	if buf != vk.NullBuffer {
		vk.DestroyBuffer(d.dev, buf, nil)
	}
	if mem != vk.NullDeviceMemory {
		vk.FreeMemory(d.dev, mem, nil)
	}
}

// chunk is a persistently mapped host-visible buffer of the upload arena.
type chunk struct {
	buf  vk.Buffer
	mem  vk.DeviceMemory
	ptr  unsafe.Pointer
	size int // bytes
	used int // bytes handed out in the current batch
}

// arenaChunkSize is the size of an ordinary arena chunk; larger requests
// get a chunk of their own, released after the batch.
const arenaChunkSize = 4 << 20

// staging is a region of the arena: host memory the device reads or writes
// during the current batch.
type staging struct {
	c   *chunk
	off int // bytes
	n   int // bytes
}

func (s staging) bytes() []byte { return unsafe.Slice((*byte)(unsafe.Add(s.c.ptr, s.off)), s.n) }

// stage returns n bytes of arena memory valid until the batch completes,
// aligned for use as a storage buffer binding.
func (b *Backend) stage(n int) (staging, error) {
	n = max(n, 4)
	need := alignUp(n, b.align)
	for _, c := range b.chunks {
		off := alignUp(c.used, b.align)
		if off+need <= c.size {
			c.used = off + need
			b.batchStaged += need
			return staging{c, off, n}, nil
		}
	}
	size := max(arenaChunkSize, need)
	buf, mem, err := b.d.newVkBuffer(uint64(size), vk.MemoryPropertyHostVisibleBit|vk.MemoryPropertyHostCoherentBit, vk.MemoryPropertyHostCachedBit)
	if err != nil {
		return staging{}, fmt.Errorf("upload arena: %w", err)
	}
	var ptr unsafe.Pointer
	if err := vkErr("map upload arena", vk.MapMemory(b.d.dev, mem, 0, vk.DeviceSize(size), 0, &ptr)); err != nil {
		b.d.freeVkBuffer(buf, mem)
		return staging{}, err
	}
	c := &chunk{buf: buf, mem: mem, ptr: ptr, size: size, used: need}
	b.chunks = append(b.chunks, c)
	b.batchStaged += need
	return staging{c, 0, n}, nil
}

// resetArena makes the arena reusable once a batch has completed; chunks
// beyond the ordinary size are released.
func (b *Backend) resetArena() {
	keep := b.chunks[:0]
	for _, c := range b.chunks {
		if c.size > arenaChunkSize || len(keep) >= 8 {
			vk.UnmapMemory(b.d.dev, c.mem)
			b.d.freeVkBuffer(c.buf, c.mem)
			continue
		}
		c.used = 0
		keep = append(keep, c)
	}
	b.chunks = keep
	b.batchStaged = 0
}

func alignUp(x, a int) int { return (x + a - 1) / a * a }

// floats views staged bytes as float32.
func (s staging) floats() []float32 {
	return unsafe.Slice((*float32)(unsafe.Add(s.c.ptr, s.off)), s.n/4)
}

// ints views staged bytes as int32.
func (s staging) ints() []int32 {
	return unsafe.Slice((*int32)(unsafe.Add(s.c.ptr, s.off)), s.n/4)
}

// releaseArena frees every chunk of the arena.
func (b *Backend) releaseArena() {
	for _, c := range b.chunks {
		vk.UnmapMemory(b.d.dev, c.mem)
		b.d.freeVkBuffer(c.buf, c.mem)
	}
	b.chunks = nil
}
