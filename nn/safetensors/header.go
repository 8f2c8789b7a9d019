package safetensors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"unicode/utf8"
)

// maxHeaderLen bounds the JSON header. Real headers are kilobytes (a few MB
// for the largest models); a bigger claimed length means a corrupt file, and
// trusting it would allocate that much before any check could fail.
const maxHeaderLen = 100 << 20

// metadataKey is the reserved header entry holding free-form string metadata.
const metadataKey = "__metadata__"

// TensorInfo describes one tensor as the file's header records it.
type TensorInfo struct {
	DType string // e.g. "BF16"
	Shape []int  // e.g. [16, 128]; empty for a scalar
	// Begin and End are the tensor's byte range within the data section,
	// which starts right after the header.
	Begin, End int64
}

// Numel is the number of elements, the product of Shape (1 for a scalar).
func (ti TensorInfo) Numel() int {
	n := 1
	for _, d := range ti.Shape {
		n *= d
	}
	return n
}

// header is a parsed and validated header.
type header struct {
	meta    map[string]string
	tensors map[string]TensorInfo
	names   []string // sorted
}

// rawInfo is one tensor entry as JSON; pointers tell a missing field from a
// zero one.
type rawInfo struct {
	DType   *string  `json:"dtype"`
	Shape   *[]int64 `json:"shape"`
	Offsets *[]int64 `json:"data_offsets"`
}

// parseHeader decodes and validates the JSON header b of a file whose data
// section is dataLen bytes long. Errors name the tensor but not the file;
// the caller adds that.
func parseHeader(b []byte, dataLen int64) (header, error) {
	h := header{tensors: map[string]TensorInfo{}}
	// The Python library refuses these too; checking here keeps Go's lenient
	// decoder (which replaces invalid UTF-8) from accepting what others reject.
	if len(b) == 0 || b[0] != '{' {
		return h, errors.New("header does not start with '{'")
	}
	if !utf8.Valid(b) {
		return h, errors.New("header is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	err := decodeObject(dec, func(key string) error {
		if key == metadataKey {
			return decodeMetadata(dec, &h)
		}
		var raw rawInfo
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("tensor %q: invalid entry: %w", key, err)
		}
		ti, err := checkInfo(raw, dataLen)
		if err != nil {
			return fmt.Errorf("tensor %q: %w", key, err)
		}
		h.tensors[key] = ti
		h.names = append(h.names, key)
		return nil
	})
	if err != nil {
		return h, fmt.Errorf("invalid header: %w", err)
	}
	// The Python library pads the header with spaces; anything else after
	// the object means a damaged or foreign file.
	if rest := b[dec.InputOffset():]; len(bytes.TrimRight(rest, " \t\r\n")) != 0 {
		return h, fmt.Errorf("invalid header: %d unexpected bytes after the JSON object", len(rest))
	}
	slices.Sort(h.names)
	if err := checkTiling(h, dataLen); err != nil {
		return h, err
	}
	return h, nil
}

func decodeMetadata(dec *json.Decoder, h *header) error {
	h.meta = map[string]string{}
	return decodeObject(dec, func(k string) error {
		var v string
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("%s[%q]: values must be strings: %w", metadataKey, k, err)
		}
		h.meta[k] = v
		return nil
	})
}

// decodeObject reads one JSON object from dec, calling value for each key
// with dec positioned at that key's value, which value must consume.
// Duplicate keys are an error: encoding/json would silently keep the last.
func decodeObject(dec *json.Decoder, value func(key string) error) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("expected a JSON object, found %v", tok)
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, ok := tok.(string)
		if !ok {
			return fmt.Errorf("expected an object key, found %v", tok)
		}
		if seen[key] {
			return fmt.Errorf("duplicate name %q", key)
		}
		seen[key] = true
		if err := value(key); err != nil {
			return err
		}
	}
	_, err = dec.Token() // the closing '}'; More already checked it is next
	return err
}

