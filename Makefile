# Two commands set up a fresh machine: `make demo` and `make test`. Both use .venv (created here).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Extra prerequisites of `make test` (services' environments), added by the files in mk/.
TEST_PREREQS :=
# Benchmarks `make bench` runs in turn (the mk/ files add theirs).
BENCH_SCRIPTS := MedPrintExtension/Testing/benchmarks/run.py

.PHONY: demo test bench venv system-packages clean

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[test]"
	touch $@

venv: $(VENV)/.installed

# Debian packages the tests need (.ci/packages/*.txt); installs them when run as root.
system-packages:
	.ci/system-packages

-include $(wildcard mk/*.mk)

demo: venv
	$(VENV)/bin/medprint demo

test: system-packages venv $(TEST_PREREQS)
	$(PY) -m pytest -q

bench: venv $(TEST_PREREQS)
	set -e; for script in $(BENCH_SCRIPTS); do $(PY) $$script; done

clean:
	rm -rf $(VENV)
