package tools

import (
	"fmt"
	"strings"
)

// maxTagLen bounds how far back from a '>' a closing tag can start:
// "</" + 32-byte name.
const maxTagLen = 2 + 32

// Stream is the incremental form of Protocol.Parse for one trajectory: feed
// it generated text as it streams in and it reports the first complete call
// or answer, looking only at new bytes. Results go in through AppendResult,
// so text inside a result is never parsed as model output, even if a search
// passage happens to contain "</search>".
//
// A Stream is not safe for concurrent use.
type Stream struct {
	p        *Protocol
	buf      []byte
	segStart int // start of the model's current turn (after the last result)
	scanned  int // bytes already looked at for '>'
	calls    int // result blocks appended so far
	stopped  bool
}

// NewStream starts a trajectory; prompt text is not part of it.
func (p *Protocol) NewStream() *Stream { return &Stream{p: p} }

// Feed appends generated text and returns the first event it completes. On
// a non-None event the text after the closing tag is dropped, as a stop
// string would, and Feed refuses more text until AppendResult is called.
func (s *Stream) Feed(chunk string) Event {
	if s.stopped {
		panic("tools: Stream.Feed after an event without AppendResult")
	}
	from := s.scanned
	s.buf = append(s.buf, chunk...)
	for j := from; j < len(s.buf); j++ {
		if s.buf[j] != '>' {
			continue
		}
		lo := max(s.segStart, j-maxTagLen)
		k := strings.LastIndex(string(s.buf[lo:j]), "</")
		if k < 0 {
			continue
		}
		open := lo + k
		seg := string(s.buf[s.segStart : j+1])
		ev := s.p.closing(seg, open-s.segStart, string(s.buf[open+2:j]), s.calls)
		if ev.Kind == None {
			continue
		}
		ev.End = j + 1
		s.buf = s.buf[:j+1]
		s.scanned = len(s.buf)
		if ev.Kind != Answer {
			s.stopped = true
		}
		return ev
	}
	s.scanned = len(s.buf)
	return Event{Kind: None}
}

// AppendResult inserts an already formatted result (see FormatResult) after
// a Call or Invalid event and counts it against the call limit.
func (s *Stream) AppendResult(formatted string) {
	if !s.stopped {
		panic("tools: Stream.AppendResult without a pending call")
	}
	s.buf = append(s.buf, formatted...)
	s.segStart = len(s.buf)
	s.scanned = len(s.buf)
	s.calls++
	s.stopped = false
}

// Finish reports what the text ends in once generation has stopped for good:
// as Feed, plus Unclosed for a tool tag that was opened and never closed.
func (s *Stream) Finish() Event {
	if s.stopped {
		return Event{Kind: None}
	}
	seg := string(s.buf[s.segStart:])
	if tag, at := lastOpenTool(s.p, seg, len(seg), ""); at >= 0 {
		return invalid(tag, Unclosed, fmt.Sprintf("<%s> was opened but never closed; write </%s> after the %s.", tag, tag, argWord(tag)))
	}
	return Event{Kind: None}
}

// Clone returns an independent copy of the stream in its current state, for
// a rollout branch that continues from here.
func (s *Stream) Clone() *Stream {
	c := *s
	c.buf = append([]byte(nil), s.buf...)
	return &c
}

// Text is everything so far: generated text and inserted results.
func (s *Stream) Text() string { return string(s.buf) }

// Calls is the number of results appended so far.
func (s *Stream) Calls() int { return s.calls }
