package rl

import (
	"strings"

	"github.com/goarpo/arpo/nn/tokenizer"
)

// Tokenizer is what rollouts and trainers need of a tokenizer. Policy text
// and tool results are encoded differently: the policy's text may hold the
// turn format's tags, a tool's output never does, so that a search passage
// or a program's output cannot inject "</result>" or "<answer>".
type Tokenizer interface {
	// Encode returns the ids of policy text, tags included.
	Encode(text string) []int32
	// EncodeResult returns the ids of a formatted result block
	// "<result>\n...\n</result>\n": the tags as tags, the output as plain text.
	EncodeResult(block string) []int32
	// TokenText returns the bytes of one token.
	TokenText(id int32) string
}

// BPE adapts a tokenizer of package nn/tokenizer.
type BPE struct{ T *tokenizer.Tokenizer }

// Encode implements Tokenizer.
func (b BPE) Encode(text string) []int32 { return ids32(b.T.Encode(text)) }

// EncodeResult implements Tokenizer.
func (b BPE) EncodeResult(block string) []int32 {
	const open, closeTag = "<result>", "</result>"
	inner, ok := strings.CutPrefix(block, open)
	tail := ""
	if ok {
		if i := strings.LastIndex(inner, closeTag); i >= 0 {
			inner, tail = inner[:i], inner[i+len(closeTag):]
		} else {
			ok = false
		}
	}
	if !ok { // not a result block: all of it is plain text
		return ids32(b.T.EncodeOrdinary(block))
	}
	out := b.T.Encode(open)
	out = append(out, b.T.EncodeOrdinary(inner)...)
	out = append(out, b.T.Encode(closeTag)...)
	out = append(out, b.T.EncodeOrdinary(tail)...)
	return ids32(out)
}

// TokenText implements Tokenizer.
func (b BPE) TokenText(id int32) string {
	s, _ := b.T.DecodeToken(int(id))
	return s
}

func ids32(ids []int) []int32 {
	out := make([]int32, len(ids))
	for i, v := range ids {
		out[i] = int32(v)
	}
	return out
}
