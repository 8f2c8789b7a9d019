package asm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSgemmRow checks SgemmRow, assembly (when the CPU has it) and generic,
// against a scalar reference: widths around the 128-column block, strided a,
// row padding in b, alpha/beta cases and NaN in c with beta = 0.
func TestSgemmRow(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	variants := []bool{false}
	if rowAVX512 {
		variants = append(variants, true)
	}
	defer func(v bool) { rowAVX512 = v }(rowAVX512)
	for _, useAsm := range variants {
		rowAVX512 = useAsm
		name := map[bool]string{false: "generic", true: "avx512"}[useAsm]
		for _, n := range []int{1, 7, 16, 127, 128, 129, 300, 512, 700} {
			for _, k := range []int{0, 1, 3, 4, 5, 100} {
				for _, ab := range [][2]float32{{1, 0}, {-0.5, 2}} {
					inca, ldb := 1+n%3, n+n%5
					a := randSlice(rng, max(k*inca, 1))
					b := randSlice(rng, max(k*ldb, 1))
					c := randSlice(rng, n+4)
					if ab[1] == 0 {
						for i := range c {
							c[i] = float32(math.NaN())
						}
					}
					old := append([]float32(nil), c...)
					SgemmRow(k, ab[0], a, inca, b, ldb, ab[1], c[:n])
					for j := 0; j < n; j++ {
						var s, mag float32
						for p := 0; p < k; p++ {
							s += a[p*inca] * b[p*ldb+j]
							mag += abs32(a[p*inca] * b[p*ldb+j])
						}
						want := ab[0] * s
						if ab[1] != 0 {
							want += ab[1] * old[j]
							mag += abs32(ab[1] * old[j])
						}
						require.InDelta(t, want, c[j], float64(1e-5*mag+1e-30), fmt.Sprintf("%s n=%d k=%d ab=%v j=%d", name, n, k, ab, j))
					}
					for j := n; j < len(c); j++ {
						require.True(t, math.IsNaN(float64(c[j])) || c[j] == old[j], "%s: c[%d] past n written", name, j)
					}
				}
			}
		}
	}
	require.Panics(t, func() { SgemmRow(3, 1, make([]float32, 2), 1, make([]float32, 30), 10, 0, make([]float32, 10)) })
}

// TestSgemmDots checks SgemmDots, assembly (when the CPU has it) and
// generic, against a scalar reference on lengths around the 16- and
// 32-column steps and the masked tail, strided c, alpha/beta cases and NaN
// in c with beta = 0; and that a row's result does not depend on which rows
// share its call (4-row and 1-row kernels agree bit for bit).
func TestSgemmDots(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	variants := []bool{false}
	if rowAVX512 {
		variants = append(variants, true)
	}
	defer func(v bool) { rowAVX512 = v }(rowAVX512)
	for _, useAsm := range variants {
		rowAVX512 = useAsm
		name := map[bool]string{false: "generic", true: "avx512"}[useAsm]
		for _, n := range []int{1, 3, 4, 5, 9} {
			for _, k := range []int{0, 1, 15, 16, 17, 31, 32, 33, 100} {
				for _, ab := range [][2]float32{{1, 0}, {-0.5, 2}} {
					incc, ldb := 1+n%2*2, k+n%3
					a := randSlice(rng, k)
					b := randSlice(rng, max(n*ldb, 1))
					c := randSlice(rng, n*incc+2)
					if ab[1] == 0 {
						for i := range c {
							c[i] = float32(math.NaN())
						}
					}
					old := append([]float32(nil), c...)
					SgemmDots(1, n, k, ab[0], a, 0, b, ldb, ab[1], c, 0, incc)
					for j := 0; j < n; j++ {
						var s, mag float32
						for p := 0; p < k; p++ {
							s += a[p] * b[j*ldb+p]
							mag += abs32(a[p] * b[j*ldb+p])
						}
						want := ab[0] * s
						if ab[1] != 0 {
							want += ab[1] * old[j*incc]
							mag += abs32(ab[1] * old[j*incc])
						}
						got := c[j*incc]
						require.InDelta(t, want, got, float64(1e-5*mag+1e-30), fmt.Sprintf("%s n=%d k=%d ab=%v j=%d", name, n, k, ab, j))
						// The same row alone must give the same bits.
						one := []float32{old[j*incc]}
						SgemmDots(1, 1, k, ab[0], a, 0, b[j*ldb:], ldb, ab[1], one, 0, 1)
						require.Equal(t, math.Float32bits(got), math.Float32bits(one[0]), "%s n=%d k=%d j=%d: depends on the split", name, n, k, j)
					}
					for i := range c {
						if i%incc != 0 || i/incc >= n {
							require.True(t, math.IsNaN(float64(c[i])) || c[i] == old[i], "%s: c[%d] outside the outputs written", name, i)
						}
					}
				}
			}
		}
	}
	require.Panics(t, func() {
		SgemmDots(1, 2, 5, 1, make([]float32, 5), 0, make([]float32, 9), 5, 0, make([]float32, 2), 0, 1)
	})
	require.Panics(t, func() {
		SgemmDots(2, 2, 5, 1, make([]float32, 9), 5, make([]float32, 10), 5, 0, make([]float32, 4), 2, 1)
	})
}

