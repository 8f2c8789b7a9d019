package grade

import "strings"

// boxedCommands are the LaTeX commands whose argument is a final answer. The
// "\x08oxed" spelling is "\boxed" after a Python string turned "\b" into a
// backspace: the ARPO training prompts contain it, so models trained on them
// may write it too.
var boxedCommands = []string{`\boxed`, `\fbox`, "\x08oxed"}

// ExtractBoxed returns the argument of the last \boxed{...} (or \fbox{...}) in
// s, with nested braces, and true; "\boxed 5" (no braces) gives "5". It
// returns false when s has no complete boxed answer.
func ExtractBoxed(s string) (string, bool) {
	start, cmd := -1, ""
	for _, c := range boxedCommands {
		if i := strings.LastIndex(s, c); i > start {
			start, cmd = i, c
		}
	}
	if start < 0 {
		return "", false
	}
	rest := s[start+len(cmd):]
	if strings.HasPrefix(rest, " ") {
		// "\boxed 5": the argument runs to the next space or "$".
		arg := strings.TrimLeft(rest, " ")
		if end := strings.IndexAny(arg, " $"); end >= 0 {
			arg = arg[:end]
		}
		return arg, arg != ""
	}
	if !strings.HasPrefix(rest, "{") {
		return "", false
	}
	depth := 0
	for i, r := range rest {
		switch r {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return rest[1:i], true
			}
		}
	}
	return "", false
}
