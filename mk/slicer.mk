# issue 8 (Slicer module): node conversions of MedPrintLib vs. Slicer's own, on slicer-core.
BENCH_SCRIPTS += MedPrintExtension/Testing/benchmarks/slicer_adapters.py
