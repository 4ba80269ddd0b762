# FlowForge: the two commands are `make demo` and `make test` (see README.md).

CACHE ?= $(HOME)/.cache/flowforge
export CARGO_TARGET_DIR ?= $(CACHE)/target
VENV ?= $(CACHE)/venv
export FLOWFORGE_TEST_PYTHON ?= $(VENV)/bin/python
NODE_DIR ?= $(CACHE)/node
export FLOWFORGE_NODE_PATH ?= $(NODE_DIR)/node_modules

.PHONY: demo test test-deps lint unit build services services-stop

## Build and run the embedded demo: `flowforge serve` with sample data and demo users.
demo:
	cargo run --bin flowforge -- serve

## Install what the tests need, then run formatting, lints and every test.
test: test-deps lint unit

## System packages and the Python, Java and Node.js client drivers the end-to-end tests use,
## and PostgreSQL, Redis and chdb for the test services.
test-deps:
	VENV="$(VENV)" NODE_DIR="$(NODE_DIR)" bash deploy/scripts/install-test-deps.sh
	VENV="$(VENV)" bash deploy/scripts/test-services.sh install

lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings

## Every test, with PostgreSQL, Redis and the ClickHouse endpoint running (FLOWFORGE_TEST_*).
unit:
	cargo build --bin flowforge
	VENV="$(VENV)" bash deploy/scripts/with-test-services.sh bash deploy/scripts/cargo-test-summary.sh

SERVICES_DIR ?= $(CACHE)/services

## Start the test services for manual use; prints the variables to export.
services:
	cargo build --bin flowforge
	VENV="$(VENV)" bash deploy/scripts/test-services.sh start "$(SERVICES_DIR)"
	@bash deploy/scripts/test-services.sh env "$(SERVICES_DIR)"

services-stop:
	bash deploy/scripts/test-services.sh stop "$(SERVICES_DIR)"

build:
	cargo build --workspace
