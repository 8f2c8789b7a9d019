package toolworld

import (
	"errors"
	"math"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/tasks"
	"github.com/goarpo/arpo/tasks/grade"
)

// small is a world big enough to exercise every family, quick to build.
func small() Config {
	c := DefaultConfig()
	c.TrainEntities, c.TestEntities = 2000, 400
	c.TrainQuestions, c.TestQuestions = 3000, 500
	return c
}

func gen(t *testing.T, c Config) *Dataset {
	t.Helper()
	d, err := Generate(c)
	require.NoError(t, err)
	return d
}

func TestDeterministic(t *testing.T) {
	a, b := gen(t, small()), gen(t, small())
	assert.Equal(t, a.Train, b.Train)
	assert.Equal(t, a.Test, b.Test)
	assert.Equal(t, a.Corpus, b.Corpus)

	c := small()
	c.Seed = 2
	other := gen(t, c)
	assert.NotEqual(t, a.Train[0].Question, other.Train[0].Question)

	// More questions leave the world, the corpus and the first questions alone.
	c = small()
	c.TrainQuestions = 4000
	more := gen(t, c)
	assert.Equal(t, a.Corpus, more.Corpus)
	assert.Equal(t, a.Test, more.Test)
}

func TestGoldTrajectories(t *testing.T) {
	d := gen(t, small())
	require.Len(t, d.Train, 3000)
	require.Len(t, d.Test, 500)
	for _, set := range [][]tasks.Example{d.Train, d.Test} {
		for _, e := range set {
			// Every call of a gold trajectory ran.
			r := e.Reward(e.Gold, grade.CheckFormat(e.Gold).Calls)
			require.True(t, r.Format.Valid(), "%s: %v\n%s", e.ID, r.Format.Err, e.Gold)
			require.Equal(t, 1.0, r.Score, "%s: %s", e.ID, e.Gold)
			calls := r.Format.Calls["search"] + r.Format.Calls["python"]
			require.Equal(t, e.Calls, calls, e.ID)
			assert.Equal(t, r.Format.Calls["search"] > 0 && r.Format.Calls["python"] > 0, r.Bonus, e.ID)
			assert.NotContains(t, e.Gold, NoResults, e.ID)
			assert.Equal(t, e.Gold, joinSegments(tasks.SplitResults(e.Gold)))
			assert.Equal(t, !e.Novel, e.Demo, "%s: with the fallback tools only novel families lack demos", e.ID)
			assert.Equal(t, "toolworld", e.Source)
			_, err := grade.ParseMetric(string(e.Metric))
			require.NoError(t, err)
		}
	}
}

func joinSegments(segs []tasks.Segment) string {
	var b strings.Builder
	for _, s := range segs {
		b.WriteString(s.Text)
	}
	return b.String()
}

