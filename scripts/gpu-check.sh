#!/usr/bin/env bash
# gpu-check.sh: checks and measures the Vulkan backend on a Linux machine
# with an NVIDIA GPU, in under 8 minutes (each step has a time limit; the
# limits add up to 470 s), without installing anything into the system.
#
#   scripts/gpu-check.sh --prepare     on a Debian 12 machine with Go and apt:
#                                      downloads the Vulkan loader, vulkaninfo
#                                      and the validation layer (.deb) and
#                                      builds the test and bench binaries,
#                                      all into .gpu-check/ (git-ignored)
#   scripts/gpu-check.sh OUTDIR        on the GPU machine: runs the checks and
#                                      writes their results to OUTDIR
#
# Options of the second form:
#   --any-driver   use whatever Vulkan drivers the loader finds instead of
#                  looking for NVIDIA's (to try the script on Mesa's lavapipe)
#   --smoke        tiny shapes and models, for a software driver
#
# The GPU machine needs no Go and no Vulkan loader: the loader and
# vulkaninfo come from the .debs in .gpu-check/debs (downloaded there with
# apt-get download when the folder is missing and apt works), unpacked with
# dpkg -x into .gpu-check/root; the loader is put first on LD_LIBRARY_PATH,
# the other libraries last (they fill only what the system lacks). The
# NVIDIA driver's ICD manifest is found as the loader would find it (or
# next to nvidia-smi, or under GPU_CHECK_DRIVER_DIR, or as VK_DRIVER_FILES
# names it); where there is none, one is written for libGLX_nvidia.so.0. With Go on PATH and
# no prebuilt binaries, `go test` and `go run` are used instead.
#
# OUTDIR receives: vulkaninfo.txt, tests.log, gemm.jsonl (float32 lines,
# then --dtype bf16 lines: BF16 GEMM with our SGEMM beside it), train.jsonl,
# decode.jsonl (cmd/bench's JSON lines), bench.log (their stderr, with the
# --profile tables of GPU time per op kind) and check.jsonl (one line per
# step: name, exit status, seconds). Exit status: 0 when every step passed,
# 1 when one failed, 2 for bad usage or a machine without what it needs.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
work=$root/.gpu-check
debs="libvulkan1 vulkan-tools vulkan-validationlayers libwayland-client0 libx11-6 libx11-data libxcb1 libxau6 libxdmcp6 libbsd0 libmd0 libffi8 libglvnd0 libegl1 libglx0 libgl1 libopengl0 libgles2"

usage() {
	echo "usage: scripts/gpu-check.sh --prepare | [--any-driver] [--smoke] OUTDIR" >&2
	exit 2
}

# download_debs fetches the packages into $work/debs with apt-get download,
# using package lists of its own (an `apt-get update` into $work/lists
# when the system has none), so that nothing under /var or /etc changes.
download_debs() {
	command -v apt-get >/dev/null || return 1
	mkdir -p "$work/debs" "$work/lists/partial"
	local o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64)
	# shellcheck disable=SC2086
	if (cd "$work/debs" && apt-get "${o[@]}" download $debs >/dev/null 2>&1); then
		return 0
	fi
	o+=(-oDir::State::Lists="$work/lists")
	apt-get "${o[@]}" update >/dev/null 2>&1 || return 1
	# shellcheck disable=SC2086
	(cd "$work/debs" && apt-get "${o[@]}" download $debs >/dev/null 2>&1)
}

