package main

import (
	"github.com/spf13/pflag"
)

// modelSuite holds the flags that every model suite (train, decode, prefill,
// rl) shares: the models, the thread counts, per-line processes, a CPU
// profile and the backend. A suite adds its own flags to fs, calls parse,
// checks its own flags, then models and begin.
type modelSuite struct {
	fs      *pflag.FlagSet
	configs *[]string
	shape   *string
	isolate *bool
	threads *[]int
	profile *string
	bf      *backendFlags
}

func newModelSuite(name string) *modelSuite {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	return &modelSuite{
		fs:      fs,
		configs: fs.StringSlice("configs", []string{"a", "b"}, "model configs to run (a, b defined in train.go, or a --shape name)"),
		shape:   addShapeFlag(fs),
		isolate: addIsolateFlag(fs),
		threads: fs.IntSlice("threads", []int{1, 2}, "thread counts to run (cpu)"),
		profile: fs.String("cpuprofile", "", "write a CPU profile of the whole suite to this file"),
		bf:      addBackendFlags(fs),
	}
}

// parse reads args and checks the backend flags.
func (s *modelSuite) parse(args []string) error {
	if err := parseFlags(s.fs, args); err != nil {
		return err
	}
	return s.bf.validate()
}

// models are the configs to run: --configs, or --shape alone.
func (s *modelSuite) models() ([]string, error) {
	return pickConfigs(s.fs, *s.configs, *s.shape)
}

// begin resolves the thread counts and starts the profile; stop ends it.
func (s *modelSuite) begin() (counts []int, stop func(), err error) {
	counts, err = s.bf.threadCounts(s.fs, *s.threads)
	if err != nil {
		return nil, nil, err
	}
	stop, err = startProfile(*s.profile, s.isolate)
	if err != nil {
		return nil, nil, err
	}
	return counts, stop, nil
}
