package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"

	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/engine"
)

// tokenScore is one line of --score output. LogProb and Entropy are nil for
// the first token, which nothing predicts.
type tokenScore struct {
	I       int      `json:"i"`
	ID      int32    `json:"id"`
	Token   *string  `json:"token,omitempty"`
	LogProb *float64 `json:"logprob"`
	Entropy *float64 `json:"entropy"`
}

// score prints a tokenScore line for every token.
func score(m *nn.Model, cd codec, toks []int32, prec, kvCache nn.Precision, stdout io.Writer) error {
	if maxLen := m.Cfg.MaxPositionEmbeddings; maxLen > 0 && len(toks) > maxLen {
		return badInput("the input has %d tokens; the model takes at most %d", len(toks), maxLen)
	}
	e := engine.New(m, engine.DefaultOptions())
	defer e.Close()
	if err := e.SetPrecision(prec); err != nil {
		return badInput("--precision: %v", err)
	}
	if err := e.SetCachePrecision(kvCache); err != nil {
		return badInput("--kv-cache: %v", err)
	}
	scores, err := scoreTokens(e, toks, scoreChunk(m.Cfg.VocabSize))
	if err != nil {
		return err
	}
	w := bufio.NewWriter(stdout)
	for i := range scores {
		if cd != nil {
			t := cd.tokenText(scores[i].ID)
			scores[i].Token = &t
		}
		line, err := json.Marshal(scores[i])
		if err != nil {
			return fmt.Errorf("encoding score: %w", err)
		}
		w.Write(line)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	return nil
}

// scoreChunk is how many tokens are fed per Forward: their logits, about 4M
// floats, are all that is kept at once, whatever the input's length.
func scoreChunk(vocab int) int { return max(1, (4<<20)/vocab) }

// scoreTokens feeds toks to a fresh engine sequence in chunks of at most
// chunk tokens, asking for every row's logits (Feed.All), and returns each
// token's log-probability and the entropy of the distribution it was drawn
// from (float64 log-softmax of the row before it).
func scoreTokens(e *engine.Engine, toks []int32, chunk int) ([]tokenScore, error) {
	s := e.NewSeq()
	defer e.Release(s)
	out := make([]tokenScore, len(toks))
	for i, t := range toks {
		out[i] = tokenScore{I: i, ID: t}
	}
	for lo := 0; lo < len(toks); lo += chunk {
		hi := min(lo+chunk, len(toks))
		logits, err := e.Forward([]engine.Feed{{Seq: s, Tokens: toks[lo:hi], All: true}})
		if err != nil {
			return nil, fmt.Errorf("scoring tokens %d to %d: %w", lo, hi, err)
		}
		V := len(logits) / (hi - lo)
		for r := lo; r < hi && r+1 < len(toks); r++ {
			lp, ent := logSoftmaxAt(logits[(r-lo)*V:(r-lo+1)*V], toks[r+1])
			out[r+1].LogProb, out[r+1].Entropy = &lp, &ent
		}
	}
	return out, nil
}

// logSoftmaxAt returns log softmax(row)[target] and the entropy of
// softmax(row) in nats; row is (V).
func logSoftmaxAt(row []float32, target int32) (logp, entropy float64) {
	mx := math.Inf(-1)
	for _, v := range row {
		mx = math.Max(mx, float64(v))
	}
	var sum, wsum float64 // sum of exp(v-mx), and of exp(v-mx)*(v-mx)
	for _, v := range row {
		d := float64(v) - mx
		ex := math.Exp(d)
		sum += ex
		wsum += ex * d
	}
	lse := math.Log(sum)
	return float64(row[target]) - mx - lse, lse - wsum/sum
}
