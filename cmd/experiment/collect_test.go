package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeRun writes a run folder as cmd/train leaves it, with the numbers
// given: final pass@1 acc (lookup acc, novel family three_hop novel),
// executed and trajectory-level tool calls per step.
func fakeRun(t *testing.T, dir string, acc, lookup, novel float64, calls, flat []int) {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	fams := fmt.Sprintf(`[{"family":"lookup","questions":30,"pass1":%g,"tool_calls":1},`+
		`{"family":"three_hop","novel":true,"questions":10,"pass1":%g,"tool_calls":3}]`, lookup, novel)
	writeFile(t, dir, "summary.json", fmt.Sprintf(`{"before":{"tag":"sft","step":0,"overall":{"pass1":0.1}},`+
		`"after":{"tag":"final","step":%d,"overall":{"pass1":%g,"tool_calls":1.5},"families":%s},"rl_steps":%d,"algo":"arpo","seconds":12}`,
		len(calls), acc, fams, len(calls)))
	var m strings.Builder
	for i := range calls {
		fmt.Fprintf(&m, `{"step":%d,"tool_calls":%d,"tool_calls_flat":%d,"tokens_generated":100,"reward_mean":0.5}`+"\n", i+1, calls[i], flat[i])
	}
	writeFile(t, dir, "metrics.jsonl", m.String())
	writeFile(t, dir, "evals.jsonl", fmt.Sprintf(`{"tag":"sft","step":0,"overall":{"pass1":0.1}}`+"\n"+
		`{"tag":"final","step":%d,"overall":{"pass1":%g}}`+"\n", len(calls), acc))
}

func TestCollectorOnSyntheticRuns(t *testing.T) {
	dir := t.TempDir()
	fakeRun(t, filepath.Join(dir, "a1"), 0.5, 0.6, 0.2, []int{10, 20}, []int{20, 40})
	fakeRun(t, filepath.Join(dir, "a2"), 0.7, 0.8, 0.4, []int{30, 40}, []int{50, 60})
	fakeRun(t, filepath.Join(dir, "g1"), 0.4, 0.4, 0.4, []int{40, 40}, []int{40, 40})

	r, err := readRun(filepath.Join(dir, "a1"))
	require.NoError(t, err)
	assert.Equal(t, 30, r.TrainCalls)
	assert.Equal(t, 60, r.TrainCallsFlat)
	assert.Equal(t, 15.0, r.CallsPerStep)
	assert.Equal(t, 200, r.TokensGenerated)
	assert.InDelta(t, 0.6, r.TestAccSeen, 1e-12)
	assert.InDelta(t, 0.2, r.TestAccNovel, 1e-12)
	assert.Equal(t, 0.1, r.TestAccSFT)
	assert.Equal(t, 1.5, r.TestCalls)
	assert.Equal(t, []Point{{0, 0.1}, {2, 0.5}}, r.Accuracy)
	assert.Equal(t, []Point{{1, 10}, {2, 20}}, r.Calls)
	assert.Equal(t, []Point{{0, 0}, {1, 10}, {2, 30}}, r.CumCalls, "calls spent by each step")

	var runs []RunResult
	for _, c := range []struct {
		dir, arm string
		seed     uint64
	}{{"a1", "arpo", 1}, {"a2", "arpo", 2}, {"g1", "grpo", 1}} {
		r, err := readRun(filepath.Join(dir, c.dir))
		require.NoError(t, err)
		r.Cell, r.Arm, r.Seed = c.dir, c.arm, c.seed
		runs = append(runs, r)
	}
	arms := aggregate([]Arm{{Name: "arpo", Algo: "arpo"}, {Name: "grpo", Algo: "grpo"}, {Name: "dapo", Algo: "dapo"}}, runs)
	require.Len(t, arms, 2, "an arm without finished cells has no row")
	a := arms[0]
	assert.Equal(t, []uint64{1, 2}, a.Seeds)
	assert.InDelta(t, 0.6, a.Metrics["test_acc"].Mean, 1e-12)
	assert.InDelta(t, 0.1414213562, a.Metrics["test_acc"].Std, 1e-9, "sample std of 0.5 and 0.7")
	assert.InDelta(t, 50, a.Metrics["train_tool_calls"].Mean, 1e-12)
	assert.InDelta(t, 85, a.Metrics["train_tool_calls_flat"].Mean, 1e-12)
	assert.InDelta(t, 0.3, a.Families["three_hop"].Mean, 1e-12)
	assert.Equal(t, 0.0, arms[1].Metrics["test_acc"].Std, "one seed: no spread")

	var md bytes.Buffer
	require.NoError(t, writeMarkdown(&md, arms, runs))
	assert.Contains(t, md.String(), "| arpo | 2 | 0.600 ± 0.141 |")
	assert.Contains(t, md.String(), "| grpo | 1 | 0.400 |")
	assert.Contains(t, md.String(), "| three_hop * | 0.300 ± 0.141 | 0.400 |")
	assert.Less(t, strings.Index(md.String(), "| lookup |"), strings.Index(md.String(), "| three_hop * |"), "novel families come last")

	png := filepath.Join(dir, "results.png")
	require.NoError(t, plots(png, arms, runs))
	assert.FileExists(t, png)

	// A step logged twice (a crash and a resume by an older cmd/train)
	// counts once: the budget comparison must not double count.
	writeFile(t, filepath.Join(dir, "a1"), "metrics.jsonl", `{"step":1,"tool_calls":10,"tool_calls_flat":20}`+"\n"+
		`{"step":2,"tool_calls":99,"tool_calls_flat":99,"time_rollout_s":9}`+"\n"+
		`{"step":2,"tool_calls":20,"tool_calls_flat":40,"time_rollout_s":1.5,"time_update_s":2}`+"\n")
	r, err = readRun(filepath.Join(dir, "a1"))
	require.NoError(t, err)
	assert.Equal(t, 30, r.TrainCalls)
	assert.Equal(t, 60, r.TrainCallsFlat)
	assert.Equal(t, 15.0, r.CallsPerStep)
	assert.Equal(t, []Point{{1, 10}, {2, 20}}, r.Calls)
	assert.Equal(t, []Point{{0, 0}, {1, 10}, {2, 30}}, r.CumCalls, "calls spent by each step, the replaced line not counted")
	assert.Equal(t, []Point{{0, 0}, {1, 0}, {2, 3.5}}, r.CumSeconds)

	_, err = readRun(filepath.Join(dir, "missing"))
	assert.Error(t, err)
	writeFile(t, filepath.Join(dir, "a1"), "evals.jsonl", "{not json\n")
	_, err = readRun(filepath.Join(dir, "a1"))
	assert.Error(t, err, "a corrupt file is an error, not a crash")
}
