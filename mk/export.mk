# issue 4 (export): QA + repair + 3MF benchmark on a 2-million-triangle bone mesh
BENCH_SCRIPTS += MedPrintExtension/Testing/benchmarks/bench_export.py
