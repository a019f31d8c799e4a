# The two set-up commands of the README:
#   make demo   -> venv + pinned install + kernel, then `creditmodel demo` on the synthetic district
#   make test   -> venv + pinned install + kernel + test tools, then the whole test suite
VENV ?= .venv
OUT ?= out/demo
FIRMS ?= 20000
PYTEST_ARGS ?=
SHELL := /bin/bash

.PHONY: demo test lab bench lock setup setup-test clean

setup:
	@scripts/setup.sh

setup-test:
	@scripts/setup.sh --test

demo: setup
	@source scripts/env.sh && $(VENV)/bin/creditmodel demo --firms $(FIRMS) --out $(OUT)

# --dist loadfile: every test file runs on one worker, so a module fixture (the demo district, the registry
# store) is built once. (--dist loadgroup's xdist_group marks are silently ignored with pytest 9.2 and
# xdist 3.8, pytest-dev/pytest-xdist#1386: the demo was built twice.) --no-loadscope-reorder: the files go out
# longest first, as tests/conftest.py orders them from tests/durations.json (xdist's default is most tests first).
test: setup-test
	@source scripts/env.sh && $(VENV)/bin/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)

lab: setup
	@source scripts/env.sh && $(VENV)/bin/creditmodel lab --out $(OUT)

bench: setup-test
	@source scripts/env.sh && $(VENV)/bin/python bench/run_all.py

# re-pin every dependency after changing pyproject.toml (writes constraints.txt)
lock:
	@rm -rf .lock-venv && python3.11 -m venv .lock-venv && .lock-venv/bin/pip install -q --upgrade pip \
	  && .lock-venv/bin/pip install -q -e ".[lab,dev,spark]" \
	  && .lock-venv/bin/pip freeze --exclude-editable | grep -v '^creditmodel' > constraints.txt && rm -rf .lock-venv
	@echo "constraints.txt updated"

clean:
	rm -rf out .pytest_cache
