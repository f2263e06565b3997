# Junction build. `make run` and `make test` do all set-up on a fresh machine.
GO       ?= go
TAGS     := sqlite_fts5
BIN      := bin/junction
ADDR     ?= 127.0.0.1:8080
DB       ?= junction.db
SUDO     := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Short fuzz/bench runs by default; override for longer ones, e.g. make bench BENCHTIME=5s
# or make fuzz FUZZTIME=5m.
BENCHTIME ?= 1s
FUZZTIME  ?= 3s

# make postgres: a local PostgreSQL for development (trust authentication on 127.0.0.1 only).
PGDIR    ?= /tmp/junction-dev-postgres
PGPORT   ?= 5433
PGRUN     = $(shell [ "$$(id -u)" = 0 ] && echo runuser -u postgres --)

.PHONY: all run build test test-postgres postgresql postgres postgres-stop fuzz fuzz-short soak vet fmt-check check-unit check-generated generate tools chromium dotenv-readers bench screenshots clean

all: build

## tools: download Go modules (templ comes through the go.mod tool directive)
tools:
	$(GO) mod download
	$(GO) tool templ version >/dev/null

## generate: regenerate the templ views
generate: tools
	$(GO) tool templ generate -path views

# What `junction version` prints; outside a git checkout the version is "dev".
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
BUILD_DATE ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.buildDate=$(BUILD_DATE)

## build: build bin/junction (version, commit and build date go in with -ldflags)
build: tools
	$(GO) build -tags $(TAGS) -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/junction

## run: build and start the console with demo data
run: build
	./$(BIN) serve --demo --addr $(ADDR) --db $(DB)

## chromium: install Chromium for the browser tests when it is missing
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
		{ echo "Installing Chromium for the browser tests..."; \
		  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

## dotenv-readers: install the readers of the dotenv round-trip test when they are missing:
## Debian's python3-dotenv, dash and (without a node on PATH) nodejs and npm, then npm dotenv
## as pinned in testdata/dotenv-readers. Only what is missing is installed: a machine's own
## Node.js stays (Debian's npm package conflicts with it).
dotenv-readers:
	@pkgs=""; \
		/usr/bin/python3 -c 'import dotenv' 2>/dev/null || pkgs="$$pkgs python3-dotenv"; \
		command -v dash >/dev/null 2>&1 || pkgs="$$pkgs dash"; \
		command -v node >/dev/null 2>&1 || pkgs="$$pkgs nodejs"; \
		command -v npm >/dev/null 2>&1 || pkgs="$$pkgs npm"; \
		if [ -n "$$pkgs" ]; then echo "Installing$$pkgs for the dotenv round-trip test..."; \
			$(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$pkgs >/dev/null; fi
	@cd testdata/dotenv-readers && { npm ls --silent >/dev/null 2>&1 || npm ci --no-audit --no-fund --silent; }

## postgresql: install Debian's postgresql package when initdb is missing (the PostgreSQL
## tests start a throwaway cluster from it, internal/pgtest)
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || \
		{ echo "Installing PostgreSQL for the PostgreSQL tests..."; \
		  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }

## test-postgres: the store suite (with -race) and the HTTP tests (already run with -race on
## SQLite) on PostgreSQL, side by side (a throwaway cluster each, or JUNCTION_TEST_POSTGRES);
## they fail, never skip, when no cluster can start
test-postgres: tools postgresql
	@JUNCTION_TEST_DB=postgres JUNCTION_SKIP_POSTGRES= $(GO) test -race -tags $(TAGS) -count=1 ./db & store=$$!; \
		JUNCTION_TEST_DB=postgres JUNCTION_SKIP_POSTGRES= $(GO) test -tags $(TAGS) -count=1 ./web; http=$$?; \
		wait $$store; store=$$?; [ $$store -eq 0 ] && [ $$http -eq 0 ]

## postgres: start a local PostgreSQL for development in PGDIR on 127.0.0.1:PGPORT with a
## database junction, and print its URL (postgres-stop stops it)
postgres: postgresql
	@bin=$$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1); \
		if [ ! -d $(PGDIR)/data ]; then \
			mkdir -p $(PGDIR) && { [ -z "$(PGRUN)" ] || chown postgres $(PGDIR); } && \
			$(PGRUN) $$bin/initdb -D $(PGDIR)/data -U junction --auth=trust -E UTF8 --locale=C >/dev/null || exit 1; fi; \
		$(PGRUN) $$bin/pg_ctl -D $(PGDIR)/data status >/dev/null 2>&1 || \
			$(PGRUN) $$bin/pg_ctl -D $(PGDIR)/data -l $(PGDIR)/log -w \
				-o "-p $(PGPORT) -k $(PGDIR) -c listen_addresses=127.0.0.1" start >/dev/null || exit 1; \
		$(PGRUN) $$bin/psql -h 127.0.0.1 -p $(PGPORT) -U junction -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'junction'" | grep -q 1 || \
			$(PGRUN) $$bin/createdb -h 127.0.0.1 -p $(PGPORT) -U junction junction; \
		echo "PostgreSQL is running: JUNCTION_DB='postgres://junction@127.0.0.1:$(PGPORT)/junction?sslmode=disable'"

postgres-stop:
	@bin=$$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1); \
		$(PGRUN) $$bin/pg_ctl -D $(PGDIR)/data -m fast stop

