package tools

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"
)

// Config sets up an Executor.
type Config struct {
	Workers      int           // e.g. 8: most tool calls running at once; <= 0 means 1
	Timeout      time.Duration // e.g. 10 * time.Second per call; 0 means none
	MaxResultLen int           // e.g. 4096 bytes of output shown to the model; 0 means no limit
	Cache        *Cache        // nil: every call runs
}

// Request is one tool call.
type Request struct {
	Tool, Arg string
}

// Response is the outcome of one call.
type Response struct {
	Output   string        // what the model sees (before truncation): tool output, then the error if any
	Err      error         // non-nil when the call failed
	Cached   bool          // served from the cache or shared with an identical call in flight
	Duration time.Duration // time spent running the tool; 0 when Cached
}

// ErrTimeout is wrapped by the error of a call that ran past Config.Timeout.
var ErrTimeout = errors.New("tool call timed out")

// ToolStats are the counters of one tool. They are exact: each Do adds to
// Calls once, and to CacheHits or Executed once.
type ToolStats struct {
	Calls     int64         // requests for this tool
	CacheHits int64         // answered without running the tool
	Executed  int64         // calls that ran the tool (Calls - CacheHits)
	Failures  int64         // calls that ended in an error (timeouts included)
	Timeouts  int64         // calls stopped by Config.Timeout
	Time      time.Duration // total time spent running the tool
}

// Stats is a snapshot of an Executor's counters.
type Stats struct {
	Tools   map[string]ToolStats // by tag; unknown tags appear too, as failures
	Invalid map[Problem]int64    // malformed calls answered by Result without running anything
}

// Total sums the per-tool counters.
func (s Stats) Total() ToolStats {
	var t ToolStats
	for _, v := range s.Tools {
		t.Calls += v.Calls
		t.CacheHits += v.CacheHits
		t.Executed += v.Executed
		t.Failures += v.Failures
		t.Timeouts += v.Timeouts
		t.Time += v.Time
	}
	return t
}

// Executor runs tool calls on a bounded pool with a per-call timeout, a
// cache, and counters. It is safe for concurrent use; Run and concurrent Do
// calls share the pool.
type Executor struct {
	reg  *Registry
	cfg  Config
	sem  chan struct{}
	mu   sync.Mutex
	st   map[string]*ToolStats
	inv  map[Problem]int64
	busy map[cacheKey]*flight // identical calls in flight, shared when caching
}

type flight struct {
	done chan struct{}
	out  string
	err  error
}

// NewExecutor builds an executor over the tools of reg.
func NewExecutor(reg *Registry, cfg Config) *Executor {
	if cfg.Workers <= 0 {
		cfg.Workers = 1
	}
	return &Executor{
		reg:  reg,
		cfg:  cfg,
		sem:  make(chan struct{}, cfg.Workers),
		st:   map[string]*ToolStats{},
		inv:  map[Problem]int64{},
		busy: map[cacheKey]*flight{},
	}
}

// Do runs one call, or answers it from the cache.
func (e *Executor) Do(ctx context.Context, tool, arg string) Response {
	k := cacheKey{tool, arg}
	if e.cfg.Cache != nil {
		if out, ok := e.cfg.Cache.Get(tool, arg); ok {
			e.count(tool, true, nil, 0)
			return Response{Output: out, Cached: true}
		}
		e.mu.Lock()
		if f, ok := e.busy[k]; ok {
			e.mu.Unlock()
			select {
			case <-f.done:
				e.count(tool, true, f.err, 0)
				return Response{Output: withErr(f.out, f.err), Err: f.err, Cached: true}
			case <-ctx.Done():
				err := fmt.Errorf("%s: %w", tool, ctx.Err())
				e.count(tool, true, err, 0)
				return Response{Output: withErr("", err), Err: err, Cached: true}
			}
		}
		// An identical call may have finished (its result cached, its
		// flight removed, in that order) between the Get above and the
		// lock: look again before running the tool a second time.
		if out, ok := e.cfg.Cache.Get(tool, arg); ok {
			e.mu.Unlock()
			e.count(tool, true, nil, 0)
			return Response{Output: out, Cached: true}
		}
		f := &flight{done: make(chan struct{})}
		e.busy[k] = f
		e.mu.Unlock()
		defer func() {
			e.mu.Lock()
			delete(e.busy, k)
			e.mu.Unlock()
			close(f.done)
		}()
		r := e.run(ctx, tool, arg)
		f.out, f.err = r.Output, r.Err
		if r.Err == nil {
			if err := e.cfg.Cache.Put(tool, arg, r.Output); err != nil {
				// A cache that cannot persist must not fail the call; the
				// result is still in memory and the caller gets it.
				_ = err
			}
		}
		r.Output = withErr(r.Output, r.Err)
		return r
	}
	r := e.run(ctx, tool, arg)
	r.Output = withErr(r.Output, r.Err)
	return r
}

