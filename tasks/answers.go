package tasks

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// decodeAnswers reads a gold-answer field: a string, a number, a list of
// strings or numbers, or a string holding a Python (or JSON) list literal
// such as "['Paris', 'City of Paris']".
func decodeAnswers(raw json.RawMessage) ([]string, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	return answersOf(v)
}

func answersOf(v any) ([]string, error) {
	switch x := v.(type) {
	case string:
		t := strings.TrimSpace(x)
		if strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]") {
			if list, err := ParsePythonList(t); err == nil {
				return list, nil
			}
		}
		return []string{x}, nil
	case json.Number:
		return []string{x.String()}, nil
	case float64:
		return []string{strconv.FormatFloat(x, 'f', -1, 64)}, nil
	case bool:
		return []string{strconv.FormatBool(x)}, nil
	case []any:
		var out []string
		for _, e := range x {
			a, err := answersOf(e)
			if err != nil {
				return nil, err
			}
			out = append(out, a...)
		}
		return out, nil
	case map[string]any:
		// verl's reward_model: {"ground_truth": ..., "style": ...}
		if gt, ok := x["ground_truth"]; ok {
			return answersOf(gt)
		}
		if t, ok := x["target"]; ok {
			return answersOf(t)
		}
	}
	return nil, fmt.Errorf("unsupported answer value %T", v)
}

// ParsePythonList parses a Python list or tuple literal of strings and
// numbers, e.g. `['a', "b's", 3]`, as written by str(list) in Python.
func ParsePythonList(s string) ([]string, error) {
	p := pyParser{s: strings.TrimSpace(s)}
	out, err := p.list()
	if err != nil {
		return nil, fmt.Errorf("python list %.40q: %w", s, err)
	}
	p.space()
	if p.i != len(p.s) {
		return nil, fmt.Errorf("python list %.40q: trailing text at %d", s, p.i)
	}
	return out, nil
}

type pyParser struct {
	s string
	i int
}

func (p *pyParser) space() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *pyParser) list() ([]string, error) {
	p.space()
	if p.i >= len(p.s) || (p.s[p.i] != '[' && p.s[p.i] != '(') {
		return nil, fmt.Errorf("want [ or ( at %d", p.i)
	}
	closing := byte(']')
	if p.s[p.i] == '(' {
		closing = ')'
	}
	p.i++
	out := []string{}
	for {
		p.space()
		if p.i < len(p.s) && p.s[p.i] == closing {
			p.i++
			return out, nil
		}
		item, err := p.item()
		if err != nil {
			return nil, err
		}
		out = append(out, item)
		p.space()
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.i < len(p.s) && p.s[p.i] == closing {
			p.i++
			return out, nil
		}
		return nil, fmt.Errorf("want , or %c at %d", closing, p.i)
	}
}

func (p *pyParser) item() (string, error) {
	if p.i >= len(p.s) {
		return "", fmt.Errorf("unexpected end")
	}
	q := p.s[p.i]
	if q != '\'' && q != '"' {
		// A bare number, True, None...: up to the next separator.
		start := p.i
		for p.i < len(p.s) && strings.IndexByte(",])", p.s[p.i]) < 0 {
			p.i++
		}
		v := strings.TrimSpace(p.s[start:p.i])
		if v == "" {
			return "", fmt.Errorf("empty item at %d", start)
		}
		return v, nil
	}
	p.i++
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == q:
			p.i++
			return b.String(), nil
		case c == '\\' && p.i+1 < len(p.s):
			p.i++
			switch e := p.s[p.i]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'x', 'u':
				n := 2
				if e == 'u' {
					n = 4
				}
				if p.i+n >= len(p.s) {
					return "", fmt.Errorf("short \\%c escape", e)
				}
				r, err := strconv.ParseUint(p.s[p.i+1:p.i+1+n], 16, 32)
				if err != nil {
					return "", fmt.Errorf("bad \\%c escape: %w", e, err)
				}
				b.WriteRune(rune(r))
				p.i += n
			default:
				b.WriteByte(e) // \\, \', \"
			}
		default:
			b.WriteByte(c)
		}
		p.i++
	}
	return "", fmt.Errorf("unterminated string")
}

// GSM8KAnswer returns the final answer after "####" in a GSM8K solution and
// the reasoning before it; ok is false when there is no "####".
func GSM8KAnswer(solution string) (answer, reasoning string, ok bool) {
	i := strings.LastIndex(solution, "####")
	if i < 0 {
		return "", solution, false
	}
	return strings.TrimSpace(solution[i+4:]), strings.TrimSpace(solution[:i]), true
}
