package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/goarpo/arpo/backend"
	"github.com/goarpo/arpo/nn"
)

// loadModel opens the backend and loads --model: a Hugging Face folder, a
// checkpoint file, or a folder holding exactly one checkpoint file. It
// returns the model, the folder to look for a tokenizer in, and the
// end-of-sequence ids of config.json / generation_config.json (if any).
func loadModel(o options) (*nn.Model, string, []int32, error) {
	st, err := os.Stat(o.model)
	if err != nil {
		return nil, "", nil, badInput("--model: %v", err)
	}
	path, dir := o.model, o.model
	hf := false
	if st.IsDir() {
		if _, err := os.Stat(filepath.Join(dir, "config.json")); err == nil {
			hf = true
		} else if path, err = findCheckpoint(dir); err != nil {
			return nil, "", nil, badInput("--model: %v", err)
		}
	} else {
		dir = filepath.Dir(path)
	}
	b, err := backend.Open(o.backend, backend.Options{Threads: o.threads, Device: o.device})
	if err != nil {
		return nil, "", nil, badInput("--backend: %v", err)
	}
	if hf {
		m, err := nn.LoadHF(dir, b)
		if err != nil {
			return nil, "", nil, badInput("--model: %v", err)
		}
		eos, err := configEOS(dir)
		if err != nil {
			m.Free()
			return nil, "", nil, badInput("--model: %v", err)
		}
		return m, dir, eos, nil
	}
	ck, err := nn.LoadCheckpoint(path, b)
	if err != nil {
		return nil, "", nil, badInput("--model: %v", err)
	}
	ck.Opt.Free() // generation needs only the weights
	return ck.Model, dir, nil, nil
}

// findCheckpoint returns the only .safetensors file in dir.
func findCheckpoint(dir string) (string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.safetensors"))
	if err != nil {
		return "", err
	}
	switch len(files) {
	case 0:
		return "", fmt.Errorf("%s has neither config.json (a Hugging Face model) nor a .safetensors checkpoint", dir)
	case 1:
		return files[0], nil
	}
	return "", fmt.Errorf("%s has no config.json and %d .safetensors files; name the checkpoint file", dir, len(files))
}

// configEOS reads eos_token_id (a number, a list or null) from
// generation_config.json and config.json in dir, when present.
func configEOS(dir string) ([]int32, error) {
	var eos []int32
	for _, name := range []string{"generation_config.json", "config.json"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		var cfg struct {
			EOS json.RawMessage `json:"eos_token_id"`
		}
		if err := json.Unmarshal(data, &cfg); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		raw := strings.TrimSpace(string(cfg.EOS))
		if raw == "" || raw == "null" {
			continue
		}
		var ids []int32
		if strings.HasPrefix(raw, "[") {
			err = json.Unmarshal(cfg.EOS, &ids)
		} else {
			var id int32
			err = json.Unmarshal(cfg.EOS, &id)
			ids = []int32{id}
		}
		if err != nil {
			return nil, fmt.Errorf("%s: eos_token_id: %w", name, err)
		}
		eos = appendNew(eos, ids...)
	}
	return eos, nil
}

// appendNew appends the ids not already in dst.
func appendNew(dst []int32, ids ...int32) []int32 {
	for _, id := range ids {
		seen := false
		for _, d := range dst {
			seen = seen || d == id
		}
		if !seen {
			dst = append(dst, id)
		}
	}
	return dst
}
