# FlowForge: the two commands are `make demo` and `make test` (see README.md).

CACHE ?= $(HOME)/.cache/flowforge
export CARGO_TARGET_DIR ?= $(CACHE)/target
VENV ?= $(CACHE)/venv
export FLOWFORGE_TEST_PYTHON ?= $(VENV)/bin/python
NODE_DIR ?= $(CACHE)/node
export FLOWFORGE_NODE_PATH ?= $(NODE_DIR)/node_modules

.PHONY: demo test test-deps lint unit build

## Build and run the embedded demo: `flowforge serve` with sample data and demo users.
demo:
	cargo run --bin flowforge -- serve

## Install what the tests need, then run formatting, lints and every test.
test: test-deps lint unit

## System packages and the Python, Java and Node.js client drivers the end-to-end tests use.
test-deps:
	VENV="$(VENV)" NODE_DIR="$(NODE_DIR)" bash deploy/scripts/install-test-deps.sh

lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings

unit:
	bash deploy/scripts/cargo-test-summary.sh

build:
	cargo build --workspace
