package python

import (
	"go.starlark.net/resolve"
)

// resolveErrors is the resolver's error list (undefined names, misplaced
// statements), reported as its first entry.
type resolveErrors = resolve.ErrorList

func firstResolveError(l resolve.ErrorList) *Error {
	if len(l) == 0 {
		return &Error{Type: "SyntaxError", Msg: "invalid program"}
	}
	e := l[0]
	typ, text := classify(e.Msg)
	if typ == "Error" {
		typ = "SyntaxError"
	}
	return &Error{Line: int(e.Pos.Line), Type: typ, Msg: text}
}
