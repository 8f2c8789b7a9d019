package tokenizer

import (
	"runtime"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLongPieceLinear: one pre-token piece of megabytes (a word without a
// space) is merged in MaxPiece chunks, with memory a small multiple of the
// input. Merged whole, an 8 MB word allocated over 100x its size (issue
// 20: 50 MB took 90 s and 5.9 GB).
func TestLongPieceLinear(t *testing.T) {
	tok, err := Train([]string{strings.Repeat("abcab ", 50), "banana cabana"}, 300, nil)
	require.NoError(t, err)
	word := strings.Repeat("abcabé", 8<<20/7) // ~8 MB, one piece, 2-byte runes to cut around

	runtime.GC()
	base := liveHeap()
	var peak atomic.Uint64
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() { // sample the live heap while Encode runs
		defer close(sampled)
		for {
			peak.Store(max(peak.Load(), liveHeap()))
			select {
			case <-done:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	ids := tok.Encode(word)
	close(done)
	<-sampled
	perByte := float64(peak.Load()-min(base, peak.Load())) / float64(len(word))
	t.Logf("%d bytes -> %d ids, peak live heap %.1f bytes per input byte", len(word), len(ids), perByte)
	// The ids ([]int, 8 bytes each, grown by doubling) dominate; merging
	// the word whole held the candidate heap of every byte at once (~60).
	assert.Less(t, perByte, 30.0, "peak live heap per input byte")
	assert.Equal(t, word, tok.Decode(ids), "the chunks decode to the input")

	// Within a chunk the ids are the whole-word merge's: a piece at the cap
	// encodes as before.
	short := word[:MaxPiece-MaxPiece%7]
	assert.Equal(t, tok.model.appendWord(nil, short), tok.Encode(short))
}

func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
