package run

import (
	"context"
	"fmt"
	"github.com/goarpo/arpo/internal/exitcode"
	"github.com/goarpo/arpo/internal/runconfig"
	"path/filepath"
	"strings"

	"github.com/goarpo/arpo/nn/chat"
	"github.com/goarpo/arpo/nn/tokenizer"
	"github.com/goarpo/arpo/rl"
	"github.com/goarpo/arpo/tasks"
	"github.com/goarpo/arpo/tasks/toolworld"
	"github.com/goarpo/arpo/tools"
)

// taskData is a task ready to train on: demonstrations for SFT, prompts
// for RL and test questions, and the tools that answer them.
type taskData struct {
	demos  []tasks.Example // gold trajectories checked against the real tools
	train  []tasks.Example // RL prompts
	test   []tasks.Example
	system string
	// tmpl renders prompts: a Hugging Face model's own chat template, or
	// nil for the ChatML that models trained here learnt (see promptFormat).
	tmpl    *chat.Template
	exec    *tools.Executor
	proto   *tools.Protocol
	summary string
}

// loadTask builds the task of c and its tools.
func loadTask(ctx context.Context, c Config) (*taskData, error) {
	kind, path, err := parseTask(c.Task)
	if err != nil {
		return nil, exitcode.Usagef("--task: %v", err)
	}
	var corpus []tasks.Passage
	td := &taskData{}
	switch kind {
	case "toolworld":
		return loadToolWorld(ctx, c)
	case "hotpotqa-local":
		var ex []tasks.Example
		if ex, corpus, err = tasks.LoadShared(c.dataDir(), "hotpotqa-local"); err != nil {
			return nil, exitcode.Usagef("--task hotpotqa-local: %v", err)
		}
		td.train, td.test = splitTest(ex, c.EvalQuestions)
	case "gsm8k":
		if td.train, td.test, err = loadGSM8K(c.dataDir(), c.EvalQuestions); err != nil {
			return nil, exitcode.Usagef("--task gsm8k: %v", err)
		}
	default:
		spec := path // the format from the extension, or the one --task named
		if kind != "file" {
			spec = kind + ":" + path
		}
		ex, err := tasks.Load(spec, tasks.Options{})
		if err != nil {
			return nil, exitcode.Usagef("--task: %v", err)
		}
		td.train, td.test = splitTest(ex, c.EvalQuestions)
	}
	for i, e := range append(append([]tasks.Example(nil), td.train...), td.test...) {
		if strings.TrimSpace(e.Answer) == "" {
			return nil, exitcode.Usagef("--task: question %d (%q) has no answer to grade against", i, e.ID)
		}
	}
	if len(td.train) == 0 && c.RLSteps > 0 {
		return nil, exitcode.Usagef("--task: all %d questions went to the test split (--eval-questions); none left for RL", len(td.test))
	}
	var ts []tools.Tool
	ts = append(ts, runconfig.Python(c.ToolIsolation))
	if corpus != nil {
		ts = append(ts, runconfig.Search(corpus, c.SearchTopK))
	}
	td.exec, td.proto, err = executor(ts, c)
	td.summary = fmt.Sprintf("%d RL prompts, %d test questions, %d passages (%s)", len(td.train), len(td.test), len(corpus), filepath.Base(c.Task))
	return td, err
}

// loadGSM8K reads GSM8K from the shared data folder: RL prompts from its
// training split, test questions (the first n; all when n <= 0) from its
// test split. The answers are the numbers after "####", graded by math
// equivalence; the worked solutions are not tool-use demonstrations, so a
// run starts from --model without SFT.
func loadGSM8K(dir string, n int) (train, test []tasks.Example, err error) {
	if train, _, err = tasks.LoadShared(dir, "gsm8k-train"); err != nil {
		return nil, nil, err
	}
	if test, _, err = tasks.LoadShared(dir, "gsm8k"); err != nil {
		return nil, nil, err
	}
	if n > 0 && n < len(test) {
		test = test[:n]
	}
	return train, test, nil
}

// dataDir is the shared data folder: --data, else tasks.DefaultDataDir.
func (c Config) dataDir() string {
	if c.Data != "" {
		return c.Data
	}
	return tasks.DefaultDataDir()
}

func splitTest(ex []tasks.Example, n int) (train, test []tasks.Example) {
	if n <= 0 || n > len(ex) {
		n = len(ex)
	}
	return ex[n:], ex[:n]
}

