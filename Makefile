# batchimport: `make demo` runs the main job on a throwaway PostgreSQL,
# `make test` runs the tests against one. Both leave no server running.

GO      ?= go
BIN     := bin/batchimport
PKGS    := ./...

GOLANGCI_LINT := github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0
GORELEASER    := github.com/goreleaser/goreleaser/v2@v2.15.1

.PHONY: build demo test bench lint release-check clean

build:
	$(GO) build -o $(BIN) .

demo: build
	scripts/with-postgres.sh scripts/demo.sh $(BIN)

test:
	PG_FAST=1 scripts/with-postgres.sh $(GO) test -race -count=1 -timeout 20m $(PKGS)

# The performance benchmark (SPEC §10) on a throwaway PostgreSQL with default
# settings (never PG_FAST); about 10 minutes on 2 cores. Flags pass through
# BENCHFLAGS, e.g. make bench BENCHFLAGS='-rows 100000 -trials 1'.
BENCHFLAGS ?=

bench: build
	scripts/with-postgres.sh $(GO) run ./bench -bin $(BIN) $(BENCHFLAGS)

lint:
	$(GO) run $(GOLANGCI_LINT) run ./...

# Validates .goreleaser.yaml and builds every release target into dist/.
release-check:
	$(GO) run $(GORELEASER) check
	$(GO) run $(GORELEASER) release --snapshot --clean --skip=publish
	@ls dist/*/batchimport* 2>/dev/null | sort

clean:
	rm -rf bin dist
