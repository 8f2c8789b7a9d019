package engine

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/backend"
	"github.com/goarpo/arpo/backend/cpu"
	"github.com/goarpo/arpo/nn"
)

// maxRel is the largest |a-b| / (1+|b|) over the elements.
func maxRel(a, b []float32) float64 {
	e := 0.0
	for i := range a {
		e = max(e, math.Abs(float64(a[i]-b[i]))/(1+math.Abs(float64(b[i]))))
	}
	return e
}

// TestBF16WeightsMatchTrainingForward: an engine decoding with bf16
// weights gives the logits of the training forward in bf16
// (nn.Model.SetPrecision: the same GEMM operands, rounded the same way), to
// float32 noise, in prefill and in batched decode; and they differ from the
// float32 logits by far more, so the check tells the precisions apart.
func TestBF16WeightsMatchTrainingForward(t *testing.T) {
	for _, mt := range []string{"llama", "qwen2", "qwen3"} {
		t.Run(mt, func(t *testing.T) {
			m := testModel(t, mt, 2)
			r := rand.New(rand.NewPCG(1, 2))
			toks := randTokens(r, 41, m.Cfg.VocabSize)
			want32 := trainingLogits(t, m, toks)
			require.NoError(t, m.SetPrecision(nn.BF16))
			want := trainingLogits(t, m, toks)
			require.NoError(t, m.SetPrecision(nn.F32))
			V := m.Cfg.VocabSize

			e := New(m, Options{BlockSize: 4})
			defer e.Close()
			require.Equal(t, nn.F32, e.Precision())
			require.NoError(t, e.SetPrecision(nn.BF16))
			require.Equal(t, nn.BF16, e.Precision())
			s := e.NewSeq()
			got, err := e.Forward([]Feed{{Seq: s, Tokens: toks, All: true}})
			require.NoError(t, err)
			requireClose(t, want, got, 1e-4, "prefill")
			require.Greater(t, maxRel(got, want32), 1e-3, "bf16 engine logits are as close to float32 as to bf16")

			s2, other := e.NewSeq(), e.NewSeq()
			got, err = e.Forward([]Feed{{Seq: s2, Tokens: toks[:10]}, {Seq: other, Tokens: toks[5:7]}})
			require.NoError(t, err)
			requireClose(t, want[9*V:10*V], got[:V], 1e-4, "prefill last row")
			for i := 10; i < len(toks); i++ {
				got, err = e.Forward([]Feed{{Seq: other, Tokens: toks[i%5 : i%5+1]}, {Seq: s2, Tokens: toks[i : i+1]}})
				require.NoError(t, err)
				requireClose(t, want[i*V:(i+1)*V], got[V:], 1e-4, "decode")
			}

			// Back to float32: the model's own weights again.
			require.NoError(t, e.SetPrecision(nn.F32))
			s3 := e.NewSeq()
			got, err = e.Forward([]Feed{{Seq: s3, Tokens: toks, All: true}})
			require.NoError(t, err)
			requireClose(t, want32, got, 1e-4, "float32 prefill")
		})
	}
}

