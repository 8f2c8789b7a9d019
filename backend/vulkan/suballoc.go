package vulkan

// This file holds the free list of the sub-allocator (memory.go): pure Go,
// no cgo or build tag, so its rules are tested by every `go test`.

// freeRange is a free byte range [off, off+size) of a block.
type freeRange struct{ off, size uint64 }

// rangeAlloc hands out byte ranges of one block of size bytes. Free
// ranges are kept sorted by offset and coalesced, so a freed neighbour
// merges back and the block ends as one range when everything is freed.
type rangeAlloc struct {
	size uint64
	used uint64
	free []freeRange
}

func newRangeAlloc(size uint64) *rangeAlloc {
	return &rangeAlloc{size: size, free: []freeRange{{0, size}}}
}

// alloc returns the offset of size bytes aligned to align (a power of
// two), taken from the smallest free range that holds them (best fit keeps
// large ranges whole for large buffers), or false when none does.
func (r *rangeAlloc) alloc(size, align uint64) (uint64, bool) {
	best := -1
	for i, f := range r.free {
		start := (f.off + align - 1) &^ (align - 1)
		if start+size > f.off+f.size {
			continue
		}
		if best < 0 || f.size < r.free[best].size {
			best = i
		}
	}
	if best < 0 {
		return 0, false
	}
	f := r.free[best]
	start := (f.off + align - 1) &^ (align - 1)
	var keep []freeRange
	if start > f.off {
		keep = append(keep, freeRange{f.off, start - f.off})
	}
	if end := start + size; end < f.off+f.size {
		keep = append(keep, freeRange{end, f.off + f.size - end})
	}
	r.free = append(r.free[:best], append(keep, r.free[best+1:]...)...)
	r.used += size
	return start, true
}

// release returns [off, off+size) to the free list, merging it with the
// free ranges it touches. Releasing a range that is not allocated is a
// programming error.
func (r *rangeAlloc) release(off, size uint64) {
	i := 0
	for i < len(r.free) && r.free[i].off < off {
		i++
	}
	if (i > 0 && r.free[i-1].off+r.free[i-1].size > off) || (i < len(r.free) && off+size > r.free[i].off) || off+size > r.size {
		panic("vulkan: release of a range that is not allocated")
	}
	r.used -= size
	mergePrev := i > 0 && r.free[i-1].off+r.free[i-1].size == off
	mergeNext := i < len(r.free) && off+size == r.free[i].off
	switch {
	case mergePrev && mergeNext:
		r.free[i-1].size += size + r.free[i].size
		r.free = append(r.free[:i], r.free[i+1:]...)
	case mergePrev:
		r.free[i-1].size += size
	case mergeNext:
		r.free[i].off, r.free[i].size = off, r.free[i].size+size
	default:
		r.free = append(r.free[:i], append([]freeRange{{off, size}}, r.free[i:]...)...)
	}
}

// empty reports whether nothing of the block is allocated.
func (r *rangeAlloc) empty() bool { return r.used == 0 }
