package load

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/nn"
)

func forwardLogits(t *testing.T, m *nn.Model) []float32 {
	t.Helper()
	p, err := m.Forward([]int32{3, 40, 7, 299, 12}, nn.Pack(3, 2))
	require.NoError(t, err)
	defer p.Free()
	lg := p.Logits()
	defer lg.Free()
	d, err := lg.Data()
	require.NoError(t, err)
	return d
}

// loraRun writes a run folder whose final checkpoint is LoRA adapters on
// the Hugging Face folder base, and returns the adapted model.
func loraRun(t *testing.T, base string) (string, *nn.Model) {
	t.Helper()
	m, err := nn.LoadHF(base, testBackend())
	require.NoError(t, err)
	t.Cleanup(m.Free)
	require.NoError(t, m.AttachLoRA(nn.LoRAConfig{Rank: 2, Alpha: 4, Targets: []string{"q", "up"}}, 3))
	rng := rand.New(rand.NewPCG(1, 1))
	for _, p := range m.LoRA.Params {
		v := make([]float32, p.W.Len())
		for i := range v {
			v[i] = float32(0.2 * rng.NormFloat64())
		}
		p.W.Set(v)
	}
	opt, err := nn.NewAdamW(m, nn.DefaultAdamW(1e-3))
	require.NoError(t, err)
	defer opt.Free()
	dir := runDir(t)
	require.NoError(t, nn.Checkpoint{Model: m, Opt: opt, Base: base}.Save(filepath.Join(dir, "checkpoints", "final.safetensors")))
	return dir, m
}

// TestLoadLoRA: a LoRA run loads as its base with the adapters merged;
// LoadAdapters keeps them attached; a changed base is refused in one line.
func TestLoadLoRA(t *testing.T) {
	base := hfDir(t)
	run, adapted := loraRun(t, base)
	want := forwardLogits(t, adapted)

	l, err := Load(run, Options{Backend: testBackend()})
	require.NoError(t, err)
	defer l.Free()
	require.Nil(t, l.Model.LoRA)
	got := forwardLogits(t, l.Model)
	for i := range want {
		require.InDelta(t, want[i], got[i], 1e-5)
	}
	_, err = Check(run, Options{})
	require.NoError(t, err)

	m, info, err := LoadAdapters(run, testBackend())
	require.NoError(t, err)
	defer m.Free()
	require.NotNil(t, m.LoRA)
	require.Equal(t, base, info.Base)
	require.Equal(t, want, forwardLogits(t, m))

	_, _, err = LoadAdapters(base, testBackend())
	require.ErrorContains(t, err, "not a LoRA checkpoint")

	// Another model in the base's place.
	other := testModel(t)
	defer other.Free()
	w := make([]float32, other.W.Len())
	for i := range w {
		w[i] = 0.01
	}
	other.W.Set(w)
	require.NoError(t, other.SaveHF(base))
	_, err = Load(run, Options{Backend: testBackend()})
	require.ErrorContains(t, err, "are not the ones the adapters were trained on")
	require.NotContains(t, err.Error(), "\n")

	require.NoError(t, os.RemoveAll(base))
	_, err = Check(run, Options{})
	require.ErrorContains(t, err, "the base model of LoRA checkpoint")
}
