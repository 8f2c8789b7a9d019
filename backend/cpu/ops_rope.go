package cpu

import (
	"fmt"
	"math"
	"sync"

	"github.com/goarpo/arpo/backend"
)

// ropeCachedPositions bounds the cos/sin tables kept per (headDim, rope):
// positions beyond it are computed per call rather than cached, so a stray
// huge position cannot allocate gigabytes.
const ropeCachedPositions = 1 << 17

type ropeKey struct {
	headDim int
	rope    backend.RoPEParams
}

// ropeTable holds cos and sin of pos*invFreq[j], each (n, headDim/2). A
// table is never modified once published; growing replaces it.
type ropeTable struct {
	n        int
	cos, sin []float32
}

// ropeCache is shared by every CPU backend: the tables are pure functions
// of (headDim, rope), so sharing them is safe and saves memory.
var ropeCache struct {
	sync.Mutex
	tables map[ropeKey]*ropeTable
}

// ropeAngles writes cos and sin of p*invFreq[j], computed in float64 and
// rounded once.
func ropeAngles(cos, sin []float32, p int, invFreq []float64) {
	for j, f := range invFreq {
		s, c := math.Sincos(float64(p) * f)
		cos[j], sin[j] = float32(c), float32(s)
	}
}

// ropeTablesFor returns a table that covers positions [0, need), need <=
// ropeCachedPositions.
func ropeTablesFor(headDim int, rope backend.RoPEParams, need int) *ropeTable {
	key := ropeKey{headDim, rope}
	ropeCache.Lock()
	defer ropeCache.Unlock()
	t := ropeCache.tables[key]
	if t != nil && t.n >= need {
		return t
	}
	n := max(need, 1024)
	if t != nil {
		n = max(n, 2*t.n)
	}
	n = min(n, ropeCachedPositions)
	half := headDim / 2
	nt := &ropeTable{n: n, cos: make([]float32, n*half), sin: make([]float32, n*half)}
	invFreq := rope.InvFreq(headDim)
	for p := 0; p < n; p++ {
		ropeAngles(nt.cos[p*half:(p+1)*half], nt.sin[p*half:(p+1)*half], p, invFreq)
	}
	if ropeCache.tables == nil {
		ropeCache.tables = map[ropeKey]*ropeTable{}
	}
	ropeCache.tables[key] = nt
	return nt
}

// RoPE implements backend.Backend; x is (len(pos), heads*headDim).
func (c *CPU) RoPE(x backend.View, pos []int32, heads, headDim int, rope backend.RoPEParams) {
	c.rope(x, pos, heads, headDim, rope, 1)
}

// RoPEBackward implements backend.Backend: the transpose of a rotation is
// the rotation by the opposite angle.
func (c *CPU) RoPEBackward(dx backend.View, pos []int32, heads, headDim int, rope backend.RoPEParams) {
	c.rope(dx, pos, heads, headDim, rope, -1)
}

// rope rotates every head of every row of x (len(pos), heads*headDim) by
// sign*angle: pairs (j, j+headDim/2) become
// (x1*cos - x2*sin, x2*cos + x1*sin) with sin negated for sign -1.
func (c *CPU) rope(x backend.View, pos []int32, heads, headDim int, rope backend.RoPEParams, sign float32) {
	if len(pos) == 0 || heads <= 0 {
		return
	}
	if headDim <= 0 || headDim%2 != 0 {
		panic(fmt.Sprintf("cpu: RoPE head dimension %d must be even and positive", headDim))
	}
	if err := rope.Validate(); err != nil {
		panic("cpu: " + err.Error())
	}
	maxPos := 0
	for i, p := range pos {
		if p < 0 {
			panic(fmt.Sprintf("cpu: RoPE position %d at row %d is negative", p, i))
		}
		maxPos = max(maxPos, int(p))
	}
	tab := ropeTablesFor(headDim, rope, min(maxPos+1, ropeCachedPositions))
	half, cols := headDim/2, heads*headDim
	xs := slice(x, len(pos)*cols)
	c.pool.chunks(len(pos), rowGrain(cols), func(lo, hi int) {
		var cosBuf, sinBuf []float32
		var invFreq []float64
		for i := lo; i < hi; i++ {
			p := int(pos[i])
			var cs, sn []float32
			if p < tab.n {
				cs, sn = tab.cos[p*half:(p+1)*half], tab.sin[p*half:(p+1)*half]
			} else {
				if cosBuf == nil {
					cosBuf, sinBuf = make([]float32, half), make([]float32, half)
					invFreq = rope.InvFreq(headDim)
				}
				ropeAngles(cosBuf, sinBuf, p, invFreq)
				cs, sn = cosBuf, sinBuf
			}
			row := xs[i*cols : (i+1)*cols]
			for h := 0; h < heads; h++ {
				x1 := row[h*headDim : h*headDim+half]
				x2 := row[h*headDim+half : (h+1)*headDim]
				for j, cv := range cs {
					sv := sign * sn[j]
					a, b := x1[j], x2[j]
					x1[j] = a*cv - b*sv
					x2[j] = b*cv + a*sv
				}
			}
		}
	})
}
