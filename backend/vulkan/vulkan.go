//go:build vulkan && cgo

package vulkan

import (
	"embed"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"unsafe"

	"github.com/goarpo/arpo/backend"
	vk "github.com/vulkan-go/vulkan"
)

//go:embed shaders/spv/*.spv
var spirv embed.FS

func init() {
	backend.Register("vulkan", func(o backend.Options) (backend.Backend, error) {
		b, err := Open(o.Device)
		if err != nil {
			return nil, fmt.Errorf("vulkan backend unavailable: %w", err)
		}
		return b, nil
	})
}

// Backend is the Vulkan backend on one device. Like every backend it is for
// one goroutine at a time.
type Backend struct {
	d     *device
	align int // bytes; minStorageBufferOffsetAlignment, at least 4

	setLayouts [maxBindings + 1]vk.DescriptorSetLayout
	layouts    [maxBindings + 1]vk.PipelineLayout
	pipes      map[string]*pipeline

	cmdPool   vk.CommandPool
	cmd       vk.CommandBuffer
	fence     vk.Fence
	recording bool

	pools      []vk.DescriptorPool
	curPool    int
	setsInPool int

	chunks    []*chunk
	blocks    []*memBlock
	epoch     map[*Buffer][]span
	freeLater []*Buffer
	rope      map[ropeKey]*ropeTable
	scratch   *Buffer // small device buffer for SumSquares
	live      map[*Buffer]struct{}
	afterWait func() // run by flush once the batch completed, before the arena resets

	batchDispatches, batchStaged  int
	dispatches, barriers, submits int // totals, for tests and benchmarks

	// software is set on CPU devices (lavapipe), where some ops pick
	// shaders without shared memory.
	software bool
	prof     *profiler // GPU timestamps per dispatch; nil unless SetProfile(true)
	kind     string    // op kind of the next dispatches for the profile ("" = shader name)

	// perRowAttention, set by tests, forces attention.comp over
	// flash_attention.comp.
	perRowAttention bool
	// pagedChunkForced, set by tests, splits paged attention into chunks
	// of this many keys.
	pagedChunkForced int
	// pagedStagedForced, set by tests, has paged attention stage key
	// slices in shared memory on a software driver too.
	pagedStagedForced bool
	// gemmPlan, when set (by tests), replaces planGemm's choice.
	gemmPlan func(m, n, k int, transB bool) gemmPlan
	// gemmBF16Plan, when set (by tests), replaces planGemmBF16's choice.
	gemmBF16Plan func(m, n, k int, transB bool) gemmPlan

	err error // first device error; returned by Read and Sync
}

// pipeline is a compute pipeline with its shader's number of bindings.
type pipeline struct {
	pipe     vk.Pipeline
	module   vk.ShaderModule
	bindings int
}

// shaderBindings is the number of storage buffers each shader declares; it
// must match the GLSL in shaders/.
var shaderBindings = map[string]int{
	"copy": 2, "copy_bf16": 2, "to_bf16": 2, "fill": 1, "binary": 3, "scale": 1, "axpy": 2, "add_bias": 2,
	"sum_rows": 2, "sum_squares": 2, "gemm_noshared": 3, "gemm_tiled": 3, "gemm_splitk_reduce": 2, "gemv": 3, "gemv_bf16": 3, "embedding": 3, "embedding_backward": 3,
	"rmsnorm": 4, "rmsnorm_backward_dx": 5, "rmsnorm_backward_dw": 4, "rope": 3,
	"swiglu": 3, "swiglu_backward": 5, "softmax": 2, "logprobs": 4, "logprobs_backward": 5,
	"adamw": 4, "scatter_rows": 3, "scatter_rows_bf16": 3, "attention": 6, "flash_attention": 6, "flash_attention_dq": 9, "flash_attention_dkv": 9, "attention_dq": 9, "attention_dkv": 9,
	"paged_attention": 5, "paged_attention_split": 5, "paged_attention_combine": 3,
}

