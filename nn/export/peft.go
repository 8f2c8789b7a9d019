package export

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/safetensors"
)

// A PEFT adapter folder, as PEFT's save_pretrained writes one for a LoRA
// adapter on a causal LM and PeftModel.from_pretrained(base, DIR) loads it:
//
//	adapter_config.json        peft_type LORA, r, lora_alpha, target_modules
//	                           (q_proj, ..., down_proj), base_model_name_or_path,
//	                           bias "none", task_type CAUSAL_LM
//	adapter_model.safetensors  the adapters (F32) under PEFT's names:
//	                           base_model.model.model.layers.{i}.self_attn.q_proj.lora_A.weight
//	                           (r, in) and ...lora_B.weight (out, r)
//
// PEFT's names are the model's own with the PeftModel's "base_model.model."
// prefix and without the adapter name ("default"), which
// get_peft_model_state_dict drops (peft/utils/save_and_load.py); the shapes
// are those of its lora_A = nn.Linear(in, r) and lora_B = nn.Linear(r, out)
// (peft/tuners/lora/layer.py, LoraLayer.update_layer), and it scales by
// lora_alpha/r (use_rslora false), as nn does.
const (
	peftConfigName  = "adapter_config.json"
	peftWeightsName = "adapter_model.safetensors"
	peftPrefix      = "base_model.model."
)

// peftConfig is adapter_config.json: the fields of PEFT's LoraConfig that
// every version since 0.4 reads, with the values that describe nn's LoRA.
type peftConfig struct {
	PeftType          string   `json:"peft_type"`
	TaskType          string   `json:"task_type"`
	BaseModel         string   `json:"base_model_name_or_path"`
	R                 int      `json:"r"`
	LoraAlpha         float64  `json:"lora_alpha"`
	LoraDropout       float64  `json:"lora_dropout"`
	TargetModules     []string `json:"target_modules"`
	Bias              string   `json:"bias"`
	FanInFanOut       bool     `json:"fan_in_fan_out"`
	InferenceMode     bool     `json:"inference_mode"`
	InitLoraWeights   bool     `json:"init_lora_weights"`
	UseRSLoRA         bool     `json:"use_rslora"`
	UseDoRA           bool     `json:"use_dora"`
	ModulesToSave     []string `json:"modules_to_save"`
	LayersToTransform []int    `json:"layers_to_transform"`
	RankPattern       struct{} `json:"rank_pattern"`
	AlphaPattern      struct{} `json:"alpha_pattern"`
}

// WritePEFT writes m's LoRA adapters as a PEFT adapter folder dir (see
// above); base is its base_model_name_or_path (the base's folder or hub
// id). A dir that exists and is not empty is refused unless overwrite.
func WritePEFT(m *nn.Model, dir, base string, overwrite bool) error {
	if m.LoRA == nil {
		return fmt.Errorf("export: the model has no LoRA adapters")
	}
	lc := m.LoRA.Cfg
	cfg := peftConfig{PeftType: "LORA", TaskType: "CAUSAL_LM", BaseModel: base, R: lc.Rank, LoraAlpha: lc.Alpha,
		Bias: "none", InferenceMode: true, InitLoraWeights: true}
	for _, t := range nn.LoRATargets { // nn's order, whatever the flag's
		if slices.Contains(lc.Targets, t) {
			cfg.TargetModules = append(cfg.TargetModules, nn.LoRAModuleName(t))
		}
	}
	js, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	ts := map[string]safetensors.Tensor{}
	for _, p := range m.LoRA.Params {
		d, err := p.W.Data()
		if err != nil {
			return err
		}
		ts[peftPrefix+p.Name] = safetensors.Tensor{Shape: slices.Clone(p.W.Shape()), Data: d}
	}
	return writeFolder(dir, overwrite, func(tmp string) error {
		if err := safetensors.WriteFile(filepath.Join(tmp, peftWeightsName), ts, map[string]string{"format": "pt"}); err != nil {
			return err
		}
		return writeFile(filepath.Join(tmp, peftConfigName), append(js, '\n'))
	})
}

// ReadPEFT attaches the LoRA adapter of a PEFT folder dir (as WritePEFT or
// PEFT's save_pretrained writes it) to m, its base: plain LoRA only (no
// DoRA, rsLoRA, biases, per-module ranks or extra modules), on the linears
// nn adapts. It returns base_model_name_or_path. m is frozen as by
// nn.Model.AttachLoRA.
func ReadPEFT(m *nn.Model, dir string) (string, error) {
	fail := func(format string, a ...any) (string, error) {
		return "", fmt.Errorf("peft folder %s: %s", dir, fmt.Sprintf(format, a...))
	}
	data, err := os.ReadFile(filepath.Join(dir, peftConfigName))
	if err != nil {
		return "", fmt.Errorf("peft folder: %w", err)
	}
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		return fail("%s: %v", peftConfigName, err)
	}
	var cfg peftConfig
	if err := json.Unmarshal(data, &cfg); err != nil {
		return fail("%s: %v", peftConfigName, err)
	}
	if cfg.PeftType != "LORA" {
		return fail("peft_type %q, want LORA", cfg.PeftType)
	}
	if cfg.UseDoRA || cfg.UseRSLoRA || cfg.FanInFanOut || (cfg.Bias != "" && cfg.Bias != "none") || len(cfg.ModulesToSave) > 0 || len(cfg.LayersToTransform) > 0 {
		return fail("only plain LoRA loads (no DoRA, rsLoRA, fan_in_fan_out, bias, modules_to_save or layers_to_transform)")
	}
	for _, k := range []string{"rank_pattern", "alpha_pattern"} {
		if p, ok := raw[k].(map[string]any); ok && len(p) > 0 {
			return fail("%s is not supported", k)
		}
	}
	lc := nn.LoRAConfig{Rank: cfg.R, Alpha: cfg.LoraAlpha}
	for _, mod := range cfg.TargetModules {
		i := slices.IndexFunc(nn.LoRATargets, func(t string) bool { return nn.LoRAModuleName(t) == mod })
		if i < 0 {
			return fail("target module %q is not one nn adapts (q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj)", mod)
		}
		lc.Targets = append(lc.Targets, nn.LoRATargets[i])
	}
	if err := lc.Validate(); err != nil {
		return fail("%v", err)
	}
	ts, err := safetensors.ReadFile(filepath.Join(dir, peftWeightsName))
	if err != nil {
		return fail("%v", err)
	}
	if err := m.AttachLoRA(lc, 0); err != nil {
		return fail("%v", err)
	}
	for _, p := range m.LoRA.Params {
		t, ok := ts[peftPrefix+p.Name]
		if !ok || !slices.Equal(t.Shape, p.W.Shape()) {
			m.DetachLoRA()
			return fail("missing or misshapen %s%s (want shape %v)", peftPrefix, p.Name, p.W.Shape())
		}
		p.W.Set(t.Data)
	}
	if len(ts) != len(m.LoRA.Params) {
		var extra []string
		for name := range ts {
			if m.LoRA.Param(strings.TrimPrefix(name, peftPrefix)) == nil {
				extra = append(extra, name)
			}
		}
		slices.Sort(extra)
		m.DetachLoRA()
		return fail("%d tensors this base's adapters lack, e.g. %s", len(extra), extra[0])
	}
	return cfg.BaseModel, nil
}
