// Package export writes a model as a Hugging Face folder that
// transformers, vLLM and llama.cpp's convert_hf_to_gguf.py load:
//
//	config.json             the architecture (model_type, sizes, RoPE, tied
//	                        embeddings, torch_dtype), carrying over the
//	                        fields of the folder the model came from
//	model.safetensors       the weights under their Hugging Face names, in
//	                        the dtype the model came in or the one asked for
//	tokenizer.json          the tokenizer, copied as it came in
//	tokenizer_config.json   with the chat template (ChatML for our own BPE)
//	generation_config.json  the end-of-turn ids
//
// The folder is built beside DIR and renamed into place, so DIR is either
// absent, the old folder, or complete. It does not shard: one
// model.safetensors loads everywhere. A model with LoRA adapters is written
// merged (W + scale*B*A, nn.Model.MergedCopy) by Write, or as a PEFT adapter
// folder by WritePEFT (peft.go).
package export

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/goarpo/arpo/internal/atomicfile"
	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/load"
	"github.com/goarpo/arpo/nn/safetensors"
	"github.com/goarpo/arpo/nn/tokenizer"
)

// Source is what a folder is written from.
type Source struct {
	Model *nn.Model
	// Tokenizer is the model's BPE tokenizer, or nil.
	Tokenizer *tokenizer.Tokenizer
	// TokenizerJSON and TokenizerConfig are the tokenizer's files, copied
	// as they are ("" when absent; tokenizer.json is then written from
	// Tokenizer, if any).
	TokenizerJSON, TokenizerConfig string
	// Origin is the Hugging Face folder the model was loaded or trained
	// from, or "": the fields of its config.json that package nn does not
	// read (bos_token_id, transformers_version, ...) and its
	// generation_config.json carry over.
	Origin string
	// DType is the dtype the model came in ("F32", "BF16", "F16"), the
	// default for the weights; "" means F32.
	DType string
	// EOS are the ids that end a reply (load.EOSIDs).
	EOS []int32
}

// FromLoaded is the Source of a model loaded by package load.
func FromLoaded(l *load.Loaded) Source {
	s := Source{Model: l.Model, Tokenizer: l.Tokenizer, TokenizerConfig: l.Found.TokenizerConfig,
		DType: l.Found.DType, EOS: l.EOS}
	if l.Model.BF16Base() {
		s.DType = "BF16" // what its linear weights hold
	}
	if strings.HasSuffix(l.Found.Tokenizer, "tokenizer.json") {
		s.TokenizerJSON = l.Found.Tokenizer
	}
	if l.Found.IsHF() {
		s.Origin = l.Found.Dir
	}
	return s
}

// TargetError is Write's refusal of its target: a file, or a folder that
// is not empty when overwriting was not asked for. It is the caller's
// input, not a failure to write.
type TargetError struct{ Msg string }

func (e TargetError) Error() string { return e.Msg }

// Options say how to write.
type Options struct {
	// DType stores the weights as "F32", "BF16" or "F16"; "" keeps
	// Source.DType.
	DType string
	// Overwrite replaces a DIR that is not empty.
	Overwrite bool
}

// ParseDType reads a --dtype flag value: bf16, f16, f32 (any case, or
// bfloat16, float16, float32), or "" for the source's own.
func ParseDType(s string) (string, error) {
	switch strings.ToLower(s) {
	case "":
		return "", nil
	case "f32", "fp32", "float32":
		return "F32", nil
	case "bf16", "bfloat16":
		return "BF16", nil
	case "f16", "fp16", "float16":
		return "F16", nil
	}
	return "", fmt.Errorf("dtype %q: want bf16, f16 or f32", s)
}

// torchDType is config.json's torch_dtype of a safetensors dtype.
var torchDType = map[string]string{"F32": "float32", "BF16": "bfloat16", "F16": "float16"}

// Write writes src as a Hugging Face folder dir (see the package comment).
// A dir that exists and is not empty is refused unless o.Overwrite.
func Write(src Source, dir string, o Options) error {
	dtype := o.DType
	if dtype == "" {
		dtype = src.DType
	}
	if dtype == "" {
		dtype = "F32"
	}
	if torchDType[dtype] == "" {
		return fmt.Errorf("export: dtype %q: want F32, BF16 or F16", dtype)
	}
	return writeFolder(dir, o.Overwrite, func(tmp string) error { return writeFiles(src, tmp, dtype) })
}

