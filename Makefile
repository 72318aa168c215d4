# Two commands set up a fresh machine: `make demo` and `make test`. Both use .venv (created here).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: demo test bench venv clean

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[test]"
	touch $@

venv: $(VENV)/.installed

demo: venv
	$(VENV)/bin/medprint demo

test: venv
	$(PY) -m pytest -q

bench: venv
	$(PY) MedPrintExtension/Testing/benchmarks/run.py

clean:
	rm -rf $(VENV)
