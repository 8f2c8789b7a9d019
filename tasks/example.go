package tasks

import (
	"strings"

	"github.com/goarpo/arpo/tasks/grade"
)

// Example is one task: a question, its gold answers and how to grade them.
type Example struct {
	ID       string       `json:"id"`
	Source   string       `json:"source"`            // dataset, e.g. "gsm8k", "toolworld"
	Question string       `json:"question"`          // the user message
	System   string       `json:"system,omitempty"`  // a system prompt the dataset ships, if any
	Answer   string       `json:"answer"`            // the primary gold answer
	Aliases  []string     `json:"aliases,omitempty"` // other accepted answers
	Metric   grade.Metric `json:"metric"`            // e.g. "math", "f1", "em"

	// ToolWorld fields; zero for loaded datasets.
	Family string `json:"family,omitempty"` // question family, e.g. "lookup", "two_hop"
	Level  int    `json:"level,omitempty"`  // difficulty, 1 (one step) to 3 (longest chains)
	Split  string `json:"split,omitempty"`  // "train" or "test"
	// Novel marks a family the demonstrations do not cover (or cover less),
	// so that evaluation can report what RL learned beyond imitation.
	Novel bool `json:"novel,omitempty"`
	// Demo marks Gold as usable for supervised fine-tuning; false for novel
	// families and for gold trajectories whose tool results did not check out.
	Demo bool `json:"demo,omitempty"`
	// Gold is a demonstration of the response (everything after the prompt),
	// tool results included, in the turn format of docs/arpo.md.
	Gold  string `json:"gold,omitempty"`
	Calls int    `json:"calls,omitempty"` // tool calls in Gold

	Meta map[string]string `json:"meta,omitempty"` // extra fields (data_source, level, type, ...)
}

// Golds returns every accepted answer, the primary one first.
func (e *Example) Golds() []string {
	return append([]string{e.Answer}, e.Aliases...)
}

// Score grades an extracted final answer in [0, 1].
func (e *Example) Score(answer string) float64 {
	return grade.Score(e.Metric, answer, e.Golds())
}

// Reward is the hierarchical reward of a whole response (see grade); ran
// counts the tool calls that ran, by tag.
func (e *Example) Reward(response string, ran map[string]int) grade.Reward {
	return grade.HierarchicalReward(response, e.Metric, e.Golds(), ran)
}

// Passage is one document of a search corpus; its JSONL form
// {"id","title","text"} is what the search index reads.
type Passage struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Text  string `json:"text"`
}

// Segment is a piece of a response: model-written text, or a tool result
// (an observation, kept out of the training loss).
type Segment struct {
	Text   string
	Result bool
}

// SplitResults cuts a response into model text and "<result>\n...\n</result>\n"
// blocks, so that supervised fine-tuning can mask the results. Concatenating
// the segments gives back the response.
func SplitResults(response string) []Segment {
	const open, closeTag = "<result>", "</result>\n"
	var segs []Segment
	s := response
	for {
		i := strings.Index(s, open)
		if i < 0 {
			break
		}
		j := strings.Index(s[i:], closeTag)
		if j < 0 {
			break
		}
		if i > 0 {
			segs = append(segs, Segment{Text: s[:i]})
		}
		end := i + j + len(closeTag)
		segs = append(segs, Segment{Text: s[i:end], Result: true})
		s = s[end:]
	}
	if s != "" {
		segs = append(segs, Segment{Text: s})
	}
	return segs
}

// ResultBlock formats a tool's output the way the rollout inserts it.
func ResultBlock(output string) string {
	return "<result>\n" + output + "\n</result>\n"
}

// setGolds stores golds[0] as the answer and the rest (nil when none) as aliases.
func (e *Example) setGolds(golds []string) {
	e.Answer, e.Aliases = golds[0], nil
	if len(golds) > 1 {
		e.Aliases = append([]string(nil), golds[1:]...)
	}
}
