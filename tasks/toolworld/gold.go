package toolworld

import (
	"fmt"
	"strings"

	"github.com/goarpo/arpo/tasks"
)

// ToolFunc runs one tool call, e.g. ("search", "Kalven founded") or
// ("python", "print(3 * 4)"), and returns its output as the rollout would
// insert it between <result> tags. cmd/ wires it to the real tools.
type ToolFunc func(tool, arg string) (string, error)

// render writes a gold trajectory for it, taking each tool result from fn.
// ok is false when a result lacks the value the plan expects (a retrieval
// miss or a tool error): such a demonstration would teach the model to
// answer what the tools did not show, so it must not be used for SFT.
func render(it *item, fn ToolFunc) (gold string, ok bool) {
	var b strings.Builder
	b.WriteString("<think> " + it.think + " </think>\n")
	ok = true
	for _, s := range it.steps {
		out, err := fn(s.tool, s.arg)
		if err != nil {
			out, ok = "Error: "+err.Error(), false
		}
		if !containsValue(out, s.want) {
			ok = false
		}
		fmt.Fprintf(&b, "<%s> %s </%s>", s.tool, s.arg, s.tool)
		b.WriteString(tasks.ResultBlock(out))
	}
	b.WriteString("<answer> " + it.answer + " </answer>")
	return b.String(), ok
}

// containsValue reports whether want occurs in out as a whole token, so that
// "173" is not found inside "1734".
func containsValue(out, want string) bool {
	for i := 0; ; {
		j := strings.Index(out[i:], want)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(want)
		if (start == 0 || !isWordByte(out[start-1])) && (end == len(out) || !isWordByte(out[end])) {
			return true
		}
		i = start + 1
	}
}

func isWordByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// FormatResults renders passages the way the fallback search returns them:
// one "Title: text" line per passage. The real search tool has its own
// format; gold trajectories built with it carry that format instead.
func FormatResults(ps []tasks.Passage) string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Title + ": " + p.Text
	}
	return strings.Join(lines, "\n")
}

// NoResults is the fallback search's answer to a query it does not know.
const NoResults = "No results found."

// Fallback returns a deterministic ToolFunc for tests and for generating
// without the real tools: "search" looks the canonical query up exactly
// (case and spacing aside) and returns the fact's passage and its distractor
// (about two passages, like a top-2 retriever), and "python" evaluates
// print(<integer arithmetic>) with Eval.
func (d *Dataset) Fallback() ToolFunc {
	return func(tool, arg string) (string, error) {
		switch tool {
		case "search":
			hits := d.corpus.byQuery[normQuery(arg)]
			if len(hits) == 0 {
				return NoResults, nil
			}
			ps := make([]tasks.Passage, len(hits))
			for i, h := range hits {
				ps[i] = d.corpus.passages[h]
			}
			return FormatResults(ps), nil
		case "python":
			return EvalPrint(arg)
		}
		return "", fmt.Errorf("unknown tool %q", tool)
	}
}
