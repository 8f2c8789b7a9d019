package main

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
	"sort"
	"strings"

	"github.com/goarpo/arpo/internal/runlog"
)

// The parts of cmd/train's run folder the collector reads: summary.json,
// metrics.jsonl (rl.StepMetrics per step) and evals.jsonl.
type (
	familyResult struct {
		Family    string  `json:"family"`
		Novel     bool    `json:"novel"`
		Questions int     `json:"questions"`
		Pass1     float64 `json:"pass1"`
		ToolCalls float64 `json:"tool_calls"`
	}
	evalRecord struct {
		Tag      string         `json:"tag"`
		Step     int            `json:"step"`
		Overall  familyResult   `json:"overall"`
		Families []familyResult `json:"families"`
	}
	summaryFile struct {
		Before  evalRecord `json:"before"`
		After   evalRecord `json:"after"`
		RLSteps int        `json:"rl_steps"`
		Algo    string     `json:"algo"`
		Seconds float64    `json:"seconds"`
	}
	stepLine struct {
		Step             int     `json:"step"`
		ToolCalls        int     `json:"tool_calls"`
		ToolCallsFlat    int     `json:"tool_calls_flat"`
		TokensGenerated  int     `json:"tokens_generated"`
		GroupsWithSignal float64 `json:"groups_with_signal"`
		PassAtM          float64 `json:"pass_at_m"`
		DistinctAnswers  float64 `json:"distinct_answers"`
		BranchProbHigh   float64 `json:"branch_prob_above_0.6"`
		BranchProbStd    float64 `json:"branch_prob_std"`
		TimeRolloutS     float64 `json:"time_rollout_s"`
		TimeUpdateS      float64 `json:"time_update_s"`
	}
)

// Point is one (step, value) of a curve.
type Point struct {
	Step  int     `json:"step"`
	Value float64 `json:"value"`
}

// RunResult is one finished run folder's numbers.
type RunResult struct {
	Cell    string  `json:"cell"`
	Arm     string  `json:"arm"`
	Seed    uint64  `json:"seed"`
	Steps   int     `json:"rl_steps"`
	Algo    string  `json:"algo"`
	TestAcc float64 `json:"test_acc"` // pass@1 after RL
	// TestAccSFT is pass@1 of the starting checkpoint on the same questions.
	TestAccSFT   float64            `json:"test_acc_sft"`
	TestAccNovel float64            `json:"test_acc_novel"` // question-weighted over novel families
	TestAccSeen  float64            `json:"test_acc_seen"`
	Families     map[string]float64 `json:"families"`
	Novel        map[string]bool    `json:"novel"`
	// TrainCalls are the tool calls executed during RL; TrainCallsFlat what
	// trajectory-level rollout of the same trajectories would have run.
	TrainCalls      int     `json:"train_tool_calls"`
	TrainCallsFlat  int     `json:"train_tool_calls_flat"`
	CallsPerStep    float64 `json:"train_tool_calls_per_step"`
	FlatPerStep     float64 `json:"train_tool_calls_flat_per_step"`
	TestCalls       float64 `json:"test_tool_calls_per_question"`
	TokensGenerated int     `json:"tokens_generated"`
	WallS           float64 `json:"wall_s"` // the run's own clock; cmd/experiment's when it has one
	// Means over RL steps of the rollout-group diagnostics (rl.GroupDiagnostics)
	// and of ARPO's branch-probability spread.
	GroupsWithSignal float64 `json:"groups_with_signal"`
	PassAtM          float64 `json:"pass_at_m"`
	DistinctAnswers  float64 `json:"distinct_answers"`
	BranchProbHigh   float64 `json:"branch_prob_above_0.6"`
	BranchProbStd    float64 `json:"branch_prob_std"`
	Accuracy         []Point `json:"test_acc_curve"`
	Calls            []Point `json:"tool_calls_curve"`
	Signal           []Point `json:"groups_with_signal_curve"`
	// CumCalls and CumSeconds are the tool calls executed and the seconds of
	// RL steps (rollout and update) spent up to and including each step,
	// with step 0 at 0: the x axes of accuracy against cost.
	CumCalls   []Point `json:"cumulative_tool_calls"`
	CumSeconds []Point `json:"cumulative_step_seconds"`
}

