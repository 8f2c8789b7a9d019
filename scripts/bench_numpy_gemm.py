#!/usr/bin/env python3
"""SGEMM throughput of numpy on OpenBLAS, as JSON lines like `go run ./cmd/bench gemm`.

A reference for docs/PERFORMANCE.md, run by hand, never by tests. Debian's
numpy links the reference BLAS through libblas.so.3; install OpenBLAS so that
alternative points at it, and check the "blas" field this script prints:

    apt-get install -y libopenblas0-pthread
    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 scripts/bench_numpy_gemm.py
    OPENBLAS_NUM_THREADS=2 /usr/bin/python3 scripts/bench_numpy_gemm.py

The thread count comes from OPENBLAS_NUM_THREADS (read by OpenBLAS when it
loads, so it cannot change inside one process).
"""
import argparse
import json
import os
import time

import numpy as np

SHAPES = [
    "512x512x512", "1024x1024x1024", "2048x2048x2048",
    "2048x1024x256", "2048x256x1024", "2048x256x256", "2048x2048x256",
    "1x2048x2048",
]


def loaded_blas():
    """The BLAS shared object numpy actually runs (from the process maps)."""
    with open("/proc/self/maps") as f:
        libs = {line.split()[-1] for line in f if "blas" in line.lower() and "/" in line}
    return sorted(libs)


def bench(m, n, k, trans, warmup, reps, min_time):
    rng = np.random.default_rng(1)
    a = rng.uniform(-1, 1, (k, m) if trans[0] == "T" else (m, k)).astype(np.float32)
    b = rng.uniform(-1, 1, (n, k) if trans[1] == "T" else (k, n)).astype(np.float32)
    opa = a.T if trans[0] == "T" else a
    opb = b.T if trans[1] == "T" else b
    c = np.empty((m, n), dtype=np.float32)
    for _ in range(warmup):
        np.matmul(opa, opb, out=c)
    times = []
    while len(times) < reps or sum(times) < min_time:
        t0 = time.perf_counter()
        np.matmul(opa, opb, out=c)
        times.append(time.perf_counter() - t0)
    times.sort()
    flop = 2.0 * m * n * k
    return times[0], times[len(times) // 2], len(times), flop


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shapes", default=",".join(SHAPES))
    p.add_argument("--trans", default="NN")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--reps", type=int, default=10)
    p.add_argument("--min-time", type=float, default=0.5)
    args = p.parse_args()
    threads = int(os.environ.get("OPENBLAS_NUM_THREADS", "0")) or os.cpu_count()
    blas = loaded_blas()
    if not any("openblas" in lib for lib in blas):
        raise SystemExit(f"numpy is not running OpenBLAS (loaded: {blas}); see the docstring")
    for sh in args.shapes.split(","):
        m, n, k = (int(x) for x in sh.split("x"))
        best, med, reps, flop = bench(m, n, k, args.trans, args.warmup, args.reps, args.min_time)
        print(json.dumps({
            "suite": "gemm-openblas", "name": sh, "m": m, "n": n, "k": k, "trans": args.trans,
            "threads": threads, "gflops": round(flop / best / 1e9, 2),
            "median_gflops": round(flop / med / 1e9, 2), "best_ms": round(best * 1e3, 2),
            "reps": reps, "blas": ",".join(os.path.basename(x) for x in blas),
        }), flush=True)


if __name__ == "__main__":
    main()
