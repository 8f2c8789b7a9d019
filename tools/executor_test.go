package tools

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func echo() Func {
	return Func{Tag: "echo", Fn: func(ctx context.Context, arg string) (string, error) {
		if strings.HasPrefix(arg, "fail") {
			return "partial", errors.New("bad input")
		}
		return "echo:" + arg, nil
	}}
}

func TestRegistry(t *testing.T) {
	r, err := NewRegistry(echo())
	require.NoError(t, err)
	require.Error(t, r.Register(echo()), "duplicate")
	require.Error(t, r.Register(Func{Tag: "answer"}), "structural tag")
	require.Error(t, r.Register(Func{Tag: "a b"}), "not a tag name")
	_, ok := r.Get("echo")
	assert.True(t, ok)
	assert.Equal(t, []string{"echo"}, r.Names())
	assert.Equal(t, &Protocol{Tools: []string{"echo"}, MaxCalls: 3}, r.Protocol(3))
}

func TestExecutorCountsAndCache(t *testing.T) {
	var runs atomic.Int64
	tool := Func{Tag: "sq", Fn: func(ctx context.Context, arg string) (string, error) {
		runs.Add(1)
		return arg + arg, nil
	}}
	reg, err := NewRegistry(tool, echo())
	require.NoError(t, err)
	ex := NewExecutor(reg, Config{Workers: 4, Cache: NewCache()})
	ctx := context.Background()

	// 200 calls over 10 distinct arguments, from many goroutines at once.
	var reqs []Request
	for i := 0; i < 200; i++ {
		reqs = append(reqs, Request{"sq", fmt.Sprint(i % 10)})
	}
	resps := ex.Run(ctx, reqs)
	for i, r := range resps {
		require.NoError(t, r.Err)
		assert.Equal(t, fmt.Sprint(i%10)+fmt.Sprint(i%10), r.Output)
	}
	st := ex.Stats().Tools["sq"]
	assert.Equal(t, int64(200), st.Calls)
	assert.Equal(t, int64(10), st.Executed, "each distinct argument runs exactly once")
	assert.Equal(t, int64(190), st.CacheHits)
	assert.Equal(t, runs.Load(), st.Executed)
	assert.Zero(t, st.Failures)

	// Failures are counted, shown to the model after the partial output, and not cached.
	r := ex.Do(ctx, "echo", "fail1")
	require.Error(t, r.Err)
	assert.Equal(t, "partial\nbad input", r.Output)
	r = ex.Do(ctx, "echo", "fail1")
	assert.False(t, r.Cached)
	r = ex.Do(ctx, "nope", "x")
	require.Error(t, r.Err)
	assert.Contains(t, r.Output, "unknown tool")

	s := ex.Stats()
	assert.Equal(t, ToolStats{Calls: 2, Executed: 2, Failures: 2, Time: s.Tools["echo"].Time}, s.Tools["echo"])
	assert.Equal(t, int64(1), s.Tools["nope"].Failures)
	assert.Equal(t, int64(203), s.Total().Calls)
	assert.Contains(t, s.String(), "sq: calls=200 hits=190 executed=10")

	old := ex.ResetStats()
	assert.Equal(t, int64(203), old.Total().Calls)
	assert.Zero(t, ex.Stats().Total().Calls)
}

func TestExecutorTimeoutAndPanic(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	slow := Func{Tag: "slow", Fn: func(ctx context.Context, arg string) (string, error) {
		if arg == "ignore" {
			<-block // a tool that ignores its context
			return "late", nil
		}
		<-ctx.Done()
		return "", ctx.Err()
	}}
	boom := Func{Tag: "boom", Fn: func(ctx context.Context, arg string) (string, error) { panic("kaboom") }}
	reg, err := NewRegistry(slow, boom)
	require.NoError(t, err)
	ex := NewExecutor(reg, Config{Workers: 2, Timeout: 20 * time.Millisecond})
	for _, arg := range []string{"wait", "ignore"} {
		r := ex.Do(context.Background(), "slow", arg)
		require.ErrorIs(t, r.Err, ErrTimeout, arg)
		assert.Contains(t, r.Output, "timed out")
	}
	r := ex.Do(context.Background(), "boom", "")
	require.Error(t, r.Err)
	assert.Contains(t, r.Output, "kaboom")
	st := ex.Stats()
	assert.Equal(t, int64(2), st.Tools["slow"].Timeouts)
	assert.Equal(t, int64(2), st.Tools["slow"].Failures)
	assert.Equal(t, int64(1), st.Tools["boom"].Failures)

	// A cancelled caller gets an error, counted as a failure but not a timeout.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r = ex.Do(ctx, "slow", "wait")
	require.ErrorIs(t, r.Err, context.Canceled)
	assert.Equal(t, int64(2), ex.Stats().Tools["slow"].Timeouts)
}