// Open opens the Vulkan device with the given index (see `vulkaninfo
// --summary` for the list).
func Open(device int) (b *Backend, err error) {
	d, err := openDevice(device)
	if err != nil {
		return nil, err
	}
	b = &Backend{d: d, align: max(4, int(d.limits.MinStorageBufferOffsetAlignment)),
		pipes: map[string]*pipeline{}, epoch: map[*Buffer][]span{}, rope: map[ropeKey]*ropeTable{}, live: map[*Buffer]struct{}{}}
	defer func() {
		if err != nil {
			b.Close()
		}
	}()
	b.software = d.devType == vk.PhysicalDeviceTypeCpu && os.Getenv("ARPO_VULKAN_GPU_KERNELS") == ""
	for n := 1; n <= maxBindings; n++ {
		bs := make([]vk.DescriptorSetLayoutBinding, n)
		for i := range bs {
			bs[i] = vk.DescriptorSetLayoutBinding{Binding: uint32(i), DescriptorType: vk.DescriptorTypeStorageBuffer,
				DescriptorCount: 1, StageFlags: vk.ShaderStageFlags(vk.ShaderStageComputeBit)}
		}
		var sl vk.DescriptorSetLayout
		r := vk.CreateDescriptorSetLayout(d.dev, &vk.DescriptorSetLayoutCreateInfo{
			SType: vk.StructureTypeDescriptorSetLayoutCreateInfo, BindingCount: uint32(n), PBindings: bs,
		}, nil, &sl)
		if err := vkErr("create descriptor set layout", r); err != nil {
			return nil, err
		}
		b.setLayouts[n] = sl
		var pl vk.PipelineLayout
		r = vk.CreatePipelineLayout(d.dev, &vk.PipelineLayoutCreateInfo{
			SType: vk.StructureTypePipelineLayoutCreateInfo, SetLayoutCount: 1, PSetLayouts: []vk.DescriptorSetLayout{sl},
			PushConstantRangeCount: 1,
			PPushConstantRanges:    []vk.PushConstantRange{{StageFlags: vk.ShaderStageFlags(vk.ShaderStageComputeBit), Size: pushBytes}},
		}, nil, &pl)
		if err := vkErr("create pipeline layout", r); err != nil {
			return nil, err
		}
		b.layouts[n] = pl
	}
	var pool vk.CommandPool
	r := vk.CreateCommandPool(d.dev, &vk.CommandPoolCreateInfo{
		SType: vk.StructureTypeCommandPoolCreateInfo, QueueFamilyIndex: d.family,
	}, nil, &pool)
	if err := vkErr("create command pool", r); err != nil {
		return nil, err
	}
	b.cmdPool = pool
	cmds := make([]vk.CommandBuffer, 1)
	r = vk.AllocateCommandBuffers(d.dev, &vk.CommandBufferAllocateInfo{
		SType: vk.StructureTypeCommandBufferAllocateInfo, CommandPool: pool,
		Level: vk.CommandBufferLevelPrimary, CommandBufferCount: 1,
	}, cmds)
	if err := vkErr("allocate command buffer", r); err != nil {
		return nil, err
	}
	b.cmd = cmds[0]
	var fence vk.Fence
	r = vk.CreateFence(d.dev, &vk.FenceCreateInfo{SType: vk.StructureTypeFenceCreateInfo}, nil, &fence)
	if err := vkErr("create fence", r); err != nil {
		return nil, err
	}
	b.fence = fence
	return b, nil
}

// withoutGC runs f, a call into the driver through vulkan-go, with the
// garbage collector off. vulkan-go copies a call's structs into C memory
// and frees that memory from a finalizer attached to a variable that is
// garbage as soon as its conversion returns, so a collection that
// completes while the driver still reads the structs frees them under it.
// A call of microseconds ends before any collection can complete; creating
// a pipeline compiles the shader (milliseconds, seconds on lavapipe under
// load), and a collection during it crashed vkCreateComputePipelines
// (SIGSEGV reading the freed specialization info, about one test run of
// the package in 20 on a loaded machine). debug.SetGCPercent(-1) waits for
// a running collection to finish and lets none start (the memory limit is
// lifted too, as it would start one); calls are serialised so that one
// cannot turn the collector back on under another.
func withoutGC(f func()) {
	noGC.Lock()
	defer noGC.Unlock()
	percent := debug.SetGCPercent(-1)
	limit := debug.SetMemoryLimit(math.MaxInt64)
	defer func() {
		debug.SetMemoryLimit(limit)
		debug.SetGCPercent(percent)
	}()
	f()
}

var noGC sync.Mutex

