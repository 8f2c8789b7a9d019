// Package sysmem checks a memory estimate against the machine before a
// command allocates it, so that a size that cannot fit ends with one clear
// line ("needs 3,725 GiB, this machine has 24 GiB") instead of the Go
// runtime's "fatal error: out of memory", which no recover catches.
//
// Not for: accounting memory while it is used.
package sysmem

import (
	"fmt"
	"math"
	"os"
	"runtime/debug"
)

// Total is the machine's physical memory in bytes, or 0 when unknown (the
// check is then skipped).
func Total() uint64 { return total() }

// Check returns an error naming what would not fit when need bytes are more
// than the machine has. need is an estimate: callers count what they know
// they will allocate (weights, optimizer state, KV cache), not every
// buffer, so a run that passes can still be too large.
func Check(what string, need float64) error {
	have := Total()
	if have == 0 || need <= float64(have) {
		return nil
	}
	return fmt.Errorf("%s needs about %s, this machine has %s", what, GiB(need), GiB(float64(have)))
}

// GiB formats a byte count in GiB for a message.
func GiB(bytes float64) string {
	g := bytes / (1 << 30)
	switch {
	case g >= 1e6:
		return fmt.Sprintf("%.3g GiB", g)
	case g >= 10:
		return fmt.Sprintf("%.0f GiB", math.Round(g))
	}
	return fmt.Sprintf("%.1f GiB", g)
}

// LimitHeap sets the Go runtime's soft memory limit to 90% of the
// machine's memory, unless GOMEMLIMIT sets one or the size is unknown. The
// collector's default pacing (GOGC=100) lets the heap grow to twice the
// live heap before it runs, so a process whose model is two thirds of the
// machine (an 8B bf16 base on 24 GiB) may be killed for memory by garbage
// it no longer needed; with the limit the collector runs before that.
// Commands that load models call it first.
func LimitHeap() {
	if os.Getenv("GOMEMLIMIT") != "" || Total() == 0 {
		return
	}
	debug.SetMemoryLimit(int64(float64(Total()) * 0.9))
}
