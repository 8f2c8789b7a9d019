package cpu

import (
	"math"
	"testing"

	"github.com/goarpo/arpo/backend"
	"github.com/stretchr/testify/require"
)

// logProbsRef returns log softmax(x[r])[targets[r]] (0 for a negative
// target) and the entropy of each row of x (rows, vocab), in float64.
func logProbsRef(x []float64, targets []int32, rows, vocab int) (logp, ent []float64) {
	logp, ent = make([]float64, rows), make([]float64, rows)
	for r := 0; r < rows; r++ {
		row := x[r*vocab : (r+1)*vocab]
		m := math.Inf(-1)
		for _, v := range row {
			m = max(m, v)
		}
		var s float64
		for _, v := range row {
			s += math.Exp(v - m)
		}
		lse := m + math.Log(s)
		for _, v := range row {
			p := math.Exp(v - lse)
			ent[r] -= p * (v - lse)
		}
		if targets[r] >= 0 {
			logp[r] = row[targets[r]] - lse
		}
	}
	return logp, ent
}

func TestLogProbs(t *testing.T) {
	c := New(3)
	rng := newRNG(10)
	for _, sh := range [][2]int{{1, 1}, {3, 5}, {5, 3000}} {
		rows, vocab := sh[0], sh[1]
		x := randVec(rng, rows*vocab, 8)
		targets := make([]int32, rows)
		for r := range targets {
			targets[r] = int32(rng.IntN(vocab))
		}
		targets[0] = -1
		lp, ent := buf(make([]float32, rows)), buf(make([]float32, rows))
		c.LogProbs(lp, ent, buf(x), targets, rows, vocab)
		wantLP, wantEnt := logProbsRef(to64(x), targets, rows, vocab)
		requireClose(t, wantLP, data(lp), 2e-6, "logp")
		requireClose(t, wantEnt, data(ent), 2e-6, "entropy")

		// Without entropy.
		lp2 := buf(make([]float32, rows))
		c.LogProbs(lp2, backend.View{}, buf(x), targets, rows, vocab)
		require.Equal(t, data(lp), data(lp2))
	}
}

func TestLogProbsBackward(t *testing.T) {
	c := New(2)
	rng := newRNG(11)
	const rows, vocab = 4, 7
	x := randVec(rng, rows*vocab, 3)
	targets := []int32{2, -1, 6, 0}
	dlogp, dent := randVec(rng, rows, 1), randVec(rng, rows, 1)
	x64 := to64(x)
	for _, withEnt := range []bool{false, true} {
		loss := func() float64 {
			lp, ent := logProbsRef(x64, targets, rows, vocab)
			s := dot64(lp, dlogp)
			if withEnt {
				s += dot64(ent, dent)
			}
			return s
		}
		want := numGrad(x64, loss)
		dentV := backend.View{}
		if withEnt {
			dentV = buf(dent)
		}
		dx := buf(make([]float32, rows*vocab))
		c.LogProbsBackward(dx, buf(x), buf(dlogp), dentV, targets, rows, vocab)
		requireClose(t, want, data(dx), 1e-6, "dlogits")

		// In place: dlogits over logits.
		vx := buf(x)
		c.LogProbsBackward(vx, vx, buf(dlogp), dentV, targets, rows, vocab)
		require.Equal(t, data(dx), data(vx), "in place, entropy %v", withEnt)
	}
}

// A masked logit of -Inf has p = 0 and a zero gradient, not NaN. (With an
// entropy gradient, asm.Entropy itself is NaN on -Inf logits.)
func TestLogProbsMaskedLogit(t *testing.T) {
	c := New(1)
	x := []float32{1, float32(math.Inf(-1)), 2}
	dx := buf(make([]float32, 3))
	c.LogProbsBackward(dx, buf(x), buf([]float32{1}), backend.View{}, []int32{0}, 1, 3)
	require.Zero(t, data(dx)[1])
	require.InDelta(t, 1-1/(1+math.E), float64(data(dx)[0]), 1e-6) // 1 - p0
}

func TestLogProbsBadTarget(t *testing.T) {
	c := New(1)
	x := buf(make([]float32, 6))
	require.Panics(t, func() { c.LogProbs(x, backend.View{}, x, []int32{3, 0}, 2, 3) })
	require.Panics(t, func() { c.LogProbs(x, backend.View{}, x, []int32{0}, 2, 3) })
}

func TestSoftmax(t *testing.T) {
	c := New(3)
	rng := newRNG(12)
	const rows, cols = 300, 77
	x := randVec(rng, rows*cols, 10)
	out := buf(make([]float32, rows*cols))
	c.Softmax(out, buf(x), rows, cols)
	want := make([]float64, rows*cols)
	for r := 0; r < rows; r++ {
		m := math.Inf(-1)
		for _, v := range x[r*cols : (r+1)*cols] {
			m = max(m, float64(v))
		}
		var s float64
		for j := 0; j < cols; j++ {
			want[r*cols+j] = math.Exp(float64(x[r*cols+j]) - m)
			s += want[r*cols+j]
		}
		for j := 0; j < cols; j++ {
			want[r*cols+j] /= s
		}
	}
	requireClose(t, want, data(out), 1e-6, "softmax")
	vx := buf(x)
	c.Softmax(vx, vx, rows, cols)
	require.Equal(t, data(out), data(vx), "in place")
}

// BenchmarkLogProbs times the loss rows of a Qwen2.5-sized vocabulary.
func BenchmarkLogProbs(b *testing.B) {
	c := New(0)
	const rows, vocab = 64, 151936
	x := buf(randVec(newRNG(15), rows*vocab, 5))
	targets := make([]int32, rows)
	lp, ent, dl := buf(make([]float32, rows)), buf(make([]float32, rows)), buf(make([]float32, rows))
	dx := buf(make([]float32, rows*vocab))
	b.Run("forward", func(b *testing.B) {
		for b.Loop() {
			c.LogProbs(lp, ent, x, targets, rows, vocab)
		}
		b.ReportMetric(float64(rows*vocab*b.N)/b.Elapsed().Seconds()/1e9, "Gelem/s")
	})
	b.Run("backward", func(b *testing.B) {
		for b.Loop() {
			c.LogProbsBackward(dx, x, dl, ent, targets, rows, vocab)
		}
		b.ReportMetric(float64(rows*vocab*b.N)/b.Elapsed().Seconds()/1e9, "Gelem/s")
	})
}
