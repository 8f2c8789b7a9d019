package analysis

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/rl"
)

// vocab decodes the hand-made trees' token ids.
var vocab = []string{"<prompt>", "a", "b", "<search>q", "</search>", "R", "c", "d", "e", "<python>x", "</python>", "f", "<answer>1</answer>"}

type fakeTok struct{}

func (fakeTok) Encode(string) []int32       { return nil }
func (fakeTok) EncodeResult(string) []int32 { return nil }
func (fakeTok) TokenText(id int32) string   { return vocab[id] }

// node builds a segment whose tokens named "R" are result tokens; policy
// token i gets entropy ent[i].
func node(parent int, ids []int32, ent []float32) rl.Node {
	n := rl.Node{Parent: parent, Tokens: ids}
	for i, id := range ids {
		m := float32(1)
		if vocab[id] == "R" || vocab[id] == "<prompt>" {
			m = 0
		}
		n.LossMask = append(n.LossMask, m)
		e := float32(0)
		if m > 0 {
			e = ent[i]
		}
		n.Entropies = append(n.Entropies, e)
		n.LogProbs = append(n.LogProbs, 0)
	}
	return n
}

// handTree is one prompt with a trajectory that searches, then runs Python,
// then answers; a branch after the search result answers at once.
//
//	response: a b <search>q </search> R R c d e <python>x </python> R f <answer>
//	index:    0 1 2         3         4 5 6 7 8 9         10        11 12 13
func handTree() *rl.Tree {
	t := &rl.Tree{}
	t.AddNode(node(-1, []int32{0}, nil))
	t.AddNode(node(0, []int32{1, 2, 3, 4, 5, 5}, []float32{1, 2, 3, 4, 0, 0}))
	t.AddNode(node(1, []int32{6, 7, 8, 9, 10, 5}, []float32{5, 6, 7, 8, 9, 0}))
	leaf := t.AddNode(node(2, []int32{11, 12}, []float32{10, 11}))
	branch := t.AddNode(node(1, []int32{12}, []float32{12}))
	t.Leaves = []int{leaf, branch}
	return t
}

func TestFromTreeFindsToolsAndEntropies(t *testing.T) {
	tree := handTree()
	tr := FromTree(tree, tree.Leaves[0], fakeTok{}, []string{"search", "python"}, 0.5)
	assert.Equal(t, []string{"search", "python"}, tr.Tools)
	require.Len(t, tr.Mask, 14)
	require.Len(t, tr.Entropy, 14)
	assert.Equal(t, []float32{1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 1, 1}, tr.Mask)
	assert.Equal(t, 0.5, tr.Entropy[0], "entropies are normalised by norm")
	assert.Equal(t, 5.5, tr.Entropy[13])

	br := FromTree(tree, tree.Leaves[1], fakeTok{}, []string{"search", "python"}, 1)
	assert.Equal(t, []string{"search"}, br.Tools, "the branch shares the search call")
	assert.Equal(t, []float64{1, 2, 3, 4, 0, 0, 12}, br.Entropy)

	// A result after no closing tag answers a malformed call.
	assert.Equal(t, Invalid, callTool("<search> never closed", []string{"search", "python"}))
	assert.Equal(t, "python", callTool("</search> then <python>1</python>", []string{"search", "python"}))
}

func TestPositionsBuckets(t *testing.T) {
	tree := handTree()
	tr := FromTree(tree, tree.Leaves[0], fakeTok{}, []string{"search", "python"}, 1)
	pos, ok := Positions(tr, 2)
	want := map[int]Position{
		0: {Initial, "", 0}, 1: {Initial, "", 1},
		2: {Before, "search", -2}, 3: {Before, "search", -1},
		6: {After, "search", 0}, 7: {After, "search", 1}, 8: {Later, "search", 2},
		9: {Before, "python", -2}, 10: {Before, "python", -1},
		12: {After, "python", 0}, 13: {After, "python", 1},
	}
	for i := range pos {
		if w, isPolicy := want[i]; isPolicy {
			assert.True(t, ok[i], "token %d", i)
			assert.Equal(t, w, pos[i], "token %d", i)
		} else {
			assert.False(t, ok[i], "token %d is a result token", i)
		}
	}

	// With k = 3 the turn c d e <python>x </python> is within k of both
	// results: its first three tokens stay After, the rest are Before.
	pos, _ = Positions(tr, 3)
	assert.Equal(t, Position{After, "search", 2}, pos[8])
	assert.Equal(t, Position{Before, "python", -2}, pos[9])
	assert.Equal(t, Position{Before, "search", -3}, pos[1], "the initial turn's last k tokens lead into the call")
	assert.Equal(t, Position{Initial, "", 0}, pos[0])
}

func TestBootstrapConstantAndEmpty(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	st := Bootstrap([]float64{0.6, 1.2, 0}, []float64{2, 4, 0}, 200, rng)
	assert.InDelta(t, 0.3, st.Mean, 1e-12)
	assert.InDelta(t, 0.3, st.Lo, 1e-12, "constant values: the interval collapses")
	assert.InDelta(t, 0.3, st.Hi, 1e-12)
	assert.Equal(t, 6, st.Tokens)
	assert.Equal(t, 2, st.Units, "units without tokens are left out")
	assert.Equal(t, Stat{}, Bootstrap(nil, nil, 100, rng))
	assert.Panics(t, func() { Bootstrap([]float64{1}, nil, 1, rng) })
}

