package asm

import "fmt"

const (
	// sgemmRowAcc floats of accumulators (16 KiB, half of L1) live in a
	// stack array: one chunk of columns per row of a, as wide as fits. Wide
	// chunks matter: each row of b is then read in long sequential runs
	// (1x2048x2048 NN: ~24 GFLOP/s with 512-column chunks, ~30 with 2048).
	sgemmRowAcc = 4096
	// sgemmRowsMax rows of a share each pass over b.
	sgemmRowsMax = 8
	// With several rows of a, b is swept in blocks of about sgemmRowBlock
	// floats (512 KiB, in L2) for every row of a before the next block, so
	// b comes from memory once.
	sgemmRowBlock = 1 << 17
)

// SgemmRow computes the product of one row by a matrix, the m == 1 case of
// SGEMM (a decode step against weights stored k x n), without packing:
//
//	c[j] = alpha * sum_p a[p*inca]*b[p*ldb+j] + beta*c[j]   for j < len(c)
//
// where a holds k values at stride inca and b is k x len(c) with row stride
// ldb. It is SgemmRows with m = 1.
func SgemmRow(k int, alpha float32, a []float32, inca int, b []float32, ldb int, beta float32, c []float32) {
	SgemmRows(1, len(c), k, alpha, a, 0, inca, b, ldb, beta, c, 0)
}

// SgemmRows computes the product of a few rows by a matrix, the small-m
// case of SGEMM with B stored k x n, without packing:
//
//	c[i*ldc+j] = alpha * sum_p a[i*lda+p*inca]*b[p*ldb+j] + beta*c[i*ldc+j]
//
// for i < m, j < n: row i of op(A) holds k values at stride inca from
// a[i*lda] (inca = 1, lda = k for A stored m x k; inca = the leading
// dimension, lda = 1 for A stored k x m). Each sum runs over p in order,
// so results do not depend on m or on how c is split between calls.
// beta == 0 ignores c's old contents (NaN included).
func SgemmRows(m, n, k int, alpha float32, a []float32, lda, inca int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k < 0 || inca < 1 || lda < 0 || ldb < n || ldc < 0 || (m > 1 && ldc < n) ||
		len(c) < (m-1)*ldc+n || (k > 0 && (len(a) < (m-1)*lda+(k-1)*inca+1 || len(b) < (k-1)*ldb+n)) {
		panic(fmt.Sprintf("asm: SgemmRows: m=%d n=%d k=%d lda=%d inca=%d len(a)=%d ldb=%d len(b)=%d ldc=%d len(c)=%d",
			m, n, k, lda, inca, len(a), ldb, len(b), ldc, len(c)))
	}
	var acc [sgemmRowAcc]float32
	for i0 := 0; i0 < m; i0 += sgemmRowsMax {
		rows := min(sgemmRowsMax, m-i0)
		chunk := sgemmRowAcc / rows &^ 15
		kblock := k // one row of a: nothing to reuse
		if rows > 1 {
			kblock = max(16, sgemmRowBlock/chunk)
		}
		for j0 := 0; j0 < n; j0 += chunk {
			w := min(chunk, n-j0)
			clear(acc[:rows*w])
			for p0 := 0; p0 < k; p0 += kblock {
				kb := min(kblock, k-p0)
				bb := b[p0*ldb+j0:]
				for i := 0; i < rows; i++ {
					ai := a[(i0+i)*lda+p0*inca:]
					t := acc[i*w : (i+1)*w]
					done := rowAcc(kb, ai, inca, bb, ldb, t)
					sgemmRowGeneric(kb, ai, inca, bb[done:], ldb, t[done:])
				}
			}
			for i := 0; i < rows; i++ {
				storeTile(c[(i0+i)*ldc+j0:], w, acc[i*w:(i+1)*w], 1, w, alpha, beta)
			}
		}
	}
}

// sgemmRowGeneric adds t[j] += a[p*inca]*b[p*ldb+j] for p = 0..k-1 in order.
func sgemmRowGeneric(k int, a []float32, inca int, b []float32, ldb int, t []float32) {
	if len(t) == 0 {
		return
	}
	for p := 0; p < k; p++ {
		ap := a[p*inca]
		row := b[p*ldb : p*ldb+len(t)]
		for j, v := range row {
			t[j] += ap * v
		}
	}
}

// SgemmDots computes m x n dot products of rows of a with rows of b, the
// small-m case of SGEMM against B stored n x k (decode steps against weights
// stored out x in) and the n == 1 case against A stored m x k:
//
//	c[i*ldc+j*incc] = alpha * dot(a[i*lda:i*lda+k], b[j*ldb:j*ldb+k]) + beta*c[i*ldc+j*incc]
//
// for i < m, j < n. Rows of b go four at a time against every row of a, so
// each is read from memory once while it sits in L1. Each dot product's
// summation order depends only on k, not on i, j or how the work is split
// between calls. beta == 0 ignores c's old contents (NaN included).
func SgemmDots(m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc, incc int) {
	if m == 0 || n == 0 {
		return
	}
	if k < 0 || (m > 1 && lda < k) || ldb < k || ldc < 0 || incc < 0 || len(a) < (m-1)*lda+k ||
		len(c) < (m-1)*ldc+(n-1)*incc+1 || (k > 0 && len(b) < (n-1)*ldb+k) {
		panic(fmt.Sprintf("asm: SgemmDots: m=%d n=%d k=%d lda=%d len(a)=%d ldb=%d len(b)=%d ldc=%d incc=%d len(c)=%d",
			m, n, k, lda, len(a), ldb, len(b), ldc, incc, len(c)))
	}
	var out [16]float32
	for j := 0; j < n; {
		br := 4
		if n-j < 4 {
			br = 1
		}
		for i := 0; i < m; {
			ar := 4
			if m-i < 4 {
				ar = 1
			}
			t := out[:ar*br]
			if k == 0 {
				clear(t)
			} else if !dots(ar, br, k, a[i*lda:], lda, b[j*ldb:], ldb, t) {
				sgemmDotsGeneric(ar, br, k, a[i*lda:], lda, b[j*ldb:], ldb, t)
			}
			for ii := 0; ii < ar; ii++ {
				ti := t[ii*br : ii*br+br]
				ci := (i+ii)*ldc + j*incc
				if incc == 1 {
					// The common case, a row of C: the same expressions
					// as below without the index arithmetic, which cost
					// about as much as the dots at k = 128.
					row := c[ci : ci+br]
					switch {
					case beta == 0 && alpha == 1:
						for jj, d := range ti { // br <= 4: no memmove call
							row[jj] = d
						}
					case beta == 0:
						for jj, d := range ti {
							row[jj] = alpha * d
						}
					default:
						for jj, d := range ti {
							row[jj] = alpha*d + beta*row[jj]
						}
					}
					continue
				}
				for jj, d := range ti {
					if beta == 0 {
						c[ci+jj*incc] = alpha * d
					} else {
						c[ci+jj*incc] = alpha*d + beta*c[ci+jj*incc]
					}
				}
			}
			i += ar
		}
		j += br
	}
}

// sgemmDotsGeneric sets out[i*br+j] = dot(a[i*lda:i*lda+k], b[j*ldb:j*ldb+k]).
func sgemmDotsGeneric(ar, br, k int, a []float32, lda int, b []float32, ldb int, out []float32) {
	for i := 0; i < ar; i++ {
		ai := a[i*lda : i*lda+k]
		for j := 0; j < br; j++ {
			bj := b[j*ldb : j*ldb+k]
			var s float32
			for p, v := range ai {
				s += v * bj[p]
			}
			out[i*br+j] = s
		}
	}
}
