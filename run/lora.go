package run

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/goarpo/arpo/internal/exitcode"
	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/export"
)

// LoRAOptions are Config's LoRA fields (docs/LORA.md): with LoRARank > 0
// the run trains adapters on the frozen --model instead of every weight,
// and its checkpoints hold the adapters and name --model as their base.
// The zero values (and omitempty) keep the config of a run without LoRA
// what it was.
type LoRAOptions struct {
	LoRARank int `json:"lora-rank,omitempty"`
	// LoRAAlpha sets the adapters' scale alpha/rank; 0 means twice the rank.
	LoRAAlpha float64 `json:"lora-alpha,omitempty"`
	// LoRATargets is a comma-separated subset of q,k,v,o,gate,up,down; ""
	// means all seven.
	LoRATargets string `json:"lora-targets,omitempty"`
}

func (c *Config) loraFlags(fs *pflag.FlagSet) {
	fs.IntVar(&c.LoRARank, "lora-rank", c.LoRARank, "train LoRA adapters of this rank on the frozen --model (0: train every weight)")
	fs.Float64Var(&c.LoRAAlpha, "lora-alpha", c.LoRAAlpha, "LoRA alpha: the adapters' scale is alpha/rank (0: twice the rank)")
	fs.StringVar(&c.LoRATargets, "lora-targets", c.LoRATargets, "linears that get adapters, some of q,k,v,o,gate,up,down (default all)")
}

// lora returns the LoRA config, or ok false without LoRA.
func (c Config) lora() (lc nn.LoRAConfig, ok bool) {
	if c.LoRARank == 0 {
		return lc, false
	}
	lc = nn.LoRAConfig{Rank: c.LoRARank, Alpha: c.LoRAAlpha, Targets: nn.ParseLoRATargets(c.LoRATargets)}
	if lc.Alpha == 0 {
		lc.Alpha = 2 * float64(lc.Rank)
	}
	if c.LoRATargets == "" {
		lc.Targets = nn.LoRATargets
	}
	return lc, true
}

func (c Config) validateLoRA() error {
	lc, ok := c.lora()
	switch {
	case !ok && (c.LoRAAlpha != 0 || c.LoRATargets != ""):
		return exitcode.Usagef("--lora-alpha and --lora-targets need --lora-rank")
	case !ok:
		return nil
	case c.Model == "":
		return exitcode.Usagef("--lora-rank needs a pretrained base: give --model (adapters on a randomly initialised model would train nothing useful)")
	}
	if err := lc.Validate(); err != nil {
		return exitcode.Usagef("--lora-rank/--lora-alpha/--lora-targets: %v", err)
	}
	return nil
}

// attachLoRA freezes the model loaded from --model and attaches the
// adapters, seeded by the run's seed.
func (j *job) attachLoRA() error {
	lc, ok := j.c.lora()
	if !ok {
		return nil
	}
	if err := j.model.AttachLoRA(lc, j.c.Seed); err != nil {
		return exitcode.Usagef("--lora-rank: %v", err)
	}
	frozen := "frozen"
	switch {
	case j.model.BF16Base():
		frozen = "frozen, a bf16 base"
	case j.c.wantsBF16Base():
		frozen = "frozen, in float32 (its linear weights are not stored as BF16, so a bf16 copy would be another base)"
	}
	j.printf("%-10s rank %d, alpha %g on %s: %d trainable parameters, the base's %d %s\n", "lora", lc.Rank, lc.Alpha,
		strings.Join(lc.Targets, ","), j.model.LoRA.W.Len(), j.model.NumParams(), frozen)
	return nil
}

// loraBase is what a LoRA checkpoint of this run names as its base: --model
// as an absolute path, so that the checkpoint loads from anywhere.
func (j *job) loraBase() string {
	if j.model == nil || j.model.LoRA == nil {
		return ""
	}
	abs, err := filepath.Abs(j.c.Model)
	if err != nil {
		return j.c.Model
	}
	return abs
}

// resumeLoRA loads a run's LoRA checkpoint: its base (which must hash as
// when the run began), then the adapters and optimizer onto it. ok is false
// for a checkpoint without adapters.
func (j *job) resumeLoRA(path string) (ck nn.Checkpoint, ok bool, err error) {
	info, ok, err := nn.ReadLoRACheckpointInfo(path)
	if err != nil || !ok {
		return ck, ok, err
	}
	l, err := j.loadPretrained(info.Base)
	if err != nil {
		return ck, true, err
	}
	if ck, err = nn.LoadLoRACheckpoint(path, l.Model); err != nil {
		l.Free()
		return ck, true, err
	}
	return ck, true, nil
}

// policy is the model the rollout engine decodes with: the model itself,
// or with adapters, its merged copy (made here on first use; rl.Trainer
// refreshes it after each update).
func (j *job) policy() (*nn.Model, error) {
	if j.model.LoRA == nil {
		return j.model, nil
	}
	if j.merged == nil {
		// A bf16 base's merged copy is bf16 for a bf16 rollout engine,
		// float32 (the merge unrounded, as before) for a float32 one.
		rp, err := parsePrecision("rollout-precision", j.c.RolloutPrecision)
		if err != nil {
			return nil, err
		}
		if j.model.BF16Base() && rp == nn.BF16 {
			j.merged, err = j.model.MergedCopy()
		} else {
			j.merged, err = j.model.MergedCopyF32()
		}
		if err != nil {
			return nil, err
		}
	}
	return j.merged, nil
}

// exportPEFT writes a LoRA run's adapters as RUN/peft/, a PEFT adapter
// folder for --model (RUN/hf/ holds the merged model).
func (j *job) exportPEFT() error {
	if j.model.LoRA == nil {
		return nil
	}
	dir := filepath.Join(j.dir, "peft")
	if err := export.WritePEFT(j.model, dir, j.loraBase(), true); err != nil {
		return fmt.Errorf("export peft: %w", err)
	}
	j.printf("%-10s %s (LoRA adapters for PeftModel.from_pretrained on %s)\n", "peft", dir, j.loraBase())
	return nil
}

// trainingBytes is what training holds per model: weights, gradients and
// AdamW's two moments (nn.Config.TrainingBytes), or with LoRA the frozen
// base and the rollout engine's merged copy (the adapters and their
// moments are a small fraction on top): with bf16Base the base is a bf16
// base, and under --rollout-precision bf16 the merged copy holds only the
// bf16 linear weights (it shares the base's float32 ones).
func (c Config) trainingBytes(cfg nn.Config, bf16Base bool) float64 {
	if _, ok := c.lora(); !ok {
		return float64(cfg.TrainingBytes())
	}
	base, merged := 4*float64(cfg.NumParams()), 4*float64(cfg.NumParams())
	if bf16Base {
		base = float64(cfg.BF16BaseBytes())
		if rp, err := parsePrecision("rollout-precision", c.RolloutPrecision); err == nil && rp == nn.BF16 {
			merged = 2 * float64(cfg.LinearParams()) // it shares the base's float32 weights
		}
	}
	return base + merged
}
