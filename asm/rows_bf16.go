package asm

// bf16 forms of the strided-row kernels, for attention over a bf16 KV
// cache: the keys or values are bf16 (uint16) and are widened to float32
// as they are loaded, with no widened copy. Each performs DotRows's or
// AxpyRows's float32 operations in DotRows's or AxpyRows's order, so it
// gives, bit for bit, the float32 kernel's result on the widened rows.

var (
	dotRowsBF16Impl  = dotRowsBF16Generic
	axpyRowsBF16Impl = axpyRowsBF16Generic
)

// DotRowsBF16 is DotRows with bf16 keys: out[j] = dot(q, k[j*ldk :
// j*ldk+len(q)] widened), in DotRows's order.
func DotRowsBF16(out, q []float32, k []uint16, ldk int) {
	n, d := len(out), len(q)
	if n == 0 {
		return
	}
	if ldk < d && n > 1 {
		panic("asm: DotRowsBF16 stride shorter than the row")
	}
	need(len(k), (n-1)*ldk+d)
	dotRowsBF16Impl(out, q, k, ldk)
}

// AxpyRowsBF16 is AxpyRows with bf16 values: out[i] += sum_j p[j] *
// widened v[j*ldv+i], in AxpyRows's order.
func AxpyRowsBF16(out, p []float32, v []uint16, ldv int) {
	m, n := len(out), len(p)
	if m == 0 || n == 0 {
		return
	}
	if ldv < m && n > 1 {
		panic("asm: AxpyRowsBF16 stride shorter than the row")
	}
	need(len(v), (n-1)*ldv+m)
	axpyRowsBF16Impl(out, p, v, ldv)
}

// dotRowsBF16Generic is DotRowsBF16 in Go: dotRowsGeneric's loop with
// widening loads.
func dotRowsBF16Generic(out, q []float32, k []uint16, ldk int) {
	d := len(q)
	for j := range out {
		row := k[j*ldk : j*ldk+d]
		var s [16]float32
		for i, x := range q {
			s[i&15] = fmaExact32(x, F32FromBF16(row[i]), s[i&15])
		}
		for w := 8; w >= 2; w /= 2 {
			for l := 0; l < w; l++ {
				s[l] += s[l+w]
			}
		}
		out[j] = s[0] + s[1]
	}
}

// axpyRowsBF16Generic is AxpyRowsBF16 in Go: axpyRowsGeneric's loop with
// widening loads.
func axpyRowsBF16Generic(out, p []float32, v []uint16, ldv int) {
	for i := range out {
		e, o := out[i], float32(0)
		for j := 0; j < len(p); j += 2 {
			e = fmaExact32(p[j], F32FromBF16(v[j*ldv+i]), e)
			if j+1 < len(p) {
				o = fmaExact32(p[j+1], F32FromBF16(v[(j+1)*ldv+i]), o)
			}
		}
		out[i] = e + o
	}
}
