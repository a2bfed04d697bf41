# earshot — the two commands a user needs are `make run` and `make test`.
GO        ?= go
BIN       := bin/earshot
PKGS      := ./...
RUN_ARGS  ?=
DATA      ?= ../shared/data

.PHONY: all build run test unit sqlcheck integration up down tools bench chaos fuzz lint fmt clean models bench-distributed image deploycheck

all: build

build:
	@echo "building $(BIN) (the first build fetches modules and compiles for a few minutes)..." >&2
	@$(GO) build -o $(BIN) ./cmd/earshot

## run: every stage in one process over in-memory queues, synthetic firehose.
## The recipe lines are not echoed, so stdout holds only earshot's JSON.
run: build
	@./$(BIN) run --config deploy/examples/embedded.yaml $(RUN_ARGS)

## test: lint (vet, gofmt, the Windows and macOS builds), unit tests, integration tests against
## a real Kafka broker and a real ClickHouse server that this target installs (if missing) and
## starts, then the deployment checks (image, compose, Helm: make deploycheck).
test: lint unit sqlcheck integration deploycheck

unit: tools
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 $(PKGS)

## sqlcheck: the ClickHouse schema, inserts and cookbook queries on a current ClickHouse (chdb,
## in-process, from PyPI); the integration tests cover Debian's 18.16.
sqlcheck: build
	@python3 -c 'import chdb' 2>/dev/null || python3 -m pip install -q --disable-pip-version-check chdb==4.4.0
	./$(BIN) migrate --print | python3 deploy/local/sqlcheck.py
	./$(BIN) migrate --print | python3 deploy/grafana/check.py deploy/grafana/earshot-insights.json

integration: build up tools
	deploy/local/chromium.sh
	$(GO) test -tags integration -count=1 -p 1 -timeout 30m $(PKGS)

## up / down: the local Kafka, ClickHouse and two-shard ClickHouse cluster (with ZooKeeper), data and logs under .local/.
up:
	deploy/local/up.sh

down:
	deploy/local/down.sh

## tools: the servers some tests start privately (Mailpit for email, Alertmanager), installed
## into .local/bin from the Go module proxy (deploy/local/tools.sh; internal/testsvc finds them).
tools:
	deploy/local/tools.sh

## image: the container image, built without a container engine (deploy/ops/image): a static binary
## on an empty base, non-root, with OCI labels, written to bin/earshot-image.tar for
## `docker load -i` or `podman load -i`. IMAGE_VERSION overrides git describe.
IMAGE_VERSION ?=
image:
	cd deploy/ops && $(GO) run ./cmd/image -out ../../bin/earshot-image.tar $(if $(IMAGE_VERSION),-version $(IMAGE_VERSION))

## deploycheck: the deployment files, without a cluster or an engine (deploy/ops, its own Go
## module): the image builds and runs, compose.yaml passes the Compose schema and earshot's
## config loader, the Helm chart renders and decodes strictly into the Kubernetes API types.
## deploy/ops requires this module (replace ../..): after changing go.mod here, run
## `cd deploy/ops && go mod tidy`, or this target stops with "updates to go.mod needed".
deploycheck:
	cd deploy/ops && $(GO) vet ./... && $(GO) test -count=1 -timeout 30m ./...

## bench: Go benchmarks and the pipeline harness; results go in BENCHMARKS.md.
bench: build
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)
	bench/run.sh

## models: rebuild the learned models the binary embeds from $(DATA) (deterministic: the same
## data give the same bytes). CI does not retrain; tests check the recorded data hashes.
models:
	$(GO) run ./enrich/train/langid -data $(DATA) -out enrich/lexicon/langid_model.bin.gz
	$(GO) run ./enrich/train/sentiment -data $(DATA) -out enrich/models
	$(GO) run ./enrich/train/intent

## chaos: the fault-injection soak (itest/chaos), with 1% poison lines: earshot run over a
## file killed (kill -9 or a forced quit) and restarted at random for DURATION, then the
## stage processes on the local Kafka and ClickHouse (`make up`) with a random one killed
## every 5s for DURATION; every alert of a run without faults must arrive. CHAOS_MODE:
## embedded, distributed or both. Prints one line per mode. CHAOS_FLAGS=-private runs the
## distributed soak on a broker and ClickHouse of its own (free ports, never the shared ones),
## which it also crashes and restarts and cuts off (network cuts and stalls to Kafka).
DURATION ?= 5m
CHAOS_MODE ?= both
CHAOS_FLAGS ?=
chaos: build
	$(GO) run ./itest/chaos/soak -bin $(BIN) -duration $(DURATION) -mode $(CHAOS_MODE) -v $(CHAOS_FLAGS)

## fuzz: every fuzz target (func FuzzX in a _test.go file) for FUZZTIME each, one after the
## other; not part of `make test`, whose unit tests run the seeds and the saved failures
## (testdata/fuzz/FuzzX/*). Stops at the first failure, whose input go test saves there.
FUZZTIME ?= 30s
fuzz:
	@git ls-files '*_test.go' | xargs grep -l '^func Fuzz' | xargs -n1 dirname | sort -u | while read -r dir; do \
		for name in $$(grep -h '^func Fuzz' $$dir/*_test.go | sed 's/^func \(Fuzz[A-Za-z0-9_]*\).*/\1/'); do \
			echo "fuzz ./$$dir $$name for $(FUZZTIME)" >&2; \
			$(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) ./$$dir || exit 1; \
		done; \
	done

## lint: vet and gofmt, then build and vet for Windows and macOS too (vet type-checks the
## tests there as well), so a Unix-only call such as syscall.Flock outside a build-tagged
## file fails here, not on a user's machine.
lint:
	$(GO) vet $(PKGS)
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	GOOS=windows $(GO) build $(PKGS)
	GOOS=windows $(GO) vet $(PKGS)
	GOOS=darwin $(GO) build $(PKGS)
	GOOS=darwin $(GO) vet $(PKGS)

fmt:
	gofmt -w .

clean:
	rm -rf bin

## bench-distributed: the distributed-mode harness (bench/distributed) against the running local
## Kafka and ClickHouse, on a topic prefix and database of its own, dropped afterwards.
## POSTS, RATE (0: full speed) and DIST_ARGS (e.g. -replicas enrich=2 -embedded, or -with match,enrich
## for match and enrich in the ingest process) tune it.
POSTS ?= 200000
RATE  ?= 0
bench-distributed: build
	$(GO) run ./bench/distributed -bin $(BIN) -posts $(POSTS) -rate $(RATE) $(DIST_ARGS)
