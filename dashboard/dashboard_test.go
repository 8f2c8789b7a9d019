package dashboard

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/rl"
	"github.com/goarpo/arpo/tasks"
	"github.com/goarpo/arpo/tasks/grade"
)

func write(t *testing.T, path, data string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(data), 0o644))
}

// fakeRun makes a run folder in the middle of RL: 3 of 5 steps, the SFT
// evaluation, a metrics file whose last line is still being written and
// one torn line from a crash that a resumed run appended after.
func fakeRun(t *testing.T, dir string) {
	write(t, filepath.Join(dir, "config.json"), `{"algo":"arpo","preset":"smoke","sft-steps":2,"rl-steps":5}`)
	write(t, filepath.Join(dir, "sft.jsonl"), `{"step":1,"loss":5.5,"tokens":100,"tokens_per_s":1000}
{"step":2,"loss":5.25,"tokens":100,"tokens_per_s":1000}
`)
	write(t, filepath.Join(dir, "metrics.jsonl"), `{"step":1,"reward_mean":-0.5,"accuracy":0.125,"elapsed_s":10,"time_rollout_s":1,"time_update_s":1}
{"step":2,"reward_mean":0.25,"accu{"step":2,"reward_mean":0.25,"accuracy":0.5,"elapsed_s":12,"time_rollout_s":1,"time_update_s":1}
{"step":3,"reward_mean":0.1234567891234,"accuracy":0.75,"elapsed_s":14,"time_rollout_s":1,"time_update_s":1}
{"step":4,"reward_mean":0.3,"acc`)
	write(t, filepath.Join(dir, "evals.jsonl"), `{"tag":"sft","step":0,"overall":{"family":"all","pass1":0.5},"families":[{"family":"lookup","pass1":0.5}]}
`)
	write(t, filepath.Join(dir, "samples", "eval-sft.json"), `{}`)
	var b strings.Builder
	for i := range 1000 {
		fam := []string{"lookup", "arith"}[i%2]
		score, ok := float64(i%3/2), i%5 != 0
		fmt.Fprintf(&b, `{"id":"q%04d","family":%q,"sample":0,"question":"question %d","gold":"g","response":"r%d","answer":"a","reward":%v,"score":%v,"format_ok":%v,"calls":{},"stop":"eos"}`+"\n",
			i, fam, i, i, score, score, ok)
	}
	write(t, filepath.Join(dir, "samples", "eval-sft.jsonl"), b.String())
	// The same questions after RL: every third one is now right.
	b.Reset()
	for i := range 1000 {
		score := float64(i % 3 / 2)
		if i%3 == 0 {
			score = 1
		}
		fmt.Fprintf(&b, `{"id":"q%04d","family":"lookup","sample":0,"question":"question %d","gold":"g","response":"r%d after","answer":"a","reward":%v,"score":%v,"format_ok":true,"calls":{},"stop":"eos"}`+"\n",
			i, i, i, score, score)
	}
	write(t, filepath.Join(dir, "samples", "eval-rl-step0003.jsonl"), b.String())
}

type fakeTok struct{}

func (fakeTok) Encode(s string) []int32           { return nil }
func (fakeTok) Decode(ids []int32) string         { return "" }
func (fakeTok) TokenText(id int32) string         { return fmt.Sprintf("<%d>", id) }
func (fakeTok) EncodeResult(s string) []int32     { return nil }
func (fakeTok) VocabSize() int                    { return 100 }
func (fakeTok) Special(name string) (int32, bool) { return 0, false }