// TestBF16WeightsRefresh: the copy follows the model after an optimizer
// update (WeightsVersion) without any call, and after an in-place write
// once RefreshWeights is called; either way it equals a fresh engine's.
func TestBF16WeightsRefresh(t *testing.T) {
	m := testModel(t, "qwen2", 1)
	toks := randTokens(rand.New(rand.NewPCG(3, 4)), 12, m.Cfg.VocabSize)
	logits := func(e *Engine) []float32 {
		s := e.NewSeq()
		defer e.Release(s)
		got, err := e.Forward([]Feed{{Seq: s, Tokens: toks, All: true}})
		require.NoError(t, err)
		return got
	}
	fresh := func() []float32 {
		e := New(m, Options{})
		defer e.Close()
		require.NoError(t, e.SetPrecision(nn.BF16))
		return logits(e)
	}
	e := New(m, Options{})
	defer e.Close()
	require.NoError(t, e.SetPrecision(nn.BF16))
	before := logits(e)

	// One AdamW step on some gradient.
	opt, err := nn.NewAdamW(m, nn.AdamWConfig{LR: 1e-2, Beta1: 0.9, Beta2: 0.95, Eps: 1e-8})
	require.NoError(t, err)
	p, err := m.Forward(toks, nn.Pack(len(toks)))
	require.NoError(t, err)
	m.ZeroGrad()
	mask := make([]float32, len(toks))
	for i := range mask {
		mask[i] = 1
	}
	_, err = p.CrossEntropy(p.NextTokenTargets(), mask, 0)
	require.NoError(t, err)
	p.Free()
	_, err = opt.Update(m)
	require.NoError(t, err)
	after := logits(e)
	require.NotEqual(t, before, after)
	require.Equal(t, fresh(), after)

	// An in-place write the model is not told of: stale until refreshed.
	w, err := m.Layers[0].Q.Data()
	require.NoError(t, err)
	for i := range w {
		w[i] = -w[i]
	}
	m.Layers[0].Q.Set(w)
	require.Equal(t, after, logits(e))
	e.RefreshWeights()
	require.Equal(t, fresh(), logits(e))
}

// TestBF16WeightsBatchInvariant is TestBatchInvariant with bf16 weights: a
// stream's log-probs do not depend on the streams beside it or on the
// thread count.
func TestBF16WeightsBatchInvariant(t *testing.T) {
	for _, c := range checkBatchInvariant(t, func(threads int) *Engine {
		e := New(testModel(t, "llama", threads), Options{BlockSize: 8, BatchInvariant: true})
		require.NoError(t, e.SetPrecision(nn.BF16))
		return e
	}) {
		require.Equal(t, c.alone, c.got, c.name)
	}
}

// f32Backend hides the CPU backend's BF16 interface.
type f32Backend struct{ backend.Backend }

func TestBF16WeightsNeedBackend(t *testing.T) {
	m, err := nn.New(testModel(t, "llama", 1).Cfg, f32Backend{cpu.New(1)})
	require.NoError(t, err)
	e := New(m, Options{})
	defer e.Close()
	require.ErrorContains(t, e.SetPrecision(nn.BF16), "no bf16 GEMM")
	require.Equal(t, nn.F32, e.Precision())
}

// TestBF16PackedWeightsBitwise: the bf16 copy kept in the backend's packed
// layout (backend.PackedBF16, the CPU's) gives the logits of a plain bf16
// copy bit for bit, in prefill and in batched decode of 1 to 20 rows.
func TestBF16PackedWeightsBitwise(t *testing.T) {
	defer func() { packWeights16 = true }()
	m := testModel(t, "qwen2", 2)
	r := rand.New(rand.NewPCG(3, 4))
	toks := randTokens(r, 40, m.Cfg.VocabSize)
	run := func(packed bool) [][]float32 {
		packWeights16 = packed
		e := New(m, Options{BlockSize: 4})
		defer e.Close()
		require.NoError(t, e.SetPrecision(nn.BF16))
		require.Equal(t, packed, e.w16.packed != nil)
		var out [][]float32
		seqs := make([]*Seq, 20)
		feeds := make([]Feed, len(seqs))
		for i := range seqs {
			seqs[i] = e.NewSeq()
			feeds[i] = Feed{Seq: seqs[i], Tokens: toks[i : i+1+i%3]}
		}
		got, err := e.Forward(feeds)
		require.NoError(t, err)
		out = append(out, got)
		for _, rows := range []int{1, 5, 20} {
			got, err = e.Forward(feeds[:rows])
			require.NoError(t, err)
			out = append(out, got)
		}
		return out
	}
	plain, packed := run(false), run(true)
	require.Equal(t, len(plain), len(packed))
	for i := range plain {
		require.Equal(t, len(plain[i]), len(packed[i]))
		for j := range plain[i] {
			require.Equalf(t, math.Float32bits(plain[i][j]), math.Float32bits(packed[i][j]), "forward %d logit %d", i, j)
		}
	}
}
