package backendtest

import (
	"math"
	"testing"

	"github.com/goarpo/arpo/backend"
	"github.com/stretchr/testify/require"
)

// Every op of the interface has a case, so a new op cannot slip past the
// conformance suite.
func TestCasesCoverAllOps(t *testing.T) {
	have := map[backend.Op]bool{}
	for _, c := range Cases() {
		have[c.Op] = true
	}
	for _, op := range backend.AllOps {
		require.True(t, have[op], "no conformance case for %s", op)
	}
}

func TestCompare(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	require.NoError(t, Compare([]float32{100, 1}, []float32{100, 1.0005}, 1e-5))
	require.Error(t, Compare([]float32{100, 1}, []float32{100, 1.01}, 1e-5))
	require.Error(t, Compare([]float32{1e-3}, []float32{2e-3}, 1e-2), "small outputs are compared relatively")
	require.NoError(t, Compare([]float32{0}, []float32{0}, 0))
	require.Error(t, Compare([]float32{nan}, []float32{1}, 1))
	require.Error(t, Compare([]float32{inf}, []float32{1}, 1))
	require.NoError(t, Compare([]float32{inf, 1}, []float32{inf, 1}, 0))
	require.Error(t, Compare([]float32{1}, []float32{1, 2}, 1))
}
