// Package run is the lifecycle of one training run: its configuration
// (Config: presets, flags, config files, validation, size checks), its
// setup (task and tools, tokenizer, model, rollout engine), the SFT cold
// start, the RL phase, evaluations, checkpoints, resume, the summary, plots
// and the Hugging Face export. cmd/train is a flag parser over it:
//
//	c, err := run.Load(configFile, flags) // preset, then file, then flags
//	err = run.Start(ctx, c, run.Options{Out: os.Stdout})
//	err = run.Resume(ctx, "runs/x", c, changedFlags, run.Options{Out: os.Stdout})
//
// # The run folder
//
// Start writes everything into one folder (Config.Out, default
// runs/<time>-<algo>), which must be new or empty:
//
//   - config.json: the effective Config; its keys are the flag names.
//   - tokenizer.json (and tokenizer_config.json for a Hugging Face --model).
//   - state.json: where the run stands (phase, SFT and RL step) and the
//     SHA-256 of the latest checkpoint, the tokenizer and the SFT checkpoint.
//   - checkpoints/: latest (the resumable unit with state.json), sft, final.
//   - sft.jsonl and metrics.jsonl: one line per SFT or RL step (MetricsLine).
//   - evals.jsonl, samples/eval-TAG.{json,jsonl}: each evaluation's result
//     and graded trajectories; samples/trees-stepNNNN.jsonl: rollout trees
//     for the dashboard.
//   - summary.json, plots.png, workers.log (with --workers), and hf/: the
//     final model as a Hugging Face folder (package nn/export).
//   - .lock: held while a process writes the folder.
//
// # Crash consistency
//
// The checkpoint and its state are one unit (docs/DESIGN.md, "Crash
// consistency"; runstate.go). A save makes the open log durable, writes
// checkpoints/latest.safetensors atomically with its own position in its
// metadata, then state.json naming that position and the checkpoint's
// hash. Resume takes the lock, removes stale temporary files, trusts the
// pair when the hash matches, rolls state.json forward when the checkpoint
// is later (the process died between the two writes), refuses anything
// else with one line, and cuts the logs back to the checkpoint's step. So a
// kill at any moment, then Resume, ends with the same bits as a run that
// never stopped.
//
// Errors: bad input is an exitcode.UsageError, returned before anything is
// written; a cancelled context saves a checkpoint and returns an error
// wrapping ErrInterrupted.
//
// Rollout workers: with Config.Workers the run starts its own executable N
// times with WorkerEnv set; a command that calls Start must therefore begin
// main with
//
//	if url := os.Getenv(run.WorkerEnv); url != "" {
//		os.Exit(run.LocalWorker(url))
//	}
package run
