package tasks

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/tasks/grade"
)

// TestLoadParquetSynthetic writes a small verl-style file and reads it back,
// so the loader is tested without the shared data.
func TestLoadParquetSynthetic(t *testing.T) {
	rows := make([]verlRow, 3)
	rows[0].DataSource, rows[0].Ability = "mathsrc", "math"
	rows[0].Prompt = []Message{{Role: "system", Content: "S"}, {Role: "user", Content: "1+1?"}}
	rows[0].RewardModel.GroundTruth = "2"
	rows[1].DataSource, rows[1].Ability = "qasrc", "qa"
	rows[1].Prompt = []Message{{Role: "user", Content: "Who?"}}
	rows[1].RewardModel.GroundTruth = "['Ann', 'Anne']"
	rows[2].DataSource = "qasrc"
	rows[2].ExtraInfo.Question = "From extra_info?"
	rows[2].RewardModel.GroundTruth = "x"

	p := filepath.Join(t.TempDir(), "mix.parquet")
	require.NoError(t, parquet.WriteFile(p, rows))
	ex, err := LoadParquet(p, Options{})
	require.NoError(t, err)
	require.Len(t, ex, 3)
	assert.Equal(t, Example{ID: "0", Source: "mathsrc", Question: "1+1?", System: "S", Answer: "2",
		Metric: grade.MetricMath, Meta: map[string]string{"data_source": "mathsrc", "ability": "math"}}, ex[0])
	assert.Equal(t, []string{"Ann", "Anne"}, ex[1].Golds())
	assert.Equal(t, grade.MetricF1, ex[1].Metric)
	assert.Equal(t, "From extra_info?", ex[2].Question)

	rows[0].RewardModel.GroundTruth = ""
	require.NoError(t, parquet.WriteFile(p, rows))
	_, err = LoadParquet(p, Options{})
	assert.ErrorContains(t, err, "row 0")

	bad := filepath.Join(t.TempDir(), "bad.parquet")
	require.NoError(t, os.WriteFile(bad, []byte("not parquet"), 0o644))
	_, err = LoadParquet(bad, Options{})
	assert.Error(t, err)
}
