//go:build !noasm

package asm

// The 4 x 32 and 8 x 32 kernels in bf16_amd64.s (bf16_gen.go's genKernel
// with mr = 4 and 8).
//
//go:noescape
func bgemmKernel4x32AVX512BF16(kq int, a, b *uint32, c *float32, ldc int, alpha, beta float32)

//go:noescape
func bgemmKernel4x32AVX512(kq int, a, b *uint32, c *float32, ldc int, alpha, beta float32)

//go:noescape
func bgemmKernel8x32AVX512BF16(kq int, a, b *uint32, c *float32, ldc int, alpha, beta float32)

//go:noescape
func bgemmKernel8x32AVX512(kq int, a, b *uint32, c *float32, ldc int, alpha, beta float32)

var (
	bgemmAVX512BF16x4x32 = &BgemmKernel{Name: "avx512bf16-4x32", MR: 4, NR: 32, fn: bgemmKernel4x32AVX512BF16}
	bgemmAVX512x4x32     = &BgemmKernel{Name: "avx512-4x32", MR: 4, NR: 32, wideA: true, fn: bgemmKernel4x32AVX512}
	bgemmAVX512BF16x8x32 = &BgemmKernel{Name: "avx512bf16-8x32", MR: 8, NR: 32, fn: bgemmKernel8x32AVX512BF16}
	bgemmAVX512x8x32     = &BgemmKernel{Name: "avx512-8x32", MR: 8, NR: 32, wideA: true, fn: bgemmKernel8x32AVX512}
)

func init() {
	bgemmSmallOf[bgemmAVX512BF16x14x32] = []*BgemmKernel{bgemmAVX512BF16x4x32, bgemmAVX512BF16x8x32}
	bgemmSmallOf[bgemmAVX512x14x32] = []*BgemmKernel{bgemmAVX512x4x32, bgemmAVX512x8x32}
}
