package asm

import "math"

// Strided-row kernels for attention over a paged KV cache: one query against
// a run of cached keys (DotRows) and a run of cached values weighted by
// probabilities (AxpyRows). Keys and values of one head sit ld floats apart
// in the cache, so both kernels take a row stride.
//
// Every variant (generic, AVX2, AVX-512) performs the same float32
// operations in the same order, so the three give bitwise identical results;
// the order depends only on the lengths. (The AVX-512 DotRows takes 16 keys
// at a time and reduces their 16 accumulators together, REDUCE16, adding
// the same pairs in the same order as one key's reduction.)

var (
	dotRowsImpl  = dotRowsGeneric
	axpyRowsImpl = axpyRowsGeneric
)

// DotRows sets out[j] = dot(q, k[j*ldk : j*ldk+len(q)]) for j < len(out).
// Summation order, for each j: 16 partial sums s[l] = fma chains over
// i = l, l+16, l+32, ... (i < len(q), starting from +0), then the tree
// ((s[l]+s[l+8]) for l < 8, then +[l+4], then +[l+2], then s[0]+s[1]).
func DotRows(out, q, k []float32, ldk int) {
	n, d := len(out), len(q)
	if n == 0 {
		return
	}
	if ldk < d && n > 1 {
		panic("asm: DotRows stride shorter than the row")
	}
	need(len(k), (n-1)*ldk+d)
	dotRowsImpl(out, q, k, ldk)
}

// AxpyRows computes out[i] += sum_j p[j]*v[j*ldv+i] for i < len(out),
// j < len(p). Summation order, for each i: e = fma chain over the even j
// starting from out[i], o = fma chain over the odd j starting from +0 (both
// in increasing j), then out[i] = e + o. Two chains halve the latency of the
// sequential order at the same cost.
func AxpyRows(out, p, v []float32, ldv int) {
	m, n := len(out), len(p)
	if m == 0 || n == 0 {
		return
	}
	if ldv < m && n > 1 {
		panic("asm: AxpyRows stride shorter than the row")
	}
	need(len(v), (n-1)*ldv+m)
	axpyRowsImpl(out, p, v, ldv)
}

// dotRowsGeneric is DotRows in Go, in the order DotRows documents.
func dotRowsGeneric(out, q, k []float32, ldk int) {
	d := len(q)
	for j := range out {
		row := k[j*ldk : j*ldk+d]
		var s [16]float32
		for i, x := range q {
			s[i&15] = fmaExact32(x, row[i], s[i&15])
		}
		for w := 8; w >= 2; w /= 2 {
			for l := 0; l < w; l++ {
				s[l] += s[l+w]
			}
		}
		out[j] = s[0] + s[1]
	}
}

// axpyRowsGeneric is AxpyRows in Go, in the order AxpyRows documents.
func axpyRowsGeneric(out, p, v []float32, ldv int) {
	for i := range out {
		e, o := out[i], float32(0)
		for j := 0; j < len(p); j += 2 {
			e = fmaExact32(p[j], v[j*ldv+i], e)
			if j+1 < len(p) {
				o = fmaExact32(p[j+1], v[(j+1)*ldv+i], o)
			}
		}
		out[i] = e + o
	}
}

// fmaExact32 is a*b+c rounded once to float32, as VFMADD does. a*b is exact
// in float64; the float64 sum is made round-to-odd (its last bit records
// whether the add was inexact), after which rounding to float32, 29 bits
// shorter, is correct: no double rounding.
func fmaExact32(a, b, c float32) float32 {
	p, z := float64(a)*float64(b), float64(c)
	s := p + z
	if math.IsInf(s, 0) || math.IsNaN(s) {
		return float32(s)
	}
	// TwoSum: the exact error of the add.
	bb := s - p
	err := (p - (s - bb)) + (z - bb)
	bits := math.Float64bits(s)
	if err == 0 || bits&1 == 1 {
		return float32(s)
	}
	// Step one ulp towards the exact value: away from zero when err has
	// s's sign, towards zero otherwise.
	if (err > 0) == (s > 0) {
		bits++
	} else {
		bits--
	}
	return float32(math.Float64frombits(bits))
}