// fakeTree is a prompt, one call with its result (a branch point that
// branched once) and two answers.
func fakeTree() (TreeInput, *rl.Tree) {
	tr := &rl.Tree{}
	tr.AddNode(rl.Node{Parent: -1, Tokens: []int32{1, 2}, LossMask: []float32{0, 0}, LogProbs: []float32{0, 0}, Entropies: []float32{0, 0}})
	tr.AddNode(rl.Node{Parent: 0, Tokens: []int32{3, 4, 5, 6}, LossMask: []float32{1, 1, 0, 0}, LogProbs: make([]float32, 4),
		Entropies: []float32{float32(math.Log(100)), float32(math.Log(100) / 2), 0, 0}, ToolCalls: 1,
		Branch: &rl.BranchPoint{DeltaH: 0.25, Prob: 0.55, Branched: true, Children: 1}})
	tr.AddNode(rl.Node{Parent: 1, Tokens: []int32{7}, LossMask: []float32{1}, LogProbs: []float32{0}, Entropies: []float32{0.1}})
	tr.AddNode(rl.Node{Parent: 1, Tokens: []int32{8}, LossMask: []float32{1}, LogProbs: []float32{0}, Entropies: []float32{0.2}})
	tr.Leaves = []int{3, 2}
	ok := grade.Reward{Value: 1, Score: 1, Format: grade.Format{Answer: "x"}}
	bad := grade.Reward{Value: -1, Format: grade.Format{Err: grade.ErrFormat}}
	ex := &tasks.Example{ID: "q1", Question: "Who?", Answer: "x", Family: "lookup"}
	return TreeInput{
		Step: 3, Prompt: 1, Example: rl.Prompt{Example: ex}, Tree: tr,
		Trajs: []rl.Scored{
			{Trajectory: rl.Trajectory{Leaf: 3, Stop: "stop", Branched: true, Tree: tr}, Reward: bad, Adv: -0.5},
			{Trajectory: rl.Trajectory{Leaf: 2, Stop: "stop", Tree: tr}, Reward: ok, Adv: 0.5},
		},
	}, tr
}

func TestRecordTree(t *testing.T) {
	in, _ := fakeTree()
	rec := RecordTree(in, fakeTok{}, 100)
	assert.Equal(t, 3, rec.Step)
	assert.Equal(t, "Who?", rec.Question)
	assert.Equal(t, "lookup", rec.Family)
	require.Len(t, rec.Nodes, 4)
	assert.Equal(t, []TreeSpan{{Kind: "prompt", Tokens: []string{"<1>", "<2>"}}}, rec.Nodes[0].Spans)
	assert.Equal(t, []TreeSpan{
		{Kind: "policy", Tokens: []string{"<3>", "<4>"}, Entropy: []float64{1, 0.5}}, // divided by ln V
		{Kind: "result", Tokens: []string{"<5>", "<6>"}},
	}, rec.Nodes[1].Spans)
	assert.Equal(t, &TreeBranch{DeltaH: 0.25, Prob: 0.55, Branched: true, Children: 1}, rec.Nodes[1].Branch)
	assert.Equal(t, 1, rec.Nodes[1].ToolCalls)
	assert.Nil(t, rec.Nodes[2].Branch)
	assert.Equal(t, 0.0217, rec.Nodes[2].Spans[0].Entropy[0], "0.1 / ln 100, rounded")
	assert.Equal(t, []TreeLeaf{
		{Node: 2, Reward: 1, Score: 1, Adv: 0.5, FormatOK: true, Answer: "x", Stop: "stop"},
		{Node: 3, Reward: -1, Adv: -0.5, Stop: "stop", Branched: true},
	}, rec.Leaves)

	// Written and read back through the API.
	dir := t.TempDir()
	write(t, filepath.Join(dir, "config.json"), `{}`)
	require.NoError(t, WriteTrees(TreesPath(dir, 3), []TreeRecord{rec}))
	ts := serve(t, Run{ID: "r", Name: "r", Dir: dir})
	var steps struct{ Steps []int }
	get(t, ts, "/api/run/r/trees", 200, &steps)
	assert.Equal(t, []int{3}, steps.Steps)
	var list struct{ Prompts []TreeSummary }
	get(t, ts, "/api/run/r/trees/3", 200, &list)
	assert.Equal(t, []TreeSummary{{Prompt: 1, ID: "q1", Family: "lookup", Question: "Who?", Nodes: 4, Leaves: 2, Branches: 1, ToolCalls: 1, Correct: 1}}, list.Prompts)
	var back TreeRecord
	get(t, ts, "/api/run/r/trees/3/1", 200, &back)
	assert.Equal(t, rec, back)
	get(t, ts, "/api/run/r/trees/3/0", 404, nil)
	get(t, ts, "/api/run/r/trees/4/1", 404, nil)
}

func serve(t *testing.T, runs ...Run) *httptest.Server {
	t.Helper()
	s, err := New(runs)
	require.NoError(t, err)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts
}

