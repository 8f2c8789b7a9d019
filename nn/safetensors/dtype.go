package safetensors

import (
	"encoding/binary"
	"math"
	"unsafe"

	"github.com/goarpo/arpo/asm"
)

// dtypeSize is the byte size of every dtype the format defines. Knowing all
// of them lets us validate and partly load a file that holds, say, a U8
// mask next to float weights; only reading such a tensor is an error.
var dtypeSize = map[string]int64{
	"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1,
	"I16": 2, "U16": 2, "F16": 2, "BF16": 2,
	"I32": 4, "U32": 4, "F32": 4,
	"I64": 8, "U64": 8, "F64": 8,
}

// decoder converts n elements of one dtype from little-endian src
// (len n*size) into dst (len n).
type decoder func(dst []float32, src []byte)

// decoders holds the dtypes Read converts to float32.
var decoders = map[string]decoder{
	"F32":  decodeF32,
	"F16":  decodeF16,
	"BF16": decodeBF16,
	"F64":  decodeF64,
	"I32":  decodeI32,
	"I64":  decodeI64,
}

func decodeF32(dst []float32, src []byte) {
	if v := asF32(src); v != nil {
		copy(dst, v)
		return
	}
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
	}
}

func decodeF16(dst []float32, src []byte) {
	for i := range dst {
		dst[i] = F16ToF32(binary.LittleEndian.Uint16(src[2*i:]))
	}
}

func decodeBF16(dst []float32, src []byte) {
	if v := asU16(src); v != nil {
		asm.BF16ToF32(dst, v) // vectorised
		return
	}
	for i := range dst {
		dst[i] = BF16ToF32(binary.LittleEndian.Uint16(src[2*i:]))
	}
}

// decodeF64 rounds to nearest float32; values beyond float32's range become ±Inf.
func decodeF64(dst []float32, src []byte) {
	for i := range dst {
		dst[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(src[8*i:])))
	}
}

// decodeI32 rounds integers above 2^24 in magnitude to the nearest float32.
func decodeI32(dst []float32, src []byte) {
	for i := range dst {
		dst[i] = float32(int32(binary.LittleEndian.Uint32(src[4*i:])))
	}
}

func decodeI64(dst []float32, src []byte) {
	for i := range dst {
		dst[i] = float32(int64(binary.LittleEndian.Uint64(src[8*i:])))
	}
}

// BF16ToF32 widens a bfloat16, which is exactly the top 16 bits of a
// float32, so the conversion is exact for every value including NaN payloads.
func BF16ToF32(h uint16) float32 {
	return math.Float32frombits(uint32(h) << 16)
}

// F16ToF32 widens an IEEE 754 half-precision value exactly: zeros keep their
// sign, subnormals become normal float32 values, infinities stay infinite,
// and NaNs keep their sign and payload (shifted into the top mantissa bits,
// as hardware conversions do).
func F16ToF32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0:
		// Subnormal: mant * 2^-24. Shift the mantissa up until its leading
		// one reaches the implicit bit, lowering the exponent each step.
		e := uint32(127 - 15 + 1)
		for mant&0x400 == 0 {
			mant <<= 1
			e--
		}
		return math.Float32frombits(sign | e<<23 | (mant&0x3ff)<<13)
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	default:
		return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
	}
}

// F32ToBF16 narrows a float32 to bfloat16, rounding to nearest with ties to
// even as PyTorch does; finite values past bfloat16's range round to
// infinity, and a NaN stays a (quiet) NaN with its sign.
func F32ToBF16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		return uint16(b>>16) | 0x40 // NaN: set the quiet bit so truncation cannot make it Inf
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}

// F32ToF16 narrows a float32 to IEEE 754 half precision, rounding to
// nearest with ties to even (subnormal results included); finite values past
// the range become infinite, and a NaN stays a quiet NaN with its sign.
func F32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff {
		if mant == 0 {
			return sign | 0x7c00
		}
		return sign | 0x7e00 | uint16(mant>>13)
	}
	e := exp - 127 + 15 // the half-precision biased exponent
	if e >= 0x1f {
		return sign | 0x7c00
	}
	var h, rest, half uint32
	if e <= 0 {
		// A subnormal half: the value is m24 * 2^(e-14-10) with the
		// implicit bit made explicit, i.e. m24 >> (14-e) units of 2^-24.
		if exp == 0 {
			return sign // float32 subnormals are far below half's range
		}
		shift := uint32(14 - e)
		if shift > 24 {
			return sign
		}
		m24 := mant | 0x800000
		h, rest, half = m24>>shift, m24&(1<<shift-1), 1<<(shift-1)
	} else {
		h, rest, half = uint32(e)<<10|mant>>13, mant&0x1fff, 0x1000
	}
	if rest > half || rest == half && h&1 == 1 {
		h++ // a carry out of the mantissa correctly bumps the exponent (up to Inf)
	}
	return sign | uint16(h)
}

// littleEndian says the host stores numbers as the format does, so that a
// chunk of the file can be read in place as a slice of its elements
// (asU16, asF32) instead of decoded one element at a time.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// asU16 returns b as little-endian uint16 elements, or nil on a big-endian
// host or for a misaligned b (never with Go's allocations at element
// offsets).
func asU16(b []byte) []uint16 {
	if !littleEndian || len(b) < 2 || uintptr(unsafe.Pointer(&b[0]))%2 != 0 {
		return nil
	}
	return unsafe.Slice((*uint16)(unsafe.Pointer(&b[0])), len(b)/2)
}

// asF32 is asU16 for float32 elements.
func asF32(b []byte) []float32 {
	if !littleEndian || len(b) < 4 || uintptr(unsafe.Pointer(&b[0]))%4 != 0 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), len(b)/4)
}
