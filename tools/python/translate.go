package python

import (
	"fmt"
	"strings"
)

// translation is Python source turned into Starlark source with the same
// line numbers, plus the names its imports bind.
type translation struct {
	src     string
	imports map[string]string // bound name -> "module" or "module.member"
}

// translate rewrites the Python constructs Starlark's parser rejects. What
// can be done on the syntax tree (operator checks, method calls, iteration
// over strings) is left to rewrite.go; here are only the changes that must
// happen before parsing.
func translate(src string) (*translation, error) {
	tr := &translation{imports: map[string]string{}}
	var err error
	steps := []func(string) (string, error){
		fstrings,
		tr.statements,
		brackets,
		powers,
	}
	for _, step := range steps {
		if src, err = step(src); err != nil {
			return nil, err
		}
	}
	tr.src = src
	return tr, nil
}

// translateExpr translates an expression inside an f-string.
func translateExpr(src string) (string, error) {
	for _, step := range []func(string) (string, error){fstrings, brackets, powers} {
		var err error
		if src, err = step(src); err != nil {
			return "", err
		}
	}
	return src, nil
}

// SyntaxError is a translation or parse failure, reported like Python's.
type SyntaxError struct {
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d\nSyntaxError: %s", e.Line, e.Msg)
	}
	return "SyntaxError: " + e.Msg
}

// statements handles one-token and one-line rewrites: import statements
// (bound as predeclared names; the line becomes "pass"), decorators that
// memoise, "is"/"is not", underscores in numbers.
func (tr *translation) statements(src string) (string, error) {
	toks, err := tokenize(src)
	if err != nil {
		return "", err
	}
	idx := sig(toks)
	lineStart := func(p int) bool {
		if p == 0 {
			return true
		}
		prev := toks[idx[p-1]]
		if prev.s == ";" || prev.s == ":" && prev.line < toks[idx[p]].line {
			return true
		}
		return prev.line < toks[idx[p]].line && !inBrackets(toks, idx, p)
	}
	for p := 0; p < len(idx); p++ {
		t := &toks[idx[p]]
		switch {
		case t.kind == tNum && strings.Contains(t.s, "_"):
			t.s = strings.ReplaceAll(t.s, "_", "")
		case t.kind == tName && t.s == "is":
			if p+1 < len(idx) && toks[idx[p+1]].s == "not" {
				t.s = "!="
				toks[idx[p+1]].s = ""
				p++
			} else {
				t.s = "=="
			}
		case t.kind == tName && (t.s == "import" || t.s == "from") && lineStart(p):
			end, err := tr.importStmt(toks, idx, p)
			if err != nil {
				return "", err
			}
			t.s = "pass"
			for q := p + 1; q < end; q++ {
				if toks[idx[q]].line == t.line {
					toks[idx[q]].s = ""
				} else {
					toks[idx[q]].s = " " // keep the lines of a parenthesised import
				}
			}
			p = end - 1
		case t.kind == tName && t.s == "assert" && lineStart(p):
			// assert c, msg -> _assert(c, msg)
			end := stmtEnd(toks, idx, p)
			if end == p {
				return "", &SyntaxError{Line: t.line, Msg: "invalid syntax: assert needs a condition"}
			}
			t.s = "_assert("
			toks[idx[end]].s += ")"
		case t.kind == tName && t.s == "raise" && lineStart(p):
			// raise E(args) -> _raise("E", args); raise E -> _raise("E")
			end := stmtEnd(toks, idx, p)
			switch {
			case end == p:
				t.s = `_raise("RuntimeError", "No active exception to reraise")`
			case end > p+1 && toks[idx[p+1]].kind == tName && toks[idx[p+2]].s == "(" && match(toks, idx, p+2) == end:
				t.s = fmt.Sprintf("_raise(%q", toks[idx[p+1]].s)
				toks[idx[p+1]].s = ""
				if end == p+3 {
					toks[idx[p+2]].s = ""
				} else {
					toks[idx[p+2]].s = ", "
				}
			case end == p+1 && toks[idx[p+1]].kind == tName:
				t.s = fmt.Sprintf("_raise(%q)", toks[idx[p+1]].s)
				toks[idx[p+1]].s = ""
			default:
				t.s = "_raise(\"Exception\", "
				toks[idx[end]].s += ")"
			}
			p = end
		case t.kind == tOp && t.s == "**=" && p == 1 || t.kind == tOp && t.s == "**=" && p > 1 && lineStart(p-1) && toks[idx[p-1]].kind == tName:
			// x **= y -> x = _pow(x, y)
			name := toks[idx[p-1]].s
			end := stmtEnd(toks, idx, p)
			if end == p {
				return "", &SyntaxError{Line: t.line, Msg: "invalid syntax"}
			}
			t.s = "= _pow(" + name + ", "
			toks[idx[end]].s += ")"
			p = end
		case t.kind == tOp && t.s == "@" && lineStart(p):
			end, err := decorator(toks, idx, p)
			if err != nil {
				return "", err
			}
			p = end - 1
		}
	}
	return join(toks), nil
}

