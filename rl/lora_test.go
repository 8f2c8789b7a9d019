package rl

import (
	"context"
	"testing"

	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/engine"
	"github.com/stretchr/testify/require"
)

// TestRLStepLoRA: every algorithm trains the adapters of a LoRA model, not
// its base, and the rollout engine's merged copy is refreshed after the
// update to the weights the adapted model computes with.
func TestRLStepLoRA(t *testing.T) {
	for _, algo := range []Algo{ARPO, GRPO, DAPO, REINFORCEPP} {
		t.Run(string(algo), func(t *testing.T) {
			tr := tinyTrainer(t, algo, 11)
			m := tr.Model
			base, err := m.W.Data()
			require.NoError(t, err)
			require.NoError(t, m.AttachLoRA(nn.LoRAConfig{Rank: 2, Alpha: 4, Targets: []string{"q", "v", "o", "down"}}, 1))
			tr.Opt, err = nn.NewAdamW(m, nn.DefaultAdamW(1e-2))
			require.NoError(t, err)
			tr.Rollout, err = m.MergedCopy()
			require.NoError(t, err)
			tr.Roller.Engine = engine.New(tr.Rollout, engine.Options{BlockSize: 8})
			before, err := m.LoRA.W.Data()
			require.NoError(t, err)

			met, _, err := tr.Step(context.Background(), 1, tinyPrompts(), func(n int) []Prompt { return tinyPrompts()[:n] })
			require.NoError(t, err)
			require.Positive(t, met.Groups)
			require.Positive(t, met.GradNorm)

			after, err := m.W.Data()
			require.NoError(t, err)
			require.Equal(t, base, after, "the base is frozen")
			adapters, err := m.LoRA.W.Data()
			require.NoError(t, err)
			require.NotEqual(t, before, adapters)
			fresh, err := m.MergedCopy()
			require.NoError(t, err)
			defer fresh.Free()
			want, err := fresh.W.Data()
			require.NoError(t, err)
			got, err := tr.Rollout.W.Data()
			require.NoError(t, err)
			require.Equal(t, want, got, "the rollout copy is the merged model after the update")
			require.NotEqual(t, base, got)
		})
	}
}
