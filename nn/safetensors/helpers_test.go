package safetensors

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// rawFile assembles a safetensors file from header text and data bytes,
// trusting both, so tests can build hand-made and corrupt files.
func rawFile(header string, data []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint64(len(header)))
	b.WriteString(header)
	b.Write(data)
	return b.Bytes()
}

// writeTemp writes b to a fresh file in a temporary directory.
func writeTemp(t testing.TB, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, b, 0o644))
	return path
}

// le concatenates values as little-endian bytes.
func le(vals ...any) []byte {
	var b bytes.Buffer
	for _, v := range vals {
		binary.Write(&b, binary.LittleEndian, v)
	}
	return b.Bytes()
}

// mixedFile is a valid file holding one tensor of each supported dtype plus
// a U8 tensor that Open accepts but Read refuses, and the float32 values
// each supported tensor must read as.
func mixedFile() ([]byte, map[string][]float32) {
	header := `{"__metadata__":{"format":"pt","note":"mixed"},` +
		`"bf16":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]},` +
		`"f16":{"dtype":"F16","shape":[1,3],"data_offsets":[4,10]},` +
		`"f32":{"dtype":"F32","shape":[2,1],"data_offsets":[10,18]},` +
		`"f64":{"dtype":"F64","shape":[],"data_offsets":[18,26]},` +
		`"i32":{"dtype":"I32","shape":[2],"data_offsets":[26,34]},` +
		`"i64":{"dtype":"I64","shape":[1],"data_offsets":[34,42]},` +
		`"empty":{"dtype":"F32","shape":[0,5],"data_offsets":[42,42]},` +
		`"mask":{"dtype":"U8","shape":[3],"data_offsets":[42,45]}}`
	data := le(
		uint16(0x3f80), uint16(0xc040), // BF16 1, -3
		uint16(0x3c00), uint16(0x0001), uint16(0xfc00), // F16 1, 2^-24, -Inf
		float32(0.5), float32(-7.25),
		float64(1.5),
		int32(-4), int32(1<<24+1), // the second rounds to 2^24
		int64(123456),
		[]byte{1, 0, 1},
	)
	want := map[string][]float32{
		"bf16":  {1, -3},
		"f16":   {1, float32(math.Ldexp(1, -24)), float32(math.Inf(-1))},
		"f32":   {0.5, -7.25},
		"f64":   {1.5},
		"i32":   {-4, 1 << 24},
		"i64":   {123456},
		"empty": {},
	}
	return rawFile(header, data), want
}