// pipeline returns the compute pipeline of shader name specialised with
// spec (the values of constant_id 0, 1, ...; nil for none), creating it on
// first use so that opening the backend compiles nothing.
func (b *Backend) pipeline(name string, spec []uint32) (*pipeline, error) {
	key := name
	if len(spec) > 0 {
		key = fmt.Sprint(name, spec)
	}
	if p := b.pipes[key]; p != nil {
		return p, nil
	}
	n, ok := shaderBindings[name]
	if !ok {
		panic("vulkan: unknown shader " + name)
	}
	raw, err := spirv.ReadFile("shaders/spv/" + name + ".spv")
	if err != nil {
		return nil, fmt.Errorf("shader %s: %w", name, err)
	}
	// The binding wants []uint32; embedded bytes carry no alignment promise.
	code := make([]uint32, len(raw)/4)
	for i := range code {
		code[i] = binary.LittleEndian.Uint32(raw[4*i:])
	}
	var mod vk.ShaderModule
	var r vk.Result
	withoutGC(func() {
		r = vk.CreateShaderModule(b.d.dev, &vk.ShaderModuleCreateInfo{
			SType: vk.StructureTypeShaderModuleCreateInfo, CodeSize: uint(len(code) * 4), PCode: code,
		}, nil, &mod)
	})
	runtime.KeepAlive(code)
	if err := vkErr("create shader module "+name, r); err != nil {
		return nil, err
	}
	var specInfo []vk.SpecializationInfo
	var pin runtime.Pinner
	defer pin.Unpin()
	if len(spec) > 0 {
		// The binding copies the map entries into C memory but passes
		// PData as is: pin it for the call.
		data := slices.Clone(spec)
		pin.Pin(&data[0])
		entries := make([]vk.SpecializationMapEntry, len(spec))
		for i := range entries {
			entries[i] = vk.SpecializationMapEntry{ConstantID: uint32(i), Offset: uint32(4 * i), Size: 4}
		}
		specInfo = []vk.SpecializationInfo{{MapEntryCount: uint32(len(entries)), PMapEntries: entries,
			DataSize: uint(4 * len(data)), PData: unsafe.Pointer(&data[0])}}
	}
	pipes := make([]vk.Pipeline, 1)
	withoutGC(func() {
		r = vk.CreateComputePipelines(b.d.dev, vk.NullPipelineCache, 1, []vk.ComputePipelineCreateInfo{{
			SType: vk.StructureTypeComputePipelineCreateInfo,
			Stage: vk.PipelineShaderStageCreateInfo{
				SType: vk.StructureTypePipelineShaderStageCreateInfo, Stage: vk.ShaderStageComputeBit,
				Module: mod, PName: cstr("main"), PSpecializationInfo: specInfo,
			},
			Layout: b.layouts[n],
		}}, nil, pipes)
	})
	if err := vkErr("create compute pipeline "+name, r); err != nil {
		vk.DestroyShaderModule(b.d.dev, mod, nil)
		return nil, err
	}
	p := &pipeline{pipe: pipes[0], module: mod, bindings: n}
	b.pipes[key] = p
	return p, nil
}

// Name implements backend.Backend: the device's name, type, API version
// and the limits that matter to this backend.
func (b *Backend) Name() string { return "vulkan (" + b.d.info + ")" }

// DeviceName is the device's name as the driver reports it.
func (b *Backend) DeviceName() string { return b.d.name }

// Stats returns the number of dispatches, pipeline barriers and queue
// submissions so far.
func (b *Backend) Stats() (dispatches, barriers, submits int) {
	return b.dispatches, b.barriers, b.submits
}

// Supports implements backend.Backend: every op of the interface is
// implemented, and those of backend.BF16 and backend.BF16KV.
func (b *Backend) Supports(op backend.Op) bool {
	return slices.Contains(backend.AllOps, op) || slices.Contains(backend.BF16Ops, op) || slices.Contains(backend.BF16KVOps, op)
}

// Alloc implements backend.Backend. A failed allocation is a device error:
// it is returned by the next Read or Sync, and ops on the buffer are
// skipped.
func (b *Backend) Alloc(n int) backend.Buffer {
	if n < 0 {
		panic(fmt.Sprintf("vulkan: Alloc(%d)", n))
	}
	return b.alloc(n, true)
}

// alloc returns a buffer of n float32 elements, zeroed in queue order when
// zero is set. On failure it records the error and returns a buffer
// without memory (buf nil).
func (b *Backend) alloc(n int, zero bool) *Buffer {
	return b.allocWords(&Buffer{n: n, owner: b}, uint64(max(n, 1)), zero)
}

// allocWords gives x (n elements of its type) memory for words 32-bit
// words.
func (b *Backend) allocWords(x *Buffer, words uint64, zero bool) *Buffer {
	n := x.n
	if b.err != nil {
		return x
	}
	size := words * 4
	blk, base, err := b.reserve(size)
	if err != nil {
		what := "floats"
		if x.bf16 {
			what = "bf16 elements"
		}
		b.err = fmt.Errorf("alloc %d %s: %w", n, what, err)
		return x
	}
	x.block, x.buf, x.base = blk, blk.buf, base
	x.size = (size + b.blockAlign() - 1) &^ (b.blockAlign() - 1)
	b.live[x] = struct{}{}
	if zero && b.begin() {
		b.access([]binding{{track: x, lo: 0, hi: n, write: true}})
		vk.CmdFillBuffer(b.cmd, x.buf, vk.DeviceSize(base), vk.DeviceSize(size), 0)
	}
	return x
}

