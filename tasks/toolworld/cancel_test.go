package toolworld

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGenerateCancelled: a cancelled context stops the generator with its
// error, in every phase (the world, the corpus, the questions, the gold
// trajectories); without cancellation the result is Generate's.
func TestGenerateCancelled(t *testing.T) {
	cfg := DefaultConfig()
	cfg.TrainEntities, cfg.TestEntities, cfg.TrainQuestions, cfg.TestQuestions = 300, 100, 400, 50
	want, err := Generate(cfg)
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = GenerateContext(ctx, cfg)
	assert.ErrorIs(t, err, context.Canceled)

	// Cancelled at each poll in turn: every phase returns the error.
	for n := 1; ; n++ {
		ctx := &countdown{Context: context.Background(), left: n}
		d, err := GenerateContext(ctx, cfg)
		if err == nil {
			assert.Equal(t, want.Train, d.Train, "not cancelled: the same dataset")
			assert.Greater(t, n, 5, "polled in every phase")
			break
		}
		require.ErrorIs(t, err, context.Canceled, "poll %d", n)
	}
}

// countdown is a context whose Err turns to Canceled at its n-th call.
type countdown struct {
	context.Context
	left int
}

func (c *countdown) Err() error {
	if c.left--; c.left < 0 {
		return context.Canceled
	}
	return nil
}
