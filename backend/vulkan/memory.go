//go:build vulkan && cgo

package vulkan

import (
	"fmt"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

// Buffer is device memory holding Len float32 elements. It stays on the
// device for its whole life; the host reaches it only through Write and
// Read.
type Buffer struct {
	n     int
	buf   vk.Buffer
	mem   vk.DeviceMemory
	owner *Backend
	freed bool
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
