// Command bench measures the project's compute paths and prints one JSON
// object per line on stdout, so that runs can be compared and tabulated
// (docs/PERFORMANCE.md). Usage:
//
//	go run ./cmd/bench <suite> [flags]
//
// Each suite lives in its own file and registers itself in an init function;
// `go run ./cmd/bench` lists them. It is a measuring tool, not a test: it
// asserts nothing about speed.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
)

// suite is one subcommand.
type suite struct {
	help string
	run  func(args []string) error
}

var suites = map[string]suite{}

// register adds a suite; called from the init function of the suite's file.
func register(name, help string, run func(args []string) error) {
	if _, dup := suites[name]; dup {
		panic("bench: suite registered twice: " + name)
	}
	suites[name] = suite{help: help, run: run}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: bench <suite> [flags]   (bench <suite> --help for its flags)")
	fmt.Fprintln(os.Stderr, "suites:")
	names := make([]string, 0, len(suites))
	for n := range suites {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-10s %s\n", n, suites[n].help)
	}
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	s, ok := suites[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "bench: unknown suite %q\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	if err := s.run(os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "bench %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

// out receives the result lines; tests redirect it.
var out io.Writer = os.Stdout

// emit prints one result line. Suites pass a struct with json tags so the
// field order is stable.
func emit(v any) error {
	line, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding result: %w", err)
	}
	_, err = fmt.Fprintln(out, string(line))
	return err
}
