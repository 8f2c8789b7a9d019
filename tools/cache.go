package tools

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sync"
)

// Cache keeps successful results keyed by (tool, argument). With a file it
// is also an append-only log: one JSON record per line with a CRC of its
// fields, written with a single write call. A crash mid-write leaves at most
// one torn last line, which Open drops (and cuts off, so later appends start
// on a clean line). Nothing is ever rewritten in place.
type Cache struct {
	mu   sync.Mutex
	m    map[cacheKey]string
	f    *os.File // nil for a memory-only cache
	sync bool
}

type cacheKey struct{ tool, arg string }

type cacheRecord struct {
	Tool string `json:"tool"`
	Arg  string `json:"arg"`
	Out  string `json:"out"`
	CRC  uint32 `json:"crc"`
}

func (r *cacheRecord) sum() uint32 {
	h := crc32.NewIEEE()
	for _, s := range []string{r.Tool, "\x00", r.Arg, "\x00", r.Out} {
		io.WriteString(h, s)
	}
	return h.Sum32()
}

// NewCache returns an in-memory cache.
func NewCache() *Cache { return &Cache{m: map[cacheKey]string{}} }

// OpenCache loads the log at path (creating it if absent) and appends new
// entries to it. With fsync true every Put is flushed to disk before it
// returns, which is slower but loses nothing on a power cut.
func OpenCache(path string, fsync bool) (*Cache, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("tool cache: %w", err)
	}
	c := &Cache{m: map[cacheKey]string{}, f: f, sync: fsync}
	good, err := c.load(f)
	if err == nil {
		err = f.Truncate(good)
	}
	if err == nil {
		_, err = f.Seek(good, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("tool cache %s: %w", path, err)
	}
	return c, nil
}

// load reads records up to the first bad one and returns the offset where
// the good prefix ends.
func (c *Cache) load(r io.Reader) (int64, error) {
	br := bufio.NewReader(r)
	var good int64
	for {
		line, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			return good, nil // a line without '\n' is torn: not counted
		}
		if err != nil {
			return 0, err
		}
		var rec cacheRecord
		if json.Unmarshal(line, &rec) != nil || rec.CRC != rec.sum() {
			return good, nil
		}
		c.m[cacheKey{rec.Tool, rec.Arg}] = rec.Out
		good += int64(len(line))
	}
}

// Get returns the cached output.
func (c *Cache) Get(tool, arg string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out, ok := c.m[cacheKey{tool, arg}]
	return out, ok
}

// Put stores an output, appending it to the log when there is one.
func (c *Cache) Put(tool, arg, out string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := cacheKey{tool, arg}
	if old, ok := c.m[k]; ok && old == out {
		return nil
	}
	c.m[k] = out
	if c.f == nil {
		return nil
	}
	rec := cacheRecord{Tool: tool, Arg: arg, Out: out}
	rec.CRC = rec.sum()
	line, err := json.Marshal(&rec)
	if err != nil {
		return fmt.Errorf("tool cache: %w", err)
	}
	if _, err := c.f.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("tool cache: %w", err)
	}
	if c.sync {
		if err := c.f.Sync(); err != nil {
			return fmt.Errorf("tool cache: %w", err)
		}
	}
	return nil
}

// Len is the number of entries.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// Close flushes and closes the log file, if any.
func (c *Cache) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.f == nil {
		return nil
	}
	err := c.f.Sync()
	if cerr := c.f.Close(); err == nil {
		err = cerr
	}
	c.f = nil
	return err
}
