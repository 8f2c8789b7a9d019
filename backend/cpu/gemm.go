package cpu

import "github.com/goarpo/arpo/backend"

// Gemm implements backend.Backend. This is a plain triple loop to start from;
// the blocked, packed and parallel version replaces it.
func (c *CPU) Gemm(transA, transB bool, m, n, k int, alpha float32, a backend.View, lda int, b backend.View, ldb int, beta float32, cv backend.View, ldc int) {
	A := a.Buf.(*Buffer).data[a.Off:]
	B := b.Buf.(*Buffer).data[b.Off:]
	C := cv.Buf.(*Buffer).data[cv.Off:]
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float32
			for p := 0; p < k; p++ {
				var x, y float32
				if transA {
					x = A[p*lda+i]
				} else {
					x = A[i*lda+p]
				}
				if transB {
					y = B[j*ldb+p]
				} else {
					y = B[p*ldb+j]
				}
				s += x * y
			}
			if beta == 0 {
				C[i*ldc+j] = alpha * s
			} else {
				C[i*ldc+j] = alpha*s + beta*C[i*ldc+j]
			}
		}
	}
}
