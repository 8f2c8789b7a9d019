package run

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/rl"

	_ "github.com/goarpo/arpo/backend/cpu" // the backend of the tests
)

// TestInterruptMessageNamesThePhaseStep: a run stopped at RL step 7 after
// 60 SFT steps says "rl step 7", not "rl step 60".
func TestInterruptMessageNamesThePhaseStep(t *testing.T) {
	assert.Equal(t, "rl step 7", position{Phase: "rl", SFTStep: 60, RLStep: 7}.at())
	assert.Equal(t, "sft step 40", position{Phase: "sft", SFTStep: 40}.at())
}

// TestCheckpointCarriesItsPosition: everything in position, the ΔH
// statistics of calibrated branching included, comes back from the
// checkpoint, so a roll-forward restores it exactly (the smoke run never
// branches, so the kill test alone would not notice its loss).
func TestCheckpointCarriesItsPosition(t *testing.T) {
	b, err := openBackend(Config{Backend: "cpu", Threads: 1})
	require.NoError(t, err)
	m, err := newModel(smokePreset(), 300, b)
	require.NoError(t, err)
	j := &job{c: smokePreset(), dir: t.TempDir(), model: m, out: io.Discard}
	require.NoError(t, os.MkdirAll(filepath.Join(j.dir, "checkpoints"), 0o755))
	j.opt, err = j.rlOptimizer()
	require.NoError(t, err)
	j.st.position = position{Phase: "rl", SFTStep: 3, RLStep: 5,
		DeltaH: rl.DeltaHStats{Mean: 0.1234567890123, Var: 1.0 / 3, Steps: 5}}
	require.NoError(t, j.save())
	got, err := checkpointPosition(j.ckpt("latest"))
	require.NoError(t, err)
	assert.Equal(t, j.st.position, got)
}

// Every flag a resume may change is left out of the run's identity, and
// nothing else is.
func TestConfigIdentityLeavesOutExactlyTheResumableFlags(t *testing.T) {
	base := quickPreset()
	id := configIdentity(base)
	changed := base
	changed.RLSteps, changed.Threads, changed.CheckpointEv, changed.EvalEvery = 99, 3, 7, 5
	changed.SFTCheckpointEv, changed.SaveTrees, changed.ExportDType, changed.Out = 9, 2, "f32", "/elsewhere"
	assert.Equal(t, id, configIdentity(changed), "resumable flags and --out do not change the identity")
	other := base
	other.Seed++
	assert.NotEqual(t, id, configIdentity(other), "the seed decides the run's numbers")
}
