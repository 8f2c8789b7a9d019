package python

import (
	"fmt"
	"strings"
)

// fstrings rewrites f-string literals, which Starlark lacks, into string
// concatenations: f"x={x:.2f}!" -> ("x=" + _fmt(x, ".2f") + "!"). Each
// replacement keeps the newlines of the original, so lines do not move.
func fstrings(src string) (string, error) {
	toks, err := tokenize(src)
	if err != nil {
		return "", err
	}
	for i := range toks {
		t := &toks[i]
		if t.kind != tStr {
			continue
		}
		n := strPrefix(t.s, 0)
		prefix := strings.ToLower(t.s[:n])
		if !strings.Contains(prefix, "f") {
			continue
		}
		raw := strings.Contains(prefix, "r")
		quote := t.s[n : n+1]
		if strings.HasPrefix(t.s[n:], strings.Repeat(quote, 3)) {
			quote = strings.Repeat(quote, 3)
		}
		body := t.s[n+len(quote) : len(t.s)-len(quote)]
		expr, err := fstringExpr(body, quote, raw)
		if err != nil {
			return "", &SyntaxError{Line: t.line, Msg: "f-string: " + err.Error()}
		}
		t.s = expr
	}
	return join(toks), nil
}

// fstringExpr turns the body of an f-string into a Starlark expression.
func fstringExpr(body, quote string, raw bool) (string, error) {
	var parts []string
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			r := ""
			if raw {
				r = "r"
			}
			parts = append(parts, r+quote+lit.String()+quote)
			lit.Reset()
		}
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == '\\' && !raw && i+1 < len(body):
			lit.WriteByte(c)
			lit.WriteByte(body[i+1])
			i++
		case c == '{' && i+1 < len(body) && body[i+1] == '{':
			lit.WriteByte('{')
			i++
		case c == '}' && i+1 < len(body) && body[i+1] == '}':
			lit.WriteByte('}')
			i++
		case c == '}':
			return "", fmt.Errorf("single '}' is not allowed")
		case c == '{':
			end, err := fieldEnd(body, i+1)
			if err != nil {
				return "", err
			}
			field, err := fstringField(body[i+1:end], quote)
			if err != nil {
				return "", err
			}
			flush()
			if strings.HasPrefix(field, "\x00") { // a debug field x= adds its own text
				lit.WriteString(field[1 : strings.IndexByte(field[1:], 0)+1])
				flush()
				field = field[strings.IndexByte(field[1:], 0)+2:]
			}
			parts = append(parts, field)
			i = end
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	if len(parts) == 0 {
		return quote + quote, nil
	}
	return "(" + strings.Join(parts, " + ") + ")", nil
}

// fieldEnd finds the '}' that closes a replacement field starting at i,
// skipping nested brackets and strings.
func fieldEnd(body string, i int) (int, error) {
	depth := 0
	for ; i < len(body); i++ {
		switch c := body[i]; {
		case c == '\'' || c == '"':
			j := strings.IndexByte(body[i+1:], c)
			if j < 0 {
				return 0, fmt.Errorf("unterminated string in expression")
			}
			i += j + 1
		case c == '(' || c == '[' || c == '{':
			depth++
		case c == ')' || c == ']':
			depth--
		case c == '}':
			if depth == 0 {
				return i, nil
			}
			depth--
		}
	}
	return 0, fmt.Errorf("expecting '}'")
}

// fstringField translates "expr[=][!conv][:spec]".
func fstringField(f, quote string) (string, error) {
	expr, conv, spec := f, "", ""
	depth := 0
	for i := 0; i < len(f); i++ {
		c := f[i]
		switch {
		case c == '\'' || c == '"':
			if j := strings.IndexByte(f[i+1:], c); j >= 0 {
				i += j + 1
			}
		case c == '(' || c == '[' || c == '{':
			depth++
		case c == ')' || c == ']' || c == '}':
			depth--
		case depth == 0 && c == '!' && i+1 < len(f) && f[i+1] != '=':
			expr = f[:i]
			conv, spec, _ = strings.Cut(f[i+1:], ":")
			i = len(f)
		case depth == 0 && c == ':':
			expr, spec = f[:i], f[i+1:]
			i = len(f)
		}
	}
	debug := ""
	if t := strings.TrimRight(expr, " "); strings.HasSuffix(t, "=") && !strings.HasSuffix(t, "==") &&
		!strings.HasSuffix(t, "!=") && !strings.HasSuffix(t, "<=") && !strings.HasSuffix(t, ">=") {
		debug = expr
		expr = strings.TrimSuffix(t, "=")
		if conv == "" && spec == "" {
			conv = "r"
		}
	}
	if strings.TrimSpace(expr) == "" {
		return "", fmt.Errorf("empty expression not allowed")
	}
	x, err := translateExpr(strings.TrimSpace(expr))
	if err != nil {
		return "", err
	}
	x = "(" + x + ")"
	switch conv {
	case "":
	case "r":
		x = "repr" + x
	case "s":
		x = "str" + x
	case "a":
		x = "repr" + x
	default:
		return "", fmt.Errorf("invalid conversion character '%s'", conv)
	}
	specExpr := `""`
	if spec != "" {
		specExpr, err = fstringExpr(spec, pickQuote(quote), false)
		if err != nil {
			return "", err
		}
	}
	out := fmt.Sprintf("_fmt(%s, %s)", x, specExpr)
	if debug != "" {
		return "\x00" + debug + "\x00" + out, nil
	}
	return out, nil
}

func pickQuote(q string) string {
	if len(q) == 3 {
		return q[:1]
	}
	return q
}