// stmtEnd returns the position of the last token of the simple statement
// whose first token is at idx[p].
func stmtEnd(toks []token, idx []int, p int) int {
	depth := 0
	line := toks[idx[p]].line
	end := p
	for q := p; q < len(idx); q++ {
		t := toks[idx[q]]
		if depth == 0 && q > p && (t.line != line || t.s == ";") {
			break
		}
		switch t.s {
		case "(", "[", "{":
			depth++
		case ")", "]", "}":
			depth--
		}
		// A statement continues on the next line inside brackets.
		line = t.line + strings.Count(t.s, "\n")
		end = q
	}
	return end
}

// statementBreak reports whether a statement ends between the significant
// tokens idx[p] and idx[p+1]: a newline outside brackets and not escaped.
func statementBreak(toks []token, idx []int, p int) bool {
	between := join(toks[idx[p]+1 : idx[p+1]])
	between = strings.ReplaceAll(strings.ReplaceAll(between, "\\\r\n", ""), "\\\n", "")
	return strings.ContainsAny(between, "\n\r") && !inBrackets(toks, idx, p+1)
}

func inBrackets(toks []token, idx []int, p int) bool {
	depth := 0
	for q := 0; q < p; q++ {
		switch toks[idx[q]].s {
		case "(", "[", "{":
			depth++
		case ")", "]", "}":
			depth--
		}
	}
	return depth > 0
}

// modules are what import may name.
var modules = map[string]bool{"math": true, "sys": true, "itertools": true, "functools": true, "fractions": false}

// importStmt records the names bound by the import starting at idx[p] and
// returns the position after it.
func (tr *translation) importStmt(toks []token, idx []int, p int) (int, error) {
	line := toks[idx[p]].line
	var names []string
	end := p
	depth := 0
	for end < len(idx) {
		t := toks[idx[end]]
		if depth == 0 && (t.line != line || t.s == ";") {
			break
		}
		if t.s == "(" {
			depth++
		} else if t.s == ")" {
			depth--
		} else if t.kind == tName || t.s == "*" || t.s == "," || t.s == "." {
			names = append(names, t.s)
		}
		end++
	}
	stmt := strings.Join(names, " ")
	stmt = strings.ReplaceAll(stmt, " . ", ".")
	check := func(mod string) error {
		root, _, _ := strings.Cut(mod, ".")
		if !modules[root] || mod != root {
			return &SyntaxError{Line: line, Msg: fmt.Sprintf("ModuleNotFoundError: No module named '%s' (the sandbox has math, sys, itertools, functools)", mod)}
		}
		return nil
	}
	fields := strings.Fields(strings.ReplaceAll(stmt, ",", " , "))
	if fields[0] == "import" {
		// import a [as b], c
		for _, part := range splitComma(fields[1:]) {
			if err := check(part[0]); err != nil {
				return 0, err
			}
			bound := part[0]
			if len(part) == 3 && part[1] == "as" {
				bound = part[2]
			}
			tr.imports[bound] = part[0]
		}
		return end, nil
	}
	// from m import a [as b], c | *
	if len(fields) < 4 || fields[2] != "import" {
		return 0, &SyntaxError{Line: line, Msg: "invalid import statement"}
	}
	mod := fields[1]
	if err := check(mod); err != nil {
		return 0, err
	}
	for _, part := range splitComma(fields[3:]) {
		bound := part[0]
		if len(part) == 3 && part[1] == "as" {
			bound = part[2]
		}
		tr.imports[bound] = mod + "." + part[0]
	}
	return end, nil
}

