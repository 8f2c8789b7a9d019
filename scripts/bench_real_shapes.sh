#!/usr/bin/env bash
# Ours and PyTorch back to back on a real model's shape (random weights),
# as docs/PERFORMANCE-real.md's "Real shapes" section reports them:
#
#   bash scripts/bench_real_shapes.sh [SHAPE [REPEATS [THREADS]]]   # default qwen2.5-0.5b 2 1
#
# Each repeat runs, ours then PyTorch: decode at batch 1, 16 and 64 (16-token
# prompts, 8 new tokens), one SFT step (1 x 128 tokens); after the repeats,
# once, a 512-token prefill and one RL update (4 x 128 tokens, 32 of them
# prompt). Every line is its own process, so its peak_rss_mib is its own.
# JSON lines on stdout, the time and the machine's load on stderr.
#
# PyTorch multiplies matrices with whatever libblas.so.3 the system picks;
# Debian's python3-torch alone brings the reference BLAS, ~10x slower than
# OpenBLAS. BLAS_DIR=DIR puts DIR (holding an OpenBLAS libblas.so.3, e.g.
# from `apt-get download libopenblas0-pthread; dpkg -x ...`) first on
# PyTorch's library path; OPENBLAS_NUM_THREADS is the thread count.
set -uo pipefail
shape=${1:-qwen2.5-0.5b}
repeats=${2:-2}
th=${3:-1}
cd "$(dirname "$0")/.."
bin=$(mktemp -d)/bench
trap 'rm -rf "$(dirname "$bin")"' EXIT
go build -o "$bin" ./cmd/bench || exit 1
py="env OPENBLAS_NUM_THREADS=$th LD_LIBRARY_PATH=${BLAS_DIR:-} /usr/bin/python3"
load() { echo "# $(date -u +%H:%M:%S) $1: $(uptime)" >&2; }
echo "# PyTorch's BLAS: ${BLAS_DIR:-system libblas.so.3}" >&2
for r in $(seq "$repeats"); do
  load "repeat $r decode"
  "$bin" decode --shape "$shape" --threads "$th" --batch 1,16,64 --prompt 16 --new 8 --reps 1 --fork-len 0
  for b in 1 16 64; do
    $py scripts/torch_bench_decode.py --shape "$shape" --threads "$th" --batch $b --prompt 16 --new 8 --reps 1
  done
  load "repeat $r sft"
  "$bin" train --shape "$shape" --threads "$th" --batch 1 --seq 128 --steps 1 --warmup 1
  $py scripts/torch_bench_train.py --shape "$shape" --threads "$th" --batch 1 --seq 128 --steps 1 --warmup 1
done
load "prefill"
"$bin" prefill --shape "$shape" --threads "$th" --batch 1 --prompt 512 --reps 1
$py scripts/torch_bench_decode.py --prefill-only --shape "$shape" --threads "$th" --batch 1 --prompt 512 --reps 1
load "rl"
"$bin" rl --shape "$shape" --threads "$th" --batch 4 --seq 128 --prompt 32 --steps 1 --warmup 1
$py scripts/torch_bench_train.py --objective rl --shape "$shape" --threads "$th" --batch 4 --seq 128 --prompt 32 --steps 1 --warmup 1
load "done"