// readRun reads a finished run folder.
func readRun(dir string) (RunResult, error) {
	var r RunResult
	var sum summaryFile
	if err := runlog.ReadJSON(filepath.Join(dir, "summary.json"), &sum); err != nil {
		return r, err
	}
	steps, err := runlog.ReadJSONL[stepLine](filepath.Join(dir, "metrics.jsonl"))
	if err != nil && sum.RLSteps > 0 {
		return r, err
	}
	evals, err := runlog.ReadJSONL[evalRecord](filepath.Join(dir, "evals.jsonl"))
	if err != nil {
		return r, err
	}
	r.Algo, r.Steps, r.WallS = sum.Algo, sum.RLSteps, sum.Seconds
	r.TestAcc, r.TestAccSFT, r.TestCalls = sum.After.Overall.Pass1, sum.Before.Overall.Pass1, sum.After.Overall.ToolCalls
	r.Families, r.Novel = map[string]float64{}, map[string]bool{}
	var nq, sq, nAcc, sAcc float64
	for _, f := range sum.After.Families {
		r.Families[f.Family] = f.Pass1
		q := float64(f.Questions)
		if f.Novel {
			r.Novel[f.Family] = true
			nq, nAcc = nq+q, nAcc+q*f.Pass1
		} else {
			sq, sAcc = sq+q, sAcc+q*f.Pass1
		}
	}
	r.TestAccNovel, r.TestAccSeen = ratio(nAcc, nq), ratio(sAcc, sq)
	steps = lastPerStep(steps)
	r.CumCalls, r.CumSeconds = []Point{{0, 0}}, []Point{{0, 0}}
	secs := 0.0
	for _, s := range steps {
		secs += s.TimeRolloutS + s.TimeUpdateS
		r.CumCalls = append(r.CumCalls, Point{s.Step, float64(r.TrainCalls + s.ToolCalls)})
		r.CumSeconds = append(r.CumSeconds, Point{s.Step, secs})
		r.Signal = append(r.Signal, Point{s.Step, s.GroupsWithSignal})
		r.TrainCalls += s.ToolCalls
		r.TrainCallsFlat += s.ToolCallsFlat
		r.TokensGenerated += s.TokensGenerated
		r.Calls = append(r.Calls, Point{s.Step, float64(s.ToolCalls)})
		r.GroupsWithSignal += s.GroupsWithSignal
		r.PassAtM += s.PassAtM
		r.DistinctAnswers += s.DistinctAnswers
		r.BranchProbHigh += s.BranchProbHigh
		r.BranchProbStd += s.BranchProbStd
	}
	n := float64(len(steps))
	r.GroupsWithSignal, r.PassAtM, r.DistinctAnswers = ratio(r.GroupsWithSignal, n), ratio(r.PassAtM, n), ratio(r.DistinctAnswers, n)
	r.BranchProbHigh, r.BranchProbStd = ratio(r.BranchProbHigh, n), ratio(r.BranchProbStd, n)
	r.CallsPerStep = ratio(float64(r.TrainCalls), float64(len(steps)))
	r.FlatPerStep = ratio(float64(r.TrainCallsFlat), float64(len(steps)))
	// A resumed run may log an evaluation twice; keep the last per step.
	byStep := map[int]float64{}
	for _, e := range evals {
		byStep[e.Step] = e.Overall.Pass1
	}
	for s, v := range byStep {
		r.Accuracy = append(r.Accuracy, Point{s, v})
	}
	sort.Slice(r.Accuracy, func(a, b int) bool { return r.Accuracy[a].Step < r.Accuracy[b].Step })
	return r, nil
}

// lastPerStep keeps one line per RL step, the last one logged, in step
// order: cmd/train cuts its log back to the checkpoint when it resumes, but
// a folder written by an older version (or copied mid-run) may hold a step
// twice, and counting it twice would skew the tool-call budget.
func lastPerStep(lines []stepLine) []stepLine {
	idx := map[int]int{}
	var out []stepLine
	for _, l := range lines {
		if i, ok := idx[l.Step]; ok {
			out[i] = l
			continue
		}
		idx[l.Step] = len(out)
		out = append(out, l)
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Step < out[b].Step })
	return out
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// MeanStd is a mean and sample standard deviation over seeds (0 with one).
type MeanStd struct {
	Mean float64 `json:"mean"`
	Std  float64 `json:"std"`
	N    int     `json:"n"`
}

func meanStd(x []float64) MeanStd {
	if len(x) == 0 {
		return MeanStd{}
	}
	m := 0.0
	for _, v := range x {
		m += v
	}
	m /= float64(len(x))
	ss := 0.0
	for _, v := range x {
		ss += (v - m) * (v - m)
	}
	sd := 0.0
	if len(x) > 1 {
		sd = math.Sqrt(ss / float64(len(x)-1))
	}
	return MeanStd{Mean: m, Std: sd, N: len(x)}
}

