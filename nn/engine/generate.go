package engine

import (
	"fmt"
	"sync"

	"github.com/goarpo/arpo/nn/sample"
)

// StopReason says why a stream stopped generating.
type StopReason string

// The reasons a stream stops.
const (
	NotStopped StopReason = ""
	StopEOS    StopReason = "eos"    // sampled an end-of-sequence token
	StopLength StopReason = "length" // reached its token limit
	StopString StopReason = "stop"   // its text ended with a stop string
)

// Stream is one sequence being generated: the engine sequence, its own
// random generator, what it has sampled, and tokens waiting to be fed.
// Streams are advanced together by Engine.Step.
type Stream struct {
	Seq    *Seq
	RNG    *sample.RNG
	Params sample.Params
	// Limit is the most tokens the sequence may hold in all (prompt, tool
	// results and generated tokens); 0 means the model's maximum.
	Limit int

	// Tokens, LogProbs and Entropies record every sampled token with the
	// log-probability and entropy of the distribution it came from.
	Tokens    []int32
	LogProbs  []float32
	Entropies []float32

	// Stopped is set when the stream stops; Stop is the stop string matched.
	Stopped StopReason
	Stop    string

	pending []int32   // fed before the next sample
	logits  []float32 // next-token logits when everything is fed (pending empty)
	stops   *sample.StopMatcher
}

// GenConfig is what a Step needs to know about the vocabulary.
type GenConfig struct {
	// EOS lists the token ids that end a sequence.
	EOS []int32
	// Stops are strings that end generation when the decoded text ends with
	// one of them, e.g. "</search>", "</python>", "</answer>".
	Stops []string
	// TokenText returns the bytes of one token, for stop strings.
	TokenText func(id int32) string
}

// NewStream starts a stream that will first feed prompt.
func (e *Engine) NewStream(prompt []int32, p sample.Params, rng *sample.RNG, limit int, g GenConfig) *Stream {
	return &Stream{
		Seq:     e.NewSeq(),
		RNG:     rng,
		Params:  p,
		Limit:   limit,
		pending: append([]int32(nil), prompt...),
		stops:   sample.NewStopMatcher(g.Stops),
	}
}

// Append queues tokens (a tool result) to be fed before the next sample and
// clears a stop, so the stream can go on generating.
func (s *Stream) Append(tokens []int32) {
	s.pending = append(s.pending, tokens...)
	s.logits = nil
	s.Stopped, s.Stop = NotStopped, ""
}

// Pending returns the tokens queued to be fed.
func (s *Stream) Pending() []int32 { return s.pending }

// Len is the sequence's length counting queued tokens.
func (s *Stream) Len() int { return s.Seq.Len() + len(s.pending) }

// ForkStream returns a stream that shares s's past (cache blocks, queued
// tokens, next-token logits) but samples with rng from now on. Its record of
// sampled tokens starts empty: it continues from s's present. After Feed, a
// fork shares the fed tokens' cache and costs no forward at all.
func (e *Engine) ForkStream(s *Stream, rng *sample.RNG) *Stream {
	return &Stream{
		Seq:     e.Fork(s.Seq),
		RNG:     rng,
		Params:  s.Params,
		Limit:   s.Limit,
		pending: append([]int32(nil), s.pending...),
		logits:  s.logits, // never written in place, so sharing is safe
		stops:   s.stops.Clone(),
	}
}

// ReleaseStream frees the stream's cache blocks.
func (e *Engine) ReleaseStream(s *Stream) { e.Release(s.Seq) }

// Feed feeds the queued tokens of the given streams (a prompt or a tool
// result) in one batched forward without sampling, and keeps each stream's
// next-token logits for its next Step. Streams with nothing queued are
// skipped.
func (e *Engine) Feed(streams []*Stream) error {
	var feeds []Feed
	var fed []*Stream
	for _, s := range streams {
		if len(s.pending) > 0 {
			feeds = append(feeds, Feed{Seq: s.Seq, Tokens: s.pending})
			fed = append(fed, s)
		}
	}
	if len(feeds) == 0 {
		return nil
	}
	logits, err := e.Forward(feeds)
	if err != nil {
		return err
	}
	V := e.m.Cfg.VocabSize
	for i, s := range fed {
		s.pending = s.pending[:0]
		s.logits = logits[i*V : (i+1)*V : (i+1)*V]
	}
	return nil
}