// get fetches path, checks the status and decodes the JSON answer into v.
func get(t *testing.T, ts *httptest.Server, path string, code int, v any) string {
	t.Helper()
	resp, err := http.Get(ts.URL + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, code, resp.StatusCode, "%s: %s", path, body)
	if strings.HasPrefix(path, "/api/") {
		assert.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"), path)
		assert.True(t, json.Valid(body), "%s: %s", path, body)
	}
	if v != nil {
		require.NoError(t, json.Unmarshal(body, v), string(body))
	}
	return string(body)
}

func TestRunFolderEndpoints(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run1")
	fakeRun(t, dir)
	runs, err := FindRuns([]string{dir})
	require.NoError(t, err)
	ts := serve(t, runs...)
	id := runs[0].ID
	assert.Equal(t, "run1", id)

	var list []RunInfo
	get(t, ts, "/api/runs", 200, &list)
	require.Len(t, list, 1)
	st := list[0]
	assert.Empty(t, list[0].Error)
	assert.Equal(t, "rl", st.Phase)
	assert.Equal(t, 3, st.Step, "the torn fourth line is not a step yet")
	assert.Equal(t, 5, st.Total)
	assert.Equal(t, 1, st.Skipped, "the line a crash cut")
	assert.InDelta(t, 4.0, st.ETASeconds, 1e-9, "2 s a step, 2 steps left")
	assert.Equal(t, "arpo", st.Algo)

	var lines Lines
	get(t, ts, "/api/run/"+id+"/metrics", 200, &lines)
	require.Len(t, lines.Rows, 3, "the line after the torn one is read")
	assert.JSONEq(t, `{"step":2,"reward_mean":0.25,"accuracy":0.5,"elapsed_s":12,"time_rollout_s":1,"time_update_s":1}`, string(lines.Rows[1]))
	assert.Equal(t, 1, lines.Skipped)
	// Numbers pass through exactly as written.
	assert.JSONEq(t, `{"step":3,"reward_mean":0.1234567891234,"accuracy":0.75,"elapsed_s":14,"time_rollout_s":1,"time_update_s":1}`, string(lines.Rows[2]))
	get(t, ts, "/api/run/"+id+"/metrics?after=2", 200, &lines)
	require.Len(t, lines.Rows, 1)
	get(t, ts, "/api/run/"+id+"/sft", 200, &lines)
	assert.Len(t, lines.Rows, 2)
	get(t, ts, "/api/run/"+id+"/evals", 200, &lines)
	assert.Len(t, lines.Rows, 1)
	var cfg map[string]any
	get(t, ts, "/api/run/"+id+"/config", 200, &cfg)
	assert.Equal(t, "arpo", cfg["algo"])

	// The line being written completes: the next read has it.
	f, err := os.OpenFile(filepath.Join(dir, "metrics.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(`uracy":0.5}` + "\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	get(t, ts, "/api/run/"+id+"/metrics", 200, &lines)
	assert.Len(t, lines.Rows, 4)

	// Samples: streamed, filtered and paginated.
	var files struct{ Evals []EvalFile }
	get(t, ts, "/api/run/"+id+"/samples", 200, &files)
	require.Len(t, files.Evals, 2)
	assert.Equal(t, "sft", files.Evals[0].Tag, "the SFT evaluation first")
	var page SamplePage
	get(t, ts, "/api/run/"+id+"/samples/sft?offset=990&limit=20", 200, &page)
	assert.Equal(t, 1000, page.Total)
	assert.Equal(t, 1000, page.All)
	assert.Len(t, page.Rows, 10)
	assert.Equal(t, []string{"arith", "lookup"}, page.Families)
	get(t, ts, "/api/run/"+id+"/samples/sft?family=lookup&correct=yes&format=ok&limit=500", 200, &page)
	want := 0
	for i := range 1000 {
		if i%2 == 0 && i%3 == 2 && i%5 != 0 {
			want++
		}
	}
	assert.Equal(t, want, page.Total)
	for _, r := range page.Rows {
		var p struct {
			Family   string
			Score    float64
			FormatOK bool `json:"format_ok"`
		}
		require.NoError(t, json.Unmarshal(r, &p))
		assert.Equal(t, "lookup", p.Family)
		assert.Equal(t, 1.0, p.Score)
		assert.True(t, p.FormatOK)
	}
	get(t, ts, "/api/run/"+id+"/samples/sft?q=Q0007", 200, &page)
	assert.Equal(t, 1, page.Total, "the search is case-insensitive and matches ids")

	// Before and after.
	var diff DiffPage
	get(t, ts, "/api/run/"+id+"/diff?a=sft&b=rl-step0003&change=gained&limit=5", 200, &diff)
	assert.Equal(t, 334, diff.Gained)
	assert.Equal(t, 0, diff.Lost)
	assert.Equal(t, 334, diff.Total)
	assert.Len(t, diff.Rows, 5)
	assert.Equal(t, DiffRow{ID: "q0000", Family: "lookup", Question: "question 0", ScoreA: 0, ScoreB: 1, FormatA: false, FormatB: true}, diff.Rows[0])
	var pair map[string]map[string]any
	get(t, ts, "/api/run/"+id+"/diff/q0003?a=sft&b=rl-step0003", 200, &pair)
	assert.Equal(t, "r3", pair["a"]["response"])
	assert.Equal(t, "r3 after", pair["b"]["response"])
	get(t, ts, "/api/run/"+id+"/diff/nope?a=sft&b=rl-step0003", 404, nil)

	// No trees yet is an empty list, not an error.
	var steps struct{ Steps []int }
	get(t, ts, "/api/run/"+id+"/trees", 200, &steps)
	assert.Empty(t, steps.Steps)

	// The pages.
	body := get(t, ts, "/", 200, nil)
	assert.Contains(t, body, `<script src="app.js"`)
	for _, f := range []string{"/app.js", "/charts.js", "/style.css"} {
		get(t, ts, f, 200, nil)
	}
	resp, err := http.Post(ts.URL+"/api/runs", "application/json", strings.NewReader("{}"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

func TestPhases(t *testing.T) {
	dir := t.TempDir()
	status := func() Status {
		st, err := readStatus(Run{ID: "r", Name: "r", Dir: dir})
		require.NoError(t, err)
		return st
	}
	write(t, filepath.Join(dir, "config.json"), `{"algo":"grpo","sft-steps":4,"rl-steps":2}`)
	assert.Equal(t, "sft", status().Phase)
	write(t, filepath.Join(dir, "sft.jsonl"), `{"step":1,"tokens":10,"tokens_per_s":5}`+"\n")
	st := status()
	assert.Equal(t, "sft", st.Phase)
	assert.Equal(t, 1, st.Step)
	assert.InDelta(t, 6.0, st.ETASeconds, 1e-9, "2 s a step, 3 to go")
	write(t, filepath.Join(dir, "sft.jsonl"), `{"step":4}`+"\n")
	assert.Equal(t, "eval", status().Phase, "SFT done, its evaluation running")
	write(t, filepath.Join(dir, "samples", "eval-sft.json"), `{}`)
	assert.Equal(t, "rl", status().Phase)
	write(t, filepath.Join(dir, "metrics.jsonl"), `{"step":1}`+"\n"+`{"step":2}`+"\n")
	assert.Equal(t, "eval", status().Phase, "the final evaluation")
	write(t, filepath.Join(dir, "summary.json"), `{"seconds":42}`)
	st = status()
	assert.Equal(t, "done", st.Phase)
	assert.Equal(t, 42.0, st.Elapsed)

	// Resumed with more RL steps: a new metrics line after the summary.
	later := time.Now().Add(time.Second)
	write(t, filepath.Join(dir, "metrics.jsonl"), `{"step":1}`+"\n"+`{"step":2}`+"\n"+`{"step":3}`+"\n")
	require.NoError(t, os.Chtimes(filepath.Join(dir, "metrics.jsonl"), later, later))
	st, err := readStatus(Run{ID: "r", Name: "r", Dir: dir, Live: true, RLSteps: 6})
	require.NoError(t, err)
	assert.Equal(t, "rl", st.Phase)
	assert.Equal(t, 3, st.Step)
	assert.Equal(t, 6, st.Total, "the trainer's steps, not config.json's")
}

func TestNotARunFolder(t *testing.T) {
	empty := t.TempDir()
	_, err := FindRuns([]string{empty})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is not a run folder")
	_, err = FindRuns([]string{filepath.Join(empty, "missing")})
	assert.ErrorContains(t, err, "no such file or directory")
	write(t, filepath.Join(empty, "file.txt"), "x")
	_, err = FindRuns([]string{filepath.Join(empty, "file.txt")})
	assert.ErrorContains(t, err, "is a file, not a run folder")

	// An experiment folder stands for the runs below it.
	exp := t.TempDir()
	fakeRun(t, filepath.Join(exp, "cells", "arpo-s1"))
	fakeRun(t, filepath.Join(exp, "cells", "grpo-s1"))
	write(t, filepath.Join(exp, "spec.yaml"), "x")
	runs, err := FindRuns([]string{exp})
	require.NoError(t, err)
	require.Len(t, runs, 2)
	base := filepath.Base(exp)
	assert.Equal(t, filepath.Join(base, "cells", "arpo-s1"), runs[0].Name)
	assert.Equal(t, slug(base)+"_cells_arpo-s1", runs[0].ID)

	// A folder that stops being a run (removed while served) is a clear
	// answer, not a crash.
	dir := filepath.Join(t.TempDir(), "gone")
	fakeRun(t, dir)
	ts := serve(t, Run{ID: "gone", Name: "gone", Dir: dir})
	require.NoError(t, os.RemoveAll(dir))
	body := get(t, ts, "/api/run/gone/status", 404, nil)
	assert.Contains(t, body, "no such file")
	var list []RunInfo
	get(t, ts, "/api/runs", 200, &list)
	assert.NotEmpty(t, list[0].Error)
	get(t, ts, "/api/run/gone/metrics", 200, nil)

	// A live run's folder may not exist yet.
	live := Run{ID: "live", Name: "live", Dir: filepath.Join(t.TempDir(), "later"), Live: true}
	st, err := readStatus(live)
	require.NoError(t, err)
	assert.Equal(t, "starting", st.Phase)
	assert.False(t, st.Exists)
}

func TestMalformedQueries(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	fakeRun(t, dir)
	in, _ := fakeTree()
	require.NoError(t, WriteTrees(TreesPath(dir, 3), []TreeRecord{RecordTree(in, fakeTok{}, 100)}))
	ts := serve(t, Run{ID: "r", Name: "r", Dir: dir})
	for _, path := range []string{
		"/api/run/r/samples/sft?offset=-1",
		"/api/run/r/samples/sft?offset=abc",
		"/api/run/r/samples/sft?limit=0",
		"/api/run/r/samples/sft?limit=100000",
		"/api/run/r/samples/sft?limit=1e3",
		"/api/run/r/samples/sft?limit=5&limit=6",
		"/api/run/r/samples/sft?correct=maybe",
		"/api/run/r/samples/sft?format=bad",
		"/api/run/r/samples/sft?famly=lookup",
		"/api/run/r/samples/sft?q=" + strings.Repeat("x", 300),
		"/api/run/r/samples/.hidden",
		"/api/run/r/samples/a%20b",
		"/api/run/r/metrics?after=x",
		"/api/run/r/metrics?after=99999999999999999999",
		"/api/run/r/diff?a=sft",
		"/api/run/r/diff?a=sft&b=rl-step0003&change=sideways",
		"/api/run/r/diff?a=..%2Fconfig&b=sft",
		"/api/run/r/trees/x",
		"/api/run/r/trees/-3",
		"/api/run/r/trees/3/x",
		"/api/run/r/trees/3/-1",
		"/api/run/r/trees/99999999999999999999",
	} {
		var e struct{ Error string }
		get(t, ts, path, 400, &e)
		assert.NotEmpty(t, e.Error, path)
	}
	for _, path := range []string{
		"/api/run/nope/status",
		"/api/run/r/samples/rl-step9999",
		"/api/run/r/diff?a=sft&b=rl-step9999",
		"/api/run/r/trees/4",
		"/api/nothing",
	} {
		var e struct{ Error string }
		get(t, ts, path, 404, &e)
		assert.NotEmpty(t, e.Error, path)
	}
}

// rawGet sends path as it is (no cleaning, no redirects followed).
func rawGet(t *testing.T, ts *httptest.Server, path string) (int, string) {
	t.Helper()
	c, err := net.Dial("tcp", ts.Listener.Addr().String())
	require.NoError(t, err)
	defer c.Close()
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestPathTraversal(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "run")
	fakeRun(t, dir)
	secret := "TOP-SECRET-CONTENT"
	write(t, filepath.Join(root, "secret.json"), `{"s":"`+secret+`"}`)
	write(t, filepath.Join(root, "eval-x.jsonl"), `{"id":"`+secret+`"}`+"\n")
	write(t, filepath.Join(root, "trees-step0001.jsonl"), `{"prompt":0,"question":"`+secret+`"}`+"\n")
	ts := serve(t, Run{ID: "run", Name: "run", Dir: dir})
	for _, path := range []string{
		"/api/run/../../etc/passwd",
		"/api/run/..%2f..%2fetc%2fpasswd/config",
		"/api/run/%2e%2e/config",
		"/api/run/run/../../secret.json",
		"/api/run/run/samples/..%2f..%2feval-x",
		"/api/run/run/samples/%2e%2e%2feval-x",
		"/api/run/run/samples/../../eval-x",
		"/api/run/run/trees/..%2f1",
		"/api/run/run/diff?a=..%2F..%2Feval-x&b=sft",
		"/api/run/run/diff?a=....//eval-x&b=sft",
		"/../secret.json",
		"/%2e%2e/secret.json",
		"/..%2fsecret.json",
		"/../../../../etc/passwd",
		"/assets/../dashboard.go",
	} {
		code, body := rawGet(t, ts, path)
		assert.NotContains(t, body, secret, path)
		assert.NotContains(t, body, "root:", path)
		assert.NotEqual(t, 200, code, "%s answered %s", path, body)
	}
}

// TestReadWhileWriting reads a run while a writer appends metrics lines in
// two halves each: every answer is whole JSON with whole lines only.
func TestReadWhileWriting(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	write(t, filepath.Join(dir, "config.json"), `{"rl-steps":200}`)
	ts := serve(t, Run{ID: "r", Name: "r", Dir: dir})
	f, err := os.Create(filepath.Join(dir, "metrics.jsonl"))
	require.NoError(t, err)
	defer f.Close()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for step := 1; step <= 200; step++ {
			line := fmt.Sprintf(`{"step":%d,"reward_mean":%d.5}`+"\n", step, step)
			f.WriteString(line[:len(line)/2])
			time.Sleep(50 * time.Microsecond)
			f.WriteString(line[len(line)/2:])
		}
	}()
	last := 0
	for last < 200 {
		var lines Lines
		get(t, ts, "/api/run/r/metrics", 200, &lines)
		require.Zero(t, lines.Skipped)
		for i, r := range lines.Rows {
			var m struct {
				Step   int
				Reward float64 `json:"reward_mean"`
			}
			require.NoError(t, json.Unmarshal(r, &m))
			require.Equal(t, i+1, m.Step)
			require.Equal(t, float64(m.Step)+0.5, m.Reward)
		}
		require.GreaterOrEqual(t, len(lines.Rows), last, "lines never disappear")
		last = len(lines.Rows)
		var st Status
		get(t, ts, "/api/run/r/status", 200, &st)
	}
	wg.Wait()
}

func TestHugeLines(t *testing.T) {
	// A sample line longer than the reader's buffer is read whole.
	dir := t.TempDir()
	long := strings.Repeat("x", 300_000)
	write(t, filepath.Join(dir, "samples", "eval-sft.jsonl"), `{"id":"a","response":"`+long+`"}`+"\n"+`{"id":"b"}`+"\n")
	page, err := readSamples(evalPath(dir, "sft"), "sft", SampleFilter{}, 0, 10)
	require.NoError(t, err)
	require.Len(t, page.Rows, 2)
	assert.Contains(t, string(page.Rows[0]), long)
}

func TestAddresses(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": true, "localhost:8080": true, "[::1]:80": true,
		"0.0.0.0:8080": false, ":8080": false, "192.168.1.2:80": false, "example.com:80": false, "nonsense": false,
	} {
		assert.Equal(t, want, IsLoopback(addr), addr)
	}
	_, err := Listen("nonsense")
	assert.ErrorContains(t, err, "host:port")
	ln, err := Listen("127.0.0.1:0")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(URL(ln), "http://127.0.0.1:"))
	ln.Close()
	assert.Contains(t, NotLoopbackWarning("0.0.0.0:1"), "no authentication")
}
