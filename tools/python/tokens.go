package python

import (
	"fmt"
	"strings"
)

// A token of Python source. Space and comments are tokens too, so that
// joining the tokens gives the source back and rewrites keep every line
// where it was (error messages then point at the model's own line numbers).
type token struct {
	kind tkind
	s    string
	line int // 1-based
}

type tkind int

const (
	tSpace tkind = iota // blanks, newlines, comments, line continuations
	tName               // identifiers and keywords
	tNum                // numeric literals
	tStr                // string literals with their prefix
	tOp                 // operators and brackets
)

// tokenize splits Python source. It understands just enough of Python's
// lexical grammar for the rewrites in translate.go.
func tokenize(src string) ([]token, error) {
	var toks []token
	line := 1
	for i := 0; i < len(src); {
		c := src[i]
		start := i
		var k tkind
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\\' && i+1 < len(src) && (src[i+1] == '\n' || src[i+1] == '\r'):
			k = tSpace
			for i < len(src) && (src[i] == ' ' || src[i] == '\t' || src[i] == '\r' || src[i] == '\n' || src[i] == '\f' || src[i] == '\\' && i+1 < len(src) && (src[i+1] == '\n' || src[i+1] == '\r')) {
				i++
			}
		case c == '#':
			k = tSpace
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case isStrStart(src, i):
			k = tStr
			end, err := scanString(src, i)
			if err != nil {
				return nil, &SyntaxError{Line: line, Msg: err.Error()}
			}
			i = end
		case isIdentStart(c):
			k = tName
			for i < len(src) && isIdentPart(src[i]) {
				i++
			}
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			k = tNum
			for i < len(src) && (isIdentPart(src[i]) || src[i] == '.' ||
				(src[i] == '+' || src[i] == '-') && (src[i-1] == 'e' || src[i-1] == 'E') && !strings.HasPrefix(strings.ToLower(src[start:]), "0x")) {
				i++
			}
		default:
			k = tOp
			i++
			for _, op := range []string{"**=", "//=", ">>=", "<<=", "...", "**", "//", "==", "!=", "<=", ">=", "->", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<", ">>", ":="} {
				if strings.HasPrefix(src[start:], op) {
					i = start + len(op)
					break
				}
			}
		}
		toks = append(toks, token{k, src[start:i], line})
		line += strings.Count(src[start:i], "\n")
	}
	return toks, nil
}

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func isIdentPart(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

// strPrefix returns the length of a string prefix (r, b, u, f, rb, fr, ...)
// at src[i:] followed by a quote, or -1.
func strPrefix(src string, i int) int {
	for n := 0; n <= 2 && i+n < len(src); n++ {
		c := src[i+n]
		if c == '"' || c == '\'' {
			if n > 0 && i > 0 && isIdentPart(src[i-1]) {
				return -1
			}
			return n
		}
		if !strings.ContainsRune("rRbBuUfF", rune(c)) {
			return -1
		}
	}
	return -1
}

func isStrStart(src string, i int) bool { return strPrefix(src, i) >= 0 }

// scanString returns the end of the string literal starting at src[i].
func scanString(src string, i int) (int, error) {
	j := i + strPrefix(src, i)
	q := src[j]
	quote := string(q)
	if strings.HasPrefix(src[j:], strings.Repeat(quote, 3)) {
		quote = strings.Repeat(quote, 3)
	}
	for k := j + len(quote); k < len(src); k++ {
		switch {
		case src[k] == '\\':
			k++
		case strings.HasPrefix(src[k:], quote):
			return k + len(quote), nil
		case src[k] == '\n' && len(quote) == 1:
			return 0, fmt.Errorf("unterminated string literal")
		}
	}
	return 0, fmt.Errorf("unterminated string literal")
}

// sig returns the indices of the tokens that are not space.
func sig(toks []token) []int {
	var idx []int
	for i, t := range toks {
		if t.kind != tSpace {
			idx = append(idx, i)
		}
	}
	return idx
}

func join(toks []token) string {
	var b strings.Builder
	for _, t := range toks {
		b.WriteString(t.s)
	}
	return b.String()
}

// keywords that can end an operand.
var operandKeywords = map[string]bool{"True": true, "False": true, "None": true}

var pyKeywords = map[string]bool{
	"and": true, "as": true, "assert": true, "break": true, "class": true, "continue": true, "def": true,
	"del": true, "elif": true, "else": true, "except": true, "finally": true, "for": true, "from": true,
	"global": true, "if": true, "import": true, "in": true, "is": true, "lambda": true, "nonlocal": true,
	"not": true, "or": true, "pass": true, "raise": true, "return": true, "try": true, "while": true,
	"with": true, "yield": true,
}

// endsOperand says whether a token can be the last token of an operand, so
// that a following "(" is a call and a following "**" is binary.
func endsOperand(t token) bool {
	switch t.kind {
	case tNum, tStr:
		return true
	case tName:
		return !pyKeywords[t.s] || operandKeywords[t.s]
	case tOp:
		return t.s == ")" || t.s == "]" || t.s == "}"
	}
	return false
}

// match returns the position in idx of the bracket closing the one at
// idx[p], or -1.
func match(toks []token, idx []int, p int) int {
	depth := 0
	for q := p; q < len(idx); q++ {
		switch toks[idx[q]].s {
		case "(", "[", "{":
			depth++
		case ")", "]", "}":
			depth--
			if depth == 0 {
				return q
			}
		}
	}
	return -1
}

// matchBack is match going left from a closing bracket.
func matchBack(toks []token, idx []int, p int) int {
	depth := 0
	for q := p; q >= 0; q-- {
		switch toks[idx[q]].s {
		case ")", "]", "}":
			depth++
		case "(", "[", "{":
			depth--
			if depth == 0 {
				return q
			}
		}
	}
	return -1
}