// writeFolder builds a folder with fill in a temporary folder beside dir
// and renames it into place. A dir that exists and is not empty is
// refused unless overwrite.
func writeFolder(dir string, overwrite bool, fill func(tmp string) error) error {
	if err := checkTarget(dir, overwrite); err != nil {
		return err
	}
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	// Folders an export killed midway left beside DIR: only one export
	// writes DIR at a time (cmd/train holds its run's lock), so they are
	// stale.
	stale, _ := filepath.Glob(filepath.Join(parent, "."+filepath.Base(dir)+".tmp-*"))
	for _, p := range stale {
		if err := os.RemoveAll(p); err != nil {
			return fmt.Errorf("export: removing a stale temporary folder: %w", err)
		}
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-*")
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer os.RemoveAll(tmp) // nothing left once renamed
	if err := fill(tmp); err != nil {
		return fmt.Errorf("export %s: %w", dir, err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return replaceDir(tmp, dir)
}

// checkTarget refuses a dir that is a file, or a folder with entries when
// overwriting was not asked for.
func checkTarget(dir string, overwrite bool) error {
	st, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if !st.IsDir() {
		return TargetError{dir + " is a file, not a folder"}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if len(entries) > 0 && !overwrite {
		return TargetError{dir + " is not empty; not overwriting it"}
	}
	return nil
}

// replaceDir moves the finished folder tmp to dir: an old dir is moved
// aside first and removed after, so that dir is always the old folder or
// the complete new one.
func replaceDir(tmp, dir string) error {
	old := ""
	if _, err := os.Stat(dir); err == nil {
		old = tmp + ".old"
		if err := os.Rename(dir, old); err != nil {
			return fmt.Errorf("export: %w", err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if old != "" {
			os.Rename(old, dir)
		}
		return fmt.Errorf("export: %w", err)
	}
	if old != "" {
		if err := os.RemoveAll(old); err != nil {
			return fmt.Errorf("export: removing the old %s: %w", dir, err)
		}
	}
	return syncDir(filepath.Dir(dir))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return nil // the rename is done; a folder we cannot open needs no sync
	}
	defer d.Close()
	d.Sync() // best effort: some file systems refuse to sync folders
	return nil
}

// writeFiles writes the folder's files into tmp.
func writeFiles(src Source, tmp, dtype string) error {
	if src.Model.LoRA != nil {
		// A bf16 base merges into bf16, round_bf16(W + scale*B*A), for a
		// BF16 file (what serving stacks load); any other dtype gets the
		// float32 merge, as a float32 base writes it.
		merge := src.Model.MergedCopyF32
		if dtype == "BF16" {
			merge = src.Model.MergedCopy
		}
		merged, err := merge()
		if err != nil {
			return err
		}
		defer merged.Free()
		src.Model = merged
	}
	ws, err := src.Model.Weights()
	if err != nil {
		return err
	}
	if err := safetensors.WriteFileAs(filepath.Join(tmp, safetensors.SingleFileName), ws, map[string]string{"format": "pt"}, dtype); err != nil {
		return err
	}
	cfg, err := configJSON(src, dtype)
	if err != nil {
		return err
	}
	if err := writeFile(filepath.Join(tmp, "config.json"), cfg); err != nil {
		return err
	}
	gen, err := generationConfig(src)
	if err != nil {
		return err
	}
	if err := writeFile(filepath.Join(tmp, "generation_config.json"), gen); err != nil {
		return err
	}
	return writeTokenizer(src, tmp)
}

func writeFile(path string, data []byte) error {
	return atomicfile.WriteFile(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// readObject reads a JSON object keeping numbers as written.
func readObject(path string) (map[string]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseObject(data, path)
}

func parseObject(data []byte, what string) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if m == nil {
		return nil, fmt.Errorf("%s: not a JSON object", what)
	}
	return m, nil
}

// marshal writes v as indented JSON without HTML escaping (chat templates
// hold '<' and '>'), with a final newline.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// configJSON is the model's config as package nn knows it, with the
// origin's other fields, the token ids, and torch_dtype.
func configJSON(src Source, dtype string) ([]byte, error) {
	fields, err := parseObject(src.Model.Cfg.HFJSON(), "config")
	if err != nil {
		return nil, err
	}
	if src.Origin != "" {
		orig, err := readObject(filepath.Join(src.Origin, "config.json"))
		if err != nil {
			return nil, err
		}
		for _, k := range slices.Sorted(maps.Keys(orig)) {
			if _, ok := fields[k]; !ok {
				fields[k] = orig[k]
			}
		}
	}
	fields["torch_dtype"] = torchDType[dtype]
	if _, ok := fields["bos_token_id"]; !ok {
		// transformers' LlamaConfig would otherwise default it to 1; our
		// tokenizers have no beginning-of-sequence token.
		fields["bos_token_id"] = nil
	}
	if t := src.Tokenizer; t != nil {
		if _, ok := fields["eos_token_id"]; !ok && t.EOS() >= 0 {
			fields["eos_token_id"] = t.EOS()
		}
		if _, ok := fields["pad_token_id"]; !ok && t.Pad() >= 0 {
			fields["pad_token_id"] = t.Pad()
		}
	}
	return marshal(fields)
}

// generationConfig is the origin's generation_config.json, else one that
// stops where this project's generation stops.
func generationConfig(src Source) ([]byte, error) {
	if src.Origin != "" {
		p := filepath.Join(src.Origin, "generation_config.json")
		if data, err := os.ReadFile(p); err == nil {
			return data, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	g := map[string]any{}
	switch len(src.EOS) {
	case 0:
	case 1:
		g["eos_token_id"] = src.EOS[0]
	default:
		g["eos_token_id"] = src.EOS
	}
	if t := src.Tokenizer; t != nil && t.Pad() >= 0 {
		g["pad_token_id"] = t.Pad()
	}
	return marshal(g)
}

// writeTokenizer copies the tokenizer's files (or writes tokenizer.json
// from the tokenizer) and makes sure tokenizer_config.json has a chat
// template when the tokenizer speaks ChatML.
func writeTokenizer(src Source, tmp string) error {
	switch {
	case src.TokenizerJSON != "":
		if err := copyFile(src.TokenizerJSON, filepath.Join(tmp, "tokenizer.json")); err != nil {
			return err
		}
	case src.Tokenizer != nil:
		data, err := src.Tokenizer.MarshalHF()
		if err != nil {
			return err
		}
		if err := writeFile(filepath.Join(tmp, "tokenizer.json"), data); err != nil {
			return err
		}
	}
	// Newer transformers save the chat template in a file of its own.
	templateFile := false
	for _, n := range []string{"special_tokens_map.json", "chat_template.jinja", "chat_template.json"} {
		if src.TokenizerConfig == "" {
			break
		}
		if p := filepath.Join(filepath.Dir(src.TokenizerConfig), n); fileExists(p) {
			if err := copyFile(p, filepath.Join(tmp, n)); err != nil {
				return err
			}
			templateFile = templateFile || strings.HasPrefix(n, "chat_template")
		}
	}
	var cfg map[string]any
	if src.TokenizerConfig != "" {
		var err error
		if cfg, err = readObject(src.TokenizerConfig); err != nil {
			return err
		}
		if _, ok := cfg["chat_template"]; ok || templateFile || !speaksChatML(src.Tokenizer) {
			return copyFile(src.TokenizerConfig, filepath.Join(tmp, "tokenizer_config.json"))
		}
	} else if src.Tokenizer == nil {
		return nil
	} else {
		cfg = map[string]any{"tokenizer_class": "PreTrainedTokenizerFast", "add_bos_token": false,
			"clean_up_tokenization_spaces": false, "model_max_length": src.Model.Cfg.MaxPositionEmbeddings}
		if s, ok := src.Tokenizer.DecodeToken(src.Tokenizer.EOS()); ok {
			cfg["eos_token"] = s
		}
		if s, ok := src.Tokenizer.DecodeToken(src.Tokenizer.Pad()); ok {
			cfg["pad_token"] = s
		}
	}
	if speaksChatML(src.Tokenizer) {
		cfg["chat_template"] = tokenizer.ChatMLTemplate
	}
	data, err := marshal(cfg)
	if err != nil {
		return err
	}
	return writeFile(filepath.Join(tmp, "tokenizer_config.json"), data)
}

// speaksChatML reports whether t has ChatML's turn markers.
func speaksChatML(t *tokenizer.Tokenizer) bool {
	if t == nil {
		return false
	}
	_, a := t.TokenID("<|im_start|>")
	_, b := t.TokenID("<|im_end|>")
	return a && b
}

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return writeFile(to, data)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
