package safetensors

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/goarpo/arpo/asm"
)

// ReadInto reads the named tensor into dst, converting it to float32 as
// Read does; len(dst) must be its number of elements. A loader that reuses
// one dst for every tensor holds the model plus its largest tensor, where
// one fresh slice per tensor would leave garbage the size of the model
// before the collector runs.
func (f *File) ReadInto(name string, dst []float32) error {
	ti, err := f.info(name, len(dst))
	if err != nil {
		return err
	}
	decode, ok := decoders[ti.DType]
	if !ok {
		return fmt.Errorf("safetensors: %s: tensor %q: unsupported dtype %s (want F32, F16, BF16, F64, I32 or I64)",
			f.path, name, ti.DType)
	}
	return f.readChunks(name, ti, len(dst), func(i, n int, b []byte) { decode(dst[i:i+n], b) })
}

// ReadBF16Into reads the named tensor into dst as bf16 bits, without
// widening it to float32: each element is asm.BF16FromF32 of the value Read
// gives, the bits the backend's GemmBF16 reads of that float32 operand. So
// BF16 is copied as stored, except that a denormal becomes a zero of its
// sign and a signalling NaN turns quiet (VDPBF16PS treats denormal inputs
// as zero; keeping them would make the bf16 kernels' variants disagree); F32
// is rounded to nearest, ties to even; F16 is widened exactly, then rounded
// the same way. Other dtypes are refused, in one line. len(dst) must be the
// tensor's number of elements.
func (f *File) ReadBF16Into(name string, dst []uint16) error {
	ti, err := f.info(name, len(dst))
	if err != nil {
		return err
	}
	var decode func(dst []uint16, src []byte)
	switch ti.DType {
	case "BF16":
		decode = func(dst []uint16, src []byte) {
			if v := asU16(src); v != nil {
				canonBF16(dst, v)
				return
			}
			for i := range dst {
				dst[i] = asm.BF16FromF32(BF16ToF32(binary.LittleEndian.Uint16(src[2*i:])))
			}
		}
	case "F32":
		decode = func(dst []uint16, src []byte) {
			if v := asF32(src); v != nil {
				asm.F32ToBF16(dst, v) // vectorised
				return
			}
			for i := range dst {
				dst[i] = asm.BF16FromF32(decodeOneF32(src[4*i:]))
			}
		}
	case "F16":
		decode = func(dst []uint16, src []byte) {
			for i := range dst {
				dst[i] = asm.BF16FromF32(F16ToF32(binary.LittleEndian.Uint16(src[2*i:])))
			}
		}
	default:
		return fmt.Errorf("safetensors: %s: tensor %q: dtype %s cannot be read as bf16 (want BF16, F32 or F16)", f.path, name, ti.DType)
	}
	return f.readChunks(name, ti, len(dst), func(i, n int, b []byte) { decode(dst[i:i+n], b) })
}

// info returns the named tensor's entry, checking that it has n elements.
func (f *File) info(name string, n int) (TensorInfo, error) {
	ti, ok := f.h.tensors[name]
	if !ok {
		return ti, fmt.Errorf("safetensors: %s: no tensor %q", f.path, name)
	}
	if ti.Numel() != n {
		return ti, fmt.Errorf("safetensors: %s: tensor %q has %d elements (shape %v), read into %d", f.path, name, ti.Numel(), ti.Shape, n)
	}
	return ti, nil
}

// readChunks reads the n elements of ti readChunk bytes at a time and
// hands each run of elements (its first index, its count, its bytes) to
// decode.
func (f *File) readChunks(name string, ti TensorInfo, n int, decode func(i, n int, b []byte)) error {
	if n == 0 {
		return nil
	}
	size := int(dtypeSize[ti.DType])
	buf := make([]byte, min(readChunk, ti.End-ti.Begin))
	perChunk := len(buf) / size
	for i := 0; i < n; i += perChunk {
		k := min(perChunk, n-i)
		b := buf[:k*size]
		if err := readFull(f.r, b, f.dataStart+ti.Begin+int64(i*size)); err != nil {
			return fmt.Errorf("safetensors: %s: tensor %q: %w", f.path, name, err)
		}
		decode(i, k, b)
	}
	return nil
}

// decodeOneF32 is the little-endian float32 at the start of b.
func decodeOneF32(b []byte) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b)) }

// canonBF16 sets dst[i] = asm.BF16FromF32 of src[i] widened, without the
// round trip: a denormal becomes a zero of its sign, a signalling NaN
// quiet, anything else stays.
func canonBF16(dst, src []uint16) {
	dst = dst[:len(src)]
	for i, h := range src {
		switch {
		case h&0x7f80 == 0:
			h &= 0x8000
		case h&0x7fff > 0x7f80:
			h |= 0x40
		}
		dst[i] = h
	}
}
