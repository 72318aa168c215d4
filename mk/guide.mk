# issue 5 (guide): 4 sleeves + 1 slot on a 500k-triangle bone, against VTK's boolean filter
BENCH_SCRIPTS += MedPrintExtension/Testing/benchmarks/bench_guide.py
