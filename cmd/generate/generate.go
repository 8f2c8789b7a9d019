package main

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/engine"
	"github.com/goarpo/arpo/nn/sample"
)

// generate samples up to --max-new-tokens tokens after prompt and streams
// them to stdout: text (without the end-of-sequence token) when cd is set
// and --ids is not, else a JSON array of every sampled id. It prints the
// stats line on stderr.
func generate(m *nn.Model, cd codec, eos []int32, o options, prompt []int32, stdout, stderr io.Writer) error {
	if maxLen := m.Cfg.MaxPositionEmbeddings; maxLen > 0 && len(prompt) >= maxLen {
		return badInput("the prompt has %d tokens; the model takes at most %d in all", len(prompt), maxLen)
	}
	if len(o.stops) > 0 && cd == nil {
		return badInput("--stop needs a tokenizer to know the text of tokens")
	}
	g := engine.GenConfig{Stops: o.stops}
	if cd != nil {
		g.TokenText = cd.tokenText
		eos = appendNew(eos, cd.eos()...) // the character tokenizer's "E"
	}
	if !o.ignoreEOS {
		g.EOS = eos
	}
	e := engine.New(m, engine.DefaultOptions())
	defer e.Close()
	if err := e.SetPrecision(o.precision); err != nil {
		return badInput("--precision: %v", err)
	}
	if err := e.SetCachePrecision(o.kvCache); err != nil {
		return badInput("--kv-cache: %v", err)
	}
	s := e.NewStream(prompt, o.params, sample.NewRNG(o.seed, 0), len(prompt)+o.maxNewTokens, g)
	defer e.ReleaseStream(s)

	out := newTokenPrinter(bufio.NewWriter(stdout), cd, o.ids)
	start := time.Now()
	// Prefill apart from the first Step only to time it.
	if err := e.Feed([]*engine.Stream{s}); err != nil {
		return fmt.Errorf("prefill: %w", err)
	}
	prefill := time.Since(start)
	var sm sample.Sampler
	for s.Stopped == engine.NotStopped {
		n := len(s.Tokens)
		if err := e.Step([]*engine.Stream{s}, g, &sm); err != nil {
			return fmt.Errorf("decode: %w", err)
		}
		if len(s.Tokens) > n {
			tok := s.Tokens[n]
			if err := out.token(tok, s.Stopped == engine.StopEOS); err != nil {
				return fmt.Errorf("writing output: %w", err)
			}
		}
	}
	elapsed := time.Since(start)
	if err := out.close(); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	stop := string(s.Stopped)
	if s.Stop != "" {
		stop += " " + strconv.Quote(s.Stop)
	}
	n := len(s.Tokens)
	fmt.Fprintf(stderr, "generate: prompt %d tokens, %d new tokens in %.3f s (%.1f tokens/s; prefill %.1f ms, decode %.1f tokens/s), stopped: %s\n",
		len(prompt), n, elapsed.Seconds(), float64(n)/elapsed.Seconds(),
		float64(prefill.Microseconds())/1e3, float64(n)/(elapsed-prefill).Seconds(), stop)
	return nil
}

// tokenPrinter writes generated tokens as they come, flushing after each so
// the text streams.
type tokenPrinter struct {
	w     *bufio.Writer
	dec   decoder // nil: print ids
	count int
}

func newTokenPrinter(w *bufio.Writer, cd codec, ids bool) *tokenPrinter {
	p := &tokenPrinter{w: w}
	if cd != nil && !ids {
		p.dec = cd.newDecoder()
	}
	return p
}

// token prints one sampled token; isEOS says it ended the sequence (its
// text is not printed).
func (p *tokenPrinter) token(id int32, isEOS bool) error {
	switch {
	case p.dec == nil && p.count == 0:
		fmt.Fprintf(p.w, "[%d", id)
	case p.dec == nil:
		fmt.Fprintf(p.w, ", %d", id)
	case !isEOS:
		p.w.WriteString(p.dec.add(id))
	}
	p.count++
	return p.w.Flush()
}

// close ends the output with a newline (after "]" in ids mode).
func (p *tokenPrinter) close() error {
	switch {
	case p.dec == nil && p.count == 0:
		p.w.WriteString("[]\n")
	case p.dec == nil:
		p.w.WriteString("]\n")
	default:
		p.w.WriteString(p.dec.flush() + "\n")
	}
	return p.w.Flush()
}