// checkInfo validates one entry on its own: known dtype, non-negative shape,
// offsets inside the data section and matching the shape's byte size.
func checkInfo(raw rawInfo, dataLen int64) (TensorInfo, error) {
	var ti TensorInfo
	if raw.DType == nil || raw.Shape == nil || raw.Offsets == nil {
		return ti, errors.New("entry needs dtype, shape and data_offsets")
	}
	ti.DType = *raw.DType
	size, ok := dtypeSize[ti.DType]
	if !ok {
		return ti, fmt.Errorf("unknown dtype %q", ti.DType)
	}
	offs := *raw.Offsets
	if len(offs) != 2 {
		return ti, fmt.Errorf("data_offsets has %d values, want 2", len(offs))
	}
	ti.Begin, ti.End = offs[0], offs[1]
	if ti.Begin < 0 || ti.End < ti.Begin {
		return ti, fmt.Errorf("invalid data_offsets [%d, %d]", ti.Begin, ti.End)
	}
	if ti.End > dataLen {
		return ti, fmt.Errorf("data_offsets [%d, %d] run past the %d-byte data section (truncated file?)",
			ti.Begin, ti.End, dataLen)
	}
	ti.Shape = make([]int, len(*raw.Shape))
	numel := int64(1)
	for i, d := range *raw.Shape {
		if d < 0 {
			return ti, fmt.Errorf("negative dimension in shape %v", *raw.Shape)
		}
		if d > math.MaxInt {
			return ti, fmt.Errorf("dimension %d too large in shape %v", d, *raw.Shape)
		}
		ti.Shape[i] = int(d)
		if d == 0 {
			numel = 0
		}
	}
	// Bound the product by what the byte range can hold, so that it never
	// overflows and a lying shape cannot make Read allocate more than the
	// file holds; -1 marks "more than fits".
	limit := (ti.End - ti.Begin) / size
	for _, d := range *raw.Shape {
		if numel <= 0 {
			break
		}
		if numel > limit/d {
			numel = -1
			break
		}
		numel *= d
	}
	if numel > math.MaxInt {
		return ti, fmt.Errorf("shape %v too large for this platform", *raw.Shape)
	}
	if numel < 0 || numel*size != ti.End-ti.Begin {
		return ti, fmt.Errorf("shape %v of %s needs %s bytes, data_offsets [%d, %d] hold %d",
			*raw.Shape, ti.DType, needBytes(*raw.Shape, size), ti.Begin, ti.End, ti.End-ti.Begin)
	}
	return ti, nil
}

// needBytes formats the byte size of a shape for an error message, saying
// "more than 2^63" instead of overflowing.
func needBytes(shape []int64, size int64) string {
	n := size
	for _, d := range shape {
		if d != 0 && n > math.MaxInt64/d {
			return "more than 2^63"
		}
		n *= d
	}
	return fmt.Sprint(n)
}

// checkTiling requires the tensors' byte ranges to cover the data section
// exactly once, as the Python library does: no overlaps (two tensors
// aliasing bytes), no holes and no trailing bytes (room for hidden content).
func checkTiling(h header, dataLen int64) error {
	order := slices.Clone(h.names)
	slices.SortStableFunc(order, func(a, b string) int {
		ta, tb := h.tensors[a], h.tensors[b]
		if ta.Begin != tb.Begin {
			return cmpInt64(ta.Begin, tb.Begin)
		}
		return cmpInt64(ta.End, tb.End)
	})
	var at int64
	prev := ""
	for _, name := range order {
		ti := h.tensors[name]
		switch {
		case ti.Begin < at:
			return fmt.Errorf("tensor %q: data_offsets [%d, %d] overlap tensor %q ending at %d",
				name, ti.Begin, ti.End, prev, at)
		case ti.Begin > at:
			return fmt.Errorf("tensor %q: data_offsets [%d, %d] leave a gap after byte %d",
				name, ti.Begin, ti.End, at)
		}
		at, prev = ti.End, name
	}
	if at != dataLen {
		return fmt.Errorf("tensors cover %d bytes but the data section has %d (trailing bytes)", at, dataLen)
	}
	return nil
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
