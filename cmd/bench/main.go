// Command bench measures the project's compute paths and prints one JSON
// object per line on stdout, so that runs can be compared and tabulated
// (docs/PERFORMANCE.md). Usage:
//
//	go run ./cmd/bench <suite> [flags]
//
// Each suite lives in its own file and registers itself in an init function;
// `go run ./cmd/bench` lists them. It is a measuring tool, not a test: it
// asserts nothing about speed.
//
// The gemm, train, rl, prefill and decode suites run on any registered
// backend (--backend cpu|vulkan, --device N; see backend.go). The model
// suites (train, rl, prefill, decode) take the small configs a and b, or
// --shape, a real model's size with random weights (shapes.go), and run
// each result line in its own process (--isolate, lines.go) so that its
// peak resident memory is its own. Exit status: 0 on success, 2 for bad
// input (flags, shapes, an unknown or unavailable backend), 1 when a run
// fails.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/spf13/pflag"

	"github.com/goarpo/arpo/internal/exitcode"
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
		if errors.Is(err, pflag.ErrHelp) {
			return // the flag set printed its usage
		}
		fmt.Fprintf(os.Stderr, "bench %s: %v\n", os.Args[1], err)
		os.Exit(exitCode(err))
	}
}

// badInput is an error caused by the command line rather than by a run, so
// that main exits with status 2 as for a usage error.
func badInput(format string, args ...any) error { return exitcode.Usagef(format, args...) }

// exitCode is 2 for bad input and 1 for any other failure.
func exitCode(err error) int {
	if exitcode.IsUsage(err) {
		return exitcode.BadInput
	}
	return exitcode.Failure
}

// parseFlags parses a suite's arguments; a parse failure (an unknown flag,
// a value of the wrong type, a stray argument) is bad input. --help comes
// back as pflag.ErrHelp, which main treats as success.
func parseFlags(fs *pflag.FlagSet, args []string) error {
	fs.SetOutput(logOut)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return exitcode.Usage(err)
	}
	if fs.NArg() > 0 {
		return badInput("unexpected arguments %q", fs.Args())
	}
	return nil
}

// out receives the result lines and logOut the notes on stderr (the device
// a run uses); tests redirect both.
var (
	out    io.Writer = os.Stdout
	logOut io.Writer = os.Stderr
)

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
