# issue 6 (printing): the real print servers the tests start, each in its own venv under build/
# (never in .venv): OctoPrint 1.11 with its Virtual Printer, Moonraker 0.11. Serial benchmark.
PRINTING_ENVS := build/printing
OCTOPRINT_VENV := $(PRINTING_ENVS)/venv-octoprint
MOONRAKER_VENV := $(PRINTING_ENVS)/venv-moonraker

$(OCTOPRINT_VENV)/.installed:
	$(PYTHON) -m venv $(OCTOPRINT_VENV)
	$(OCTOPRINT_VENV)/bin/pip install --quiet "octoprint>=1.11,<1.12"
	touch $@

$(MOONRAKER_VENV)/.installed:
	$(PYTHON) -m venv $(MOONRAKER_VENV)
	$(MOONRAKER_VENV)/bin/pip install --quiet "moonraker>=0.11,<0.12"
	touch $@

.PHONY: printing-servers
printing-servers: $(OCTOPRINT_VENV)/.installed $(MOONRAKER_VENV)/.installed

TEST_PREREQS += printing-servers
BENCH_SCRIPTS += MedPrintExtension/Testing/benchmarks/bench_serial.py