func TestExecutorBoundedPool(t *testing.T) {
	var cur, peak atomic.Int64
	tool := Func{Tag: "t", Fn: func(ctx context.Context, arg string) (string, error) {
		n := cur.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(time.Millisecond)
		cur.Add(-1)
		return arg, nil
	}}
	reg, err := NewRegistry(tool)
	require.NoError(t, err)
	ex := NewExecutor(reg, Config{Workers: 3})
	var reqs []Request
	for i := 0; i < 30; i++ {
		reqs = append(reqs, Request{"t", fmt.Sprint(i)})
	}
	ex.Run(context.Background(), reqs)
	assert.LessOrEqual(t, peak.Load(), int64(3))
	assert.Equal(t, int64(30), ex.Stats().Tools["t"].Executed)
}

func TestExecutorResult(t *testing.T) {
	reg, err := NewRegistry(echo())
	require.NoError(t, err)
	ex := NewExecutor(reg, Config{MaxResultLen: 6})
	p := reg.Protocol(1)
	assert.Equal(t, "<result>\necho:h\n</result>\n", ex.Result(context.Background(), p.Parse("<echo>h</echo>")))
	got := ex.Result(context.Background(), p.Parse("<echo>hello</echo>"))
	assert.Contains(t, got, "[output truncated: 6 of 10 bytes shown]")
	got = ex.Result(context.Background(), p.Parse("<echo> </echo>"))
	assert.Contains(t, got, "Empty echo")
	assert.Equal(t, "", ex.Result(context.Background(), p.Parse("<think>")))
	assert.Equal(t, int64(1), ex.Stats().Invalid[EmptyCall])
	assert.Equal(t, int64(2), ex.Stats().Tools["echo"].Calls)
}

func TestCachePersistsAndSurvivesTornWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache.jsonl")
	c, err := OpenCache(path, true)
	require.NoError(t, err)
	require.NoError(t, c.Put("search", "q1", "r1"))
	require.NoError(t, c.Put("python", "print(1)\n", "1\n"))
	require.NoError(t, c.Close())

	// Simulate a crash mid-write: a partial record at the end.
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(`{"tool":"search","arg":"q2","out":"r`)
	require.NoError(t, err)
	require.NoError(t, f.Close())

	c, err = OpenCache(path, false)
	require.NoError(t, err)
	assert.Equal(t, 2, c.Len())
	out, ok := c.Get("python", "print(1)\n")
	assert.True(t, ok)
	assert.Equal(t, "1\n", out)
	_, ok = c.Get("search", "q2")
	assert.False(t, ok)
	require.NoError(t, c.Put("search", "q3", "r3"))
	require.NoError(t, c.Close())

	// The torn record was cut off, so the new one is readable.
	c, err = OpenCache(path, false)
	require.NoError(t, err)
	defer c.Close()
	assert.Equal(t, 3, c.Len())

	// A record whose checksum does not match (a flipped byte) ends the log.
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	bad := strings.Replace(string(data), `"r1"`, `"r9"`, 1)
	path2 := filepath.Join(t.TempDir(), "bad.jsonl")
	require.NoError(t, os.WriteFile(path2, []byte(bad), 0o644))
	c2, err := OpenCache(path2, false)
	require.NoError(t, err)
	defer c2.Close()
	assert.Equal(t, 0, c2.Len())
}

func TestCacheConcurrentPut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache.jsonl")
	c, err := OpenCache(path, false)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				assert.NoError(t, c.Put("t", fmt.Sprint(g, "-", i), strings.Repeat("x", i)))
			}
		}()
	}
	wg.Wait()
	require.NoError(t, c.Close())
	c, err = OpenCache(path, false)
	require.NoError(t, err)
	defer c.Close()
	assert.Equal(t, 400, c.Len())
}
