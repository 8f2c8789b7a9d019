package load

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/safetensors"
)

// Kind is what a --model path turned out to be.
type Kind string

// The kinds of --model.
const (
	// Run is a cmd/train run folder: checkpoints/final.safetensors, else
	// checkpoints/latest.safetensors, with tokenizer.json beside
	// checkpoints/.
	Run Kind = "run"
	// Checkpoint is a training checkpoint file (nn.Checkpoint.Save), or a
	// folder holding exactly one; the tokenizer is beside it or one folder
	// up.
	Checkpoint Kind = "checkpoint"
	// HF is a Hugging Face folder: config.json and model.safetensors.
	HF Kind = "hf"
	// HFSharded is a Hugging Face folder whose weights are split in shards
	// listed by model.safetensors.index.json.
	HFSharded Kind = "hf-sharded"
)

// Found says what --model named and which files hold the model.
type Found struct {
	Kind Kind
	// Path is what the user passed.
	Path string
	// Dir is the Hugging Face folder, or the folder of the checkpoint.
	Dir string
	// Weights are the safetensors files: the checkpoint, model.safetensors,
	// or the shards.
	Weights []string
	// RunDir is the run folder the model belongs to, or "".
	RunDir string
	// Tokenizer is the tokenizer.json (or encoder.json) that goes with the
	// model, or "" when there is none.
	Tokenizer string
	// TokenizerConfig is the tokenizer_config.json beside the tokenizer
	// (or in Dir), or "".
	TokenizerConfig string
	// DType is the dtype the weights are stored in: "F32", "BF16" or "F16"
	// ("F32" for a mix).
	DType string
}

// IsHF reports whether the model came from a Hugging Face folder, as
// opposed to a model trained here.
func (f Found) IsHF() bool { return f.Kind == HF || f.Kind == HFSharded }

// Resolve finds what path names, reading no more than the weights' headers:
//
//   - a file: a training checkpoint; model.safetensors inside a Hugging Face
//     folder stands for the folder;
//   - a folder with state.json or checkpoints/: a run folder;
//   - a folder with config.json: a Hugging Face folder (sharded when it has
//     model.safetensors.index.json);
//   - a folder with exactly one .safetensors file: that checkpoint.
//
// Every error says what was looked for.
func Resolve(path string) (Found, error) {
	f, err := resolve(path)
	if err != nil {
		return f, err
	}
	infos := map[string]safetensors.TensorInfo{}
	if f.IsHF() {
		infos, f.Weights, err = safetensors.DirInfo(f.Dir)
	} else {
		infos, err = safetensors.FileInfo(f.Weights[0])
	}
	if err != nil {
		return f, err
	}
	f.DType = storedDType(infos)
	return f, nil
}

// resolve is Resolve without reading the weights' headers.
func resolve(path string) (Found, error) {
	f := Found{Path: path}
	st, err := os.Stat(path)
	if err != nil {
		return f, err
	}
	if !st.IsDir() {
		dir := filepath.Dir(path)
		if filepath.Base(path) == safetensors.SingleFileName && exists(filepath.Join(dir, "config.json")) {
			return resolve(dir)
		}
		if !strings.HasSuffix(path, ".safetensors") {
			return f, fmt.Errorf("%s is not a .safetensors checkpoint, a run folder or a Hugging Face folder", path)
		}
		f.Kind, f.Dir, f.Weights = Checkpoint, dir, []string{path}
		if isRunDir(filepath.Dir(dir)) && filepath.Base(dir) == "checkpoints" {
			f.RunDir = filepath.Dir(dir)
		}
		f.findTokenizer(dir, filepath.Dir(dir))
		return f, nil
	}
	switch {
	case isRunDir(path):
		f.Kind, f.RunDir, f.Dir = Run, path, filepath.Join(path, "checkpoints")
		for _, n := range []string{"final", "latest"} {
			if p := filepath.Join(f.Dir, n+".safetensors"); exists(p) {
				f.Weights = []string{p}
				break
			}
		}
		if f.Weights == nil {
			return f, fmt.Errorf("%s is a run folder without checkpoints/final.safetensors or checkpoints/latest.safetensors", path)
		}
		f.findTokenizer(path)
		return f, nil
	case exists(filepath.Join(path, "config.json")):
		f.Kind, f.Dir = HF, path
		// The config first: an invalid or absurd one is the folder's
		// problem whatever its weights are.
		if _, err := nn.LoadConfig(filepath.Join(path, "config.json")); err != nil {
			return f, err
		}
		if exists(filepath.Join(path, safetensors.IndexFileName)) {
			f.Kind = HFSharded
		} else if !exists(filepath.Join(path, safetensors.SingleFileName)) {
			return f, fmt.Errorf("%s has config.json but neither %s nor %s", path, safetensors.SingleFileName, safetensors.IndexFileName)
		}
		f.findTokenizer(path)
		return f, nil
	}
	files, err := filepath.Glob(filepath.Join(path, "*.safetensors"))
	if err != nil {
		return f, err
	}
	switch len(files) {
	case 0:
		return f, fmt.Errorf("%s is not a model folder: no config.json (Hugging Face), no checkpoints/ (run folder), no .safetensors checkpoint", path)
	case 1:
		return resolve(files[0])
	}
	return f, fmt.Errorf("%s has no config.json and %d .safetensors files; name the checkpoint file", path, len(files))
}

// isRunDir reports whether dir is a cmd/train run folder: state.json, or
// (a run killed before its first state.json) checkpoints/ in a folder that
// holds no Hugging Face weights of its own.
func isRunDir(dir string) bool {
	if exists(filepath.Join(dir, "state.json")) {
		return true
	}
	st, err := os.Stat(filepath.Join(dir, "checkpoints"))
	return err == nil && st.IsDir() && !exists(filepath.Join(dir, safetensors.SingleFileName)) &&
		!exists(filepath.Join(dir, safetensors.IndexFileName))
}

// findTokenizer sets the tokenizer files from the first of dirs holding
// tokenizer.json or encoder.json; tokenizer_config.json may stand alone
// (the character tokenizer of verl's test models has only that).
func (f *Found) findTokenizer(dirs ...string) {
	for _, d := range dirs {
		for _, n := range []string{"tokenizer.json", "encoder.json"} {
			if p := filepath.Join(d, n); exists(p) {
				f.Tokenizer = p
				if c := filepath.Join(d, "tokenizer_config.json"); exists(c) {
					f.TokenizerConfig = c
				}
				return
			}
		}
	}
	for _, d := range dirs {
		if c := filepath.Join(d, "tokenizer_config.json"); exists(c) {
			f.TokenizerConfig = c
			return
		}
	}
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// errNotExist reports a missing path the way users expect to read it.
func describe(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) && errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s does not exist", pe.Path)
	}
	return err
}
