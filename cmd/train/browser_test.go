//go:build !noasm

// The browser test is independent of the kernels: the noasm pass of make
// test (pure-Go kernels) would only run it again.

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/dashboard"
)

// chromium finds Debian's chromium (ARPO_CHROMIUM overrides).
func chromium() string {
	if p := os.Getenv("ARPO_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestDashboardInBrowser opens the dashboard of two smoke runs in headless
// chromium: the overview's charts and numbers, a rollout tree, the samples
// and the comparison must render, with what metrics.jsonl and the tree file
// hold, and without a console error. Screenshots go to
// $ARPO_SCREENSHOTS (when set) or the test's temporary folder.
func TestDashboardInBrowser(t *testing.T) {
	browser := chromium()
	if browser == "" {
		t.Skip("chromium is not installed (apt-get install chromium; .ci/run does)")
	}
	t0 := time.Now()
	exp := t.TempDir()
	for _, seed := range []string{"1", "2"} {
		code, _, stderr := runCmd(t, "--preset", "smoke", "--out", filepath.Join(exp, "seed"+seed), "--threads", "1", "--seed", seed)
		require.Equal(t, 0, code, stderr)
	}
	runs, err := dashboard.FindRuns([]string{exp})
	require.NoError(t, err)
	require.Len(t, runs, 2)
	srv, err := dashboard.New(runs)
	require.NoError(t, err)
	ts := httptest.NewServer(srv)
	defer ts.Close()
	shots := os.Getenv("ARPO_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1400, 1000))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	bctx, cancelB := chromedp.NewContext(actx)
	defer cancelB()
	t.Logf("two smoke runs in %s", time.Since(t0).Round(time.Millisecond))
	t0 = time.Now()
	_, err = chromedp.Run(bctx, chromedp.Evaluate[int]("1"))
	require.NoError(t, err, "starting %s", browser)
	t.Logf("%s started in %s", browser, time.Since(t0).Round(time.Millisecond))

	var mu sync.Mutex
	var console []string
	cctx, stopConsole := context.WithCancel(bctx)
	consoleDone := make(chan struct{})
	messages := chromedp.Console(cctx)
	go func() {
		defer close(consoleDone)
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException || m.Type == chromedp.ConsoleWarning {
				mu.Lock()
				console = append(console, m.String())
				mu.Unlock()
			}
		}
	}()
	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		t0 := time.Now()
		ctx, cancel := context.WithTimeout(bctx, 20*time.Second)
		defer cancel()
		require.NoError(t, chromedp.Do(ctx, actions...), name)
		t.Logf("%s rendered in %s", name, time.Since(t0).Round(time.Millisecond))
	}
	eval := func(js string, v any) {
		t.Helper()
		raw, err := chromedp.Run(bctx, chromedp.Evaluate[[]byte](js))
		require.NoError(t, err, js)
		require.NoError(t, json.Unmarshal(raw, v), string(raw))
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(shots, name), png, 0o644))
	}
	r0 := runs[0]

	// Overview: every chart, the latest step's numbers, the evaluations.
	step("overview", chromedp.Navigate(ts.URL+"/#/run/"+r0.ID),
		chromedp.WaitVisible(chromedp.CSS(`figure[data-chart="reward"] circle`)),
		chromedp.WaitVisible(chromedp.CSS(`#latest td[data-key="reward_mean"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#evals td[data-eval]`)))
	var charts []string
	eval(`[...document.querySelectorAll("figure.chart")].filter(f => f.querySelector("svg")).map(f => f.dataset.chart)`, &charts)
	assert.Subset(t, charts, []string{"reward", "tool_calls", "delta_h", "format", "kl", "clip", "time", "sft_loss", "pass1"})

	metrics := readLines(t, filepath.Join(r0.Dir, "metrics.jsonl"))
	last := metrics[len(metrics)-1]
	var shown []struct{ Key, Step, Text string }
	eval(`[...document.querySelectorAll("#latest td[data-key]")].map(td => ({key: td.dataset.key, step: td.dataset.step, text: td.textContent}))`, &shown)
	require.NotEmpty(t, shown)
	for _, c := range shown {
		assert.Equal(t, fmt.Sprint(last["step"]), c.Step)
		want, ok := last[c.Key].(float64)
		require.True(t, ok, "metrics.jsonl has %s", c.Key)
		got, err := strconv.ParseFloat(c.Text, 64)
		require.NoError(t, err, "%s shows %q", c.Key, c.Text)
		assert.InDelta(t, want, got, 5e-4*math.Abs(want)+1e-12, "%s: page %q, metrics.jsonl %v", c.Key, c.Text, want)
	}
	// Each plotted point carries the exact value: reward and accuracy at
	// every step.
	var points []struct{ Series, X, Y string }
	eval(`[...document.querySelectorAll('figure[data-chart="reward"] circle')].map(c => ({series: c.dataset.series, x: c.dataset.x, y: c.dataset.y}))`, &points)
	require.Len(t, points, 2*len(metrics))
	for _, p := range points {
		x, _ := strconv.Atoi(p.X)
		y, err := strconv.ParseFloat(p.Y, 64)
		require.NoError(t, err)
		assert.Equal(t, metrics[x-1][p.Series], y, "%s at step %d", p.Series, x)
	}
	var evalShown []string
	eval(`[...document.querySelectorAll("#evals th")].map(th => th.textContent)`, &evalShown)
	assert.Equal(t, []string{"family", "sft", "rl-step0002"}, evalShown)
	shot("overview.png")

	// Rollout trees: the latest step's first saved prompt.
	step("trees", chromedp.Navigate(ts.URL+"/#/run/"+r0.ID+"/trees"),
		chromedp.WaitVisible(chromedp.CSS(`#tree-svg circle`)), chromedp.WaitVisible(chromedp.CSS(`#tree .node`)))
	rec := firstTree(t, dashboard.TreesPath(r0.Dir, 2))
	var counts struct{ Circles, Nodes, Leaves, Tokens int }
	eval(`({circles: document.querySelectorAll("#tree-svg circle").length, nodes: document.querySelectorAll("#tree .node").length,
		leaves: document.querySelectorAll("#tree [data-leaf]").length, tokens: document.querySelectorAll("#tree .tok").length})`, &counts)
	assert.Equal(t, len(rec.Nodes), counts.Circles)
	assert.Equal(t, len(rec.Nodes), counts.Nodes)
	assert.Equal(t, len(rec.Leaves), counts.Leaves)
	policy := 0
	for _, n := range rec.Nodes {
		for _, s := range n.Spans {
			if s.Kind == "policy" {
				policy += len(s.Tokens)
			}
		}
	}
	assert.Equal(t, policy, counts.Tokens, "every policy token is drawn with its entropy colour")
	shot("trees.png")

	// Samples and the before/after comparison.
	step("samples", chromedp.Navigate(ts.URL+"/#/run/"+r0.ID+"/samples"), chromedp.WaitVisible(chromedp.CSS(`#samples td`)))
	var total string
	eval(`document.querySelector(".filters .muted").textContent`, &total)
	n := len(readLines(t, filepath.Join(r0.Dir, "samples", "eval-rl-step0002.jsonl")))
	assert.Equal(t, fmt.Sprintf("%d of %d trajectories", n, n), total)

	// Compare: one series per run.
	step("compare", chromedp.Navigate(ts.URL+"/#/compare"), chromedp.WaitVisible(chromedp.CSS(`figure[data-chart="compare"] circle`)))
	var series []string
	eval(`[...new Set([...document.querySelectorAll('figure[data-chart="compare"] circle')].map(c => c.dataset.series))]`, &series)
	assert.ElementsMatch(t, []string{runs[0].Name, runs[1].Name}, series)

	stopConsole()
	<-consoleDone
	mu.Lock()
	defer mu.Unlock()
	assert.Empty(t, console, "console errors and warnings")
}

func readLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<26)
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m))
		out = append(out, m)
	}
	return out
}

func firstTree(t *testing.T, path string) dashboard.TreeRecord {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	line, _, _ := bytes.Cut(data, []byte("\n"))
	var rec dashboard.TreeRecord
	require.NoError(t, json.Unmarshal(line, &rec))
	return rec
}
