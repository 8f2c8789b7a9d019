package grade

import "fmt"

// Metric names how a task scores a final answer.
type Metric string

const (
	MetricF1   Metric = "f1"   // token F1, best over the golds (open QA)
	MetricEM   Metric = "em"   // normalised exact match (names, short answers)
	MetricMath Metric = "math" // mathematical equivalence (numbers, LaTeX)
)

// ParseMetric checks a metric name from a file or a flag.
func ParseMetric(s string) (Metric, error) {
	switch m := Metric(s); m {
	case MetricF1, MetricEM, MetricMath:
		return m, nil
	}
	return "", fmt.Errorf("unknown metric %q (want f1, em or math)", s)
}

// Score returns the score in [0, 1] of an extracted answer under metric m.
// An unknown metric panics: metrics come from ParseMetric or constants.
func Score(m Metric, answer string, golds []string) float64 {
	switch m {
	case MetricF1:
		return F1(answer, golds...)
	case MetricEM:
		return ExactMatch(answer, golds...)
	case MetricMath:
		return MathScore(answer, golds...)
	}
	panic(fmt.Sprintf("grade: unknown metric %q", m))
}

// MultiToolBonus is added to a positive score when the trajectory ran both
// search and python (the ARPO reward).
const MultiToolBonus = 0.1

// Reward is the hierarchical reward of one response and its parts.
type Reward struct {
	Value  float64 // -1 when the format is invalid, else Score (+ MultiToolBonus)
	Score  float64 // the task score in [0, 1]; 0 when the format is invalid
	Bonus  bool    // whether MultiToolBonus was added
	Format Format
}

// HierarchicalReward scores a response: -1 for an invalid format, else the
// task score, plus MultiToolBonus when the score is positive and both search
// and python ran. ran counts the tool calls that actually ran, by tag (the
// rollout's count): a call the protocol refused (an empty <python> </python>,
// answered with an explanation) is in the text but earns no bonus.
func HierarchicalReward(response string, m Metric, golds []string, ran map[string]int) Reward {
	f := CheckFormat(response)
	if !f.Valid() {
		return Reward{Value: -1, Format: f}
	}
	r := Reward{Score: Score(m, f.Answer, golds), Format: f}
	r.Value = r.Score
	if r.Score > 0 && ran["search"] > 0 && ran["python"] > 0 {
		r.Bonus = true
		r.Value += MultiToolBonus
	}
	return r
}
