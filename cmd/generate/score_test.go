package main

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/engine"
)

// The engine's scoring (paged cache, fed in chunks, logits of every row)
// must agree with the training forward's LogProbs: they are two
// implementations of the same model, and --score is how outside tools
// check ours against theirs.
func TestScoreMatchesTrainingForward(t *testing.T) {
	for _, chunk := range []int{1, 7, 1000} {
		m := testModel(t, testConfig())
		r := rand.New(rand.NewPCG(7, 9))
		toks := make([]int32, 53)
		for i := range toks {
			toks[i] = int32(r.IntN(m.Cfg.VocabSize))
		}
		p, err := m.Forward(toks, nn.Pack(len(toks)))
		require.NoError(t, err)
		targets := append(append([]int32(nil), toks[1:]...), -1)
		wantLP, wantEnt, err := p.LogProbs(targets, true)
		require.NoError(t, err)
		p.Free()

		e := engine.New(m, engine.Options{BlockSize: 4})
		got, err := scoreTokens(e, toks, chunk)
		require.NoError(t, err)
		require.Len(t, got, len(toks))
		assert.Nil(t, got[0].LogProb, "nothing predicts the first token")
		assert.Nil(t, got[0].Entropy)
		for i := 1; i < len(toks); i++ {
			require.Equal(t, toks[i], got[i].ID)
			require.InDelta(t, wantLP[i-1], *got[i].LogProb, 1e-4, "chunk %d, token %d: log-prob", chunk, i)
			require.InDelta(t, wantEnt[i-1], *got[i].Entropy, 1e-4, "chunk %d, token %d: entropy", chunk, i)
		}
		// The distributions are far from uniform, or the check is weak.
		assert.Greater(t, math.Log(float64(m.Cfg.VocabSize))-float64(wantEnt[0]), 0.1)
		e.Close()
		m.Free()
	}
}

func TestLogSoftmaxAt(t *testing.T) {
	lp, ent := logSoftmaxAt([]float32{0, 0, 0, 0}, 2)
	assert.InDelta(t, math.Log(0.25), lp, 1e-12)
	assert.InDelta(t, math.Log(4), ent, 1e-12)
	// Large logits must not overflow.
	lp, ent = logSoftmaxAt([]float32{1000, 0}, 0)
	assert.InDelta(t, 0, lp, 1e-12)
	assert.InDelta(t, 0, ent, 1e-12)
}

type scoreLine struct {
	I       int      `json:"i"`
	ID      int32    `json:"id"`
	Token   *string  `json:"token"`
	LogProb *float64 `json:"logprob"`
	Entropy *float64 `json:"entropy"`
}

func parseScores(t *testing.T, out string) []scoreLine {
	t.Helper()
	var lines []scoreLine
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		var s scoreLine
		require.NoError(t, json.Unmarshal([]byte(l), &s), "line %q", l)
		lines = append(lines, s)
	}
	return lines
}

func TestRunScoreText(t *testing.T) {
	dir := modelDir(t, true)
	text := "the cat sat on the mat: héllo"
	code, out, errOut := runCmd(text, "--model", dir, "--score", "--threads", "1")
	require.Equal(t, 0, code, errOut)
	lines := parseScores(t, out)
	tk := testTokenizer(t)
	ids := tk.Encode(text)
	require.Len(t, lines, len(ids))
	var joined strings.Builder
	for i, l := range lines {
		assert.Equal(t, i, l.I)
		assert.Equal(t, int32(ids[i]), l.ID)
		require.NotNil(t, l.Token)
		joined.WriteString(*l.Token)
		if i == 0 {
			assert.Nil(t, l.LogProb)
			assert.Nil(t, l.Entropy)
			continue
		}
		require.NotNil(t, l.LogProb)
		assert.Less(t, *l.LogProb, 0.0)
		assert.Greater(t, *l.Entropy, 0.0)
	}
	assert.Equal(t, text, joined.String(), "token texts concatenate to the input")
}

func TestRunScoreIDsWithoutTokenizer(t *testing.T) {
	dir := modelDir(t, false)
	code, out, errOut := runCmd("[5, 17, 300, 2]", "--model", dir, "--score", "--ids", "--threads", "1")
	require.Equal(t, 0, code, errOut)
	lines := parseScores(t, out)
	require.Len(t, lines, 4)
	assert.Equal(t, int32(300), lines[2].ID)
	assert.Nil(t, lines[2].Token, "no tokenizer: no token text")
	assert.NotNil(t, lines[3].LogProb)
}
