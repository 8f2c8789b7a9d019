// Package vulkan is the Vulkan compute implementation of backend.Backend:
// float32 ops as GLSL compute shaders (shaders/*.comp, compiled to the
// SPIR-V in shaders/spv and embedded), run on any Vulkan 1.1 device (AMD,
// Intel and NVIDIA GPUs, or Mesa's lavapipe software driver).
//
// Importing the package registers the backend as "vulkan". The real
// implementation needs the build tags vulkan and cgo and libvulkan at run
// time; without them Open returns a "vulkan backend unavailable" error and
// the default build stays pure Go.
//
// Buffers live in device memory for their whole life, as aligned ranges of
// large memory blocks (memory.go, suballoc.go). The GEMM kernel is chosen
// by shape (gemm_plan.go): gemv for decode, register-tiled kernels in three
// tile sizes, split over k for thin products. Attention runs FlashAttention
// style (blocks of rows, tiles in shared memory, online softmax), and
// decode's paged attention splits long contexts over the keys. SetProfile
// times every dispatch with GPU timestamps. Ops are recorded into
// one command buffer, with a pipeline barrier only where a dispatch touches
// elements an earlier dispatch of the same batch wrote (or writes elements
// one read); the batch is submitted when the caller reads back or syncs.
// Host data (Write, token ids, positions) goes through a host-visible upload
// arena that lives until the batch completes. Every reduction runs in a fixed
// order (split-K and split keys are merged by a second pass in split order),
// and no shader uses float atomics, so results are bitwise reproducible on
// one device and driver.
//
// The backend also implements backend.BF16 (bf16.go): bf16 buffers hold
// two elements per 32-bit word (no device extension needed), ToBF16 rounds
// on the bits exactly as the CPU backend, and GemmBF16 is gemm_tiled.comp
// specialised for bf16 or rounded-float32 operands (gemv_bf16.comp for
// decode), both summing in k segments fixed by k alone so that no row of C
// depends on m.
//
// What this package is not for: multi-device work, float16, or ops
// outside backend.Backend and backend.BF16. See docs/VULKAN.md for how to
// run it on a GPU.
package vulkan

//go:generate sh shaders/build.sh
