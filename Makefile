# Targets for developers and CI. `make test` is what CI runs (.ci/run).
GO ?= go
PKGS := ./...

.PHONY: all test lint vet fmtcheck unit unit-noasm cross bench generate

all: test

# test: everything CI checks, in order of cost.
test: lint cross unit unit-noasm

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

# bench: the Go benchmarks; `go run ./cmd/bench` prints JSON lines instead.
bench:
	$(GO) test -run '^$$' -bench . -benchtime 1s $(PKGS)

generate:
	$(GO) generate $(PKGS)
