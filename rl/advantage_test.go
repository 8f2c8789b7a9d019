package rl

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGroupAdvantagesHandComputed(t *testing.T) {
	// Group 1: rewards 1, 0, 0, 1 -> mean 0.5, unbiased std sqrt(1/3).
	// Group 2: all equal -> 0.
	r := []float32{1, 0, 0, 1, -1, -1, -1, -1}
	a := GroupAdvantages(r, 4, true)
	s := math.Sqrt(1.0 / 3)
	want := []float64{0.5 / (s + 1e-6), -0.5 / (s + 1e-6), -0.5 / (s + 1e-6), 0.5 / (s + 1e-6), 0, 0, 0, 0}
	for i := range want {
		assert.InDelta(t, want[i], float64(a[i]), 1e-6, "i=%d", i)
	}
	a = GroupAdvantages(r, 4, false)
	assert.Equal(t, []float32{0.5, -0.5, -0.5, 0.5, 0, 0, 0, 0}, a)
	// Groups of one have no baseline.
	assert.Equal(t, []float32{0, 0}, GroupAdvantages([]float32{3, -2}, 1, true))
	assert.Panics(t, func() { GroupAdvantages(r, 3, true) })
}

func TestGroupAdvantagesVarMatchesFixed(t *testing.T) {
	r := []float32{1, 0, 0.5, 0.2, 0.9, 1, 1}
	a := GroupAdvantagesVar(r, []int{3, 2, 2}, true)
	assert.Equal(t, GroupAdvantages(r[:3], 3, true), a[:3])
	assert.Equal(t, GroupAdvantages(r[3:5], 2, true), a[3:5])
	assert.Equal(t, []float32{0, 0}, a[5:])
	assert.Panics(t, func() { GroupAdvantagesVar(r, []int{3, 3}, true) })
}

func TestBatchAdvantagesWhiten(t *testing.T) {
	r := []float32{2, 4, 4, 4, 5, 5, 7, 9}
	a := BatchAdvantages(r)
	var mean, sq float64
	for _, v := range a {
		mean += float64(v)
	}
	mean /= float64(len(a))
	for _, v := range a {
		sq += (float64(v) - mean) * (float64(v) - mean)
	}
	assert.InDelta(t, 0, mean, 1e-6)
	assert.InDelta(t, 1, math.Sqrt(sq/float64(len(a)-1)), 1e-5)
	// Order is kept: larger reward, larger advantage.
	for i := 1; i < len(r); i++ {
		if r[i] > r[i-1] {
			assert.Greater(t, a[i], a[i-1])
		}
	}
}

func TestInformativeGroups(t *testing.T) {
	r := []float32{1, 1, 1, 0, 1, 0, -1, -1, 0.5, 0.5}
	assert.Equal(t, []int{1, 2}, InformativeGroups(r, 2)[:2])
	assert.Equal(t, []int{1, 2}, InformativeGroups(r, 2))
	require.Empty(t, InformativeGroups([]float32{1, 1, 1}, 3))
}
