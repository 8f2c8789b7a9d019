#!/bin/sh
# Compiles every compute shader of this folder to SPIR-V under spv/, the
# files the Vulkan backend embeds. Run through `go generate` in
# backend/vulkan; CI runs it and fails if a committed .spv file changes.
set -eu
cd "$(dirname "$0")"
command -v glslc >/dev/null || { echo "build.sh: glslc not found (Debian package glslc)" >&2; exit 1; }
mkdir -p spv
for f in *.comp; do
	glslc --target-env=vulkan1.1 -O -o "spv/${f%.comp}.spv" "$f"
done