if [ "${1:-}" = --prepare ]; then
	[ $# -eq 1 ] || usage
	command -v go >/dev/null || { echo "gpu-check: --prepare needs Go" >&2; exit 2; }
	rm -rf "$work/debs"
	download_debs || { echo "gpu-check: apt-get download of the Vulkan packages failed" >&2; exit 1; }
	mkdir -p "$work/bin"
	(cd "$root" && CGO_ENABLED=1 go test -c -tags vulkan -ldflags=-s\ -w -o "$work/bin/vulkan.test" ./backend/vulkan &&
		CGO_ENABLED=1 go build -tags vulkan -ldflags=-s\ -w -o "$work/bin/bench" ./cmd/bench) || exit 1
	git -C "$root" rev-parse HEAD >"$work/bin/commit" 2>/dev/null
	du -sh "$work/debs" "$work/bin"
	echo "gpu-check: prepared $work; on the GPU machine run scripts/gpu-check.sh OUTDIR"
	exit 0
fi

anyDriver=0
smoke=0
out=
for a in "$@"; do
	case $a in
	--any-driver) anyDriver=1 ;;
	--smoke) smoke=1 ;;
	-*) usage ;;
	*) [ -z "$out" ] || usage; out=$a ;;
	esac
done
[ -n "$out" ] || usage
mkdir -p "$out" || exit 2
out=$(cd "$out" && pwd)
: >"$out/check.jsonl"
: >"$out/bench.log"
start=$SECONDS

# step NAME TIMEOUT CMD...: runs CMD with a time limit and records a line
# in check.jsonl.
step() {
	local name=$1 limit=$2 t0=$SECONDS rc
	shift 2
	echo "gpu-check: $name" >&2
	timeout --kill-after=10 "$limit" "$@"
	rc=$?
	printf '{"step":"%s","rc":%d,"seconds":%d}\n' "$name" "$rc" $((SECONDS - t0)) >>"$out/check.jsonl"
	return "$rc"
}

# The loader and vulkaninfo, unpacked under $work/root.
if ! ls "$work"/debs/libvulkan1_*.deb >/dev/null 2>&1; then
	echo "gpu-check: no .debs in $work/debs; downloading them" >&2
	download_debs || echo "gpu-check: could not download the Vulkan packages; relying on the system's loader" >&2
