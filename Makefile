# Roumu's developer and CI entry points. `make test` is THE test command: CI runs exactly it (.ci/run).
# It uses ROUMU_TEST_POSTGRES_URL when set (the SQL store's tests then also run on Postgres).

GO          ?= go
# Builds and tests run on the newest Go 1.26 patch release: the machine's go (GOTOOLCHAIN=local in its go.env)
# downloads it once from the module proxy. govulncheck finds 12 reachable standard-library vulnerabilities in
# 1.26.8 that 1.26.9 and 1.26.10 fix.
GOTOOLCHAIN ?= go1.26.10
export GOTOOLCHAIN
GOBIN       := $(or $(shell $(GO) env GOBIN),$(shell $(GO) env GOPATH)/bin)
# Pinned so that a new staticcheck release cannot turn CI red on unchanged code.
STATICCHECK_VERSION := v0.8.2
STATICCHECK := $(GOBIN)/staticcheck
GOVULNCHECK_VERSION := v1.9.0
GOVULNCHECK := $(GOBIN)/govulncheck
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
FUZZTIME    ?= 5s
BENCH       ?= .
PKG         ?= ./...
ARGS        ?=

.PHONY: test lint fmt-check vet staticcheck vulncheck unit fuzz-smoke run build bench load clean

## test: the one test command: lint, race-enabled tests, then a short smoke run of every fuzz target
test: lint unit fuzz-smoke

## lint: gofmt check, go vet, staticcheck, govulncheck
lint: fmt-check vet staticcheck vulncheck

fmt-check:
	@out="$$(gofmt -l $$(git ls-files --cached --others --exclude-standard -- '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

staticcheck: $(STATICCHECK)
	$(STATICCHECK) ./...

$(STATICCHECK):
	$(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

# govulncheck against a snapshot of the Go vulnerability database as the module proxy serves it
# (golang.org/x/vulndb's OSV files; vuln.go.dev itself is out of reach here). Pinned, like staticcheck, so that
# CI is reproducible; `make vulncheck VULNDB_VERSION=latest` checks against the newest snapshot, and a bump of
# the pin brings its advisories into CI. test/vulncheck fails on reachable findings not accepted in its
# accepted.txt.
VULNDB_VERSION ?= v0.0.0-20261105234957-e22db6528018
vulncheck: $(GOVULNCHECK)
	@db="$$($(GO) mod download -json golang.org/x/vulndb@$(VULNDB_VERSION) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p')"; \
	test -d "$$db/data/osv" || { echo "vulncheck: golang.org/x/vulndb could not be downloaded"; exit 1; }; \
	$(GO) run ./test/vulncheck -govulncheck $(GOVULNCHECK) -db "$$db/data/osv"

$(GOVULNCHECK):
	$(GO) install golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION)

unit:
	$(GO) test -race -count=1 -timeout 30m ./...

# Every `func FuzzXxx` in a _test.go file is found and run for FUZZTIME, one at a time (go test -fuzz
# takes one target in one package). A seed corpus alone already runs in `unit`; this explores beyond it.
# A failure leaves its input in the package's testdata/fuzz/ to be committed as a regression case.
# Fuzzing runs on Go 1.27, whose coordinator no longer reports the end of -fuzztime as a failure ("context
# deadline exceeded" with no failing input, golang/go#75804: a race that 1.26 keeps); the module stays on 1.26.
fuzz-smoke: export GOTOOLCHAIN := go1.27.3
fuzz-smoke:
	@set -e; \
	for f in $$(git ls-files --cached --others --exclude-standard -- '*_test.go' 2>/dev/null || find . -name '*_test.go'); do \
		for fn in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$$f"); do \
			echo "fuzz $$fn in ./$$(dirname $$f) for $(FUZZTIME)"; \
			$(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) "./$$(dirname $$f)"; \
		done; \
	done

## run: serve locally with the defaults (SQLite and the keyring in ./var/); ARGS="--demo" adds demo data
run:
	$(GO) run ./cmd/roumu serve $(ARGS)

## build: a static binary ./roumu (git-ignored)
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o roumu ./cmd/roumu

## bench: benchmarks (BENCH=regexp PKG=./adapters/argon2id/ to narrow), e.g. the argon2id login cost
bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem -cpu 1,2 $(PKG)

## load: the load harness (test/load, not part of `test`): roumu serve on a fresh Postgres schema with 100,000
## employees, throughput against the Postgres and Echo ceilings, the login storm; prints the report (a few minutes).
## Postgres from ROUMU_TEST_POSTGRES_URL; LOADFLAGS tunes it, e.g. LOADFLAGS="-duration 10s -out var/load.md"
load:
	ROUMU_TEST_POSTGRES_URL="$${ROUMU_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}" \
		$(GO) run ./test/load $(LOADFLAGS)

clean:
	rm -f roumu
