// Command export writes a model as a Hugging Face folder (config.json,
// model.safetensors, tokenizer.json, tokenizer_config.json with the chat
// template, generation_config.json) that transformers, vLLM and llama.cpp's
// convert_hf_to_gguf.py load:
//
//	go run ./cmd/export --model runs/X --out runs/X/hf-bf16 --dtype bf16
//	go run ./cmd/export --model runs/X/checkpoints/sft.safetensors --out sft-hf
//
// --model is anything package nn/load resolves (a run folder, a checkpoint,
// a Hugging Face folder). The weights keep the dtype the model came in (F32
// for models trained here) unless --dtype says otherwise; narrowing rounds
// to nearest even. A run trained with LoRA on a bf16 base (--precision
// bf16 on a BF16-stored Hugging Face base) loads its base in bf16 and
// exports round_bf16(W + scale*B*A) as BF16, the weights its rollouts
// used; --dtype f32 or f16 writes the float32 merge instead. --out must not exist or be empty unless --overwrite.
// Every cmd/train run already ends with RUN/hf/, written the same way. A
// run trained with LoRA exports merged (W + scale*B*A); with --peft its
// adapters export instead as a PEFT adapter folder (adapter_config.json,
// adapter_model.safetensors) for PeftModel.from_pretrained on its base:
//
//	go run ./cmd/export --model runs/X --out runs/X/peft --peft
//
// Exit status: 0 on success, 2 for bad input (flags, model folder, --out),
// 1 when writing fails, 3 for a bug (internal/exitcode).
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/goarpo/arpo/backend"
	_ "github.com/goarpo/arpo/backend/cpu" // the backend the weights pass through
	"github.com/goarpo/arpo/internal/exitcode"
	"github.com/goarpo/arpo/nn/export"
	"github.com/goarpo/arpo/nn/load"
)

func main() {
	defer exitcode.OnPanic("export")
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// bad is bad input: one line, exit status 2.
func bad(format string, args ...any) error { return exitcode.Usagef(format, args...) }

func run(args []string, stdout, stderr io.Writer) int {
	err := exportCmd(args, stdout)
	switch {
	case err == nil, errors.Is(err, pflag.ErrHelp):
		return exitcode.OK
	case exitcode.IsUsage(err):
		fmt.Fprintln(stderr, "export:", err)
		return exitcode.BadInput
	}
	fmt.Fprintln(stderr, "export:", err)
	return exitcode.Failure
}

func exportCmd(args []string, stdout io.Writer) error {
	var model, out, dtype string
	var overwrite, peft bool
	fs := pflag.NewFlagSet("export", pflag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.StringVar(&model, "model", "", "run folder, checkpoint or Hugging Face folder (required)")
	fs.StringVar(&out, "out", "", "folder to write (required; must not exist or be empty)")
	fs.StringVar(&dtype, "dtype", "", "weights dtype: bf16, f16 or f32 (default: the dtype the model came in)")
	fs.BoolVar(&overwrite, "overwrite", false, "replace --out even if it is not empty")
	fs.BoolVar(&peft, "peft", false, "write a LoRA run's adapters as a PEFT adapter folder instead of the merged model")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return bad("%v", err)
	}
	switch {
	case fs.NArg() > 0:
		return bad("unexpected argument %q", fs.Arg(0))
	case model == "":
		return bad("--model is required")
	case out == "":
		return bad("--out is required")
	}
	dt, err := export.ParseDType(dtype)
	if err != nil {
		return bad("--dtype: %v", err)
	}
	if peft && dt != "" {
		return bad("--dtype: a PEFT folder holds the adapters as trained (F32)")
	}
	b, err := backend.Open("cpu", backend.Options{Threads: 1})
	if err != nil {
		return err
	}
	if peft {
		return exportPEFT(model, out, overwrite, b, stdout)
	}
	// A LoRA run trained on a bf16 base exports its bf16 merge (in BF16)
	// unless --dtype asks for another.
	bf16Base := false
	if dt == "" || dt == "BF16" {
		if bf16Base, err = load.TrainedOnBF16Base(model); err != nil {
			return bad("--model %s: %v", model, err)
		}
	}
	l, err := load.Load(model, load.Options{Backend: b, BF16Base: bf16Base})
	if err != nil {
		return bad("%v", err)
	}
	defer l.Free()
	if err := export.Write(export.FromLoaded(l), out, export.Options{DType: dt, Overwrite: overwrite}); err != nil {
		var te export.TargetError
		if errors.As(err, &te) {
			return bad("--out: %v", err)
		}
		return err
	}
	fmt.Fprintf(stdout, "exported %s (%s, %s) to %s\n", model, l.Found.Kind, orDefault(dt, l.Found.DType), out)
	return nil
}

// exportPEFT writes the adapters of the LoRA run or checkpoint model as a
// PEFT folder out, naming the base as its checkpoint does.
func exportPEFT(model, out string, overwrite bool, b backend.Backend, stdout io.Writer) error {
	m, info, err := load.LoadAdapters(model, b)
	if err != nil {
		return bad("%v", err)
	}
	defer m.Free()
	if err := export.WritePEFT(m, out, info.Base, overwrite); err != nil {
		var te export.TargetError
		if errors.As(err, &te) {
			return bad("--out: %v", err)
		}
		return err
	}
	fmt.Fprintf(stdout, "exported the LoRA adapters of %s (rank %d on %s; base %s) to %s\n", model, info.LoRA.Rank,
		strings.Join(info.LoRA.Targets, ","), info.Base, out)
	return nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
