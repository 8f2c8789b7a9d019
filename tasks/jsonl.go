package tasks

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/goarpo/arpo/tasks/grade"
)

// Options say how to read a dataset file; the zero value infers everything.
type Options struct {
	Source string       // dataset name for Example.Source; default: the file name without extension
	Metric grade.Metric // default: "math" for math sources (gsm8k, math*, aime*) and "####" answers, else "f1"
}

// Field names tried, in order, for the question, the answer and the id.
var (
	questionKeys = []string{"question", "problem", "query", "prompt", "input"}
	answerKeys   = []string{"answer", "answers", "ground_truth", "golden_answers", "final_answer", "target", "reward_model"}
	idKeys       = []string{"id", "_id", "idx", "qid"}
)

// maxLine bounds one JSONL record; HotpotQA distractor rows reach ~100 KB.
// A variable only so that a test can lower it.
var maxLine = 64 << 20

// LoadJSONL reads a JSONL dataset file (see ReadJSONL).
func LoadJSONL(path string, opt Options) ([]Example, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if opt.Source == "" {
		opt.Source = SourceName(path)
	}
	ex, err := ReadJSONL(f, opt)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ex, nil
}

// SourceName is a dataset name from a file path: "eval/gsm8k.jsonl" -> "gsm8k".
func SourceName(path string) string {
	b := filepath.Base(path)
	return strings.TrimSuffix(b, filepath.Ext(b))
}

// ReadJSONL reads one example per line. It accepts the common field names
// (question/problem, answer/answers/ground_truth, ...), answers given as
// strings, numbers, JSON lists or Python list literals, GSM8K solutions
// ending in "#### N" (the number becomes the answer, the solution goes to
// Meta["solution"]), and the files WriteJSONL writes from Examples. Blank
// lines are skipped; a bad line is an error naming the line.
func ReadJSONL(r io.Reader, opt Options) ([]Example, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), maxLine)
	var out []Example
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		e, err := decodeRecord(b, opt)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if e.ID == "" {
			e.ID = strconv.Itoa(len(out))
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, scanError(err, line+1)
	}
	return out, nil
}

// scanError names the line a bufio.Scanner stopped at when it was too long
// ("bufio.Scanner: token too long" says neither which line nor the limit).
func scanError(err error, line int) error {
	if errors.Is(err, bufio.ErrTooLong) {
		return fmt.Errorf("line %d is longer than %d MiB, the most one record may have", line, maxLine>>20)
	}
	return err
}

func decodeRecord(b []byte, opt Options) (Example, error) {
	var rec map[string]json.RawMessage
	if err := json.Unmarshal(b, &rec); err != nil {
		return Example{}, err
	}
	if _, native := rec["metric"]; native {
		// Written by WriteJSONL from an Example: read it back as it was.
		var e Example
		if err := json.Unmarshal(b, &e); err != nil {
			return Example{}, err
		}
		if _, err := grade.ParseMetric(string(e.Metric)); err != nil {
			return Example{}, err
		}
		return e, nil
	}
	e := Example{Source: opt.Source, Metric: opt.Metric}
	used := map[string]bool{}
	qk, ok := firstKey(rec, questionKeys)
	if !ok {
		return e, fmt.Errorf("no question field (tried %v)", questionKeys)
	}
	used[qk] = true
	if err := decodeQuestion(rec[qk], &e); err != nil {
		return e, fmt.Errorf("field %q: %w", qk, err)
	}
	ak, ok := firstKey(rec, answerKeys)
	if !ok {
		return e, fmt.Errorf("no answer field (tried %v)", answerKeys)
	}
	used[ak] = true
	golds, err := decodeAnswers(rec[ak])
	if err != nil {
		return e, fmt.Errorf("field %q: %w", ak, err)
	}
	if len(golds) == 0 {
		return e, fmt.Errorf("field %q: empty answer list", ak)
	}
	gsm := false
	if len(golds) == 1 {
		if a, reasoning, ok := GSM8KAnswer(golds[0]); ok {
			golds[0], gsm = a, true
			e.setMeta("solution", reasoning)
		}
	}
	e.setGolds(golds)
	if k, ok := firstKey(rec, idKeys); ok {
		used[k] = true
		e.ID = scalarString(rec[k])
	}
	for k, v := range rec {
		if !used[k] && !isQuestionKey(k) {
			if s := scalarString(v); s != "" {
				e.setMeta(k, s)
			}
		}
	}
	if e.Metric == "" {
		e.Metric = inferMetric(e.Source, gsm)
	}
	return e, nil
}

// decodeQuestion takes a string, or a chat prompt (a list of {role, content})
// whose last user message is the question and whose system message is kept.
func decodeQuestion(raw json.RawMessage, e *Example) error {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		e.Question = s
		return nil
	}
	var msgs []Message
	if err := json.Unmarshal(raw, &msgs); err != nil {
		return fmt.Errorf("want a string or a list of messages: %w", err)
	}
	return e.setMessages(msgs)
}

// Message is one chat message of a dataset prompt.
type Message struct {
	Role    string `json:"role" parquet:"role,optional"`
	Content string `json:"content" parquet:"content,optional"`
}

func (e *Example) setMessages(msgs []Message) error {
	for _, m := range msgs {
		switch m.Role {
		case "system":
			e.System = m.Content
		case "user":
			e.Question = m.Content
		}
	}
	if e.Question == "" {
		return fmt.Errorf("prompt has no user message")
	}
	return nil
}

func (e *Example) setMeta(k, v string) {
	if e.Meta == nil {
		e.Meta = map[string]string{}
	}
	e.Meta[k] = v
}

func firstKey(rec map[string]json.RawMessage, keys []string) (string, bool) {
	for _, k := range keys {
		if v, ok := rec[k]; ok && string(v) != "null" {
			return k, true
		}
	}
	return "", false
}

func isQuestionKey(k string) bool {
	for _, q := range questionKeys {
		if k == q {
			return true
		}
	}
	return false
}

// scalarString renders a JSON string, number or bool; "" for other values.
func scalarString(raw json.RawMessage) string {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s
	}
	t := strings.TrimSpace(string(raw))
	if t == "true" || t == "false" {
		return t
	}
	if _, err := strconv.ParseFloat(t, 64); err == nil {
		return t
	}
	return ""
}

func inferMetric(source string, gsm8k bool) grade.Metric {
	s := strings.ToLower(source)
	if gsm8k || strings.Contains(s, "gsm8k") || strings.Contains(s, "math") || strings.Contains(s, "aime") {
		return grade.MetricMath
	}
	return grade.MetricF1
}

// WriteJSONL writes one JSON object per line (Examples, Passages, ...),
// without HTML escaping so that "<think>" stays readable.
func WriteJSONL[T any](path string, items []T) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for i := range items {
		if err := enc.Encode(&items[i]); err != nil {
			f.Close()
			return fmt.Errorf("%s: item %d: %w", path, i, err)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}

// LoadPassages reads a corpus written as JSONL {"id","title","text"}.
func LoadPassages(path string) ([]Passage, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<16), maxLine)
	var out []Passage
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var p Passage
		if err := json.Unmarshal(b, &p); err != nil {
			return nil, fmt.Errorf("%s: line %d: %w", path, line, err)
		}
		out = append(out, p)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, scanError(err, line+1))
	}
	return out, nil
}