func executor(ts []tools.Tool, c Config) (*tools.Executor, *tools.Protocol, error) {
	reg, err := tools.NewRegistry(ts...)
	if err != nil {
		return nil, nil, err
	}
	ex := runconfig.Executor(reg, c.MaxResult)
	return ex, reg.Protocol(c.CallLimit), nil
}

// loadToolWorld generates ToolWorld, indexes its corpus and re-renders the
// gold trajectories with the real tools, so that demonstrations show
// exactly what a rollout will see.
func loadToolWorld(ctx context.Context, c Config) (*taskData, error) {
	d, err := toolworld.GenerateContext(ctx, c.World().Config())
	if ctx.Err() != nil {
		return nil, fmt.Errorf("%w while building ToolWorld: nothing saved yet", ErrInterrupted)
	}
	if err != nil {
		return nil, exitcode.Usagef("toolworld: %v", err)
	}
	ts := []tools.Tool{runconfig.Search(d.Corpus, c.SearchTopK), runconfig.Python(c.ToolIsolation)}
	exec, proto, err := executor(ts, c)
	if err != nil {
		return nil, err
	}
	st, err := d.FillGoldContext(ctx, func(tool, arg string) (string, error) {
		r := exec.Do(context.WithoutCancel(ctx), tool, arg) // fast, and needed whole
		return tools.Truncate(strings.TrimRight(r.Output, " \t\r\n"), c.MaxResult), r.Err
	})
	if err != nil {
		return nil, fmt.Errorf("%w while checking ToolWorld's demonstrations: nothing saved yet", ErrInterrupted)
	}
	exec.ResetStats()
	td := &taskData{demos: d.Demos(), test: d.Test, exec: exec, proto: proto}
	rlFams := map[string]bool{}
	for _, f := range runconfig.SplitList(c.RLFamilies) {
		rlFams[f] = true
	}
	for _, e := range d.Train {
		if len(rlFams) == 0 || rlFams[e.Family] {
			td.train = append(td.train, e)
		}
	}
	if len(td.train) == 0 && c.RLSteps > 0 {
		return nil, exitcode.Usagef("--rl-families %q: no train question of those families", c.RLFamilies)
	}
	if c.EvalQuestions > 0 && c.EvalQuestions < len(td.test) {
		td.test = td.test[:c.EvalQuestions]
	}
	td.summary = fmt.Sprintf("%d train questions (%d demonstrations, %d dropped: the real search missed), %d RL prompts, %d test questions, %d passages",
		len(d.Train), len(td.demos), st.Misses, len(td.train), len(td.test), len(d.Corpus))
	return td, nil
}

// trainTokenizer learns a BPE vocabulary from the demonstrations and the
// questions: the text the model reads and writes.
func trainTokenizer(td *taskData, vocab int) (*tokenizer.Tokenizer, error) {
	var texts []string
	for _, e := range td.demos {
		texts = append(texts, e.Question, e.Gold)
	}
	for _, e := range td.train {
		texts = append(texts, e.Question)
	}
	return tokenizer.Train(texts, vocab, tokenizer.DefaultSpecials)
}

// prompts renders examples as rollout prompts, with tmpl (nil: ChatML) and
// its thinking switch.
func prompts(tok rl.Tokenizer, tmpl *chat.Template, thinking chat.Thinking, system string, ex []tasks.Example, budget int) ([]rl.Prompt, error) {
	out := make([]rl.Prompt, 0, len(ex))
	for i := range ex {
		sys := system
		if ex[i].System != "" {
			sys = ex[i].System
		}
		toks, err := rl.RenderChatPrompt(tok, tmpl, thinking, sys, ex[i].Question)
		if err != nil {
			return nil, exitcode.Usagef("--model: rendering question %q with the chat template: %v", ex[i].ID, err)
		}
		p := rl.Prompt{Example: &ex[i], Tokens: toks}
		// A prompt must leave room for a response within the token budget.
		if len(p.Tokens)+minResponseTokens <= budget {
			out = append(out, p)
		}
	}
	if len(out) == 0 && len(ex) > 0 {
		return nil, exitcode.Usagef("no question fits the token budget of %d with room for a response (--token-budget)", budget)
	}
	return out, nil
}

// minResponseTokens is the room a prompt must leave in the token budget.
const minResponseTokens = 32
