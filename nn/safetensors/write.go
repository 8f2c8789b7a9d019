package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"

	"github.com/goarpo/arpo/internal/atomicfile"
)

// WriteFile writes ts as F32 to path, replacing any old file atomically (a
// crash leaves the old file or the complete new one). meta, which may be
// nil, becomes the header's __metadata__. Equal inputs give equal bytes.
func WriteFile(path string, ts map[string]Tensor, meta map[string]string) error {
	return WriteFileAs(path, ts, meta, "F32")
}

// WriteFileAs is WriteFile storing every tensor as dtype: "F32", "BF16" or
// "F16". Narrowing rounds to nearest, ties to even, as PyTorch's
// tensor.to(torch.bfloat16) does; values beyond the range become infinite
// and NaNs stay NaN.
func WriteFileAs(path string, ts map[string]Tensor, meta map[string]string, dtype string) error {
	// Encode the header first so that bad input fails before touching disk.
	hdr, names, err := encodeHeader(ts, meta, dtype)
	if err != nil {
		return fmt.Errorf("safetensors: %s: %w", path, err)
	}
	err = atomicfile.WriteFile(path, func(w io.Writer) error {
		return writeBody(w, hdr, names, ts, dtype)
	})
	if err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	return nil
}

// Write writes ts as an F32 safetensors file to w; see WriteFile.
func Write(w io.Writer, ts map[string]Tensor, meta map[string]string) error {
	hdr, names, err := encodeHeader(ts, meta, "F32")
	if err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	return writeBody(w, hdr, names, ts, "F32")
}

// writeBody writes the header length, the padded header and the data.
func writeBody(w io.Writer, hdr []byte, names []string, ts map[string]Tensor, dtype string) error {
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(hdr)))
	if _, err := w.Write(lenBuf[:]); err != nil {
		return err
	}
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	size := int(dtypeSize[dtype])
	buf := make([]byte, 64<<10)
	for _, name := range names {
		data := ts[name].Data
		for len(data) > 0 {
			n := min(len(data), len(buf)/size)
			switch dtype {
			case "F32":
				for i, v := range data[:n] {
					binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
				}
			case "BF16":
				for i, v := range data[:n] {
					binary.LittleEndian.PutUint16(buf[2*i:], F32ToBF16(v))
				}
			case "F16":
				for i, v := range data[:n] {
					binary.LittleEndian.PutUint16(buf[2*i:], F32ToF16(v))
				}
			}
			if _, err := w.Write(buf[:size*n]); err != nil {
				return err
			}
			data = data[n:]
		}
	}
	return nil
}

// WritableDTypes are the dtypes WriteFileAs stores.
var WritableDTypes = []string{"F32", "BF16", "F16"}

// encodeHeader validates ts and builds the JSON header the way the Python
// library does: __metadata__ first, then tensors sorted by name (all share
// one dtype, so name order is its order too) with contiguous offsets, compact
// JSON, padded with spaces to a multiple of 8 bytes so that the data section
// starts 8-byte aligned. It returns the header and the tensor names in order.
func encodeHeader(ts map[string]Tensor, meta map[string]string, dtype string) ([]byte, []string, error) {
	if !slices.Contains(WritableDTypes, dtype) {
		return nil, nil, fmt.Errorf("cannot write dtype %q (want one of %v)", dtype, WritableDTypes)
	}
	size := dtypeSize[dtype]
	names := slices.Sorted(maps.Keys(ts))
	var b bytes.Buffer
	b.WriteByte('{')
	if len(meta) > 0 {
		writeString(&b, metadataKey)
		b.WriteString(":{")
		for i, k := range slices.Sorted(maps.Keys(meta)) {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(&b, k)
			b.WriteByte(':')
			writeString(&b, meta[k])
		}
		b.WriteByte('}')
	}
	var off int64
	for i, name := range names {
		t := ts[name]
		if name == metadataKey {
			return nil, nil, fmt.Errorf("tensor name %q is reserved", name)
		}
		if numel, ok := shapeNumel(t.Shape); !ok || numel != len(t.Data) {
			return nil, nil, fmt.Errorf("tensor %q: shape %v does not match len(Data) = %d", name, t.Shape, len(t.Data))
		}
		if i > 0 || len(meta) > 0 {
			b.WriteByte(',')
		}
		writeString(&b, name)
		b.WriteString(`:{"dtype":"` + dtype + `","shape":[`)
		for j, d := range t.Shape {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Itoa(d))
		}
		end := off + size*int64(len(t.Data))
		fmt.Fprintf(&b, `],"data_offsets":[%d,%d]}`, off, end)
		off = end
	}
	b.WriteByte('}')
	for b.Len()%8 != 0 {
		b.WriteByte(' ')
	}
	return b.Bytes(), names, nil
}

// writeString writes s as a JSON string without encoding/json's HTML
// escaping of <, > and &, which the Python library does not do either.
func writeString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)           // cannot fail for a string
	b.Truncate(b.Len() - 1) // Encode's trailing newline
}

// shapeNumel is the product of shape; ok is false for a negative dimension
// or a product that overflows int.
func shapeNumel(shape []int) (n int, ok bool) {
	for _, d := range shape {
		if d < 0 {
			return 0, false
		}
		if d == 0 {
			return 0, true
		}
	}
	n = 1
	for _, d := range shape {
		if n > math.MaxInt/d {
			return 0, false
		}
		n *= d
	}
	return n, true
}
