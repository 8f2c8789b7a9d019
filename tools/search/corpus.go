package search

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Doc is one passage.
type Doc struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Text  string `json:"text"`
}

// Contents is the passage in the "contents" form of Search-R1 and FlashRAG
// corpora: the title on the first line, the text after it.
func (d Doc) Contents() string {
	if d.Title == "" {
		return d.Text
	}
	if d.Text == "" {
		return d.Title
	}
	return d.Title + "\n" + d.Text
}

type corpusRecord struct {
	ID       json.RawMessage `json:"id"`
	Title    string          `json:"title"`
	Text     string          `json:"text"`
	Contents *string         `json:"contents"`
}

// maxLine bounds one corpus record (a variable only so that a test can
// lower it).
var maxLine = 64 << 20

// ReadCorpus reads JSONL passages, each either {"id","title","text"} or
// {"id","contents"}. A "contents" record is split like Search-R1 does: its
// first line is the title. Numeric ids are kept as their decimal text. A bad
// line is an error naming the line; blank lines are skipped.
func ReadCorpus(r io.Reader) ([]Doc, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, min(1<<20, maxLine)), maxLine)
	var docs []Doc
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		var rec corpusRecord
		if err := json.Unmarshal(b, &rec); err != nil {
			return nil, fmt.Errorf("corpus line %d: %w", line, err)
		}
		d := Doc{ID: idString(rec.ID), Title: rec.Title, Text: rec.Text}
		if rec.Contents != nil {
			d.Title, d.Text, _ = strings.Cut(*rec.Contents, "\n")
		}
		if d.ID == "" {
			d.ID = fmt.Sprint(len(docs))
		}
		docs = append(docs, d)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) { // the scanner's message names neither line nor limit
			return nil, fmt.Errorf("corpus line %d is longer than %d MiB, the most one passage may have", line+1, maxLine>>20)
		}
		return nil, fmt.Errorf("corpus: %w", err)
	}
	return docs, nil
}

func idString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return strings.TrimSpace(string(raw))
}

// ReadCorpusFile is ReadCorpus on a file.
func ReadCorpusFile(path string) ([]Doc, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	docs, err := ReadCorpus(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return docs, nil
}

// FormatHits renders passages the way Search-R1 shows them to the model:
// "Doc i(Title: t) text" one per line.
func FormatHits(docs []Doc) string {
	if len(docs) == 0 {
		return "No results found."
	}
	var b strings.Builder
	for i, d := range docs {
		fmt.Fprintf(&b, "Doc %d(Title: %s) %s\n", i+1, d.Title, d.Text)
	}
	return strings.TrimRight(b.String(), "\n")
}
