// Command tool runs one tool call from standard input, for trying the tools
// by hand, and prints the result block the model would see:
//
//	echo 'print(2**100)' | go run ./cmd/tool python
//	echo 'capital of France' | go run ./cmd/tool search --index DIR
//	echo 'capital of France' | go run ./cmd/tool search --corpus FILE
//	echo 'capital of France' | go run ./cmd/tool search --url http://127.0.0.1:8000/retrieve
//
// python --subprocess runs real python3 instead of the sandbox (see
// docs/TOOLS.md for the risks). The exit status is 1 when the call failed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/goarpo/arpo/tools"
	"github.com/goarpo/arpo/tools/python"
	"github.com/goarpo/arpo/tools/search"
)

const usage = `usage: tool python [--subprocess | --isolated] [--timeout D] < code
       tool search (--index DIR | --corpus FILE | --url URL) [--topk K] < query`

func main() {
	python.ServeChild() // a child of --isolated runs its call here and exits
	code, err := run(os.Args[1:], os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tool:", err)
	}
	os.Exit(code)
}

func run(args []string, stdin io.Reader, stdout io.Writer) (int, error) {
	if len(args) == 0 {
		return 2, errors.New(usage)
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	timeout := fs.Duration("timeout", 10*time.Second, "time limit of the call")
	maxLen := fs.Int("max-result", 0, "cut the result to this many bytes (0: no limit)")
	var t tools.Tool
	switch args[0] {
	case "python":
		sub := fs.Bool("subprocess", false, "run real python3 in a subprocess (off by default; see docs/TOOLS.md)")
		iso := fs.Bool("isolated", false, "run the sandbox in a child process under a 2 GiB address-space limit")
		if err := fs.Parse(args[1:]); err != nil {
			return 2, err
		}
		if *sub && *iso {
			return 2, errors.New("--subprocess and --isolated exclude each other")
		}
		if *iso {
			t = python.NewIsolated(python.Config{Timeout: *timeout})
		} else if *sub {
			p := python.NewSubprocess()
			p.Timeout, p.CPU = *timeout, *timeout
			t = p
		} else {
			t = python.New(python.Config{Timeout: *timeout})
		}
	case "search":
		index := fs.String("index", "", "saved index directory")
		corpus := fs.String("corpus", "", "JSONL corpus to index in memory")
		url := fs.String("url", "", "retriever server, e.g. http://127.0.0.1:8000/retrieve")
		topk := fs.Int("topk", 3, "passages to return")
		if err := fs.Parse(args[1:]); err != nil {
			return 2, err
		}
		st, err := searchTool(*index, *corpus, *url, *topk)
		if err != nil {
			return 1, err
		}
		t = st
	default:
		return 2, fmt.Errorf("unknown tool %q\n%s", args[0], usage)
	}
	in, err := io.ReadAll(stdin)
	if err != nil {
		return 1, err
	}
	reg, err := tools.NewRegistry(t)
	if err != nil {
		return 1, err
	}
	ex := tools.NewExecutor(reg, tools.Config{Workers: 1, Timeout: *timeout + time.Second, MaxResultLen: *maxLen})
	r := ex.Do(context.Background(), t.Name(), strings.TrimSpace(string(in)))
	fmt.Fprint(stdout, tools.FormatResult(r.Output, *maxLen))
	if r.Err != nil {
		return 1, nil
	}
	return 0, nil
}

func searchTool(index, corpus, url string, topk int) (tools.Tool, error) {
	switch {
	case url != "":
		return &search.Client{URL: url, TopK: topk}, nil
	case index != "":
		ix, err := search.Load(index)
		if err != nil {
			return nil, err
		}
		return &search.Tool{Index: ix, TopK: topk}, nil
	case corpus != "":
		docs, err := search.ReadCorpusFile(corpus)
		if err != nil {
			return nil, err
		}
		return &search.Tool{Index: search.Build(docs, search.DefaultParams), TopK: topk}, nil
	}
	return nil, errors.New("search needs --index DIR, --corpus FILE or --url URL")
}