// TestSgemmDotsManyRows checks the m > 1 form against m single-row calls,
// bit for bit: the row of a must not change how a product is summed.
func TestSgemmDotsManyRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	const m, n, k, lda, ldb, ldc = 5, 7, 37, 40, 39, 9
	a := randSlice(rng, m*lda)
	b := randSlice(rng, n*ldb)
	c := randSlice(rng, m*ldc)
	old := append([]float32(nil), c...)
	want := append([]float32(nil), c...)
	SgemmDots(m, n, k, 0.5, a, lda, b, ldb, 2, c, ldc, 1)
	for i := 0; i < m; i++ {
		SgemmDots(1, n, k, 0.5, a[i*lda:], 0, b, ldb, 2, want[i*ldc:], 0, 1)
	}
	for i := range c {
		require.Equal(t, math.Float32bits(want[i]), math.Float32bits(c[i]), "c[%d]", i)
	}
	// And against a scalar reference, c = 0.5*dot + 2*c.
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s, mag float32
			for p := 0; p < k; p++ {
				s += a[i*lda+p] * b[j*ldb+p]
				mag += abs32(a[i*lda+p] * b[j*ldb+p])
			}
			ref := 0.5*s + 2*old[i*ldc+j]
			require.InDelta(t, ref, c[i*ldc+j], float64(1e-5*(mag+abs32(2*old[i*ldc+j]))), "C(%d,%d)", i, j)
		}
	}
}

// TestSgemmRows checks the m > 1 form (several row groups, column chunks and
// k blocks) against one SgemmRow call per row, bit for bit, and against a
// scalar reference, with A in both storage orders.
func TestSgemmRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 28))
	const m, n, k, ldb, ldc = 11, 600, 300, 605, 610
	for _, trans := range []bool{false, true} {
		lda, inca := k+3, 1
		if trans { // A stored k x m
			lda, inca = 1, m+2
		}
		a := randSlice(rng, (m+2)*(k+3))
		b := randSlice(rng, k*ldb)
		c := randSlice(rng, m*ldc)
		old := append([]float32(nil), c...)
		want := append([]float32(nil), c...)
		SgemmRows(m, n, k, -0.5, a, lda, inca, b, ldb, 1.5, c, ldc)
		for i := 0; i < m; i++ {
			SgemmRow(k, -0.5, a[i*lda:], inca, b, ldb, 1.5, want[i*ldc:i*ldc+n])
		}
		for i := range c {
			require.Equal(t, math.Float32bits(want[i]), math.Float32bits(c[i]), "trans=%v c[%d]", trans, i)
		}
		for i := 0; i < m; i++ {
			for j := 0; j < n; j += 37 {
				var s, mag float32
				for p := 0; p < k; p++ {
					x := a[i*lda+p*inca] * b[p*ldb+j]
					s += x
					mag += abs32(x)
				}
				ref := -0.5*s + 1.5*old[i*ldc+j]
				require.InDelta(t, ref, c[i*ldc+j], float64(1e-5*(mag+abs32(1.5*old[i*ldc+j]))), "trans=%v C(%d,%d)", trans, i, j)
			}
		}
	}
}
