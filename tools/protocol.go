package tools

import (
	"fmt"
	"strings"
)

// Kind says what a piece of generated text ends in.
type Kind int

const (
	// None: no complete call or answer yet; keep generating.
	None Kind = iota
	// Call: a complete, well-formed tool call; run Event.Tag with Event.Arg.
	Call
	// Answer: a final answer; the trajectory is done.
	Answer
	// Invalid: a call-like ending that cannot be run (empty, unclosed,
	// nested, unknown tag, over the call limit). Event.Message is the text to
	// insert as the result so the model learns what went wrong.
	Invalid
)

func (k Kind) String() string {
	switch k {
	case None:
		return "none"
	case Call:
		return "call"
	case Answer:
		return "answer"
	case Invalid:
		return "invalid"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Problem names why an Invalid event could not be run; counters and tests
// key on it, the model reads Event.Message.
type Problem string

const (
	NoProblem    Problem = ""
	EmptyCall    Problem = "empty"     // <search>  </search>
	Unopened     Problem = "unopened"  // </search> with no <search> before it
	Unclosed     Problem = "unclosed"  // <python> … and the text ended
	Nested       Problem = "nested"    // <search> … <python> … </python>
	UnknownTag   Problem = "unknown"   // <browse> … </browse> with no such tool
	LimitReached Problem = "limit"     // a call after the trajectory's call limit
	EmptyAnswer  Problem = "empty-ans" // <answer> </answer>
)

// Event is the outcome of looking at generated text.
type Event struct {
	Kind    Kind
	Tag     string  // tool tag ("search", "python") for Call and most Invalid events
	Arg     string  // the call's argument or the answer, trimmed of surrounding space
	Problem Problem // why an Invalid event is invalid
	Message string  // for Invalid: the result text the model should see
	End     int     // byte offset just past the closing tag; text after it is not part of the turn
}

// Protocol holds what the parser needs to know: which tags are tools and how
// many calls a trajectory may make.
type Protocol struct {
	Tools    []string // tool tags, e.g. {"search", "python"}
	MaxCalls int      // e.g. 3 for reasoning, 6 for deep search; 0 means no limit
}

// structural tags are part of the turn format but never tool calls.
var structural = map[string]bool{"think": true, "result": true, "answer": true}

func (p *Protocol) isTool(name string) bool {
	for _, t := range p.Tools {
		if t == name {
			return true
		}
	}
	return false
}

// Parse looks at the whole text generated so far (results included, as
// inserted by FormatResult) and says whether it ends in a complete call, an
// answer, or neither. Trailing white space after the closing tag is allowed
// because a stop string may be cut mid-token. The number of calls made so far
// is the number of result blocks, which is how the limit is enforced.
func (p *Protocol) Parse(text string) Event {
	start, calls := lastSegment(text)
	seg := text[start:]
	end := len(strings.TrimRight(seg, " \t\r\n"))
	if end == 0 || seg[end-1] != '>' {
		return Event{Kind: None}
	}
	open := strings.LastIndex(seg[:end], "</")
	if open < 0 {
		return Event{Kind: None}
	}
	name := seg[open+2 : end-1]
	ev := p.closing(seg, open, name, calls)
	if ev.Kind != None {
		ev.End = start + end
	}
	return ev
}

// Finish is Parse for text that has stopped for good (end of sequence or the
// token budget): an open tool tag that never closed is reported as Unclosed
// rather than None.
func (p *Protocol) Finish(text string) Event {
	ev := p.Parse(text)
	if ev.Kind != None {
		return ev
	}
	start, _ := lastSegment(text)
	seg := text[start:]
	if tag, at := lastOpenTool(p, seg, len(seg), ""); at >= 0 {
		return invalid(tag, Unclosed, fmt.Sprintf("<%s> was opened but never closed; write </%s> after the %s.", tag, tag, argWord(tag)))
	}
	return ev
}

// lastSegment returns where the text after the last inserted result starts,
// and how many results (hence calls) came before it.
func lastSegment(text string) (start, calls int) {
	const closeRes = "</result>"
	calls = strings.Count(text, "<result>")
	if i := strings.LastIndex(text, closeRes); i >= 0 {
		start = i + len(closeRes)
	}
	return start, calls
}

// closing classifies the closing tag </name> that starts at seg[open:].
func (p *Protocol) closing(seg string, open int, name string, calls int) Event {
	if !isTagName(name) {
		return Event{Kind: None}
	}
	body := seg[:open]
	opener := "<" + name + ">"
	switch {
	case name == "answer":
		i := strings.LastIndex(body, opener)
		if i < 0 {
			return invalid(name, Unopened, "</answer> without <answer>; write <answer> your answer </answer>.")
		}
		arg := strings.TrimSpace(body[i+len(opener):])
		if arg == "" {
			return invalid(name, EmptyAnswer, "The answer is empty; write it between <answer> and </answer>.")
		}
		return Event{Kind: Answer, Tag: name, Arg: arg}
	case structural[name]:
		return Event{Kind: None}
	case !p.isTool(name):
		// Only a tag the model opened too is taken as a call attempt, so that
		// HTML-like text in reasoning (</b>) does not stop generation.
		if !strings.Contains(body, opener) {
			return Event{Kind: None}
		}
		return invalid(name, UnknownTag, fmt.Sprintf("Unknown tool <%s>. Available tools: %s.", name, p.toolList()))
	}
	i := strings.LastIndex(body, opener)
	if i < 0 {
		return invalid(name, Unopened, fmt.Sprintf("</%s> without <%s>; write <%s> %s </%s>.", name, name, name, argWord(name), name))
	}
	arg := body[i+len(opener):]
	if other, at := lastOpenTool(p, arg, len(arg), ""); at >= 0 {
		return invalid(name, Nested, fmt.Sprintf("<%s> inside <%s>: tool calls cannot be nested; make one call at a time.", other, name))
	}
	if other, at := lastOpenTool(p, body[:i], i, name); at >= 0 {
		return invalid(name, Nested, fmt.Sprintf("<%s> inside an unclosed <%s>: tool calls cannot be nested; make one call at a time.", name, other))
	}
	if p.MaxCalls > 0 && calls >= p.MaxCalls {
		return invalid(name, LimitReached, fmt.Sprintf("Tool call limit reached (%d calls); no more tools can be used. Give your final answer in <answer> </answer>.", p.MaxCalls))
	}
	arg = strings.TrimSpace(arg)
	if arg == "" {
		return invalid(name, EmptyCall, fmt.Sprintf("Empty %s: put the %s between <%s> and </%s>.", name, argWord(name), name, name))
	}
	return Event{Kind: Call, Tag: name, Arg: arg}
}

// lastOpenTool finds the last tool opening tag in s[:end] that has no
// matching closing tag after it, skipping the tag except; at is -1 when
// there is none.
func lastOpenTool(p *Protocol, s string, end int, except string) (tag string, at int) {
	at = -1
	for _, t := range p.Tools {
		if t == except {
			continue // the same tag opened twice: the last opening wins
		}
		i := strings.LastIndex(s[:end], "<"+t+">")
		if i > at && !strings.Contains(s[i:end], "</"+t+">") {
			tag, at = t, i
		}
	}
	return tag, at
}

func (p *Protocol) toolList() string {
	if len(p.Tools) == 0 {
		return "none"
	}
	return strings.Join(p.Tools, ", ")
}

func argWord(tag string) string {
	switch tag {
	case "search":
		return "query"
	case "python":
		return "code"
	}
	return "argument"
}

func invalid(tag string, pr Problem, msg string) Event {
	return Event{Kind: Invalid, Tag: tag, Problem: pr, Message: msg}
}

// isTagName accepts the names a model would plausibly use as tags: short
// ASCII identifiers. Anything else after "</" is ordinary text.
func isTagName(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '-' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
