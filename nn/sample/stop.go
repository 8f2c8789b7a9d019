package sample

import "strings"

// StopMatcher finds stop strings (e.g. "</search>", "</answer>") in text
// that arrives in pieces, one decoded token at a time, including stop
// strings split across tokens.
type StopMatcher struct {
	stops []string
	keep  int    // longest stop minus one: the tail that can start a match
	tail  string // the last keep bytes seen
}

// NewStopMatcher returns a matcher for stops; empty strings are ignored.
func NewStopMatcher(stops []string) *StopMatcher {
	m := &StopMatcher{}
	for _, s := range stops {
		if s == "" {
			continue
		}
		m.stops = append(m.stops, s)
		m.keep = max(m.keep, len(s)-1)
	}
	return m
}

// Clone returns an independent copy in the same state (for a forked sequence).
func (m *StopMatcher) Clone() *StopMatcher {
	c := *m
	return &c
}

// Feed appends text and reports the first stop string that now ends inside
// it: which one, and how many bytes of text come after the match's end (the
// caller may drop them). ok is false when no stop string completed.
func (m *StopMatcher) Feed(text string) (stop string, after int, ok bool) {
	if len(m.stops) == 0 || text == "" {
		return "", 0, false
	}
	buf := m.tail + text
	best := -1
	for _, s := range m.stops {
		// Only a match that ends inside the new text is new.
		i := strings.Index(buf, s)
		for i >= 0 && i+len(s) <= len(m.tail) {
			j := strings.Index(buf[i+1:], s)
			if j < 0 {
				i = -1
				break
			}
			i += 1 + j
		}
		if i >= 0 {
			end := i + len(s)
			if best < 0 || end < best || (end == best && len(s) > len(stop)) {
				best, stop = end, s
			}
		}
	}
	if len(buf) > m.keep {
		m.tail = buf[len(buf)-m.keep:]
	} else {
		m.tail = buf
	}
	if best < 0 {
		return "", 0, false
	}
	return stop, len(buf) - best, true
}
