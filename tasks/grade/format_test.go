package grade

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckFormat(t *testing.T) {
	const res = "<result>\nKalven: Kalven was founded in 1734.\n</result>\n"
	for _, c := range []struct {
		name, in string
		answer   string // "" when invalid
		search   int
		python   int
	}{
		{"plain", "<think> easy </think>\n<answer> 42 </answer>", "42", 0, 0},
		{"no think", "<answer>42</answer>", "42", 0, 0},
		{"search", "<think> s </think>\n<search> Kalven founded </search>" + res + "<answer> 1734 </answer>", "1734", 1, 0},
		{"both tools", "<think> s </think><search> q </search>\n" + res + "<python> print(1+1) </python><result>\n2\n</result>\n<answer> 2 </answer>", "2", 1, 1},
		{"boxed", `<answer> The final answer is \[ \boxed{\frac{1}{2}} \] </answer>`, `\frac{1}{2}`, 0, 0},
		{"tags inside result are text", "<search> q </search><result>\n<answer> x </answer> <think>\n</result>\n<answer> y </answer>", "y", 1, 0},
		{"less-than in text", "<think> 3 < 4 and x<y </think><answer> 1 </answer>", "1", 0, 0},
		{"two thinks", "<think> a </think><think> b </think><answer> 1 </answer>", "1", 0, 0},
		{"trailing text after answer", "<answer> 1 </answer> bye", "1", 0, 0},

		{"no answer", "<think> a </think>", "", 0, 0},
		{"two answers", "<answer> 1 </answer><answer> 2 </answer>", "", 0, 0},
		{"empty answer", "<answer>   </answer>", "", 0, 0},
		{"empty boxed", `<answer> \boxed{} </answer>`, "", 0, 0},
		{"unclosed answer", "<answer> 1", "", 0, 0},
		{"unclosed think", "<think> a <answer> 1 </answer>", "", 0, 0},
		{"nested think", "<think> a <think> b </think></think><answer> 1 </answer>", "", 0, 0},
		{"stray close think", "</think><answer> 1 </answer>", "", 0, 0},
		{"call without result", "<search> q </search><answer> 1 </answer>", "", 0, 0},
		{"unclosed call", "<search> q <answer> 1 </answer>", "", 0, 0},
		{"unclosed result", "<search> q </search><result>\nx\n<answer> 1 </answer>", "", 0, 0},
		{"made-up result", "<result>\nx\n</result>\n<answer> 1 </answer>", "", 0, 0},
		{"stray close call", "</python><answer> 1 </answer>", "", 0, 0},
		{"stray close answer", "</answer><answer> 1 </answer>", "", 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := CheckFormat(c.in)
			if c.answer == "" {
				require.Error(t, f.Err)
				assert.ErrorIs(t, f.Err, ErrFormat)
				assert.False(t, f.Valid())
				return
			}
			require.NoError(t, f.Err)
			assert.Equal(t, c.answer, f.Answer)
			assert.Equal(t, c.search, f.Calls["search"])
			assert.Equal(t, c.python, f.Calls["python"])
		})
	}
}

var ranBoth = map[string]int{"search": 1, "python": 1}

func TestHierarchicalReward(t *testing.T) {
	const both = "<think> t </think><search> q </search><result>\n1734 and 1523\n</result>\n" +
		"<python> print(1734 - 1523) </python><result>\n211\n</result>\n"
	for _, c := range []struct {
		name     string
		in       string
		m        Metric
		golds    []string
		ran      map[string]int
		want     float64
		wantBool bool
	}{
		{"invalid", "<answer> 211", MetricMath, []string{"211"}, ranBoth, -1, false},
		{"correct with both tools", both + "<answer> 211 </answer>", MetricMath, []string{"211"}, ranBoth, 1.1, true},
		{"wrong with both tools", both + "<answer> 210 </answer>", MetricMath, []string{"211"}, ranBoth, 0, false},
		{"correct, python only", "<python> print(2) </python><result>\n2\n</result>\n<answer> 2 </answer>", MetricMath, []string{"2"}, map[string]int{"python": 1}, 1, false},
		{"partial F1 with both tools", both + "<answer> Frank </answer>", MetricF1, []string{"Frank Lowy"}, ranBoth, 2.0/3 + 0.1, true},
		{"EM", "<answer> the Frank Lowy </answer>", MetricEM, []string{"Frank Lowy"}, nil, 1, false},
		// An empty <python> </python> is answered with the protocol's
		// explanation and runs nothing: both tags are in the text, but
		// only search ran, so no bonus.
		{"python refused, not run", "<search> q </search><result>\n211\n</result>\n<python> </python><result>\nThe python call is empty.\n</result>\n<answer> 211 </answer>",
			MetricMath, []string{"211"}, map[string]int{"search": 1}, 1, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := HierarchicalReward(c.in, c.m, c.golds, c.ran)
			assert.InDelta(t, c.want, r.Value, 1e-12)
			assert.Equal(t, c.wantBool, r.Bonus)
			assert.GreaterOrEqual(t, r.Value, -1.0)
			assert.LessOrEqual(t, r.Value, 1+MultiToolBonus)
		})
	}
}

func TestParseMetric(t *testing.T) {
	for _, s := range []string{"f1", "em", "math"} {
		m, err := ParseMetric(s)
		require.NoError(t, err)
		assert.Equal(t, Metric(s), m)
	}
	_, err := ParseMetric("bleu")
	assert.Error(t, err)
	assert.Panics(t, func() { Score("bleu", "a", []string{"a"}) })
}

// FuzzCheckFormat: any input gives a verdict without panicking, and a valid
// verdict always carries a non-empty answer.
func FuzzCheckFormat(f *testing.F) {
	for _, s := range []string{"<answer> 1 </answer>", "<search> q </search><result>\nx\n</result>\n<answer>a</answer>", "<think><", "</result>", `<answer>\boxed{</answer>`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fm := CheckFormat(s)
		if fm.Valid() && fm.Answer == "" {
			t.Fatalf("valid format with empty answer: %q", s)
		}
		r := HierarchicalReward(s, MetricMath, []string{"1"}, fm.Calls)
		if r.Value < -1 || r.Value > 1+MultiToolBonus {
			t.Fatalf("reward %v out of range", r.Value)
		}
	})
}
