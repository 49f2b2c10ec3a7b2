# Propusk — run `make` for the list of targets.

GO      ?= go
BIN     ?= bin/propusk
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.DEFAULT_GOAL := help

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## build bin/propusk
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/propusk

run: ## run Propusk on the embedded default (SQLite in ./propusk-data)
	$(GO) run ./cmd/propusk serve

test: ## the whole suite CI runs: vet, race detector, SQLite and PostgreSQL
	./.ci/test.sh

test-short: ## quick tests, SQLite only, no race detector
	$(GO) test -short ./...

lint: ## go vet, staticcheck (pinned in go.mod's tool block) and gofmt check
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

fmt: ## format the code
	gofmt -w .

fuzz: ## fuzz every parser briefly (FUZZTIME=20000x inputs per target by default)
	./.ci/fuzz.sh

bench: ## benchmarks
	$(GO) test -run '^$$' -bench . -benchmem ./...

bench-load: ## Propusk's token, introspection, JWKS and discovery against ../shared/bench's limit, as ratios
	./.ci/bench-load.sh

migration: ## new migration files for both backends: make migration NAME=add_things
	@test -n "$(NAME)" || { echo "usage: make migration NAME=add_things"; exit 1; }
	@n=$$(ls migrations/postgres/*.sql | wc -l); v=$$(printf '%04d' $$((n + 1))); \
	for d in postgres sqlite; do f=migrations/$$d/$${v}_$(NAME).sql; echo "-- $(NAME)" > $$f; echo "created $$f"; done

.PHONY: help build run test test-short lint fmt fuzz bench bench-load migration
