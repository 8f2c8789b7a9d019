//go:build vulkan && cgo

package vulkan

import (
	"fmt"
	"math"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

// Batch limits: past them the recorded work is submitted early, so that a
// long stretch without Read or Sync cannot hold unbounded descriptors or
// upload memory.
const (
	maxBatchDispatches = 4096
	maxBatchStaged     = 256 << 20
	setsPerPool        = 1024
	maxBindings        = 9
	pushBytes          = 128
)

// span is a range of elements [lo, hi) of a buffer touched in the current
// barrier epoch.
type span struct {
	lo, hi int
	write  bool
}

// binding is one storage-buffer binding of a dispatch: the bound window of
// a buffer, and (for device buffers) the elements the dispatch touches, for
// hazard tracking.
type binding struct {
	buf         vk.Buffer
	offset, rng uint64 // bytes
	track       *Buffer
	lo, hi      int
	write       bool
}

// bindView binds n elements of a device view starting at v.Off. The bound
// window starts at the aligned byte offset at or below v.Off, so the shader
// sees the view at element rel, which the caller passes as a push constant;
// binding windows rather than whole buffers keeps every binding within the
// device's storage-buffer range, however large the buffer.
func (b *Backend) bindView(buf *Buffer, off, n int, write bool) (binding, uint32) {
	start := off * 4 / b.align * b.align
	end := (off + max(n, 1)) * 4
	if end > buf.n*4 {
		end = max(buf.n*4, start+4)
	}
	if uint64(end-start) > uint64(b.d.limits.MaxStorageBufferRange) {
		panic(fmt.Sprintf("vulkan: an op touches %d bytes of one buffer; the device's storage buffer range is %d", end-start, b.d.limits.MaxStorageBufferRange))
	}
	return binding{buf: buf.buf, offset: buf.base + uint64(start), rng: uint64(end - start), track: buf, lo: off, hi: off + n, write: write},
		uint32(off - start/4)
}

// bindStaged binds a region of the upload arena.
func bindStaged(s staging) binding {
	return binding{buf: s.c.buf, offset: uint64(s.off), rng: uint64(alignUp(s.n, 4))}
}

// begin starts recording a command buffer if none is open.
func (b *Backend) begin() bool {
	if b.err != nil {
		return false
	}
	if b.recording {
		return true
	}
	r := vk.BeginCommandBuffer(b.cmd, &vk.CommandBufferBeginInfo{
		SType: vk.StructureTypeCommandBufferBeginInfo,
		Flags: vk.CommandBufferUsageFlags(vk.CommandBufferUsageOneTimeSubmitBit),
	})
	if err := vkErr("begin command buffer", r); err != nil {
		b.err = err
		return false
	}
	b.recording = true
	return true
}

// access records that the next command touches elements [lo, hi) of buf,
// first inserting a barrier when that conflicts with an access of the
// current epoch (read after write, write after read or write).
func (b *Backend) access(bs []binding) {
	conflict := false
	for _, x := range bs {
		if x.track == nil || conflict {
			continue
		}
		for _, s := range b.epoch[x.track] {
			if s.lo < x.hi && x.lo < s.hi && (s.write || x.write) {
				conflict = true
				break
			}
		}
	}
	if conflict {
		b.barrier()
	}
	for _, x := range bs {
		if x.track != nil {
			b.epoch[x.track] = append(b.epoch[x.track], span{x.lo, x.hi, x.write})
		}
	}
}

// barrier makes every earlier compute and transfer write visible to every
// later compute and transfer access, and starts a new epoch.
func (b *Backend) barrier() {
	stages := vk.PipelineStageFlags(vk.PipelineStageComputeShaderBit | vk.PipelineStageTransferBit)
	vk.CmdPipelineBarrier(b.cmd, stages, stages, 0, 1, []vk.MemoryBarrier{{
		SType:         vk.StructureTypeMemoryBarrier,
		SrcAccessMask: vk.AccessFlags(vk.AccessShaderWriteBit | vk.AccessTransferWriteBit),
		DstAccessMask: vk.AccessFlags(vk.AccessShaderReadBit | vk.AccessShaderWriteBit | vk.AccessTransferReadBit | vk.AccessTransferWriteBit),
	}}, 0, nil, 0, nil)
	clear(b.epoch)
	b.barriers++
}

// dispatch records one dispatch of shader name with the given bindings and
// push constants (at most 32 words) over gx x gy work groups.
func (b *Backend) dispatch(name string, bs []binding, pc []uint32, gx, gy uint32) {
	b.dispatchSpec(name, nil, bs, pc, gx, gy, 1)
}

// dispatchSpec is dispatch with specialization constants (see pipeline)
// and a third dimension of work groups.
func (b *Backend) dispatchSpec(name string, spec []uint32, bs []binding, pc []uint32, gx, gy, gz uint32) {
	if gx == 0 || gy == 0 || gz == 0 {
		return
	}
	if !b.begin() {
		return
	}
	p, err := b.pipeline(name, spec)
	if err != nil {
		b.err = err
		return
	}
	if len(bs) != p.bindings {
		panic(fmt.Sprintf("vulkan: shader %s takes %d bindings, got %d", name, p.bindings, len(bs)))
	}
	set, err := b.descriptorSet(p.bindings)
	if err != nil {
		b.err = err
		return
	}
	writes := make([]vk.WriteDescriptorSet, len(bs))
	for i, x := range bs {
		writes[i] = vk.WriteDescriptorSet{
			SType:           vk.StructureTypeWriteDescriptorSet,
			DstSet:          set,
			DstBinding:      uint32(i),
			DescriptorCount: 1,
			DescriptorType:  vk.DescriptorTypeStorageBuffer,
			PBufferInfo:     []vk.DescriptorBufferInfo{{Buffer: x.buf, Offset: vk.DeviceSize(x.offset), Range: vk.DeviceSize(x.rng)}},
		}
	}
	vk.UpdateDescriptorSets(b.d.dev, uint32(len(writes)), writes, 0, nil)
	b.access(bs)
	var push [pushBytes / 4]uint32
	copy(push[:], pc)
	vk.CmdBindPipeline(b.cmd, vk.PipelineBindPointCompute, p.pipe)
	vk.CmdBindDescriptorSets(b.cmd, vk.PipelineBindPointCompute, b.layouts[p.bindings], 0, 1, []vk.DescriptorSet{set}, 0, nil)
	vk.CmdPushConstants(b.cmd, b.layouts[p.bindings], vk.ShaderStageFlags(vk.ShaderStageComputeBit), 0, pushBytes, unsafe.Pointer(&push[0]))
	if b.prof != nil {
		kind := name
		if b.kind != "" {
			kind = b.kind
		}
		timed := b.profileBegin(kind)
		vk.CmdDispatch(b.cmd, gx, gy, gz)
		if timed {
			b.profileEnd()
		}
	} else {
		vk.CmdDispatch(b.cmd, gx, gy, gz)
	}
	b.batchDispatches++
	b.dispatches++
}

// descriptorSet allocates a set for a layout of n bindings from the batch's
// pools; the pools are reset when the batch completes.
func (b *Backend) descriptorSet(n int) (vk.DescriptorSet, error) {
	if b.curPool >= len(b.pools) || b.setsInPool >= setsPerPool {
		if b.curPool < len(b.pools) {
			b.curPool++
		}
		if b.curPool >= len(b.pools) {
			var pool vk.DescriptorPool
			r := vk.CreateDescriptorPool(b.d.dev, &vk.DescriptorPoolCreateInfo{
				SType:         vk.StructureTypeDescriptorPoolCreateInfo,
				MaxSets:       setsPerPool,
				PoolSizeCount: 1,
				PPoolSizes:    []vk.DescriptorPoolSize{{Type: vk.DescriptorTypeStorageBuffer, DescriptorCount: setsPerPool * maxBindings}},
			}, nil, &pool)
			if err := vkErr("create descriptor pool", r); err != nil {
				return vk.NullDescriptorSet, err
			}
			b.pools = append(b.pools, pool)
		}
		b.setsInPool = 0
	}
	var set vk.DescriptorSet
	r := vk.AllocateDescriptorSets(b.d.dev, &vk.DescriptorSetAllocateInfo{
		SType:              vk.StructureTypeDescriptorSetAllocateInfo,
		DescriptorPool:     b.pools[b.curPool],
		DescriptorSetCount: 1,
		PSetLayouts:        []vk.DescriptorSetLayout{b.setLayouts[n]},
	}, &set)
	if err := vkErr("allocate descriptor set", r); err != nil {
		return vk.NullDescriptorSet, err
	}
	b.setsInPool++
	return set, nil
}

// op is called at the start of every op: past the batch limits it submits
// the work recorded so far. (Not inside dispatch: an op's staged inputs
// must survive until its own dispatches are recorded.)
func (b *Backend) op() {
	if b.batchDispatches >= maxBatchDispatches || b.batchStaged >= maxBatchStaged {
		b.flush()
	}
}

// copyBuffer records a transfer of size bytes.
func (b *Backend) copyBuffer(src, dst binding, size uint64) {
	if !b.begin() {
		return
	}
	b.access([]binding{src, dst})
	vk.CmdCopyBuffer(b.cmd, src.buf, dst.buf, 1, []vk.BufferCopy{{
		SrcOffset: vk.DeviceSize(src.offset), DstOffset: vk.DeviceSize(dst.offset), Size: vk.DeviceSize(size),
	}})
}

// flush submits the recorded batch, waits for it, and releases what the
// batch held (descriptor sets, arena regions, buffers freed meanwhile).
// Errors stick in b.err and are returned by later Reads and Syncs.
func (b *Backend) flush() {
	if b.recording {
		b.recording = false
		// Make transfer and shader writes visible to host reads of the arena.
		vk.CmdPipelineBarrier(b.cmd,
			vk.PipelineStageFlags(vk.PipelineStageComputeShaderBit|vk.PipelineStageTransferBit),
			vk.PipelineStageFlags(vk.PipelineStageHostBit), 0, 1, []vk.MemoryBarrier{{
				SType:         vk.StructureTypeMemoryBarrier,
				SrcAccessMask: vk.AccessFlags(vk.AccessShaderWriteBit | vk.AccessTransferWriteBit),
				DstAccessMask: vk.AccessFlags(vk.AccessHostReadBit),
			}}, 0, nil, 0, nil)
		if err := vkErr("end command buffer", vk.EndCommandBuffer(b.cmd)); err != nil && b.err == nil {
			b.err = err
		}
		if b.err == nil {
			r := vk.QueueSubmit(b.d.queue, 1, []vk.SubmitInfo{{
				SType:              vk.StructureTypeSubmitInfo,
				CommandBufferCount: 1,
				PCommandBuffers:    []vk.CommandBuffer{b.cmd},
			}}, b.fence)
			if err := vkErr("queue submit", r); err != nil {
				b.err = err
			} else {
				r := vk.WaitForFences(b.d.dev, 1, []vk.Fence{b.fence}, vk.True, math.MaxUint64)
				if err := vkErr("wait for queue", r); err != nil {
					b.err = err
				}
				vk.ResetFences(b.d.dev, 1, []vk.Fence{b.fence})
			}
			if b.err == nil {
				b.profileCollect()
			}
			if b.err == nil && b.afterWait != nil {
				b.afterWait()
			}
		}
		vk.ResetCommandPool(b.d.dev, b.cmdPool, 0)
		b.submits++
	}
	for _, p := range b.pools[:min(b.curPool+1, len(b.pools))] {
		vk.ResetDescriptorPool(b.d.dev, p, 0)
	}
	b.curPool, b.setsInPool = 0, 0
	clear(b.epoch)
	b.resetArena()
	for _, x := range b.freeLater {
		b.unreserve(x)
	}
	b.freeLater = b.freeLater[:0]
	b.batchDispatches = 0
	b.afterWait = nil
	if b.prof != nil {
		b.prof.labels = b.prof.labels[:0]
	}
}
