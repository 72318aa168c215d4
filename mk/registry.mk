# issue 7 (registry): the tests start PostgreSQL (Debian postgresql) and headless Chromium (chromium,
# chromium-driver) themselves; both are listed in .ci/packages/registry.txt. Load benchmark:
BENCH_SCRIPTS += MedPrintExtension/Testing/benchmarks/bench_registry.py
