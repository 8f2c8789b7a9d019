package toolworld

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// EvalPrint runs a one-line program "print(<expr>)" of integer arithmetic
// (+, -, *, //, %, parentheses, unary minus) and returns what Python would
// print. It stands in for the interpreter when generating gold trajectories
// without it; anything else is an error, never a panic.
func EvalPrint(code string) (string, error) {
	c := strings.TrimSpace(code)
	if !strings.HasPrefix(c, "print(") || !strings.HasSuffix(c, ")") {
		return "", fmt.Errorf("eval: want print(<expr>), got %q", code)
	}
	v, err := Eval(c[len("print(") : len(c)-1])
	if err != nil {
		return "", err
	}
	return strconv.FormatInt(v, 10), nil
}

// Eval evaluates an integer expression with Python's semantics for // and %
// (floor division), reporting overflow and division by zero as errors.
func Eval(expr string) (int64, error) {
	p := &arith{s: expr}
	v, err := p.sum()
	if err == nil {
		p.space()
		if p.i != len(p.s) {
			err = fmt.Errorf("unexpected %q at %d", p.s[p.i:], p.i)
		}
	}
	if err != nil {
		return 0, fmt.Errorf("eval %q: %w", expr, err)
	}
	return v, nil
}

type arith struct {
	s     string
	i     int
	depth int
}

func (p *arith) space() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *arith) sum() (int64, error) {
	v, err := p.product()
	for err == nil {
		p.space()
		if p.i >= len(p.s) || (p.s[p.i] != '+' && p.s[p.i] != '-') {
			break
		}
		op := p.s[p.i]
		p.i++
		var w int64
		if w, err = p.product(); err == nil {
			if op == '-' {
				w = -w
			}
			if (w > 0 && v > math.MaxInt64-w) || (w < 0 && v < math.MinInt64-w) {
				err = fmt.Errorf("overflow")
			}
			v += w
		}
	}
	return v, err
}

func (p *arith) product() (int64, error) {
	v, err := p.unary()
	for err == nil {
		p.space()
		var op string
		switch {
		case strings.HasPrefix(p.s[p.i:], "//"):
			op = "//"
		case strings.HasPrefix(p.s[p.i:], "*") && !strings.HasPrefix(p.s[p.i:], "**"):
			op = "*"
		case strings.HasPrefix(p.s[p.i:], "%"):
			op = "%"
		default:
			return v, nil
		}
		p.i += len(op)
		var w int64
		if w, err = p.unary(); err != nil {
			break
		}
		switch op {
		case "*":
			if v != 0 && w != 0 && (v*w/w != v || (v == -1 && w == math.MinInt64) || (w == -1 && v == math.MinInt64)) {
				return 0, fmt.Errorf("overflow")
			}
			v *= w
		default:
			if w == 0 {
				return 0, fmt.Errorf("division by zero")
			}
			q, r := v/w, v%w
			if r != 0 && (r < 0) != (w < 0) { // floor, as in Python
				q, r = q-1, r+w
			}
			v = q
			if op == "%" {
				v = r
			}
		}
	}
	return v, err
}

func (p *arith) unary() (int64, error) {
	p.space()
	if p.i < len(p.s) && (p.s[p.i] == '-' || p.s[p.i] == '+') {
		neg := p.s[p.i] == '-'
		p.i++
		v, err := p.unary()
		if neg {
			v = -v
		}
		return v, err
	}
	return p.atom()
}

func (p *arith) atom() (int64, error) {
	p.space()
	if p.i >= len(p.s) {
		return 0, fmt.Errorf("unexpected end")
	}
	if p.s[p.i] == '(' {
		if p.depth++; p.depth > 100 {
			return 0, fmt.Errorf("too deeply nested")
		}
		p.i++
		v, err := p.sum()
		if err != nil {
			return 0, err
		}
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != ')' {
			return 0, fmt.Errorf("missing )")
		}
		p.i++
		p.depth--
		return v, nil
	}
	start := p.i
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
	}
	if start == p.i {
		return 0, fmt.Errorf("unexpected %q at %d", p.s[p.i:], p.i)
	}
	return strconv.ParseInt(p.s[start:p.i], 10, 64)
}
