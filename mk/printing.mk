# issue 6 (printing): the real print servers the tests start, each in its own venv under build/
# (never in .venv): OctoPrint 1.11 with its Virtual Printer, Moonraker 0.11. Cura's setting
# definitions for CuraEngine, taken from Debian's `cura` .deb without installing it (the package
# pulls ~100 Qt packages; CuraEngine needs only two JSON files). Serial benchmark.
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

CURA_RESOURCES := $(PRINTING_ENVS)/cura
$(CURA_RESOURCES)/.extracted:
	rm -rf $(CURA_RESOURCES) && mkdir -p $(CURA_RESOURCES)
	cd $(CURA_RESOURCES) && (apt-get -qq download cura || (apt-get -qq update && apt-get -qq download cura)) && \
	  dpkg-deb --fsys-tarfile cura_*.deb | tar -x ./usr/share/cura/resources/definitions && rm cura_*.deb
	touch $@

.PHONY: printing-servers
printing-servers: $(OCTOPRINT_VENV)/.installed $(MOONRAKER_VENV)/.installed $(CURA_RESOURCES)/.extracted

TEST_PREREQS += printing-servers
BENCH_SCRIPTS += MedPrintExtension/Testing/benchmarks/bench_serial.py
