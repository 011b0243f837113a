# Gigbao: `make dev` runs the local stack with demo data; `make test` runs every test.
# Both install what is missing first (a Python venv with the pinned tools of
# infra/requirements.txt); Rust comes from the machine's toolchain.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# One target directory outside the clone, shared by every checkout on this machine.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/gigbao-target
export CARGO_TERM_COLOR ?= never
export SAM_CLI_TELEMETRY := 0
# aws-lc seeds jitter entropy at process start (tens of ms of cold start) unless told not to.
export AWS_LC_SYS_NO_JITTER_ENTROPY := 1

VENV := .venv
PY := $(VENV)/bin/python
TOOLS := $(VENV)/.installed-$(shell sha256sum infra/requirements.txt | cut -c1-12)

.PHONY: help dev test test-unit lint fmt template-check build clean

help:
	@echo "make dev    - local stack with demo data on http://127.0.0.1:9000/api/v1 (Ctrl-C stops it)"
	@echo "make test   - every test: unit, emulator-backed, handler, black-box, template and lint checks"
	@echo "make lint   - cargo fmt --check and clippy -D warnings"

$(TOOLS): infra/requirements.txt
	@command -v cargo >/dev/null || { echo "cargo is required (rustup.rs)"; exit 1; }
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r infra/requirements.txt
	rm -f $(VENV)/.installed-*
	touch $@

build: $(TOOLS)
	cargo build --workspace --bins

dev: build
	$(PY) infra/local/stack.py dev

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

template-check: $(TOOLS)
	$(VENV)/bin/cfn-lint template.yaml
	$(VENV)/bin/sam validate --lint --template template.yaml --region us-east-1

test: $(TOOLS)
	@start=$$(date +%s); \
	cargo build --workspace --all-targets; \
	$(MAKE) --no-print-directory template-check; \
	$(PY) infra/local/stack.py test -- cargo test --workspace --all-targets; \
	$(MAKE) --no-print-directory lint; \
	echo "make test took $$(( $$(date +%s) - start )) s"

fmt:
	cargo fmt --all

clean:
	rm -rf $(VENV) .local
