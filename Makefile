# hivemerge: `make demo` runs the demo stack, `make test` runs every test.
SHELL := /bin/bash
GO ?= go
PKGS := ./...
# The race detector slows tests about threefold; CI keeps it on.
GOTESTFLAGS ?= -race -count=1 -timeout 20m

.PHONY: demo test go-test lint bench build

demo: ## Hive sandbox + local server with the REST API on the embedded store
	bash scripts/demo.sh

test: lint go-test ## everything CI runs

go-test:
	$(GO) test $(GOTESTFLAGS) $(PKGS)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)

bench: ## benchmarks; figures go to docs/benchmarks.md
	$(GO) test -run '^$$' -bench . -benchmem -timeout 60m $(PKGS)

build:
	$(GO) build -o bin/ ./functions/cmd/local
