package safetensors

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/internal/shareddata"
)

// requireSameBits compares tensors bit for bit, so that NaN, -0 and
// infinities must survive too.
func requireSameBits(t *testing.T, want, got map[string]Tensor) {
	t.Helper()
	require.Len(t, got, len(want))
	for name, w := range want {
		g, ok := got[name]
		require.True(t, ok, "missing %s", name)
		require.Equal(t, len(w.Shape), len(g.Shape), name)
		if len(w.Shape) > 0 {
			require.Equal(t, w.Shape, g.Shape, name)
		}
		require.Equal(t, len(w.Data), len(g.Data), name)
		for i := range w.Data {
			if wb, gb := math.Float32bits(w.Data[i]), math.Float32bits(g.Data[i]); wb != gb {
				require.Failf(t, "values differ", "%s[%d]: want bits %#08x, got %#08x", name, i, wb, gb)
			}
		}
	}
}

func sampleTensors() map[string]Tensor {
	big := make([]float32, 300_000) // spans several read and write chunks
	for i := range big {
		big[i] = float32(i%977) * 0.25
	}
	return map[string]Tensor{
		"w":       {Shape: []int{2, 3}, Data: []float32{1, -2, 3.5, 0, float32(math.Inf(1)), float32(math.NaN())}},
		"negzero": {Shape: []int{1}, Data: []float32{float32(math.Copysign(0, -1))}},
		"scalar":  {Shape: nil, Data: []float32{42}},
		"empty":   {Shape: []int{0, 7}, Data: nil},
		"big":     {Shape: []int{600, 500}, Data: big},
	}
}

func TestWriteReadRoundTrip(t *testing.T) {
	ts := sampleTensors()
	meta := map[string]string{"format": "pt", "step": "12"}
	path := filepath.Join(t.TempDir(), "m.safetensors")
	require.NoError(t, WriteFile(path, ts, meta))

	got, err := ReadFile(path)
	require.NoError(t, err)
	requireSameBits(t, ts, got)
	gotMeta, err := ReadMetadata(path)
	require.NoError(t, err)
	require.Equal(t, meta, gotMeta)

	f, err := Open(path)
	require.NoError(t, err)
	defer f.Close()
	require.Equal(t, []string{"big", "empty", "negzero", "scalar", "w"}, f.Names())
	info, _ := f.Info("w")
	require.Equal(t, "F32", info.DType)
}

func TestWriteIsDeterministicAndAligned(t *testing.T) {
	ts := sampleTensors()
	var a, b bytes.Buffer
	require.NoError(t, Write(&a, ts, map[string]string{"x": "1", "a": "2"}))
	require.NoError(t, Write(&b, ts, map[string]string{"a": "2", "x": "1"}))
	require.Equal(t, a.Bytes(), b.Bytes())

	path := filepath.Join(t.TempDir(), "m.safetensors")
	require.NoError(t, WriteFile(path, ts, map[string]string{"x": "1", "a": "2"}))
	onDisk, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, a.Bytes(), onDisk)

	n := binary.LittleEndian.Uint64(onDisk)
	require.Zero(t, n%8, "header length %d is not a multiple of 8", n)
}

// TestWriteGoldenBytes pins the exact layout the Python library produces
// for the same input: __metadata__ first, names sorted, compact JSON with
// fields in the order dtype, shape, data_offsets, no HTML escaping, spaces
// padding the header to a multiple of 8.
func TestWriteGoldenBytes(t *testing.T) {
	ts := map[string]Tensor{
		"b<&>": {Shape: []int{2}, Data: []float32{1, -2}},
		"a":    {Data: []float32{0.5}},
	}
	var got bytes.Buffer
	require.NoError(t, Write(&got, ts, map[string]string{"format": "pt"}))

	header := `{"__metadata__":{"format":"pt"},` +
		`"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]},` +
		`"b<&>":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}` + "   "
	want := rawFile(header, le(float32(0.5), float32(1), float32(-2)))
	require.Equal(t, string(want), got.String())
}

func TestWriteNoTensors(t *testing.T) {
	var got bytes.Buffer
	require.NoError(t, Write(&got, nil, nil))
	require.Equal(t, string(rawFile("{}      ", nil)), got.String())
	f, err := newFile("mem", bytes.NewReader(got.Bytes()), int64(got.Len()))
	require.NoError(t, err)
	require.Empty(t, f.Names())
	require.Empty(t, f.Metadata())
}

func TestWriteRejectsBadTensors(t *testing.T) {
	cases := []struct {
		name string
		ts   map[string]Tensor
		want string
	}{
		{"shape mismatch", map[string]Tensor{"x": {Shape: []int{2, 2}, Data: make([]float32, 3)}}, `tensor "x": shape [2 2] does not match len(Data) = 3`},
		{"missing shape", map[string]Tensor{"x": {Data: make([]float32, 3)}}, `tensor "x"`},
		{"negative dim", map[string]Tensor{"x": {Shape: []int{-1, -3}, Data: make([]float32, 3)}}, `tensor "x"`},
		{"overflow", map[string]Tensor{"x": {Shape: []int{math.MaxInt, 3}, Data: make([]float32, 3)}}, `tensor "x"`},
		{"reserved name", map[string]Tensor{"__metadata__": {Shape: []int{1}, Data: []float32{1}}}, "reserved"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "m.safetensors")
			require.NoError(t, os.WriteFile(path, []byte("old"), 0o644))
			err := WriteFile(path, c.ts, nil)
			require.ErrorContains(t, err, c.want)
			require.ErrorContains(t, err, path)
			old, err := os.ReadFile(path)
			require.NoError(t, err)
			require.Equal(t, "old", string(old))
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			require.Len(t, entries, 1, "temporary file left behind")
		})
	}
}

func TestWriteFileMissingDir(t *testing.T) {
	err := WriteFile(filepath.Join(t.TempDir(), "no", "m.safetensors"), sampleTensors(), nil)
	require.Error(t, err)
}

// TestLlamaRoundTrip rewrites the BF16 checkpoint as F32: widening BF16 is
// exact, so the values must come back bit for bit.
func TestLlamaRoundTrip(t *testing.T) {
	src := shareddata.Path(t, "models/llama-arith-random/model.safetensors")
	ts, err := ReadFile(src)
	require.NoError(t, err)
	dst := filepath.Join(t.TempDir(), "model.safetensors")
	require.NoError(t, WriteFile(dst, ts, map[string]string{"format": "pt"}))
	got, err := ReadFile(dst)
	require.NoError(t, err)
	requireSameBits(t, ts, got)
}
