package tasks

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/goarpo/arpo/tasks/grade"
)

// hotpotRow is a HotpotQA distractor-setting record: ten context paragraphs
// given as [title, [sentence, ...]], two of which support the answer.
type hotpotRow struct {
	ID       string            `json:"_id"`
	Question string            `json:"question"`
	Answer   json.RawMessage   `json:"answer"`
	Type     string            `json:"type"`
	Level    string            `json:"level"`
	Context  []json.RawMessage `json:"context"`
}

// LoadHotpotLocal reads a HotpotQA distractor file (for instance
// ../shared/data/eval/hotpotqa_distractor_600.jsonl) as the "hotpotqa-local"
// task: the questions, graded by F1, and a search corpus made of every
// question's context paragraphs, each paragraph once (paragraphs shared by
// several questions are kept once, in order of first appearance). The
// corpus answers the questions without the web, with the other questions'
// paragraphs as extra distractors.
func LoadHotpotLocal(path string) ([]Example, []Passage, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<16), maxLine)
	var (
		examples []Example
		corpus   []Passage
		seen     = map[string]bool{}
	)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var row hotpotRow
		if err := json.Unmarshal(b, &row); err != nil {
			return nil, nil, fmt.Errorf("%s: line %d: %w", path, line, err)
		}
		golds, err := decodeAnswers(row.Answer)
		if err != nil || len(golds) == 0 || row.Question == "" {
			return nil, nil, fmt.Errorf("%s: line %d: want a question and an answer", path, line)
		}
		e := Example{
			ID: row.ID, Source: "hotpotqa-local", Question: row.Question,
			Metric: grade.MetricF1,
		}
		e.setGolds(golds)
		if e.ID == "" {
			e.ID = strconv.Itoa(len(examples))
		}
		if row.Type != "" {
			e.setMeta("type", row.Type)
		}
		if row.Level != "" {
			e.setMeta("level", row.Level)
		}
		examples = append(examples, e)
		for _, raw := range row.Context {
			title, text, err := hotpotParagraph(raw)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: line %d: context: %w", path, line, err)
			}
			key := title + "\x00" + text
			if seen[key] {
				continue
			}
			seen[key] = true
			corpus = append(corpus, Passage{ID: strconv.Itoa(len(corpus)), Title: title, Text: text})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, scanError(err, line+1))
	}
	return examples, corpus, nil
}

// hotpotParagraph decodes [title, [sentences...]]; the sentences carry
// their own leading spaces, so they are joined as they are.
func hotpotParagraph(raw json.RawMessage) (title, text string, err error) {
	var pair []json.RawMessage
	if err := json.Unmarshal(raw, &pair); err != nil || len(pair) != 2 {
		return "", "", fmt.Errorf("want [title, sentences]")
	}
	if err := json.Unmarshal(pair[0], &title); err != nil {
		return "", "", fmt.Errorf("title: %w", err)
	}
	var sents []string
	if err := json.Unmarshal(pair[1], &sents); err != nil {
		return "", "", fmt.Errorf("sentences: %w", err)
	}
	return title, strings.TrimSpace(strings.Join(sents, "")), nil
}
