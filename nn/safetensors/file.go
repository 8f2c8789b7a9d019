package safetensors

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
)

// Tensor is a dense row-major tensor: len(Data) is the product of Shape
// (1 for a scalar, whose Shape is empty).
type Tensor struct {
	Shape []int     // e.g. [16, 128]
	Data  []float32 // row-major, len = product of Shape
	// DType is the dtype the file stored the tensor in, e.g. "BF16", set by
	// Read so that loaders can check it against the model's config;
	// writers ignore it (they write F32).
	DType string
}

// File is an open safetensors file whose header has been read and
// validated; tensor data is read only when asked for. Its methods are safe
// for concurrent use (reads go through ReadAt), except Close.
type File struct {
	path      string
	r         io.ReaderAt
	closer    io.Closer
	dataStart int64 // offset of the data section within the file
	h         header
}

// Open reads and validates the header of the safetensors file at path.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	sf, err := newFile(path, f, st.Size())
	if err != nil {
		f.Close()
		return nil, err
	}
	sf.closer = f
	return sf, nil
}

// newFile parses the header of size bytes readable from r; path is only
// used in messages. It lets tests and the fuzzer work on memory.
func newFile(path string, r io.ReaderAt, size int64) (*File, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("safetensors: %s: "+format, append([]any{path}, args...)...)
	}
	if size < 8 {
		return nil, fail("file is %d bytes, too short for the 8-byte header length", size)
	}
	var lenBuf [8]byte
	if err := readFull(r, lenBuf[:], 0); err != nil {
		return nil, fail("reading header length: %w", err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > maxHeaderLen {
		return nil, fail("header length %d exceeds the %d-byte limit (corrupt or not a safetensors file)", n, maxHeaderLen)
	}
	if int64(n) > size-8 {
		return nil, fail("header length %d exceeds the file size %d (truncated?)", n, size)
	}
	hb := make([]byte, n)
	if err := readFull(r, hb, 8); err != nil {
		return nil, fail("reading header: %w", err)
	}
	dataStart := 8 + int64(n)
	h, err := parseHeader(hb, size-dataStart)
	if err != nil {
		return nil, fail("%w", err)
	}
	return &File{path: path, r: r, dataStart: dataStart, h: h}, nil
}

// Close closes the underlying file.
func (f *File) Close() error {
	if f.closer == nil {
		return nil
	}
	return f.closer.Close()
}

// Path is the path the file was opened from.
func (f *File) Path() string { return f.path }

// Names lists the tensors in the file, sorted.
func (f *File) Names() []string { return slices.Clone(f.h.names) }

// Info describes the named tensor; ok is false when the file lacks it.
func (f *File) Info(name string) (ti TensorInfo, ok bool) {
	ti, ok = f.h.tensors[name]
	ti.Shape = slices.Clone(ti.Shape)
	return ti, ok
}

// Metadata returns a copy of the header's __metadata__ (empty when absent).
func (f *File) Metadata() map[string]string {
	m := maps.Clone(f.h.meta)
	if m == nil {
		m = map[string]string{}
	}
	return m
}

// readChunk is how many bytes Read converts at a time, so that reading a
// tensor needs only its float32 result plus this much scratch.
const readChunk = 1 << 20

// Read reads the named tensor, converting it to float32.
func (f *File) Read(name string) (Tensor, error) {
	ti, ok := f.h.tensors[name]
	if !ok {
		return Tensor{}, fmt.Errorf("safetensors: %s: no tensor %q", f.path, name)
	}
	if _, ok := decoders[ti.DType]; !ok {
		return Tensor{}, fmt.Errorf("safetensors: %s: tensor %q: unsupported dtype %s (want F32, F16, BF16, F64, I32 or I64)",
			f.path, name, ti.DType)
	}
	t := Tensor{Shape: slices.Clone(ti.Shape), Data: make([]float32, ti.Numel()), DType: ti.DType}
	if err := f.ReadInto(name, t.Data); err != nil {
		return Tensor{}, err
	}
	return t, nil
}

// ReadAll reads every tensor in the file.
func (f *File) ReadAll() (map[string]Tensor, error) {
	ts := make(map[string]Tensor, len(f.h.names))
	for _, name := range f.h.names {
		t, err := f.Read(name)
		if err != nil {
			return nil, err
		}
		ts[name] = t
	}
	return ts, nil
}

// ReadFile reads every tensor of the safetensors file at path as float32.
func ReadFile(path string) (map[string]Tensor, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.ReadAll()
}

// ReadMetadata returns the __metadata__ of the file at path without
// reading any tensor data.
func ReadMetadata(path string) (map[string]string, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Metadata(), nil
}

// readFull fills b from r at off. io.ReaderAt may return io.EOF together
// with a full read at the end of the file; that is success. A short read
// means the file shrank after we checked its size.
func readFull(r io.ReaderAt, b []byte, off int64) error {
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return err
}
