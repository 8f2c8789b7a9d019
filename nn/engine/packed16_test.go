package engine

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/backend/cpu"
	"github.com/goarpo/arpo/nn"
)

// TestPackedBF16BaseEngine: an engine over a packed bf16 base
// (nn.LoadHFPackedBF16Base) multiplies by the packed weights in place (its
// only copy is the LM head's) and gives the bits of an engine over the
// plain bf16 base of the same folder: generated tokens and the logits of a
// scoring prefill, batch-invariant or not (batched decode of two streams).
func TestPackedBF16BaseEngine(t *testing.T) {
	for _, mt := range []string{"llama", "qwen2"} {
		t.Run(mt, func(t *testing.T) {
			dir := bf16Folder(t, mt)
			b := cpu.New(2)
			plain, err := nn.LoadHFBF16Base(dir, b)
			require.NoError(t, err)
			defer plain.Free()
			packed, err := nn.LoadHFPackedBF16Base(dir, b)
			require.NoError(t, err)
			defer packed.Free()
			require.True(t, packed.PackedBF16Base())
			require.True(t, packed.BF16Base())
			require.False(t, plain.PackedBF16Base())
			require.Nil(t, packed.W16, "no unpacked copy")
			require.Equal(t, plain.NumParams(), packed.NumParams())
			r := rand.New(rand.NewPCG(1, 2))
			prompts := [][]int32{randTokens(r, 9, plain.Cfg.VocabSize), randTokens(r, 4, plain.Cfg.VocabSize)}

			for _, invariant := range []bool{true, false} {
				run := func(m *nn.Model) ([]int32, []float32) {
					e := New(m, Options{BlockSize: 4, BatchInvariant: invariant})
					defer e.Close()
					require.Equal(t, nn.BF16, e.Precision())
					require.Len(t, e.w16.bufs, 1, "only the LM head is copied")
					err := e.SetPrecision(nn.F32)
					require.True(t, errors.Is(err, nn.ErrBF16Base), "%v", err)
					return generate(t, e, prompts)
				}
				t16, l16 := run(plain)
				tp, lp := run(packed)
				require.Equal(t, t16, tp, "invariant %v", invariant)
				require.Equal(t, f32bits(l16), f32bits(lp), "invariant %v", invariant)
			}
		})
	}
}
