# Targets for developers and CI. `make test` is what CI runs (.ci/run).
GO ?= go
PKGS := ./...

.PHONY: all test lint vet fmtcheck unit unit-noasm cross fuzz vulkan bench generate

all: test

# test: everything CI checks, in order of cost. The Vulkan checks run when the
# Vulkan headers are installed (see .ci/run) and are skipped with a note otherwise.
test: lint cross unit unit-noasm fuzz vulkan

lint: fmtcheck vet

fmtcheck:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

# cross keeps the portable (non-amd64) path compiling.
cross:
	GOARCH=arm64 $(GO) vet $(PKGS)

unit:
	$(GO) test -count=1 $(PKGS)

unit-noasm:
	$(GO) test -count=1 -tags noasm $(PKGS)

# fuzz runs each parser fuzzer briefly on top of its seed corpus (which plain
# `go test` already runs).
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 10s ./tools
	$(GO) test -run '^$$' -fuzz '^FuzzSandbox$$' -fuzztime 10s ./tools/python
	$(GO) test -run '^$$' -fuzz '^FuzzReadFile$$' -fuzztime 5s ./nn/safetensors
	$(GO) test -run '^$$' -fuzz '^FuzzCheckFormat$$' -fuzztime 5s ./tasks/grade

# vulkan: the conformance suite on whatever Vulkan driver is installed (Mesa's
# software driver in CI) with the Khronos validation layer, nn's PyTorch
# fixtures (training and greedy decoding) on it, and a check that the
# committed SPIR-V matches its GLSL.
vulkan:
	@if [ ! -f /usr/include/vulkan/vulkan.h ]; then \
		echo "skipping vulkan checks: libvulkan-dev is not installed"; \
	else \
		set -e; \
		if command -v glslc >/dev/null; then \
			$(GO) generate ./backend/vulkan && git diff --exit-code -- backend/vulkan/shaders; \
		else echo "skipping SPIR-V check: glslc is not installed"; fi; \
		VK_INSTANCE_LAYERS=VK_LAYER_KHRONOS_validation $(GO) test -count=1 -tags vulkan ./backend/... ./nn ./nn/engine ./cmd/train; \
	fi

# bench: the Go benchmarks; `go run ./cmd/bench` prints JSON lines instead.
bench:
	$(GO) test -run '^$$' -bench . -benchtime 1s $(PKGS)

generate:
	$(GO) generate $(PKGS)
