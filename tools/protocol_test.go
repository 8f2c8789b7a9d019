package tools

import (
	"math/rand"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var proto = &Protocol{Tools: []string{"search", "python"}, MaxCalls: 2}

var parseCases = []struct {
	name    string
	text    string
	kind    Kind
	tag     string
	arg     string
	problem Problem
}{
	{"nothing", "<think> let me think", None, "", "", NoProblem},
	{"empty text", "", None, "", "", NoProblem},
	{"think closed", "<think> hmm </think>", None, "", "", NoProblem},
	{"search", "<think>x</think>\n<search> capital of France </search>", Call, "search", "capital of France", NoProblem},
	{"trailing space", "<search>q</search>\n ", Call, "search", "q", NoProblem},
	{"python multiline", "<python>\nx = 2\nprint(x**2)\n</python>", Call, "python", "x = 2\nprint(x**2)", NoProblem},
	{"last opening wins", "<search> a <search> b </search>", Call, "search", "b", NoProblem},
	{"after result", "<search>a</search><result>\nr\n</result>\n<search> b </search>", Call, "search", "b", NoProblem},
	{"answer", "<think>x</think><answer> \\boxed{4} </answer>", Answer, "answer", "\\boxed{4}", NoProblem},
	{"empty call", "<search>   </search>", Invalid, "search", "", EmptyCall},
	{"empty answer", "<answer></answer>", Invalid, "answer", "", EmptyAnswer},
	{"unopened", "I will search </search>", Invalid, "search", "", Unopened},
	{"unopened answer", "42 </answer>", Invalid, "answer", "", Unopened},
	{"nested inside", "<python> x <search> q </python>", Invalid, "python", "", Nested},
	{"nested outside", "<search> a <python> print(1) </python>", Invalid, "python", "", Nested},
	{"unknown tag", "<browse> example.com </browse>", Invalid, "browse", "", UnknownTag},
	{"html in reasoning", "<think> use a </b> tag", None, "", "", NoProblem},
	{"not a tag name", "if a </ b> c", None, "", "", NoProblem},
	{"limit", "<search>a</search><result>\nr\n</result>\n<python>1</python><result>\n1\n</result>\n<search> c </search>", Invalid, "search", "", LimitReached},
	{"under limit", "<search>a</search><result>\nr\n</result>\n<search> c </search>", Call, "search", "c", NoProblem},
	{"result text ignored", "<search>a</search><result>\n<search>x</search>\n</result>\n", None, "", "", NoProblem},
}

func TestParse(t *testing.T) {
	for _, c := range parseCases {
		t.Run(c.name, func(t *testing.T) {
			ev := proto.Parse(c.text)
			assert.Equal(t, c.kind, ev.Kind)
			assert.Equal(t, c.problem, ev.Problem)
			if c.kind != None {
				assert.Equal(t, c.tag, ev.Tag)
				assert.Equal(t, c.arg, ev.Arg)
				assert.Equal(t, len(strings.TrimRight(c.text, " \n")), ev.End)
			}
			if ev.Kind == Invalid {
				assert.NotEmpty(t, ev.Message)
			}
		})
	}
}

func TestFinishUnclosed(t *testing.T) {
	ev := proto.Finish("<python> print(1)")
	require.Equal(t, Invalid, ev.Kind)
	assert.Equal(t, Unclosed, ev.Problem)
	assert.Equal(t, "python", ev.Tag)
	assert.Contains(t, ev.Message, "</python>")
	assert.Equal(t, None, proto.Finish("<think> done </think> no tags").Kind)

	s := proto.NewStream()
	require.Equal(t, None, s.Feed("<search> where").Kind)
	assert.Equal(t, Unclosed, s.Finish().Problem)
}

// TestStreamMatchesParse feeds each case in random chunks: the stream must
// find the same event as Parse on the whole text.
func TestStreamMatchesParse(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, c := range parseCases {
		if strings.Contains(c.text, "<result>") {
			continue // results go in through AppendResult, tested below
		}
		for trial := 0; trial < 20; trial++ {
			s := proto.NewStream()
			var ev Event
			rest := c.text
			for rest != "" && ev.Kind == None {
				n := 1 + rng.Intn(len(rest))
				ev = s.Feed(rest[:n])
				rest = rest[n:]
			}
			want := proto.Parse(c.text)
			assert.Equal(t, want.Kind, ev.Kind, c.name)
			assert.Equal(t, want.Arg, ev.Arg, c.name)
			assert.Equal(t, want.Problem, ev.Problem, c.name)
		}
	}
}

func TestStreamTurns(t *testing.T) {
	s := proto.NewStream()
	ev := s.Feed("<think>x</think><search> q1 </search> and some overshoot")
	require.Equal(t, Call, ev.Kind)
	assert.Equal(t, "q1", ev.Arg)
	assert.Equal(t, "<think>x</think><search> q1 </search>", s.Text(), "text after the stop tag is dropped")
	assert.Panics(t, func() { s.Feed("more") })

	// A result containing tags is not parsed as model output.
	s.AppendResult(FormatResult("passage with </search> inside", 0))
	require.Equal(t, None, s.Feed("<python>print(1)").Kind)
	require.Equal(t, Call, s.Feed("</python>").Kind)
	s.AppendResult(FormatResult("1", 0))
	assert.Equal(t, 2, s.Calls())

	ev = s.Feed("<search> third </search>")
	require.Equal(t, Invalid, ev.Kind)
	assert.Equal(t, LimitReached, ev.Problem)
	s.AppendResult(FormatResult(ev.Message, 0))

	ev = s.Feed("<answer> Paris </answer>")
	assert.Equal(t, Answer, ev.Kind)
	assert.Equal(t, "Paris", ev.Arg)
	// The whole text parses the same way.
	assert.Equal(t, Answer, proto.Parse(s.Text()).Kind)
}

func TestFormatResult(t *testing.T) {
	assert.Equal(t, "<result>\nabc\n</result>\n", FormatResult("abc", 0))
	assert.Equal(t, "<result>\nabc\n</result>\n", FormatResult("abc\n\n", 3))
	got := FormatResult("abcdef", 4)
	assert.True(t, strings.HasPrefix(got, "<result>\nabcd\n[output truncated: 4 of 6 bytes shown]"), got)
	// Never cut inside a UTF-8 sequence.
	got = Truncate("aé", 2)
	assert.True(t, strings.HasPrefix(got, "a\n[output truncated"), got)
}

// FuzzParse: arbitrary text, whole or streamed, never panics, and every
// Invalid event carries a message and an offset inside the text.
func FuzzParse(f *testing.F) {
	for _, c := range parseCases {
		f.Add(c.text, uint8(3))
	}
	f.Add("<python> x </python> <search></search></answer><answer>", uint8(1))
	f.Add("</\xff><search>\x00</search>", uint8(7))
	f.Fuzz(func(t *testing.T, text string, step uint8) {
		check := func(ev Event, text string) {
			if ev.Kind == Invalid && ev.Message == "" {
				t.Fatalf("invalid event without message: %+v", ev)
			}
			if ev.End < 0 || ev.End > len(text) {
				t.Fatalf("end %d outside text of %d bytes", ev.End, len(text))
			}
		}
		check(proto.Parse(text), text)
		check(proto.Finish(text), text)
		s := proto.NewStream()
		n := int(step%16) + 1
		for i := 0; i < len(text); i += n {
			ev := s.Feed(text[i:min(i+n, len(text))])
			check(ev, s.Text())
			if ev.Kind == Call || ev.Kind == Invalid {
				s.AppendResult(FormatResult("r", 8))
			}
		}
		s.Finish()
	})
}