func TestBootstrapMatchesNormalTheoryAndSeeds(t *testing.T) {
	// 400 independent values with sd 0.1: the 95% interval is about
	// mean ± 1.96 * 0.1 / 20.
	gen := rand.New(rand.NewPCG(3, 4))
	sums, counts := make([]float64, 400), make([]float64, 400)
	for i := range sums {
		sums[i], counts[i] = 0.5+0.1*gen.NormFloat64(), 1
	}
	st := Bootstrap(sums, counts, 2000, rand.New(rand.NewPCG(9, 9)))
	assert.Less(t, st.Lo, st.Mean)
	assert.Greater(t, st.Hi, st.Mean)
	assert.InDelta(t, 2*1.96*0.1/20, st.Hi-st.Lo, 0.2*2*1.96*0.1/20)

	again := Bootstrap(sums, counts, 2000, rand.New(rand.NewPCG(9, 9)))
	assert.Equal(t, st, again, "same seed, same interval")
	other := Bootstrap(sums, counts, 2000, rand.New(rand.NewPCG(10, 9)))
	assert.NotEqual(t, st.Lo, other.Lo)
}

func TestBootstrapResamplesUnitsNotTokens(t *testing.T) {
	// 20 trajectories of 50 identical tokens each: the information is in 20
	// units, so the interval is as wide as 20 values', not 1000 tokens'.
	gen := rand.New(rand.NewPCG(5, 6))
	sums, counts := make([]float64, 20), make([]float64, 20)
	vals := make([]float64, 20)
	for i := range sums {
		vals[i] = 0.5 + 0.1*gen.NormFloat64()
		sums[i], counts[i] = 50*vals[i], 50
	}
	st := Bootstrap(sums, counts, 2000, rand.New(rand.NewPCG(1, 1)))
	sd := stddev(vals)
	unitWidth := 2 * 1.96 * sd / math.Sqrt(20)
	assert.InDelta(t, unitWidth, st.Hi-st.Lo, 0.3*unitWidth)
	assert.Equal(t, 1000, st.Tokens)
}

func stddev(x []float64) float64 {
	m := total(x) / float64(len(x))
	s := 0.0
	for _, v := range x {
		s += (v - m) * (v - m)
	}
	return math.Sqrt(s / float64(len(x)))
}

func TestAnalyzeHandTree(t *testing.T) {
	tree := handTree()
	var trajs []Trajectory
	for _, leaf := range tree.Leaves {
		trajs = append(trajs, FromTree(tree, leaf, fakeTok{}, []string{"search", "python"}, 1))
	}
	rep := Analyze(trajs, Config{K: 2, Boot: 100, Seed: 1})
	assert.Equal(t, []string{All, "python", "search"}, rep.Tools)
	assert.Equal(t, 2, rep.Trajectories)

	// Both trajectories share a b <search>q </search> (entropies 1 2 3 4).
	get := func(b Bucket, tool string) BucketStat {
		s, ok := rep.Bucket(b, tool)
		require.True(t, ok, "%s/%s", b, tool)
		return s
	}
	assert.InDelta(t, 1.5, get(Initial, All).Mean, 1e-12)
	assert.Equal(t, 4, get(Initial, All).Tokens)
	// After search: c d (5 6) in the first, the answer (12) in the branch.
	assert.InDelta(t, (5+6+12)/3.0, get(After, "search").Mean, 1e-12)
	assert.Equal(t, 2, get(After, "search").Units)
	assert.InDelta(t, 7, get(Later, "search").Mean, 1e-12)
	assert.InDelta(t, (10+11)/2.0, get(After, "python").Mean, 1e-12)
	assert.InDelta(t, (8+9)/2.0, get(Before, "python").Mean, 1e-12)
	assert.Equal(t, 0, get(Later, "python").Tokens)
	_, hasInitialPerTool := rep.Bucket(Initial, "search")
	assert.False(t, hasInitialPerTool)

	// The profile at offset 0 pools the first token after every result.
	for _, s := range rep.Profile {
		if s.Offset == 0 && s.Tool == All {
			assert.InDelta(t, (5+12+10)/3.0, s.Mean, 1e-12)
			assert.GreaterOrEqual(t, s.Mean, s.Lo)
			assert.LessOrEqual(t, s.Mean, s.Hi)
		}
	}
	assert.Len(t, rep.Profile, 3*4, "offsets -2..1 for all, python, search")
	assert.Equal(t, rep, Analyze(trajs, Config{K: 2, Boot: 100, Seed: 1}), "same seed, same report")

	var md bytes.Buffer
	require.NoError(t, rep.WriteMarkdown(&md))
	assert.Contains(t, md.String(), "| first 2 tokens after the result | 8.800 [8.000, 12.000] (5) | 10.500 [10.500, 10.500] (2) | 7.667 [")
	assert.Contains(t, md.String(), "| all | python | search |")

	png := filepath.Join(t.TempDir(), "entropy.png")
	require.NoError(t, rep.SavePlot(png, "hand-made"))
	data, err := os.ReadFile(png)
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(data, []byte("\x89PNG")), "a PNG file")
	assert.Error(t, rep.SavePlot(filepath.Join(t.TempDir(), "missing", "x.png"), ""), "an unwritable path is an error")
}
