package dashboard

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// evalFile matches an evaluation's trajectories, samples/eval-TAG.jsonl;
// TAG is "sft" or "rl-stepNNNN".
var evalFile = regexp.MustCompile(`^eval-([A-Za-z0-9][A-Za-z0-9._-]{0,63})\.jsonl$`)

// validTag is what an evaluation tag in a URL may be: the same characters as
// the file names, so a tag never reaches outside samples/.
var validTag = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// EvalFile is one evaluation's trajectory file.
type EvalFile struct {
	Tag   string `json:"tag"`
	Bytes int64  `json:"bytes"`
}

// evalFiles lists a run's evaluation files, the SFT one first, then by tag.
func evalFiles(runDir string) ([]EvalFile, error) {
	entries, err := os.ReadDir(filepath.Join(runDir, "samples"))
	if os.IsNotExist(err) {
		return []EvalFile{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := []EvalFile{}
	for _, e := range entries {
		m := evalFile.FindStringSubmatch(e.Name())
		if m == nil || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		out = append(out, EvalFile{Tag: m[1], Bytes: info.Size()})
	}
	sort.Slice(out, func(a, b int) bool {
		if (out[a].Tag == "sft") != (out[b].Tag == "sft") {
			return out[a].Tag == "sft"
		}
		return out[a].Tag < out[b].Tag
	})
	return out, nil
}

func evalPath(runDir, tag string) string {
	return filepath.Join(runDir, "samples", "eval-"+tag+".jsonl")
}

// sampleKey is what the filters read of a prediction line (rl.Prediction).
type sampleKey struct {
	ID       string  `json:"id"`
	Family   string  `json:"family"`
	Sample   int     `json:"sample"`
	Question string  `json:"question"`
	Score    float64 `json:"score"`
	Reward   float64 `json:"reward"`
	FormatOK bool    `json:"format_ok"`
}

// SampleFilter selects evaluation trajectories.
type SampleFilter struct {
	Family  string // "" for all
	Correct string // "", "yes" (score 1) or "no"
	Format  string // "", "ok" or "error"
	Query   string // case-insensitive substring of the question or id
}

func (f SampleFilter) match(k sampleKey) bool {
	switch {
	case f.Family != "" && k.Family != f.Family:
		return false
	case f.Correct == "yes" && k.Score < 1, f.Correct == "no" && k.Score >= 1:
		return false
	case f.Format == "ok" && !k.FormatOK, f.Format == "error" && k.FormatOK:
		return false
	case f.Query != "" && !strings.Contains(strings.ToLower(k.Question+" "+k.ID), strings.ToLower(f.Query)):
		return false
	}
	return true
}

// SamplePage is one page of an evaluation's trajectories.
type SamplePage struct {
	Tag      string            `json:"tag"`
	Total    int               `json:"total"`    // matching the filter
	All      int               `json:"all"`      // in the file
	Offset   int               `json:"offset"`   // of Rows[0] among the matches
	Rows     []json.RawMessage `json:"rows"`     // rl.Prediction lines as written
	Families []string          `json:"families"` // every family in the file
	Skipped  int               `json:"skipped_lines"`
}

// readSamples streams the file once, keeping only the page asked for, so a
// file of any size costs one page of memory.
func readSamples(path, tag string, f SampleFilter, offset, limit int) (SamplePage, error) {
	p := SamplePage{Tag: tag, Offset: offset, Rows: []json.RawMessage{}}
	fams := map[string]bool{}
	skipped, err := scanJSONL(path, func(line []byte) bool {
		var k sampleKey
		if json.Unmarshal(line, &k) != nil {
			return true
		}
		p.All++
		fams[k.Family] = true
		if !f.match(k) {
			return true
		}
		if p.Total >= offset && len(p.Rows) < limit {
			p.Rows = append(p.Rows, json.RawMessage(append([]byte(nil), line...)))
		}
		p.Total++
		return true
	})
	p.Skipped = skipped
	p.Families = sortedKeys(fams)
	return p, err
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// DiffRow is one question evaluated in both of two evaluations (its first
// sample), for the before/after view.
type DiffRow struct {
	ID       string  `json:"id"`
	Family   string  `json:"family"`
	Question string  `json:"question"`
	ScoreA   float64 `json:"score_a"`
	ScoreB   float64 `json:"score_b"`
	FormatA  bool    `json:"format_ok_a"`
	FormatB  bool    `json:"format_ok_b"`
}

// DiffPage pairs two evaluations' questions; Change filters them: "" all,
// "gained" (wrong in A, right in B), "lost" or "changed" (either).
type DiffPage struct {
	A, B    string    `json:"-"`
	Total   int       `json:"total"`
	Gained  int       `json:"gained"`
	Lost    int       `json:"lost"`
	Offset  int       `json:"offset"`
	Rows    []DiffRow `json:"rows"`
	Skipped int       `json:"skipped_lines"`
}

// readDiff pairs the first sample of each question in two evaluation files.
// Only the small keys are kept in memory, never the responses.
func readDiff(pathA, pathB, change string, f SampleFilter, offset, limit int) (DiffPage, error) {
	p := DiffPage{Offset: offset, Rows: []DiffRow{}}
	a := map[string]sampleKey{}
	skA, err := scanJSONL(pathA, func(line []byte) bool {
		var k sampleKey
		if json.Unmarshal(line, &k) == nil && k.Sample == 0 && k.ID != "" {
			a[k.ID] = k
		}
		return true
	})
	if err != nil {
		return p, err
	}
	var rows []DiffRow
	skB, err := scanJSONL(pathB, func(line []byte) bool {
		var k sampleKey
		if json.Unmarshal(line, &k) != nil || k.Sample != 0 {
			return true
		}
		ka, ok := a[k.ID]
		if !ok || !f.match(k) {
			return true
		}
		rows = append(rows, DiffRow{ID: k.ID, Family: k.Family, Question: k.Question, ScoreA: ka.Score, ScoreB: k.Score,
			FormatA: ka.FormatOK, FormatB: k.FormatOK})
		return true
	})
	if err != nil {
		return p, err
	}
	p.Skipped = skA + skB
	for _, r := range rows {
		gained, lost := r.ScoreB > r.ScoreA, r.ScoreB < r.ScoreA
		if gained {
			p.Gained++
		}
		if lost {
			p.Lost++
		}
		switch {
		case change == "gained" && !gained, change == "lost" && !lost, change == "changed" && !gained && !lost:
			continue
		}
		if p.Total >= offset && len(p.Rows) < limit {
			p.Rows = append(p.Rows, r)
		}
		p.Total++
	}
	return p, nil
}

// findSample returns the line of question id, sample 0, or nil.
func findSample(path, id string) (json.RawMessage, error) {
	var found json.RawMessage
	_, err := scanJSONL(path, func(line []byte) bool {
		var k sampleKey
		if json.Unmarshal(line, &k) == nil && k.ID == id && k.Sample == 0 {
			found = append(json.RawMessage(nil), line...)
			return false
		}
		return true
	})
	return found, err
}