vet: tools
	$(GO) vet -tags $(TAGS) ./...

## fmt-check: fail when gofmt would change a Go file (works outside a git checkout too)
fmt-check:
	@files=$$(find . -name '*.go' ! -name '*_templ.go' ! -path './.git/*' ! -path '*/node_modules/*'); \
		out=$$(gofmt -l $$files </dev/null); \
		if [ -n "$$out" ]; then echo "gofmt would change: $$out"; exit 1; fi

## check-unit: verify the systemd unit example with systemd-analyze
check-unit: build
	@tmp=$$(mktemp -d); sed "s|/usr/local/bin/junction|$(CURDIR)/$(BIN)|" deploy/junction.service > "$$tmp/junction.service"; \
		systemd-analyze verify "$$tmp/junction.service"; rc=$$?; rm -rf "$$tmp"; exit $$rc

## check-generated: fail when the committed *_templ.go files are not what templ generates
check-generated: tools
	@tmp=$$(mktemp -d); cp -r views "$$tmp/views"; \
		$(GO) tool templ generate -path "$$tmp/views" >/dev/null 2>&1 || { echo "templ generate failed"; exit 1; }; \
		if ! diff -r -q views "$$tmp/views" >/dev/null; then \
			diff -r -q views "$$tmp/views"; rm -rf "$$tmp"; \
			echo "generated templ code is stale: run 'make generate' and commit"; exit 1; fi; \
		rm -rf "$$tmp"

## test: vet, format and generated-code checks, unit, integration and browser tests with -race
## (the replica tests on PostgreSQL among them), the store and HTTP tests again on PostgreSQL,
## then a few seconds of each fuzz target
test: tools chromium dotenv-readers postgresql vet fmt-check check-generated
	JUNCTION_SKIP_POSTGRES= $(GO) test -race -tags $(TAGS) -count=1 ./...
	$(MAKE) --no-print-directory test-postgres
	$(MAKE) --no-print-directory fuzz-short

## fuzz-short: every fuzz target for a number of executions (a few seconds each), as make test
## runs them: a count has no deadline, so it avoids Go 1.26's -fuzztime race
## (go.dev/issue/75804: "context deadline exceeded" at the deadline, with no failing input)
fuzz-short:
	$(GO) test -tags $(TAGS) -run '^$$' -fuzz '^FuzzValidateEnvName$$' -fuzztime 60000x .
	$(GO) test -tags $(TAGS) -run '^$$' -fuzz '^FuzzValidateHandle$$' -fuzztime 60000x .
	$(GO) test -tags $(TAGS) -run '^$$' -fuzz '^FuzzParseComponentYAML$$' -fuzztime 12000x .
	$(GO) test -tags $(TAGS) -run '^$$' -fuzz '^FuzzAPIBodies$$' -fuzztime 250x ./web

## fuzz: run every fuzz target for FUZZTIME (seeds are committed; longer runs by hand)
fuzz:
	$(GO) test -tags $(TAGS) -run '^$$' -fuzz '^FuzzValidateEnvName$$' -fuzztime $(FUZZTIME) .
	$(GO) test -tags $(TAGS) -run '^$$' -fuzz '^FuzzValidateHandle$$' -fuzztime $(FUZZTIME) .
	$(GO) test -tags $(TAGS) -run '^$$' -fuzz '^FuzzParseComponentYAML$$' -fuzztime $(FUZZTIME) .
	$(GO) test -tags $(TAGS) -run '^$$' -fuzz '^FuzzAPIBodies$$' -fuzztime $(FUZZTIME) ./web

## soak: the long variants: 25 crash rounds, 300 concurrent writers, 2 minutes per fuzz target
soak: tools
	JUNCTION_SOAK=1 $(GO) test -race -tags $(TAGS) -count=1 -run 'TestCrashSafety|TestConcurrent' ./cmd/junction ./db
	$(MAKE) --no-print-directory fuzz FUZZTIME=2m

## bench: benchmarks, each reporting against a baseline measured in the same run
bench: tools
	$(GO) test -tags $(TAGS) -run '^$$' -bench . -benchtime $(BENCHTIME) -benchmem ./...
	$(GO) run -tags $(TAGS) ./bench/runtimeenv -c 64 -d 4s
	$(GO) run -tags $(TAGS) ./bench/coldstart -n 100000

## screenshots: render the demo pages in headless Chromium into docs/screenshots
## (JUNCTION_SCREENSHOTS_DARK=1 renders them in dark mode)
screenshots: tools chromium
	mkdir -p docs/screenshots
	JUNCTION_SCREENSHOTS=$(CURDIR)/docs/screenshots $(GO) test -tags $(TAGS) -count=1 -run 'TestDemoScreenshots' ./cmd/junction/

clean:
	rm -rf bin
