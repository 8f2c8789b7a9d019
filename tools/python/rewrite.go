package python

import (
	"go.starlark.net/syntax"
)

// intercepted are the method names whose calls go through _method, because
// Starlark's types lack them (list.sort, str.zfill) or do them differently
// (str.format without format specs).
var intercepted = map[string]bool{
	"format": true, "zfill": true, "ljust": true, "rjust": true, "center": true,
	"isnumeric": true, "isdecimal": true, "sort": true, "count": true, "copy": true,
	"reverse": true, "replace": true, "join": true, "extend": true,
}

// rewriteFile changes the parsed tree where Python and Starlark differ in
// meaning rather than syntax:
//   - x * y and x + y go through _mul and _add, which refuse repetitions and
//     concatenations that would build more than MaxElems elements in one step
//     ("a" * 10**10, x = x + x in a loop): one such step cannot be
//     interrupted, so the memory watchdog alone would act too late;
//   - "..." % x goes through _percent, for Python's %-format widths;
//   - for loops and comprehensions iterate _iter(x), which yields the
//     characters of a string (Starlark strings are not iterable);
//   - calls of intercepted methods go through _method.
func rewriteFile(f *syntax.File) {
	for _, s := range f.Stmts {
		rwStmt(s)
	}
}

func call(name string, pos syntax.Position, args ...syntax.Expr) *syntax.CallExpr {
	return &syntax.CallExpr{Fn: &syntax.Ident{NamePos: pos, Name: name}, Lparen: pos, Args: args, Rparen: pos}
}

func rwStmts(list []syntax.Stmt) {
	for _, s := range list {
		rwStmt(s)
	}
}

func rwStmt(s syntax.Stmt) {
	switch s := s.(type) {
	case *syntax.AssignStmt:
		s.LHS = rw(s.LHS)
		s.RHS = rw(s.RHS)
		if fn, ok := compound[s.Op]; ok {
			// x op= y becomes x = fn(x, y). For a[i] or a.b the target is
			// evaluated twice, which only matters if the index has side
			// effects; the size check matters more.
			if lhs := clone(s.LHS); lhs != nil {
				s.Op = syntax.EQ
				s.RHS = call(fn, s.OpPos, lhs, s.RHS)
			}
		}
	case *syntax.DefStmt:
		for i, p := range s.Params {
			s.Params[i] = rw(p)
		}
		rwStmts(s.Body)
		// Starlark allows 100,000 nested calls (and ~150 MB of Go stack);
		// Python stops at 1,000. _depth enforces Config.MaxDepth.
		s.Body = append([]syntax.Stmt{&syntax.ExprStmt{X: call("_depth", s.Def)}}, s.Body...)
	case *syntax.ExprStmt:
		s.X = rw(s.X)
	case *syntax.ForStmt:
		s.X = call("_iter", s.For, rw(s.X))
		rwStmts(s.Body)
	case *syntax.WhileStmt:
		s.Cond = rw(s.Cond)
		rwStmts(s.Body)
	case *syntax.IfStmt:
		s.Cond = rw(s.Cond)
		rwStmts(s.True)
		rwStmts(s.False)
	case *syntax.ReturnStmt:
		if s.Result != nil {
			s.Result = rw(s.Result)
		}
	}
}

// compound are the augmented assignments that go through a checked
// builtin.
var compound = map[syntax.Token]string{syntax.STAR_EQ: "_mul", syntax.PLUS_EQ: "_iadd", syntax.PERCENT_EQ: "_mod"}

// clone copies an assignment target made of names, attributes, literals
// and subscripts (already rewritten); nil for anything else.
func clone(e syntax.Expr) syntax.Expr {
	switch e := e.(type) {
	case *syntax.Ident:
		return &syntax.Ident{NamePos: e.NamePos, Name: e.Name}
	case *syntax.Literal:
		c := *e
		return &c
	case *syntax.CallExpr:
		// A rewritten a.b (_bound) or a checked operation in an index.
		c := *e
		c.Args = make([]syntax.Expr, len(e.Args))
		for i, a := range e.Args {
			if c.Args[i] = clone(a); c.Args[i] == nil {
				return nil
			}
		}
		if c.Fn = clone(e.Fn); c.Fn == nil {
			return nil
		}
		return &c
	case *syntax.DotExpr:
		c := *e
		if c.X = clone(e.X); c.X == nil {
			return nil
		}
		return &c
	case *syntax.IndexExpr:
		c := *e
		if c.X, c.Y = clone(e.X), clone(e.Y); c.X == nil || c.Y == nil {
			return nil
		}
		return &c
	case *syntax.BinaryExpr:
		c := *e
		if c.X, c.Y = clone(e.X), clone(e.Y); c.X == nil || c.Y == nil {
			return nil
		}
		return &c
	case *syntax.UnaryExpr:
		c := *e
		if e.X != nil {
			if c.X = clone(e.X); c.X == nil {
				return nil
			}
		}
		return &c
	case *syntax.ParenExpr:
		c := *e
		if c.X = clone(e.X); c.X == nil {
			return nil
		}
		return &c
	}
	return nil
}

