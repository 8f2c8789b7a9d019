// Package tools is the agent's side of tool use: the tool-call protocol
// (finding `<search>…</search>`, `<python>…</python>` and `<answer>…</answer>`
// in generated text, as laid out in shared/docs/arpo.md), the one place where
// a tool's output is wrapped as `<result>\n…\n</result>\n`, the Tool interface
// and its registry, and an Executor that runs calls concurrently with a
// timeout, a result cache and exact per-tool counters.
//
// It is not the tools themselves (see tools/search and tools/python) and it
// knows nothing of models, tokens or training: the RL code reaches it only
// through Tool, Executor and Stream, so this package imports nothing from
// nn/, rl/ or tasks/.
package tools
