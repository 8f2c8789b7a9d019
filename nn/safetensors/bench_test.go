package safetensors

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/internal/shareddata"
)

// BenchmarkReadLlama reads the 1.6 MB BF16 checkpoint (795,776 parameters).
func BenchmarkReadLlama(b *testing.B) {
	path := shareddata.Path(b, "models/llama-arith-random/model.safetensors")
	b.SetBytes(2 * 795_776) // BF16 data bytes
	for b.Loop() {
		_, err := ReadFile(path)
		require.NoError(b, err)
	}
}

// BenchmarkWriteF32 writes 4 MB of F32 through WriteFile, fsyncs included.
func BenchmarkWriteF32(b *testing.B) {
	ts := map[string]Tensor{"w": {Shape: []int{1024, 1024}, Data: make([]float32, 1<<20)}}
	path := filepath.Join(b.TempDir(), "w.safetensors")
	b.SetBytes(4 << 20)
	for b.Loop() {
		require.NoError(b, WriteFile(path, ts, nil))
	}
}
