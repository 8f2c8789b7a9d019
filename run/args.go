package run

import (
	"bytes"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/goarpo/arpo/internal/exitcode"
	"github.com/goarpo/arpo/internal/runconfig"
	"github.com/goarpo/arpo/internal/runlog"
)

// configFileUsage is --config's help line.
const configFileUsage = "config file (JSON or YAML) whose keys are flag names; flags override it"

// FlagSet is a run's command line: every Config field as a flag writing
// into c, then --config FILE writing into file. A command adds its own
// flags after these (cmd/train: --resume, --print-config, --serve).
func FlagSet(name string, c *Config, file *string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	c.Flags(fs)
	fs.StringVar(file, "config", "", configFileUsage)
	return fs
}

// ParseArgs is the effective Config of a run's arguments, as cmd/train
// would run them: the preset, the --config file, then the flags. It takes
// the flags of FlagSet only. cmd/experiment checks and compares its cells'
// arguments with it.
func ParseArgs(args []string) (Config, error) {
	scratch, file := Default(), ""
	fs := FlagSet("train", &scratch, &file)
	fs.SetOutput(&bytes.Buffer{})
	if err := fs.Parse(args); err != nil {
		return Config{}, exitcode.Usagef("%v", err)
	}
	if fs.NArg() > 0 {
		return Config{}, exitcode.Usagef("unexpected argument %q", fs.Arg(0))
	}
	return Load(file, fs)
}

// ReadConfig reads a run folder's config.json (dir may also name the file
// itself): the Config the run was started with. Fields the file lacks (a
// run of an older version) keep their zero values.
func ReadConfig(dir string) (Config, error) {
	path := dir
	if filepath.Ext(dir) != ".json" {
		path = filepath.Join(dir, "config.json")
	}
	var c Config
	if err := runlog.ReadJSON(path, &c); err != nil {
		return Config{}, err
	}
	return c, nil
}

// World is the ToolWorld part of c: the world a run generated, which
// cmd/eval and cmd/experiment rebuild from a run's config.json.
func (c Config) World() runconfig.World {
	return runconfig.World{
		Seed: c.Seed, DataSeed: c.DataSeed,
		TrainEntities: c.TrainEntities, TestEntities: c.TestEntities,
		TrainQuestions: c.TrainQuestions, TestQuestions: c.TestQuestions,
		Families: c.Families, Novel: c.Novel, NovelDemoRate: c.NovelDemoRate,
	}
}
