package run

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/goarpo/arpo/internal/runlog"
	"github.com/goarpo/arpo/rl"
)

// finish writes summary.json and the plots and prints the summary table.
func (j *job) finish(before, after evalRecord) error {
	if err := runlog.WriteJSON(filepath.Join(j.dir, "summary.json"), map[string]any{
		"before": before, "after": after, "rl_steps": j.st.RLStep, "algo": j.c.Algo,
		"seconds": time.Since(j.start).Seconds(),
	}); err != nil {
		return err
	}
	if err := j.plots(); err != nil {
		return fmt.Errorf("plots: %w", err)
	}
	summaryTable(j.out, before, after)
	j.printf("\nrun folder: %s (plots: %s)\n", j.dir, filepath.Join(j.dir, "plots.png"))
	return nil
}

// summaryTable prints accuracy and tool calls per question before and after
// RL, per family; novel families (no demonstrations) are marked with *.
func summaryTable(w io.Writer, before, after evalRecord) {
	fmt.Fprintf(w, "\n%-16s %5s %9s %9s %7s %7s %8s %8s\n", "family", "n", "acc SFT", "acc RL", "calls", "calls", "fmt err", "fmt err")
	fmt.Fprintf(w, "%-16s %5s %9s %9s %7s %7s %8s %8s\n", "", "", "", "", "SFT", "RL", "SFT", "RL")
	idx := map[string]rl.FamilyResult{}
	for _, f := range after.Families {
		idx[f.Family] = f
	}
	row := func(name string, b, a rl.FamilyResult) {
		fmt.Fprintf(w, "%-16s %5d %9.3f %9.3f %7.2f %7.2f %7.1f%% %7.1f%%\n", name, b.Questions, b.Pass1, a.Pass1,
			b.ToolCalls, a.ToolCalls, 100*b.FormatErrors, 100*a.FormatErrors)
	}
	for _, b := range before.Families {
		name := b.Family
		if b.Novel {
			name += " *"
		}
		row(name, b, idx[b.Family])
	}
	fmt.Fprintln(w, strings.Repeat("-", 76))
	row("all", before.Overall, after.Overall)
	fmt.Fprintln(w, "* novel family: no or few demonstrations, so what it gains is RL's")
}

// plots draws plots.png from metrics.jsonl and evals.jsonl: reward and
// accuracy over steps, tool calls executed against a trajectory-level
// rollout's, the entropy around tool results before and after RL, and what
// the rollout groups give (groups with signal, pass@M, ARPO's branch
// probabilities).
func (j *job) plots() error {
	mets, err := runlog.ReadJSONL[MetricsLine](filepath.Join(j.dir, "metrics.jsonl"))
	if err != nil {
		return err
	}
	evals, err := runlog.ReadJSONL[evalRecord](filepath.Join(j.dir, "evals.jsonl"))
	if err != nil {
		return err
	}
	var step, reward, acc, calls, flat []float64
	var signal, passM, probMean, probHigh []float64
	for _, m := range mets {
		signal = append(signal, m.GroupsWithSignal)
		passM = append(passM, m.PassAtM)
		probMean = append(probMean, m.BranchProbMean)
		probHigh = append(probHigh, m.BranchProbHigh)
		x := float64(m.Step)
		step = append(step, x)
		reward = append(reward, m.RewardMean)
		acc = append(acc, m.Accuracy)
		calls = append(calls, float64(m.ToolCalls))
		flat = append(flat, float64(m.ToolCallsFlat))
	}
	var es, ea []float64
	var ents []runlog.Series
	for i, e := range evals {
		es = append(es, float64(e.Step))
		ea = append(ea, e.Overall.Pass1)
		if e.Tag == "sft" || i == len(evals)-1 && e.Step > 0 {
			s := runlog.Series{Name: "after SFT"}
			if e.Tag != "sft" {
				s.Name = fmt.Sprintf("after RL (step %d)", e.Step)
			}
			for i, off := range e.Entropy.Offsets {
				if e.Entropy.Count[i] > 0 {
					s.X = append(s.X, float64(off))
					s.Y = append(s.Y, e.Entropy.Mean[i])
				}
			}
			ents = append(ents, s)
		}
	}
	charts := []runlog.Chart{
		{Title: "Reward and accuracy", XLabel: "RL step", YLabel: "", Series: []runlog.Series{
			{Name: "train reward", X: step, Y: smooth(reward)}, {Name: "train accuracy", X: step, Y: smooth(acc)},
			{Name: "test pass@1", X: es, Y: ea, Points: true},
		}},
		{Title: "Tool calls per step", XLabel: "RL step", YLabel: "calls", Series: []runlog.Series{
			{Name: "executed", X: step, Y: calls}, {Name: "trajectory-level equivalent", X: step, Y: flat},
		}},
		{Title: "Entropy around tool results", XLabel: "tokens from the end of a result", YLabel: "entropy / ln V", Series: ents},
	}
	groups := runlog.Chart{Title: "Rollout groups and branching", XLabel: "RL step", YLabel: "share", Series: []runlog.Series{
		{Name: "groups with signal", X: step, Y: signal}, {Name: "pass@M", X: step, Y: passM},
	}}
	if j.c.Algo == string(rl.ARPO) {
		groups.Series = append(groups.Series, runlog.Series{Name: "mean branch probability", X: step, Y: probMean},
			runlog.Series{Name: "branch probability > 0.6", X: step, Y: probHigh})
	}
	charts = append(charts, groups)
	return runlog.SavePNG(filepath.Join(j.dir, "plots.png"), charts...)
}

// smooth is a trailing mean over 5 steps, so that noisy per-step numbers
// show their trend.
func smooth(y []float64) []float64 {
	out := make([]float64, len(y))
	for i := range y {
		lo := max(0, i-4)
		s := 0.0
		for _, v := range y[lo : i+1] {
			s += v
		}
		out[i] = s / float64(i+1-lo)
	}
	return out
}
