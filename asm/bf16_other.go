//go:build !amd64 || noasm

package asm

func init() {
	bgemmAll = []*BgemmKernel{bgemmGeneric}
	bgemmBest = bgemmGeneric
}

// bf16Converter is one variant of the two conversions, for tests.
type bf16Converter struct {
	name   string
	from   func(dst []uint16, src []float32)
	to     func(dst []float32, src []uint16)
	usable bool
}

func bf16Converters() []bf16Converter {
	return []bf16Converter{{"generic", bf16FromF32Generic, bf16ToF32Generic, true}}
}

// BF16PeakFlops is the work of one iteration of BF16Peak.
const BF16PeakFlops = 24 * 64

// BF16Peak has no assembly here: it reports false.
func BF16Peak(n int) bool { return false }

// F32PeakFlops is the work of one iteration of F32Peak.
const F32PeakFlops = 24 * 32

// F32Peak has no assembly here: it reports false.
func F32Peak(n int) bool { return false }
