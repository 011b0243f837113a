# Gigbao: `make dev` runs the local stack with demo data; `make test` runs every test.
# Both install what is missing first (a Python venv with the pinned tools of
# infra/requirements.txt); Rust comes from the machine's toolchain.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# One target directory outside the clone, shared by every checkout on this machine.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/gigbao-target
export CARGO_TERM_COLOR ?= never
# No incremental state: with ~70 binaries it costs more disk (15 GB) than it saves time, and
# it is what CI builds with (a build that only passes incrementally fails there).
export CARGO_INCREMENTAL ?= 0
export SAM_CLI_TELEMETRY := 0

# Every Lambda, by folder name. Built as `cargo lambda watch` builds them (`--bin <name>`, which
# unifies features over the function's own graph, not the test crates'), so the stack starts
# without compiling anything.
FUNCTIONS := $(notdir $(wildcard functions/*))

# The pinned Python tools live outside the clone, one environment per version of
# infra/requirements.txt: inside it, its ~4,500 directories were watched by every function's
# file watcher under `cargo lambda watch`, beyond the machine's inotify limits.
REQUIREMENTS_HASH := $(shell sha256sum infra/requirements.txt | cut -c1-12)
VENV ?= $(HOME)/.cache/gigbao/venv-$(REQUIREMENTS_HASH)
PY := $(VENV)/bin/python
TOOLS := $(VENV)/.installed

.PHONY: help dev test fuzz soak check-reload venv-path lint fmt template-check deployable build clean prune credit clear reconcile reindex rank monthly migrate-roles bench deploy deploy-check redrive

help:
	@echo "make dev    - local stack with demo data on http://127.0.0.1:9000/api/v1 (Ctrl-C stops it)"
	@echo "make test   - every test: unit, emulator-backed, handler, black-box, template and lint checks"
	@echo "make fuzz   - contract fuzzing only: schemathesis against /api/v1/openapi.json on a fresh stack"
	@echo "make soak   - 10,000 sequential requests through the local edge on a fresh stack: no 5xx"
	@echo "make check-reload - with make dev running: editing a function rebuilds it and serves the new build"
	@echo "make lint   - cargo fmt --check and clippy -D warnings"
	@echo "make credit USER_NAME=demo_client AMOUNT=1000.00 - demo money (with make dev running)"
	@echo "make clear USER_NAME=demo_freelancer - clear pending earnings now (with make dev running)"
	@echo "make reconcile - check the ledger of the running dev stack"
	@echo "make reindex - rebuild the search index of the running dev stack from its table"
	@echo "make rank   - run the hourly ranking (scores, seller levels) on the running dev stack now"
	@echo "make monthly - write last month's activity reports (sent as notifications) on the running dev stack now"
	@echo "make migrate-roles - give accounts written before roles existed their roles (running dev stack; idempotent)"
	@echo "make redrive QUEUE=Notifications - move a dead-letter queue's messages back (with make dev running)"
	@echo "make bench  - measurements (release build) into docs/performance.md"
	@echo "make deploy STACK=gigbao AWS_REGION=cn-north-1 PARAMS='Key=Value ...' - sam build + sam deploy (docs/deploying.md)"
	@echo "make deploy-check - sam build (arm64, release) of health and order-create offline; each zip holds only bootstrap"
	@echo "make prune  - remove superseded build artifacts from the shared target directory"

$(TOOLS): infra/requirements.txt
	@command -v cargo >/dev/null || { echo "cargo is required (rustup.rs)"; exit 1; }
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r infra/requirements.txt
	touch $@

build: $(TOOLS)
	cargo build $(addprefix -p ,$(FUNCTIONS)) -p devtool

dev: build
	$(PY) infra/local/stack.py dev

# With `make dev` running: demo money for an account, and the ledger check on demand.
credit: $(TOOLS)
	$(PY) infra/local/stack.py devtool -- credit $(USER_NAME) $(AMOUNT)

# Clear a user's pending earnings now (the end of their clearance periods), with make dev running.
clear: $(TOOLS)
	$(PY) infra/local/stack.py devtool -- clear $(USER_NAME)

reconcile: $(TOOLS)
	$(PY) infra/local/stack.py devtool -- reconcile

reindex: $(TOOLS)
	$(PY) infra/local/stack.py devtool -- reindex

# With `make dev` running: the hourly ranking (scores, seller levels) now.
rank: $(TOOLS)
	$(PY) infra/local/stack.py devtool -- rank

# Last month's reports for every user, now (in AWS: the 1st of each month).
monthly: $(TOOLS)
	$(PY) infra/local/stack.py devtool -- monthly

# Gives accounts written before roles existed their roles (idempotent; with make dev running).
migrate-roles: $(TOOLS)
	$(PY) infra/local/stack.py devtool -- migrate-roles

# Release builds of the measured functions, the plain baseline and the tool only (never every
# function). On a fresh stack: the black-box suite runs first (its request log gives DynamoDB
# requests per endpoint), then infra/bench/lambda.py starts each release binary against a local
# Runtime API stand-in (cold start, CPU, RSS, size); then both search engines (tantivy and a
# real OpenSearch node) on 100,000 generated services.
BENCH_SERVICES ?= 100000
BENCH_FUNCTIONS := health service-get service-search order-create auth-login bench-plain-get
bench: build
	cargo build --release $(addprefix -p ,$(BENCH_FUNCTIONS)) -p devtool
	mkdir -p .local/bench
	$(PY) infra/local/stack.py test -- sh -c 'cargo test -q -p gigbao-tests --test blackbox > .local/bench/blackbox.log 2>&1; $(PY) infra/bench/lambda.py > .local/bench/lambda.md; \
	  BENCH_JOBS_OUT=$(CURDIR)/.local/bench/jobs.md cargo test -q -p gigbao-tests --test bench -- --ignored > .local/bench/jobs.log 2>&1'
	@{ echo "# Performance"; echo; \
	  echo "Written by \`make bench\` on $$(date -u +%Y-%m-%d) ($$(nproc) cores, $$(uname -m)); do not edit by hand."; echo; \
	  cat .local/bench/lambda.md; echo; \
	  cat .local/bench/jobs.md; echo; \
	  $(PY) infra/local/opensearch.py --log .local/bench/opensearch.log -- \
	    $(CARGO_TARGET_DIR)/release/devtool bench-search $(BENCH_SERVICES); } > docs/performance.md.tmp
	mv docs/performance.md.tmp docs/performance.md
	@cat docs/performance.md

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

# The root template and its nested stacks (stacks/), linted in one run (cfn-lint applies the
# SAM transform itself; `sam validate` would repeat it, and `make deployable` transforms every
# stack for both partitions).
STACKS := template.yaml $(wildcard stacks/*.yaml)
template-check: $(TOOLS)
	$(VENV)/bin/cfn-lint $(STACKS)

# Deployability offline: the SAM transform of every stack for aws and aws-cn, sizes and
# resource counts against CloudFormation's limits, no literal partition, DLQ/alarm/log
# retention of every worker, and the stacks created on MiniStack's CloudFormation.
deployable: $(TOOLS)
	$(PY) infra/deploy/test_check_deployable.py
	$(PY) infra/deploy/check_deployable.py
	$(PY) infra/ops/test_redrive.py

# Deploying (docs/deploying.md). `sam build` builds every function with cargo lambda (release,
# arm64, provided.al2023) into a directory outside the clone, one `bootstrap` per function;
# `sam deploy` uploads the zips and the nested stacks' templates to an S3 bucket (DEPLOY_BUCKET,
# or one SAM makes and reuses) and creates or updates the root stack and its nested stacks.
STACK ?= gigbao
AWS_REGION ?= cn-north-1
DEPLOY_BUCKET ?=
PARAMS ?=
SAM_BUILD_DIR ?= $(HOME)/.cache/gigbao/sam-build/deploy
deploy: $(TOOLS)
	PATH="$(VENV)/bin:$$PATH" $(VENV)/bin/sam build --beta-features --template template.yaml --build-dir $(SAM_BUILD_DIR)
	PATH="$(VENV)/bin:$$PATH" $(VENV)/bin/sam deploy --template-file $(SAM_BUILD_DIR)/template.yaml \
	  --stack-name $(STACK) --region $(AWS_REGION) \
	  $(if $(DEPLOY_BUCKET),--s3-bucket $(DEPLOY_BUCKET),--resolve-s3) --s3-prefix $(STACK) \
	  --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND --no-fail-on-empty-changeset \
	  $(if $(PARAMS),--parameter-overrides $(PARAMS))

# What `make deploy` would upload, for two functions, offline (release builds: not in make test).
deploy-check: $(TOOLS)
	$(PY) infra/deploy/check_build.py Operators/HealthFunction Orders/OrderCreateFunction

# The soak test runs beside contract fuzzing (the soak and two fuzzing streams on two cores).
# One build: the workspace build gives the functions the same features `make build` and
# `cargo lambda watch` give them (check_features.py fails when a dependency change breaks
# that), so the stack starts without building them a second time.
# Each phase prints its time (`[time] …`), so a slow run shows where the time went.
test: $(TOOLS)
	@start=$$(date +%s); mark=$$start; \
	phase() { now=$$(date +%s); echo "[time] $$1: $$(( now - mark )) s"; mark=$$now; }; \
	python3 infra/local/check_features.py; \
	cargo build --workspace --all-targets; \
	phase "workspace build"; \
	$(MAKE) --no-print-directory build template-check; \
	$(PY) tests/contract/test_harness.py; \
	$(PY) infra/local/test_prune_target.py; \
	$(PY) infra/local/test_edge.py; \
	$(PY) infra/local/test_events.py; \
	$(PY) infra/local/test_check_permissions.py; \
	phase "template lint and tool self-tests"; \
	$(MAKE) --no-print-directory deployable; \
	phase "deploy check"; \
	$(PY) infra/local/stack.py test -- sh -c 'cargo test --workspace --all-targets && \
	  { $(PY) tests/contract/soak.py & soak=$$!; $(PY) tests/contract/fuzz.py; fuzz=$$?; \
	    wait $$soak && [ $$fuzz -eq 0 ]; }'; \
	phase "stack: every test, then soak beside contract fuzzing"; \
	SEARCH_ENGINE=opensearch $(PY) infra/local/stack.py test --log-dir .local/test-logs-opensearch -- \
	  cargo test -q -p gigbao-tests --test blackbox search:: > .local/search-on-opensearch.log 2>&1 \
	  || { grep -A4 "panicked at" .local/search-on-opensearch.log | head -60; \
	       tail -15 .local/search-on-opensearch.log; exit 1; }; \
	$(PY) infra/local/search_summary.py .local/search-on-opensearch.log; \
	phase "search suite on OpenSearch"; \
	$(PY) infra/local/check_permissions.py .local/test-logs .local/test-logs-opensearch; \
	$(MAKE) --no-print-directory lint; \
	phase "permission check and lint"; \
	echo "make test took $$(( $$(date +%s) - start )) s"

# Superseded build artifacts out of the shared target directory (.ci/run does it after each run).
prune:
	python3 infra/local/prune_target.py "$(CARGO_TARGET_DIR)"

# With `make dev` running: move a dead-letter queue's messages back to their queue
# (QUEUE=Notifications|Stats|Search|Abuse|Media). In AWS: infra/ops/redrive.py --dlq URL.
redrive: $(TOOLS)
	$(PY) infra/ops/redrive.py --endpoint http://127.0.0.1:4566 \
	  --dlq http://127.0.0.1:4566/000000000000/gigbao-dev-$(QUEUE)DeadLetterQueue \
	  --to http://127.0.0.1:4566/000000000000/gigbao-dev-$(QUEUE)Queue

# Only the contract fuzzing (schemathesis against the OpenAPI document), on a fresh stack.
fuzz: build
	$(PY) tests/contract/test_harness.py
	$(PY) infra/local/stack.py test -- $(PY) tests/contract/fuzz.py

# Where the pinned Python tools are (cargo-lambda, MiniStack, …).
venv-path:
	@echo $(VENV)

# Only the soak test of the local edge, on a fresh stack.
soak: build
	$(PY) infra/local/stack.py test -- $(PY) tests/contract/soak.py

# With `make dev` running: an edit of a function is rebuilt and served (cargo lambda watch).
check-reload: $(TOOLS)
	$(PY) infra/local/check_reload.py

fmt:
	cargo fmt --all

clean:
	rm -rf $(VENV) .local
