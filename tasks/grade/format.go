package grade

import (
	"errors"
	"fmt"
	"strings"
)

// ToolTags are the tool-call tags of the turn format; each call must be
// followed by a <result> block.
var ToolTags = []string{"search", "python"}

// Format is what CheckFormat found in a response.
type Format struct {
	Answer string         // the extracted final answer (\boxed content when present)
	Calls  map[string]int // tool calls by tag, e.g. {"search": 2, "python": 1}
	Err    error          // nil when the format is valid
}

// Valid reports whether the response passed every format check.
func (f Format) Valid() bool { return f.Err == nil }

// ErrFormat wraps every format violation, so callers can test with errors.Is.
var ErrFormat = errors.New("invalid format")

func formatErr(msg string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(msg, args...))
}

// CheckFormat checks a response (everything after the prompt: model text and
// inserted results) against the ARPO turn format: <think> tags balanced and
// not nested, every tool call closed and followed (after white space) by its
// <result>...</result>, no result without a call, exactly one
// <answer>...</answer>, and a non-empty answer. Text inside a result, a tool
// call or the answer is not scanned for tags: a search result may quote any
// text. The answer is the content of the last \boxed{} inside <answer> when
// there is one, else the whole trimmed content.
func CheckFormat(response string) Format {
	f := Format{Calls: map[string]int{}}
	s := response
	inThink, answers := false, 0
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			break
		}
		s = s[i:]
		tag, ok := leadingTag(s)
		if !ok {
			s = s[1:]
			continue
		}
		s = s[len(tag)+2:]
		switch {
		case tag == "think":
			if inThink {
				f.Err = formatErr("nested <think>")
				return f
			}
			inThink = true
		case tag == "/think":
			if !inThink {
				f.Err = formatErr("</think> without <think>")
				return f
			}
			inThink = false
		case tag == "answer":
			body, rest, ok := cutClose(s, "answer")
			if !ok {
				f.Err = formatErr("<answer> not closed")
				return f
			}
			answers++
			f.Answer = extractAnswer(body)
			s = rest
		case tag == "result":
			f.Err = formatErr("<result> without a tool call")
			return f
		case isToolTag(tag):
			_, rest, ok := cutClose(s, tag)
			if !ok {
				f.Err = formatErr("<%s> not closed", tag)
				return f
			}
			f.Calls[tag]++
			rest = strings.TrimLeft(rest, " \t\r\n")
			if !strings.HasPrefix(rest, "<result>") {
				f.Err = formatErr("<%s> call without its result", tag)
				return f
			}
			_, rest, ok = cutClose(rest[len("<result>"):], "result")
			if !ok {
				f.Err = formatErr("<result> not closed")
				return f
			}
			s = rest
		case tag == "/answer" || tag == "/result" || (tag[0] == '/' && isToolTag(tag[1:])):
			f.Err = formatErr("stray <%s>", tag)
			return f
		}
	}
	switch {
	case inThink:
		f.Err = formatErr("<think> not closed")
	case answers != 1:
		f.Err = formatErr("%d <answer> blocks, want exactly 1", answers)
	case f.Answer == "":
		f.Err = formatErr("empty answer")
	}
	return f
}

// leadingTag returns the name inside a "<name>" at the start of s, for the
// tags of the turn format only; other uses of "<" (x < y) are text.
func leadingTag(s string) (string, bool) {
	end := strings.IndexByte(s, '>')
	if end < 0 {
		return "", false
	}
	tag := s[1:end]
	name := strings.TrimPrefix(tag, "/")
	if name == "think" || name == "answer" || name == "result" || isToolTag(name) {
		return tag, true
	}
	return "", false
}

func isToolTag(name string) bool {
	for _, t := range ToolTags {
		if name == t {
			return true
		}
	}
	return false
}

// cutClose splits s at the first "</tag>": body before it, rest after it.
func cutClose(s, tag string) (body, rest string, ok bool) {
	closeTag := "</" + tag + ">"
	i := strings.Index(s, closeTag)
	if i < 0 {
		return "", "", false
	}
	return s[:i], s[i+len(closeTag):], true
}

func extractAnswer(body string) string {
	if b, ok := ExtractBoxed(body); ok {
		return strings.TrimSpace(b)
	}
	return strings.TrimSpace(body)
}