// ArmResult aggregates an arm's seeds.
type ArmResult struct {
	Arm      string             `json:"arm"`
	Algo     string             `json:"algo"`
	Seeds    []uint64           `json:"seeds"`
	Metrics  map[string]MeanStd `json:"metrics"`  // by RunResult JSON name
	Families map[string]MeanStd `json:"families"` // test pass@1 by family
}

// metricCols are the table's columns: a RunResult field and a header.
var metricCols = []struct {
	key, head, format string
	get               func(RunResult) float64
}{
	{"test_acc", "test acc", "%.3f", func(r RunResult) float64 { return r.TestAcc }},
	{"test_acc_seen", "acc seen fam.", "%.3f", func(r RunResult) float64 { return r.TestAccSeen }},
	{"test_acc_novel", "acc novel fam.", "%.3f", func(r RunResult) float64 { return r.TestAccNovel }},
	{"test_acc_sft", "acc before RL", "%.3f", func(r RunResult) float64 { return r.TestAccSFT }},
	{"train_tool_calls", "train calls", "%.0f", func(r RunResult) float64 { return float64(r.TrainCalls) }},
	{"train_tool_calls_per_step", "calls/step", "%.1f", func(r RunResult) float64 { return r.CallsPerStep }},
	{"train_tool_calls_flat", "traj-level calls", "%.0f", func(r RunResult) float64 { return float64(r.TrainCallsFlat) }},
	{"train_tool_calls_flat_per_step", "traj-level/step", "%.1f", func(r RunResult) float64 { return r.FlatPerStep }},
	{"test_tool_calls_per_question", "test calls/q", "%.2f", func(r RunResult) float64 { return r.TestCalls }},
	{"tokens_generated", "tokens gen.", "%.0f", func(r RunResult) float64 { return float64(r.TokensGenerated) }},
	{"wall_s", "wall s", "%.1f", func(r RunResult) float64 { return r.WallS }},
	{"groups_with_signal", "groups w/ signal", "%.3f", func(r RunResult) float64 { return r.GroupsWithSignal }},
	{"pass_at_m", "pass@M", "%.3f", func(r RunResult) float64 { return r.PassAtM }},
	{"distinct_answers", "answers/group", "%.2f", func(r RunResult) float64 { return r.DistinctAnswers }},
	{"branch_prob_std", "sd(P)", "%.3f", func(r RunResult) float64 { return r.BranchProbStd }},
}

// aggregate groups runs by arm, in the order arms are given.
func aggregate(arms []Arm, runs []RunResult) []ArmResult {
	var out []ArmResult
	for _, a := range arms {
		var mine []RunResult
		for _, r := range runs {
			if r.Arm == a.Name {
				mine = append(mine, r)
			}
		}
		if len(mine) == 0 {
			continue
		}
		ar := ArmResult{Arm: a.Name, Algo: a.Algo, Metrics: map[string]MeanStd{}, Families: map[string]MeanStd{}}
		for _, r := range mine {
			ar.Seeds = append(ar.Seeds, r.Seed)
		}
		for _, c := range metricCols {
			var x []float64
			for _, r := range mine {
				x = append(x, c.get(r))
			}
			ar.Metrics[c.key] = meanStd(x)
		}
		fams := map[string][]float64{}
		for _, r := range mine {
			for f, v := range r.Families {
				fams[f] = append(fams[f], v)
			}
		}
		for f, x := range fams {
			ar.Families[f] = meanStd(x)
		}
		out = append(out, ar)
	}
	return out
}

func fmtMS(format string, m MeanStd) string {
	if m.N > 1 {
		return fmt.Sprintf(format+" ± "+format, m.Mean, m.Std)
	}
	return fmt.Sprintf(format, m.Mean)
}

