#!/usr/bin/env bash
# Ours and PyTorch back to back on a real model's shape (random weights),
# as docs/PERFORMANCE-real.md's "Real shapes" section reports them:
#
#   bash scripts/bench_real_shapes.sh [SHAPE [REPEATS]]   # default qwen2.5-0.5b 2
#
# Each repeat runs, ours then PyTorch: decode at batch 1, 16 and 64 (16-token
# prompts, 16 new tokens), one SFT step (1 x 256 tokens), then once after
# the repeats a 512-token prefill and one RL update (4 x 128 tokens, 32 of
# them prompt). Every line is its own process, so its peak_rss_mib is its
# own. 2 threads each. JSON lines on stdout, the machine's load on stderr.
set -uo pipefail
shape=${1:-qwen2.5-0.5b}
repeats=${2:-2}
cd "$(dirname "$0")/.."
bin=$(mktemp -d)/bench
trap 'rm -rf "$(dirname "$bin")"' EXIT
go build -o "$bin" ./cmd/bench
py=/usr/bin/python3
load() { echo "# $(date -u +%H:%M:%S) $1: $(uptime)" >&2; }
for r in $(seq "$repeats"); do
  load "repeat $r decode"
  "$bin" decode --shape "$shape" --threads 2 --batch 1,16,64 --prompt 16 --new 16 --reps 1 --fork-len 0
  for b in 1 16 64; do
    $py scripts/torch_bench_decode.py --shape "$shape" --threads 2 --batch $b --prompt 16 --new 16 --reps 1
  done
  load "repeat $r sft"
  "$bin" train --shape "$shape" --threads 2 --batch 1 --seq 256 --steps 1 --warmup 1
  $py scripts/torch_bench_train.py --shape "$shape" --threads 2 --batch 1 --seq 256 --steps 1 --warmup 1
done
load "prefill"
"$bin" prefill --shape "$shape" --threads 2 --batch 1 --prompt 512 --reps 1
$py scripts/torch_bench_decode.py --prefill-only --shape "$shape" --threads 2 --batch 1 --prompt 512 --reps 1
load "rl"
"$bin" rl --shape "$shape" --threads 2 --batch 4 --seq 128 --prompt 32 --steps 1 --warmup 1
$py scripts/torch_bench_train.py --objective rl --shape "$shape" --threads 2 --batch 4 --seq 128 --prompt 32 --steps 1 --warmup 1
load "done"