// run executes the tool on a pool slot with the timeout and counts it.
func (e *Executor) run(ctx context.Context, tool, arg string) Response {
	t, ok := e.reg.Get(tool)
	if !ok {
		err := fmt.Errorf("unknown tool %q", tool)
		e.count(tool, false, err, 0)
		return Response{Err: err}
	}
	select {
	case e.sem <- struct{}{}:
	case <-ctx.Done():
		err := fmt.Errorf("%s: %w", tool, ctx.Err())
		e.count(tool, false, err, 0)
		return Response{Err: err}
	}
	defer func() { <-e.sem }()
	cctx, cancel := ctx, context.CancelFunc(func() {})
	if e.cfg.Timeout > 0 {
		cctx, cancel = context.WithTimeout(ctx, e.cfg.Timeout)
	}
	defer cancel()
	start := time.Now()
	type res struct {
		out string
		err error
	}
	ch := make(chan res, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				ch <- res{err: fmt.Errorf("%s: internal error: %v", tool, p)}
			}
		}()
		out, err := t.Call(cctx, arg)
		ch <- res{out, err}
	}()
	var r res
	select {
	case r = <-ch:
	case <-cctx.Done():
		// A tool that ignores its context keeps running in the background
		// until it returns; the caller does not wait for it.
		r.err = cctx.Err()
	}
	if errors.Is(r.err, context.DeadlineExceeded) && ctx.Err() == nil {
		r.err = fmt.Errorf("%s: %w after %v", tool, ErrTimeout, e.cfg.Timeout)
	}
	d := time.Since(start)
	e.count(tool, false, r.err, d)
	return Response{Output: r.out, Err: r.err, Duration: d}
}

func withErr(out string, err error) string {
	if err == nil {
		return out
	}
	if out == "" {
		return err.Error()
	}
	return out + "\n" + err.Error()
}

func (e *Executor) count(tool string, hit bool, err error, d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.st[tool]
	if s == nil {
		s = &ToolStats{}
		e.st[tool] = s
	}
	s.Calls++
	if hit {
		s.CacheHits++
	} else {
		s.Executed++
		s.Time += d
	}
	if err != nil {
		s.Failures++
		if errors.Is(err, ErrTimeout) {
			s.Timeouts++
		}
	}
}

// Run executes calls concurrently (bounded by Config.Workers) and returns
// their responses in the order of reqs.
func (e *Executor) Run(ctx context.Context, reqs []Request) []Response {
	out := make([]Response, len(reqs))
	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = e.Do(ctx, r.Tool, r.Arg)
		}()
	}
	wg.Wait()
	return out
}

// Result turns a protocol event into the formatted result to insert: it
// runs a Call, explains an Invalid event, and returns "" for anything else.
func (e *Executor) Result(ctx context.Context, ev Event) string {
	switch ev.Kind {
	case Call:
		return FormatResult(e.Do(ctx, ev.Tag, ev.Arg).Output, e.cfg.MaxResultLen)
	case Invalid:
		e.mu.Lock()
		e.inv[ev.Problem]++
		e.mu.Unlock()
		return FormatResult(ev.Message, 0) // protocol messages are short and must be read whole
	}
	return ""
}

// Stats returns a copy of the counters.
func (e *Executor) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := Stats{Tools: map[string]ToolStats{}, Invalid: map[Problem]int64{}}
	for k, v := range e.st {
		s.Tools[k] = *v
	}
	for k, v := range e.inv {
		s.Invalid[k] = v
	}
	return s
}

// ResetStats zeroes the counters, e.g. at the start of a training step, and
// returns what they were.
func (e *Executor) ResetStats() Stats {
	s := e.Stats()
	e.mu.Lock()
	e.st = map[string]*ToolStats{}
	e.inv = map[Problem]int64{}
	e.mu.Unlock()
	return s
}

// String formats stats one tool per line, for logs.
func (s Stats) String() string {
	names := make([]string, 0, len(s.Tools))
	for n := range s.Tools {
		names = append(names, n)
	}
	sort.Strings(names)
	var b []byte
	for _, n := range names {
		v := s.Tools[n]
		b = fmt.Appendf(b, "%s: calls=%d hits=%d executed=%d failures=%d timeouts=%d time=%v\n",
			n, v.Calls, v.CacheHits, v.Executed, v.Failures, v.Timeouts, v.Time)
	}
	return string(b)
}
