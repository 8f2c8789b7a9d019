package safetensors

import (
	"bytes"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzReadFile feeds arbitrary bytes to the reader. It must never panic or
// allocate beyond the input's size, and whatever it accepts must survive a
// write and a second read bit for bit. Plain `go test` runs only the seeds;
// `go test -fuzz FuzzReadFile -fuzztime 5s ./nn/safetensors` explores.
//
// It goes through newFile on memory rather than a temporary file so that
// each input costs microseconds; Open differs only by os.Open and Stat.
func FuzzReadFile(f *testing.F) {
	mixed, _ := mixedFile()
	f.Add(mixed)
	var written bytes.Buffer
	require.NoError(f, Write(&written, map[string]Tensor{
		"a": {Shape: []int{2, 2}, Data: []float32{1, 2, 3, float32(math.NaN())}},
		"b": {Data: []float32{-1}},
	}, map[string]string{"format": "pt"}))
	f.Add(written.Bytes())
	f.Add(mixed[:len(mixed)-1])
	f.Add(mixed[:20])
	f.Add([]byte{})
	f.Add(rawFile(`{"a":{"dtype":"F32","shape":[-1,-2],"data_offsets":[0,8]}}`, make([]byte, 8)))
	f.Add(rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)))
	f.Add(rawFile(`{"a":{"dtype":"BF16","shape":[4611686018427387904,2],"data_offsets":[0,8]}}`, make([]byte, 8)))

	f.Fuzz(func(t *testing.T, b []byte) {
		sf, err := newFile("fuzz", bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		ts, err := sf.ReadAll()
		if err != nil {
			return // e.g. a U8 tensor: valid file, unsupported dtype
		}
		var total int
		for name, tensor := range ts {
			require.Len(t, tensor.Data, tensor.numel(), name)
			total += len(tensor.Data)
		}
		require.LessOrEqual(t, total, len(b), "more elements than bytes")

		var out bytes.Buffer
		require.NoError(t, Write(&out, ts, sf.Metadata()))
		again, err := newFile("rewritten", bytes.NewReader(out.Bytes()), int64(out.Len()))
		require.NoError(t, err)
		ts2, err := again.ReadAll()
		require.NoError(t, err)
		require.Equal(t, sf.Metadata(), again.Metadata())
		require.Len(t, ts2, len(ts))
		for name, tensor := range ts {
			got := ts2[name]
			require.Equal(t, len(tensor.Shape), len(got.Shape), name)
			for i, d := range tensor.Shape {
				require.Equal(t, d, got.Shape[i], name)
			}
			for i, v := range tensor.Data {
				require.Equal(t, math.Float32bits(v), math.Float32bits(got.Data[i]), name)
			}
		}
	})
}