// Free implements backend.Backend. The memory is released once the work
// queued so far has completed.
func (b *Backend) Free(buf backend.Buffer) {
	x := b.buffer(buf)
	x.freed = true
	delete(b.epoch, x)
	delete(b.live, x)
	if x.block == nil {
		return
	}
	if b.recording {
		b.freeLater = append(b.freeLater, x)
		return
	}
	b.unreserve(x)
}

// buffer checks that buf is a live buffer of this backend.
func (b *Backend) buffer(buf backend.Buffer) *Buffer {
	x, ok := buf.(*Buffer)
	if !ok || x.owner != b {
		panic(fmt.Sprintf("vulkan: buffer %T does not belong to this backend", buf))
	}
	if x.freed {
		panic("vulkan: use of a freed buffer")
	}
	return x
}

// view checks that v is a float32 view holding n elements and binds them.
func (b *Backend) view(v backend.View, n int, write bool) (binding, uint32) {
	x := b.buffer(v.Buf)
	if x.bf16 {
		panic("vulkan: a float32 op got a bf16 buffer (bf16 buffers are read by the ops of backend.BF16 and backend.BF16KV only)")
	}
	if v.Off < 0 || n < 0 || v.Off+n > x.n {
		panic(fmt.Sprintf("vulkan: view [%d, %d) outside a buffer of %d elements", v.Off, v.Off+n, x.n))
	}
	return b.bindView(x, v.Off, n, write)
}

// Write implements backend.Backend: src is staged in host-visible memory
// and copied in order with the queued ops.
func (b *Backend) Write(dst backend.View, src []float32) {
	bd, _ := b.view(dst, len(src), true)
	if len(src) == 0 || b.err != nil {
		return
	}
	b.op()
	s, err := b.stage(len(src) * 4)
	if err != nil {
		b.err = err
		return
	}
	copy(s.floats(), src)
	bd.offset, bd.rng = bd.track.base+uint64(dst.Off)*4, uint64(len(src))*4
	b.copyBuffer(bindStaged(s), bd, uint64(len(src))*4)
}

// Read implements backend.Backend.
func (b *Backend) Read(dst []float32, src backend.View) error {
	bs, _ := b.view(src, len(dst), false)
	if b.err != nil {
		return b.err
	}
	if len(dst) == 0 {
		return b.Sync()
	}
	b.op()
	s, err := b.stage(len(dst) * 4)
	if err != nil {
		b.err = err
		return err
	}
	bs.offset, bs.rng = bs.track.base+uint64(src.Off)*4, uint64(len(dst))*4
	b.copyBuffer(bs, bindStaged(s), uint64(len(dst))*4)
	b.flushKeep(func() { copy(dst, s.floats()) })
	return b.err
}

// flushKeep flushes and runs fn after the batch completed but before the
// arena is reset.
func (b *Backend) flushKeep(fn func()) {
	b.afterWait = fn
	b.flush()
}

// Sync implements backend.Backend.
func (b *Backend) Sync() error {
	b.flush()
	return b.err
}

// Close waits for the device and releases everything; the backend and its
// buffers must not be used afterwards.
func (b *Backend) Close() {
	if b.d == nil {
		return
	}
	b.flush()
	dev := b.d.dev
	if dev != nil {
		vk.DeviceWaitIdle(dev)
		b.releaseArena()
		for x := range b.live {
			x.freed = true
		}
		clear(b.live)
		for _, blk := range b.blocks {
			b.d.freeVkBuffer(blk.buf, blk.mem)
		}
		b.blocks = nil
		for _, p := range b.pipes {
			vk.DestroyPipeline(dev, p.pipe, nil)
			vk.DestroyShaderModule(dev, p.module, nil)
		}
		for _, p := range b.pools {
			vk.DestroyDescriptorPool(dev, p, nil)
		}
		b.releaseProfiler()
		if b.fence != vk.NullFence {
			vk.DestroyFence(dev, b.fence, nil)
		}
		if b.cmdPool != vk.NullCommandPool {
			vk.DestroyCommandPool(dev, b.cmdPool, nil)
		}
		for n := 1; n <= maxBindings; n++ {
			if b.layouts[n] != vk.NullPipelineLayout {
				vk.DestroyPipelineLayout(dev, b.layouts[n], nil)
			}
			if b.setLayouts[n] != vk.NullDescriptorSetLayout {
				vk.DestroyDescriptorSetLayout(dev, b.setLayouts[n], nil)
			}
		}
	}
	b.d.close()
	b.d = nil
}

var _ backend.Backend = (*Backend)(nil)
