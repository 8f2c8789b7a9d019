package run

import (
	"path/filepath"

	"github.com/goarpo/arpo/nn/export"
	"github.com/goarpo/arpo/nn/load"
)

// exportHF writes the final model as RUN/hf/, a Hugging Face folder (see
// package nn/export), replacing the one an earlier --resume left. A run
// started from a Hugging Face folder keeps that folder's config fields,
// tokenizer files, chat template and dtype; a model trained here gets its
// run's tokenizer with ChatML, in F32. --export-dtype overrides the dtype.
func (j *job) exportHF() error {
	src := export.Source{
		Model: j.model, Tokenizer: j.tok, DType: "F32", EOS: j.roller.Cfg.EOS,
		TokenizerJSON:   filepath.Join(j.dir, "tokenizer.json"),
		TokenizerConfig: filepath.Join(j.dir, "tokenizer_config.json"),
	}
	if origin := pretrainedHF(j.c.Model); origin != "" {
		f, err := load.Resolve(origin)
		if err != nil {
			return err
		}
		src.Origin, src.DType = f.Dir, f.DType
		src.TokenizerJSON, src.TokenizerConfig = f.Tokenizer, f.TokenizerConfig
	}
	if !fileExists(src.TokenizerConfig) {
		src.TokenizerConfig = ""
	}
	dt, _ := export.ParseDType(j.c.ExportDType) // checked by validate
	dir := filepath.Join(j.dir, "hf")
	if err := export.Write(src, dir, export.Options{DType: dt, Overwrite: true}); err != nil {
		return err
	}
	if dt == "" {
		dt = src.DType
	}
	j.printf("%-10s %s (%s; loads with transformers, or go run ./cmd/generate --model %s)\n", "hf", dir, dt, dir)
	return nil
}