// Step advances every stream that has not stopped by one token: it feeds
// what each has queued (the previous sample, or a prompt or tool result) in
// one batched forward, samples the next token from each stream's own
// generator, records it and checks the stop conditions. The sampled token is
// queued, so the next Step (or a fork) feeds it.
func (e *Engine) Step(streams []*Stream, g GenConfig, sm *sample.Sampler) error {
	var live []*Stream
	var feeds []Feed
	maxLen := e.m.Cfg.MaxPositionEmbeddings
	for _, s := range streams {
		if s.Stopped != NotStopped {
			continue
		}
		limit := s.Limit
		if limit <= 0 || (maxLen > 0 && limit > maxLen) {
			limit = maxLen
		}
		if limit > 0 && s.Len() >= limit {
			s.Stopped = StopLength
			continue
		}
		if len(s.pending) == 0 && s.logits == nil {
			return fmt.Errorf("engine: stream has nothing to feed (empty prompt?)")
		}
		live = append(live, s)
		if len(s.pending) > 0 {
			feeds = append(feeds, Feed{Seq: s.Seq, Tokens: s.pending})
		}
	}
	if len(live) == 0 {
		return nil
	}
	var logits []float32
	if len(feeds) > 0 {
		var err error
		if logits, err = e.Forward(feeds); err != nil {
			return err
		}
	}
	V := e.m.Cfg.VocabSize
	rows := make([][]float32, len(live))
	row := 0
	for i, s := range live {
		rows[i] = s.logits
		if len(s.pending) > 0 {
			rows[i] = logits[row*V : (row+1)*V]
			row++
		}
		s.logits = nil
	}
	results := e.sampleRows(live, rows, sm)
	for i, s := range live {
		r := results[i]
		tok := int32(r.Token)
		s.Tokens = append(s.Tokens, tok)
		s.LogProbs = append(s.LogProbs, r.LogProb)
		s.Entropies = append(s.Entropies, r.Entropy)
		s.pending = append(s.pending[:0], tok)
		for _, eos := range g.EOS {
			if tok == eos {
				s.Stopped = StopEOS
			}
		}
		if s.Stopped == NotStopped && g.TokenText != nil {
			if stop, _, ok := s.stops.Feed(g.TokenText(tok)); ok {
				s.Stopped, s.Stop = StopString, stop
			}
		}
		if s.Stopped == NotStopped && s.Limit > 0 && s.Len() >= s.Limit {
			s.Stopped = StopLength
		}
	}
	return nil
}

// sampleRows draws each live stream's token from its row of logits. When
// every stream has its own generator the rows are independent, so with
// enough logits in all they are drawn on the backend's threads: the results do
// not depend on the thread count. Streams that share a generator draw in
// stream order, one after the other.
func (e *Engine) sampleRows(live []*Stream, rows [][]float32, sm *sample.Sampler) []sample.Result {
	out := make([]sample.Result, len(live))
	threads := 1
	if t, ok := e.b.(interface{ Threads() int }); ok && len(live)*e.m.Cfg.VocabSize >= parallelSampleWork && ownRNGs(live) {
		threads = min(t.Threads(), len(live))
	}
	if threads <= 1 {
		for i, s := range live {
			out[i] = sm.Sample(rows[i], s.Params, s.RNG)
		}
		return out
	}
	var wg sync.WaitGroup
	for w := 0; w < threads; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			own := sm
			if w > 0 {
				own = new(sample.Sampler)
			}
			for i := w; i < len(live); i += threads {
				out[i] = own.Sample(rows[i], live[i].Params, live[i].RNG)
			}
		}(w)
	}
	wg.Wait()
	return out
}

// ownRNGs reports whether no two streams share a generator.
func ownRNGs(streams []*Stream) bool {
	seen := make(map[*sample.RNG]bool, len(streams))
	for _, s := range streams {
		if s.RNG != nil {
			if seen[s.RNG] {
				return false
			}
			seen[s.RNG] = true
		}
	}
	return true
}

// parallelSampleWork is the number of logits (streams x vocabulary) from
// which Step samples its streams in parallel: about 50 microseconds of
// work, several times what starting the goroutines costs. A rollout's
// batch of 256 streams over a 320-token vocabulary qualifies; 16 streams
// of a 2,048-token one do not.
const parallelSampleWork = 1 << 16

// Generate runs Step until every stream has stopped.
func (e *Engine) Generate(streams []*Stream, g GenConfig) error {
	var sm sample.Sampler
	for {
		active := false
		for _, s := range streams {
			if s.Stopped == NotStopped {
				active = true
				break
			}
		}
		if !active {
			return nil
		}
		if err := e.Step(streams, g, &sm); err != nil {
			return err
		}
	}
}