func splitComma(fields []string) [][]string {
	var out [][]string
	var cur []string
	for _, f := range fields {
		if f == "," {
			if len(cur) > 0 {
				out = append(out, cur)
			}
			cur = nil
			continue
		}
		cur = append(cur, f)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// decorator handles @cache / @lru_cache(...) / @functools.cache before a
// def: Starlark has no decorators, so the line becomes an assignment of a
// memoising wrapper that calls the renamed function lazily, and the def
// is renamed. Line numbers do not move.
func decorator(toks []token, idx []int, p int) (int, error) {
	line := toks[idx[p]].line
	end := p + 1
	var name []string
	for end < len(idx) && toks[idx[end]].line == line {
		name = append(name, toks[idx[end]].s)
		end++
	}
	deco, _, _ := strings.Cut(strings.Join(name, ""), "(")
	deco = strings.TrimPrefix(deco, "functools.")
	if deco != "cache" && deco != "lru_cache" {
		return 0, &SyntaxError{Line: line, Msg: fmt.Sprintf("decorator @%s is not supported (only @cache and @lru_cache)", deco)}
	}
	if end+1 >= len(idx) || toks[idx[end]].s != "def" || toks[idx[end+1]].kind != tName {
		return 0, &SyntaxError{Line: line, Msg: "a decorator must be followed by def"}
	}
	fn := toks[idx[end+1]].s
	toks[idx[p]].s = fmt.Sprintf("%s = _memoize(lambda *a: _memo_%s(*a))", fn, fn)
	for q := p + 1; q < end; q++ {
		toks[idx[q]].s = ""
	}
	toks[idx[end+1]].s = "_memo_" + fn
	return end, nil
}

// brackets turns generator expressions into list comprehensions
// (sum(x for x in y) -> sum([x for x in y])) and set displays and set
// comprehensions into set([...]), which Starlark has no syntax for.
func brackets(src string) (string, error) {
	toks, err := tokenize(src)
	if err != nil {
		return "", err
	}
	idx := sig(toks)
	for p := 0; p < len(idx); p++ {
		open := toks[idx[p]].s
		if open != "(" && open != "{" {
			continue
		}
		q := match(toks, idx, p)
		if q < 0 {
			return "", &SyntaxError{Line: toks[idx[p]].line, Msg: fmt.Sprintf("'%s' was never closed", open)}
		}
		hasFor, hasColon, hasComma := topLevel(toks, idx, p, q)
		switch {
		case open == "(" && hasFor:
			call := p > 0 && endsOperand(toks[idx[p-1]])
			if call {
				toks[idx[p]].s, toks[idx[q]].s = "([", "])"
			} else {
				toks[idx[p]].s, toks[idx[q]].s = "[", "]"
			}
		case open == "{" && q > p+1 && !hasColon && (hasFor || hasComma || q > p+1):
			toks[idx[p]].s, toks[idx[q]].s = "set([", "])"
		}
	}
	return join(toks), nil
}

// topLevel reports what appears between idx[p] and idx[q] outside nested
// brackets and lambdas.
func topLevel(toks []token, idx []int, p, q int) (hasFor, hasColon, hasComma bool) {
	depth := 0
	lambdas := 0
	for r := p + 1; r < q; r++ {
		t := toks[idx[r]]
		switch t.s {
		case "(", "[", "{":
			depth++
		case ")", "]", "}":
			depth--
		}
		if depth != 0 {
			continue
		}
		switch t.s {
		case "for":
			hasFor = true
		case "lambda":
			lambdas++
		case ":":
			if lambdas > 0 {
				lambdas--
			} else {
				hasColon = true
			}
		case ",":
			hasComma = true
		}
	}
	return
}

// powers rewrites a ** b as _pow(a, b): Starlark has no power operator, and
// no operator with its precedence (tighter than unary minus on the left,
// right-associative), so the operands are found by hand. The last ** goes
// first, which makes a ** b ** c come out right-associative.
func powers(src string) (string, error) {
	for n := 0; ; n++ {
		toks, err := tokenize(src)
		if err != nil {
			return "", &SyntaxError{Msg: err.Error()}
		}
		idx := sig(toks)
		op := -1
		for p := len(idx) - 1; p > 0; p-- {
			if toks[idx[p]].s == "**" && endsOperand(toks[idx[p-1]]) {
				op = p
				break
			}
		}
		if op < 0 {
			return src, nil
		}
		line := toks[idx[op]].line
		lo := primaryStart(toks, idx, op-1)
		hi := operandEnd(toks, idx, op+1)
		if lo < 0 || hi < 0 {
			return "", &SyntaxError{Line: line, Msg: "invalid syntax around **"}
		}
		left := join(toks[idx[lo] : idx[op-1]+1])
		right := join(toks[idx[op+1] : idx[hi]+1])
		var b strings.Builder
		b.WriteString(join(toks[:idx[lo]]))
		fmt.Fprintf(&b, "_pow(%s, %s)", left, right)
		b.WriteString(join(toks[idx[hi]+1:]))
		src = b.String()
	}
}

// primaryStart walks left from the last token of a primary (an atom with
// calls, subscripts and attributes) to its first token.
func primaryStart(toks []token, idx []int, p int) int {
	for p >= 0 {
		t := toks[idx[p]]
		switch {
		case t.s == ")" || t.s == "]" || t.s == "}":
			p = matchBack(toks, idx, p)
			if p < 0 {
				return -1
			}
		case t.kind == tName || t.kind == tNum || t.kind == tStr:
		default:
			return -1
		}
		t = toks[idx[p]]
		// A trailer continues the primary to the left, but not across the
		// end of a statement ("f(x)\n(2)**2" is two statements).
		if p > 0 && !statementBreak(toks, idx, p-1) {
			prev := toks[idx[p-1]]
			if (t.s == "(" || t.s == "[") && endsOperand(prev) {
				p--
				continue
			}
			if prev.s == "." && p > 1 {
				p -= 2
				continue
			}
			if t.kind == tStr && prev.kind == tStr { // implicit concatenation
				p--
				continue
			}
		}
		return p
	}
	return -1
}

// operandEnd walks right over the right operand of **: unary signs, a
// primary, and a further ** chain.
func operandEnd(toks []token, idx []int, p int) int {
	for p < len(idx) && (toks[idx[p]].s == "-" || toks[idx[p]].s == "+" || toks[idx[p]].s == "~") {
		p++
	}
	if p >= len(idx) {
		return -1
	}
	t := toks[idx[p]]
	switch {
	case t.s == "(" || t.s == "[" || t.s == "{":
		p = match(toks, idx, p)
		if p < 0 {
			return -1
		}
	case t.kind == tName && (!pyKeywords[t.s] || operandKeywords[t.s]) || t.kind == tNum || t.kind == tStr:
	default:
		return -1
	}
	for p+1 < len(idx) {
		next := toks[idx[p+1]]
		if statementBreak(toks, idx, p) { // "x = 10**5\n[a]" is two statements
			return p
		}
		switch {
		case next.s == "(" || next.s == "[":
			p = match(toks, idx, p+1)
			if p < 0 {
				return -1
			}
		case next.s == "." && p+2 < len(idx) && toks[idx[p+2]].kind == tName:
			p += 2
		case next.s == "**":
			return operandEnd(toks, idx, p+2)
		default:
			return p
		}
	}
	return p
}
