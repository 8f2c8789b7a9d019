package analysis

import (
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"sort"
	"strings"
)

// Config sets up Analyze.
type Config struct {
	K    int    // window of the Before and After buckets in tokens, e.g. 20 (the paper's k)
	Boot int    // bootstrap resamples, e.g. 1000
	Seed uint64 // seed of the resampling: the same seed gives the same intervals
}

// BucketStat is one bucket's entropy for one tool ("all" pools the tools).
type BucketStat struct {
	Bucket Bucket `json:"bucket"`
	Tool   string `json:"tool"`
	Stat
}

// OffsetStat is the entropy at one offset from a tool result: -K..-1 are
// the tokens before it, 0..K-1 those after.
type OffsetStat struct {
	Offset int    `json:"offset"`
	Tool   string `json:"tool"`
	Stat
}

// Report is the whole analysis.
type Report struct {
	K            int          `json:"k"`
	Boot         int          `json:"boot"`
	Seed         uint64       `json:"seed"`
	Trajectories int          `json:"trajectories"`
	Tools        []string     `json:"tools"` // "all" first, then the tools seen, sorted
	Buckets      []BucketStat `json:"buckets"`
	Profile      []OffsetStat `json:"profile"`
}

// All names the pooled rows of a Report.
const All = "all"

// cellKey identifies one accumulator: a bucket or an offset, and a tool.
type cellKey struct {
	bucket Bucket
	offset int // only for the profile (bucket "")
	tool   string
}

// Analyze buckets the tokens of trajs and bootstraps every bucket's mean.
func Analyze(trajs []Trajectory, cfg Config) Report {
	if cfg.K < 1 {
		panic("analysis: Config.K must be >= 1")
	}
	// Per cell, each trajectory's entropy sum and token count (U).
	sums := map[cellKey][]float64{}
	counts := map[cellKey][]float64{}
	add := func(key cellKey, u int, v float64) {
		if sums[key] == nil {
			sums[key] = make([]float64, len(trajs))
			counts[key] = make([]float64, len(trajs))
		}
		sums[key][u] += v
		counts[key][u]++
	}
	seen := map[string]bool{}
	for u, tr := range trajs {
		pos, ok := Positions(tr, cfg.K)
		for i, p := range pos {
			if !ok[i] {
				continue
			}
			e := tr.Entropy[i]
			add(cellKey{bucket: p.Bucket, tool: All}, u, e)
			if p.Tool != "" {
				seen[p.Tool] = true
				add(cellKey{bucket: p.Bucket, tool: p.Tool}, u, e)
			}
			if p.Bucket == Before || p.Bucket == After {
				add(cellKey{offset: p.Offset, tool: All}, u, e)
				add(cellKey{offset: p.Offset, tool: p.Tool}, u, e)
			}
		}
	}
	rep := Report{K: cfg.K, Boot: cfg.Boot, Seed: cfg.Seed, Trajectories: len(trajs), Tools: []string{All}}
	for t := range seen {
		rep.Tools = append(rep.Tools, t)
	}
	sort.Strings(rep.Tools[1:])
	stat := func(key cellKey) Stat {
		if sums[key] == nil {
			return Stat{}
		}
		return Bootstrap(sums[key], counts[key], cfg.Boot, cellRNG(cfg.Seed, key))
	}
	for _, tool := range rep.Tools {
		for _, b := range Buckets {
			if b == Initial && tool != All {
				continue // initial tokens follow no tool
			}
			rep.Buckets = append(rep.Buckets, BucketStat{Bucket: b, Tool: tool, Stat: stat(cellKey{bucket: b, tool: tool})})
		}
		for off := -cfg.K; off < cfg.K; off++ {
			rep.Profile = append(rep.Profile, OffsetStat{Offset: off, Tool: tool, Stat: stat(cellKey{offset: off, tool: tool})})
		}
	}
	return rep
}

// cellRNG gives every cell its own stream, so that a cell's interval does
// not depend on which other cells exist.
func cellRNG(seed uint64, k cellKey) *rand.Rand {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s|%d|%s", k.bucket, k.offset, k.tool)
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

// Bucket returns the row of a bucket and tool, and whether it exists.
func (r Report) Bucket(b Bucket, tool string) (BucketStat, bool) {
	for _, s := range r.Buckets {
		if s.Bucket == b && s.Tool == tool {
			return s, true
		}
	}
	return BucketStat{}, false
}

// WriteMarkdown writes the bucket table: one row per bucket, one column
// per tool, each cell "mean [lo, hi] (tokens)".
func (r Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Mean normalised token entropy (entropy / ln V) by position relative to tool results; "+
		"k = %d, %d trajectories, bootstrap 95%% CI over trajectories (%d resamples, seed %d).\n\n",
		r.K, r.Trajectories, r.Boot, r.Seed)
	b.WriteString("| position |")
	for _, t := range r.Tools {
		fmt.Fprintf(&b, " %s |", t)
	}
	b.WriteString("\n|---|")
	b.WriteString(strings.Repeat("---|", len(r.Tools)))
	b.WriteString("\n")
	for _, bk := range Buckets {
		fmt.Fprintf(&b, "| %s |", bucketLabel(bk, r.K))
		for _, t := range r.Tools {
			s, ok := r.Bucket(bk, t)
			if !ok || s.Tokens == 0 {
				b.WriteString(" – |")
				continue
			}
			fmt.Fprintf(&b, " %.3f [%.3f, %.3f] (%d) |", s.Mean, s.Lo, s.Hi, s.Tokens)
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func bucketLabel(b Bucket, k int) string {
	switch b {
	case Initial:
		return "before the first call"
	case Before:
		return fmt.Sprintf("last %d tokens of the call", k)
	case After:
		return fmt.Sprintf("first %d tokens after the result", k)
	}
	return "later tokens"
}
