package tokenizer

import "unicode/utf8"

// StreamDecoder decodes generated ids one at a time. A token may end in the
// middle of a UTF-8 character (byte-level BPE splits emoji and CJK across
// tokens), so it holds back a trailing incomplete character until the bytes
// that complete it arrive. Everything it returns, followed by Flush,
// concatenates to exactly Decode of all the ids.
type StreamDecoder struct {
	t       *Tokenizer
	pending []byte
}

// NewStreamDecoder returns a decoder with nothing pending.
func (t *Tokenizer) NewStreamDecoder() *StreamDecoder { return &StreamDecoder{t: t} }

// Add appends the token id and returns the text it completes (possibly "").
func (d *StreamDecoder) Add(id int) string {
	d.pending = d.t.AppendDecode(d.pending, []int{id})
	n := completePrefix(d.pending)
	out := string(d.pending[:n])
	d.pending = append(d.pending[:0], d.pending[n:]...)
	return out
}

// Flush returns the held-back bytes (an incomplete character at the end of
// generation) and resets the decoder.
func (d *StreamDecoder) Flush() string {
	out := string(d.pending)
	d.pending = d.pending[:0]
	return out
}

// completePrefix returns the length of b without a trailing partial UTF-8
// character: a lead byte followed by fewer continuation bytes than it needs.
// Invalid bytes are complete: no later byte can make them valid.
func completePrefix(b []byte) int {
	// A character is at most 4 bytes, so only the last 3 can start one
	// that is still incomplete.
	for i := len(b) - 1; i >= 0 && i >= len(b)-3; i-- {
		c := b[i]
		if c < utf8.RuneSelf {
			return len(b)
		}
		if utf8.RuneStart(c) {
			if !utf8.FullRune(b[i:]) {
				return i
			}
			return len(b)
		}
	}
	return len(b)
}
