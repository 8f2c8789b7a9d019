package dist

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/nn/sample"
	"github.com/goarpo/arpo/rl"
)

// TestDecodeWorkItem: a valid item round-trips with every RolloutConfig
// field; each malformed one is rejected with a reason.
func TestDecodeWorkItem(t *testing.T) {
	cfg := rl.DefaultAlgoConfig(rl.ARPO, 4).Rollout
	cfg.N, cfg.TokenBudget, cfg.Seed, cfg.EOS, cfg.DeltaHStd = 2, 64, 3, []int32{0, 7}, 0.25
	cfg.Sampling = sample.Params{Temperature: 0.7, TopP: 0.9}
	good := WorkItem{Version: 1, Run: "r-1", Step: 17, Index: 3, Policy: 2, Prompt: []int32{1, 2, 3}, Rollout: cfg}
	good.ID = itemID(good)
	data, err := Encode(good)
	require.NoError(t, err)
	got, err := DecodeWorkItem(data)
	require.NoError(t, err)
	assert.Equal(t, good, got)

	mutate := func(fn func(w *WorkItem)) []byte {
		w := good
		fn(&w)
		b, err := json.Marshal(w)
		require.NoError(t, err)
		return b
	}
	for name, b := range map[string][]byte{
		"empty":           nil,
		"not json":        []byte("{"),
		"array":           []byte("[]"),
		"unknown field":   []byte(`{"v":1,"run":"r","zzz":1}`),
		"unknown config":  []byte(`{"v":1,"run":"r","rollout":{"NewKnob":1}}`),
		"trailing":        append(mutate(func(*WorkItem) {}), []byte(" {}")...),
		"version":         mutate(func(w *WorkItem) { w.Version = 2 }),
		"run":             mutate(func(w *WorkItem) { w.Run = "a.b" }),
		"negative":        mutate(func(w *WorkItem) { w.Index = -1 }),
		"no prompt":       mutate(func(w *WorkItem) { w.Prompt = nil }),
		"huge M":          mutate(func(w *WorkItem) { w.Rollout.M = 1 << 20 }),
		"huge budget":     mutate(func(w *WorkItem) { w.Rollout.TokenBudget = 1 << 30 }),
		"prompt too long": mutate(func(w *WorkItem) { w.Prompt = make([]int32, 64) }),
		"bad config":      mutate(func(w *WorkItem) { w.Rollout.N = 99 }),
		"too big":         make([]byte, MaxMessage+1),
	} {
		_, err := DecodeWorkItem(b)
		assert.Error(t, err, name)
	}
}
