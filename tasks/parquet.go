package tasks

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/parquet-go/parquet-go"

	"github.com/goarpo/arpo/tasks/grade"
)

// verlRow is the row layout of verl RL datasets such as the ARPO training
// mix: a chat prompt, a data source, an ability ("math" or "qa") and the
// ground truth under reward_model. Columns a file lacks read as zero.
type verlRow struct {
	DataSource  string    `parquet:"data_source,optional"`
	Prompt      []Message `parquet:"prompt,optional,list"`
	Ability     string    `parquet:"ability,optional"`
	RewardModel struct {
		GroundTruth string `parquet:"ground_truth,optional"`
		Style       string `parquet:"style,optional"`
	} `parquet:"reward_model,optional"`
	ExtraInfo struct {
		Index    int64  `parquet:"index,optional"`
		Question string `parquet:"question,optional"`
		Split    string `parquet:"split,optional"`
	} `parquet:"extra_info,optional"`
}

// LoadParquet reads a verl-style Parquet dataset (prompt messages,
// reward_model.ground_truth, data_source, ability, extra_info). The metric
// follows the row's ability ("math" grades by equivalence, anything else by
// F1) unless opt.Metric is set; Source is the row's data_source unless
// opt.Source is set.
func LoadParquet(path string, opt Options) ([]Example, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if _, err := parquet.OpenFile(f, st.Size()); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r := parquet.NewGenericReader[verlRow](f)
	defer r.Close()
	var out []Example
	buf := make([]verlRow, 256)
	for {
		n, err := r.Read(buf)
		for i := range buf[:n] {
			e, cerr := exampleFromVerl(&buf[i], len(out), opt)
			if cerr != nil {
				return nil, fmt.Errorf("%s: row %d: %w", path, len(out), cerr)
			}
			out = append(out, e)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if n == 0 {
			break
		}
	}
	return out, nil
}

func exampleFromVerl(row *verlRow, i int, opt Options) (Example, error) {
	e := Example{ID: strconv.Itoa(i), Source: opt.Source, Metric: opt.Metric}
	if e.Source == "" {
		e.Source = row.DataSource
	}
	if err := e.setMessages(row.Prompt); err != nil {
		if row.ExtraInfo.Question == "" {
			return e, err
		}
		e.Question = row.ExtraInfo.Question
	}
	golds, err := answersOf(row.RewardModel.GroundTruth)
	if err != nil || len(golds) == 0 || golds[0] == "" {
		return e, fmt.Errorf("no ground truth")
	}
	e.setGolds(golds)
	if e.Metric == "" {
		e.Metric = grade.MetricF1
		if row.Ability == "math" {
			e.Metric = grade.MetricMath
		}
	}
	e.setMeta("data_source", row.DataSource)
	if row.Ability != "" {
		e.setMeta("ability", row.Ability)
	}
	if row.ExtraInfo.Split != "" {
		e.setMeta("split", row.ExtraInfo.Split)
	}
	return e, nil
}
