//go:build linux

package asm

import (
	"math/rand"
	"syscall"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// TestRowsBF16StopAtPageEnd: rows whose last element is the last word
// before an inaccessible page. A kernel that loaded a whole vector at a
// row's tail (instead of under its mask) would fault.
func TestRowsBF16StopAtPageEnd(t *testing.T) {
	page := syscall.Getpagesize()
	mem, err := syscall.Mmap(-1, 0, 2*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	require.NoError(t, err)
	defer syscall.Munmap(mem)
	require.NoError(t, syscall.Mprotect(mem[page:], syscall.PROT_NONE))
	words := unsafe.Slice((*uint16)(unsafe.Pointer(&mem[0])), page/2)
	rng := rand.New(rand.NewSource(8))
	for _, d := range []int{1, 5, 17, 37, 64, 100} {
		const n, ld = 5, 130
		extent := (n-1)*ld + d
		k := words[len(words)-extent:]
		for i := range k {
			k[i] = BF16FromF32(float32(rng.NormFloat64()))
		}
		wide := make([]float32, extent)
		BF16ToF32(wide, k)
		q := randGuarded(rng, d, d, -1, 1)
		want := make([]float32, n)
		dotRowsGeneric(want, q.s(), wide, ld)
		p := randGuarded(rng, n, d, 0, 1)
		wantAxpy := make([]float32, d)
		axpyRowsGeneric(wantAxpy, p.s(), wide, ld)
		for _, v := range rowsBF16Variants() {
			got := make([]float32, n)
			v.dot(got, q.s(), k, ld)
			require.Equal(t, want, got, "%s dot d=%d", v.name, d)
			gotAxpy := make([]float32, d)
			v.axpy(gotAxpy, p.s(), k, ld)
			require.Equal(t, wantAxpy, gotAxpy, "%s axpy d=%d", v.name, d)
		}
	}
}
