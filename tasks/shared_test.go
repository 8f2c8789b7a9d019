package tasks

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/internal/shareddata"
	"github.com/goarpo/arpo/tasks/grade"
)

// TestSharedFilesLoad loads every file of ../shared/data/eval and
// ../shared/data/train; it skips when the folder is absent.
func TestSharedFilesLoad(t *testing.T) {
	var files []string
	for _, sub := range []string{"eval", "train"} {
		dir := shareddata.Path(t, sub)
		ents, err := os.ReadDir(dir)
		require.NoError(t, err)
		for _, e := range ents {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	require.NotEmpty(t, files)
	for _, f := range files {
		ex, err := Load(f, Options{})
		require.NoError(t, err, f)
		require.NotEmpty(t, ex, f)
		for i, e := range ex {
			require.NotEmpty(t, e.Question, "%s row %d", f, i)
			require.NotEmpty(t, e.Answer, "%s row %d", f, i)
			_, err := grade.ParseMetric(string(e.Metric))
			require.NoError(t, err)
		}
	}
}

func TestSharedByName(t *testing.T) {
	dir := filepath.Dir(shareddata.Path(t, "eval"))
	for name, rel := range SharedEval {
		shareddata.Path(t, rel)
		ex, corpus, err := LoadShared(dir, name)
		require.NoError(t, err, name)
		assert.NotEmpty(t, ex, name)
		assert.Equal(t, name == "hotpotqa-local", corpus != nil, name)
	}
	_, _, err := LoadShared(dir, "nope")
	assert.Error(t, err)
}

// TestLoadSharedDataDir: the data folder is the one passed in, never found
// by searching upward from the working directory; a missing one says how
// to give it.
func TestLoadSharedDataDir(t *testing.T) {
	_, _, err := LoadShared(filepath.Join(t.TempDir(), "absent"), "gsm8k")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "give --data DIR or set ARPO_SHARED_DATA")

	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "eval"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "eval", "gsm8k.jsonl"), []byte(`{"question": "1+1?", "answer": "2"}`+"\n"), 0o644))
	ex, _, err := LoadShared(dir, "gsm8k")
	require.NoError(t, err)
	require.Len(t, ex, 1)
	assert.Equal(t, "gsm8k", ex[0].Source)

	t.Setenv(DataDirEnv, dir)
	assert.Equal(t, dir, DefaultDataDir())
	t.Setenv(DataDirEnv, "")
	assert.Equal(t, filepath.Join("..", "shared", "data"), DefaultDataDir())
}

func TestARPOTrainParquet(t *testing.T) {
	p := shareddata.Path(t, "train/arpo_train_10k.parquet")
	ex, err := LoadParquet(p, Options{})
	require.NoError(t, err)
	require.Len(t, ex, 10000)
	counts := map[grade.Metric]int{}
	for _, e := range ex {
		counts[e.Metric]++
		require.Contains(t, e.System, "<search>")
	}
	assert.Equal(t, map[grade.Metric]int{grade.MetricMath: 5000, grade.MetricF1: 5000}, counts)
	assert.Equal(t, `3\sqrt{3} - 6`, ex[0].Answer)
	assert.Equal(t, "DR_grpo_mix", ex[0].Source)
	assert.True(t, strings.HasPrefix(ex[0].Question, "Triangle"))
}

func TestHotpotLocal(t *testing.T) {
	p := shareddata.Path(t, "eval/hotpotqa_distractor_600.jsonl")
	ex, corpus, err := LoadHotpotLocal(p)
	require.NoError(t, err)
	require.Len(t, ex, 600)
	require.Greater(t, len(corpus), 3000)
	assert.Equal(t, "beer and whisky", ex[0].Answer)
	assert.Equal(t, grade.MetricF1, ex[0].Metric)
	ids := map[string]bool{}
	titles := map[string]bool{}
	for _, c := range corpus {
		require.False(t, ids[c.ID])
		ids[c.ID] = true
		require.NotEmpty(t, c.Text)
		titles[c.Title] = true
	}
	assert.True(t, titles["Michael Jackson (writer)"], "a supporting paragraph of question 0")
	// Most answers (not yes/no) occur verbatim somewhere in the local corpus.
	var text strings.Builder
	for _, c := range corpus {
		text.WriteString(strings.ToLower(c.Text))
	}
	all, found := 0, 0
	for _, e := range ex {
		if a := strings.ToLower(e.Answer); a != "yes" && a != "no" {
			all++
			if strings.Contains(text.String(), a) {
				found++
			}
		}
	}
	assert.Greater(t, float64(found)/float64(all), 0.75) // 81% on the 600-question file
}

// TestGoldsGradeThemselves: every GSM8K and MATH-500 gold, written as a model
// would (boxed in an answer block), gets reward 1.
func TestGoldsGradeThemselves(t *testing.T) {
	for _, rel := range []string{"eval/gsm8k.jsonl", "train/gsm8k_train.jsonl", "eval/math500.jsonl", "eval/aime24.jsonl", "eval/aime25.jsonl"} {
		ex, err := LoadJSONL(shareddata.Path(t, rel), Options{})
		require.NoError(t, err)
		for i, e := range ex {
			require.Equal(t, grade.MetricMath, e.Metric, rel)
			require.Equal(t, 1.0, e.Score(e.Answer), "%s row %d: %q", rel, i, e.Answer)
			resp := "<think> done </think>\n<answer> \\boxed{" + e.Answer + "} </answer>"
			require.Equal(t, 1.0, e.Reward(resp, nil).Value, "%s row %d: %q", rel, i, e.Answer)
		}
	}
}