func TestFamiliesAndNovelty(t *testing.T) {
	d := gen(t, small())
	perFamily := map[string]int{}
	for _, e := range d.Test {
		perFamily[e.Family]++
		f, ok := familyByName(e.Family)
		require.True(t, ok)
		assert.Equal(t, f.Level, e.Level)
		assert.Equal(t, f.Level == 3, e.Novel, e.Family)
	}
	require.Len(t, perFamily, len(Families))
	for f, n := range perFamily {
		assert.Equal(t, 50, n, "test questions are spread evenly: %s", f)
	}
	for _, e := range d.Demos() {
		assert.False(t, e.Novel)
		assert.True(t, e.Demo)
	}
	assert.Less(t, len(d.Demos()), len(d.Train))

	c := small()
	c.NovelDemoRate = 1
	assert.Len(t, gen(t, c).Demos(), len(d.Train), "rate 1 keeps every demonstration")

	c = small()
	c.Families, c.Novel = []string{"lookup", "sum3"}, []string{"lookup"}
	d2 := gen(t, c)
	for _, e := range d2.Train {
		assert.Contains(t, []string{"lookup", "sum3"}, e.Family)
		assert.Equal(t, e.Family == "lookup", e.Novel)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, mod := range []func(*Config){
		func(c *Config) { c.Families = []string{"nope"} },
		func(c *Config) { c.Families = []string{} },
		func(c *Config) { c.Novel = []string{"nope"} },
		func(c *Config) { c.TestEntities = 10 },
		func(c *Config) { c.Distractors = 2 },
		func(c *Config) { c.TrainQuestions = -1 },
	} {
		c := small()
		mod(&c)
		_, err := Generate(c)
		assert.Error(t, err)
	}
}

func TestFillGoldWithOtherTools(t *testing.T) {
	d := gen(t, small())
	broken := func(tool, arg string) (string, error) { return "", errors.New("down") }
	st := d.FillGold(broken)
	assert.Equal(t, len(d.Train)+len(d.Test), st.Examples)
	assert.Equal(t, st.Examples, st.Misses)
	assert.Empty(t, d.Demos())
	assert.Contains(t, d.Train[0].Gold, "Error: down")

	// A tool that answers differently but contains the values is trusted.
	fb := d.Fallback()
	st = d.FillGold(func(tool, arg string) (string, error) {
		out, err := fb(tool, arg)
		return "1. " + strings.ReplaceAll(out, "\n", "\n2. "), err
	})
	assert.Zero(t, st.Misses)
	assert.NotEmpty(t, d.Demos())
	assert.Contains(t, d.Train[0].Gold, "<result>\n1. ")

	out, err := fb("search", "no such thing")
	require.NoError(t, err)
	assert.Equal(t, NoResults, out)
	_, err = fb("browse", "x")
	assert.Error(t, err)
}

// TestSplitsDisjoint: no name of the test world occurs in the train world,
// and no test question about the world repeats a train question.
func TestSplitsDisjoint(t *testing.T) {
	d := gen(t, small())
	train := map[string]bool{}
	for _, e := range d.worlds[0].ents {
		train[e.Name] = true
	}
	for _, e := range d.worlds[1].ents {
		require.False(t, train[e.Name], e.Name)
	}
	trainQ := map[string]bool{}
	for _, e := range d.Train {
		trainQ[e.Question] = true
	}
	for _, e := range d.Test {
		if e.Family != "arith" && e.Family != "arith_chain" {
			require.False(t, trainQ[e.Question], e.Question)
		}
	}
}

// TestClosedBookNearZero: a model without tools can at best memorise the
// train set. The strongest such guess here, the most frequent train answer
// of the same family and question form, is almost never right on test.
func TestClosedBookNearZero(t *testing.T) {
	d := gen(t, small())
	form := func(e tasks.Example) string { return e.Family + "|" + questionForm(e.Question) }
	counts := map[string]map[string]int{}
	for _, e := range d.Train {
		if counts[form(e)] == nil {
			counts[form(e)] = map[string]int{}
		}
		counts[form(e)][e.Answer]++
	}
	right, n := 0.0, 0
	for _, e := range d.Test {
		if !strings.Contains(e.Gold, "<search>") {
			continue
		}
		n++
		best, bestN := "", 0
		for a, c := range counts[form(e)] {
			if c > bestN || (c == bestN && a < best) {
				best, bestN = a, c
			}
		}
		right += e.Score(best)
	}
	require.Greater(t, n, 300)
	t.Logf("closed-book accuracy on %d search questions: %.3f", n, right/float64(n))
	assert.Less(t, right/float64(n), 0.03)
}

// questionForm replaces capitalised words (names) and numbers by "_".
func questionForm(q string) string {
	w := strings.Fields(q)
	for i, x := range w {
		if x[0] >= 'A' && x[0] <= 'Z' && i > 0 || x[0] >= '0' && x[0] <= '9' {
			w[i] = "_"
		}
	}
	return strings.Join(w, " ")
}

// TestCorpusRetrievable: with a plain keyword-overlap retriever (idf-weighted
// term overlap, standing in for BM25), the top 2 passages of every gold
// query contain the value the question needs. This is what makes the
// search families answerable with a lexical index.
func TestCorpusRetrievable(t *testing.T) {
	d := gen(t, small())
	r := newOverlapRetriever(d.Corpus)
	found, total := 0, 0
	for _, e := range d.Test {
		for _, s := range d.plans[e.ID].steps {
			if s.tool != "search" {
				continue
			}
			total++
			if containsValue(FormatResults(r.top(s.arg, 2)), s.want) {
				found++
			}
		}
	}
	require.Greater(t, total, 500)
	t.Logf("top-2 keyword overlap finds %d of %d gold facts", found, total)
	assert.GreaterOrEqual(t, float64(found)/float64(total), 0.97)
}

type overlapRetriever struct {
	ps    []tasks.Passage
	post  map[string][]int
	toks  [][]string
	total int
}

func tokens(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	})
}

func newOverlapRetriever(ps []tasks.Passage) *overlapRetriever {
	r := &overlapRetriever{ps: ps, post: map[string][]int{}}
	for i, p := range ps {
		ts := tokens(p.Text)
		r.toks = append(r.toks, ts)
		seen := map[string]bool{}
		for _, t := range ts {
			if !seen[t] {
				seen[t] = true
				r.post[t] = append(r.post[t], i)
			}
		}
	}
	return r
}

func (r *overlapRetriever) top(q string, k int) []tasks.Passage {
	score := map[int]float64{}
	for _, t := range tokens(q) {
		idf := math.Log(float64(len(r.ps)) / float64(1+len(r.post[t])))
		for _, i := range r.post[t] {
			score[i] += idf
		}
	}
	ids := make([]int, 0, len(score))
	for i := range score {
		ids = append(ids, i)
	}
	sort.Slice(ids, func(a, b int) bool {
		x, y := ids[a], ids[b]
		if score[x] != score[y] {
			return score[x] > score[y]
		}
		if len(r.toks[x]) != len(r.toks[y]) {
			return len(r.toks[x]) < len(r.toks[y]) // shorter passages first, as BM25 would
		}
		return x < y
	})
	var out []tasks.Passage
	for _, i := range ids[:min(k, len(ids))] {
		out = append(out, r.ps[i])
	}
	return out
}

// TestAnswersNotInQuestion: no search-family answer can be copied from the
// question itself (a closed-book model could guess it otherwise).
func TestAnswersNotInQuestion(t *testing.T) {
	d := gen(t, small())
	for _, e := range d.Test {
		if strings.Contains(e.Gold, "<search>") {
			assert.False(t, containsValue(e.Question, e.Answer), "%s: %s -> %s", e.ID, e.Question, e.Answer)
		}
	}
}
