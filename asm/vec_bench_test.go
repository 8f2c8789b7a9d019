package asm

import (
	"math/rand"
	"strconv"
	"testing"
)

// benchLengths: a short row, a hidden vector and a vocabulary-sized row.
var benchLengths = []int{256, 4096, 65536}

// benchKernel runs f for every variant and length as Benchmark<Name>/<variant>/<n>,
// with SetBytes counting the float32 arrays the kernel reads and writes.
func benchKernel(b *testing.B, arrays int, f func(v variant, dst, x, y []float32)) {
	for _, v := range variants() {
		for _, n := range benchLengths {
			rng := rand.New(rand.NewSource(1))
			x, y, dst := make([]float32, n), make([]float32, n), make([]float32, n)
			for i := range x {
				x[i] = float32(rng.NormFloat64())
				y[i] = float32(rng.NormFloat64())
			}
			b.Run(v.name+"/"+strconv.Itoa(n), func(b *testing.B) {
				b.SetBytes(int64(4 * arrays * n))
				for b.Loop() {
					f(v, dst, x, y)
				}
			})
		}
	}
}

var sink float32

func BenchmarkDot(b *testing.B) {
	benchKernel(b, 2, func(v variant, _, x, y []float32) { sink = v.dot(x, y) })
}

func BenchmarkAxpy(b *testing.B) {
	// A tiny alpha keeps y bounded over b.N rounds.
	benchKernel(b, 3, func(v variant, _, x, y []float32) { v.axpy(1e-6, x, y) })
}

func BenchmarkScale(b *testing.B) {
	benchKernel(b, 2, func(v variant, dst, _, _ []float32) { v.scale(1, dst) })
}

func BenchmarkAdd(b *testing.B) {
	benchKernel(b, 3, func(v variant, dst, x, y []float32) { v.add(dst, x, y) })
}

func BenchmarkMul(b *testing.B) {
	benchKernel(b, 3, func(v variant, dst, x, y []float32) { v.mul(dst, x, y) })
}

func BenchmarkSum(b *testing.B) {
	benchKernel(b, 1, func(v variant, _, x, _ []float32) { sink = v.sum(x) })
}

func BenchmarkMax(b *testing.B) {
	benchKernel(b, 1, func(v variant, _, x, _ []float32) { sink = v.max(x) })
}

func BenchmarkArgmax(b *testing.B) {
	benchKernel(b, 1, func(v variant, _, x, _ []float32) { sink = float32(v.argmax(x)) })
}

func BenchmarkExp(b *testing.B) {
	benchKernel(b, 2, func(v variant, dst, x, _ []float32) { v.exp(dst, x) })
}

func BenchmarkSoftmax(b *testing.B) {
	benchKernel(b, 2, func(v variant, dst, x, _ []float32) { v.softmax(dst, x) })
}

func BenchmarkLogSoftmax(b *testing.B) {
	benchKernel(b, 2, func(v variant, dst, x, _ []float32) { v.logSoftmax(dst, x) })
}

func BenchmarkEntropy(b *testing.B) {
	benchKernel(b, 1, func(v variant, _, x, _ []float32) { sink = v.entropy(x) })
}

func BenchmarkRMSNorm(b *testing.B) {
	benchKernel(b, 3, func(v variant, dst, x, y []float32) { sink = v.rmsNorm(dst, x, y, 1e-5) })
}

func BenchmarkSiLU(b *testing.B) {
	benchKernel(b, 2, func(v variant, dst, x, _ []float32) { v.silu(dst, x) })
}
