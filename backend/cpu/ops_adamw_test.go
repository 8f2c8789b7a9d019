package cpu

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAdamW(t *testing.T) {
	c := New(3)
	rng := newRNG(13)
	const n = 3*elemGrain + 11
	const lr, b1, b2, eps, wd = 3e-3, 0.9, 0.95, 1e-8, 0.1
	p, m := randVec(rng, n, 1), randVec(rng, n, 0.01)
	v := randVec(rng, n, 1e-4)
	for i := range v {
		v[i] = float32(math.Abs(float64(v[i])))
	}
	P, M, V := to64(p), to64(m), to64(v)
	vp, vm, vv := buf(p), buf(m), buf(v)
	for step := 1; step <= 3; step++ {
		g := randVec(rng, n, 0.1)
		c.AdamW(vp, buf(g), vm, vv, n, lr, b1, b2, eps, wd, step)
		// The float64 reference of the documented update.
		bc1 := 1 - math.Pow(float64(float32(b1)), float64(step))
		bc2 := 1 - math.Pow(float64(float32(b2)), float64(step))
		for i := range P {
			gi := float64(g[i])
			M[i] = float64(float32(b1))*M[i] + (1-float64(float32(b1)))*gi
			V[i] = float64(float32(b2))*V[i] + (1-float64(float32(b2)))*gi*gi
			P[i] *= 1 - float64(float32(lr))*float64(float32(wd))
			P[i] -= float64(float32(lr)) / bc1 * M[i] / (math.Sqrt(V[i])/math.Sqrt(bc2) + float64(float32(eps)))
		}
		requireClose(t, M, data(vm), 1e-6, "m")
		requireClose(t, V, data(vv), 1e-6, "v")
		requireClose(t, P, data(vp), 1e-6, "p")
	}
	require.Panics(t, func() { c.AdamW(vp, vp, vm, vv, n, lr, b1, b2, eps, wd, 0) })
}

// TestAdamWMatchesPyTorch checks bitwise equality with torch 1.13's
// torch.optim.AdamW (AVX2 CPU kernels) on one step. The golden bits came
// from this script, run by hand:
//
//	n=16
//	p=torch.tensor([(i-7.5)/4 for i in range(n)], requires_grad=True)
//	g=torch.tensor([((i*7)%16-8)/64 for i in range(n)])
//	m=torch.tensor([(i%5-2)/128 for i in range(n)])
//	v=torch.tensor([(i%3+1)/4096 for i in range(n)])
//	opt=torch.optim.AdamW([p], lr=1e-3, betas=(0.9,0.95), eps=1e-8, weight_decay=0.1)
//	p.grad=g; st=opt.state[p]
//	st['step']=torch.tensor(4.0); st['exp_avg']=m.clone(); st['exp_avg_sq']=v.clone()
//	opt.step()  # step 5
func TestAdamWMatchesPyTorch(t *testing.T) {
	const n = 16
	p, g, m, v := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range n {
		p[i] = float32((float64(i) - 7.5) / 4)
		g[i] = float32(float64((i*7)%16-8) / 64)
		m[i] = float32(float64(i%5-2) / 128)
		v[i] = float32(float64(i%3+1) / 4096)
	}
	wantP := []uint32{0xbfefda19, 0xbfcfebb0, 0xbfb00615, 0xbf900123, 0xbf60367c, 0xbf1fc746, 0xbebfd799, 0xbdff2d13, 0x3dff5721, 0x3ebf76fd, 0x3f2035ae, 0x3f5ff863, 0x3f9007d2, 0x3fafe8df, 0x3fcff562, 0x3ff0184d}
	wantM := []uint32{0xbcd9999a, 0xbc0ccccd, 0x3c19999a, 0x3b199998, 0x3ca66666, 0xbcb33333, 0xbb7fffff, 0xbc333333, 0x3be66666, 0x3ccccccd, 0xbc8ccccd, 0x3a4cccd2, 0xbbcccccd, 0x3c400000, 0x3b999998, 0xbc4ccccc}
	wantV := []uint32{0x3a84cccd, 0x39f99999, 0x3a94cccd, 0x39b33333, 0x3a2ccccd, 0x3a833333, 0x39933333, 0x3a8b3333, 0x3a366666, 0x3a599999, 0x3a066666, 0x3a833333, 0x39e00000, 0x3a166666, 0x3a94cccd, 0x39800000}
	vp, vm, vv := buf(p), buf(m), buf(v)
	New(1).AdamW(vp, buf(g), vm, vv, n, 1e-3, 0.9, 0.95, 1e-8, 0.1, 5)
	bits := func(x []float32) []uint32 {
		b := make([]uint32, len(x))
		for i, f := range x {
			b[i] = math.Float32bits(f)
		}
		return b
	}
	require.Equal(t, wantM, bits(data(vm)), "m")
	require.Equal(t, wantV, bits(data(vv)), "v")
	require.Equal(t, wantP, bits(data(vp)), "p")
}