func rw(e syntax.Expr) syntax.Expr {
	switch e := e.(type) {
	case *syntax.BinaryExpr:
		e.X, e.Y = rw(e.X), rw(e.Y)
		switch {
		case e.Op == syntax.STAR:
			return call("_mul", e.OpPos, e.X, e.Y)
		case e.Op == syntax.PLUS:
			return call("_add", e.OpPos, e.X, e.Y)
		case e.Op == syntax.PERCENT:
			if lit, ok := e.X.(*syntax.Literal); ok && lit.Token == syntax.STRING {
				return call("_percent", e.OpPos, e.X, e.Y)
			}
			// A format string in a variable: Starlark's own % has no cap.
			if lit, ok := e.X.(*syntax.Literal); !ok || lit.Token == syntax.STRING {
				return call("_mod", e.OpPos, e.X, e.Y)
			}
		}
		return e
	case *syntax.UnaryExpr:
		if e.X != nil {
			e.X = rw(e.X)
		}
	case *syntax.ParenExpr:
		e.X = rw(e.X)
	case *syntax.CallExpr:
		for i, a := range e.Args {
			e.Args[i] = rw(a)
		}
		if dot, ok := e.Fn.(*syntax.DotExpr); ok && intercepted[dot.Name.Name] {
			dot.X = rw(dot.X)
			name := &syntax.Literal{Token: syntax.STRING, TokenPos: dot.NamePos, Raw: `"` + dot.Name.Name + `"`, Value: dot.Name.Name}
			return call("_method", dot.Dot, append([]syntax.Expr{dot.X, name}, e.Args...)...)
		}
		e.Fn = rw(e.Fn)
	case *syntax.DotExpr:
		e.X = rw(e.X)
		if intercepted[e.Name.Name] {
			// f = s.replace: the bound method is checked when called.
			name := &syntax.Literal{Token: syntax.STRING, TokenPos: e.NamePos, Raw: `"` + e.Name.Name + `"`, Value: e.Name.Name}
			return call("_bound", e.Dot, e.X, name)
		}
	case *syntax.IndexExpr:
		e.X, e.Y = rw(e.X), rw(e.Y)
	case *syntax.SliceExpr:
		e.X = rw(e.X)
		for _, p := range []*syntax.Expr{&e.Lo, &e.Hi, &e.Step} {
			if *p != nil {
				*p = rw(*p)
			}
		}
	case *syntax.CondExpr:
		e.Cond, e.True, e.False = rw(e.Cond), rw(e.True), rw(e.False)
	case *syntax.ListExpr:
		for i, x := range e.List {
			e.List[i] = rw(x)
		}
	case *syntax.TupleExpr:
		for i, x := range e.List {
			e.List[i] = rw(x)
		}
	case *syntax.DictExpr:
		for _, x := range e.List {
			d := x.(*syntax.DictEntry)
			d.Key, d.Value = rw(d.Key), rw(d.Value)
		}
	case *syntax.Comprehension:
		e.Body = rw(e.Body)
		for _, c := range e.Clauses {
			switch c := c.(type) {
			case *syntax.ForClause:
				c.X = call("_iter", c.For, rw(c.X))
			case *syntax.IfClause:
				c.Cond = rw(c.Cond)
			}
		}
	case *syntax.DictEntry:
		e.Key, e.Value = rw(e.Key), rw(e.Value)
	case *syntax.LambdaExpr:
		for i, p := range e.Params {
			e.Params[i] = rw(p)
		}
		e.Body = rw(e.Body)
	}
	return e
}
