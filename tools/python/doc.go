// Package python runs the Python code an agent writes in <python> calls.
//
// The default backend is an in-process sandbox on go.starlark.net, a Python
// dialect: a translation step turns the Python that math-solving models
// write (**, f-strings, import math, generator expressions, set literals,
// is / is not, @lru_cache, list.sort, str.format with format specs, ...) into
// Starlark, and a set of builtins fills the gaps (sum, pow, round, divmod,
// isinstance, math, itertools). The code runs with a step limit, a
// wall-clock timeout, a cap on output and on memory, and no access to files,
// the network or the clock. docs/TOOLS.md has the table of what is supported.
//
// The opt-in Subprocess backend runs real python3 under a timeout and
// resource limits, for users who need real libraries and accept the risk.
// The opt-in Isolated backend runs this sandbox in a child process under an
// address-space limit, a hard memory budget per call.
//
// Not for: running untrusted code with full Python semantics in-process, or
// anything about models and training.
package python
