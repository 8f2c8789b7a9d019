//go:build vulkan && cgo

package vulkan

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

// profiler times every dispatch with a pair of GPU timestamps (written
// before and after it in the command buffer) and sums the times per op
// kind (shader name, and the tile shape for gemm_tiled). Dispatches
// without a barrier between them may overlap on a GPU, so the sums can
// exceed the wall time; they say where the time goes, not how long a
// step takes.
type profiler struct {
	pool   vk.QueryPool
	labels []string // the kind of each timestamp pair of the current batch
	totals map[string]*OpTime
}

// OpTime is the GPU time of one op kind over a profile.
type OpTime struct {
	Kind  string
	Count int
	Time  time.Duration
}

// SetProfile turns GPU timestamps on or off. It fails on a device whose
// compute queue has no timestamps. Turning it on clears earlier totals.
func (b *Backend) SetProfile(on bool) error {
	b.flush()
	if !on {
		b.releaseProfiler()
		return b.err
	}
	if b.d.timestampBits == 0 {
		return errors.New("vulkan: the device's compute queue has no timestamps")
	}
	if b.prof != nil {
		b.prof.totals = map[string]*OpTime{}
		return nil
	}
	var pool vk.QueryPool
	r := vk.CreateQueryPool(b.d.dev, &vk.QueryPoolCreateInfo{
		SType: vk.StructureTypeQueryPoolCreateInfo, QueryType: vk.QueryTypeTimestamp, QueryCount: 2 * profileSlots,
	}, nil, &pool)
	if err := vkErr("create timestamp query pool", r); err != nil {
		return err
	}
	b.prof = &profiler{pool: pool, totals: map[string]*OpTime{}}
	return nil
}

func (b *Backend) releaseProfiler() {
	if b.prof != nil {
		vk.DestroyQueryPool(b.d.dev, b.prof.pool, nil)
		b.prof = nil
	}
}

// Profile returns the GPU time per op kind since SetProfile(true), most
// time first (work not yet synced is not counted).
func (b *Backend) Profile() []OpTime {
	if b.prof == nil {
		return nil
	}
	var out []OpTime
	for _, t := range b.prof.totals {
		out = append(out, *t)
	}
	slices.SortFunc(out, func(x, y OpTime) int {
		return cmp.Or(cmp.Compare(y.Time, x.Time), strings.Compare(x.Kind, y.Kind))
	})
	return out
}

// ProfileTable formats Profile as a table for a terminal.
func (b *Backend) ProfileTable() string {
	ops := b.Profile()
	var total time.Duration
	for _, o := range ops {
		total += o.Time
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "%-28s %8s %12s %10s %6s\n", "op kind", "count", "GPU ms", "us/op", "share")
	for _, o := range ops {
		share := 0.0
		if total > 0 {
			share = 100 * float64(o.Time) / float64(total)
		}
		fmt.Fprintf(&sb, "%-28s %8d %12.3f %10.1f %5.1f%%\n", o.Kind, o.Count,
			float64(o.Time)/1e6, float64(o.Time)/1e3/float64(o.Count), share)
	}
	fmt.Fprintf(&sb, "%-28s %8s %12.3f\n", "total", "", float64(total)/1e6)
	return sb.String()
}

// profileSlots is the number of dispatches a batch can time: an op may
// record a few dispatches past maxBatchDispatches before the batch is
// submitted; any beyond the slots go untimed.
const profileSlots = maxBatchDispatches + 64

// profileBegin writes the timestamp before a dispatch of kind and reports
// whether it did (profileEnd must follow then).
func (b *Backend) profileBegin(kind string) bool {
	p := b.prof
	if p == nil || len(p.labels) >= profileSlots {
		return false
	}
	if len(p.labels) == 0 {
		vk.CmdResetQueryPool(b.cmd, p.pool, 0, 2*profileSlots)
	}
	vk.CmdWriteTimestamp(b.cmd, vk.PipelineStageTopOfPipeBit, p.pool, uint32(2*len(p.labels)))
	p.labels = append(p.labels, kind)
	return true
}

// profileEnd writes the timestamp after the dispatch.
func (b *Backend) profileEnd() {
	if p := b.prof; p != nil {
		vk.CmdWriteTimestamp(b.cmd, vk.PipelineStageBottomOfPipeBit, p.pool, uint32(2*len(p.labels)-1))
	}
}

// profileCollect reads the timestamps of a completed batch into the
// totals.
func (b *Backend) profileCollect() {
	p := b.prof
	if p == nil || len(p.labels) == 0 {
		return
	}
	n := 2 * len(p.labels)
	ts := make([]uint64, n)
	r := vk.GetQueryPoolResults(b.d.dev, p.pool, 0, uint32(n), uint(8*n), unsafe.Pointer(&ts[0]), 8,
		vk.QueryResultFlags(vk.QueryResult64Bit|vk.QueryResultWaitBit))
	if r == vk.Success {
		mask := ^uint64(0)
		if b.d.timestampBits < 64 {
			mask = 1<<b.d.timestampBits - 1
		}
		period := float64(b.d.limits.TimestampPeriod)
		for i, kind := range p.labels {
			t := p.totals[kind]
			if t == nil {
				t = &OpTime{Kind: kind}
				p.totals[kind] = t
			}
			t.Count++
			t.Time += time.Duration(float64((ts[2*i+1]-ts[2*i])&mask) * period)
		}
	}
	p.labels = p.labels[:0]
}
