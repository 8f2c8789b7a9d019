package run

import (
	"github.com/spf13/pflag"

	"github.com/goarpo/arpo/internal/exitcode"
	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/engine"
)

// Precision flags: the arithmetic of the training GEMMs (--precision, the
// model's nn.Model.SetPrecision), the rollout engine's weights
// (--rollout-precision, engine.SetPrecision) and its KV cache (--kv-cache,
// engine.SetCachePrecision). All are part of the run:
// saved in config.json, so that --resume trains and rolls out as before
// (they are not among the flags a resume may change). "" is f32, and the
// JSON keys are left out then, so that runs from before the flags keep
// their config.json.

// precisionFlags registers --precision, --rollout-precision and
// --kv-cache (from Config.Flags).
func (c *Config) precisionFlags(fs *pflag.FlagSet) {
	fs.StringVar(&c.Precision, "precision", c.Precision, "GEMM precision of training (SFT, RL updates, log-probs): f32 (default), or bf16 (bf16 operands, f32 sums; f32 master weights and AdamW; cpu and vulkan)")
	fs.StringVar(&c.RolloutPrecision, "rollout-precision", c.RolloutPrecision, "weights the rollout engine decodes with: f32 (default), or bf16 (a bf16 copy, refreshed after every update; cpu and vulkan)")
	fs.StringVar(&c.KVCache, "kv-cache", c.KVCache, "the rollout engine's KV cache: f32 (default), or bf16 (half the memory per position, keys and values rounded to bf16, f32 sums; cpu and vulkan)")
}

// parsePrecision reads a precision flag's value ("" is f32).
func parsePrecision(flag, v string) (nn.Precision, error) {
	if v == "" {
		return nn.F32, nil
	}
	p, err := nn.ParsePrecision(v)
	if err != nil {
		return p, exitcode.Usagef("--%s: %v", flag, err)
	}
	return p, nil
}

// validatePrecision checks the three flags (from Validate).
func (c Config) validatePrecision() error {
	if _, err := parsePrecision("precision", c.Precision); err != nil {
		return err
	}
	if _, err := parsePrecision("rollout-precision", c.RolloutPrecision); err != nil {
		return err
	}
	_, err := parsePrecision("kv-cache", c.KVCache)
	return err
}

// setPrecision sets the model's training precision; an error when the
// backend has no bf16 GEMM.
func (j *job) setPrecision() error {
	p, err := parsePrecision("precision", j.c.Precision)
	if err != nil {
		return err
	}
	if err := j.model.SetPrecision(p); err != nil {
		return exitcode.Usagef("--precision: %v", err)
	}
	return nil
}

// setRolloutPrecision sets the precision of e's weights and KV cache.
func (j *job) setRolloutPrecision(e *engine.Engine) error {
	p, err := parsePrecision("rollout-precision", j.c.RolloutPrecision)
	if err != nil {
		return err
	}
	if err := e.SetPrecision(p); err != nil {
		return exitcode.Usagef("--rollout-precision: %v", err)
	}
	if p, err = parsePrecision("kv-cache", j.c.KVCache); err != nil {
		return err
	}
	if err := e.SetCachePrecision(p); err != nil {
		return exitcode.Usagef("--kv-cache: %v", err)
	}
	return nil
}
