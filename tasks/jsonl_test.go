package tasks

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/tasks/grade"
)

func TestReadJSONLFieldNames(t *testing.T) {
	in := strings.Join([]string{
		`{"question": "Q1", "answer": ["NYC", "New York City"]}`,
		``,
		`{"problem": "Q2", "answer": 70, "id": "7"}`,
		`{"question": "Q3", "answer": "['a', 'b']", "_id": "x3", "type": "bridge"}`,
		`{"question": "Q4", "answer": "Janet sells 9.\n#### 1,018", "idx": 3}`,
		`{"prompt": [{"role": "system", "content": "S"}, {"role": "user", "content": "Q5"}], "reward_model": {"ground_truth": "5", "style": "rule"}}`,
		`{"query": "Q6", "golden_answers": ["x"], "input": "ignored"}`,
		`{"question": "Q7", "ground_truth": "[1, 2]"}`,
	}, "\n")
	ex, err := ReadJSONL(strings.NewReader(in), Options{Source: "mix"})
	require.NoError(t, err)
	require.Len(t, ex, 7)

	assert.Equal(t, "Q1", ex[0].Question)
	assert.Equal(t, []string{"NYC", "New York City"}, ex[0].Golds())
	assert.Equal(t, grade.MetricF1, ex[0].Metric)

	assert.Equal(t, "Q2", ex[1].Question)
	assert.Equal(t, "70", ex[1].Answer)
	assert.Equal(t, "7", ex[1].ID)

	assert.Equal(t, []string{"a", "b"}, ex[2].Golds())
	assert.Equal(t, "bridge", ex[2].Meta["type"])
	assert.Equal(t, "x3", ex[2].ID)

	assert.Equal(t, "1,018", ex[3].Answer)
	assert.Equal(t, "Janet sells 9.", ex[3].Meta["solution"])
	assert.Equal(t, grade.MetricMath, ex[3].Metric, "#### answers are math")
	assert.Equal(t, "3", ex[3].ID)

	assert.Equal(t, "Q5", ex[4].Question)
	assert.Equal(t, "S", ex[4].System)
	assert.Equal(t, "5", ex[4].Answer)

	assert.Equal(t, "Q6", ex[5].Question)
	assert.Equal(t, []string{"1", "2"}, ex[6].Golds())
	for _, e := range ex {
		assert.Equal(t, "mix", e.Source)
	}
}

func TestReadJSONLErrors(t *testing.T) {
	for _, in := range []string{
		`{"question": "Q"}`,
		`{"answer": "A"}`,
		`{"question": "Q", "answer": []}`,
		`{"question": 3, "answer": "A"}`,
		`{"question": "Q", "answer": {"x": 1}}`,
		`not json`,
		`{"question": "Q", "answer": "A", "metric": "bleu"}`,
	} {
		_, err := ReadJSONL(strings.NewReader("{\"question\":\"ok\",\"answer\":\"1\"}\n"+in), Options{})
		require.Error(t, err, in)
		assert.Contains(t, err.Error(), "line 2", in)
	}
}

func TestMetricInference(t *testing.T) {
	for src, want := range map[string]grade.Metric{
		"gsm8k": grade.MetricMath, "math500": grade.MetricMath, "aime24": grade.MetricMath,
		"hotpotqa": grade.MetricF1, "bamboogle": grade.MetricF1,
	} {
		ex, err := ReadJSONL(strings.NewReader(`{"question":"q","answer":"1"}`), Options{Source: src})
		require.NoError(t, err)
		assert.Equal(t, want, ex[0].Metric, src)
	}
	ex, err := ReadJSONL(strings.NewReader(`{"question":"q","answer":"1"}`), Options{Source: "gsm8k", Metric: grade.MetricEM})
	require.NoError(t, err)
	assert.Equal(t, grade.MetricEM, ex[0].Metric, "an explicit metric wins")
}

func TestWriteJSONLRoundTrip(t *testing.T) {
	dir := t.TempDir()
	ex := []Example{{
		ID: "tw-1", Source: "toolworld", Question: "When was Kalven founded?", Answer: "1734",
		Metric: grade.MetricMath, Family: "lookup", Level: 1, Split: "test", Demo: true,
		Gold: "<think> a </think>\n<answer> 1734 </answer>", Calls: 1, Meta: map[string]string{"k": "v"},
	}}
	p := filepath.Join(dir, "ex.jsonl")
	require.NoError(t, WriteJSONL(p, ex))
	back, err := LoadJSONL(p, Options{})
	require.NoError(t, err)
	assert.Equal(t, ex, back)

	ps := []Passage{{ID: "0", Title: "Kalven", Text: "Kalven was founded in 1734."}}
	pp := filepath.Join(dir, "corpus.jsonl")
	require.NoError(t, WriteJSONL(pp, ps))
	bp, err := LoadPassages(pp)
	require.NoError(t, err)
	assert.Equal(t, ps, bp)

	_, err = LoadJSONL(filepath.Join(dir, "absent.jsonl"), Options{})
	assert.Error(t, err)
	_, err = Load(filepath.Join(dir, "x.csv"), Options{})
	assert.Error(t, err)
}

func TestSplitResults(t *testing.T) {
	resp := "<think> a </think>\n<search> q </search>" + ResultBlock("R1") + "<python> print(1) </python>" + ResultBlock("1") + "<answer> 1 </answer>"
	segs := SplitResults(resp)
	require.Len(t, segs, 5)
	var joined strings.Builder
	nres := 0
	for _, s := range segs {
		joined.WriteString(s.Text)
		if s.Result {
			nres++
			assert.True(t, strings.HasPrefix(s.Text, "<result>\n"))
		}
	}
	assert.Equal(t, resp, joined.String())
	assert.Equal(t, 2, nres)
	assert.Equal(t, []Segment{{Text: "no results"}}, SplitResults("no results"))
}

func TestExampleReward(t *testing.T) {
	e := Example{Answer: "Frank Lowy", Aliases: []string{"Lowy"}, Metric: grade.MetricEM}
	assert.Equal(t, 1.0, e.Score("lowy"))
	assert.Equal(t, 1.0, e.Reward("<answer> Frank Lowy </answer>", nil).Value)
	assert.Equal(t, -1.0, e.Reward("<answer> Frank Lowy", nil).Value)
}