fi
if ls "$work"/debs/*.deb >/dev/null 2>&1; then
	rm -rf "$work/root" "$work/loader"
	mkdir -p "$work/root" "$work/loader"
	for f in "$work"/debs/*.deb; do
		case $(basename "$f") in
		libvulkan1_*) dpkg -x "$f" "$work/loader" ;;
		*) dpkg -x "$f" "$work/root" ;;
		esac
	done
	# The library folders are the ones the packages hold (their multiarch
	# name depends on the architecture apt downloaded for), loader first.
	libdirs() { find "$1" \( -name '*.so' -o -name '*.so.*' \) -printf '%h\n' | sort -u | paste -sd:; }
	loaderlibs=$(libdirs "$work/loader") rootlibs=$(libdirs "$work/root")
	export LD_LIBRARY_PATH="$loaderlibs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}${rootlibs:+:$rootlibs}"
	# vulkaninfo and the validation layer's manifest, wherever the
	# packages put them.
	bindir=$(find "$work/root" -name vulkaninfo -type f -printf '%h\n' | head -1)
	[ -n "$bindir" ] && export PATH="$PATH:$bindir"
	layerdir=$(find "$work/root" -name VkLayer_khronos_validation.json -printf '%h\n' | head -1)
	[ -n "$layerdir" ] && export VK_LAYER_PATH="$layerdir"
fi

# The NVIDIA driver's ICD manifest. Its location is derived, never assumed:
# a manifest already named by VK_DRIVER_FILES or VK_ICD_FILENAMES; the prefix
# nvidia-smi runs from (a driver mounted into a container keeps lib64/ and
# share/vulkan/ beside bin/) and GPU_CHECK_DRIVER_DIR, another such prefix;
# then the manifests the Vulkan loader itself finds on its search path (as
# its VK_LOADER_DEBUG=driver log names them). Failing a manifest, one is
# written for the libGLX_nvidia.so.0 found on LD_LIBRARY_PATH or in
# ldconfig's cache.
if [ "$anyDriver" = 0 ]; then
	prefixes=()
	[ -n "${GPU_CHECK_DRIVER_DIR:-}" ] && prefixes+=("$GPU_CHECK_DRIVER_DIR")
	if smi=$(command -v nvidia-smi); then
		prefixes+=("$(dirname "$(dirname "$(readlink -f "$smi")")")")
	fi
	for p in "${prefixes[@]}"; do
		for d in "$p/lib64" "$p/lib"; do
			[ -d "$d" ] && export LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$d"
		done
	done
	icd=${VK_DRIVER_FILES:-${VK_ICD_FILENAMES:-}}
	if [ -z "$icd" ]; then
		for p in "${prefixes[@]}"; do
			for f in "$p"/share/vulkan/icd.d/nvidia_icd*.json; do
				if [ -f "$f" ]; then icd=$f; break 2; fi
			done
		done
	fi
	if [ -z "$icd" ] && command -v vulkaninfo >/dev/null; then
		icd=$(VK_LOADER_DEBUG=driver vulkaninfo --summary 2>&1 |
			sed -n 's/.*Found ICD manifest file \([^ ,]*nvidia_icd[^ ,/]*\.json\).*/\1/p' | head -1)
	fi
	if [ -z "$icd" ]; then
		glx=
		for d in ${LD_LIBRARY_PATH//:/ }; do
			if [ -e "$d/libGLX_nvidia.so.0" ]; then glx=$d/libGLX_nvidia.so.0; break; fi
		done
		[ -n "$glx" ] || glx=$(ldconfig -p 2>/dev/null | awk '/libGLX_nvidia.so.0/ {print $NF; exit}')
		if [ -z "$glx" ]; then
			echo "gpu-check: no NVIDIA Vulkan driver (no nvidia_icd.json, no libGLX_nvidia.so.0; set VK_DRIVER_FILES or GPU_CHECK_DRIVER_DIR); --any-driver uses any driver" >&2
			exit 2
		fi
		icd=$work/nvidia_icd.json
		mkdir -p "$work"
		printf '{"file_format_version": "1.0.1", "ICD": {"library_path": "%s", "api_version": "1.3.0"}}\n' "$glx" >"$icd"
		echo "gpu-check: wrote $icd for $glx" >&2
	fi
	echo "gpu-check: NVIDIA ICD $icd" >&2
	export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd
fi

if command -v vulkaninfo >/dev/null; then
	step vulkaninfo 20 vulkaninfo --summary >"$out/vulkaninfo.txt" 2>&1
	cat "$out/vulkaninfo.txt"
else
	echo "vulkaninfo not found" >"$out/vulkaninfo.txt"
fi

# The validation layer, where the loader finds it (vulkaninfo lists it
# among the instance layers), checks every test.
layers=
if grep -q VK_LAYER_KHRONOS_validation "$out/vulkaninfo.txt"; then
	layers=VK_LAYER_KHRONOS_validation
fi

# The tagged tests: the prebuilt binary, else go test.
if [ -f "$work/bin/commit" ] && command -v git >/dev/null &&
	[ "$(git -C "$root" rev-parse HEAD 2>/dev/null)" != "$(cat "$work/bin/commit")" ]; then
	echo "gpu-check: warning: the binaries in $work/bin were built at $(cat "$work/bin/commit"), not at HEAD; run --prepare again" >&2
fi
if [ -x "$work/bin/vulkan.test" ]; then
	(cd "$root/backend/vulkan" && VK_INSTANCE_LAYERS=$layers step tests 100 "$work/bin/vulkan.test" -test.count=1 -test.v) >"$out/tests.log" 2>&1
elif command -v go >/dev/null; then
	(cd "$root" && VK_INSTANCE_LAYERS=$layers step tests 100 go test -count=1 -tags vulkan ./backend/...) >"$out/tests.log" 2>&1
else
	echo "gpu-check: neither .gpu-check/bin/vulkan.test nor go; run --prepare first" >&2
	exit 2
fi
grep -E '^(--- FAIL|FAIL|ok|PASS)' "$out/tests.log" | tail -20

if [ -x "$work/bin/bench" ]; then
	bench=("$work/bin/bench")
else
	bench=(go run -tags vulkan ./cmd/bench)
fi
cd "$root" || exit 2

if [ "$smoke" = 1 ]; then
	gemmArgs=(--shapes 64x64x64,1x256x128,33x65x300 --reps 2 --warmup 1 --min-time 0)
	gemmBF16Args=(--shapes 64x64x64,1x256x128 --reps 2 --warmup 1 --min-time 0)
	trainArgs=(--configs a --steps 1 --warmup 0 --batch 2 --seq 16)
	decodeArgs=(--configs a --batch 1,4 --new 4 --reps 1 --fork-len 0)
	shapeTrain=()
	shapeDecode=()
	cpuTrain=()
else
	# Square products against the FP32 peak, a linear layer's shapes
	# (tall-skinny included) and the decode shapes (m = 1, 16, 64).
	gemmArgs=(--trans NT --shapes 1024x1024x1024,2048x2048x2048,4096x4096x4096,2048x4864x896,2048x896x4864,1x4096x4096,16x4096x4096,64x4096x4096,128x896x16384)
	# BF16 GEMM (each line measures it and our SGEMM three times over):
	# square, a linear layer, and decode against a bf16 weight.
	gemmBF16Args=(--trans NT --min-time 200ms --shapes 2048x2048x2048,4096x4096x4096,2048x4864x896,1x4096x4096,64x4096x4096)
	trainArgs=(--configs b --steps 3 --warmup 1 --batch 8 --seq 256)
	decodeArgs=(--configs b --batch 1,16,64 --new 64 --reps 2 --fork-len 0)
	shapeTrain=(--shape qwen2.5-0.5b --steps 2 --warmup 1 --batch 4 --seq 256)
	# Both KV caches, at a context long enough for attention to count.
	shapeDecode=(--shape qwen2.5-0.5b --batch 1,16,64 --prompt 256 --new 32 --reps 1 --kv-cache f32,bf16 --fork-len 0)
	cpuTrain=(--configs b --steps 1 --warmup 0 --batch 8 --seq 256 --threads "$(nproc)")
fi

step gemm 50 "${bench[@]}" gemm --backend vulkan "${gemmArgs[@]}" >"$out/gemm.jsonl" 2>>"$out/bench.log"
step gemm-bf16 40 "${bench[@]}" gemm --backend vulkan --dtype bf16 "${gemmBF16Args[@]}" >>"$out/gemm.jsonl" 2>>"$out/bench.log"
step train 60 "${bench[@]}" train --backend vulkan --profile "${trainArgs[@]}" >"$out/train.jsonl" 2>>"$out/bench.log"
if [ ${#shapeTrain[@]} -gt 0 ]; then
	step train-qwen2.5-0.5b 65 "${bench[@]}" train --backend vulkan --profile "${shapeTrain[@]}" >>"$out/train.jsonl" 2>>"$out/bench.log"
fi
if [ ${#cpuTrain[@]} -gt 0 ]; then
	# The CPU backend on the same commit and machine, for the ratio.
	step train-cpu 45 "${bench[@]}" train --backend cpu "${cpuTrain[@]}" >>"$out/train.jsonl" 2>>"$out/bench.log"
fi
step decode 45 "${bench[@]}" decode --backend vulkan "${decodeArgs[@]}" >"$out/decode.jsonl" 2>>"$out/bench.log"
if [ ${#shapeDecode[@]} -gt 0 ]; then
	step decode-qwen2.5-0.5b 45 "${bench[@]}" decode --backend vulkan "${shapeDecode[@]}" >>"$out/decode.jsonl" 2>>"$out/bench.log"
fi

cat "$out/gemm.jsonl" "$out/train.jsonl" "$out/decode.jsonl"
cat "$out/check.jsonl"
echo "gpu-check: done in $((SECONDS - start)) s; results in $out" >&2
# A step in a subshell cannot set a variable here: the lines decide.
! grep -qv '"rc":0,' "$out/check.jsonl"
