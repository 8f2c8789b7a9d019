package main

import (
	"github.com/spf13/pflag"

	"github.com/goarpo/arpo/nn"
)

// loraFlags are the LoRA flags of the update suites: --lora-rank 0 (the
// default) fine-tunes every weight.
type loraFlags struct {
	rank    *int
	alpha   *float64
	targets *string
}

func addLoRAFlags(fs *pflag.FlagSet) *loraFlags {
	return &loraFlags{
		rank:    fs.Int("lora-rank", 0, "train LoRA adapters of this rank on a frozen base (0: full fine-tuning)"),
		alpha:   fs.Float64("lora-alpha", 0, "LoRA alpha (scale alpha/rank); 0 means twice the rank"),
		targets: fs.String("lora-targets", "q,k,v,o,gate,up,down", "linears that get adapters"),
	}
}

// config returns the LoRA config, or ok false for full fine-tuning.
func (f *loraFlags) config() (c nn.LoRAConfig, ok bool, err error) {
	if *f.rank == 0 {
		return c, false, nil
	}
	c = nn.LoRAConfig{Rank: *f.rank, Alpha: *f.alpha, Targets: nn.ParseLoRATargets(*f.targets)}
	if c.Alpha == 0 {
		c.Alpha = 2 * float64(c.Rank)
	}
	if err := c.Validate(); err != nil {
		return c, false, badInput("%v", err)
	}
	return c, true, nil
}
