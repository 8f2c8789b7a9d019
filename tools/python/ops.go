package python

import "go.starlark.net/syntax"

// Operator tokens for starlark.Binary.
const (
	starlarkStar       = syntax.STAR
	starlarkPlus       = syntax.PLUS
	starlarkSlashSlash = syntax.SLASHSLASH
	starlarkPercent    = syntax.PERCENT
)
