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
	"reverse": true,
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
		if id, ok := s.LHS.(*syntax.Ident); ok && (s.Op == syntax.STAR_EQ || s.Op == syntax.PLUS_EQ) {
			fn := map[syntax.Token]string{syntax.STAR_EQ: "_mul", syntax.PLUS_EQ: "_iadd"}[s.Op]
			s.Op = syntax.EQ
			s.RHS = call(fn, s.OpPos, &syntax.Ident{NamePos: id.NamePos, Name: id.Name}, s.RHS)
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
		e.Fn = rw(e.Fn)
		if dot, ok := e.Fn.(*syntax.DotExpr); ok && intercepted[dot.Name.Name] {
			name := &syntax.Literal{Token: syntax.STRING, TokenPos: dot.NamePos, Raw: `"` + dot.Name.Name + `"`, Value: dot.Name.Name}
			return call("_method", dot.Dot, append([]syntax.Expr{dot.X, name}, e.Args...)...)
		}
	case *syntax.DotExpr:
		e.X = rw(e.X)
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
