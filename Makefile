# dnsops — the README's commands. `make demo` and `make test` do all the set-up
# on a fresh Debian/Ubuntu machine (Debian packages + a virtualenv).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
DNSOPS := $(VENV)/bin/dnsops
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DEBS := pdns-server pdns-backend-sqlite3 bind9 bind9-utils unbound dnsutils dnsperf iproute2 nftables chromium openssh-server openssh-client time shellcheck prometheus
PYTHON ?= python3

.PHONY: setup debs venv demo test lint schemas docs fuzz bench bench-lint bench-health bench-audit bench-scale clean lab-up lab-down

setup: debs venv

# Installs only what is missing. Installing the packages must not leave their
# default services running on the lab's port: the lab never relies on them.
debs:
	@missing=$$(for p in $(DEBS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:" $$missing; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip
	@$(PY) -m pip install -q -e '.[dev]'
	@touch $@

demo: setup
	$(DNSOPS) lab up
	$(DNSOPS) validate
	$(DNSOPS) lint
	$(DNSOPS) plan
	$(DNSOPS) sync --doit
	$(DNSOPS) plan --detailed-exitcode
	$(DNSOPS) audit
	$(DNSOPS) lab query api.example.test A
	$(DNSOPS) lab query www.example.test CNAME
	$(DNSOPS) health --prom-file .dnsops/health.prom
	$(DNSOPS) drill run pdns-outage

test: setup
	$(PY) -m pytest

# schemas/*.schema.json from the pydantic models of dnsops.yaml, policies and drills (the
# YAML files name them in a yaml-language-server modeline; tests/test_schemas.py fails on drift)
schemas: venv
	$(PY) -m dnsops.schemas

# the tables in docs/ rendered from the code (the health checks' catalogue); tests/test_docs.py
# fails when a page differs from what the code renders
docs: venv
	$(PY) -m dnsops.docs

# 1,000 random mutations of zones/example.test.yaml through `dnsops validate` (a random
# seed, printed; FUZZ_ARGS="--seed N" reruns one): each valid or a clean file:line error
FUZZ_ARGS ?=
fuzz: venv
	$(PY) -m tests.fuzz --count 1000 $(FUZZ_ARGS)

lint: venv
	$(VENV)/bin/ruff check dnsops tests $(wildcard benchmarks)
	$(VENV)/bin/ruff format --check dnsops tests $(wildcard benchmarks)
	$(VENV)/bin/mypy

# dnsops side by side with octoDNS, octodns-report and dnsperf: zones of 1k/10k/100k
# records, a lab of its own on $(BENCH_NET) (never 127.53, the demo lab's), medians of
# alternating runs, one markdown table (also benchmarks/out/bench.json and bench.md).
# BENCH_DRILL=api-failover also runs that drill in the bench lab for the convergence
# figure (about 2.5 more minutes); without it the last report in drills/history/ is used.
BENCH_NET ?= 127.70
BENCH_RUNS ?= 3
BENCH_DRILL ?=
bench: setup
	$(PY) -m benchmarks.harness --net $(BENCH_NET) --runs $(BENCH_RUNS) \
	  $(if $(BENCH_DRILL),--drill $(BENCH_DRILL)) $(BENCH_ARGS)

# dnsops lint vs octodns-validate on a generated 100k-record zone (takes minutes)
bench-lint: venv
	$(PY) -m benchmarks.bench_lint --records 100000 --runs 3

# dnsops health's wire check vs octodns-report and dnsperf, 10k records on a bench
# lab of its own ($$DNSOPS_TEST_NET.100-103.x; takes a few minutes)
bench-health: setup
	$(PY) -m benchmarks.bench_health --records 10000 --runs 3

# dnsops audit (three views, both providers) vs one octodns-sync plan, 10k records on a
# bench lab of its own (BENCH_AUDIT_NET, never 127.53; takes a few minutes, needs root)
BENCH_AUDIT_NET ?= 127.71
bench-audit: setup
	$(PY) -m benchmarks.bench_audit --records 10000 --rounds 5 --net $(BENCH_AUDIT_NET)

# dnsops audit and health over 1,000 zones of 15 records vs octodns-report looped over
# every zone (run on every 20th zone, scaled x20: the whole loop would take 15-25 min),
# targets wall and CPU <= 0.5 and zero findings (every BIND zone by AXFR, no refusal
# lost; exit codes and findings printed; rows in benchmarks/out/bench_scale.md); a lab
# of its own on BENCH_SCALE_NET; then dnsops plan (every zone, and --zone of one) vs
# octodns-sync. Not in `make bench`: this lab alone takes ~10 minutes.
BENCH_SCALE_NET ?= 127.75
bench-scale: setup
	$(PY) -m benchmarks.bench_xfr_scale --zones 1000 --records 15 --rounds 2 --net $(BENCH_SCALE_NET)

lab-up: venv
	$(DNSOPS) lab up

lab-down: venv
	$(DNSOPS) lab down

clean:
	-$(DNSOPS) lab down --purge
	rm -rf $(VENV) *.egg-info .pytest_cache .mypy_cache .ruff_cache