// writeMarkdown writes the arm table and the per-family table.
func writeMarkdown(w io.Writer, arms []ArmResult, runs []RunResult) error {
	var b strings.Builder
	b.WriteString("Mean ± sample standard deviation over seeds (n = number of seeds). Training tool calls are summed over all RL steps; " +
		"\"traj-level\" is what trajectory-level rollout of the same trajectories would have executed.\n\n")
	b.WriteString("| arm | n |")
	for _, c := range metricCols {
		b.WriteString(" " + c.head + " |")
	}
	b.WriteString("\n|---|---|" + strings.Repeat("---|", len(metricCols)) + "\n")
	for _, a := range arms {
		fmt.Fprintf(&b, "| %s | %d |", a.Arm, len(a.Seeds))
		for _, c := range metricCols {
			b.WriteString(" " + fmtMS(c.format, a.Metrics[c.key]) + " |")
		}
		b.WriteString("\n")
	}
	// Families: seen ones first, then the novel ones (marked *).
	novel := map[string]bool{}
	all := map[string]bool{}
	for _, r := range runs {
		for f := range r.Families {
			all[f] = true
			novel[f] = novel[f] || r.Novel[f]
		}
	}
	var fams []string
	for f := range all {
		fams = append(fams, f)
	}
	sort.Slice(fams, func(i, j int) bool {
		if novel[fams[i]] != novel[fams[j]] {
			return !novel[fams[i]]
		}
		return fams[i] < fams[j]
	})
	if len(fams) > 0 {
		b.WriteString("\nTest pass@1 by family after RL (* novel: no or few demonstrations in SFT).\n\n| family |")
		for _, a := range arms {
			b.WriteString(" " + a.Arm + " |")
		}
		b.WriteString("\n|---|" + strings.Repeat("---|", len(arms)) + "\n")
		for _, f := range fams {
			name := f
			if novel[f] {
				name += " *"
			}
			fmt.Fprintf(&b, "| %s |", name)
			for _, a := range arms {
				m, ok := a.Families[f]
				if !ok {
					b.WriteString(" – |")
					continue
				}
				b.WriteString(" " + fmtMS("%.3f", m) + " |")
			}
			b.WriteString("\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// plots draws test accuracy over training and tool calls per step, one
// line per arm (the mean over its seeds at each step).
func plots(path string, arms []ArmResult, runs []RunResult) error {
	meanCurve := func(arm string, curve func(RunResult) []Point) (xs, ys []float64) {
		sum, cnt := map[int]float64{}, map[int]int{}
		for _, r := range runs {
			if r.Arm != arm {
				continue
			}
			for _, p := range curve(r) {
				sum[p.Step] += p.Value
				cnt[p.Step]++
			}
		}
		var steps []int
		for s := range sum {
			steps = append(steps, s)
		}
		sort.Ints(steps)
		for _, s := range steps {
			xs, ys = append(xs, float64(s)), append(ys, sum[s]/float64(cnt[s]))
		}
		return xs, ys
	}
	// againstCost pairs each evaluation's pass@1 with the cost spent by
	// then (cost: cumulative calls or seconds), both averaged over the arm's
	// seeds at that step.
	againstCost := func(arm string, cost func(RunResult) []Point) (xs, ys []float64) {
		accX, accY := meanCurve(arm, func(r RunResult) []Point { return r.Accuracy })
		costX, costY := meanCurve(arm, cost)
		at := map[float64]float64{}
		for i := range costX {
			at[costX[i]] = costY[i]
		}
		for i, step := range accX {
			if c, ok := at[step]; ok {
				xs, ys = append(xs, c), append(ys, accY[i])
			}
		}
		return xs, ys
	}
	acc := runlog.Chart{Title: "Test pass@1 over training", XLabel: "RL step", YLabel: "pass@1"}
	calls := runlog.Chart{Title: "Tool calls executed per RL step", XLabel: "RL step", YLabel: "calls"}
	byCalls := runlog.Chart{Title: "Test pass@1 against tool calls spent", XLabel: "tool calls executed in RL", YLabel: "pass@1"}
	bySecs := runlog.Chart{Title: "Test pass@1 against RL step time", XLabel: "seconds of rollout and update", YLabel: "pass@1"}
	signal := runlog.Chart{Title: "Rollout groups with signal per RL step", XLabel: "RL step", YLabel: "share of groups"}
	for _, a := range arms {
		x, y := meanCurve(a.Arm, func(r RunResult) []Point { return r.Accuracy })
		acc.Series = append(acc.Series, runlog.Series{Name: a.Arm, X: x, Y: y})
		x, y = meanCurve(a.Arm, func(r RunResult) []Point { return r.Calls })
		calls.Series = append(calls.Series, runlog.Series{Name: a.Arm, X: x, Y: y})
		x, y = againstCost(a.Arm, func(r RunResult) []Point { return r.CumCalls })
		byCalls.Series = append(byCalls.Series, runlog.Series{Name: a.Arm, X: x, Y: y})
		x, y = againstCost(a.Arm, func(r RunResult) []Point { return r.CumSeconds })
		bySecs.Series = append(bySecs.Series, runlog.Series{Name: a.Arm, X: x, Y: y})
		x, y = meanCurve(a.Arm, func(r RunResult) []Point { return r.Signal })
		signal.Series = append(signal.Series, runlog.Series{Name: a.Arm, X: x, Y: y})
	}
	return runlog.SavePNG(path, acc, byCalls, bySecs, calls, signal)
}
